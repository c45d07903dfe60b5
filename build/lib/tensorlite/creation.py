"""Functions that make new tensors: from data, filled, ranges, random draws."""
from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

from ._checks import check_int, is_int
from .device import check_device
from .random import generator
from .tensor import Tensor, _make, _DEFAULT_FLOAT, _supported, as_dtype, int64


def _shape(op: str, size: tuple, dtype: Any = None) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    # int() would accept 2.5 (truncating) and "3" (parsing): sizes must be integers
    if not all(is_int(s) for s in size):
        raise TypeError(f"{op}: size must be ints, got {size!r}")
    shape = tuple(int(s) for s in size)
    if any(s < 0 for s in shape):
        raise ValueError(f"{op}: negative dimension in size {shape}")
    from .ops.shape import _check_size
    # the random draws are made in 64 bits before any cast: 8 bytes an entry by default
    _check_size(op, shape, np.float64 if dtype is None else dtype)
    return shape


def _finish(arr: np.ndarray, requires_grad: bool) -> Tensor:
    t = _make(arr, False, None, 0, None)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False,
           device: Any = None) -> Tensor:
    """A new tensor holding a copy of ``data`` (Python floats -> float32, ints -> int64)."""
    check_device(device, "tensor")
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


def from_numpy(a: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``a``."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"from_numpy: expected an np.ndarray, got {type(a).__name__}")
    if not _supported(a.dtype):
        raise TypeError(f"from_numpy: unsupported dtype {a.dtype} (tensors hold bool, integer, "
                        "float32 or float64 data)")
    return _make(a, False, None, 0, None)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    check_device(device, "as_tensor")
    if isinstance(data, Tensor) and (dtype is None or data.dtype == as_dtype(dtype)):
        return data
    if isinstance(data, np.ndarray) and (dtype is None or data.dtype == as_dtype(dtype)):
        return from_numpy(data)
    return Tensor(data, dtype=dtype)


def _float(dtype: Any, op: str = "dtype") -> np.dtype:
    return _DEFAULT_FLOAT if dtype is None else as_dtype(dtype, op)


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False,
          device: Any = None) -> Tensor:
    check_device(device, "zeros")
    return _finish(np.zeros(_shape("zeros", size, _float(dtype, "zeros")), _float(dtype, "zeros")), requires_grad)


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    check_device(device, "ones")
    return _finish(np.ones(_shape("ones", size, _float(dtype, "ones")), _float(dtype, "ones")), requires_grad)


def empty(*size: Any, dtype: Any = None, requires_grad: bool = False,
          device: Any = None) -> Tensor:
    check_device(device, "empty")
    return _finish(np.empty(_shape("empty", size, _float(dtype, "empty")), _float(dtype, "empty")), requires_grad)


def full(size: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False,
         device: Any = None, *, _op: str = "full") -> Tensor:
    check_device(device, _op)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if not isinstance(fill_value, (bool, int, float, np.bool_, np.integer, np.floating)):
        # np.full would parse "1.5" or fail with its own wording
        raise TypeError(f"{_op}: fill_value must be a number, got {type(fill_value).__name__} "
                        f"{fill_value!r:.40}")
    if dtype is None:
        dtype = (np.bool_ if isinstance(fill_value, (bool, np.bool_)) else
                 int64 if isinstance(fill_value, (int, np.integer)) else _DEFAULT_FLOAT)
    size = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    dt = as_dtype(dtype, "full")
    if dt.kind in "iu" and not isinstance(fill_value, (bool, np.bool_)):
        # numpy's unsafe cast would store garbage for NaN, inf or an out-of-range value
        info = np.iinfo(dt)
        # Python ints compared as such: a float() of 10**30 could itself round or overflow
        ok = (info.min <= fill_value <= info.max if isinstance(fill_value, (int, np.integer))
              else math.isfinite(fill_value) and info.min <= int(fill_value) <= info.max)
        if not ok:
            raise RuntimeError(f"{_op}: fill_value {fill_value!r} cannot be converted to {dt} "
                               "without overflow")
    return _finish(np.full(_shape(_op, size, dt), fill_value, dt), requires_grad)


def eye(n: int, m: Optional[int] = None, dtype: Any = None, requires_grad: bool = False,
        device: Any = None) -> Tensor:
    check_device(device, "eye")
    check_int("eye", "n", n, 0)
    if m is not None:
        check_int("eye", "m", m, 0)
    return _finish(np.eye(n, m, dtype=_float(dtype, "eye")), requires_grad)


def arange(start: Any = None, end: Any = None, step: Any = 1, dtype: Any = None,
           requires_grad: bool = False, device: Any = None) -> Tensor:
    """``arange(end)``, ``arange(start, end, step)``; ``arange(end=n)`` too, as in PyTorch."""
    check_device(device, "arange")
    if end is None:
        if start is None:
            raise TypeError("arange: missing the end of the range (arange(end) or "
                            "arange(start, end, step))")
        start, end = 0, start
    elif start is None:
        start = 0
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    for name, v in (("start", start), ("end", end), ("step", step)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise TypeError(f"arange: {name} must be a number, got {type(v).__name__} {v!r:.40}")
        if not math.isfinite(v):
            raise ValueError(f"arange: {name} must be finite, got {v}")
    if step == 0:
        raise ValueError("arange: step must be non-zero")
    if (end - start) * step < 0:
        # numpy returns an empty range; PyTorch calls this an error (a sign slip, usually)
        raise ValueError(f"arange: the bounds {start} -> {end} are inconsistent with the sign of "
                         f"step {step}")
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = int64 if ints else _DEFAULT_FLOAT
    return _finish(np.arange(start, end, step, dtype=as_dtype(dtype, "arange")), requires_grad)


def linspace(start: float, end: float, steps: int, dtype: Any = None,
             requires_grad: bool = False, device: Any = None) -> Tensor:
    check_device(device, "linspace")
    check_int("linspace", "steps", steps, 0)
    return _finish(np.linspace(start, end, steps, dtype=_float(dtype, "linspace")),
                   requires_grad)


def _random_float(op: str, dtype: Any) -> np.dtype:
    dt = _float(dtype, op)
    if dt.kind != "f":
        # casting the draws would give zeros (rand) or truncated values (randn)
        raise TypeError(f"{op}: dtype must be floating point, got {dt} (use randint for "
                        "integers)")
    return dt


def _generator(op: str, gen: Any) -> Any:
    from .random import as_numpy_generator
    return as_numpy_generator(op, gen)


def rand(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None,
         generator: Any = None) -> Tensor:
    """Uniform on [0, 1), drawn from the library generator (see ``manual_seed``) or from
    ``generator`` (a ``tl.Generator``)."""
    check_device(device, "rand")
    dt = _random_float("rand", dtype)
    shape = _shape("rand", size)
    return _finish(_generator("rand", generator).random(shape).astype(dt), requires_grad)


def randn(*size: Any, dtype: Any = None, requires_grad: bool = False,
          device: Any = None, generator: Any = None) -> Tensor:
    """Standard normal, drawn from the library generator or from ``generator``."""
    check_device(device, "randn")
    dt = _random_float("randn", dtype)
    shape = _shape("randn", size)
    return _finish(_generator("randn", generator).standard_normal(shape).astype(dt),
                   requires_grad)


def randint(low: int, high: Any = None, size: Any = (), dtype: Any = None,
            requires_grad: bool = False, device: Any = None, generator: Any = None) -> Tensor:
    """Integers uniform in [low, high): ``randint(high, size)`` or ``randint(low, high, size)``."""
    check_device(device, "randint")
    if isinstance(high, (tuple, list)):
        # PyTorch's randint(high, size) form: the second positional argument is the size
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    check_int("randint", "low", low)
    check_int("randint", "high", high)
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    size = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    dt = as_dtype(dtype, "randint") if dtype is not None else int64
    if requires_grad and dt.kind != "f":
        raise RuntimeError(f"randint: only floating-point tensors can require gradients, got "
                           f"dtype {dt}")
    arr = _generator("randint", generator).integers(low, high, size=_shape("randint", size))
    return _finish(arr.astype(dt), requires_grad)


def randperm(n: int, dtype: Any = None, device: Any = None, generator: Any = None) -> Tensor:
    check_device(device, "randperm")
    check_int("randperm", "n", n, 0)
    dt = int64 if dtype is None else as_dtype(dtype, "randperm")
    return _finish(_generator("randperm", generator).permutation(n).astype(dt), False)


def _like(fn: Any) -> Any:
    def like(x: Tensor, *args: Any, dtype: Any = None, requires_grad: bool = False,
             device: Any = None) -> Tensor:
        check_device(device, fn.__name__ + "_like")
        return fn(*args, x.shape, dtype=x.dtype if dtype is None else dtype,
                  requires_grad=requires_grad) if args else fn(
            x.shape, dtype=x.dtype if dtype is None else dtype, requires_grad=requires_grad)
    like.__name__ = fn.__name__ + "_like"
    return like


zeros_like = _like(zeros)
ones_like = _like(ones)
empty_like = _like(empty)
rand_like = _like(rand)
randn_like = _like(randn)


def full_like(x: Tensor, fill_value: Any, dtype: Any = None, requires_grad: bool = False,
              device: Any = None) -> Tensor:
    check_device(device, "full_like")
    return full(x.shape, fill_value, dtype=x.dtype if dtype is None else dtype,
                requires_grad=requires_grad)


def randint_like(x: Tensor, low: int, high: Optional[int] = None, dtype: Any = None,
                 device: Any = None) -> Tensor:
    check_device(device, "randint_like")
    return randint(low, high, x.shape, dtype=x.dtype if dtype is None else dtype)


# -- helpers that make a tensor "like" another, as PyTorch's Tensor.new_* methods --------
def _new_dtype(op: str, x: Tensor, dtype: Any, requires_grad: bool) -> np.dtype:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    dt = x._data.dtype if dtype is None else as_dtype(dtype, op)
    if requires_grad and dt.kind != "f":
        raise RuntimeError(f"{op}: only floating-point tensors can require gradients, got "
                           f"dtype {dt}")
    return dt


def new_zeros(x: Tensor, *size: Any, dtype: Any = None, requires_grad: bool = False,
              device: Any = None) -> Tensor:
    """Zeros of ``size`` with x's dtype (unless ``dtype`` is given)."""
    check_device(device, "new_zeros")
    dt = _new_dtype("new_zeros", x, dtype, requires_grad)
    return _finish(np.zeros(_shape("new_zeros", size, dt), dt), requires_grad)


def new_ones(x: Tensor, *size: Any, dtype: Any = None, requires_grad: bool = False,
             device: Any = None) -> Tensor:
    check_device(device, "new_ones")
    dt = _new_dtype("new_ones", x, dtype, requires_grad)
    return _finish(np.ones(_shape("new_ones", size, dt), dt), requires_grad)


def new_empty(x: Tensor, *size: Any, dtype: Any = None, requires_grad: bool = False,
              device: Any = None) -> Tensor:
    check_device(device, "new_empty")
    dt = _new_dtype("new_empty", x, dtype, requires_grad)
    return _finish(np.empty(_shape("new_empty", size, dt), dt), requires_grad)


def new_full(x: Tensor, size: Any, fill_value: Any, *, dtype: Any = None,
             requires_grad: bool = False, device: Any = None) -> Tensor:
    """``size`` filled with ``fill_value``, of x's dtype unless ``dtype`` is given (a float
    fill of an integer tensor truncates, as PyTorch)."""
    check_device(device, "new_full")
    dt = _new_dtype("new_full", x, dtype, requires_grad)
    return full(size, fill_value, dtype=dt, requires_grad=requires_grad, _op="new_full")


def new_tensor(x: Tensor, data: Any, dtype: Any = None, requires_grad: bool = False,
               device: Any = None) -> Tensor:
    """A copy of ``data`` as a tensor of x's dtype (unless ``dtype`` is given), as PyTorch:
    ``float64_tensor.new_tensor([1, 2])`` is float64."""
    check_device(device, "new_tensor")
    dt = _new_dtype("new_tensor", x, dtype, requires_grad)
    return Tensor(data, dtype=dt, requires_grad=requires_grad)


def type_as(x: Tensor, other: Tensor) -> Tensor:
    """x converted to other's dtype (x itself when they already agree)."""
    if not isinstance(other, Tensor):
        raise TypeError(f"type_as: expected a Tensor, got {type(other).__name__}")
    return x.to(other._data.dtype)


def cpu(x: Tensor) -> Tensor:
    """x itself: tensors live in host memory (PyTorch's .cpu() of a CPU tensor)."""
    return x


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


def numel(x: Tensor) -> int:
    if not isinstance(x, Tensor):
        raise TypeError(f"numel: expected a Tensor, got {type(x).__name__}")
    return int(x._data.size)


def logspace(start: Any, end: Any, steps: int, base: float = 10.0, dtype: Any = None,
             requires_grad: bool = False, device: Any = None) -> Tensor:
    """``steps`` points ``base ** linspace(start, end, steps)``."""
    check_device(device, "logspace")
    check_int("logspace", "steps", steps, 0)
    for name, v in (("start", start), ("end", end), ("base", base)):
        if isinstance(v, Tensor):
            v = v.item()
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise TypeError(f"logspace: {name} must be a number, got {type(v).__name__} "
                            f"{v!r:.40}")
    start, end, base = (v.item() if isinstance(v, Tensor) else v for v in (start, end, base))
    dt = _float(dtype, "logspace")
    _shape("logspace", (steps,), np.float64)
    with np.errstate(over="ignore"):
        vals = np.power(float(base), np.linspace(float(start), float(end), steps))
    return _finish(vals.astype(dt), requires_grad)


def _tri_indices(op: str, row: Any, col: Any, offset: Any, dtype: Any, upper: bool) -> Tensor:
    row = check_int(op, "row", row, 0)
    col = check_int(op, "col", col, 0)
    offset = check_int(op, "offset", offset)
    dt = int64 if dtype is None else as_dtype(dtype, op)
    if dt.kind not in "iu":
        raise TypeError(f"{op}: dtype must be an integer type, got {dt}")
    _shape(op, (row, col), np.bool_)  # the mask built below
    mask = np.triu(np.ones((row, col), bool), offset) if upper else \
        np.tril(np.ones((row, col), bool), offset)
    return _finish(np.stack(np.nonzero(mask)).astype(dt).reshape(2, -1), False)


def tril_indices(row: int, col: int, offset: int = 0, dtype: Any = None,
                 device: Any = None) -> Tensor:
    """The (2, N) row/column coordinates of the lower triangle of a row x col matrix, in
    row-major order."""
    check_device(device, "tril_indices")
    return _tri_indices("tril_indices", row, col, offset, dtype, False)


def triu_indices(row: int, col: int, offset: int = 0, dtype: Any = None,
                 device: Any = None) -> Tensor:
    check_device(device, "triu_indices")
    return _tri_indices("triu_indices", row, col, offset, dtype, True)
