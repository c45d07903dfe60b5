"""Devices: tensorlite computes on the CPU only.

The names exist so that code written for PyTorch runs unchanged on the CPU:
``device = "cuda" if tl.cuda.is_available() else "cpu"``, ``x.to(device)``,
``model.to(device)``, ``x.device``, ``tl.zeros(3, device=device)``. Any other device is
refused with a clear error rather than silently ignored.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np


class device:  # noqa: N801  (PyTorch's spelling: tl.device("cpu"))
    """A device; only ``"cpu"`` (also ``"cpu:0"``) exists here."""

    __slots__ = ("type", "index")

    def __init__(self, type: Any = "cpu", index: Optional[int] = None) -> None:  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index  # noqa: A001
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string such as 'cpu', got "
                            f"{_name(type)} {type!r}")
        kind, sep, idx = type.partition(":")
        if kind != "cpu":
            raise RuntimeError(f"device: tensorlite computes on the CPU only, got {type!r}")
        if sep:
            if index is not None or not idx.isdigit():
                raise RuntimeError(f"device: invalid device string {type!r}")
            index = int(idx)
        if index is not None and (isinstance(index, bool) or not isinstance(index, int)
                                  or index != 0):
            raise RuntimeError(f"device: the CPU has index 0 only, got {index!r}")
        self.type = kind
        self.index = index

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except (RuntimeError, TypeError):
                return False
        return isinstance(other, device) and other.type == self.type

    def __hash__(self) -> int:
        return hash(self.type)

    def __repr__(self) -> str:
        return f"device(type='{self.type}')" if self.index is None else \
            f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"


CPU = device("cpu")


def _name(x: Any) -> str:
    return type(x).__name__


def check_device(dev: Any, op: str) -> None:
    """Accept None, 'cpu' or a CPU device for a ``device=`` argument; refuse the rest."""
    if dev is None or dev is CPU:
        return
    try:
        device(dev)
    except (RuntimeError, TypeError) as e:
        raise type(e)(f"{op}: {e}") from None


def _is_device_like(a: Any) -> bool:
    if isinstance(a, device):
        return True
    if not isinstance(a, str):
        return False
    try:
        np.dtype(a)          # 'float32', 'int64', ... are dtypes, not devices
        return False
    except TypeError:
        return True


def parse_to(args: tuple, kwargs: dict, op: str = "to") -> tuple:
    """The (dtype or None, copy) of PyTorch's ``to`` call forms: ``to(dtype)``,
    ``to(device)``, ``to(device, dtype)``, ``to(other_tensor)``, and the keywords
    ``dtype``, ``device``, ``copy``, ``non_blocking``. A device other than the CPU is an
    error."""
    from .tensor import Tensor
    kwargs = dict(kwargs)
    dtype = kwargs.pop("dtype", None)
    dev = kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"{op}: unexpected keyword arguments {sorted(kwargs)}")
    if len(args) > 3:
        raise TypeError(f"{op}: expected at most (device, dtype, non_blocking), got {len(args)} "
                        "positional arguments")
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif _is_device_like(a):
            dev = a
        elif isinstance(a, (bool, np.bool_)):
            continue         # PyTorch's positional non_blocking / copy flags
        elif a is not None:
            dtype = a
    check_device(dev, op)
    return dtype, bool(copy)


def no_cuda(what: str) -> RuntimeError:
    return RuntimeError(f"{what}.cuda(): tensorlite computes on the CPU only (tl.cuda."
                        "is_available() is False); use .to('cpu') or leave the tensor where it is")
