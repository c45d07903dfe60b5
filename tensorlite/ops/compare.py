"""Comparisons (not differentiable; bool results) and ``where`` (differentiable in a, b)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import broadcast_shape
from ..autograd import Function
from ..tensor import Tensor, _make
from .broadcast import as_operand, result_dtype, unbroadcast


def _compare(ufunc: Any, a: Any, b: Any, name: str) -> Tensor:
    if not isinstance(a, Tensor):
        a = as_operand(a, b, name)
    if not isinstance(b, Tensor):
        b = as_operand(b, a, name)
    if a.data.shape != b.data.shape:
        broadcast_shape(name, a.data.shape, b.data.shape)
    return _make(ufunc(a.data, b.data), False, None, 0, None)


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
    return _make(np.logical_not(a.data), False, None, 0, None)


def logical_and(a: Tensor, b: Any) -> Tensor:
    return _compare(np.logical_and, a, b, "logical_and")


def logical_or(a: Tensor, b: Any) -> Tensor:
    return _compare(np.logical_or, a, b, "logical_or")


def isnan(a: Tensor) -> Tensor:
    return _make(np.isnan(a.data), False, None, 0, None)


def isfinite(a: Tensor) -> Tensor:
    return _make(np.isfinite(a.data), False, None, 0, None)


class Where(Function):
    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.cond = cond
        ctx.shapes = (a.data.shape, b.data.shape)
        return np.where(cond.data, a.data, b.data)

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
    if cond.data.dtype != np.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got dtype {cond.dtype}")
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = _make(np.asarray(a), False, None, 0, None)
    if not isinstance(a, Tensor):
        a = as_operand(a, b, "where")
    if not isinstance(b, Tensor):
        b = as_operand(b, a, "where")
    broadcast_shape("where", cond.data.shape, a.data.shape, b.data.shape)
    dt = result_dtype(a.data.dtype, b.data.dtype)
    from .elementwise import cast
    return Where.apply(cond, cast(a, dt), cast(b, dt))
