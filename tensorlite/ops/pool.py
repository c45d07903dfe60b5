"""Pooling: max, average and adaptive average over 2-D windows (NCHW).

Each pooling is linear (average) or piecewise linear (max: the gradient goes to the first
maximum of each window, as in PyTorch), so each backward is again a Function whose own
backward is the forward map's adjoint: pooling supports gradients of gradients.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from .._checks import check_kernel_float, pair, shape_str
from ..autograd import Function
from ..kernels import pool as K
from ..tensor import Tensor, _make


def _c(a: np.ndarray) -> np.ndarray:
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


class MaxPool2d(Function):
    @staticmethod
    def forward(ctx, x, kernel, stride, padding):
        y, argmax = K.max_pool2d_forward(_c(x.data), kernel, stride, padding)
        ctx.geom = (kernel, stride, padding)
        ctx.in_shape = x.data.shape
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
        return K.max_pool2d_backward(_c(g.data), argmax, in_shape[2:], kernel, stride, padding)

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
        flat = h.data.reshape(n, c, -1)
        return np.take_along_axis(flat, pos.reshape(n, c, -1), axis=2).reshape(argmax.shape)

    @staticmethod
    def backward(ctx, g):
        return MaxPoolScatter.apply(g, *ctx.args)


class AvgPool2d(Function):
    @staticmethod
    def forward(ctx, x, kernel, stride, padding):
        ctx.args = (x.data.shape[2:], kernel, stride, padding)
        return K.avg_pool2d_forward(_c(x.data), kernel, stride, padding)

    @staticmethod
    def backward(ctx, g):
        return AvgPoolAdjoint.apply(g, *ctx.args)


class AvgPoolAdjoint(Function):
    """The backward of average pooling (each window's gradient spread over it)."""

    @staticmethod
    def forward(ctx, g, in_hw, kernel, stride, padding):
        ctx.args = (kernel, stride, padding)
        return K.avg_pool2d_backward(_c(g.data), tuple(in_hw), kernel, stride, padding)

    @staticmethod
    def backward(ctx, h):
        return AvgPool2d.apply(h, *ctx.args)


class AdaptiveAvgPool2d(Function):
    @staticmethod
    def forward(ctx, x, out_hw):
        ctx.in_hw = x.data.shape[2:]
        return K.adaptive_avg_pool2d_forward(_c(x.data), out_hw)

    @staticmethod
    def backward(ctx, g):
        return AdaptiveAvgPoolAdjoint.apply(g, ctx.in_hw)


class AdaptiveAvgPoolAdjoint(Function):
    @staticmethod
    def forward(ctx, g, in_hw):
        ctx.out_hw = g.data.shape[2:]
        return K.adaptive_avg_pool2d_backward(_c(g.data), tuple(in_hw))

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


def _pool_args(op: str, x: Tensor, kernel_size: Any, stride: Any, padding: Any) -> tuple:
    _check_input(op, x)
    kernel = pair(op, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None or stride == () else pair(op, "stride", stride, 1)
    padding = pair(op, "padding", padding, 0)
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel size {kernel}")
    h, w = x.shape[-2:]
    ho = (h + 2 * padding[0] - kernel[0]) // stride[0] + 1
    wo = (w + 2 * padding[1] - kernel[1]) // stride[1] + 1
    if ho < 1 or wo < 1:
        raise ValueError(f"{op}: the kernel {kernel} is larger than the padded input "
                         f"{h + 2 * padding[0]}x{w + 2 * padding[1]}")
    return kernel, stride, padding


def _batched(fn, x: Tensor, *args) -> Tensor:
    if x.ndim == 3:
        return fn(x.unsqueeze(0), *args).squeeze(0)
    return fn(x, *args)


def max_pool2d(x: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Tensor:
    """Maximum over kh x kw windows; padding counts as -inf. (N, C, H, W) -> (N, C, Ho, Wo)."""
    op = "max_pool2d"
    if pair(op, "dilation", dilation, 1) != (1, 1) or ceil_mode or return_indices:
        raise NotImplementedError(f"{op}: dilation, ceil_mode and return_indices are not "
                                  "supported")
    k, s, p = _pool_args(op, x, kernel_size, stride, padding)
    return _batched(MaxPool2d.apply, x, k, s, p)


def avg_pool2d(x: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: Optional[int] = None) -> Tensor:
    """Mean over kh x kw windows; zero padding counts in the mean (PyTorch's default)."""
    op = "avg_pool2d"
    if ceil_mode or not count_include_pad or divisor_override is not None:
        raise NotImplementedError(f"{op}: only ceil_mode=False, count_include_pad=True and no "
                                  "divisor_override are supported")
    k, s, p = _pool_args(op, x, kernel_size, stride, padding)
    return _batched(AvgPool2d.apply, x, k, s, p)


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
    return _batched(AdaptiveAvgPool2d.apply, x, out)
