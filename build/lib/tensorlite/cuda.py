"""``tl.cuda``: PyTorch's ``torch.cuda`` as a CPU-only build of PyTorch answers.

``tl.cuda.is_available()`` is False and ``device_count()`` 0, so the usual
``device = "cuda" if torch.cuda.is_available() else "cpu"`` picks the CPU. The calls that
PyTorch also accepts without a GPU (seeding, ``empty_cache``, ``synchronize``-free queries)
do what PyTorch does there (nothing); the calls that need a GPU raise an
``UnsupportedError`` naming the call.
"""
from __future__ import annotations

from ._unsupported import refusing

__all__ = ["is_available", "device_count", "is_initialized", "manual_seed", "manual_seed_all",
           "seed", "seed_all", "empty_cache", "is_bf16_supported", "current_device",
           "get_device_name", "get_device_properties", "set_device", "synchronize"]


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def is_bf16_supported(including_emulation: bool = True) -> bool:
    return False


# Without a GPU, PyTorch ignores these (seeding is lazy, the cache is empty).
def manual_seed(seed: int) -> None:
    return None


def manual_seed_all(seed: int) -> None:
    return None


def seed() -> None:
    return None


def seed_all() -> None:
    return None


def empty_cache() -> None:
    return None


def memory_allocated(device=None) -> int:
    return 0


max_memory_allocated = memory_allocated
memory_reserved = memory_allocated

_WHY = "no CUDA device: tensorlite computes on the CPU only (tl.cuda.is_available() is False)"
current_device = refusing("torch.cuda.current_device", _WHY)
get_device_name = refusing("torch.cuda.get_device_name", _WHY)
get_device_properties = refusing("torch.cuda.get_device_properties", _WHY)
get_device_capability = refusing("torch.cuda.get_device_capability", _WHY)
set_device = refusing("torch.cuda.set_device", _WHY)
synchronize = refusing("torch.cuda.synchronize", _WHY)
Stream = refusing("torch.cuda.Stream", _WHY)
Event = refusing("torch.cuda.Event", _WHY)


def __repr__() -> str:  # pragma: no cover - for documentation only
    return "tensorlite.cuda (not available: tensorlite computes on the CPU)"
