"""Argument checking shared by every op: one place, one wording for errors.

Every message starts with the op's name and shows the offending shapes or values, so a
user reading a traceback knows which call was wrong and why, before any state changed.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def shape_str(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(int(s)) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def broadcast_shape(op: str, *shapes: Sequence[int]) -> tuple:
    """The broadcast of ``shapes``, or a ValueError naming ``op`` and the shapes."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"{op}: shapes {', '.join(shape_str(s) for s in shapes)} cannot be "
                         "broadcast together") from None


def normalize_dim(op: str, dim: Any, ndim: int) -> int:
    """A dimension index in ``[-ndim, ndim)`` mapped to ``[0, ndim)``; 0-d tensors accept 0/-1."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dimensions "
                         f"(expected {-n}..{n - 1})")
    return int(dim) % n


def normalize_dims(op: str, dim: Any, ndim: int) -> tuple:
    """``dim`` as a sorted tuple of distinct non-negative dims; None means all dims."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = tuple(normalize_dim(op, d, ndim) for d in dims)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: dim {dim} repeats a dimension")
    return tuple(sorted(out)) if ndim else ()


def pair(op: str, name: str, value: Any, minimum: int = 0) -> tuple:
    """An int or a pair of ints as a pair, checked against ``minimum``."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (int(value), int(value))
    try:
        value = tuple(int(v) for v in value)
        ok = len(value) == 2
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(value) < minimum:
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value}")
    return value


def check_float(op: str, name: str, t: Any) -> None:
    if t.dtype.kind != "f":
        raise TypeError(f"{op}: {name} must be a floating-point tensor, got dtype {t.dtype}")


def check_ndim(op: str, name: str, t: Any, ndims: Sequence[int]) -> None:
    if t.ndim not in ndims:
        want = " or ".join(f"{n}-D" for n in ndims)
        raise ValueError(f"{op}: {name} must be {want}, got shape {shape_str(t.shape)}")


def check_same_dtype(op: str, **tensors: Any) -> None:
    items = [(k, v) for k, v in tensors.items() if v is not None]
    if len({v.dtype for _, v in items}) > 1:
        desc = ", ".join(f"{k} {v.dtype}" for k, v in items)
        raise TypeError(f"{op}: expected all tensors to have the same dtype, got {desc}")


def check_indices(op: str, idx: np.ndarray, size: int, name: str = "indices") -> None:
    """Integer indices in ``[0, size)``: checked here so no kernel ever reads out of bounds."""
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: {name} must be an integer tensor, got dtype {idx.dtype}")
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if lo < 0 or hi >= size:
            bad = lo if lo < 0 else hi
            raise IndexError(f"{op}: {name} contain {bad}, out of range [0, {size})")
