"""``torch`` for PyTorch scripts run on tensorlite: ``import tensorlite.compat.torch as torch``
(or ``python -m tensorlite.run script.py``, which makes plain ``import torch`` give this).

Every attribute of ``tensorlite`` is here (``torch.tensor``, ``torch.max``, ``torch.no_grad``,
``torch.float64``, ``torch.manual_seed``, ...), the submodules are aliases
(``torch.nn`` -> ``nn``, ``torch.optim`` -> ``tensorlite.optim``, ``torch.utils.data`` ->
``tensorlite.data``, ...), plus the few process-wide switches PyTorch scripts call, which
are defined below. A name that tensorlite does not provide is an AttributeError naming the
PyTorch API (``hasattr`` keeps working); see docs/pytorch-compat.md.
"""
from __future__ import annotations

from typing import Any

import numpy as np

import tensorlite as _tl
from tensorlite._unsupported import refuse as _refuse

__path__: list = []       # a package to the import system: `import torch.nn` is an alias
__version__ = f"2.13.0+tensorlite.{_tl.__version__}"   # PyTorch's API level, PEP 440 local tag


class _TensorType(type):
    # `torch.Tensor` is tl.Tensor for isinstance/issubclass and its unbound methods, and
    # PyTorch's legacy constructor when called (torch.Tensor(2, 3) is a float32 (2, 3)).
    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, _tl.Tensor)

    def __subclasscheck__(cls, sub: Any) -> bool:
        return isinstance(sub, type) and issubclass(sub, _tl.Tensor)

    def __getattr__(cls, name: str) -> Any:
        return getattr(_tl.Tensor, name)


class Tensor(metaclass=_TensorType):
    """PyTorch's ``torch.Tensor``: ``Tensor(2, 3)`` (sizes) or ``Tensor([1, 2])`` (data),
    float32, as ``torch.FloatTensor``; ``isinstance(x, torch.Tensor)`` for any tensor."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
        return _tl.FloatTensor(*args, **kwargs)


class Size(tuple):
    """``torch.Size``: a tuple of ints (tensorlite's ``x.shape`` is a plain tuple)."""

    def numel(self) -> int:
        return int(np.prod(self, dtype=np.int64))


def set_default_dtype(d: Any) -> None:
    """Only float32, tensorlite's fixed default, is accepted."""
    if _tl.as_dtype(d, "set_default_dtype") != _tl.float32:
        raise _refuse("torch.set_default_dtype", f"the default float dtype is fixed at "
                      f"float32 in tensorlite, got {d}; create tensors with dtype=torch.float64 "
                      "and convert models with model.double()")


def get_default_dtype() -> Any:
    return _tl.float32


def set_default_device(device: Any) -> None:
    _tl.device(device if device is not None else "cpu")   # the CPU, else a clear error


def get_default_device() -> Any:
    return _tl.device("cpu")


def set_num_threads(n: int) -> None:
    """The number of threads numba's kernels use (at most the number numba started)."""
    import numba
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive integer, got {n!r}")
    numba.set_num_threads(min(int(n), numba.config.NUMBA_NUM_THREADS))


def get_num_threads() -> int:
    import numba
    return numba.get_num_threads()


def set_num_interop_threads(n: int) -> None:
    return None     # tensorlite runs one op at a time


def get_num_interop_threads() -> int:
    return 1


def compile(model: Any = None, **kwargs: Any) -> Any:  # noqa: A001
    """``torch.compile`` returns the model unchanged: tensorlite runs eagerly (the results
    are the same, only PyTorch's speed-up is missing). Also usable as a decorator."""
    if model is None:
        return lambda m: m
    return model


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    return None     # tensorlite's kernels are deterministic


def are_deterministic_algorithms_enabled() -> bool:
    return True


def set_float32_matmul_precision(precision: str) -> None:
    if precision not in ("highest", "high", "medium"):
        raise ValueError(f"set_float32_matmul_precision: got {precision!r}")


def set_printoptions(precision: Any = None, threshold: Any = None, edgeitems: Any = None,
                     linewidth: Any = None, profile: Any = None, sci_mode: Any = None) -> None:
    """Forwarded to numpy's print options, which tensorlite's repr uses."""
    kw = {k: v for k, v in dict(precision=precision, threshold=threshold, edgeitems=edgeitems,
                               linewidth=linewidth).items() if v is not None}
    if sci_mode is not None:
        kw["suppress"] = not sci_mode
    np.set_printoptions(**kw)


def finfo(dtype: Any = None) -> Any:
    """Machine limits of a float dtype (numpy's ``finfo``: eps, max, min, tiny, bits)."""
    return np.finfo(_tl.float32 if dtype is None else _tl.as_dtype(dtype, "finfo"))


def iinfo(dtype: Any) -> Any:
    """Limits of an integer dtype (numpy's ``iinfo``: max, min, bits)."""
    return np.iinfo(_tl.as_dtype(dtype, "iinfo"))


class autocast:  # noqa: N801  (PyTorch's spelling)
    """``torch.autocast(..., enabled=False)`` is a no-op context (and decorator); enabled,
    it is refused: tensorlite computes in float32/float64 only."""

    def __init__(self, device_type: str = "cpu", dtype: Any = None, enabled: bool = True,
                 cache_enabled: Any = None) -> None:
        if enabled:
            raise _refuse("torch.autocast", "mixed precision is not supported (tensorlite "
                          "computes in float32/float64); drop autocast or pass enabled=False")

    def __enter__(self) -> "autocast":
        return self

    def __exit__(self, *exc: Any) -> bool:
        return False

    def __call__(self, fn: Any) -> Any:
        return fn


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    from . import missing, modules
    sub = modules().get(f"torch.{name}")
    if sub is not None:
        return sub
    try:
        return getattr(_tl, name)
    except AttributeError:
        raise missing(f"torch.{name}") from None
