"""Reductions: sum, mean, max, min, var, std, logsumexp, argmax/argmin; gather/scatter_add.

``dim`` is an int, a tuple of ints or None (all dims); ``keepdim`` keeps reduced dims
with size 1, as in PyTorch.
"""
from __future__ import annotations

import builtins
import functools
from collections import namedtuple
from typing import Any, Optional

import numpy as np

from .._checks import check_tensor, normalize_dim, normalize_dims
from ..autograd import Function
from ..tensor import Tensor, _make, _DEFAULT_FLOAT

ReturnValues = namedtuple("ReturnValues", ["values", "indices"])


def _numpy_names(fn: Any) -> Any:
    """Accept numpy's ``axis=`` / ``keepdims=`` for ``dim`` / ``keepdim``, as PyTorch's
    reductions do (``x.sum(axis=0)``); the plain call pays one dict test."""
    @functools.wraps(fn)
    def reduction(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            for alias, name in (("axis", "dim"), ("keepdims", "keepdim")):
                if alias in kwargs:
                    if name in kwargs:
                        raise TypeError(f"{fn.__name__}: got both {name}= and its alias "
                                        f"{alias}=")
                    kwargs[name] = kwargs.pop(alias)
        return fn(*args, **kwargs)
    return reduction


def _keep_shape(shape: tuple, dims: tuple) -> tuple:
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


def _dims(name: str, dim: Any, ndim: int) -> tuple:
    """``dim`` as a sorted tuple of dims; None, and as in PyTorch 2.x an empty tuple or
    list, mean every dim (sum, mean, amax, amin, var, std, logsumexp; not any/all)."""
    if type(dim) in (tuple, list) and not dim:
        dim = None
    return normalize_dims(name, dim, ndim)


def _array(a: Any) -> np.ndarray:
    # numpy reductions over every dim return a scalar, not an array; a Tensor holds arrays.
    return a if type(a) is np.ndarray else np.asarray(a)


class Sum(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.in_shape = x._data.shape
        ctx.dims = dims
        return np.sum(x._data, axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        # Every input element contributed once: the gradient is g copied back over dims.
        shape = _keep_shape(ctx.in_shape, ctx.dims)
        if g._data.shape != shape:
            g = g.reshape(shape)
        return g.expand(ctx.in_shape)


def _cast_to(name: str, x: Tensor, dtype: Any) -> Tensor:
    """``x`` in the reduction's ``dtype=`` (PyTorch's: the input is cast before reducing)."""
    from ..tensor import as_dtype
    from .elementwise import cast
    return cast(x, as_dtype(dtype, name))


@_numpy_names
def sum(x: Tensor, dim: Any = None, keepdim: bool = False, *,  # noqa: A001
        dtype: Any = None) -> Tensor:
    dims = _dims("sum", dim, x._data.ndim)
    if dtype is not None:
        x = _cast_to("sum", x, dtype)
    if x._data.dtype.kind == "b":
        from .elementwise import cast
        x = cast(x, np.int64)
    return Sum.apply(x, dims, keepdim)


@_numpy_names
def mean(x: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    if dtype is not None:
        x = _cast_to("mean", x, dtype)
    if x._data.dtype.kind != "f":
        raise TypeError(f"mean: input must be a floating-point tensor, got dtype {x.dtype} "
                        "(use .float() first, or pass dtype=)")
    dims = _dims("mean", dim, x._data.ndim)
    n = int(np.prod([x._data.shape[d] for d in dims])) if dims else 1
    return Sum.apply(x, dims, keepdim) / n if n else Sum.apply(x, dims, keepdim) * np.nan


class _Extreme(Function):
    """amax/amin over ``dims``: ties share the gradient equally (as PyTorch's amax).

    ``to_nan``: max()/min() over everything, whose gradient goes to the NaN elements when
    the result is NaN (PyTorch's evenly_distribute_backward). amax leaves a NaN slice with
    no winner (x == NaN is false), which gives a NaN gradient there, as in PyTorch."""

    @staticmethod
    def forward(ctx, x, dims, keepdim, is_max, to_nan=False):
        fn = np.max if is_max else np.min
        out = fn(x._data, axis=dims, keepdims=True)
        if to_nan:
            # One value; when it is NaN the mask of NaNs is not empty.
            mask = np.isnan(x._data) if out.flat[0] != out.flat[0] else x._data == out
            weights = mask / mask.sum(axis=dims, keepdims=True)
        else:
            mask = x._data == out
            count = mask.sum(axis=dims, keepdims=True)
            if count.all():
                weights = mask / count
            else:
                with np.errstate(divide="ignore", invalid="ignore"):  # 0 / 0: a NaN slice
                    weights = mask / count
        ctx.weights = _array(weights).astype(x._data.dtype, copy=False)
        ctx.in_shape = x._data.shape
        ctx.dims = dims
        return out if keepdim else out.reshape([n for i, n in enumerate(out.shape)
                                                if i not in dims])

    @staticmethod
    def backward(ctx, g):
        shape = _keep_shape(ctx.in_shape, ctx.dims)
        if g._data.shape != shape:
            g = g.reshape(shape)
        return g * _make(ctx.weights, False, None, 0, None)


def _extreme(x: Tensor, dim: Any, keepdim: bool, is_max: bool) -> Any:
    name = "max" if is_max else "min"
    if dim is None:
        if x._data.size == 0:
            raise RuntimeError(f"{name}: cannot reduce an empty tensor of shape "
                               f"{tuple(x.shape)}; give a dim that is not of size 0")
        return _Extreme.apply(x, tuple(range(x._data.ndim)), False, is_max, True)
    d = normalize_dim(name, dim, x._data.ndim)
    _nonempty_dims(name, x, (d,))
    if x._data.ndim == 0:
        # A new tensor, as PyTorch's: returning x itself would let values.add_() change x.
        from .elementwise import clone
        return ReturnValues(clone(x), _make(np.zeros((), np.int64), False, None, 0, None))
    idx = (np.argmax if is_max else np.argmin)(x._data, axis=d)
    idx = np.expand_dims(idx, d)
    values = gather(x, d, _make(idx, False, None, 0, None))
    if not keepdim:
        values = values.squeeze(d)
        idx = idx.squeeze(d)
    return ReturnValues(values, _make(idx.astype(np.int64), False, None, 0, None))


@_numpy_names
def max(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """Without ``dim``: the maximum (a 0-d tensor). With ``dim``: (values, indices).
    With a tensor in place of ``dim``: the elementwise maximum, as torch.max(a, b)."""
    if isinstance(dim, Tensor):
        from .elementwise import maximum
        return maximum(x, dim)
    return _extreme(x, dim, keepdim, True)


@_numpy_names
def min(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    if isinstance(dim, Tensor):
        from .elementwise import minimum
        return minimum(x, dim)
    return _extreme(x, dim, keepdim, False)


def _nonempty_dims(name: str, x: Tensor, dims: tuple) -> tuple:
    # A max over no elements has no value (numpy's error would not name the op); an empty
    # tensor reduced over dims of non-zero size is fine: an empty result.
    if x._data.size == 0:
        for d in dims:
            if x._data.shape[d] == 0:
                raise RuntimeError(f"{name}: cannot reduce over dim {d} of size 0 (input of "
                                   f"shape {tuple(x.shape)})")
    return dims


@_numpy_names
def amax(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    dims = _nonempty_dims("amax", x, _dims("amax", dim, x._data.ndim))
    return _Extreme.apply(x, dims, keepdim, True)


@_numpy_names
def amin(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    dims = _nonempty_dims("amin", x, _dims("amin", dim, x._data.ndim))
    return _Extreme.apply(x, dims, keepdim, False)


@_numpy_names
def argmax(x: Tensor, dim: Optional[int] = None, keepdim: bool = False) -> Tensor:
    return _arg(np.argmax, "argmax", x, dim, keepdim)


@_numpy_names
def argmin(x: Tensor, dim: Optional[int] = None, keepdim: bool = False) -> Tensor:
    return _arg(np.argmin, "argmin", x, dim, keepdim)


def _arg(fn: Any, name: str, x: Tensor, dim: Optional[int], keepdim: bool) -> Tensor:
    if dim is None:
        if x._data.size == 0:
            raise RuntimeError(f"{name}: cannot reduce an empty tensor of shape "
                               f"{tuple(x.shape)}; give a dim that is not of size 0")
        out = np.asarray(fn(x._data))
        if keepdim:
            out = out.reshape((1,) * x._data.ndim)
    else:
        d = normalize_dim(name, dim, x._data.ndim)
        _nonempty_dims(name, x, (d,))
        out = fn(x._data, axis=d, keepdims=keepdim) if x._data.ndim else np.asarray(0)
    return _make(np.asarray(out, dtype=np.int64), False, None, 0, None)


@_numpy_names
def var(x: Tensor, dim: Any = None, correction: int = 1, keepdim: bool = False,
        unbiased: Optional[bool] = None) -> Tensor:
    """Variance with Bessel's ``correction`` (1 = unbiased, PyTorch's default)."""
    return _var("var", x, dim, correction, keepdim, unbiased)


def _var(name: str, x: Tensor, dim: Any, correction: int, keepdim: bool,
         unbiased: Optional[bool]) -> Tensor:
    if isinstance(dim, (bool, np.bool_)):
        # PyTorch's var(unbiased) form: x.var(False) is the biased variance over all dims
        dim, unbiased = None, bool(dim)
    if unbiased is not None:
        correction = 1 if unbiased else 0
    if x._data.dtype.kind != "f":
        raise TypeError(f"{name}: input must be a floating-point tensor, got dtype {x.dtype} "
                        "(use .float() first)")
    dims = _dims(name, dim, x._data.ndim)
    n = int(np.prod([x._data.shape[d] for d in dims])) if dims else 1
    if n - correction <= 0 and x._data.size:
        return _VarNoDof.apply(x, dims, keepdim, n - correction, dim is None or x.ndim == 0)
    centred = x - mean(x, dims, keepdim=True)
    return sum(centred * centred, dims, keepdim) / builtins.max(n - correction, 0)


class _VarNoDof(Function):
    """var with no degrees of freedom left (n - correction <= 0): the value is
    sum((x - mean)^2) / 0, inf (NaN for a constant slice). The composed formula's gradient
    would be inf * 0 = NaN everywhere; PyTorch's var_backward gives, over given dims,
    (2 / (n - correction)) * g * (x - mean) (-0. for one element with correction 2), and
    over all dims g * (NaN where x == mean, else inf)."""

    @staticmethod
    def forward(ctx, x, dims, keepdim, dof, every_dim):
        a = x._data
        centred = a - np.mean(a, axis=dims, keepdims=True)
        ctx.args = (centred, dims, keepdim, dof, every_dim)
        with np.errstate(divide="ignore", invalid="ignore"):
            return _array(np.sum(centred * centred, axis=dims, keepdims=keepdim)
                          / a.dtype.type(0))

    @staticmethod
    def backward(ctx, g):
        centred, dims, keepdim, dof, every_dim = ctx.args
        if not keepdim:
            g = g.reshape(_keep_shape(centred.shape, dims))
        if every_dim:
            spike = np.where(centred == 0, np.nan, np.inf).astype(centred.dtype)
            return g * _make(spike, False, None, 0, None)
        factor = 2.0 / dof if dof else float("inf")
        return (g * factor) * _make(centred, False, None, 0, None)


class _StdSqrt(Function):
    """std = sqrt(var) with the gradient 0 where std is 0 (a constant slice), as PyTorch's
    std_backward, rather than sqrt's 1 / (2 * 0) = inf times var's gradient 0 = NaN."""

    @staticmethod
    def forward(ctx, v):
        with np.errstate(invalid="ignore"):
            y = np.sqrt(v._data)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        zero = y._data == 0
        if not zero.any():
            return g / (2 * y)
        from .compare import where
        zero = _make(_array(zero), False, None, 0, None)
        # 1 in the masked branch keeps it, and its gradient, finite (double backward).
        return where(zero, 0, g / (2 * where(zero, 1, y)))


@_numpy_names
def std(x: Tensor, dim: Any = None, correction: int = 1, keepdim: bool = False,
        unbiased: Optional[bool] = None) -> Tensor:
    return _StdSqrt.apply(_var("std", x, dim, correction, keepdim, unbiased))


@_numpy_names
def logsumexp(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) computed stably: the max is subtracted first and added back."""
    if x._data.dtype.kind != "f":
        raise TypeError(f"logsumexp: input must be floating point, got dtype {x.dtype}")
    dims = _dims("logsumexp", dim, x._data.ndim)
    m = np.max(x._data, axis=dims, keepdims=True) if x._data.size else np.zeros(
        _keep_shape(x._data.shape, dims), x._data.dtype)
    m = np.where(np.isfinite(m), m, 0).astype(x._data.dtype)
    shift = _make(m, False, None, 0, None)
    out = sum((x - shift).exp(), dims, keepdim=True).log() + shift
    if not keepdim:
        out = out.reshape([n for i, n in enumerate(out.shape) if i not in dims])
    return out


@_numpy_names
def any(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    dims = normalize_dims("any", dim, x._data.ndim)
    return _make(_array(np.any(x._data, axis=dims, keepdims=keepdim)), False, None, 0, None)


@_numpy_names
def all(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    dims = normalize_dims("all", dim, x._data.ndim)
    return _make(_array(np.all(x._data, axis=dims, keepdims=keepdim)), False, None, 0, None)


# ---------------------------------------------------------------------------------------
# gather / scatter_add along a dim: each is the other's backward.
# ---------------------------------------------------------------------------------------
class Gather(Function):
    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.dim, ctx.index, ctx.in_shape = dim, index, x._data.shape
        return np.take_along_axis(x._data, index._data, axis=dim)

    @staticmethod
    def backward(ctx, g):
        return ScatterAdd.apply(g, ctx.dim, ctx.index, ctx.in_shape)


class ScatterAdd(Function):
    """zeros(shape) with ``src`` added at ``index`` along ``dim`` (repeats accumulate)."""

    @staticmethod
    def forward(ctx, src, dim, index, shape):
        ctx.dim, ctx.index = dim, index
        out = np.zeros(shape, src._data.dtype)
        idx = list(np.indices(index._data.shape, sparse=True))
        idx[dim] = index._data
        np.add.at(out, tuple(idx), src._data)
        return out

    @staticmethod
    def backward(ctx, g):
        return Gather.apply(g, ctx.dim, ctx.index)


def _check_gather(name: str, x: Tensor, dim: int, index: Any) -> tuple:
    d = normalize_dim(name, dim, x._data.ndim)
    if not isinstance(index, Tensor):
        index = _make(np.asarray(index), False, None, 0, None)
    if index._data.ndim != x._data.ndim:
        raise ValueError(f"{name}: index must have the same number of dims as input "
                         f"({x._data.ndim}), got shape {tuple(index.shape)}")
    from .._checks import check_indices
    check_indices(name, index._data, x._data.shape[d] if x._data.ndim else 1, "index")
    for i, (a, b) in enumerate(zip(index._data.shape, x._data.shape)):
        if i != d and a > b:
            raise ValueError(f"{name}: index shape {tuple(index.shape)} exceeds input shape "
                             f"{tuple(x.shape)} in dim {i}")
    return d, index


def gather(x: Tensor, dim: int, index: Any) -> Tensor:
    """out[i][j] = x[index[i][j]][j] for dim 0 (PyTorch's gather)."""
    d, index = _check_gather("gather", x, dim, index)
    if builtins.any(a != b for i, (a, b) in enumerate(zip(index._data.shape, x._data.shape))
                    if i != d):
        x = x[tuple(slice(0, n) if i != d else slice(None)
                    for i, n in enumerate(index._data.shape))]
    return Gather.apply(x, d, index)


# ---------------------------------------------------------------------------------------
# prod, norm, count_nonzero, aminmax
# ---------------------------------------------------------------------------------------
def _const(a: Any) -> Tensor:
    return _make(_array(a), False, None, 0, None)


def _check_input(name: str, x: Any) -> None:
    # Without this a list or array fails deep inside with "'list' object has no attribute
    # 'data'", which names neither the op nor the argument.
    check_tensor(name, "input", x)


def _check_keepdim(name: str, keepdim: Any) -> bool:
    # PyTorch takes only a bool; None or a string would otherwise fail inside numpy (or, as
    # a truthy value, silently keep the dims).
    if not isinstance(keepdim, (bool, np.bool_)):
        raise TypeError(f"{name}: keepdim must be a bool, got {type(keepdim).__name__} "
                        f"{keepdim!r:.40}")
    return bool(keepdim)


def _integral_to_int64(x: Tensor) -> Tensor:
    """PyTorch's rule for sum-like reductions and scans: bool and integer inputs give int64."""
    if x._data.dtype.kind in "biu" and x._data.dtype != np.int64:
        from .elementwise import cast
        return cast(x, np.int64)
    return x


class Prod(Function):
    """The product over ``dims`` (one dim, or every dim).

    Backward: result / x without zeros; with zeros, the product of the other elements as
    (exclusive cumprod from the left) * (exclusive cumprod from the right), which is right
    for one zero, several zeros, and differentiable again (PyTorch's prod_safe_zeros)."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        out = _array(np.prod(x._data, axis=dims, keepdims=keepdim))
        ctx.dims = dims
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        if x._data.ndim == 0:
            return g
        shape = _keep_shape(x._data.shape, ctx.dims)
        if g._data.shape != shape:
            g = g.reshape(shape)
            out = out.reshape(shape)
        if x._data.size == 0:
            return g.expand(x._data.shape)
        zeros = x._data == 0
        if not zeros.any():
            return g * (out / x)
        if len(ctx.dims) == 1:
            return _prod_safe_zeros_backward(g, x, ctx.dims[0])
        from ..autograd import is_grad_enabled
        if not is_grad_enabled() and np.count_nonzero(zeros) > 1:
            # Two zeros: every partial product has a zero factor.
            return _const(np.zeros(x._data.shape, g._data.dtype))
        flat = x.reshape(-1)
        return _prod_safe_zeros_backward(g.reshape(1), flat, 0).reshape(x._data.shape)


def _prod_safe_zeros_backward(g: Tensor, x: Tensor, dim: int) -> Tensor:
    """g * prod_{j != i} x_j along ``dim`` with no division (x may hold zeros)."""
    from .shape import cat, flip
    from .sort import cumprod
    n = x._data.shape[dim]
    if n == 1:
        return g
    ones_shape = list(x._data.shape)
    ones_shape[dim] = 1
    ones = _const(np.ones(ones_shape, x._data.dtype))
    lead = (slice(None),) * dim
    left = cumprod(cat([ones, x[lead + (slice(0, n - 1),)]], dim), dim)
    right = flip(cumprod(cat([ones, flip(x[lead + (slice(1, n),)], dim)], dim), dim), dim)
    return g * (left * right)


@_numpy_names
def prod(x: Tensor, dim: Optional[int] = None, keepdim: bool = False, *,
         dtype: Any = None) -> Tensor:
    """The product of all elements, or along one ``dim`` (PyTorch's prod takes one int)."""
    _check_input("prod", x)
    keepdim = _check_keepdim("prod", keepdim)
    if dtype is not None:
        x = _cast_to("prod", x, dtype)
    x = _integral_to_int64(x)
    if dim is None:
        if keepdim:
            raise TypeError("prod: keepdim=True needs a dim (prod over every element returns "
                            "a 0-d tensor)")
        return Prod.apply(x, tuple(range(x._data.ndim)), False)
    d = normalize_dim("prod", dim, x._data.ndim)
    return Prod.apply(x, (d,) if x._data.ndim else (), keepdim)


class Norm(Function):
    """The vector p-norm over ``dims``; backward as PyTorch's norm_backward, written with
    differentiable ops (so its second derivative is PyTorch's too)."""

    @staticmethod
    def forward(ctx, x, p, dims, keepdim):
        a = np.abs(x._data)
        if p == 2:
            if builtins.all(a.shape[d] == 1 for d in dims):
                # one element per slice: its |x|, exactly, as PyTorch (squaring would turn
                # 1e308 into inf and 1e-310 into 0)
                out = np.sum(a, axis=dims, keepdims=keepdim)
            else:
                out = np.sqrt(np.sum(a * a, axis=dims, keepdims=keepdim))
        elif p == 1:
            out = np.sum(a, axis=dims, keepdims=keepdim)
        elif p == np.inf:
            out = np.max(a, axis=dims, keepdims=keepdim)
        elif p == -np.inf:
            out = np.min(a, axis=dims, keepdims=keepdim)
        elif p == 0:
            out = np.sum(a != 0, axis=dims, keepdims=keepdim).astype(a.dtype)
        else:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                out = np.sum(a ** p, axis=dims, keepdims=keepdim) ** (1 / p)
        out = _array(out).astype(x._data.dtype, copy=False)
        ctx.p, ctx.dims = p, dims
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        from .compare import where
        from .elementwise import sign
        x, out = ctx.saved_tensors
        p, dims = ctx.p, ctx.dims
        shape = _keep_shape(x._data.shape, dims)
        if g._data.shape != shape:
            g = g.reshape(shape)
            out = out.reshape(shape)
        if p == 0:
            return None  # a count: no gradient (PyTorch's undefined gradient)
        if p == 1:
            return sign(x) * g
        at_zero = _const(out._data == 0)
        if p == 2:
            return g * where(at_zero, 0, x / out)
        if p in (np.inf, -np.inf):
            # The elements that attain the norm share the gradient (NaNs, if any, win).
            a = np.abs(x._data)
            mask = (a == out._data) | np.isnan(a)
            count = mask.sum(axis=dims, keepdims=True)
            with np.errstate(divide="ignore", invalid="ignore"):
                weights = _const((mask / count).astype(x._data.dtype))
            return sign(x) * (g * weights)
        ax = x.abs()
        if p < 1:
            scaled = sign(x) * where(_const(x._data == 0), 0, ax ** (p - 1))
            return scaled * g * out ** (1 - p)
        scaled = sign(x) * ax ** (p - 1) if p < 2 else x * ax ** (p - 2)
        return scaled * where(at_zero, 0, g / out ** (p - 1))


@_numpy_names
def norm(x: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False,
         dtype: Any = None) -> Tensor:
    """PyTorch's torch.norm: the vector p-norm of the elements over ``dim`` (every dim by
    default). ``p`` is a number (inf, -inf, 0 and negative included) or 'fro' (= 2 over
    at most two dims)."""
    _check_input("norm", x)
    keepdim = _check_keepdim("norm", keepdim)
    if isinstance(p, str):
        # The dims are checked (type, range) before p='fro' counts them: len() of a float
        # dim would fail with Python's message, naming neither norm nor dim.
        if dim is not None:
            _dims("norm", dim, x._data.ndim)
        ndims = 1 if dim is None or isinstance(dim, (int, np.integer)) else len(dim)
        if p == "fro" and (dim is None or ndims <= 2):
            p = 2.0
        elif p == "fro":
            raise ValueError(f"norm: p='fro' is a matrix norm over 2 dims, got dim {dim!r}")
        elif p == "nuc":
            raise NotImplementedError("norm: p='nuc' (the nuclear norm) is not supported")
        else:
            raise ValueError(f"norm: unknown p {p!r} (expected 'fro', 'nuc' or a number)")
    elif p is None:
        p = 2.0
    elif isinstance(p, (int, float, np.integer, np.floating)):
        p = float(p)
    else:
        raise TypeError(f"norm: p must be a number or 'fro', got {type(p).__name__} {p!r}")
    if x._data.dtype.kind != "f":
        raise TypeError(f"norm: input must be a floating-point tensor, got dtype {x.dtype} "
                        "(use .double() first)")
    if dtype is not None:
        from ..tensor import as_dtype
        dt = as_dtype(dtype, "norm")
        if dt.kind != "f":
            raise TypeError(f"norm: dtype must be floating point, got {dt}")
        if dt.itemsize < x._data.dtype.itemsize:
            raise TypeError(f"norm: the input dtype {x.dtype} cannot be narrowed to dtype {dt}")
        x = _cast_to("norm", x, dt)
    dims = _dims("norm", dim, x._data.ndim)
    if (p < 0 or p == np.inf) and builtins.any(x._data.shape[d] == 0 for d in dims):
        raise RuntimeError(f"norm: cannot compute the {p} norm over a dim of size 0 (input of "
                           f"shape {tuple(x.shape)}, dim {dim}): it has no identity")
    return Norm.apply(x, p, dims, keepdim)


@_numpy_names
def count_nonzero(x: Tensor, dim: Any = None) -> Tensor:
    """The number of non-zero elements (NaN counts) over ``dim``, as int64."""
    _check_input("count_nonzero", x)
    dims = _dims("count_nonzero", dim, x._data.ndim)
    return _const(np.sum(x._data != 0, axis=dims, dtype=np.int64))


MinMax = namedtuple("aminmax", ["min", "max"])


def aminmax(x: Tensor, *, dim: Optional[int] = None, keepdim: bool = False) -> Any:
    """(min, max) over every element or along ``dim``; ties share the gradient as amin/amax."""
    _check_input("aminmax", x)
    keepdim = _check_keepdim("aminmax", keepdim)
    if dim is None:
        if x._data.size == 0:
            raise RuntimeError(f"aminmax: cannot reduce an empty tensor of shape "
                               f"{tuple(x.shape)} (the operation has no identity)")
        dims = tuple(range(x._data.ndim))
    else:
        # Checked for a 0-d input too (PyTorch accepts only 0 and -1 there).
        d = normalize_dim("aminmax", dim, x._data.ndim)
        dims = (d,) if x._data.ndim else ()
        _nonempty_dims("aminmax", x, dims)
    return MinMax(_Extreme.apply(x, dims, keepdim, False), _Extreme.apply(x, dims, keepdim, True))
