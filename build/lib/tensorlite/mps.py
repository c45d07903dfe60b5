"""``tl.mps``: PyTorch's ``torch.mps`` on a machine without Apple's GPU.

``device_count()`` is 0; seeding and ``empty_cache`` are accepted and do nothing (as
PyTorch's); the rest needs the GPU and raises an ``UnsupportedError`` naming the call.
"""
from __future__ import annotations

from ._unsupported import refusing

_WHY = "no MPS device: tensorlite computes on the CPU only"


def device_count() -> int:
    return 0


def manual_seed(seed: int) -> None:
    return None


def seed() -> None:
    return None


def empty_cache() -> None:
    return None


synchronize = refusing("torch.mps.synchronize", _WHY)
current_allocated_memory = refusing("torch.mps.current_allocated_memory", _WHY)
