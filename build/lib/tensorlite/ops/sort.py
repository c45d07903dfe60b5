"""Scans and sorting: cumsum, cumprod, cummax/cummin, logcumsumexp; sort, argsort, msort,
topk, kthvalue, median; unique, nonzero, masked_select.

Selections (sort, topk, kthvalue, median(dim), cummax/cummin) return their values as a
``gather`` of the input at the chosen indices, so the gradient scatters back to exactly
those elements. Orders are numpy's stable sorts; NaN sorts as the largest value (as in
PyTorch). Where PyTorch leaves the index of tied elements unspecified (topk, kthvalue,
median(dim)), ours is that of the stable order.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from .._checks import broadcast_shape, check_int, check_tensor, normalize_dim
from ..autograd import Function, is_grad_enabled
from ..tensor import Tensor, _make
from .reduce import (Gather, ReturnValues, _array, _cast_to, _check_keepdim,
                     _integral_to_int64, _nonempty_dims, prod)


def _const(a: Any) -> Tensor:
    return _make(_array(a), False, None, 0, None)


def _check_bool(name: str, arg: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: {arg} must be a bool, got {type(value).__name__} {value!r}")
    return bool(value)


def _check_k(name: str, k: Any) -> int:
    # PyTorch also takes k as a 0-d integer tensor (e.g. a count computed on tensors).
    if isinstance(k, Tensor) and k._data.ndim == 0 and k._data.dtype.kind in "iu":
        k = int(k._data)
    return check_int(name, "k", k)


def _scalar_pair(x: Tensor) -> ReturnValues:
    """(values, indices) of a selection along the one "dim" of a 0-d tensor: x itself.

    A new tensor, as PyTorch's: returning x would let values.add_() change x."""
    from .elementwise import clone
    return ReturnValues(clone(x), _const(np.zeros((), np.int64)))


def _flip(g: Tensor, dim: int) -> Tensor:
    from .shape import Flip
    return Flip.apply(g, (dim,))


def _lead(dim: int, sl: slice) -> tuple:
    return (slice(None),) * dim + (sl,)


# ---------------------------------------------------------------------------------------
# cumsum / cumprod
# ---------------------------------------------------------------------------------------
class Cumsum(Function):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return np.cumsum(x._data, axis=dim)

    @staticmethod
    def backward(ctx, g):
        # Element i contributed to every output from i on: a cumsum from the right.
        return _reverse_cumsum(g, ctx.dim)


def _reverse_cumsum(g: Tensor, dim: int) -> Tensor:
    return _flip(Cumsum.apply(_flip(g, dim), dim), dim)


def _scan_input(name: str, x: Any, dim: Any, dtype: Any) -> tuple:
    check_tensor(name, "input", x)
    if dtype is not None:
        x = _cast_to(name, x, dtype)
    d = normalize_dim(name, dim, x._data.ndim)
    return _integral_to_int64(x), d


def cumsum(x: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Cumulative sum along ``dim``; bool and integer inputs give int64 (PyTorch's rule)."""
    x, d = _scan_input("cumsum", x, dim, dtype)
    if x._data.ndim == 0:
        from .elementwise import clone
        return clone(x)
    return Cumsum.apply(x, d)


class Cumprod(Function):
    """Cumulative product. Backward as PyTorch's cumprod_backward: sum_{k>=i} g_k y_k / x_i
    without zeros; with zeros an O(n) formula on arrays, or, when the backward itself is
    recorded (create_graph), an O(n^2) one of differentiable ops."""

    @staticmethod
    def forward(ctx, x, dim):
        out = np.cumprod(x._data, axis=dim)
        ctx.dim = dim
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return _cumprod_backward(g, x, y, ctx.dim)


def _cumprod_backward(g: Tensor, x: Tensor, y: Tensor, dim: int) -> Tensor:
    n = x._data.shape[dim]
    if x._data.size <= 1 or n == 1:
        return g
    zero = x._data == 0
    if not zero.any():
        return _reverse_cumsum(y * g, dim) / x
    if not is_grad_enabled():
        return _const(_cumprod_grad_with_zeros(g._data, x._data, y._data, dim))
    # grad_i = sum_{k >= i} g_k prod_{j <= k, j != i} x_j, one i at a time.
    from .shape import cat
    from .reduce import sum as rsum
    ones_shape = list(x._data.shape)
    ones_shape[dim] = 1
    ones = _const(np.ones(ones_shape, x._data.dtype))
    cols = []
    for k in range(n):
        if k == 0:
            omitted = cat([ones, cumprod(x[_lead(dim, slice(1, n))], dim)], dim)
        else:
            until = prod(x[_lead(dim, slice(0, k))], dim, keepdim=True)
            if k == n - 1:
                omitted = until
            else:
                omitted = cat([until, until * cumprod(x[_lead(dim, slice(k + 1, n))], dim)],
                              dim)
        cols.append(rsum(g[_lead(dim, slice(k, n))] * omitted, dim, keepdim=True))
    return cat(cols, dim)


def _cumprod_grad_with_zeros(g: np.ndarray, x: np.ndarray, y: np.ndarray,
                             dim: int) -> np.ndarray:
    """cumprod's input gradient when x holds zeros, in O(n) per slice.

    With z the first zero of a slice: before z, sum_{z > k >= i} g_k y_k / x_i; at z,
    prod_{j<z} x_j * sum_{k >= z} g_k prod_{z<j<=k} x_j (terms past a second zero are
    0); after z, 0 (every product has the factor x_z = 0)."""
    g, x, y = (np.moveaxis(a, dim, -1) for a in (g, x, y))
    zeros_seen = np.cumsum(x == 0, axis=-1)
    before = zeros_seen == 0
    w = np.where(before, y * g, 0)
    rc = np.flip(np.cumsum(np.flip(w, -1), -1), -1)
    out = np.where(before, rc / np.where(before, x, 1), 0)
    first = (zeros_seen == 1) & (x == 0)
    between = (zeros_seen == 1) & ~first
    after_first = np.cumprod(np.where(between, x, 1), -1)
    s = np.sum(after_first * np.where(zeros_seen == 1, g, 0), -1, keepdims=True)
    left = np.prod(np.where(before, x, 1), -1, keepdims=True)
    out = np.where(first, left * s, out)
    return np.moveaxis(out, -1, dim).astype(g.dtype, copy=False)


def cumprod(x: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Cumulative product along ``dim``; bool and integer inputs give int64."""
    x, d = _scan_input("cumprod", x, dim, dtype)
    if x._data.ndim == 0:
        from .elementwise import clone
        return clone(x)
    return Cumprod.apply(x, d)


# ---------------------------------------------------------------------------------------
# cummax / cummin / logcumsumexp
# ---------------------------------------------------------------------------------------
def _cum_extreme(name: str, x: Tensor, dim: int, is_max: bool) -> ReturnValues:
    check_tensor(name, "input", x)
    d = normalize_dim(name, dim, x._data.ndim)
    if x._data.ndim == 0:
        return _scalar_pair(x)
    a = x._data
    acc = (np.maximum if is_max else np.minimum).accumulate(a, axis=d)
    # The index of the last element equal to the running extreme (PyTorch's >= / <=); once
    # a NaN is seen the extreme is NaN, and each later NaN takes over the index.
    hit = a == acc
    if a.dtype.kind == "f":
        hit |= np.isnan(a)
    pos = np.arange(a.shape[d]).reshape((-1,) + (1,) * (a.ndim - 1 - d))
    idx = np.maximum.accumulate(np.where(hit, pos, 0), axis=d).astype(np.int64, copy=False)
    return ReturnValues(Gather.apply(x, d, _const(idx)), _const(idx))


def cummax(x: Tensor, dim: int) -> ReturnValues:
    return _cum_extreme("cummax", x, dim, True)


def cummin(x: Tensor, dim: int) -> ReturnValues:
    return _cum_extreme("cummin", x, dim, False)


class LogCumSumExp(Function):
    @staticmethod
    def forward(ctx, x, dim):
        out = np.logaddexp.accumulate(x._data, axis=dim)
        ctx.dim = dim
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        # PyTorch's formula: grad_i = sum_{k>=i} g_k exp(x_i - y_k), with the positive and
        # negative parts of g summed in log space, so that nothing overflows.
        from .compare import where
        x, y = ctx.saved_tensors
        dim = ctx.dim
        if g._data.size == 0:
            return g
        lowest = np.finfo(g._data.dtype).min
        log_abs = g.abs().log()
        pos = where(_const(g._data > 0), log_abs, lowest)
        neg = where(_const(g._data < 0), log_abs, lowest)

        def reverse_lcse(t):
            return _flip(LogCumSumExp.apply(_flip(t, dim), dim), dim)
        # `lowest` stands for log(0): sums with it may round to -inf, whose exp is the 0
        # it stands for; numpy's overflow warning there is noise.
        with np.errstate(over="ignore"):
            return (reverse_lcse(pos - y) + x).exp() - (reverse_lcse(neg - y) + x).exp()


def logcumsumexp(x: Tensor, dim: int) -> Tensor:
    """log(cumsum(exp(x))) along ``dim``, computed without overflow."""
    check_tensor("logcumsumexp", "input", x)
    if x._data.dtype.kind != "f":
        raise TypeError(f"logcumsumexp: input must be a floating-point tensor, got dtype "
                        f"{x.dtype}")
    d = normalize_dim("logcumsumexp", dim, x._data.ndim)
    if x._data.ndim == 0:
        from .elementwise import clone
        return clone(x)
    return LogCumSumExp.apply(x, d)


# ---------------------------------------------------------------------------------------
# sort / argsort / msort / topk / kthvalue / median
# ---------------------------------------------------------------------------------------
def _argsort(a: np.ndarray, dim: int, descending: bool) -> np.ndarray:
    """Stable sort order along ``dim``: ties keep their input order, NaN is largest."""
    if not descending:
        return np.argsort(a, axis=dim, kind="stable")
    # Stable descending: sort the reversed slice ascending, reverse back; tied elements
    # then come in increasing index order, as PyTorch's stable descending sort.
    n = a.shape[dim]
    idx = np.argsort(np.flip(a, dim), axis=dim, kind="stable")
    return (n - 1) - np.flip(idx, dim)


def sort(x: Tensor, dim: int = -1, descending: bool = False, *,
         stable: bool = False) -> ReturnValues:
    """(values, indices) sorted along ``dim``. The order is always stable (``stable=False``
    allows any order of ties, so the stable one is a valid answer)."""
    check_tensor("sort", "input", x)
    d = normalize_dim("sort", dim, x._data.ndim)
    descending = _check_bool("sort", "descending", descending)
    if stable is not None:  # PyTorch's stable is Optional[bool]
        _check_bool("sort", "stable", stable)
    if x._data.ndim == 0:
        return _scalar_pair(x)
    idx = _const(_argsort(x._data, d, descending))
    return ReturnValues(Gather.apply(x, d, idx), idx)


def argsort(x: Tensor, dim: int = -1, descending: bool = False, *,
            stable: bool = False) -> Tensor:
    check_tensor("argsort", "input", x)
    d = normalize_dim("argsort", dim, x._data.ndim)
    descending = _check_bool("argsort", "descending", descending)
    _check_bool("argsort", "stable", stable)  # a bool here, unlike sort's Optional[bool]
    if x._data.ndim == 0:
        return _const(np.zeros((), np.int64))
    return _const(_argsort(x._data, d, descending))


def msort(x: Tensor) -> Tensor:
    """sort along dim 0, values only."""
    check_tensor("msort", "input", x)
    return sort(x, 0).values


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True,
         sorted: bool = True) -> ReturnValues:  # noqa: A002 - PyTorch's keyword name
    """The ``k`` largest (or smallest) elements along ``dim`` and their indices, in sorted
    order (also for ``sorted=False``, where any order is allowed)."""
    check_tensor("topk", "input", x)
    d = normalize_dim("topk", dim, x._data.ndim)
    k = _check_k("topk", k)
    largest = _check_bool("topk", "largest", largest)
    _check_bool("topk", "sorted", sorted)
    n = x._data.shape[d] if x._data.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"topk: k={k} is out of range for dim {d} of size {n} (input of "
                           f"shape {tuple(x.shape)})")
    if x._data.ndim == 0:
        return _scalar_pair(x)
    idx = _argsort(x._data, d, largest)
    if k < n:
        idx = idx[_lead(d, slice(0, k))]
    idx = _const(np.ascontiguousarray(idx))
    return ReturnValues(Gather.apply(x, d, idx), idx)


def _select_at(x: Tensor, d: int, idx: np.ndarray, keepdim: bool) -> ReturnValues:
    """(x at idx along d, idx); ``idx`` has size 1 along d."""
    idx_t = _const(idx)
    values = Gather.apply(x, d, idx_t)
    if not keepdim:
        values = values.squeeze(d)
        idx_t = _const(idx.squeeze(d))
    return ReturnValues(values, idx_t)


def kthvalue(x: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> ReturnValues:
    """The k-th smallest element along ``dim`` (k from 1) and its index."""
    check_tensor("kthvalue", "input", x)
    d = normalize_dim("kthvalue", dim, x._data.ndim)
    k = _check_k("kthvalue", k)
    keepdim = _check_keepdim("kthvalue", keepdim)
    _nonempty_dims("kthvalue", x, (d,) if x._data.ndim else ())
    n = x._data.shape[d] if x._data.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue: k={k} is out of range for dim {d} of size {n} (expected "
                           f"1..{n}; input of shape {tuple(x.shape)})")
    if x._data.ndim == 0:
        return _scalar_pair(x)
    idx = _argsort(x._data, d, False)[_lead(d, slice(k - 1, k))]
    return _select_at(x, d, np.ascontiguousarray(idx), keepdim)


class MedianAll(Function):
    """The median of every element; its gradient is shared by all elements equal to it
    (the NaNs when it is NaN), as PyTorch's evenly_distribute_backward."""

    @staticmethod
    def forward(ctx, x, value, mask):
        ctx.weights = (mask / max(int(mask.sum()), 1)).astype(x._data.dtype)
        return value

    @staticmethod
    def backward(ctx, g):
        return g * _const(ctx.weights)


def median(x: Tensor, dim: Optional[int] = None, keepdim: bool = False) -> Any:
    """Without ``dim``: the lower median of all elements (NaN if any is NaN), a 0-d tensor.
    With ``dim``: (values, indices) of the lower median along ``dim``."""
    check_tensor("median", "input", x)
    if x._data.dtype.kind == "b":
        raise TypeError("median: not supported for bool tensors (as in PyTorch)")
    keepdim = _check_keepdim("median", keepdim)
    a = x._data
    if dim is None:
        if keepdim:
            raise TypeError("median: keepdim=True needs a dim")
        flat = a.reshape(-1)
        if flat.size == 0:
            if a.dtype.kind != "f":
                raise RuntimeError(f"median: cannot take the median of an empty integer "
                                   f"tensor of shape {tuple(x.shape)}")
            value, mask = np.asarray(np.nan, a.dtype), np.zeros(a.shape, bool)
        else:
            nans = np.isnan(a) if a.dtype.kind == "f" else None
            if nans is not None and nans.any():
                value, mask = np.asarray(np.nan, a.dtype), nans
            else:
                m = (flat.size - 1) // 2
                value = np.asarray(np.partition(flat, m)[m])
                mask = a == value
        return MedianAll.apply(x, value, mask)
    d = normalize_dim("median", dim, a.ndim)
    _nonempty_dims("median", x, (d,) if a.ndim else ())
    if a.ndim == 0:
        return _scalar_pair(x)
    n = a.shape[d]
    idx = _argsort(a, d, False)[_lead(d, slice((n - 1) // 2, (n - 1) // 2 + 1))]
    if a.dtype.kind == "f":
        # A slice with a NaN has median NaN, at its first NaN (as PyTorch).
        nans = np.isnan(a)
        has_nan = nans.any(axis=d, keepdims=True)
        if has_nan.any():
            idx = np.where(has_nan, np.argmax(nans, axis=d, keepdims=True), idx)
    return _select_at(x, d, np.ascontiguousarray(idx), keepdim)


# ---------------------------------------------------------------------------------------
# unique / nonzero / masked_select
# ---------------------------------------------------------------------------------------
def unique(x: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim: Optional[int] = None) -> Any:
    """The distinct elements (or, with ``dim``, the distinct slices along ``dim``) in
    ascending order; optionally where each input element went, and how often each occurs.
    Each NaN is distinct (NaN != NaN), as in PyTorch. Not differentiable."""
    check_tensor("unique", "input", x)
    for what, v in (("sorted", sorted), ("return_inverse", return_inverse),
                    ("return_counts", return_counts)):
        _check_bool("unique", what, v)
    a = x._data
    if dim is None:
        keys = a.reshape(-1, 1)
        d = 0
    else:
        d = normalize_dim("unique", dim, a.ndim)
        if a.ndim == 0:
            raise IndexError("unique: dim given for a 0-d tensor")
        if any(n == 0 for i, n in enumerate(a.shape) if i != d):
            raise RuntimeError(f"unique: input of shape {tuple(x.shape)} has a dim of size 0 "
                               f"other than dim {d}; unique cannot be applied")
        keys = np.moveaxis(a, d, 0).reshape(a.shape[d], a.size // a.shape[d] if a.size else 0)
    n = keys.shape[0]
    # Rows in lexicographic order (stable: a group's first row is its first occurrence),
    # then a new group wherever a row differs from the one before it.
    order = np.lexsort(keys.T[::-1]) if keys.shape[1] else np.arange(n)
    ordered = keys[order]
    new = np.ones(n, bool)
    if n > 1:
        new[1:] = np.any(ordered[1:] != ordered[:-1], axis=1)
    starts = np.flatnonzero(new)
    if dim is None:
        values = ordered[starts, 0]
    else:
        rows = np.moveaxis(a, d, 0)[order[starts]]
        values = np.moveaxis(rows, 0, d)
    out = [_const(np.ascontiguousarray(values))]
    if return_inverse:
        group = np.cumsum(new) - 1
        inverse = np.empty(n, np.int64)
        inverse[order] = group
        out.append(_const(inverse.reshape(a.shape) if dim is None else inverse))
    if return_counts:
        out.append(_const(np.diff(np.append(starts, n)).astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def nonzero(x: Tensor, *, as_tuple: bool = False) -> Any:
    """Indices of the non-zero elements: an (n, ndim) int64 tensor, or with ``as_tuple`` one
    1-D tensor per dim (a 0-d input counts as 1-D there, as in PyTorch)."""
    check_tensor("nonzero", "input", x)
    as_tuple = _check_bool("nonzero", "as_tuple", as_tuple)
    a = x._data
    if as_tuple:
        if a.ndim == 0:
            return (_const(np.zeros(1 if a else 0, np.int64)),)
        return tuple(_const(i.astype(np.int64, copy=False)) for i in np.nonzero(a))
    if a.ndim == 0:
        return _const(np.zeros((1 if a else 0, 0), np.int64))
    return _const(np.argwhere(a).astype(np.int64, copy=False))


def masked_select(x: Tensor, mask: Any) -> Tensor:
    """The elements of ``x`` where ``mask`` (broadcast with it) is true, as a 1-D tensor."""
    check_tensor("masked_select", "input", x)
    if not isinstance(mask, Tensor):
        raise TypeError(f"masked_select: mask must be a bool Tensor, got "
                        f"{type(mask).__name__}")
    if mask._data.dtype != np.bool_:
        raise TypeError(f"masked_select: mask must be a bool tensor, got dtype {mask.dtype}")
    shape = broadcast_shape("masked_select", x._data.shape, mask._data.shape)
    if x._data.shape != shape:
        x = x.expand(shape)
    flat = np.flatnonzero(np.broadcast_to(mask._data, shape))
    return x.reshape(-1)[_const(flat)]
