"""Dataset, TensorDataset and DataLoader (PyTorch's semantics)."""
from __future__ import annotations

import math
from typing import Any, Callable, Iterator, Optional, Sequence

import numpy as np

from ..random import generator
from ..tensor import Tensor, _make


class Dataset:
    """Anything with ``__getitem__(i)`` and ``__len__``."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError


class TensorDataset(Dataset):
    """Samples are the i-th rows of each tensor (or array)."""

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor")
        arrays = [t.data if isinstance(t, Tensor) else np.asarray(t) for t in tensors]
        n = len(arrays[0])
        for k, a in enumerate(arrays):
            if a.ndim == 0 or len(a) != n:
                raise ValueError(f"TensorDataset: tensor {k} has shape {a.shape}; every tensor "
                                 f"needs the same first dimension ({n})")
        self.arrays = arrays

    def __getitem__(self, index: Any) -> tuple:
        return tuple(_make(a[index], False, None, 0, None) for a in self.arrays)

    def __len__(self) -> int:
        return len(self.arrays[0])


def default_collate(batch: Sequence[Any]) -> Any:
    """Stack samples: Tensors/arrays -> a Tensor with a new first dim; Python ints -> int64,
    floats -> float32; tuples/lists/dicts recursively."""
    first = batch[0]
    if isinstance(first, Tensor):
        return _make(np.stack([b.data for b in batch]), False, None, 0, None)
    if isinstance(first, np.ndarray) or isinstance(first, np.generic):
        return _make(np.stack([np.asarray(b) for b in batch]), False, None, 0, None)
    if isinstance(first, bool):
        return _make(np.asarray(batch, np.bool_), False, None, 0, None)
    if isinstance(first, int):
        return _make(np.asarray(batch, np.int64), False, None, 0, None)
    if isinstance(first, float):
        return _make(np.asarray(batch, np.float32), False, None, 0, None)
    if isinstance(first, dict):
        return {k: default_collate([b[k] for b in batch]) for k in first}
    if isinstance(first, (tuple, list)):
        if any(len(b) != len(first) for b in batch):
            raise ValueError("default_collate: samples have different numbers of fields")
        return type(first)(default_collate(list(f)) for f in zip(*batch)) \
            if isinstance(first, tuple) else [default_collate(list(f)) for f in zip(*batch)]
    if isinstance(first, str):
        return list(batch)
    raise TypeError(f"default_collate: cannot batch samples of type {type(first).__name__}")


class DataLoader:
    """Batches of a dataset; ``shuffle`` draws a new order each epoch from the library
    generator. A TensorDataset without a custom collate_fn is batched by indexing its
    arrays with the whole batch's indices at once (no per-sample Python loop)."""

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, collate_fn: Optional[Callable] = None) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        self.dataset, self.batch_size = dataset, batch_size
        self.shuffle, self.drop_last = shuffle, drop_last
        self.collate_fn = collate_fn or default_collate

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        n = len(self.dataset)
        order = generator().permutation(n) if self.shuffle else np.arange(n)
        fast = isinstance(self.dataset, TensorDataset) and self.collate_fn is default_collate
        for start in range(0, n, self.batch_size):
            idx = order[start:start + self.batch_size]
            if self.drop_last and len(idx) < self.batch_size:
                return
            if fast:
                yield tuple(_make(a[idx], False, None, 0, None) for a in self.dataset.arrays)
            else:
                yield self.collate_fn([self.dataset[int(i)] for i in idx])
