"""softmax and log_softmax along a dim, numerically stable (the max is subtracted)."""
from __future__ import annotations

import numpy as np

from .._checks import check_float, normalize_dim
from ..autograd import Function
from ..tensor import Tensor


def _log_softmax_array(x: np.ndarray, dim: int) -> np.ndarray:
    m = np.max(x, axis=dim, keepdims=True) if x.size else x
    # A row of -inf has no finite max to subtract: shifting by 0 gives its exp sum 0 and
    # NaNs, as in PyTorch. A +inf max stays: x - m is NaN at it and -inf elsewhere, so the
    # whole row is NaN, as in PyTorch (shifting by 0 would give [nan, 0, 0]).
    m = np.where(m == -np.inf, 0, m)
    shifted = x - m
    return shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))


class Softmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        y = np.exp(_log_softmax_array(x._data, dim))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        # d softmax: y * (g - <g, y>) along dim.
        return y * (g - (g * y).sum(ctx.dim, keepdim=True))


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        y = _log_softmax_array(x._data, dim)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g - y.exp() * g.sum(ctx.dim, keepdim=True)


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    check_float("softmax", "input", x)
    return Softmax.apply(x, normalize_dim("softmax", dim, x._data.ndim))


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    check_float("log_softmax", "input", x)
    return LogSoftmax.apply(x, normalize_dim("log_softmax", dim, x._data.ndim))


# -- nn.functional.softplus's node ----------------------------------------------------
class Softplus(Function):
    """log(1 + exp(x)), computed stably as max(x, 0) + log1p(exp(-|x|)).

    Written as one op because the composed form has kinks at 0 (relu, abs) whose
    conventional gradients there would not add up to the true derivative sigmoid(0).
    """

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        xd = x._data
        return np.maximum(xd, 0) + np.log1p(np.exp(-np.abs(xd)))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.sigmoid()
