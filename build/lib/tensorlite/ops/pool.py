"""Pooling: max, average and adaptive average over 2-D windows (NCHW).

Each pooling is linear (average) or piecewise linear (max: the gradient goes to the first
maximum of each window, as in PyTorch), so each backward is again a Function whose own
backward is the forward map's adjoint: pooling supports gradients of gradients.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from .._checks import check_kernel_float, is_int, pair, shape_str
from ..autograd import Function
from ..kernels import pool as K
from ..tensor import Tensor, _make
from .conv import check_geometry
from .shape import pad


def _c(a: np.ndarray) -> np.ndarray:
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


class MaxPool2d(Function):
    @staticmethod
    def forward(ctx, x, kernel, stride, padding):
        y, argmax = K.max_pool2d_forward(_c(x._data), kernel, stride, padding)
        ctx.geom = (kernel, stride, padding)
        ctx.in_shape = x._data.shape
        ctx.argmax = argmax
        return y

    @staticmethod
    def backward(ctx, g):
        return MaxPoolScatter.apply(g, ctx.argmax, ctx.in_shape, *ctx.geom)


def _window_positions(argmax: np.ndarray, in_shape: tuple, kernel, stride, padding) -> np.ndarray:
    """Flat (h * W + w) input position of each output's chosen window element."""
    n, c, ho, wo = argmax.shape
    a = argmax.astype(np.int64)
    i, j = a // kernel[1], a % kernel[1]
    rows = np.arange(ho)[:, None] * stride[0] - padding[0] + i
    cols = np.arange(wo)[None, :] * stride[1] - padding[1] + j
    return rows * in_shape[3] + cols


class MaxPoolScatter(Function):
    """g (N, C, Ho, Wo) added at each window's argmax -> (N, C, H, W)."""

    @staticmethod
    def forward(ctx, g, argmax, in_shape, kernel, stride, padding):
        ctx.args = (argmax, in_shape, kernel, stride, padding)
        return K.max_pool2d_backward(_c(g._data), argmax, in_shape[2:], kernel, stride, padding)

    @staticmethod
    def backward(ctx, h):
        return MaxPoolGather.apply(h, *ctx.args)


class MaxPoolGather(Function):
    """The adjoint of MaxPoolScatter: read h (N, C, H, W) at each window's argmax."""

    @staticmethod
    def forward(ctx, h, argmax, in_shape, kernel, stride, padding):
        ctx.args = (argmax, in_shape, kernel, stride, padding)
        pos = _window_positions(argmax, in_shape, kernel, stride, padding)
        n, c = in_shape[:2]
        flat = h._data.reshape(n, c, -1)
        return np.take_along_axis(flat, pos.reshape(n, c, -1), axis=2).reshape(argmax.shape)

    @staticmethod
    def backward(ctx, g):
        return MaxPoolScatter.apply(g, *ctx.args)


class AvgPool2d(Function):
    @staticmethod
    def forward(ctx, x, kernel, stride, padding):
        ctx.args = (x._data.shape[2:], kernel, stride, padding)
        return K.avg_pool2d_forward(_c(x._data), kernel, stride, padding)

    @staticmethod
    def backward(ctx, g):
        return AvgPoolAdjoint.apply(g, *ctx.args)


class AvgPoolAdjoint(Function):
    """The backward of average pooling (each window's gradient spread over it)."""

    @staticmethod
    def forward(ctx, g, in_hw, kernel, stride, padding):
        ctx.args = (kernel, stride, padding)
        return K.avg_pool2d_backward(_c(g._data), tuple(in_hw), kernel, stride, padding)

    @staticmethod
    def backward(ctx, h):
        return AvgPool2d.apply(h, *ctx.args)


class AdaptiveAvgPool2d(Function):
    @staticmethod
    def forward(ctx, x, out_hw):
        ctx.in_hw = x._data.shape[2:]
        return K.adaptive_avg_pool2d_forward(_c(x._data), out_hw)

    @staticmethod
    def backward(ctx, g):
        return AdaptiveAvgPoolAdjoint.apply(g, ctx.in_hw)


class AdaptiveAvgPoolAdjoint(Function):
    @staticmethod
    def forward(ctx, g, in_hw):
        ctx.out_hw = g._data.shape[2:]
        return K.adaptive_avg_pool2d_backward(_c(g._data), tuple(in_hw))

    @staticmethod
    def backward(ctx, h):
        return AdaptiveAvgPool2d.apply(h, ctx.out_hw)


def _check_input(op: str, x: Any) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape "
                         f"{shape_str(x.shape)}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got dtype {x.dtype}")
    check_kernel_float(op, "input", x)


def check_nonempty(op: str, x: Tensor) -> None:
    """max/avg pooling: only the batch may be empty (PyTorch's rule; a window over no cells
    has no value, and tensorlite returned one)."""
    if 0 in x.shape[-3:]:
        raise ValueError(f"{op}: expected non-zero channel and spatial sizes (only the batch may "
                         f"be empty), got input of shape {shape_str(x.shape)}")


def _out_len(n: int, k: int, s: int, p: int, ceil_mode: bool) -> int:
    """PyTorch's pooled length: floor((n + 2p - k)/s) + 1, or with ceil_mode the ceiling,
    dropping a last window that would start in the right padding."""
    if not ceil_mode:
        return (n + 2 * p - k) // s + 1
    out = -(-(n + 2 * p - k) // s) + 1
    return out - 1 if (out - 1) * s >= n + p else out


def _pool_args(op: str, x: Tensor, kernel_size: Any, stride: Any, padding: Any,
               ceil_mode: bool = False) -> tuple:
    """(kernel, stride, padding, (Ho, Wo)), checked."""
    _check_input(op, x)
    check_nonempty(op, x)
    if not isinstance(ceil_mode, (bool, np.bool_)):
        raise TypeError(f"{op}: ceil_mode must be a bool, got {ceil_mode!r}")
    kernel = pair(op, "kernel_size", kernel_size, 1)
    # PyTorch's default stride (the kernel size) is None or an empty sequence, () or [].
    empty = isinstance(stride, (tuple, list)) and len(stride) == 0
    stride = kernel if stride is None or empty else pair(op, "stride", stride, 1)
    padding = pair(op, "padding", padding, 0)
    check_geometry(op, kernel_size=kernel, stride=stride, padding=padding)
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel size {kernel}")
    h, w = x.shape[-2:]
    ho = _out_len(h, kernel[0], stride[0], padding[0], bool(ceil_mode))
    wo = _out_len(w, kernel[1], stride[1], padding[1], bool(ceil_mode))
    if ho < 1 or wo < 1:
        raise ValueError(f"{op}: the kernel {kernel} is larger than the padded input "
                         f"{h + 2 * padding[0]}x{w + 2 * padding[1]}")
    return kernel, stride, padding, (ho, wo)


def _overhang(x: Tensor, kernel: tuple, stride: tuple, padding: tuple, out_hw: tuple) -> tuple:
    """Rows and columns the last ceil_mode window reaches past the padded input (>= 0)."""
    return tuple(max(0, (out_hw[i] - 1) * stride[i] + kernel[i] - (x.shape[-2 + i] + 2 * padding[i]))
                 for i in range(2))


def _batched(fn, x: Tensor, *args) -> Tensor:
    if x.ndim == 3:
        return fn(x.unsqueeze(0), *args).squeeze(0)
    return fn(x, *args)


def max_pool2d(x: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Tensor:
    """Maximum over kh x kw windows; padding counts as -inf. (N, C, H, W) -> (N, C, Ho, Wo).

    With ``ceil_mode`` the last window of a row may hang over the input's end (PyTorch's
    rule); the overhang is -inf like the padding, so it never wins.
    """
    op = "max_pool2d"
    if pair(op, "dilation", dilation, 1) != (1, 1) or return_indices:
        raise NotImplementedError(f"{op}: dilation and return_indices are not supported")
    k, s, p, out_hw = _pool_args(op, x, kernel_size, stride, padding, ceil_mode)
    over_h, over_w = _overhang(x, k, s, p, out_hw)
    if over_h or over_w:
        x = pad(x, (0, over_w, 0, over_h), value=-np.inf)
    return _batched(MaxPool2d.apply, x, k, s, p)


def avg_pool2d(x: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: Optional[int] = None) -> Tensor:
    """Mean over kh x kw windows; zero padding counts in the mean (PyTorch's default).

    PyTorch's divisor per window, h0 = oh*sh - ph: with ``count_include_pad`` the window
    clipped to the padded input, (min(h0 + kh, H + ph) - h0) * (likewise for w); without it
    the input cells the window covers; ``divisor_override`` replaces both. ``ceil_mode``
    may add a last window that hangs over the input's end; it counts only what it covers.
    """
    op = "avg_pool2d"
    k, s, p, out_hw = _pool_args(op, x, kernel_size, stride, padding, ceil_mode)
    if divisor_override is not None and (not is_int(divisor_override) or divisor_override == 0):
        raise ValueError(f"{op}: divisor_override must be a non-zero int, got "
                         f"{divisor_override!r}")
    if not isinstance(count_include_pad, (bool, np.bool_)):
        raise TypeError(f"{op}: count_include_pad must be a bool, got {count_include_pad!r}")
    over = _overhang(x, k, s, p, out_hw)
    if over == (0, 0) and count_include_pad and divisor_override is None:
        return _batched(AvgPool2d.apply, x, k, s, p)
    # General case: sum every window of the explicitly padded input (the kernel's mean times
    # kh*kw), then divide by PyTorch's divisor for that window.
    xp = pad(x, (p[1], p[1] + over[1], p[0], p[0] + over[0]))
    means = _batched(AvgPool2d.apply, xp, k, s, (0, 0))
    h, w = x.shape[-2:]
    divisors = []
    for n, kk, ss, pp, oo in ((h, k[0], s[0], p[0], out_hw[0]), (w, k[1], s[1], p[1], out_hw[1])):
        start = np.arange(oo) * ss - pp
        stop = np.minimum(start + kk, n + pp)
        if count_include_pad:
            divisors.append(stop - start)
        else:
            divisors.append(np.minimum(stop, n) - np.maximum(start, 0))
    divisor = np.outer(divisors[0], divisors[1]).astype(np.float64)
    if divisor_override is not None:
        # Used as given, negative included (PyTorch rejects only 0).
        scale = np.full(divisor.shape, k[0] * k[1] / divisor_override)
    else:
        # A window covering no input cell averages nothing: 0, as in PyTorch.
        scale = np.where(divisor > 0, k[0] * k[1] / np.where(divisor > 0, divisor, 1.0), 0.0)
    return means * _make(scale.astype(x.dtype), False, None, 0, None)


def adaptive_avg_pool2d(x: Tensor, output_size: Any) -> Tensor:
    """Average pooling to a fixed (Ho, Wo): window i spans [floor(i*H/Ho), ceil((i+1)*H/Ho))."""
    op = "adaptive_avg_pool2d"
    _check_input(op, x)
    if 0 in x.shape[-3:]:
        # an empty window would average nothing: NaN rather than an error otherwise
        raise ValueError(f"{op}: expected non-zero channel and spatial sizes, got input of shape "
                         f"{shape_str(x.shape)}")
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise TypeError(f"{op}: output_size must be an int or a pair, got {output_size!r}")
        output_size = tuple(x.shape[-2 + i] if v is None else v for i, v in enumerate(output_size))
    out = pair(op, "output_size", output_size, 1)
    check_geometry(op, output_size=out)
    return _batched(AdaptiveAvgPool2d.apply, x, out)
