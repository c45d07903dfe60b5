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

from ..random import as_numpy_generator

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split",
           "DataLoader", "default_collate", "Sampler", "SequentialSampler", "RandomSampler",
           "SubsetRandomSampler", "BatchSampler"]


def _wrap(arr: np.ndarray) -> Any:
    """An array as a Tensor without a copy or any checks (the hot path of batching)."""
    from ..tensor import _make
    return _make(arr, False, None, 0, None)


def _array_of(t: Any) -> np.ndarray:
    """The array behind a Tensor (detached), or ``t`` as an array."""
    from ..tensor import Tensor
    return t._data if isinstance(t, Tensor) else np.asarray(t)


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


def random_split(dataset: Any, lengths: Sequence[Union[int, float]],
                 generator: Any = None) -> List[Subset]:
    """Disjoint random subsets of the given lengths (ints summing to ``len(dataset)``, or
    fractions summing to 1; leftover samples of fractions go round-robin to the first
    subsets, as in PyTorch). The permutation comes from the library generator, or from
    ``generator`` (a tl.Generator or numpy Generator)."""
    rng = as_numpy_generator("random_split", generator)
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
    perm = rng.permutation(n)
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
        return _wrap(_stack([b._data if isinstance(b, Tensor) else np.asarray(b) for b in batch]))
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


# ----------------------------------------------------------------------------- samplers
class Sampler:
    """An iterable of dataset indices (PyTorch's ``torch.utils.data.Sampler``)."""

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError

    def __len__(self) -> int:
        raise TypeError(f"{type(self).__name__} has no length")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source: Any) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random order of the indices (a new one per epoch), or ``num_samples`` draws with
    replacement; from the library generator (``tl.manual_seed``) or ``generator`` (a
    tl.Generator or numpy Generator)."""

    def __init__(self, data_source: Any, replacement: bool = False,
                 num_samples: Optional[int] = None, generator: Any = None) -> None:
        if not isinstance(replacement, (bool, np.bool_)):
            raise TypeError(f"RandomSampler: replacement must be a bool, got {replacement!r}")
        if num_samples is not None and (isinstance(num_samples, bool) or not isinstance(
                num_samples, (int, np.integer)) or num_samples < 1):
            raise ValueError(f"RandomSampler: num_samples must be a positive int, got "
                             f"{num_samples!r}")
        _check_generator("RandomSampler", generator)
        self.data_source = data_source
        self.replacement = bool(replacement)
        self._num_samples = num_samples
        self.generator = generator

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else int(self._num_samples)

    def __iter__(self) -> Iterator[int]:
        n, gen = len(self.data_source), as_numpy_generator("RandomSampler", self.generator)
        if self.replacement:
            return iter(gen.integers(0, n, size=self.num_samples).tolist())
        # Without replacement and more samples than items: whole permutations, as PyTorch.
        reps = -(-self.num_samples // n) if n else 0
        order = np.concatenate([gen.permutation(n) for _ in range(reps)]) if reps else []
        return iter(np.asarray(order, dtype=np.int64)[:self.num_samples].tolist())

    def __len__(self) -> int:
        return self.num_samples


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probability proportional to ``weights`` (with
    replacement by default): PyTorch's way to rebalance classes. Drawn from the library
    generator or ``generator``."""

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator: Any = None) -> None:
        name = "WeightedRandomSampler"
        if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) \
                or num_samples <= 0:
            raise ValueError(f"{name}: num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples!r}")
        if not isinstance(replacement, (bool, np.bool_)):
            raise ValueError(f"{name}: replacement should be a boolean value, but got "
                             f"replacement={replacement!r}")
        w = np.asarray(getattr(weights, "_data", weights), dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"{name}: weights should be a 1d sequence but given weights have "
                             f"shape {w.shape}")
        if not np.isfinite(w).all() or (w < 0).any() or not w.sum() > 0:
            raise ValueError(f"{name}: weights must be finite, non-negative and not all zero")
        if not replacement and num_samples > np.count_nonzero(w):
            raise RuntimeError(f"{name}: cannot draw {num_samples} samples without replacement "
                               f"from {np.count_nonzero(w)} non-zero weights")
        _check_generator(name, generator)
        self.weights, self.num_samples = w, int(num_samples)
        self.replacement, self.generator = bool(replacement), generator

    def __iter__(self) -> Iterator[int]:
        gen = as_numpy_generator("WeightedRandomSampler", self.generator)
        draw = gen.choice(len(self.weights), size=self.num_samples, replace=self.replacement,
                          p=self.weights / self.weights.sum())
        return iter(draw.astype(np.int64).tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order (a new one per epoch): PyTorch's way to draw a
    training and a validation split from one dataset."""

    def __init__(self, indices: Sequence[int], generator: Any = None) -> None:
        _check_generator("SubsetRandomSampler", generator)
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        gen = as_numpy_generator("SubsetRandomSampler", self.generator)
        return iter(int(self.indices[i]) for i in gen.permutation(len(self.indices)))

    def __len__(self) -> int:
        return len(self.indices)


class BatchSampler(Sampler):
    """Lists of ``batch_size`` indices from ``sampler``; the last may be smaller unless
    ``drop_last``."""

    def __init__(self, sampler: Any, batch_size: int, drop_last: bool) -> None:
        _check_batch_size("BatchSampler", batch_size)
        if not isinstance(drop_last, (bool, np.bool_)):
            raise TypeError(f"BatchSampler: drop_last must be a bool, got {drop_last!r}")
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = bool(drop_last)

    def __iter__(self) -> Iterator[List[int]]:
        batch: List[int] = []
        for i in self.sampler:
            batch.append(int(i))
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


def _check_generator(op: str, gen: Any) -> None:
    as_numpy_generator(op, gen)   # raises for anything but None or a generator


def _check_batch_size(op: str, batch_size: Any) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise ValueError(f"{op}: batch_size must be a positive int, got {batch_size!r}")


def _default_convert(sample: Any) -> Any:
    """A sample as the loader yields it without batching (batch_size=None): numpy arrays
    become Tensors, containers are converted item by item (PyTorch's default_convert)."""
    from ..tensor import Tensor
    if isinstance(sample, np.ndarray) and sample.dtype.kind in "biuf":
        return Tensor(sample)
    if isinstance(sample, Mapping):
        return {k: _default_convert(v) for k, v in sample.items()}
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):
        return type(sample)(*(_default_convert(v) for v in sample))
    if isinstance(sample, (list, tuple)):
        return type(sample)(_default_convert(v) for v in sample)
    return sample


class DataLoader:
    """Iterate over a dataset in batches of ``batch_size`` samples (PyTorch's arguments, in
    PyTorch's order).

    ``shuffle`` draws a new order every epoch from the library generator (or
    ``generator``, a tl.Generator or numpy Generator); ``sampler`` gives the order instead
    (e.g. ``SubsetRandomSampler(train_idx)``), ``batch_sampler`` the batches themselves;
    ``drop_last`` drops a final smaller batch; ``collate_fn(list_of_samples)`` builds a batch
    (default: :func:`default_collate`); ``batch_size=None`` yields the samples one by one,
    unbatched. A TensorDataset (or a Subset of one, as random_split makes) with the default
    collate is batched by indexing its arrays with all of a batch's indices at once, with
    no per-sample Python: tens of times faster.

    ``num_workers`` and ``pin_memory`` are accepted so that PyTorch code runs unchanged,
    but batches are always built in this process (``num_workers`` > 0 too): the data
    sets here are in-memory arrays, for which sending each batch from a worker process
    would cost more than building it, and there is no GPU memory to pin for.
    """

    def __init__(self, dataset: Any, batch_size: Optional[int] = 1, shuffle: Optional[bool] = None,
                 sampler: Any = None, batch_sampler: Any = None, num_workers: int = 0,
                 collate_fn: Optional[Callable] = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn: Any = None,
                 multiprocessing_context: Any = None, generator: Any = None, *,
                 prefetch_factor: Any = None, persistent_workers: bool = False) -> None:
        if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)) \
                or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be an int >= 0, got "
                             f"{num_workers!r}")
        if batch_size is not None:
            _check_batch_size("DataLoader", batch_size)
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise TypeError(f"DataLoader: dataset must define __getitem__ and __len__, got "
                            f"{type(dataset).__name__}")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError("DataLoader: collate_fn must be callable")
        _check_generator("DataLoader", generator)
        # PyTorch's rules for the ways of giving the order.
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None
                                          or drop_last):
            raise ValueError("DataLoader: batch_sampler option is mutually exclusive with "
                             "batch_size, shuffle, sampler, and drop_last")
        if batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and "
                             "is mutually exclusive with drop_last")
        for name, s in (("sampler", sampler), ("batch_sampler", batch_sampler)):
            if s is not None and not hasattr(s, "__iter__"):
                raise TypeError(f"DataLoader: {name} must be iterable, got {type(s).__name__}")
        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle = bool(shuffle)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.drop_last = bool(drop_last)
        self.generator = generator
        self.collate_fn = collate_fn
        self.num_workers = int(num_workers)             # recorded only: see the docstring
        self.pin_memory = bool(pin_memory)

    def __len__(self) -> int:
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self) -> Optional[np.ndarray]:
        """This epoch's sample order (None: 0..n-1)."""
        if self.sampler is not None:
            return np.fromiter((int(i) for i in self.sampler), dtype=np.int64)
        if self.shuffle:
            rng = as_numpy_generator("DataLoader", self.generator)
            return rng.permutation(len(self.dataset))
        return None

    def __iter__(self) -> Iterator[Any]:
        if self.batch_size is None and self.batch_sampler is None:
            order = self._order()
            convert = self.collate_fn or _default_convert
            for i in (range(len(self.dataset)) if order is None else order.tolist()):
                yield convert(self.dataset[i])
            return
        collate = self.collate_fn or default_collate
        rows = _tensor_rows(self.dataset) if collate is default_collate else None
        for idx in self._batch_indices():
            if rows is not None:
                arrays, index = rows
                if isinstance(idx, slice):
                    if index is None:
                        # A copy, as torch.stack makes: the batch owns its memory, so an
                        # in-place op on it cannot change the dataset.
                        yield [_wrap(a[idx].copy()) for a in arrays]
                        continue
                    idx = np.arange(idx.start, idx.stop)
                if index is not None:
                    idx = index[idx]
                yield [_wrap(a[idx]) for a in arrays]
            else:
                items = range(idx.start, idx.stop) if isinstance(idx, slice) else idx.tolist()
                yield collate([self.dataset[i] for i in items])

    def _batch_indices(self) -> Iterator[Any]:
        """Each batch's indices: a slice for consecutive ones, else an int64 array."""
        if self.batch_sampler is not None:
            for batch in self.batch_sampler:
                yield np.asarray(list(batch), dtype=np.int64)
            return
        order = self._order()
        n = len(self.dataset) if order is None else len(order)
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            end = min(start + self.batch_size, n)
            yield slice(start, end) if order is None else order[start:end]

    def __repr__(self) -> str:
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, batch_size="
                f"{self.batch_size}, shuffle={self.shuffle}, drop_last={self.drop_last})")
