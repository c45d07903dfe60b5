"""Elementwise ops: arithmetic with broadcasting, and the unary math functions.

Every op reads the same way: forward on arrays, save what backward needs, backward in
terms of differentiable Tensor ops (so gradients of gradients come for free).
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from .._checks import broadcast_shape
from ..autograd import Function
from ..tensor import Tensor, _make, _DEFAULT_FLOAT
from .broadcast import as_operand, result_dtype, unbroadcast


def _const(a: np.ndarray) -> Tensor:
    return _make(a, False, None, 0, None)


# ---------------------------------------------------------------------------------------
# Binary
# ---------------------------------------------------------------------------------------
class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.data.shape, b.data.shape)
        return a.data + b.data

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(g, sa) if need_a else None, unbroadcast(g, sb) if need_b else None)


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.data.shape, b.data.shape)
        return a.data - b.data

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(g, sa) if need_a else None, unbroadcast(-g, sb) if need_b else None)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.data.shape, b.data.shape)
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        return a.data * b.data

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        ga = unbroadcast(g * b, ctx.shapes[0]) if need_a else None
        gb = unbroadcast(g * a, ctx.shapes[1]) if need_b else None
        return ga, gb


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.data.shape, b.data.shape)
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        return a.data / b.data

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        ga = unbroadcast(g / b, ctx.shapes[0]) if need_a else None
        gb = unbroadcast(-g * a / (b * b), ctx.shapes[1]) if need_b else None
        return ga, gb


class Pow(Function):
    @staticmethod
    def forward(ctx, a, b):
        if a.data.dtype.kind in "iu" and b.data.dtype.kind in "iu" and (b.data < 0).any():
            raise ValueError("pow: integers to negative integer powers are not allowed")
        ctx.shapes = (a.data.shape, b.data.shape)
        out = a.data ** b.data
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        ga = gb = None
        if need_a:
            # d(a^b)/da = b * a^(b-1); written without `out / a` so a == 0 stays finite.
            ga = unbroadcast(g * b * a ** (b - 1), ctx.shapes[0])
        if need_b:
            # d(a^b)/db = a^b * log(a); PyTorch's convention: 0 where a == 0 (and b >= 0).
            safe = where(a.detach() == 0, ones_like_const(a), a)
            gb = unbroadcast(g * out * log(safe), ctx.shapes[1])
        return ga, gb


class Maximum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        ctx.shapes = (a.data.shape, b.data.shape)
        return np.maximum(a.data, b.data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _minmax_grads(ctx, g, a.data > b.data, a.data == b.data)


class Minimum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        ctx.shapes = (a.data.shape, b.data.shape)
        return np.minimum(a.data, b.data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _minmax_grads(ctx, g, a.data < b.data, a.data == b.data)


def _minmax_grads(ctx, g, a_wins, tie):
    # Ties split the gradient equally between the two inputs, as PyTorch does.
    dt = g.dtype
    wa = a_wins.astype(dt) + 0.5 * tie.astype(dt)
    wb = (1 - wa).astype(dt)
    need_a, need_b = ctx.needs_input_grad
    ga = unbroadcast(g * _const(wa), ctx.shapes[0]) if need_a else None
    gb = unbroadcast(g * _const(wb), ctx.shapes[1]) if need_b else None
    return ga, gb


def _binary(fn: type, a: Any, b: Any, name: str) -> Tensor:
    if not isinstance(a, Tensor):
        if not isinstance(b, Tensor):
            raise TypeError(f"{name}: expected at least one Tensor operand")
        a = as_operand(a, b, name)
    elif not isinstance(b, Tensor):
        b = as_operand(b, a, name)
    sa, sb = a.data.shape, b.data.shape
    if sa != sb:
        broadcast_shape(name, sa, sb)
    da, db = a.data.dtype, b.data.dtype
    if da is not db:
        dt = result_dtype(da, db)
        if da is not dt:
            a = cast(a, dt)
        if db is not dt:
            b = cast(b, dt)
    if fn is Div and a.data.dtype.kind in "iub":
        a, b = cast(a, _DEFAULT_FLOAT), cast(b, _DEFAULT_FLOAT)
    elif fn is Sub and a.data.dtype.kind == "b":
        # numpy refuses too, but with its own wording; as PyTorch, name the alternative
        raise TypeError("sub: subtraction of two bool tensors is not supported; use a != b "
                        "(logical xor) instead")
    return fn.apply(a, b)


def add(a: Any, b: Any) -> Tensor:
    return _binary(Add, a, b, "add")


def sub(a: Any, b: Any) -> Tensor:
    return _binary(Sub, a, b, "sub")


def mul(a: Any, b: Any) -> Tensor:
    return _binary(Mul, a, b, "mul")


def div(a: Any, b: Any) -> Tensor:
    return _binary(Div, a, b, "div")


def pow(a: Any, b: Any) -> Tensor:  # noqa: A001 - the Tensor method is called pow too
    return _binary(Pow, a, b, "pow")


def maximum(a: Any, b: Any) -> Tensor:
    return _binary(Maximum, a, b, "maximum")


def minimum(a: Any, b: Any) -> Tensor:
    return _binary(Minimum, a, b, "minimum")


# ---------------------------------------------------------------------------------------
# Unary
# ---------------------------------------------------------------------------------------
_TWO_OVER_SQRT_PI = 2.0 / np.sqrt(np.pi)


def _float_input(x: Tensor, name: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(x).__name__}")
    if x.data.dtype.kind != "f":
        return cast(x, _DEFAULT_FLOAT)
    return x


class Neg(Function):
    @staticmethod
    def forward(ctx, x):
        return -x.data

    @staticmethod
    def backward(ctx, g):
        return -g


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        y = np.exp(x.data)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


class Log(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x.data)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / x


class Sqrt(Function):
    @staticmethod
    def forward(ctx, x):
        with np.errstate(invalid="ignore"):
            y = np.sqrt(x.data)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g / (2 * y)


class Abs(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x.data)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * _const(np.sign(x.data))


class Tanh(Function):
    @staticmethod
    def forward(ctx, x):
        y = np.tanh(x.data)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (1 - y * y)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        xd = x.data
        # Stable for large |x|: exp of a non-positive number only.
        e = np.exp(-np.abs(xd))
        y = np.where(xd >= 0, 1 / (1 + e), e / (1 + e)).astype(xd.dtype, copy=False)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y * (1 - y)


class Erf(Function):
    """The error function erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt (exact GELU needs it)."""

    @staticmethod
    def forward(ctx, x):
        # numpy has no erf; scipy (already a run-time dependency) does. Imported here so
        # that `import tensorlite` stays light.
        from scipy.special import erf as _erf
        ctx.save_for_backward(x)
        return _erf(x.data).astype(x.data.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        # d/dx erf(x) = 2/sqrt(pi) exp(-x^2), written with Tensor ops so it differentiates again.
        return g * ((-(x * x)).exp() * _TWO_OVER_SQRT_PI)


class Relu(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.maximum(x.data, 0)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if not g.requires_grad:
            # Plain backward, no graph to record through the mask: one kernel pass for
            # large contiguous arrays, numpy otherwise.
            gd, xd = g.data, x.data
            if (gd.size >= 4096 and gd.dtype == xd.dtype and gd.shape == xd.shape
                    and gd.flags.c_contiguous and xd.flags.c_contiguous):
                from ..kernels.activation import relu_backward
                return _const(relu_backward(gd, xd))
            return _const(gd * (xd > 0))
        return g * _const((x.data > 0).astype(g.dtype))


class Sin(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x.data)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * cos(x)


class Cos(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x.data)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return -g * sin(x)


class Clamp(Function):
    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.bounds = (lo, hi)
        return np.clip(x.data, lo, hi)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        inside = np.ones(x.data.shape, bool)
        if lo is not None:
            inside &= x.data >= lo
        if hi is not None:
            inside &= x.data <= hi
        return g * _const(inside.astype(g.dtype))


class Cast(Function):
    @staticmethod
    def forward(ctx, x, dtype):
        ctx.in_dtype = x.data.dtype
        return x.data.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        if ctx.in_dtype.kind != "f":
            return None
        return cast(g, ctx.in_dtype)


class Clone(Function):
    @staticmethod
    def forward(ctx, x):
        return x.data.copy()

    @staticmethod
    def backward(ctx, g):
        return g


def neg(x: Tensor) -> Tensor:
    if x.data.dtype.kind == "b":
        raise TypeError("neg: negation of a bool tensor is not supported; use ~ "
                        "(logical_not) instead")
    return Neg.apply(x)


def exp(x: Tensor) -> Tensor:
    return Exp.apply(_float_input(x, "exp"))


def log(x: Tensor) -> Tensor:
    return Log.apply(_float_input(x, "log"))


def sqrt(x: Tensor) -> Tensor:
    return Sqrt.apply(_float_input(x, "sqrt"))


def abs(x: Tensor) -> Tensor:  # noqa: A001
    return Abs.apply(x)


def tanh(x: Tensor) -> Tensor:
    return Tanh.apply(_float_input(x, "tanh"))


def sigmoid(x: Tensor) -> Tensor:
    return Sigmoid.apply(_float_input(x, "sigmoid"))


def relu(x: Tensor) -> Tensor:
    return Relu.apply(x)


def erf(x: Tensor) -> Tensor:
    return Erf.apply(_float_input(x, "erf"))


def sin(x: Tensor) -> Tensor:
    return Sin.apply(_float_input(x, "sin"))


def cos(x: Tensor) -> Tensor:
    return Cos.apply(_float_input(x, "cos"))


def clamp(x: Tensor, min: Optional[float] = None, max: Optional[float] = None) -> Tensor:  # noqa: A002
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if min is not None and max is not None and min > max:
        raise ValueError(f"clamp: min ({min}) is greater than max ({max})")
    return Clamp.apply(x, min, max)


def cast(x: Tensor, dtype: Any) -> Tensor:
    from ..tensor import as_dtype
    dtype = as_dtype(dtype, "to")
    if x.data.dtype is dtype:
        return x
    return Cast.apply(x, dtype)


def clone(x: Tensor) -> Tensor:
    return Clone.apply(x)


def square(x: Tensor) -> Tensor:
    return mul(x, x)


def sign(x: Tensor) -> Tensor:
    return _const(np.sign(x.data))


def ones_like_const(x: Tensor) -> Tensor:
    return _const(np.ones_like(x.data))


from .compare import where  # noqa: E402  (compare imports this module's helpers)
