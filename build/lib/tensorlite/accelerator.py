"""``tl.accelerator``: PyTorch's device-generic ``torch.accelerator`` with no accelerator.

PyTorch's examples now pick their device with::

    device = torch.accelerator.current_accelerator() if torch.accelerator.is_available() \
        else torch.device("cpu")

Here, as on a CPU-only build of PyTorch, ``is_available()`` is False,
``current_accelerator()`` None and ``device_count()`` 0; the calls that need a device
raise an ``UnsupportedError`` naming the call (PyTorch raises "Cannot access accelerator
device when none is available").
"""
from __future__ import annotations

from typing import Optional

from ._unsupported import refusing

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index",
           "current_device_idx", "set_device_index", "set_device_idx", "current_stream",
           "set_stream", "synchronize", "empty_cache"]

_WHY = "no accelerator is available: tensorlite computes on the CPU only"


def is_available() -> bool:
    return False


def current_accelerator(check_available: bool = False) -> Optional[object]:
    return None


def device_count() -> int:
    return 0


def empty_cache() -> None:
    return None


current_device_index = refusing("torch.accelerator.current_device_index", _WHY)
current_device_idx = refusing("torch.accelerator.current_device_idx", _WHY)
set_device_index = refusing("torch.accelerator.set_device_index", _WHY)
set_device_idx = refusing("torch.accelerator.set_device_idx", _WHY)
current_stream = refusing("torch.accelerator.current_stream", _WHY)
set_stream = refusing("torch.accelerator.set_stream", _WHY)
synchronize = refusing("torch.accelerator.synchronize", _WHY)
