"""Batch normalisation as two fused Functions (training and evaluation mode).

Each is one graph node over the fused kernels of ``kernels/norm.py`` instead of a dozen
elementwise and reduction nodes. ``nn.functional.batch_norm`` checks the arguments, picks
the mode and moves the running statistics; these take checked tensors.

* ``BatchNormTrain(x, weight, bias)``: normalise x (N, C, ...) per channel with the
  batch's mean and biased variance, then scale and shift.
* ``BatchNormEval(x, weight, bias)``: y = x * scale + shift with constants from the
  running statistics.

Backward runs the fused kernel; with ``create_graph`` it is written with differentiable
Tensor ops (the statistics recomputed from x), so gradients of gradients work.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from .. import autograd as _ag
from ..autograd import Function
from ..kernels import norm as K
from ..tensor import Tensor, _make


def _const(a: np.ndarray) -> Tensor:
    return _make(a, False, None, 0, None)


def _dims_shape(x: Tensor) -> tuple:
    c = x.shape[1]
    return (0,) + tuple(range(2, x.ndim)), (1, c) + (1,) * (x.ndim - 2)


def _param(t: Optional[Tensor], c: int, fill: float, dtype) -> np.ndarray:
    return np.full(c, fill, dtype) if t is None else t._data


class BatchNormTrain(Function):
    """y = weight * (x - mean) / sqrt(var + eps) + bias over dims (0, 2, 3, ...).

    ``stats`` is a list the forward fills with the batch's (mean, biased var) as float64
    (C,) arrays, for the running statistics.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, eps, stats):
        c = x.shape[1]
        xd = x._data
        y, mean, var, rstd = K.train_forward(xd, _param(weight, c, 1.0, xd.dtype),
                                             _param(bias, c, 0.0, xd.dtype), eps)
        ctx.save_for_backward(x, weight)
        ctx.mean, ctx.rstd, ctx.eps, ctx.has_bias = mean, rstd, eps, bias is not None
        stats[:] = [mean, var]
        return y

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        if not _ag.is_grad_enabled():
            c = x.shape[1]
            gx, gw, gb = K.train_backward(x._data, g._data, _param(weight, c, 1.0, x.dtype),
                                          ctx.mean, ctx.rstd, need_x)
            return (_const(gx) if need_x else None, _const(gw) if need_w else None,
                    _const(gb) if need_b else None)
        # create_graph: the same formulas as Tensor ops, the statistics recomputed from x.
        dims, shape = _dims_shape(x)
        centered = x - x.mean(dims, keepdim=True)
        rstd = ((centered * centered).mean(dims, keepdim=True) + ctx.eps) ** -0.5
        xhat = centered * rstd
        gxhat = g if weight is None else g * weight.reshape(shape)
        gx = gw = gb = None
        if need_x:
            gx = rstd * (gxhat - gxhat.mean(dims, keepdim=True)
                         - xhat * (gxhat * xhat).mean(dims, keepdim=True))
        if need_w:
            gw = (g * xhat).sum(dims)
        if need_b:
            gb = g.sum(dims)
        return gx, gw, gb


class BatchNormEval(Function):
    """y = (x - running_mean) / sqrt(running_var + eps) * weight + bias, the statistics
    constant arrays (C,)."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, eps):
        xd = x._data
        dt = xd.dtype
        inv = (1.0 / np.sqrt(running_var.astype(dt) + dt.type(eps))).astype(dt)
        mean = running_mean.astype(dt)
        scale = inv if weight is None else weight._data * inv
        shift = -mean * scale
        if bias is not None:
            shift = shift + bias._data
        ctx.save_for_backward(x, weight)
        ctx.scale, ctx.mean, ctx.inv = scale, mean.astype(np.float64), inv
        y = K.eval_forward(xd, scale.astype(dt, copy=False), shift.astype(dt, copy=False))
        return y

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        if not _ag.is_grad_enabled():
            gx, gw, gb = K.eval_backward(x._data, g._data, ctx.scale, ctx.mean,
                                         ctx.inv.astype(np.float64), need_x)
            return (_const(gx) if need_x else None, _const(gw) if need_w else None,
                    _const(gb) if need_b else None)
        dims, shape = _dims_shape(x)
        inv = _const(ctx.inv.reshape(shape))
        xhat = (x - _const(ctx.mean.astype(x.dtype).reshape(shape))) * inv
        gx = gw = gb = None
        if need_x:
            gx = g * (inv if weight is None else weight.reshape(shape) * inv)
        if need_w:
            gw = (g * xhat).sum(dims)
        if need_b:
            gb = g.sum(dims)
        return gx, gw, gb


def batch_norm_train(x: Tensor, weight: Optional[Tensor], bias: Optional[Tensor],
                     eps: float) -> tuple:
    """(y, mean, var): x (N, C, ...) float32/64 normalised per channel (dim 1) with its batch
    statistics, then scaled by weight (C,) and shifted by bias (C,) (either may be None);
    mean and the biased var are float64 (C,) arrays. Arguments are checked by the caller."""
    stats: list = []
    y = BatchNormTrain.apply(x, weight, bias, float(eps), stats)
    return y, stats[0], stats[1]


def batch_norm_eval(x: Tensor, weight: Optional[Tensor], bias: Optional[Tensor],
                    running_mean: np.ndarray, running_var: np.ndarray, eps: float) -> Tensor:
    """x (N, C, ...) normalised with fixed statistics running_mean, running_var (C,) arrays,
    then scaled and shifted; gradients flow to x, weight and bias."""
    return BatchNormEval.apply(x, weight, bias, np.asarray(running_mean),
                               np.asarray(running_var), float(eps))
