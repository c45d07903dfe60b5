"""DistributedSampler: each rank's share of a dataset for data-parallel training."""
from __future__ import annotations

from typing import Any, Iterator, Optional

import numpy as np

from .dataset import Sampler


def _int(op: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{op}: {name} must be an int, got {type(value).__name__}")
    return int(value)


class DistributedSampler(Sampler):
    """Rank ``rank``'s indices of ``dataset``, among ``num_replicas`` ranks (PyTorch's
    ``torch.utils.data.distributed.DistributedSampler``).

    Every epoch the indices are (with ``shuffle``) permuted by a generator seeded with
    ``seed + epoch`` -- the same permutation on every rank -- and dealt round-robin: rank r
    gets positions r, r + R, r + 2R, ... So the ranks' shares are disjoint and together
    cover the dataset. When the length does not divide evenly, the first indices are
    repeated to pad it (every rank must run the same number of steps), or with
    ``drop_last`` the tail is dropped. Call ``set_epoch(epoch)`` before each epoch for a
    new order; without it every epoch repeats the first one's.

    ``num_replicas`` and ``rank`` default to the default process group's.
    """

    def __init__(self, dataset: Any, num_replicas: Optional[int] = None,
                 rank: Optional[int] = None, shuffle: bool = True, seed: int = 0,
                 drop_last: bool = False) -> None:
        op = "DistributedSampler"
        if num_replicas is None or rank is None:
            from .. import distributed as dist
            if not dist.is_initialized():
                raise RuntimeError(f"{op}: num_replicas and rank default to the process group's, "
                                   "but it is not initialized; call "
                                   "tensorlite.distributed.init_process_group() first or pass both")
            if num_replicas is None:
                num_replicas = dist.get_world_size()
            if rank is None:
                rank = dist.get_rank()
        num_replicas = _int(op, "num_replicas", num_replicas)
        rank = _int(op, "rank", rank)
        if num_replicas < 1:
            raise ValueError(f"{op}: num_replicas must be at least 1, got {num_replicas}")
        if not 0 <= rank < num_replicas:
            raise ValueError(f"{op}: invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        for name, value in (("shuffle", shuffle), ("drop_last", drop_last)):
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{op}: {name} must be a bool, got {value!r}")
        seed = _int(op, "seed", seed)
        n = len(dataset)
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.shuffle = bool(shuffle)
        self.seed = seed
        self.drop_last = bool(drop_last)
        self.epoch = 0
        if self.drop_last and n % num_replicas != 0:
            # The largest share every rank can have without repeating an index.
            self.num_samples = n // num_replicas
        else:
            self.num_samples = -(-n // num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            order = np.random.default_rng(self.seed + self.epoch).permutation(n)
        else:
            order = np.arange(n)
        if self.total_size > n:
            # Pad by repeating from the start (more than once for a tiny dataset).
            reps = -(-self.total_size // n) if n else 0
            order = np.tile(order, reps)[:self.total_size] if n else order
        else:
            order = order[:self.total_size]
        return iter(order[self.rank:self.total_size:self.num_replicas].tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use the order of ``epoch`` (the same on every rank) from the next iteration on."""
        self.epoch = _int("DistributedSampler.set_epoch", "epoch", epoch)
