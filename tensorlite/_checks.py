"""Argument checking shared by every op: one place, one wording for errors.

Every message starts with the op's name and shows the offending shapes or values, so a
user reading a traceback knows which call was wrong and why, before any state changed.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .autograd.grad_mode import state as _grad_mode
from .tensor import Tensor


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
    if isinstance(dim, (int, np.integer)):
        dims = (dim,)
    elif isinstance(dim, (tuple, list)):
        dims = tuple(dim)
    else:
        # tuple(1.5) would fail with Python's "'float' object is not iterable"
        raise TypeError(f"{op}: dim must be an int or a tuple of ints, got "
                        f"{type(dim).__name__} {dim!r}")
    out = tuple(normalize_dim(op, d, ndim) for d in dims)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: dim {dim} repeats a dimension")
    return tuple(sorted(out)) if ndim else ()


def is_int(value: Any) -> bool:
    """A Python or numpy integer, not a bool (``True`` as a size is almost always a bug)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_int(op: str, name: str, value: Any, minimum: Any = None) -> int:
    """``value`` as an int, refusing floats (no silent truncation of 2.5 to 2) and bools."""
    if not is_int(value):
        raise TypeError(f"{op}: {name} must be an int, got {type(value).__name__} {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value}")
    return int(value)


def check_real(op: str, name: str, value: Any, low: float = -np.inf, high: float = np.inf) -> float:
    """A real number in [low, high]; NaN and non-numbers are refused with the op's name."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: {name} must be a real number, got {type(value).__name__} "
                        f"{value!r}")
    if not low <= value <= high:  # also false for NaN
        raise ValueError(f"{op}: {name} must be in [{low}, {high}], got {value}")
    return float(value)


def pair(op: str, name: str, value: Any, minimum: int = 0) -> tuple:
    """An int or a pair of ints as a pair, checked against ``minimum``."""
    if is_int(value):
        value = (int(value), int(value))
    try:
        ok = len(value) == 2 and all(is_int(v) for v in value)
        if ok:
            value = tuple(int(v) for v in value)
    except TypeError:
        ok = False
    if not ok:
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(value) < minimum:
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value}")
    return value




def check_tensor(op: str, name: str, t: Any) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__} {t!r:.40}")


def check_float(op: str, name: str, t: Any) -> None:
    if t.dtype.kind != "f":
        raise TypeError(f"{op}: {name} must be a floating-point tensor, got dtype {t.dtype}")


def check_ndim(op: str, name: str, t: Any, ndims: Sequence[int]) -> None:
    if t.ndim not in ndims:
        want = " or ".join(f"{n}-D" for n in ndims)
        raise ValueError(f"{op}: {name} must be {want}, got shape {shape_str(t.shape)}")


# Dtypes the numba kernels are compiled for; anything else (float16 from numpy, say) would
# fail inside numba's typing, far from the call that caused it.
KERNEL_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def check_kernel_float(op: str, name: str, t: Any) -> None:
    if t.dtype not in KERNEL_FLOATS:
        raise TypeError(f"{op}: {name} must be float32 or float64, got dtype {t.dtype}")


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


def check_view_write(op: str, t: Tensor, other: Any = None) -> None:
    """Refuse writes that would go wrong silently: into a view that takes part in autograd
    (the write would reach the base's memory but not its gradient: x[0][1] = v leaves x's
    graph unaware of v), into a view of a leaf that requires grad, and into read-only
    memory (expand() results, read-only numpy arrays)."""
    if not t._data.flags.writeable:
        raise RuntimeError(f"{op}: this tensor is read-only (an expand() result, or a read-only "
                           "numpy array); write into a clone() of it instead")
    base = getattr(t, "_base", None)
    if base is None or not _grad_mode.enabled:
        return
    if t.requires_grad or base.requires_grad or (isinstance(other, Tensor)
                                                 and other.requires_grad):
        raise RuntimeError(
            f"{op}: in-place write into a view of a tensor of shape {tuple(base.shape)} that is "
            "part of the autograd graph; the base's gradient would not see it. Index the base "
            "in one step (x[0, 1] = v rather than x[0][1] = v), or write into a clone() of the "
            "view, or wrap the write in `with tl.no_grad():`")
