"""Image transforms for data augmentation — the lecture's list: translation, rotation,
scaling and cropping (plus flips and normalisation).

Each transform takes one image, a numpy array (C, H, W) or (H, W) (or a Tensor), and
returns the same kind. Random ones draw from the library generator, so
``tl.manual_seed`` makes an augmented run reproducible. Geometric transforms map every
output pixel back into the input (inverse mapping) and sample bilinearly; pixels that
fall outside the image are filled with ``fill`` (0).
"""
from __future__ import annotations

import math
from typing import Any, Callable, Optional, Sequence, Tuple, Union

import numpy as np

from ..random import generator


def _as_array(img: Any) -> Tuple[np.ndarray, bool]:
    from ..tensor import Tensor
    if isinstance(img, Tensor):
        return img.data, True
    arr = np.asarray(img)
    if arr.ndim not in (2, 3):
        raise ValueError(f"transforms: expected an image of shape (C, H, W) or (H, W), got "
                         f"{arr.shape}")
    return arr, False


def _back(arr: np.ndarray, was_tensor: bool) -> Any:
    if was_tensor:
        from ..tensor import _make
        return _make(arr, False, None, 0, None)
    return arr


class Compose:
    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = list(transforms)

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        return "Compose(" + ", ".join(repr(t) for t in self.transforms) + ")"


class Normalize:
    """(x - mean) / std per channel."""

    def __init__(self, mean: Union[float, Sequence[float]], std: Union[float, Sequence[float]]):
        self.mean = np.asarray(mean, np.float64)
        self.std = np.asarray(std, np.float64)
        if np.any(self.std == 0):
            raise ValueError("Normalize: std must be non-zero")

    def __call__(self, img: Any) -> Any:
        arr, t = _as_array(img)
        shape = (-1, 1, 1) if arr.ndim == 3 else ()
        mean = self.mean.reshape(shape) if self.mean.ndim else self.mean
        std = self.std.reshape(shape) if self.std.ndim else self.std
        return _back(((arr - mean) / std).astype(arr.dtype if arr.dtype.kind == "f"
                                                  else np.float32), t)


def affine(img: Any, angle: float = 0.0, translate: Tuple[float, float] = (0.0, 0.0),
           scale: float = 1.0, fill: float = 0.0) -> Any:
    """Rotate by ``angle`` degrees (counter-clockwise, about the centre), scale, then shift
    by ``translate`` = (dx, dy) pixels; bilinear sampling by inverse mapping."""
    arr, t = _as_array(img)
    if scale <= 0:
        raise ValueError(f"affine: scale must be positive, got {scale}")
    planes = arr[None] if arr.ndim == 2 else arr
    _, h, w = planes.shape
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    a = math.radians(angle)
    cos, sin = math.cos(a), math.sin(a)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    # Output pixel -> input position: undo the shift, the scale and the rotation.
    u = (xs - cx - translate[0]) / scale
    v = (ys - cy - translate[1]) / scale
    src_x = cos * u - sin * v + cx
    src_y = sin * u + cos * v + cy
    out = _bilinear(planes.astype(np.float64), src_y, src_x, fill)
    out = out.astype(arr.dtype if arr.dtype.kind == "f" else np.float32)
    return _back(out[0] if arr.ndim == 2 else out, t)


def _bilinear(planes: np.ndarray, y: np.ndarray, x: np.ndarray, fill: float) -> np.ndarray:
    _, h, w = planes.shape
    y0, x0 = np.floor(y).astype(np.int64), np.floor(x).astype(np.int64)
    wy, wx = y - y0, x - x0
    out = np.zeros((planes.shape[0],) + y.shape)
    weight_in = np.zeros(y.shape)
    for dy, dx, wgt in ((0, 0, (1 - wy) * (1 - wx)), (0, 1, (1 - wy) * wx),
                        (1, 0, wy * (1 - wx)), (1, 1, wy * wx)):
        yy, xx = y0 + dy, x0 + dx
        inside = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
        wgt = np.where(inside, wgt, 0.0)
        out += planes[:, np.clip(yy, 0, h - 1), np.clip(xx, 0, w - 1)] * wgt
        weight_in += wgt
    return out + fill * (1.0 - weight_in)


def _uniform(lo: float, hi: float) -> float:
    return float(generator().uniform(lo, hi)) if hi > lo else float(lo)


class RandomAffine:
    """Random rotation in [-degrees, degrees], translation up to ``translate`` (fractions
    of width/height), scaling in ``scale`` = (lo, hi)."""

    def __init__(self, degrees: float = 0.0, translate: Optional[Tuple[float, float]] = None,
                 scale: Optional[Tuple[float, float]] = None, fill: float = 0.0) -> None:
        if degrees < 0:
            raise ValueError(f"RandomAffine: degrees must be >= 0, got {degrees}")
        if scale is not None and (scale[0] <= 0 or scale[0] > scale[1]):
            raise ValueError(f"RandomAffine: scale must be 0 < lo <= hi, got {scale}")
        self.degrees, self.translate, self.scale, self.fill = degrees, translate, scale, fill

    def __call__(self, img: Any) -> Any:
        arr, _ = _as_array(img)
        h, w = arr.shape[-2:]
        angle = _uniform(-self.degrees, self.degrees)
        dx = dy = 0.0
        if self.translate is not None:
            dx = _uniform(-self.translate[0] * w, self.translate[0] * w)
            dy = _uniform(-self.translate[1] * h, self.translate[1] * h)
        s = _uniform(*self.scale) if self.scale is not None else 1.0
        return affine(img, angle, (dx, dy), s, self.fill)

    def __repr__(self) -> str:
        return (f"RandomAffine(degrees={self.degrees}, translate={self.translate}, "
                f"scale={self.scale})")


class RandomRotation(RandomAffine):
    def __init__(self, degrees: float, fill: float = 0.0) -> None:
        super().__init__(degrees=degrees, fill=fill)


class RandomTranslation(RandomAffine):
    """Shift by up to ``max_shift`` (a fraction of the size if < 1, else pixels)."""

    def __init__(self, max_shift: Union[float, Tuple[float, float]], fill: float = 0.0) -> None:
        self.max_shift = max_shift if isinstance(max_shift, tuple) else (max_shift, max_shift)
        super().__init__(fill=fill)

    def __call__(self, img: Any) -> Any:
        arr, _ = _as_array(img)
        h, w = arr.shape[-2:]
        mx = self.max_shift[0] * (w if self.max_shift[0] < 1 else 1)
        my = self.max_shift[1] * (h if self.max_shift[1] < 1 else 1)
        return affine(img, 0.0, (_uniform(-mx, mx), _uniform(-my, my)), 1.0, self.fill)


class RandomScaling(RandomAffine):
    def __init__(self, scale: Tuple[float, float], fill: float = 0.0) -> None:
        super().__init__(scale=scale, fill=fill)


class RandomCrop:
    """Pad by ``padding`` (zeros) then cut a random ``size`` window."""

    def __init__(self, size: Union[int, Tuple[int, int]], padding: int = 0) -> None:
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        if padding < 0:
            raise ValueError(f"RandomCrop: padding must be >= 0, got {padding}")
        self.padding = padding

    def __call__(self, img: Any) -> Any:
        arr, t = _as_array(img)
        p = self.padding
        pads = ((p, p), (p, p)) if arr.ndim == 2 else ((0, 0), (p, p), (p, p))
        padded = np.pad(arr, pads) if p else arr
        h, w = padded.shape[-2:]
        th, tw = self.size
        if th > h or tw > w:
            raise ValueError(f"RandomCrop: crop {self.size} is larger than the padded image "
                             f"{(h, w)}")
        i = int(generator().integers(0, h - th + 1))
        j = int(generator().integers(0, w - tw + 1))
        return _back(np.ascontiguousarray(padded[..., i:i + th, j:j + tw]), t)

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    def __init__(self, p: float = 0.5) -> None:
        if not 0 <= p <= 1:
            raise ValueError(f"RandomHorizontalFlip: p must be in [0, 1], got {p}")
        self.p = p

    def __call__(self, img: Any) -> Any:
        arr, t = _as_array(img)
        if generator().random() < self.p:
            arr = np.ascontiguousarray(arr[..., ::-1])
        return _back(arr, t)

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"
