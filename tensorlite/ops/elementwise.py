"""Elementwise ops: arithmetic with broadcasting, and the unary math functions.

Every op reads the same way: forward on arrays, save what backward needs, backward in
terms of differentiable Tensor ops (so gradients of gradients come for free).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .._checks import broadcast_shape, check_tensor
from ..autograd import Function
from ..autograd.function import record
from ..autograd.views import refresh_views
from ..autograd.grad_mode import state as _grad_mode
from ..tensor import Tensor, _make, _DEFAULT_FLOAT
from .broadcast import as_operand, promote, promote_all, unbroadcast
from .unary import define


def _const(a: np.ndarray) -> Tensor:
    # numpy gives a scalar, not an array, for a ufunc of 0-d arrays; a Tensor holds arrays.
    return _make(a if type(a) is np.ndarray else np.asarray(a), False, None, 0, None)


# ---------------------------------------------------------------------------------------
# Binary
# ---------------------------------------------------------------------------------------
# Add, Sub, Mul and Div return their gradients at the broadcast shape; the engine sums
# them down to each input's shape (autograd/conform.py's unbroadcast). `compute` is the
# forward on arrays, also used directly when nothing is recorded (_binary's fast path).
class Add(Function):
    compute = staticmethod(np.add)
    saves = staticmethod(lambda a, b: ())

    @staticmethod
    def forward(ctx, a, b):
        return a._data + b._data

    @staticmethod
    def backward(ctx, g):
        need_a, need_b = ctx.needs_input_grad
        return (g if need_a else None, g if need_b else None)


class Sub(Function):
    compute = staticmethod(np.subtract)
    saves = staticmethod(lambda a, b: ())

    @staticmethod
    def forward(ctx, a, b):
        return a._data - b._data

    @staticmethod
    def backward(ctx, g):
        need_a, need_b = ctx.needs_input_grad
        return (g if need_a else None, -g if need_b else None)


class Mul(Function):
    compute = staticmethod(np.multiply)
    # What forward saves, for _binary's fast path (which computes without forward).
    saves = staticmethod(lambda a, b: (a if b.requires_grad else None,
                                       b if a.requires_grad else None))

    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
        return a._data * b._data

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (g * b if need_a else None, g * a if need_b else None)


def _divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # x / 0 is inf or nan by definition, as in PyTorch: no numpy warning.
    with np.errstate(divide="ignore", invalid="ignore"):
        return a / b


class Div(Function):
    compute = staticmethod(_divide)
    saves = staticmethod(lambda a, b: (a if b.requires_grad else None, b))

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        return _divide(a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        # PyTorch's order, (a / b) / b: g * a or b * b would overflow first (a = 1e308,
        # b = 2.09 gave -inf, not -5.1e307)
        return (g / b if need_a else None, -g * ((a / b) / b) if need_b else None)


def _pow_number(x: np.ndarray, e: float) -> np.ndarray:
    """x ** e for a float array and a Python-number exponent, as PyTorch computes it: the
    exponents 0.5, -0.5, 2, 3, -1, -2 are sqrt, rsqrt, x*x, x*x*x, 1/x, 1/(x*x), which differ
    from C's pow at the edges ((-inf) ** 0.5 is NaN, not inf; (-inf) ** -0.5 NaN, not 0;
    (-0.) ** -0.5 is -inf). A tensor exponent takes C's pow everywhere, in PyTorch too."""
    with np.errstate(divide="ignore", invalid="ignore"):  # 0 ** -1 = inf, (-1) ** 0.5 = nan
        if e == 0.5:
            return np.sqrt(x)
        if e == -0.5:
            return np.reciprocal(np.sqrt(x))
        if e == 2:
            return x * x
        if e == 3:
            return x * x * x
        if e == -1:
            return np.reciprocal(x)
        if e == -2:
            return np.reciprocal(x * x)
        # the ufunc, not `**`: ndarray.__pow__ has its own sqrt/square shortcuts
        return np.power(x, x.dtype.type(e))


class Pow(Function):
    @staticmethod
    def forward(ctx, a, b, number=None):
        if a._data.dtype.kind in "iu" and b._data.dtype.kind in "iu" and (b._data < 0).any():
            raise ValueError("pow: integers to negative integer powers are not allowed")
        ctx.shapes = (a._data.shape, b._data.shape)
        ctx.number = number
        if number is not None:  # a float tensor to a Python-number power
            out = _pow_number(a._data, number)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):  # 0 ** -1 = inf
                out = np.power(a._data, b._data)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad[:2]
        ga = gb = None
        e = ctx.number
        if need_a and e is not None:
            # PyTorch's pow_backward for a number: e * a^(e-1) with a^(e-1) computed as the
            # forward computes it (so 0.5 at -inf is NaN, at -0. is -inf), 0 for e == 0.
            ga = _const(np.zeros(a.shape, out.dtype)) if e == 0 else g * (e * pow(a, e - 1))
            need_a = False
        if need_a:
            # d(a^b)/da = b * a^(b-1), written without `out / a` so a == 0 stays finite.
            # Where b == 0 it is 0 (PyTorch's convention; a^0 is constant). The formula
            # gives that by itself except at a == 0, where 0 * 0^-1 is NaN: there the
            # branch is masked and gets exponent 1, so that it and its own gradient stay
            # finite. (Masking every b == 0 would lose d/db of this gradient for gradgrad.)
            b_zero = (b._data == 0) & (a._data == 0)
            if b_zero.any():
                b_zero = _const(b_zero)
                ga = where(b_zero, 0, g * b * a ** where(b_zero, 1, b - 1))
            else:
                ga = g * b * a ** (b - 1)
            ga = unbroadcast(ga, ctx.shapes[0])
        if need_b:
            # d(a^b)/db = a^b * log(a); PyTorch's convention: 0 where a == 0 and b >= 0
            # (0^b is constant there); log(0) = -inf is kept out of that branch.
            at_zero = (a._data == 0) & (b._data >= 0)
            if at_zero.any():
                at_zero = _const(at_zero)
                gb = where(at_zero, 0, g * out * log(where(at_zero, 1, a)))
            else:
                gb = g * out * log(a)
            gb = unbroadcast(gb, ctx.shapes[1])
        return ga, gb


class Maximum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        ctx.shapes = (a._data.shape, b._data.shape)
        return np.maximum(a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _minmax_grads(ctx, g, a._data < b._data, a._data > b._data, a._data == b._data)


class Minimum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        ctx.shapes = (a._data.shape, b._data.shape)
        return np.minimum(a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _minmax_grads(ctx, g, a._data > b._data, a._data < b._data, a._data == b._data)


def _minmax_grads(ctx, g, a_loses, b_loses, tie):
    # As PyTorch: an input gets the gradient unless it lost, half of it at a tie. Where
    # either is NaN nobody lost, so both get all of it (the NaN came from either).
    dt = g.dtype
    half = np.where(tie, 0.5, 1.0)
    wa = (half * ~a_loses).astype(dt, copy=False)
    wb = (half * ~b_loses).astype(dt, copy=False)
    need_a, need_b = ctx.needs_input_grad
    ga = unbroadcast(g * _const(wa), ctx.shapes[0]) if need_a else None
    gb = unbroadcast(g * _const(wb), ctx.shapes[1]) if need_b else None
    return ga, gb


def _pair(a: Any, b: Any, name: str) -> tuple:
    """Both operands as Tensors of the promoted dtype, their shapes checked to broadcast."""
    if not isinstance(a, Tensor):
        if not isinstance(b, Tensor):
            raise TypeError(f"{name}: expected at least one Tensor operand")
        a = as_operand(a, b, name)
    elif not isinstance(b, Tensor):
        b = as_operand(b, a, name)
    sa, sb = a._data.shape, b._data.shape
    if sa != sb:
        broadcast_shape(name, sa, sb)
    da, db = a._data.dtype, b._data.dtype
    if da is not db:
        dt = promote(a, b)
        if da is not dt:
            a = cast(a, dt)
        if db is not dt:
            b = cast(b, dt)
    return a, b


def _binary(fn: type, name: str) -> Callable:
    """The functional form of a binary op: operands converted, promoted and checked to
    broadcast, then ``fn`` recorded (or, with ``fn.compute`` and nothing to record,
    computed directly on the arrays)."""

    def op(input: Any, other: Any) -> Tensor:  # noqa: A002 - PyTorch's names
        a, b = input, other
        if (isinstance(a, Tensor) and isinstance(b, Tensor) and fn.compute is not None
                and a._data.dtype is b._data.dtype and a._data.dtype.kind == "f"):
            # The common case, quickly: two float tensors of one dtype.
            if a._data.shape != b._data.shape:
                broadcast_shape(name, a._data.shape, b._data.shape)
            y = fn.compute(a._data, b._data)
            if type(y) is not np.ndarray:
                y = np.asarray(y)  # numpy gives a scalar for 0-d operands
            if _grad_mode.enabled:
                if a._view_version is not None or b._view_version is not None:
                    refresh_views((a, b))  # a view whose base changed in place: its history
                if a.requires_grad or b.requires_grad:
                    return record(fn, a, b, y, fn.saves(a, b))
            return _make(y, False, None, 0, None)
        a, b = _pair(a, b, name)
        if fn is Pow and a._data.dtype.kind == "b":
            # numpy computes bool ** bool in int8, a dtype tensors do not use; PyTorch refuses
            raise TypeError("pow: not implemented for two bool operands; convert one first, "
                            "e.g. .long()")
        if fn is Div and a._data.dtype.kind in "iub":
            a, b = cast(a, _DEFAULT_FLOAT), cast(b, _DEFAULT_FLOAT)
        elif fn is Sub and a._data.dtype.kind == "b":
            # numpy refuses too, but with its own wording; as PyTorch, name the alternative
            raise TypeError("sub: subtraction of two bool tensors is not supported; use a != b "
                            "(logical xor) instead")
        return fn.apply(a, b)

    op.__name__ = op.__qualname__ = name
    return op


def _scaled(b: Any, alpha: Any, name: str) -> Any:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: alpha must be a number, got {type(alpha).__name__} "
                        f"{alpha!r:.40}")
    if isinstance(b, Tensor):
        if b._data.dtype.kind != "f" and not float(alpha).is_integer():
            raise TypeError(f"{name}: a float alpha ({alpha}) needs a floating-point other, got "
                            f"dtype {b.dtype}")
        return mul(b, alpha)
    return b * alpha  # a Python or numpy number


_add, _sub = _binary(Add, "add"), _binary(Sub, "sub")
mul, _div, maximum, minimum = (_binary(Mul, "mul"), _binary(Div, "div"),
                               _binary(Maximum, "maximum"), _binary(Minimum, "minimum"))
_pow = _binary(Pow, "pow")


def pow(input: Any, exponent: Any) -> Tensor:  # noqa: A001,A002 - PyTorch's names
    if type(exponent) in (int, float) and isinstance(input, Tensor) \
            and input._data.dtype.kind == "f":
        a, t = _pair(input, exponent, "pow")
        return Pow.apply(a, t, float(exponent))
    return _pow(input, exponent)


def div(input: Any, other: Any, *, rounding_mode: Any = None) -> Tensor:  # noqa: A002
    """input / other; ``rounding_mode='trunc'`` rounds the quotient towards 0, ``'floor'``
    towards -inf (as ``//``); both keep integer inputs integer, as PyTorch."""
    if rounding_mode is None:
        return _div(input, other)
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode != "trunc":
        raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got "
                         f"{rounding_mode!r}")
    a, b = _pair(input, other, "div")
    q = floor_divide(a, b)      # the promoted dtype and the division-by-zero rules
    with np.errstate(divide="ignore", invalid="ignore"):
        if q.dtype.kind == "f":
            t = np.trunc(a._data / b._data)
        else:   # integers: floor, plus one where a negative quotient has a remainder
            r = np.fmod(a._data, b._data)
            t = np.where((r != 0) & ((a._data < 0) != (b._data < 0)), q._data + 1, q._data)
    return _make(t.astype(q.dtype), False, None, 0, None)


def add(input: Any, other: Any, alpha: Any = 1) -> Tensor:  # noqa: A002 - PyTorch's names
    """``input + alpha * other``, as torch.add."""
    if type(alpha) is not int or alpha != 1:
        other = _scaled(other, alpha, "add")
    return _add(input, other)


def sub(input: Any, other: Any, alpha: Any = 1) -> Tensor:  # noqa: A002
    """``input - alpha * other``, as torch.sub."""
    if type(alpha) is not int or alpha != 1:
        other = _scaled(other, alpha, "sub")
    return _sub(input, other)


# ---------------------------------------------------------------------------------------
# Unary math: one row each (ops/unary.py makes the Function, tl.<name>, Tensor.<name> and,
# with `inplace`, Tensor.<name>_). The gradient is PyTorch's formula (derivatives.yaml) in
# differentiable ops, so the values at the edges (inf, 0, +-1) and the gradients of
# gradients agree with it. `save` is what the formula reads: the input x or the output y.
# ---------------------------------------------------------------------------------------
_TWO_OVER_SQRT_PI = 2.0 / np.sqrt(np.pi)
_LN2 = 0.6931471805599453
_LN10 = 2.3025850929940456


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # Stable for large |x|: exp of a non-positive number only.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def _erf(x: np.ndarray) -> np.ndarray:
    # numpy has no erf; scipy (a run-time dependency) does, imported on first use so that
    # `import tensorlite` stays light.
    from scipy.special import erf
    return erf(x).astype(x.dtype, copy=False)


def _sign(a: np.ndarray) -> np.ndarray:
    # numpy's sign(NaN) is NaN and it refuses bools; PyTorch's sign is (x > 0) - (x < 0)
    # computed in x's dtype: 0 at NaN, and a bool stays itself.
    if a.dtype.kind == "b":
        return a.copy()
    s = np.asarray(np.sign(a))
    if s.dtype.kind == "f":
        np.copyto(s, 0, where=np.isnan(s))
    return s



def _frac(x: np.ndarray) -> np.ndarray:
    return x - np.trunc(x)  # the sign of x kept; frac(inf) = nan


#      name          forward        save      gradient                                   rule
neg = define("neg", np.negative, None, lambda g: -g, dtypes="same", inplace=True)
exp = define("exp", np.exp, "output", lambda g, y: g * y, inplace=True)
log = define("log", np.log, "input", lambda g, x: g / x, quiet=True, inplace=True)
sqrt = define("sqrt", np.sqrt, "output", lambda g, y: g / (2 * y), quiet=True, inplace=True)
abs = define("abs", np.abs, "input", lambda g, x: g * _const(_sign(x._data)),  # noqa: A001
             dtypes="same", inplace=True)
sign = define("sign", _sign, None, None, dtypes="same",
              doc="-1, 0 or 1 by the sign of x (0 at NaN, as PyTorch); the gradient is 0.")
tanh = define("tanh", np.tanh, "output", lambda g, y: g * (1 - y * y), inplace=True)
sigmoid = define("sigmoid", _sigmoid, "output", lambda g, y: g * y * (1 - y), inplace=True)
erf = define("erf", _erf, "input", lambda g, x: g * ((-(x * x)).exp() * _TWO_OVER_SQRT_PI),
             doc="The error function 2/sqrt(pi) * integral_0^x exp(-t^2) dt (exact GELU).")
sin = define("sin", np.sin, "input", lambda g, x: g * x.cos())
cos = define("cos", np.cos, "input", lambda g, x: -g * x.sin())
reciprocal = define("reciprocal", np.reciprocal, "output", lambda g, y: -g * (y * y),
                    quiet=True, inplace=True)
rsqrt = define("rsqrt", lambda x: np.reciprocal(np.sqrt(x)), "output",
               lambda g, y: (g * -0.5) * (y * y * y), quiet=True)
log1p = define("log1p", np.log1p, "input", lambda g, x: g / (x + 1), quiet=True)
expm1 = define("expm1", np.expm1, "output", lambda g, y: g * (y + 1), quiet=True)
log2 = define("log2", np.log2, "input", lambda g, x: g / (x * _LN2), quiet=True)
log10 = define("log10", np.log10, "input", lambda g, x: g / (x * _LN10), quiet=True)
tan = define("tan", np.tan, "output", lambda g, y: g * (y * y + 1), quiet=True)
asin = define("asin", np.arcsin, "input", lambda g, x: g * (-x * x + 1).rsqrt(),  # inf at |x|=1
              quiet=True)
acos = define("acos", np.arccos, "input", lambda g, x: g * -(-x * x + 1).rsqrt(), quiet=True)
atan = define("atan", np.arctan, "input", lambda g, x: g / (x * x + 1))
sinh = define("sinh", np.sinh, "input", lambda g, x: g * x.cosh(), quiet=True)
cosh = define("cosh", np.cosh, "input", lambda g, x: g * x.sinh(), quiet=True)
# Step functions: the gradient is 0 everywhere (PyTorch's zeros_like(grad)); integer
# tensors are whole already and come back as a copy.
floor = define("floor", np.floor, None, None, dtypes="round", inplace=True)
ceil = define("ceil", np.ceil, None, None, dtypes="round")
trunc = define("trunc", np.trunc, None, None, dtypes="round")
frac = define("frac", _frac, None, lambda g: g, dtypes="floats", quiet=True,
              doc="x - trunc(x), the sign of x kept; the gradient is 1, as PyTorch's.")

Neg, Exp, Log, Sqrt, Abs, Sign, Tanh, Sigmoid, Erf, Sin, Cos = (
    f.Function for f in (neg, exp, log, sqrt, abs, sign, tanh, sigmoid, erf, sin, cos))
Reciprocal, Rsqrt, Log1p, Expm1, Log2, Log10, Tan, Asin, Acos, Atan, Sinh, Cosh = (
    f.Function for f in (reciprocal, rsqrt, log1p, expm1, log2, log10, tan, asin, acos, atan,
                         sinh, cosh))
Floor, Ceil, Trunc, Frac = (f.Function for f in (floor, ceil, trunc, frac))
arcsin, arccos, arctan, fix = asin, acos, atan, trunc  # PyTorch's aliases


class Relu(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.maximum(x._data, 0)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        # The gradient passes where not x <= 0: at x = NaN too, as PyTorch's
        # threshold_backward (relu(NaN) is NaN, and the NaN came through).
        if not g.requires_grad:
            # Plain backward, no graph to record through the mask: one kernel pass for
            # large contiguous arrays, numpy otherwise.
            gd, xd = g._data, x._data
            if (gd.size >= 4096 and gd.dtype == xd.dtype and gd.shape == xd.shape
                    and gd.flags.c_contiguous and xd.flags.c_contiguous):
                from ..kernels.activation import relu_backward
                return _const(relu_backward(gd, xd))
            return _const(gd * _passes(xd))
        return g * _const(_passes(x._data).astype(g.dtype))


def _passes(x: np.ndarray) -> np.ndarray:
    """relu's gradient mask ~(x <= 0), made in place (True for x > 0 and for NaN)."""
    m = np.less_equal(x, 0)
    if type(m) is not np.ndarray:
        return np.asarray(not m)
    return np.logical_not(m, out=m)



def relu(input: Tensor) -> Tensor:  # noqa: A002
    if not isinstance(input, Tensor):
        raise TypeError(f"relu: expected a Tensor, got {type(input).__name__}")
    return Relu.apply(input)



class Clamp(Function):
    """min(max(x, lo), hi); a bound is None, a Python number, or a Tensor (broadcast)."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        lo_t, hi_t = isinstance(lo, Tensor), isinstance(hi, Tensor)
        ctx.save_for_backward(x, lo if lo_t else None, hi if hi_t else None)
        ctx.numbers = (None if lo_t else lo, None if hi_t else hi)
        ctx.shapes = (x._data.shape, lo._data.shape if lo_t else (), hi._data.shape if hi_t else ())
        # np.maximum/np.minimum as np.clip defines it (NaN propagates; lo > hi gives hi),
        # without np.clip's overhead of several microseconds on small arrays.
        out = x._data
        if lo is not None:
            out = np.maximum(out, lo._data if lo_t else lo)
        if hi is not None:
            out = np.minimum(out, hi._data if hi_t else hi)
        return out

    @staticmethod
    def backward(ctx, g):
        x, lo_t, hi_t = ctx.saved_tensors
        lo, hi = ctx.numbers
        lo = lo_t._data if lo_t is not None else lo
        hi = hi_t._data if hi_t is not None else hi
        xd = x._data
        need_x, need_lo, need_hi = ctx.needs_input_grad
        gx = glo = ghi = None
        # PyTorch's clamp_backward: x gets the gradient where lo <= x <= hi (not at NaN);
        # a bound gets it where it won, and where lo > hi the output is hi throughout.
        if need_x:
            inside = np.ones(xd.shape, bool) if lo is None else xd >= lo
            if hi is not None:
                inside = inside & (xd <= hi)
            gx = unbroadcast(_keep(g, inside), ctx.shapes[0])
        if need_lo:
            won = xd < lo if hi is None else (xd < lo) & (lo < hi)
            glo = unbroadcast(_keep(g, won), ctx.shapes[1])
        if need_hi:
            won = xd > hi if lo is None else (xd > hi) | (hi < lo)
            ghi = unbroadcast(_keep(g, won), ctx.shapes[2])
        return gx, glo, ghi


def _keep(g: Tensor, mask: np.ndarray) -> Tensor:
    """g where mask, else exactly 0 (also where g is inf or NaN), at the broadcast shape."""
    return Where.apply(_const(mask), g, _const(np.zeros((), g._data.dtype)))


class Cast(Function):
    @staticmethod
    def forward(ctx, x, dtype):
        ctx.in_dtype = x._data.dtype
        return x._data.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        if ctx.in_dtype.kind != "f":
            return None
        return cast(g, ctx.in_dtype)


class Clone(Function):
    @staticmethod
    def forward(ctx, x):
        return x._data.copy()

    @staticmethod
    def backward(ctx, g):
        return g


_NUMBER = (int, float, np.integer, np.floating)  # bools are ints
_F32_MAX = float(np.finfo(np.float32).max)


def clamp(x: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """x limited to [min, max]: each bound a number, a Tensor (broadcast, differentiable)
    or None. The result dtype is PyTorch's promotion of x and the bounds, so an integer
    tensor clamped to 0.5 becomes float32."""
    if not isinstance(x, Tensor):
        raise TypeError(f"clamp: expected a Tensor, got {type(x).__name__}")
    for name, v in (("min", min), ("max", max)):
        if v is not None and not isinstance(v, (Tensor,) + _NUMBER):
            raise TypeError(f"clamp: {name} must be a number, a Tensor or None, got "
                            f"{type(v).__name__} {v!r:.40}")
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    # min > max is allowed, as documented by PyTorch: every element becomes max.
    if x._data.dtype.kind == "f" and not isinstance(min, Tensor) and not isinstance(max, Tensor):
        dt = x._data.dtype  # the common case: numbers keep a float tensor's dtype
    else:
        dt = promote_all(x, min, max)
        shapes = [t._data.shape for t in (x, min, max) if isinstance(t, Tensor)]
        if len(shapes) > 1:
            broadcast_shape("clamp", *shapes)
    return Clamp.apply(x if x._data.dtype is dt else cast(x, dt), _bound(min, dt), _bound(max, dt))


def _bound(v: Any, dt: np.dtype) -> Any:
    """A clamp bound ready for np.clip on an array of dtype ``dt``."""
    if v is None:
        return None
    if isinstance(v, Tensor):
        return cast(v, dt)
    if type(v) in (float, int) and dt.kind == "f" and (dt.itemsize == 8
                                                       or -_F32_MAX <= v <= _F32_MAX):
        return v  # a Python number: numpy keeps the array's dtype
    # Otherwise as any operand: numpy scalars would widen float32, an integer dtype needs
    # its range checked (numpy's error names no op), float32 overflow becomes inf.
    return as_operand(v, _const(np.empty(0, dt)), "clamp")._data[()]


clip = clamp  # PyTorch's alias


def cast(x: Tensor, dtype: Any) -> Tensor:
    from ..tensor import as_dtype
    dtype = as_dtype(dtype, "to")
    if x._data.dtype is dtype:
        return x
    return Cast.apply(x, dtype)


def clone(x: Tensor) -> Tensor:
    return Clone.apply(x)


def square(x: Tensor) -> Tensor:
    if x._data.dtype.kind == "b":
        x = cast(x, np.int64)  # as PyTorch (square is pow(x, 2)): 0/1 as int64, not bool
    return mul(x, x)


def floor_divide(a: Any, b: Any) -> Tensor:
    """``a // b`` rounded towards -inf, in the promoted dtype (``//``). Not differentiable
    (its derivative is 0 almost everywhere; PyTorch has none either): the result is a
    constant."""
    a, b = _pair(a, b, "floor_divide")
    ad, bd = a._data, b._data
    if ad.dtype.kind == "b":
        ad, bd = ad.astype(np.int64), bd.astype(np.int64)
    if ad.dtype.kind in "iu" and not bd.all():
        # numpy would give 0 with a warning; integer division by zero has no value
        raise ZeroDivisionError(f"floor_divide: integer division by zero (divisor of shape "
                                f"{tuple(b.shape)})")
    with np.errstate(divide="ignore", invalid="ignore"):  # float x // 0 = +-inf or nan
        return _const(np.floor_divide(ad, bd))


def remainder(a: Any, b: Any) -> Tensor:
    """``a % b`` with the sign of ``b`` (Python's and PyTorch's convention), ``%``.

    Differentiable in both: d/da = 1, d/db = -floor(a / b)."""
    a, b = _pair(a, b, "remainder")
    if (a.requires_grad or b.requires_grad) and a._data.dtype.kind == "f":
        from ..autograd import is_grad_enabled
        if is_grad_enabled():
            # A Function whose forward is np.remainder itself: a - floor(a / b) * b, the
            # gradient-friendly composition, has another value where a / b rounds (1e15 % 0.7
            # gave 0.5, not 0.4634) or b is infinite (3 % inf gave nan, not 3).
            return Remainder.apply(a, b)
    ad, bd = a._data, b._data
    if ad.dtype.kind == "b":
        ad, bd = ad.astype(np.int64), bd.astype(np.int64)
    if ad.dtype.kind in "iu" and not bd.all():
        raise ZeroDivisionError(f"remainder: integer division by zero (divisor of shape "
                                f"{tuple(b.shape)})")
    with np.errstate(divide="ignore", invalid="ignore"):  # float x % 0 = nan
        return _const(np.remainder(ad, bd))



# ---------------------------------------------------------------------------------------
# round(decimals=): a step function with an argument
# ---------------------------------------------------------------------------------------
class _Rounding(Function):
    """A step function: its gradient is 0 everywhere (PyTorch's zeros_like(grad)), a
    constant, so there is no gradient of it either."""

    @staticmethod
    def backward(ctx, g):
        return _const(np.zeros(g._data.shape, g._data.dtype))


class Round(_Rounding):
    @staticmethod
    def forward(ctx, x, decimals):
        xd = x._data
        if decimals == 0:
            return np.rint(xd)  # half to even, as PyTorch's nearbyint
        # PyTorch's kernel: 10^|decimals| in double, then in the tensor's dtype; multiply
        # (or divide for negative decimals), round half to even, undo. Huge |decimals|
        # overflow the power to inf and give nan, as there.
        with np.errstate(over="ignore", invalid="ignore"):
            p = np.power(np.float64(10.0), np.float64(-decimals if decimals < 0 else decimals))
            p = np.asarray(p).astype(xd.dtype)
            if decimals > 0:
                return np.rint(xd * p) / p
            return np.rint(xd / p) * p


def _rounding_input(x: Any, name: str) -> Any:
    """None for a float tensor (round it); a copy for an integer one (already whole, and
    PyTorch keeps its dtype); bool tensors are refused, as PyTorch."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(x).__name__}")
    kind = x._data.dtype.kind
    if kind == "f":
        return None
    if kind == "b":
        raise TypeError(f"{name}: not implemented for bool tensors; convert first, e.g. .long()")
    return _const(x._data.copy())


def round(input: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001,A002
    """Round half to even, to ``decimals`` decimal places (negative: to tens, hundreds...)."""
    if isinstance(decimals, (bool, np.bool_)) or not isinstance(decimals, (int, np.integer)):
        raise TypeError(f"round: decimals must be an int, got {type(decimals).__name__} "
                        f"{decimals!r:.40}")
    same = _rounding_input(input, "round")
    if same is not None:
        if decimals != 0:
            raise TypeError(f"round: decimals={decimals} is not implemented for integer tensors "
                            f"(dtype {input.dtype}), as in PyTorch; convert to float first")
        return same
    return Round.apply(input, int(decimals))


# ---------------------------------------------------------------------------------------
# More binary math: atan2, hypot, logaddexp, fmod, lerp
# ---------------------------------------------------------------------------------------
class Atan2(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a._data.shape, b._data.shape)
        ctx.save_for_backward(a, b)
        return np.arctan2(a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        # PyTorch's atan2_backward: 1 / (a^2 + b^2), set to 0 where that is inf, so at
        # (0, 0) (and where a^2 + b^2 underflows) both gradients are 0, not nan.
        den = a * a + b * b
        recip = reciprocal(den)
        inf = np.isinf(recip._data)
        if inf.any():
            recip = where(_const(inf), 0.0, recip)
        ga = unbroadcast(g * b * recip, ctx.shapes[0]) if need_a else None
        gb = unbroadcast(g * -a * recip, ctx.shapes[1]) if need_b else None
        return ga, gb


class Hypot(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a._data.shape, b._data.shape)
        out = np.hypot(a._data, b._data)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        # PyTorch's formula: nan at (0, 0), where hypot has no derivative.
        ga = unbroadcast(g * a / out, ctx.shapes[0]) if need_a else None
        gb = unbroadcast(g * b / out, ctx.shapes[1]) if need_b else None
        return ga, gb


class Logaddexp(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a._data.shape, b._data.shape)
        ctx.save_for_backward(a, b)
        return np.logaddexp(a._data, b._data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        # PyTorch's formula; nan where both are the same infinity, as there.
        ga = unbroadcast(g / (exp(b - a) + 1), ctx.shapes[0]) if need_a else None
        gb = unbroadcast(g / (exp(a - b) + 1), ctx.shapes[1]) if need_b else None
        return ga, gb


def _remainder_forward(ctx, a, b, value, quotient):
    # Shared by fmod and %: they differ only in how the quotient is rounded. d/da = 1 and
    # d/db = -quotient; the quotient is a constant of the graph (no second derivative, as
    # PyTorch), kept only when b needs a gradient.
    ctx.shapes = (a._data.shape, b._data.shape)
    ad, bd = a._data, b._data
    with np.errstate(divide="ignore", invalid="ignore"):  # x % 0 = nan
        if ctx.needs_input_grad[1]:
            ctx.quotient = quotient(ad, bd)
        return value(ad, bd)


def _remainder_backward(ctx, g):
    need_a, need_b = ctx.needs_input_grad
    ga = unbroadcast(g, ctx.shapes[0]) if need_a else None
    gb = unbroadcast(-g * _const(ctx.quotient), ctx.shapes[1]) if need_b else None
    return ga, gb


class Fmod(Function):
    """C's fmod: the remainder of a / b truncated towards 0 (sign of a); d/db = -trunc(a/b)."""

    @staticmethod
    def forward(ctx, a, b):
        return _remainder_forward(ctx, a, b, np.fmod, lambda ad, bd: np.trunc(ad / bd))

    backward = staticmethod(_remainder_backward)


class Remainder(Function):
    """``a % b`` with the sign of b (floored); d/da = 1, d/db = -floor(a / b), PyTorch's."""

    @staticmethod
    def forward(ctx, a, b):
        return _remainder_forward(ctx, a, b, np.remainder, np.floor_divide)

    backward = staticmethod(_remainder_backward)


def _tensor_pair(input: Any, other: Any, name: str) -> tuple:
    # PyTorch's atan2/hypot/logaddexp take two tensors (a number is a TypeError there too).
    check_tensor(name, "input", input)
    check_tensor(name, "other", other)
    return _pair(input, other, name)


def _float_pair(input: Any, other: Any, name: str, ints: bool) -> tuple:
    a, b = _tensor_pair(input, other, name)
    if a._data.dtype.kind != "f":
        if not ints:
            raise TypeError(f"{name}: not implemented for {a.dtype} tensors (PyTorch has no "
                            "integer version); convert to float first")
        a, b = cast(a, _DEFAULT_FLOAT), cast(b, _DEFAULT_FLOAT)
    return a, b


def atan2(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """The angle of the point (other, input), in (-pi, pi]; integers compute in float32."""
    return Atan2.apply(*_float_pair(input, other, "atan2", True))


arctan2 = atan2


def hypot(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    return Hypot.apply(*_float_pair(input, other, "hypot", False))


def logaddexp(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """log(exp(input) + exp(other)) without overflow."""
    return Logaddexp.apply(*_float_pair(input, other, "logaddexp", False))


def fmod(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    """The remainder of input / other with the sign of input (C's fmod; ``remainder`` takes
    the sign of other). ``other`` is a Tensor or a number; dtypes promote."""
    check_tensor("fmod", "input", input)
    a, b = _pair(input, other, "fmod")
    if a._data.dtype.kind == "b":
        raise TypeError("fmod: not implemented for two bool operands; convert one first, e.g. "
                        ".long()")
    if a._data.dtype.kind in "iu" and not b._data.all():
        raise ZeroDivisionError(f"fmod: integer division by zero (divisor of shape "
                                f"{tuple(b.shape)})")
    return Fmod.apply(a, b)


class Lerp(Function):
    """start + weight * (end - start), by PyTorch's two-sided formula: from start where
    |weight| < 0.5, from end otherwise (exact at weight = 0 and 1). PyTorch's CPU kernel
    fuses the multiply-add, so where the result cancels the two may differ in the last
    bit of the operands' magnitude."""

    @staticmethod
    def forward(ctx, start, end, weight):
        s, e = start._data, end._data
        w_t = isinstance(weight, Tensor)
        w = weight._data if w_t else np.asarray(weight, s.dtype)
        ctx.shapes = (s.shape, e.shape, w.shape)
        ctx.save_for_backward(start if ctx.needs_input_grad[2] else None,
                              end if ctx.needs_input_grad[2] else None,
                              weight if w_t else None)
        ctx.weight = None if w_t else weight
        diff = e - s
        if not w_t:
            if np.abs(w) < 0.5:
                return s + w * diff
            return e - diff * (1 - w)
        small = np.abs(w) < 0.5
        return np.where(small, s + w * diff, e - diff * (1 - w))

    @staticmethod
    def backward(ctx, g):
        start, end, weight = ctx.saved_tensors
        w = ctx.weight if weight is None else weight
        need_s, need_e, need_w = ctx.needs_input_grad
        gs = unbroadcast(g * (1 - w), ctx.shapes[0]) if need_s else None
        ge = unbroadcast(g * w, ctx.shapes[1]) if need_e else None
        gw = unbroadcast(g * (end - start), ctx.shapes[2]) if need_w else None
        return gs, ge, gw


def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:  # noqa: A002
    """``input + weight * (end - input)``; ``weight`` a number or a Tensor, all broadcast.

    As PyTorch: input and end must have the same floating-point dtype, and so must a
    weight tensor with dimensions (a 0-d weight tensor is converted to it)."""
    check_tensor("lerp", "input", input)
    check_tensor("lerp", "end", end)
    dt = input._data.dtype
    if dt.kind != "f":
        raise TypeError(f"lerp: only floating-point tensors are supported, got dtype {dt}")
    if end._data.dtype is not dt:
        raise TypeError(f"lerp: expected dtype {dt} for end (as input), got {end.dtype}")
    shapes = [input._data.shape, end._data.shape]
    if isinstance(weight, Tensor):
        if weight._data.ndim and weight._data.dtype is not dt:
            raise TypeError(f"lerp: expected dtype {dt} for weight (as input), got "
                            f"{weight.dtype}")
        shapes.append(weight._data.shape)
        if weight._data.dtype is not dt:
            weight = cast(weight, dt)
    elif isinstance(weight, (bool, np.bool_)) or isinstance(weight, _NUMBER):
        weight = float(weight)
    else:
        raise TypeError(f"lerp: weight must be a number or a Tensor, got "
                        f"{type(weight).__name__} {weight!r:.40}")
    if shapes[0] != shapes[1] or len(shapes) == 3:
        broadcast_shape("lerp", *shapes)
    return Lerp.apply(input, end, weight)


# ---------------------------------------------------------------------------------------
# nan_to_num
# ---------------------------------------------------------------------------------------
class NanToNum(Function):
    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        xd = x._data
        out = xd.copy()
        np.copyto(out, nan, where=np.isnan(xd))
        np.copyto(out, posinf, where=np.isposinf(xd))
        np.copyto(out, neginf, where=np.isneginf(xd))
        ctx.save_for_backward(x)
        return out

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        # PyTorch's grad * isfinite(x): a multiplication, so a nan gradient stays nan.
        return g * _const(np.isfinite(x._data).astype(g._data.dtype))


def nan_to_num(input: Tensor, nan: Any = 0.0, posinf: Any = None,  # noqa: A002
               neginf: Any = None) -> Tensor:
    """NaN, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf``; the infinities
    default to the dtype's largest and smallest finite values. Integer and bool tensors
    are returned as a copy."""
    if not isinstance(input, Tensor):
        raise TypeError(f"nan_to_num: expected a Tensor, got {type(input).__name__}")
    for what, v in (("nan", nan), ("posinf", posinf), ("neginf", neginf)):
        if v is not None and (isinstance(v, (bool, np.bool_)) or not isinstance(v, _NUMBER)):
            raise TypeError(f"nan_to_num: {what} must be a number or None, got "
                            f"{type(v).__name__} {v!r:.40}")
    dt = input._data.dtype
    if dt.kind != "f":
        return _const(input._data.copy())
    info = np.finfo(dt)
    values = []
    for v, default in ((nan, 0.0), (posinf, info.max), (neginf, info.min)):
        # In the tensor's dtype: a float64 number beyond float32's range becomes +-inf,
        # as in PyTorch.
        with np.errstate(over="ignore"):
            values.append(np.asarray(default if v is None else v, np.float64).astype(dt))
    return NanToNum.apply(input, *values)


from .compare import Where, where  # noqa: E402  (compare imports this module's helpers)
