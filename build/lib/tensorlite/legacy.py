"""PyTorch's legacy typed constructors: ``tl.FloatTensor``, ``DoubleTensor``, ``LongTensor``,
``IntTensor``, ``BoolTensor``, as old scripts call them.

``tl.FloatTensor(2, 3)`` is a (2, 3) float32 tensor (zeros here; PyTorch leaves it
uninitialised), ``tl.LongTensor([1, 2])`` converts data, ``tl.FloatTensor()`` is empty, and
``isinstance(x, tl.FloatTensor)`` is true for a float32 tensor, as in PyTorch.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .device import check_device
from .tensor import Tensor, _make


class _TypedTensorMeta(type):
    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype

    def __repr__(cls) -> str:
        return f"<class 'tensorlite.{cls.__name__}'>"


def _is_int(a: Any) -> bool:
    return isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_))


class _TypedTensor(metaclass=_TypedTensorMeta):
    dtype: np.dtype = np.dtype(np.float32)

    def __new__(cls, *args: Any, device: Any = None) -> Tensor:  # type: ignore[misc]
        name = cls.__name__
        check_device(device, name)
        if not args:
            return _make(np.empty(0, cls.dtype), False, None, 0, None)
        if all(_is_int(a) for a in args):          # sizes
            if any(a < 0 for a in args):
                raise RuntimeError(f"{name}: negative dimension in size {tuple(args)}")
            return _make(np.zeros(tuple(int(a) for a in args), cls.dtype), False, None, 0, None)
        if len(args) != 1:
            raise TypeError(f"{name}: expected sizes (ints) or one sequence of data, got "
                            f"{', '.join(type(a).__name__ for a in args)}")
        data = args[0]
        if isinstance(data, Tensor):
            if data.dtype != cls.dtype:
                raise TypeError(f"{name}: expected a {cls.dtype} tensor, got {data.dtype} (use "
                                f".to(...) to convert)")
            return data.detach()
        try:
            arr = np.array(data._data if isinstance(data, Tensor) else data)
        except (ValueError, TypeError) as e:
            raise TypeError(f"{name}: cannot make a tensor of {type(data).__name__}: {e}") \
                from None
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{name}: data must be numbers, got dtype {arr.dtype}")
        return _make(arr.astype(cls.dtype), False, None, 0, None)


class FloatTensor(_TypedTensor):
    dtype = np.dtype(np.float32)


class DoubleTensor(_TypedTensor):
    dtype = np.dtype(np.float64)


class LongTensor(_TypedTensor):
    dtype = np.dtype(np.int64)


class IntTensor(_TypedTensor):
    dtype = np.dtype(np.int32)


class BoolTensor(_TypedTensor):
    dtype = np.dtype(np.bool_)


__all__ = ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "BoolTensor"]
