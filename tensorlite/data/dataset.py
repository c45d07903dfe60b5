"""Dataset, TensorDataset, Subset, random_split and DataLoader (PyTorch's semantics).

    ds = TensorDataset(images, labels)              # (N, 1, 28, 28) and (N,)
    train, val = random_split(ds, [50000, 10000])
    for x, y in DataLoader(train, batch_size=64, shuffle=True):
        ...                                         # x: (64, 1, 28, 28) Tensor, y: (64,)

Shuffling draws from the library generator, so ``tl.manual_seed`` fixes the order.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Callable, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..random import generator

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split",
           "DataLoader", "default_collate"]


def _wrap(arr: np.ndarray) -> Any:
    """An array as a Tensor without a copy or any checks (the hot path of batching)."""
    from ..tensor import _make
    return _make(arr, False, None, 0, None)


def _array_of(t: Any) -> np.ndarray:
    """The array behind a Tensor (detached), or ``t`` as an array."""
    from ..tensor import Tensor
    return t.data if isinstance(t, Tensor) else np.asarray(t)


class Dataset:
    """Anything with ``__getitem__(i)`` and ``__len__``; subclass and define both."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __add__(self, other: "Dataset") -> "ConcatDataset":
        return ConcatDataset([self, other])


def _check_index(op: str, index: Any, n: int) -> int:
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
        raise TypeError(f"{op}: index must be an int, got {type(index).__name__}")
    if not -n <= index < n:
        raise IndexError(f"{op}: index {index} is out of range for {n} samples")
    return int(index) % n


class TensorDataset(Dataset):
    """Sample ``i`` is the tuple of the ``i``-th rows of each tensor (Tensors or arrays,
    all with the same first dimension N). Rows come back as Tensors sharing memory."""

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor")
        arrays = [_array_of(t) for t in tensors]
        for k, a in enumerate(arrays):
            if a.ndim == 0:
                raise ValueError(f"TensorDataset: tensor {k} is a scalar; every tensor needs a "
                                 "first (sample) dimension")
            if a.dtype.kind not in "fiub":
                raise TypeError(f"TensorDataset: tensor {k} has dtype {a.dtype}; expected "
                                "numbers or booleans")
        if len({len(a) for a in arrays}) > 1:
            shapes = ", ".join(str(a.shape) for a in arrays)
            raise ValueError(f"TensorDataset: tensors have shapes {shapes}; every tensor needs "
                             "the same first dimension")
        self.arrays: Tuple[np.ndarray, ...] = tuple(arrays)

    @property
    def tensors(self) -> tuple:
        return tuple(_wrap(a) for a in self.arrays)

    def __getitem__(self, index: Any) -> tuple:
        """Row ``index`` of every tensor; as in PyTorch, a slice (``ds[0:2]``) or a 1-D
        list/array/Tensor of ints or bools selects several rows of each at once (a slice
        shares memory, a list of indices copies)."""
        if isinstance(index, slice):
            return tuple(_wrap(a[index]) for a in self.arrays)
        if isinstance(index, (bool, np.bool_)) or isinstance(index, (int, np.integer)) \
                or not hasattr(index, "__len__"):
            i = _check_index("TensorDataset", index, len(self))
            # np.asarray: a row of a 1-D array is a numpy scalar; a Tensor needs an ndarray.
            return tuple(_wrap(np.asarray(a[i])) for a in self.arrays)
        idx = _array_of(index)
        if idx.ndim == 0 and idx.dtype.kind in "iu":          # a 0-d Tensor: one row
            return self[int(idx)]
        if idx.size == 0:
            idx = idx.astype(np.int64)                     # np.asarray([]) is float64
        if idx.ndim != 1 or idx.dtype.kind not in "iub":
            raise TypeError(f"TensorDataset: an index list must be 1-D ints or bools, got "
                            f"shape {idx.shape} of {idx.dtype}")
        n = len(self)
        if idx.dtype.kind == "b":
            if len(idx) != n:
                raise IndexError(f"TensorDataset: a boolean mask needs {n} entries, got "
                                 f"{len(idx)}")
        elif idx.size and (idx.min() < -n or idx.max() >= n):
            bad = idx.min() if idx.min() < -n else idx.max()
            raise IndexError(f"TensorDataset: index {bad} is out of range for {n} samples")
        return tuple(_wrap(a[idx]) for a in self.arrays)

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __repr__(self) -> str:
        return f"TensorDataset({len(self)} samples, shapes {[a.shape[1:] for a in self.arrays]})"


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        idx = np.asarray(indices)
        if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
            raise TypeError(f"Subset: indices must be a 1-D sequence of ints, got {indices!r:.80}")
        n = len(dataset)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f"Subset: indices must be in [{-n}, {n}) for a dataset of {n} "
                             f"samples, got min {idx.min()} max {idx.max()}")
        self.dataset = dataset
        self.indices = idx.astype(np.int64) % max(n, 1)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[int(self.indices[_check_index("Subset", index, len(self))])]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """The samples of several datasets one after another."""

    def __init__(self, datasets: Sequence[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: needs at least one dataset")
        self.cumulative = np.cumsum([len(d) for d in self.datasets])

    def __getitem__(self, index: int) -> Any:
        i = _check_index("ConcatDataset", index, len(self))
        k = int(np.searchsorted(self.cumulative, i, side="right"))
        return self.datasets[k][i - (int(self.cumulative[k - 1]) if k else 0)]

    def __len__(self) -> int:
        return int(self.cumulative[-1])


def random_split(dataset: Any, lengths: Sequence[Union[int, float]]) -> List[Subset]:
    """Disjoint random subsets of the given lengths (ints summing to ``len(dataset)``, or
    fractions summing to 1; leftover samples of fractions go round-robin to the first
    subsets, as in PyTorch). The permutation comes from the library generator."""
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(x, float) for x in lengths):
        if any(x < 0 for x in lengths) or not math.isclose(sum(lengths), 1.0, abs_tol=1e-9):
            raise ValueError(f"random_split: fractions must be >= 0 and sum to 1, got {lengths}")
        counts = [int(math.floor(n * x)) for x in lengths]
        for k in range(n - sum(counts)):
            counts[k % len(counts)] += 1
        lengths = counts
    if any(isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < 0
           for x in lengths):
        raise TypeError(f"random_split: lengths must be non-negative ints (or fractions), got "
                        f"{lengths}")
    if sum(lengths) != n:
        raise ValueError(f"random_split: lengths {lengths} sum to {sum(lengths)}, but the "
                         f"dataset has {n} samples")
    perm = generator().permutation(n)
    bounds = np.cumsum([0] + lengths)
    return [Subset(dataset, perm[bounds[k]:bounds[k + 1]]) for k in range(len(lengths))]


def _stack(batch: Sequence[np.ndarray]) -> np.ndarray:
    shape = batch[0].shape
    for k, b in enumerate(batch):
        if b.shape != shape:
            raise ValueError(f"default_collate: sample {k} has shape {b.shape} but sample 0 has "
                             f"{shape}; samples must have equal shapes to be stacked (pass a "
                             "collate_fn that pads them)")
    return np.stack(batch)


def default_collate(batch: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch with a new first dimension.

    Tensors, arrays and numpy scalars -> a Tensor of their dtype; Python ints -> int64,
    floats -> float64, bools -> bool (PyTorch's dtypes: a Python float is a double);
    strings -> a list; dicts and namedtuples -> the same structure with each field
    collated; other tuples and lists -> a list of the collated fields (as PyTorch, so
    ``x, y = batch`` unpacks either).
    """
    from ..tensor import Tensor
    if not isinstance(batch, (list, tuple)) or not batch:
        raise ValueError("default_collate: expected a non-empty list of samples")
    first = batch[0]
    if isinstance(first, Tensor):
        return _wrap(_stack([b.data if isinstance(b, Tensor) else np.asarray(b) for b in batch]))
    if isinstance(first, (np.ndarray, np.generic)):
        if np.asarray(first).dtype.kind not in "fiub":
            raise TypeError(f"default_collate: cannot batch arrays of dtype {first.dtype}")
        return _wrap(_stack([np.asarray(b) for b in batch]))
    if isinstance(first, bool):
        return _wrap(np.asarray(batch, np.bool_))
    if isinstance(first, int):
        return _wrap(np.asarray(batch, np.int64))
    if isinstance(first, float):
        return _wrap(np.asarray(batch, np.float64))
    if isinstance(first, str):
        return list(batch)
    if isinstance(first, Mapping):
        keys = set(first)
        for k, b in enumerate(batch):
            if set(b) != keys:
                raise ValueError(f"default_collate: sample {k} has keys {sorted(b)} but sample "
                                 f"0 has {sorted(keys)}")
        return {key: default_collate([b[key] for b in batch]) for key in first}
    if isinstance(first, (tuple, list)):
        for k, b in enumerate(batch):
            if len(b) != len(first):
                raise ValueError(f"default_collate: sample {k} has {len(b)} fields but sample 0 "
                                 f"has {len(first)}")
        fields = [default_collate(list(f)) for f in zip(*batch)]
        if isinstance(first, tuple) and hasattr(first, "_fields"):   # a namedtuple
            return type(first)(*fields)
        return fields
    raise TypeError(f"default_collate: cannot batch samples of type {type(first).__name__} "
                    "(expected Tensors, arrays, numbers, strings, or tuples/lists/dicts of them)")


def _tensor_rows(dataset: Any) -> Optional[Tuple[Tuple[np.ndarray, ...], Optional[np.ndarray]]]:
    """For a TensorDataset, or Subsets of one: its arrays and the index map (None: the
    identity), so that a whole batch is one fancy-index per array."""
    index = None
    while isinstance(dataset, Subset):
        index = dataset.indices if index is None else dataset.indices[index]
        dataset = dataset.dataset
    if type(dataset) is TensorDataset:        # a subclass may override __getitem__
        return dataset.arrays, index
    return None


class DataLoader:
    """Iterate over a dataset in batches of ``batch_size`` samples.

    ``shuffle`` draws a new order every epoch from the library generator; ``drop_last``
    drops a final smaller batch; ``collate_fn(list_of_samples)`` builds a batch
    (default: :func:`default_collate`). A TensorDataset (or a Subset of one, as
    random_split makes) with the default collate is batched by indexing its arrays with
    all of a batch's indices at once, with no per-sample Python: tens of times faster.

    ``num_workers`` and ``pin_memory`` are accepted so that PyTorch code runs unchanged,
    but batches are always built in this process (``num_workers`` > 0 too): the data
    sets here are in-memory arrays, for which sending each batch from a worker process
    would cost more than building it, and there is no GPU memory to pin for.
    """

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, collate_fn: Optional[Callable] = None,
                 num_workers: int = 0, pin_memory: bool = False) -> None:
        if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)) \
                or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be an int >= 0, got "
                             f"{num_workers!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise TypeError(f"DataLoader: dataset must define __getitem__ and __len__, got "
                            f"{type(dataset).__name__}")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError("DataLoader: collate_fn must be callable")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = default_collate if collate_fn is None else collate_fn
        self.num_workers = int(num_workers)             # recorded only: see the docstring
        self.pin_memory = bool(pin_memory)

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        n = len(self.dataset)
        order = generator().permutation(n) if self.shuffle else None
        rows = _tensor_rows(self.dataset) if self.collate_fn is default_collate else None
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            end = min(start + self.batch_size, n)
            if rows is not None:
                arrays, index = rows
                if order is None and index is None:
                    # A copy, as torch.stack makes: the batch owns its memory, so an
                    # in-place op on it cannot change the dataset.
                    yield [_wrap(a[start:end].copy()) for a in arrays]
                    continue
                idx = np.arange(start, end) if order is None else order[start:end]
                if index is not None:
                    idx = index[idx]
                yield [_wrap(a[idx]) for a in arrays]
            else:
                idx = range(start, end) if order is None else order[start:end].tolist()
                yield self.collate_fn([self.dataset[i] for i in idx])

    def __repr__(self) -> str:
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, batch_size="
                f"{self.batch_size}, shuffle={self.shuffle}, drop_last={self.drop_last})")
