"""Comparisons (not differentiable; bool results) and ``where`` (differentiable in a, b)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import broadcast_shape, check_tensor
from ..autograd import Function
from ..tensor import Tensor, _make
from .broadcast import as_operand, promote, scalar_dtype, unbroadcast


def _bool(a: Any) -> Tensor:
    # A ufunc of 0-d arrays returns a numpy scalar; a Tensor holds an array (fill_, masks).
    return _make(a if type(a) is np.ndarray else np.asarray(a), False, None, 0, None)


def _operands(a: Any, b: Any, name: str) -> tuple:
    if not isinstance(a, Tensor):
        if not isinstance(b, Tensor):
            raise TypeError(f"{name}: expected at least one Tensor operand")
        a = as_operand(a, b, name)
    if not isinstance(b, Tensor):
        b = as_operand(b, a, name)
    if a._data.shape != b._data.shape:
        broadcast_shape(name, a._data.shape, b._data.shape)
    return a, b


def _compare(ufunc: Any, a: Any, b: Any, name: str) -> Tensor:
    a, b = _operands(a, b, name)
    ad, bd = a._data, b._data
    if ad.dtype is not bd.dtype:
        # Compared in the promoted dtype, as PyTorch: float32 0.1 == float64 0.1 there.
        dt = promote(a, b)
        ad, bd = ad.astype(dt, copy=False), bd.astype(dt, copy=False)
    return _bool(ufunc(ad, bd))


def eq(a: Any, b: Any) -> Tensor:
    return _compare(np.equal, a, b, "eq")


def ne(a: Any, b: Any) -> Tensor:
    return _compare(np.not_equal, a, b, "ne")


def lt(a: Any, b: Any) -> Tensor:
    return _compare(np.less, a, b, "lt")


def le(a: Any, b: Any) -> Tensor:
    return _compare(np.less_equal, a, b, "le")


def gt(a: Any, b: Any) -> Tensor:
    return _compare(np.greater, a, b, "gt")


def ge(a: Any, b: Any) -> Tensor:
    return _compare(np.greater_equal, a, b, "ge")


def logical_not(a: Tensor) -> Tensor:
    """True where ``a`` is zero (any dtype), as torch.logical_not."""
    return _bool(np.logical_not(a._data))


def logical_and(a: Tensor, b: Any) -> Tensor:
    return _compare(np.logical_and, a, b, "logical_and")


def logical_or(a: Tensor, b: Any) -> Tensor:
    return _compare(np.logical_or, a, b, "logical_or")


def logical_xor(a: Tensor, b: Any) -> Tensor:
    return _compare(np.logical_xor, a, b, "logical_xor")


def isnan(a: Tensor) -> Tensor:
    return _bool(np.isnan(a._data))


def isfinite(a: Tensor) -> Tensor:
    return _bool(np.isfinite(a._data))


# The operators ~ & | ^ : bitwise on integers, logical on bools (the same thing for bools),
# refused for floats, as in PyTorch. ``mask & (x > 0)`` stays a bool mask.
def _integral(name: str, t: Tensor) -> None:
    if t._data.dtype.kind not in "biu":
        raise TypeError(f"{name}: only integer and bool tensors are supported, got dtype "
                        f"{t.dtype}")


def _bitwise(ufunc: Any, a: Any, b: Any, name: str) -> Tensor:
    for v in (a, b):
        if isinstance(v, (float, np.floating)):
            raise TypeError(f"{name}: only integer and bool operands are supported, got "
                            f"float {v!r}")
    a, b = _operands(a, b, name)
    _integral(name, a)
    _integral(name, b)
    ad, bd = a._data, b._data
    if ad.dtype is not bd.dtype:
        dt = promote(a, b)
        ad, bd = ad.astype(dt, copy=False), bd.astype(dt, copy=False)
    return _bool(ufunc(ad, bd))


def bitwise_not(a: Tensor) -> Tensor:
    """``~a``: bitwise not of an integer tensor (~5 = -6), logical not of a bool tensor."""
    _integral("bitwise_not", a)
    return _bool(np.invert(a._data))


def bitwise_and(a: Any, b: Any) -> Tensor:
    """``a & b``: bitwise on integers (6 & 3 = 2), logical on bools; dtypes promote."""
    return _bitwise(np.bitwise_and, a, b, "bitwise_and")


def bitwise_or(a: Any, b: Any) -> Tensor:
    return _bitwise(np.bitwise_or, a, b, "bitwise_or")


def bitwise_xor(a: Any, b: Any) -> Tensor:
    return _bitwise(np.bitwise_xor, a, b, "bitwise_xor")


_NUMBER = (bool, int, float, np.bool_, np.integer, np.floating)


class Where(Function):
    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.cond = cond
        ctx.shapes = (a._data.shape, b._data.shape)
        return np.where(cond._data, a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        _, need_a, need_b = ctx.needs_input_grad
        zero = _make(np.zeros((), g.dtype), False, None, 0, None)
        ga = unbroadcast(where(ctx.cond, g, zero), ctx.shapes[0]) if need_a else None
        gb = unbroadcast(where(ctx.cond, zero, g), ctx.shapes[1]) if need_b else None
        return None, ga, gb


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """``a`` where ``cond`` is true, else ``b`` (broadcasting all three)."""
    if not isinstance(cond, Tensor):
        cond = _make(np.asarray(cond), False, None, 0, None)
    if cond._data.dtype != np.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got dtype {cond.dtype}")
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        # Two numbers: the dtype of a number on its own (where(c, 1.0, 0.0) is float32).
        a = _make(np.asarray(a, scalar_dtype(a) if isinstance(a, _NUMBER) else None),
                  False, None, 0, None)
    if not isinstance(a, Tensor):
        a = as_operand(a, b, "where")
    if not isinstance(b, Tensor):
        b = as_operand(b, a, "where")
    broadcast_shape("where", cond._data.shape, a._data.shape, b._data.shape)
    dt = promote(a, b)
    from .elementwise import cast
    return Where.apply(cond, cast(a, dt), cast(b, dt))


# ---------------------------------------------------------------------------------------
# isinf / isposinf / isneginf, isclose / allclose, equal
# ---------------------------------------------------------------------------------------
def isinf(input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's keyword name
    """True where ``input`` is +inf or -inf (never for integer or bool tensors)."""
    check_tensor("isinf", "input", input)
    a = input._data
    if a.dtype.kind != "f":
        return _bool(np.zeros(a.shape, np.bool_))
    return _bool(np.isinf(a))


def isposinf(input: Tensor) -> Tensor:  # noqa: A002
    check_tensor("isposinf", "input", input)
    a = input._data
    if a.dtype.kind != "f":
        return _bool(np.zeros(a.shape, np.bool_))
    return _bool(np.isposinf(a))


def isneginf(input: Tensor) -> Tensor:  # noqa: A002
    check_tensor("isneginf", "input", input)
    a = input._data
    if a.dtype.kind != "f":
        return _bool(np.zeros(a.shape, np.bool_))
    return _bool(np.isneginf(a))


def _tolerance(name: str, what: str, v: Any) -> float:
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: {what} must be a number, got {type(v).__name__} {v!r:.40}")
    if not v >= 0:  # also refuses nan
        raise ValueError(f"{name}: {what} must be greater than or equal to zero, got {v}")
    return float(v)


def _isclose(name: str, input: Any, other: Any, rtol: Any, atol: Any, equal_nan: bool) -> np.ndarray:
    check_tensor(name, "input", input)
    check_tensor(name, "other", other)
    a, b = input._data, other._data
    if a.dtype is not b.dtype:
        # As PyTorch, no promotion: float32 0.1 and float64 0.1 are not "close" by accident
        raise TypeError(f"{name}: input and other must have the same dtype, got {a.dtype} and "
                        f"{b.dtype}")
    rtol = _tolerance(name, "rtol", rtol)
    atol = _tolerance(name, "atol", atol)
    if not isinstance(equal_nan, (bool, np.bool_)):
        # A truthy None/int/str would silently choose how NaNs compare; PyTorch refuses.
        raise TypeError(f"{name}: equal_nan must be a bool, got {type(equal_nan).__name__} "
                        f"{equal_nan!r:.40}")
    if a.shape != b.shape:
        broadcast_shape(name, a.shape, b.shape)
    close = np.equal(a, b)
    kind = a.dtype.kind
    if equal_nan and kind == "f":
        close |= np.isnan(a) & np.isnan(b)
    if rtol == 0 and atol == 0:
        return close
    # PyTorch's arithmetic: floats in their own precision; integers and bools in the
    # default float dtype (float32), so int64 values 2**24 + 1 and 2**24 are close even
    # with atol=0.5 there, and -2**63 vs 2**63 - 1 does not wrap around.
    if kind != "f":
        from ..tensor import _DEFAULT_FLOAT
        a, b = a.astype(_DEFAULT_FLOAT), b.astype(_DEFAULT_FLOAT)
    with np.errstate(invalid="ignore", over="ignore"):
        allowed = atol + np.abs(rtol * b)
        actual = np.abs(a - b)
        close |= np.isfinite(actual) & (actual <= allowed)
    return close


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,  # noqa: A002
            equal_nan: bool = False) -> Tensor:
    """True where |input - other| <= atol + rtol * |other| (or equal, infinities included);
    NaNs are equal only with ``equal_nan``. Both tensors must have the same dtype."""
    return _bool(_isclose("isclose", input, other, rtol, atol, equal_nan))


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,  # noqa: A002
             equal_nan: bool = False) -> bool:
    """Whether ``isclose`` holds everywhere, as a Python bool."""
    return bool(_isclose("allclose", input, other, rtol, atol, equal_nan).all())


def equal(input: Tensor, other: Tensor) -> bool:  # noqa: A002
    """True if both tensors have the same shape and the same values (compared in the
    promoted dtype, so an int64 1 equals a float64 1.0); NaN equals nothing."""
    check_tensor("equal", "input", input)
    check_tensor("equal", "other", other)
    a, b = input._data, other._data
    if a.shape != b.shape:
        return False
    if a.dtype is not b.dtype:
        dt = promote(input, other)
        a, b = a.astype(dt, copy=False), b.astype(dt, copy=False)
    return bool(np.array_equal(a, b))
