"""Elementwise ops of one tensor, made from a table row (as HIPS autograd's ``defvjp`` and
PyTorch's derivatives.yaml): the row gives the forward on arrays, what backward needs
(the input or the output), the gradient formula in differentiable Tensor ops, and the
dtype rule. :func:`define` turns a row into the Function class, the functional form
(``tl.<name>``), the Tensor method (and in-place variant) and, with ``test=``, the
OpInfo entry. The table itself is in ``ops/elementwise.py``.

    define("softsign", lambda x: x / (1 + np.abs(x)), save="input",
           grad=lambda g, x: g / (1 + x.abs()) ** 2, test=dict(ref=..., lo=-3, hi=3))
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Optional

import numpy as np

from .._checks import check_tensor
from ..autograd import Function
from ..autograd.grad_mode import state as _grad_mode
from ..autograd.views import refresh_views
from ..tensor import Tensor, _make, _DEFAULT_FLOAT
from . import registry

# What a row's ``dtypes`` rule does with a tensor that is not floating point:
#   "float"   compute in the default float dtype (as PyTorch's exp of an int tensor)
#   "same"    compute in the tensor's own dtype (neg, abs, sign)
#   "round"   integers are already whole: a copy; bool is refused (floor, ceil, trunc)
#   "floats"  refused (frac)
DTYPE_RULES = ("float", "same", "round", "floats")


@dataclasses.dataclass
class Unary:
    name: str
    forward: Callable[[np.ndarray], np.ndarray]
    save: Optional[str]                      # "input", "output" or None
    grad: Optional[Callable]                 # (g, saved) -> Tensor, or (g,) -> Tensor; None: 0
    dtypes: str = "float"
    quiet: bool = False                      # no numpy warnings (log(0) = -inf, as PyTorch)
    inplace: bool = False                    # Tensor.<name>_ too
    doc: str = ""


def define(name: str, forward: Callable, save: Optional[str] = None,
           grad: Optional[Callable] = None, *, dtypes: str = "float", quiet: bool = False,
           inplace: bool = False, doc: str = "", test: Optional[dict] = None) -> Callable:
    """Make and declare the op of one row; returns its functional form (whose
    ``.Function`` is the Function class)."""
    row = Unary(name, forward, save, grad, dtypes, quiet, inplace, doc)
    if dtypes not in DTYPE_RULES:
        raise ValueError(f"{name}: dtypes must be one of {DTYPE_RULES}, got {dtypes!r}")
    cls = _function(row)
    fn = _functional(row, cls)
    return registry.declare(fn, name, inplace=inplace, test=test, checks_itself=True)


def _compute(row: Unary) -> Callable:
    if not row.quiet:
        return row.forward
    forward = row.forward

    def quietly(a):
        with np.errstate(all="ignore"):
            return forward(a)
    return quietly


def _zeros(g: Tensor) -> Tensor:
    # A step function's gradient: 0 everywhere (PyTorch's zeros_like(grad)), a constant,
    # so there is no gradient of it either.
    return _make(np.zeros(g._data.shape, g._data.dtype), False, None, 0, None)


def _function(row: Unary) -> type:
    compute, save, grad = _compute(row), row.save, row.grad

    def forward(ctx, x):
        y = compute(x._data)
        if type(y) is not np.ndarray:
            y = np.asarray(y)  # a ufunc of a 0-d array gives a scalar
        if save == "input":
            ctx.save_for_backward(x)
        elif save == "output":
            ctx.save_for_backward(y)
        return y

    if grad is None:
        def backward(ctx, g):
            return _zeros(g)
    elif save is None:
        def backward(ctx, g):
            return grad(g)
    else:
        def backward(ctx, g):
            (s,) = ctx.saved_tensors
            return grad(g, s)

    cls_name = "".join(part.capitalize() for part in row.name.split("_"))
    cls = type(cls_name, (Function,), {
        "forward": staticmethod(forward), "backward": staticmethod(backward),
        "compute": staticmethod(compute), "__module__": __name__,
        "__doc__": row.doc or f"{row.name}, elementwise (a row of the unary table)."})
    return cls


def _functional(row: Unary, cls: type) -> Callable:
    name, rule, compute = row.name, row.dtypes, cls.compute

    def op(input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's keyword name
        if not isinstance(input, Tensor):
            check_tensor(name, "input", input)
        if input._data.dtype.kind != "f":
            if rule == "round":
                return _non_float(name, rule, input)  # an integer is whole: a copy
            input = _non_float(name, rule, input)
        if _grad_mode.enabled:
            if input._view_version is not None:
                refresh_views((input,))  # a view whose base changed in place: its history
            if input.requires_grad:
                return cls.apply(input)
        y = compute(input._data)
        return _make(y if type(y) is np.ndarray else np.asarray(y), False, None, 0, None)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = row.doc or f"``{name}(input)``, elementwise; its gradient is in the unary table."
    op.Function = cls
    return op


def _non_float(name: str, rule: str, x: Tensor) -> Tensor:
    """``x`` (not floating point) as the row's dtype rule wants it, or a clear error."""
    kind = x._data.dtype.kind
    if rule == "float":
        return _make(x._data.astype(_DEFAULT_FLOAT), False, None, 0, None)
    if rule == "floats":
        raise TypeError(f"{name}: only floating-point tensors are supported, got dtype {x.dtype}")
    if kind == "b" and name == "neg":
        raise TypeError("neg: negation of a bool tensor is not supported; use ~ "
                        "(logical_not) instead")
    if rule == "round":
        if kind == "b":
            raise TypeError(f"{name}: not implemented for bool tensors; convert first, e.g. "
                            ".long()")
        return _make(x._data.copy(), False, None, 0, None)
    return x  # "same"
