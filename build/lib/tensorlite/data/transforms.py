"""Image transforms for data augmentation: the lecture's list (translation, rotation,
scaling, cropping) plus horizontal flips, normalisation and conversion to a Tensor.

Each transform takes ONE image, a numpy array (C, H, W) or (H, W) or a Tensor, and
returns the same kind, layout and dtype (``Normalize`` and ``ToTensor`` make integer
images float32; interpolating transforms round integer images back to their dtype).
Random transforms draw from the library generator, so ``tl.manual_seed`` makes an
augmented run reproducible.

Rotation, scaling and sub-pixel translation map every output pixel back into the input
(inverse mapping) and sample it bilinearly; positions outside the image read ``fill``
(0). Angles are in degrees, counter-clockwise as the image is displayed (row 0 at the
top), about the image centre ((H-1)/2, (W-1)/2): a rotation by 90 degrees equals
``np.rot90(img, 1, axes=(-2, -1))`` exactly on a square image.

    aug = Compose([RandomAffine(degrees=10, translate=(0.1, 0.1), scale=(0.9, 1.1)),
                   Normalize(0.1307, 0.3081)])
    x = aug(image)          # image: (1, 28, 28) float32
"""
from __future__ import annotations

import math
from typing import Any, Callable, Optional, Sequence, Tuple, Union

import numpy as np

from ..random import generator

__all__ = ["Compose", "ToTensor", "Normalize", "RandomCrop", "RandomHorizontalFlip",
           "RandomTranslation", "RandomRotation", "RandomScaling", "RandomAffine", "affine"]

Number = Union[int, float]


# ---------------------------------------------------------------- image in, image out

def _as_array(op: str, img: Any) -> Tuple[np.ndarray, bool]:
    """The image as an array, and whether it came as a Tensor."""
    from ..tensor import Tensor
    was_tensor = isinstance(img, Tensor)
    arr = img._data if was_tensor else np.asarray(img)
    if arr.ndim not in (2, 3):
        raise ValueError(f"{op}: expected one image of shape (C, H, W) or (H, W), got shape "
                         f"{arr.shape} (transforms apply to one sample, not a batch)")
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{op}: expected a numeric image, got dtype {arr.dtype}")
    return arr, was_tensor


def _back(arr: np.ndarray, was_tensor: bool) -> Any:
    if was_tensor:
        from ..tensor import _make
        return _make(arr, False, None, 0, None)
    return arr


def _float_dtype(arr: np.ndarray) -> np.dtype:
    """Normalised values keep a float image's dtype; other images become float32."""
    return arr.dtype if arr.dtype.kind == "f" else np.dtype(np.float32)


def _cast_like(values: np.ndarray, like: np.ndarray) -> np.ndarray:
    """Interpolated float64 ``values`` in the dtype of the image ``like``: a float image
    keeps its dtype; an integer image (uint8 pixels) is rounded to the nearest value and
    clipped to its dtype's range, as torchvision does, so that an augmented uint8 image
    is still uint8; a bool mask reads True where the interpolated value rounds to 1."""
    kind = like.dtype.kind
    if kind == "f":
        return values.astype(like.dtype, copy=False)
    if kind == "b":
        return values >= 0.5
    info = np.iinfo(like.dtype)
    return np.clip(np.rint(values), info.min, info.max).astype(like.dtype)


def _number(op: str, name: str, value: Any, minimum: Optional[float] = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: {name} must be a number, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value}")
    return float(value)


def _range(op: str, name: str, value: Any, symmetric: bool,
           minimum: Optional[float] = None) -> Tuple[float, float]:
    """A (lo, hi) range; a single number v means (-v, v) when ``symmetric``."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        if not symmetric:
            raise TypeError(f"{op}: {name} must be a pair (lo, hi), got {value!r}")
        v = _number(op, name, value, 0.0)
        return -v, v
    try:
        lo, hi = value
    except (TypeError, ValueError):
        raise TypeError(f"{op}: {name} must be a number or a pair (lo, hi), got {value!r}") \
            from None
    lo, hi = _number(op, name, lo), _number(op, name, hi)
    if lo > hi or (minimum is not None and lo < minimum):
        bound = f"{minimum} <= " if minimum is not None else ""
        raise ValueError(f"{op}: {name} must satisfy {bound}lo <= hi, got ({lo}, {hi})")
    return lo, hi


def _uniform(lo: float, hi: float) -> float:
    return float(generator().uniform(lo, hi)) if hi > lo else lo


def _window(arr: np.ndarray, top: int, left: int, h: int, w: int, fill: float) -> np.ndarray:
    """out[..., i, j] = arr[..., top + i, left + j], reading ``fill`` outside ``arr``: a crop
    of the image padded with ``fill``, without building the padded image."""
    H, W = arr.shape[-2:]
    out = np.full(arr.shape[:-2] + (h, w), fill, dtype=arr.dtype)
    r0, r1 = max(top, 0), min(top + h, H)
    c0, c1 = max(left, 0), min(left + w, W)
    if r0 < r1 and c0 < c1:
        out[..., r0 - top:r1 - top, c0 - left:c1 - left] = arr[..., r0:r1, c0:c1]
    return out


# ---------------------------------------------------------------- the transforms

class Compose:
    """Apply ``transforms`` one after another."""

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = list(transforms)
        for t in self.transforms:
            if not callable(t):
                raise TypeError(f"Compose: {t!r} is not callable")

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        return "Compose([" + ", ".join(repr(t) for t in self.transforms) + "])"


class ToTensor:
    """An image array -> a Tensor (C, H, W): (H, W) gains a channel dimension, uint8
    pixels become float32 in [0, 1] (divided by 255), other integers become float32,
    floats keep their dtype. Arrays are taken as channel-first already (our layout)."""

    def __call__(self, img: Any) -> Any:
        arr, was_tensor = _as_array("ToTensor", img)
        if arr.dtype == np.uint8:
            arr = arr.astype(np.float32) / np.float32(255)
        elif arr.dtype.kind != "f":
            arr = arr.astype(np.float32)
        if arr.ndim == 2:
            arr = arr[None]
        return _back(np.ascontiguousarray(arr), True)

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """``(x - mean) / std`` per channel; ``mean`` and ``std`` are numbers or one value per
    channel. Float images keep their dtype, others become float32."""

    def __init__(self, mean: Union[Number, Sequence[Number]],
                 std: Union[Number, Sequence[Number]]) -> None:
        self.mean = np.asarray(mean, np.float64)
        self.std = np.asarray(std, np.float64)
        for name, v in (("mean", self.mean), ("std", self.std)):
            if v.ndim > 1 or v.size == 0:
                raise ValueError(f"Normalize: {name} must be a number or a sequence of numbers, "
                                 f"got {v.tolist()}")
        if np.any(self.std <= 0) or not np.all(np.isfinite(self.std)):
            raise ValueError(f"Normalize: std must be positive, got {self.std.tolist()}")

    def __call__(self, img: Any) -> Any:
        arr, was_tensor = _as_array("Normalize", img)
        dtype = _float_dtype(arr)
        channels = arr.shape[0] if arr.ndim == 3 else 1
        stats = []
        for name, v in (("mean", self.mean), ("std", self.std)):
            if v.ndim == 1 and v.size not in (1, channels):
                raise ValueError(f"Normalize: {name} has {v.size} values but the image of "
                                 f"shape {arr.shape} has {channels} channel(s)")
            v = v.astype(dtype)
            stats.append(v.reshape(-1, 1, 1) if v.ndim == 1 and arr.ndim == 3 else v.reshape(()))
        return _back(((arr - stats[0]) / stats[1]).astype(dtype, copy=False), was_tensor)

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


class RandomCrop:
    """Pad with ``fill`` by ``padding``, then cut a random window of ``size``.

    ``size``: int or (h, w). ``padding``: int (all sides), (left/right, top/bottom) or
    (left, top, right, bottom), as in torchvision. The lecture's "crop" augmentation:
    ``RandomCrop(28, padding=2)`` shifts a 28x28 image by up to 2 pixels."""

    def __init__(self, size: Union[int, Tuple[int, int]],
                 padding: Union[int, Sequence[int]] = 0, fill: float = 0.0) -> None:
        if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
            size = (size, size)
        try:
            self.size = tuple(int(s) for s in size)
        except TypeError:
            raise TypeError(f"RandomCrop: size must be an int or (h, w), got {size!r}") from None
        if len(self.size) != 2 or min(self.size) < 1:
            raise ValueError(f"RandomCrop: size must be positive (h, w), got {size!r}")
        try:
            pad = (padding,) if isinstance(padding, (int, np.integer)) else tuple(padding)
            ok = len(pad) in (1, 2, 4) and all(
                not isinstance(p, bool) and int(p) == p and p >= 0 for p in pad)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(f"RandomCrop: padding must be a non-negative int, a pair or a "
                             f"4-tuple, got {padding!r}")
        left, top, right, bottom = (pad * 4 if len(pad) == 1 else pad * 2 if len(pad) == 2
                                    else pad)
        self.padding = (int(left), int(top), int(right), int(bottom))
        self.fill = _number("RandomCrop", "fill", fill)

    def __call__(self, img: Any) -> Any:
        arr, was_tensor = _as_array("RandomCrop", img)
        left, top, right, bottom = self.padding
        h, w = arr.shape[-2] + top + bottom, arr.shape[-1] + left + right
        th, tw = self.size
        if th > h or tw > w:
            raise ValueError(f"RandomCrop: crop size {self.size} is larger than the padded "
                             f"image ({h}, {w})")
        i = int(generator().integers(0, h - th + 1))
        j = int(generator().integers(0, w - tw + 1))
        return _back(_window(arr, i - top, j - left, th, tw, self.fill), was_tensor)

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror left-right with probability ``p``."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = _number("RandomHorizontalFlip", "p", p, 0.0)
        if self.p > 1:
            raise ValueError(f"RandomHorizontalFlip: p must be in [0, 1], got {p}")

    def __call__(self, img: Any) -> Any:
        arr, was_tensor = _as_array("RandomHorizontalFlip", img)
        if generator().random() < self.p:
            arr = np.ascontiguousarray(arr[..., ::-1])
        return _back(arr, was_tensor)

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


class RandomTranslation:
    """Shift by a whole number of pixels, drawn uniformly from [-max, max] in each
    direction; vacated pixels read ``fill``. Whole-pixel shifts need no interpolation, so
    the image is not blurred.

    ``max_shift``: an int (pixels) or a float in [0, 1] (a fraction of the width/height),
    or a pair (horizontal, vertical) of either."""

    def __init__(self, max_shift: Union[Number, Tuple[Number, Number]], fill: float = 0.0) -> None:
        pair = max_shift if isinstance(max_shift, (tuple, list)) else (max_shift, max_shift)
        if len(pair) != 2:
            raise TypeError(f"RandomTranslation: max_shift must be a number or a pair, got "
                            f"{max_shift!r}")
        for m in pair:
            _number("RandomTranslation", "max_shift", m, 0.0)
            if isinstance(m, (float, np.floating)) and m > 1:
                raise ValueError(f"RandomTranslation: a float max_shift is a fraction of the "
                                 f"image size and must be in [0, 1], got {m} (use an int for "
                                 "pixels)")
        self.max_shift = tuple(pair)
        self.fill = _number("RandomTranslation", "fill", fill)

    def _pixels(self, m: Number, size: int) -> int:
        return int(m) if isinstance(m, (int, np.integer)) else int(math.floor(m * size))

    def __call__(self, img: Any) -> Any:
        arr, was_tensor = _as_array("RandomTranslation", img)
        h, w = arr.shape[-2:]
        mx, my = self._pixels(self.max_shift[0], w), self._pixels(self.max_shift[1], h)
        dx = int(generator().integers(-mx, mx + 1))
        dy = int(generator().integers(-my, my + 1))
        # out[y, x] = in[y - dy, x - dx]: content moves right by dx and down by dy.
        return _back(_window(arr, -dy, -dx, h, w, self.fill), was_tensor)

    def __repr__(self) -> str:
        return f"RandomTranslation(max_shift={self.max_shift})"


# ---------------------------------------------------------------- affine: rotate, scale, shift

def _cos_sin(degrees: float) -> Tuple[float, float]:
    """cos and sin of an angle in degrees, exact at multiples of 90 (so that a quarter turn
    moves pixels exactly, as np.rot90 does, instead of by 6e-17 of a pixel)."""
    quarter, rest = divmod(degrees, 90.0)
    if rest == 0.0:
        return ((1.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (0.0, -1.0))[int(quarter) % 4]
    a = math.radians(degrees)
    return math.cos(a), math.sin(a)


_GRIDS: dict = {}


def _grid(h: int, w: int) -> Tuple[np.ndarray, np.ndarray]:
    """Pixel offsets from the centre, (H*W,) each, computed once per image size."""
    if (h, w) not in _GRIDS:
        ys, xs = np.indices((h, w), dtype=np.float64).reshape(2, -1)
        _GRIDS[(h, w)] = (ys - (h - 1) / 2.0, xs - (w - 1) / 2.0)
    return _GRIDS[(h, w)]


def _sample_bilinear(arr: np.ndarray, ys: np.ndarray, xs: np.ndarray, fill: float) -> np.ndarray:
    """``arr`` (..., H, W) read at the positions (ys, xs) (flat, in pixels) by bilinear
    interpolation, positions outside the image reading ``fill``; result (..., len(ys))
    float64. At integer positions the weights are exactly 0 and 1: pixels copy exactly."""
    h, w = arr.shape[-2:]
    planes = arr.reshape(-1, h, w)
    # A one-pixel border of `fill` around each plane: clipping any position into the
    # bordered plane then makes every outside read `fill`, with no masks.
    padded = np.full((planes.shape[0], h + 2, w + 2), fill, dtype=np.float64)
    padded[:, 1:-1, 1:-1] = planes
    flat = padded.reshape(-1)
    ys = np.minimum(np.maximum(ys, -1.0), h)
    xs = np.minimum(np.maximum(xs, -1.0), w)
    y0 = np.minimum(np.floor(ys), h - 1)
    x0 = np.minimum(np.floor(xs), w - 1)
    wy, wx = ys - y0, xs - x0
    base = ((y0 + 1) * (w + 2) + (x0 + 1)).astype(np.intp)
    if planes.shape[0] > 1:
        base = base + (np.arange(planes.shape[0]) * ((h + 2) * (w + 2)))[:, None]
    # take() on the flat array: several times faster than fancy indexing of (C, N).
    top = flat.take(base) * (1.0 - wx) + flat.take(base + 1) * wx
    bottom = flat.take(base + (w + 2)) * (1.0 - wx) + flat.take(base + (w + 3)) * wx
    return (top * (1.0 - wy) + bottom * wy).reshape(arr.shape[:-2] + (-1,))


def affine(img: Any, angle: float = 0.0, translate: Tuple[float, float] = (0.0, 0.0),
           scale: float = 1.0, fill: float = 0.0) -> Any:
    """Rotate by ``angle`` degrees (counter-clockwise) and scale by ``scale``, both about
    the image centre, then shift by ``translate`` = (dx, dy) pixels (right, down).

    Inverse mapping: output pixel p reads the input at R^-1 (p - c - t) / s + c, sampled
    bilinearly; outside the image reads ``fill``. Returns the same kind, shape and dtype
    as ``img`` (integer images are rounded to the nearest value)."""
    arr, was_tensor = _as_array("affine", img)
    angle = _number("affine", "angle", angle)
    scale = _number("affine", "scale", scale)
    if not scale > 0:
        raise ValueError(f"affine: scale must be positive, got {scale}")
    try:
        dx, dy = translate
    except (TypeError, ValueError):
        raise TypeError(f"affine: translate must be a pair (dx, dy), got {translate!r}") from None
    dx, dy = _number("affine", "translate", dx), _number("affine", "translate", dy)
    fill = _number("affine", "fill", fill)
    h, w = arr.shape[-2:]
    oy, ox = _grid(h, w)
    c, s = _cos_sin(angle)
    u = (ox - dx) / scale if dx or scale != 1.0 else ox
    v = (oy - dy) / scale if dy or scale != 1.0 else oy
    # Counter-clockwise on screen (rows grow downwards): the inverse rotation is
    # x = c*u - s*v, y = s*u + c*v.
    xs = c * u - s * v + (w - 1) / 2.0
    ys = s * u + c * v + (h - 1) / 2.0
    out = _sample_bilinear(arr, ys, xs, fill).reshape(arr.shape)
    return _back(_cast_like(out, arr), was_tensor)


class RandomAffine:
    """A random rotation, translation and scaling in one bilinear resampling.

    ``degrees``: v for an angle in [-v, v], or a range (lo, hi). ``translate``: (a, b),
    the largest shift as a fraction of the width and of the height (torchvision's
    meaning), or one fraction for both; shifts are sub-pixel. ``scale``: a range
    (lo, hi) of factors. Pixels that come from outside the image read ``fill``."""

    def __init__(self, degrees: Union[Number, Tuple[Number, Number]] = 0.0,
                 translate: Optional[Union[float, Tuple[float, float]]] = None,
                 scale: Optional[Tuple[Number, Number]] = None, fill: float = 0.0) -> None:
        name = type(self).__name__
        self.degrees = _range(name, "degrees", degrees, symmetric=True)
        if translate is not None:
            pair = translate if isinstance(translate, (tuple, list)) else (translate, translate)
            if len(pair) != 2:
                raise TypeError(f"{name}: translate must be a fraction or a pair of fractions, "
                                f"got {translate!r}")
            for t in pair:
                if not 0.0 <= _number(name, "translate", t) <= 1.0:
                    raise ValueError(f"{name}: translate fractions must be in [0, 1], got "
                                     f"{translate!r}")
            translate = (float(pair[0]), float(pair[1]))
        self.translate = translate
        self.scale = None if scale is None else _range(name, "scale", scale, symmetric=False,
                                                       minimum=0.0)
        if self.scale is not None and self.scale[0] == 0.0:
            raise ValueError(f"{name}: scale factors must be positive, got {scale!r}")
        self.fill = _number(name, "fill", fill)

    def sample(self, h: int, w: int) -> Tuple[float, Tuple[float, float], float]:
        """Draw (angle, (dx, dy), scale) for an image of size (h, w)."""
        angle = _uniform(*self.degrees)
        dx = dy = 0.0
        if self.translate is not None:
            mx, my = self.translate[0] * w, self.translate[1] * h
            dx, dy = _uniform(-mx, mx), _uniform(-my, my)
        s = _uniform(*self.scale) if self.scale is not None else 1.0
        return angle, (dx, dy), s

    def __call__(self, img: Any) -> Any:
        arr, _ = _as_array(type(self).__name__, img)
        angle, shift, s = self.sample(*arr.shape[-2:])
        return affine(img, angle, shift, s, self.fill)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(degrees={self.degrees}, translate={self.translate}, "
                f"scale={self.scale})")


class RandomRotation(RandomAffine):
    """Rotate by a random angle: ``degrees`` v means [-v, v], or give a range (lo, hi)."""

    def __init__(self, degrees: Union[Number, Tuple[Number, Number]], fill: float = 0.0) -> None:
        super().__init__(degrees=degrees, fill=fill)


class RandomScaling(RandomAffine):
    """Zoom about the centre by a random factor in ``scale`` = (lo, hi)."""

    def __init__(self, scale: Tuple[Number, Number], fill: float = 0.0) -> None:
        super().__init__(scale=scale, fill=fill)
