"""Broadcasting: operand conversion, dtype promotion, and the gradient's reduction.

``unbroadcast`` is the one place where a gradient computed at a broadcast shape is summed
back to an input's shape; every binary op's backward calls it.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor, _make, _DEFAULT_FLOAT, int64, bool_


def unbroadcast(g: Tensor, shape: tuple) -> Tensor:
    """Sum ``g`` over the dimensions that broadcasting added or stretched to reach ``shape``."""
    gshape = g.data.shape
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    dims = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and gshape[lead + i] != 1)
    from .reduce import sum as _sum
    out = _sum(g, dims, keepdim=True) if dims else g
    return out.reshape(shape) if out.data.shape != shape else out


def result_dtype(a: np.dtype, b: np.dtype) -> np.dtype:
    """PyTorch's promotion between tensor dtypes: floats win, the wider float wins."""
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


def as_operand(value: Any, like: Tensor, op: str = "operand") -> Tensor:
    """A Python scalar, array or list as a constant Tensor to combine with ``like``;
    ``op`` names the calling op in the error for anything else (strings, None, complex)."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (bool, np.bool_)):
        dt = like.dtype if like.dtype.kind != "b" else bool_
    elif isinstance(value, (int, np.integer)):
        dt = like.dtype if like.dtype.kind in "fiu" else int64
    elif isinstance(value, (float, np.floating)):
        dt = like.dtype if like.dtype.kind == "f" else _DEFAULT_FLOAT
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
