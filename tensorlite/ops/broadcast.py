"""Broadcasting: operand conversion, dtype promotion, and the gradient's reduction.

``unbroadcast`` (the one place where a gradient computed at a broadcast shape is summed
back to an input's shape) lives in ``autograd/conform.py``, where the engine applies it.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..autograd.conform import unbroadcast  # noqa: F401  (the one place; ops import it from here)
from ..tensor import Tensor, _make, _DEFAULT_FLOAT, float32, int64, bool_


def result_dtype(a: np.dtype, b: np.dtype) -> np.dtype:
    """PyTorch's promotion between two dtypes of one rank class: bool < integers < floats;
    within a class the wider dtype wins."""
    if a is b:
        return a
    ka, kb = a.kind, b.kind
    if ka == "f" and kb == "f":
        return a if a.itemsize >= b.itemsize else b
    if ka == "f":
        return a
    if kb == "f":
        return b
    if ka == "b":
        return b
    if kb == "b":
        return a
    return np.promote_types(a, b)


def _combine(higher: Optional[np.dtype], lower: Optional[np.dtype]) -> Optional[np.dtype]:
    # An operand of lower priority changes the result only by raising its category
    # (bool < int < float); the width then comes from promoting the two (ATen's
    # combine_categories).
    if higher is None:
        return lower
    if lower is None or higher.kind == "f":
        return higher
    if higher.kind == "b" or lower.kind == "f":
        return result_dtype(higher, lower)
    return higher


def promote(a: Tensor, b: Tensor) -> np.dtype:
    """The dtype of an elementwise op on tensors ``a`` and ``b``, by PyTorch's rule: a 0-d
    tensor ranks below a tensor with dims and decides the dtype only when it is of a higher
    category, so ``ones(3) * tensor(2., float64)`` stays float32 but ``int_tensor *
    tensor(2., float64)`` is float64. (Python scalars rank lowest; ``as_operand`` has
    already given them the dtype that rule implies.)"""
    da, db = a._data.dtype, b._data.dtype
    if da is db:
        return da
    za, zb = a._data.ndim == 0, b._data.ndim == 0
    if za is zb:
        return result_dtype(da, db)
    return _combine(db, da) if za else _combine(da, db)


def promote_all(*operands: Any) -> np.dtype:
    """``promote`` over any number of operands: Tensors, Python numbers and None (skipped).

    Python numbers count by category only, as PyTorch's wrapped numbers: bool, int64 for
    an int, the default float dtype for a float."""
    dims = zero = scalars = None
    for o in operands:
        if o is None:
            continue
        if isinstance(o, Tensor):
            dt = o._data.dtype
            if o._data.ndim:
                dims = dt if dims is None else result_dtype(dims, dt)
            else:
                zero = dt if zero is None else result_dtype(zero, dt)
        else:
            dt = scalar_dtype(o)
            scalars = dt if scalars is None else result_dtype(scalars, dt)
    return _combine(dims, _combine(zero, scalars))


def scalar_dtype(value: Any) -> np.dtype:
    """The dtype a Python (or numpy) number gets on its own: bool, int64, default float."""
    if isinstance(value, (bool, np.bool_)):
        return bool_
    if isinstance(value, (int, np.integer)):
        return int64
    return _DEFAULT_FLOAT


def _int_operand(value: int, dt: np.dtype, op: str) -> np.ndarray:
    # numpy's own error ("Python integer ... out of bounds for int32") names neither the op
    # nor a way out; PyTorch silently wraps around, which would be a wrong result.
    info = np.iinfo(dt)
    if not info.min <= value <= info.max:
        raise OverflowError(f"{op}: the integer {value} does not fit in the tensor's dtype {dt} "
                            f"(range {info.min}..{info.max}); convert the tensor first, e.g. "
                            ".long() or .double()")
    return np.asarray(value, dtype=dt)


_F32_MAX = float(np.finfo(np.float32).max)


def as_operand(value: Any, like: Tensor, op: str = "operand") -> Tensor:
    """A Python scalar, array or list as a constant Tensor to combine with ``like``;
    ``op`` names the calling op in the error for anything else (strings, None, complex)."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (bool, np.bool_)):
        dt = like.dtype if like.dtype.kind != "b" else bool_
    elif isinstance(value, (int, np.integer)):
        if like.dtype.kind != "f":
            dt = like.dtype if like.dtype.kind in "iu" else int64
            return _make(_int_operand(int(value), dt, op), False, None, 0, None)
        dt = like.dtype
        if dt is float32 and not -_F32_MAX <= value <= _F32_MAX:
            value = np.inf if value > 0 else -np.inf
    elif isinstance(value, (float, np.floating)):
        dt = like.dtype if like.dtype.kind == "f" else _DEFAULT_FLOAT
        if dt is float32 and not -_F32_MAX <= value <= _F32_MAX and value == value:
            # Too large for float32: inf, as PyTorch, without numpy's overflow warning.
            value = np.inf if value > 0 else -np.inf
    else:
        try:
            arr = np.asarray(value)
        except ValueError:  # a ragged nested list
            arr = np.empty((), object)
        if arr.dtype.kind not in "fiub":
            raise TypeError(f"{op}: unsupported operand of type {type(value).__name__}"
                            + (f" (dtype {arr.dtype})" if isinstance(value, np.ndarray) else ""))
        if arr.dtype == np.float64 and not isinstance(value, np.ndarray):
            arr = arr.astype(like.dtype if like.dtype.kind == "f" else _DEFAULT_FLOAT)
        return _make(arr, False, None, 0, None)
    return _make(np.asarray(value, dtype=dt), False, None, 0, None)
