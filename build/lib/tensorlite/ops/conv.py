"""2-D convolution (PyTorch's cross-correlation convention) and its transpose.

The lecture's convolution slides the kernel over the image: each output feature map is
one kernel (shared weights) applied to local windows (local connectivity) of every input
channel, summed. Its flipped-kernel definition is ``conv2d(x, w.flip((-2, -1)))``.

Three Functions make convolution differentiable to any order, each backward written
with the other two (y = conv(x, w)):

* ``Conv2d(x, w)``          -> y;   grads: ConvTranspose(g, w), ConvWeight(x, g)
* ``ConvTranspose(g, w)``   -> the input gradient (a transposed convolution)
* ``ConvWeight(x, g)``      -> the weight gradient
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from .._checks import check_kernel_float, check_same_dtype, is_int, pair, shape_str
from ..autograd import Function
from ..kernels import conv as K
from ..tensor import Tensor, _make
from .shape import pad


def _c(a: np.ndarray) -> np.ndarray:
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


class Conv2d(Function):
    @staticmethod
    def forward(ctx, x, w, b, stride, padding, dilation, groups):
        ctx.save_for_backward(x, w)
        ctx.geom = (stride, padding, dilation, groups)
        y = K.conv2d_forward(_c(x._data), _c(w._data), stride, padding, dilation, groups)
        if b is not None:
            y += b._data.reshape(1, -1, 1, 1)  # the kernel's fresh output: add in place
        return y

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        stride, padding, dilation, groups = ctx.geom
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        gx = ConvTranspose.apply(g, w, x.shape[2:], stride, padding, dilation, groups) \
            if need_x else None
        gw = ConvWeight.apply(x, g, w.shape[2:], stride, padding, dilation, groups) \
            if need_w else None
        gb = g.sum((0, 2, 3)) if need_b else None
        return gx, gw, gb


class ConvTranspose(Function):
    """The gradient of conv2d w.r.t. its input: input-shaped, linear in g and in w."""

    @staticmethod
    def forward(ctx, g, w, input_hw, stride, padding, dilation, groups):
        ctx.save_for_backward(g, w)
        ctx.geom = (stride, padding, dilation, groups)
        ctx.input_hw = tuple(input_hw)
        return K.conv2d_backward_input(_c(g._data), _c(w._data), ctx.input_hw, stride, padding,
                                       dilation, groups)

    @staticmethod
    def backward(ctx, h):
        g, w = ctx.saved_tensors
        stride, padding, dilation, groups = ctx.geom
        need_g, need_w = ctx.needs_input_grad[:2]
        # <h, convT(g, w)> = <conv(h, w), g>
        gg = _crop_to(Conv2d.apply(h, w, None, stride, padding, dilation, groups), g) \
            if need_g else None
        gw = ConvWeight.apply(h, g, w.shape[2:], stride, padding, dilation, groups) \
            if need_w else None
        return gg, gw


class ConvWeight(Function):
    """The gradient of conv2d w.r.t. its weight: weight-shaped, linear in x and in g."""

    @staticmethod
    def forward(ctx, x, g, kernel_hw, stride, padding, dilation, groups):
        ctx.save_for_backward(x, g)
        ctx.geom = (stride, padding, dilation, groups)
        return K.conv2d_backward_weight(_c(x._data), _c(g._data), tuple(kernel_hw), stride,
                                        padding, dilation, groups)

    @staticmethod
    def backward(ctx, k):
        x, g = ctx.saved_tensors
        stride, padding, dilation, groups = ctx.geom
        need_x, need_g = ctx.needs_input_grad[:2]
        # <k, convW(x, g)> = <conv(x, k), g>
        gx = ConvTranspose.apply(g, k, x.shape[2:], stride, padding, dilation, groups) \
            if need_x else None
        gg = _crop_to(Conv2d.apply(x, k, None, stride, padding, dilation, groups), g) \
            if need_g else None
        return gx, gg


def _crop_to(t: Tensor, like: Tensor) -> Tensor:
    """conv_transpose2d's output_padding (allowed up to max(stride, dilation) - 1) adds rows
    and columns no input position reaches; convolving that larger map yields outputs beyond
    the gradient's extent, which the adjoint drops."""
    h, w = like.shape[2:]
    return t if tuple(t.shape[2:]) == (h, w) else t[:, :, :h, :w]


# Geometry arguments must fit the kernels' int64 index arithmetic with room to spare;
# PyTorch's pooling has the same int32 bound. Beyond it numba would be handed an int it
# cannot type or would wrap around (a stride of 2**63 gave a silent 0 or an OverflowError
# from inside numba).
_MAX_GEOMETRY = 2 ** 31 - 1


def check_geometry(op: str, **pairs: tuple) -> None:
    """Every value of the normalised (int, int) pairs is at most _MAX_GEOMETRY."""
    for name, value in pairs.items():
        if max(value) > _MAX_GEOMETRY:
            raise ValueError(f"{op}: {name} must be at most {_MAX_GEOMETRY} (2**31 - 1), got "
                             f"{value}")


def _out_size(n: int, k: int, s: int, p: int, d: int) -> int:
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def _check_conv(op: str, x: Tensor, w: Tensor, b: Optional[Tensor], groups: int) -> None:
    for name, t in (("input", x), ("weight", w), ("bias", b)):
        if not isinstance(t, Tensor) and not (name == "bias" and t is None):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    if x.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D input (N, C, H, W), got shape {shape_str(x.shape)}")
    if w.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D weight, got shape {shape_str(w.shape)}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got dtype {x.dtype}")
    check_same_dtype(op, input=x, weight=w, bias=b)
    # The kernels exist for float32/float64 only (float16 would fail inside numba).
    check_kernel_float(op, "input", x)
    if not is_int(groups) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    if w.shape[2] < 1 or w.shape[3] < 1:
        raise ValueError(f"{op}: the weight {shape_str(w.shape)} has an empty kernel")


def conv2d(x: Tensor, w: Tensor, b: Optional[Tensor] = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """Cross-correlation of x (N, C, H, W) with w (O, C/groups, kh, kw) -> (N, O, Ho, Wo).

    Ho = floor((H + 2*ph - dh*(kh-1) - 1) / sh) + 1, likewise Wo. A 3-D input (C, H, W)
    is treated as a batch of one. ``padding`` may be 'valid' or 'same' (stride 1).
    """
    op = "conv2d"
    unbatched = isinstance(x, Tensor) and x.ndim == 3
    if unbatched:
        x = x.unsqueeze(0)
    _check_conv(op, x, w, b, groups)
    stride = pair(op, "stride", stride, 1)
    dilation = pair(op, "dilation", dilation, 1)
    check_geometry(op, stride=stride, dilation=dilation)
    kh, kw = w.shape[2], w.shape[3]
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same":
            if stride != (1, 1):
                raise ValueError(f"{op}: padding='same' needs stride 1, got stride {stride}")
            tot = (dilation[0] * (kh - 1), dilation[1] * (kw - 1))
            if tot[0] % 2 or tot[1] % 2:
                # An even effective kernel needs one more row/column of zeros at the bottom/
                # right than at the top/left, as PyTorch pads; the rest is symmetric.
                x = pad(x, (0, tot[1] % 2, 0, tot[0] % 2))
            padding = (tot[0] // 2, tot[1] // 2)
        else:
            raise ValueError(f"{op}: padding must be an int, a pair, 'valid' or 'same', got "
                             f"{padding!r}")
    padding = pair(op, "padding", padding, 0)
    check_geometry(op, padding=padding)
    n, c, h, wd = x.shape
    o = w.shape[0]
    if o < groups:
        # no output channel to give each group (PyTorch refuses too)
        raise ValueError(f"{op}: the weight {shape_str(w.shape)} has {o} output channels, "
                         f"fewer than groups={groups}")
    if c % groups or o % groups:
        raise ValueError(f"{op}: groups={groups} must divide the input channels ({c}) and the "
                         f"output channels ({o})")
    if w.shape[1] * groups != c:
        raise ValueError(f"{op}: input has {c} channels but weight {shape_str(w.shape)} expects "
                         f"{w.shape[1] * groups} (groups={groups})")
    if b is not None and b.shape != (o,):
        raise ValueError(f"{op}: bias must have shape ({o},), got {shape_str(b.shape)}")
    ho = _out_size(h, kh, stride[0], padding[0], dilation[0])
    wo = _out_size(wd, kw, stride[1], padding[1], dilation[1])
    if ho < 1 or wo < 1:
        raise ValueError(f"{op}: the padded input ({h + 2 * padding[0]}x{wd + 2 * padding[1]}) is "
                         f"smaller than the dilated kernel ({dilation[0] * (kh - 1) + 1}x"
                         f"{dilation[1] * (kw - 1) + 1})")
    y = Conv2d.apply(x, w, b, stride, padding, dilation, groups)
    return y.squeeze(0) if unbatched else y


def conv_transpose2d(x: Tensor, w: Tensor, b: Optional[Tensor] = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """Transposed convolution (PyTorch's F.conv_transpose2d): x (N, C_in, H, W) with
    w (C_in, C_out/groups, kh, kw) -> (N, C_out, Ho, Wo),
    Ho = (H-1)*sh - 2*ph + dh*(kh-1) + output_padding + 1. It is the input-gradient of
    conv2d with the same weight."""
    op = "conv_transpose2d"
    unbatched = isinstance(x, Tensor) and x.ndim == 3
    if unbatched:
        x = x.unsqueeze(0)
    _check_conv(op, x, w, b, groups)
    stride = pair(op, "stride", stride, 1)
    padding = pair(op, "padding", padding, 0)
    dilation = pair(op, "dilation", dilation, 1)
    output_padding = pair(op, "output_padding", output_padding, 0)
    check_geometry(op, stride=stride, padding=padding, dilation=dilation,
                   output_padding=output_padding)
    n, c, h, wd = x.shape
    if w.shape[0] != c:
        raise ValueError(f"{op}: input has {c} channels but weight {shape_str(w.shape)} expects "
                         f"{w.shape[0]}")
    if w.shape[1] == 0:
        raise ValueError(f"{op}: the weight {shape_str(w.shape)} has no output channels "
                         "(PyTorch refuses an empty weight too)")
    if c % groups or c < groups:
        # c < groups: zero input channels cannot be split into groups (PyTorch refuses too)
        raise ValueError(f"{op}: groups={groups} must divide the input channels ({c}) and "
                         "be at most their number")
    for k in range(2):
        if output_padding[k] >= max(stride[k], dilation[k]):
            raise ValueError(f"{op}: output_padding {output_padding} must be smaller than stride "
                             f"{stride} or dilation {dilation}")
    kh, kw = w.shape[2], w.shape[3]
    ho = (h - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kh - 1) + output_padding[0] + 1
    wo = (wd - 1) * stride[1] - 2 * padding[1] + dilation[1] * (kw - 1) + output_padding[1] + 1
    if ho < 1 or wo < 1:
        raise ValueError(f"{op}: the output size {ho}x{wo} is not positive")
    c_out = w.shape[1] * groups
    if b is not None and b.shape != (c_out,):
        raise ValueError(f"{op}: bias must have shape ({c_out},), got {shape_str(b.shape)}")
    y = ConvTranspose.apply(x, w, (ho, wo), stride, padding, dilation, groups)
    if b is not None:
        y = y + b.reshape(1, c_out, 1, 1)
    return y.squeeze(0) if unbatched else y
