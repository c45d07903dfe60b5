"""Tensor's operators and methods: each forwards to the op of the same name in ``ops``.

Installed on :class:`Tensor` when ``tensorlite.ops`` is imported; in-place variants
(``add_``, ``x += y``) are made from the out-of-place op by :func:`_inplace`.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..autograd import no_grad
from ..autograd.grad_mode import state as _grad_mode
from .._checks import check_view_write
from ..tensor import Tensor, _make
from .. import ops as _ops
from . import elementwise as _elementwise, registry as _registry


_NO_OPERAND = object()  # _inplace's marker for ops without a second operand (None is a value)


def _inplace(name: str, fn: Any) -> Callable:
    """An in-place method: out-of-place op, result written into this tensor's memory."""

    def method(self: Tensor, other: Any = _NO_OPERAND, *args: Any, **kwargs: Any) -> Tensor:
        operands = args if other is _NO_OPERAND else (other,) + args
        track = _grad_mode.enabled and (self.requires_grad or any(
            isinstance(o, Tensor) and o.requires_grad for o in operands))
        if track and self.grad_fn is None and self.requires_grad:
            raise RuntimeError(f"{name}: a leaf tensor that requires grad cannot be modified in "
                               "place (use `with tl.no_grad():` or work on a clone)")
        check_view_write(name, self, next((o for o in operands if isinstance(o, Tensor)
                                           and o.requires_grad), None))
        if track:
            # The old value may be needed by the new node (mul_'s gradient for `other`), so
            # the node sees a snapshot; this tensor then takes over the node.
            old = _make(self._data.copy(), self.requires_grad, self.grad_fn, self._out_nr, None)
            out = fn(old, *operands, **kwargs)
        else:
            with no_grad():
                out = fn(self.detach(), *operands, **kwargs)
        if out._data.shape != self._data.shape:
            raise RuntimeError(f"{name}: the result of shape {tuple(out.shape)} does not fit the "
                               f"tensor of shape {tuple(self.shape)}")
        if out._data.dtype != self._data.dtype and not np.can_cast(out._data.dtype, self._data.dtype,
                                                                 "same_kind"):
            raise TypeError(f"{name}: result dtype {out.dtype} cannot be written into a tensor of "
                            f"dtype {self.dtype}")
        self._data[...] = out._data
        self._version[0] += 1
        if track:
            self.grad_fn, self._out_nr, self.requires_grad = out.grad_fn, out._out_nr, True
        return self
    method.__name__ = name
    return method


def _zero_(self: Tensor) -> Tensor:
    return self.fill_(0)


def _fill_(self: Tensor, value: Any) -> Tensor:
    if _grad_mode.enabled and self.requires_grad and self.grad_fn is None:
        raise RuntimeError("fill_: a leaf tensor that requires grad cannot be filled in place "
                           "(use `with tl.no_grad():`)")
    if isinstance(value, Tensor):
        if value._data.ndim:
            # as PyTorch: a 1-element tensor of shape (1,) is refused too (it is not a scalar)
            raise RuntimeError(f"fill_: the value must be a number or a 0-d tensor, got a tensor "
                               f"of shape {tuple(value.shape)}")
        if _grad_mode.enabled and value.requires_grad:
            # Recorded as a write of the broadcast value, so value gets the summed gradient
            # (PyTorch records fill_ with a tensor value; reading out the number lost it).
            _ops.setitem(self, Ellipsis, value, "fill_")
            return self
        value = value._data[()]
    if not isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
        raise TypeError(f"fill_: the value must be a number, got {type(value).__name__} "
                        f"{value!r:.40}")
    if _grad_mode.enabled and self.requires_grad:
        # A non-leaf in a graph: recorded, so the values it had get a zero gradient (as
        # PyTorch's fill_ does) rather than the graph silently keeping the old ones.
        _ops.setitem(self, Ellipsis, value, "fill_")
        return self
    check_view_write("fill_", self)
    self._data[...] = value
    self._version[0] += 1
    return self


def _copy_(self: Tensor, src: Any) -> Tensor:
    """Copy ``src`` (broadcast) into this tensor: ``self[...] = src``, gradient included."""
    _ops.setitem(self, Ellipsis, src, "copy_")
    return self


def _clamp_(self: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    return _CLAMP_(self, min, max)


_CLAMP_ = _inplace("clamp_", lambda old, lo, hi: _ops.clamp(old, lo, hi))


def _comparable(other: Any) -> bool:
    """Whether ``t == other`` compares elementwise. As PyTorch, None, strings and other
    objects are not data: ``t == None`` is False (Python's identity fallback), not an error,
    so ``x in [None, t]`` and ``if t != None`` work."""
    return other is not None and not isinstance(other, (str, bytes)) and (
        isinstance(other, (Tensor, int, float, np.ndarray, np.generic, list, tuple)))


# Operators, and methods with no op of their own name. The other methods come from the
# op registry (install below).
_methods = {
    "__add__": _elementwise._add, "__radd__": lambda s, o: _ops.add(o, s),
    "__sub__": _elementwise._sub, "__rsub__": lambda s, o: _ops.sub(o, s),
    "__mul__": _ops.mul, "__rmul__": lambda s, o: _ops.mul(o, s),
    "__truediv__": _elementwise._div, "__rtruediv__": lambda s, o: _ops.div(o, s),
    "__pow__": _ops.pow, "__rpow__": lambda s, o: _ops.pow(o, s),
    "__matmul__": _ops.matmul, "__rmatmul__": lambda s, o: _ops.matmul(o, s),
    "__floordiv__": _ops.floor_divide, "__rfloordiv__": lambda s, o: _ops.floor_divide(o, s),
    "__mod__": _ops.remainder, "__rmod__": lambda s, o: _ops.remainder(o, s),
    "__neg__": _ops.neg, "__pos__": lambda s: s, "__abs__": _ops.abs,
    "__eq__": lambda s, o: _ops.eq(s, o) if _comparable(o) else NotImplemented,
    "__ne__": lambda s, o: _ops.ne(s, o) if _comparable(o) else NotImplemented,
    "__lt__": _ops.lt, "__le__": _ops.le,
    "__gt__": _ops.gt, "__ge__": _ops.ge,
    "__invert__": _ops.bitwise_not, "__and__": _ops.bitwise_and, "__or__": _ops.bitwise_or,
    "__xor__": _ops.bitwise_xor, "__rand__": lambda s, o: _ops.bitwise_and(o, s),
    "__ror__": lambda s, o: _ops.bitwise_or(o, s), "__rxor__": lambda s, o: _ops.bitwise_xor(o, s),
    "__getitem__": _ops.getitem, "__setitem__": _ops.setitem,
    # x += y is in place, as in PyTorch (and numpy): `p -= lr * p.grad` must update p itself,
    # not rebind a local name to a new tensor.
    "__iadd__": _inplace("__iadd__", _ops.add), "__isub__": _inplace("__isub__", _ops.sub),
    "__imul__": _inplace("__imul__", _ops.mul),
    "__itruediv__": _inplace("__itruediv__", _ops.div),
    "clamp_": _clamp_, "clip_": _clamp_, "zero_": _zero_, "fill_": _fill_, "copy_": _copy_,
}


def install(op: Any) -> None:
    """Tensor.<name> (and Tensor.<name>_) for a registry entry."""
    if op.method:
        setattr(Tensor, op.name, op.fn)
    if op.inplace:
        setattr(Tensor, op.name + "_", _inplace(op.name + "_", op.fn))


for _name, _fn in _methods.items():
    setattr(Tensor, _name, _fn)
for _op in _registry.OPS.values():
    install(_op)
_registry.listeners.append(install)  # ops declared later (a user's table row) too
Tensor.__hash__ = object.__hash__


def _t(self: Tensor) -> Tensor:
    if self.ndim > 2:
        raise RuntimeError(f"t: expects a tensor with at most 2 dims, got shape "
                           f"{tuple(self.shape)}; use transpose(dim0, dim1) or .mT")
    return _ops.transpose(self, 0, 1) if self.ndim == 2 else self


Tensor.t = _t
Tensor.view_as = lambda self, other: _ops.view(self, other.shape)
Tensor.expand_as = lambda self, other: _ops.expand(self, other.shape)
Tensor.reshape_as = lambda self, other: _ops.reshape(self, other.shape)


def _shape_inplace(name: str, fn: Any) -> Callable:
    """An in-place shape change (``unsqueeze_``, ``squeeze_``, ``t_``, ``transpose_``): the
    tensor takes the out-of-place result's view of the same memory, and its graph node."""

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        track = _grad_mode.enabled and self.requires_grad
        if track and self.grad_fn is None:
            raise RuntimeError(f"{name}: a leaf tensor that requires grad cannot be modified in "
                               "place (use the out-of-place form, or `with tl.no_grad():`)")
        if track:
            out = fn(_make(self._data, True, self.grad_fn, self._out_nr, self._version),
                     *args, **kwargs)
            self.grad_fn, self._out_nr = out.grad_fn, out._out_nr
        else:
            with no_grad():
                out = fn(self.detach(), *args, **kwargs)
        self._data = out._data
        self._version[0] += 1
        return self
    method.__name__ = name
    return method


Tensor.unsqueeze_ = _shape_inplace("unsqueeze_", _ops.unsqueeze)
Tensor.squeeze_ = _shape_inplace("squeeze_", _ops.squeeze)
Tensor.transpose_ = _shape_inplace("transpose_", _ops.transpose)
Tensor.t_ = _shape_inplace("t_", _t)
