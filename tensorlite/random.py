"""The library's one source of randomness.

Every random draw in tensorlite (``rand``, ``randn``, dropout masks, initialisers,
DataLoader shuffling, augmentation) goes through :func:`generator`, so
``tl.manual_seed(n)`` makes a whole run reproducible.
"""
from __future__ import annotations

import numpy as np

_state = {"gen": np.random.default_rng(0)}


def manual_seed(seed: int) -> None:
    """Reseed the library's generator."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__}")
    _state["gen"] = np.random.default_rng(int(seed))


def generator() -> np.random.Generator:
    """The generator every random draw in the library uses."""
    return _state["gen"]


def get_rng_state() -> dict:
    return _state["gen"].bit_generator.state


def set_rng_state(state: dict) -> None:
    gen = np.random.default_rng()
    gen.bit_generator.state = state
    _state["gen"] = gen
