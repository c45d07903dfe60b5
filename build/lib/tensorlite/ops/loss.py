"""Losses: fused cross-entropy and nll_loss; binary cross-entropy; L1, smooth L1, Huber.

cross_entropy(x, t) = -log softmax(x)_t = logsumexp(x) - x_t, with optional label
smoothing (the target distribution puts 1 - eps on t and eps/K everywhere). Without class
weights it runs as one fused numba kernel over the rows (stable: the row max is
subtracted), and so does its backward, except under ``create_graph=True``: there the
gradient is written with differentiable ops, so the loss can be differentiated twice as in
PyTorch. With class weights or probability targets it is composed from differentiable ops.
"""
from __future__ import annotations

import warnings
from typing import Any, Optional

import numpy as np

from .._checks import (broadcast_shape, check_float, check_kernel_float, check_real,
                      check_tensor, is_int, shape_str)
from ..autograd import Function, is_grad_enabled
from ..kernels import loss as K
from ..tensor import Tensor, _make
from .broadcast import as_operand
from .compare import where

_REDUCTIONS = ("mean", "sum", "none")


class CrossEntropyRows(Function):
    """Per-row label-smoothed cross-entropy of (M, K) logits; 0 for ignored rows."""

    @staticmethod
    def forward(ctx, logits, target, ignore_index, label_smoothing):
        x = logits._data
        loss, stats = K.cross_entropy_forward(x, target, ignore_index, label_smoothing)
        ctx.save_for_backward(logits)
        ctx.args = (target, stats, ignore_index, label_smoothing)
        return loss

    @staticmethod
    def backward(ctx, g):
        (logits,) = ctx.saved_tensors
        target, stats, ignore_index, eps = ctx.args
        if not is_grad_enabled():
            # The usual backward (create_graph=False): the fused kernel on plain arrays.
            grad = K.cross_entropy_backward(logits._data, target, stats, g._data, ignore_index,
                                            eps)
            bad = _nan_ignored_rows(logits._data, target, ignore_index)
            if bad.size:
                grad[bad] = np.nan
            return _make(grad, False, None, 0, None)
        # create_graph=True records the backward, so it is written with differentiable ops
        # (PyTorch differentiates cross_entropy twice too: Hessian-vector products, gradient
        # penalties): g * (softmax(x) - (1 - eps) * onehot(t) - eps / K), 0 on ignored rows.
        m, k = logits.shape
        keep = target != ignore_index
        shift = np.full((m, k), eps / k, dtype=logits.dtype)
        rows = np.flatnonzero(keep)
        shift[rows, target[rows]] += 1.0 - eps
        keep_col = _make(keep[:, None], False, None, 0, None)
        # Both selections are needed: the incoming g of an ignored row may be NaN (the mean
        # over no targets is 0/0) and would reach the second derivative through the product;
        # an ignored row of -inf logits has a NaN softmax.
        g = where(keep_col, g.reshape(m, 1), 0.0)
        fill = np.zeros((m, 1), dtype=logits.dtype)
        fill[_nan_ignored_rows(logits._data, target, ignore_index)] = np.nan
        return where(keep_col, (logits.softmax(1) - _make(shift, False, None, 0, None)) * g,
                     _make(fill, False, None, 0, None))


def _nan_ignored_rows(x: np.ndarray, target: np.ndarray, ignore_index: int) -> np.ndarray:
    """The ignored rows whose gradient is NaN in PyTorch. Its cross_entropy is nll_loss of
    log_softmax: the ignored row gets 0 from nll_loss, then log_softmax's backward
    0 - exp(log_softmax(x)) * 0 is NaN on the whole row when log_softmax is NaN there, i.e.
    when the row's maximum is not finite (a NaN or +inf logit, or every logit -inf)."""
    rows = np.flatnonzero(target == ignore_index)
    if rows.size == 0:
        return rows
    with np.errstate(invalid="ignore"):
        top = x[rows].max(axis=1)
    return rows[~np.isfinite(top)]


def _classes_last(op: str, x: Tensor, target: Tensor) -> tuple:
    """(M, K) logits and (M,) targets from (N, K, d1, ...) / (N, d1, ...) or (K,) / ()."""
    if x.ndim == 0:
        raise ValueError(f"{op}: input must have at least 1 dim (classes), got a 0-d tensor")
    if x.ndim == 1:
        if target.ndim != 0:
            raise ValueError(f"{op}: for an unbatched input of shape {shape_str(x.shape)} the "
                             f"target must be 0-d, got shape {shape_str(target.shape)}")
        return x.reshape(1, -1), target._data.reshape(1), ()
    if x.shape[1 if x.ndim > 1 else 0] == 0:
        raise ValueError(f"{op}: input has no classes (shape {shape_str(x.shape)})")
    want = (x.shape[0],) + tuple(x.shape[2:])
    if tuple(target.shape) != want:
        raise ValueError(f"{op}: expected target of shape {shape_str(want)} for input of shape "
                         f"{shape_str(x.shape)}, got {shape_str(target.shape)}")
    k = x.shape[1]
    if x.ndim > 2:
        perm = (0,) + tuple(range(2, x.ndim)) + (1,)
        x = x.permute(*perm)
    return x.reshape(-1, k), target._data.reshape(-1), want


def _check_target_dtype(op: str, t: np.ndarray) -> None:
    if t.dtype.kind not in "iu":
        # Only cross_entropy also takes class probabilities; nll_loss wants indices.
        alt = (" (or float probabilities of the input's shape)" if op == "cross_entropy"
               else "")
        raise TypeError(f"{op}: target must be an integer tensor of class indices{alt}, got "
                        f"dtype {t.dtype}")


def _check_common(op: str, input: Any, target: Any, ignore_index: Any, reduction: Any) -> Tensor:
    """Checks shared by cross_entropy and nll_loss; returns the target as a Tensor."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: input must be a floating-point tensor, got dtype {input.dtype}")
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have at least 1 dim (classes), got a 0-d tensor")
    if not isinstance(target, Tensor):
        try:
            target = _make(np.asarray(target), False, None, 0, None)
        except ValueError:  # ragged
            raise ValueError(f"{op}: target must be rectangular, got {target!r:.60}") from None
    if target.dtype.kind not in "iuf":
        _check_target_dtype(op, target._data)
    if not is_int(ignore_index):
        # a float ignore_index would be compared with the integer targets, never matching
        raise TypeError(f"{op}: ignore_index must be an int, got {type(ignore_index).__name__} "
                        f"{ignore_index!r}")
    if not -2 ** 63 <= ignore_index < 2 ** 63:
        # the kernel compares it with int64 targets; numba could not even type a larger int
        raise ValueError(f"{op}: ignore_index must fit in int64, got {ignore_index}")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    return target


def _check_weight(op: str, weight: Any, k: int) -> None:
    if weight is not None and (not isinstance(weight, Tensor) or weight.shape != (k,)):
        got = shape_str(weight.shape) if isinstance(weight, Tensor) else type(weight).__name__
        raise ValueError(f"{op}: weight must be a Tensor of shape ({k},) (one per class), got "
                         f"{got}")


def _check_target(op: str, t: np.ndarray, k: int, ignore_index: int) -> None:
    _check_target_dtype(op, t)
    valid = t[t != ignore_index]
    if valid.size and (valid.min() < 0 or valid.max() >= k):
        bad = int(valid.min()) if valid.min() < 0 else int(valid.max())
        raise IndexError(f"{op}: target contains {bad}, out of range [0, {k}) "
                         f"(ignore_index={ignore_index})")


def _reduce(op: str, rows: Tensor, denom: Any, reduction: str, shape: tuple) -> Tensor:
    if reduction == "none":
        return rows.reshape(shape)
    total = rows.sum()
    if reduction == "sum":
        return total
    return total / denom


def cross_entropy(input: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                  ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy of logits ``input`` (N, C, d1, ...) against class indices (N, d1, ...)
    or class probabilities (the input's shape); PyTorch's semantics for ``weight``,
    ``ignore_index``, ``reduction`` ('mean' averages over non-ignored targets, weighted) and
    ``label_smoothing``."""
    op = "cross_entropy"
    target = _check_common(op, input, target, ignore_index, reduction)
    check_real(op, "label_smoothing", label_smoothing, 0.0, 1.0)
    k = input.shape[1] if input.ndim > 1 else input.shape[0]
    _check_weight(op, weight, k)
    if target.dtype.kind == "f":
        if ignore_index != -100:
            raise ValueError(f"{op}: ignore_index is not supported for probability targets "
                             f"(got ignore_index={ignore_index})")
        return _soft_cross_entropy(input, target, weight, reduction, label_smoothing)
    x2, t, shape = _classes_last(op, input, target)
    _check_target(op, t, k, ignore_index)
    # A copy, never a view of the target tensor: the backward reads it, and a target changed
    # in place after the forward must not change the gradient (an index past K would even
    # be written out of bounds by the kernel).
    t = np.array(t, dtype=np.int64)
    if weight is None:
        check_kernel_float(op, "input", input)  # the fused kernel: float32/float64 only
        rows = CrossEntropyRows.apply(x2.contiguous(), t, int(ignore_index),
                                      float(label_smoothing))
        denom = int(np.count_nonzero(t != ignore_index))
        return _reduce(op, rows, denom if denom else float("nan"), reduction, shape)
    # Class weights: composed from differentiable ops (PyTorch's formula).
    logp = x2.log_softmax(1)
    keep = t != ignore_index
    safe_t = np.where(keep, t, 0)
    w = weight.to(input.dtype)
    w_t = w[safe_t] * _make(keep.astype(input.dtype), False, None, 0, None)   # (M,)
    picked = logp.gather(1, _make(safe_t[:, None], False, None, 0, None)).reshape(-1)
    rows = -(1 - label_smoothing) * w_t * picked
    if label_smoothing:
        smooth = -(logp * w.reshape(1, -1)).sum(1) / k
        rows = rows + label_smoothing * smooth
    # Ignored rows are selected away, not multiplied by 0: a row of masked logits (-inf)
    # would turn 0 * -inf into NaN in the loss and in every gradient.
    rows = where(keep, rows, 0.0)
    return _reduce(op, rows, w_t.sum(), reduction, shape)


def _soft_cross_entropy(x: Tensor, target: Tensor, weight: Optional[Tensor], reduction: str,
                        eps: float) -> Tensor:
    op = "cross_entropy"
    if target.shape != x.shape:
        raise ValueError(f"{op}: probability targets must have the input's shape "
                         f"{shape_str(x.shape)}, got {shape_str(target.shape)}")
    dim = 1 if x.ndim > 1 else 0
    k = x.shape[dim]
    p = target.to(x.dtype)
    if eps:
        p = p * (1 - eps) + eps / k
    logp = x.log_softmax(dim)
    if weight is not None:
        shape = [1] * x.ndim
        shape[dim] = k
        logp = logp * weight.to(x.dtype).reshape(shape)
    rows = -(p * logp).sum(dim)
    if reduction == "none":
        return rows
    if reduction == "sum":
        return rows.sum()
    # The mean over an empty batch is 0/0 = NaN, as in PyTorch.
    return rows.sum() / (rows.numel() or float("nan"))


def nll_loss(input: Tensor, target: Tensor, weight: Optional[Tensor] = None,
             ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities ``input`` (N, C, d1, ...) at class
    indices ``target`` (N, d1, ...): -w[t] * input[t], averaged over the weights of the
    non-ignored targets for 'mean'."""
    op = "nll_loss"
    target = _check_common(op, input, target, ignore_index, reduction)
    k = input.shape[1] if input.ndim > 1 else input.shape[0]
    _check_weight(op, weight, k)
    x2, t, shape = _classes_last(op, input, target)
    _check_target(op, t, k, ignore_index)
    keep = t != ignore_index
    safe_t = np.where(keep, t, 0).astype(np.int64)
    mask = keep.astype(input.dtype)
    if weight is not None:
        w_t = weight.to(input.dtype)[safe_t] * _make(mask, False, None, 0, None)
    else:
        w_t = _make(mask, False, None, 0, None)
    picked = x2.gather(1, _make(safe_t[:, None], False, None, 0, None)).reshape(-1)
    rows = where(keep, -picked * w_t, 0.0)   # selected, not masked: see cross_entropy
    denom = w_t.sum() if weight is not None else (float(mask.sum()) or float("nan"))
    return _reduce(op, rows, denom, reduction, shape)


# ---------------------------------------------------------------------------------------
# Binary cross-entropy of probabilities, and the regression losses (L1, smooth L1, Huber)
# ---------------------------------------------------------------------------------------
_LOG_FLOOR = -100.0   # PyTorch clamps each log at -100, so a probability of exactly 0 or 1
_BCE_EPS = 1e-12      # costs 100, not inf; its backward divides by max(x (1 - x), 1e-12)


class BinaryCrossEntropy(Function):
    """Elementwise -(y max(log x, -100) + (1 - y) max(log(1 - x), -100)) of probabilities x
    against targets y (same shape); PyTorch's forward and its backward formulas."""

    @staticmethod
    def forward(ctx, x, y):
        xa, ya = x._data, y._data
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(xa), _LOG_FLOOR)
            log_1mx = np.maximum(np.log1p(-xa), _LOG_FLOOR)
        ctx.save_for_backward(x, y)
        return -(ya * log_x + (1 - ya) * log_1mx)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        gx = gy = None
        if ctx.needs_input_grad[0]:
            # d/dx = (x - y) / (x (1 - x)), the denominator floored at 1e-12 (PyTorch's)
            gx = g * (x - y) / ((1 - x) * x).clamp(min=_BCE_EPS)
        if ctx.needs_input_grad[1]:
            # d/dy = log(1 - x) - log x, unclamped as in PyTorch (inf at x = 0 or 1)
            gy = g * ((-x).log1p() - x.log())
        return gx, gy


def _check_reduction(op: str, reduction: Any) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _elementwise_reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _regression_operands(op: str, input: Any, target: Any) -> tuple:
    check_tensor(op, "input", input)
    if not isinstance(target, Tensor):
        target = as_operand(target, input, op)
    if target.shape != input.shape:
        broadcast_shape(op, input.shape, target.shape)     # names the op if they do not
        warnings.warn(f"{op}: target size {shape_str(target.shape)} differs from input size "
                      f"{shape_str(input.shape)}; they will be broadcast", UserWarning,
                      stacklevel=3)
    return input, target


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                         reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of probabilities ``input`` (any shape, values in [0, 1]) against
    ``target`` (same shape, in [0, 1]): -w (y log x + (1 - y) log(1 - x)), each log clamped
    at -100 as PyTorch does; ``weight`` broadcasts to the input and is not differentiated
    (as in PyTorch)."""
    op = "binary_cross_entropy"
    check_tensor(op, "input", input)
    check_float(op, "input", input)
    _check_reduction(op, reduction)
    if not isinstance(target, Tensor):
        target = as_operand(target, input, op)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"{op}: target size {shape_str(target.shape)} must be the same as "
                         f"the input size {shape_str(input.shape)}")
    x = input._data
    if not ((x >= 0) & (x <= 1)).all():
        raise RuntimeError(f"{op}: all elements of input should be between 0 and 1 "
                           "(apply a sigmoid, or use binary_cross_entropy_with_logits)")
    t = target._data
    if not ((t >= 0) & (t <= 1)).all():
        raise RuntimeError(f"{op}: all elements of target should be between 0 and 1")
    if weight is not None:
        check_tensor(op, "weight", weight)
        if weight.requires_grad:
            raise RuntimeError(f"{op}: not differentiable with respect to weight; pass a "
                               "weight that does not require grad")
        if broadcast_shape(op, weight.shape, input.shape) != tuple(input.shape):
            raise ValueError(f"{op}: weight of shape {shape_str(weight.shape)} does not "
                             f"broadcast to the input's shape {shape_str(input.shape)}")
    loss = BinaryCrossEntropy.apply(input, target.to(input.dtype))
    if weight is not None:
        loss = loss * weight.to(input.dtype)
    return _elementwise_reduce(loss, reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """|input - target|, reduced by 'mean' (default), 'sum' or 'none'."""
    _check_reduction("l1_loss", reduction)
    input, target = _regression_operands("l1_loss", input, target)
    return _elementwise_reduce((input - target).abs(), reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """Smooth L1: 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target);
    ``beta=0`` is the L1 loss, as in PyTorch."""
    op = "smooth_l1_loss"
    _check_reduction(op, reduction)
    check_real(op, "beta", beta, 0.0, float("inf"))
    input, target = _regression_operands(op, input, target)
    d = input - target
    if beta == 0:
        return _elementwise_reduce(d.abs(), reduction)
    ad = d.abs()
    near = ~(ad >= beta)  # a NaN d counts as near: its gradient d / beta is NaN (PyTorch's)
    # The quadratic branch sees d only where it is chosen: elsewhere its gradient d / beta,
    # masked to 0 by where, would be inf * 0 = NaN for an infinite d (PyTorch gives +-1).
    dq = where(near, d, 0.0)
    return _elementwise_reduce(where(near, 0.5 * dq * dq / beta, ad - 0.5 * beta), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean",
               delta: float = 1.0) -> Tensor:
    """Huber: 0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta); smooth L1 times delta."""
    op = "huber_loss"
    _check_reduction(op, reduction)
    check_real(op, "delta", delta, 0.0, float("inf"))
    if delta == 0:
        raise ValueError(f"{op}: delta must be positive, got 0")
    input, target = _regression_operands(op, input, target)
    d = input - target
    ad = d.abs()
    near = ~(ad >= delta)  # a NaN d: NaN gradient, as PyTorch
    dq = where(near, d, 0.0)  # as in smooth_l1_loss: no inf * 0 from the unchosen branch
    return _elementwise_reduce(where(near, 0.5 * dq * dq, delta * (ad - 0.5 * delta)),
                               reduction)
