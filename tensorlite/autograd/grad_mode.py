"""Grad mode: whether ops record the graph. Per thread, as PyTorch's.

``state.enabled`` is the flag every ``Function.apply`` reads; ``state`` is a
``threading.local``, so ``no_grad`` in one thread leaves another thread's ops recording.
"""
from __future__ import annotations

import functools
import threading
from typing import Any, Callable

import numpy as np


class _State(threading.local):
    # The class attribute is each new thread's starting value (grad mode on).
    enabled = True


state = _State()


def is_grad_enabled() -> bool:
    return state.enabled


class _GradModeContext:
    """Sets grad mode for a ``with`` block, or for every call of a decorated function."""

    mode = True

    def __enter__(self) -> None:
        self.prev = state.enabled
        state.enabled = self.mode

    def __exit__(self, *exc) -> None:
        state.enabled = self.prev

    def __call__(self, fn: Callable) -> Callable:
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = state.enabled
            state.enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                state.enabled = prev

        return wrapper


class set_grad_enabled(_GradModeContext):
    """Set grad mode on or off: as a plain call (``tl.set_grad_enabled(False)``), a context
    manager (``with tl.set_grad_enabled(False):``) or a decorator (``@tl.set_grad_enabled(False)``).
    """

    def __init__(self, mode: bool) -> None:
        # The mode switches here already, as PyTorch's does, so that the plain call works.
        self.prev = state.enabled
        self.mode = bool(mode)
        state.enabled = self.mode

    def __enter__(self) -> None:
        # `prev` stays the mode from before the constructor's switch: __exit__ restores that.
        state.enabled = self.mode

    def __call__(self, fn: Callable) -> Callable:
        # As a decorator the constructor's switch must not outlive the definition: the mode
        # applies only while the decorated function runs.
        state.enabled = self.prev
        return super().__call__(fn)


class no_grad(_GradModeContext):
    """Disable graph recording: ``with tl.no_grad(): ...`` or ``@tl.no_grad()``."""

    mode = False


class enable_grad(_GradModeContext):
    """Re-enable graph recording inside a ``no_grad`` block."""

    mode = True


class inference_mode(_GradModeContext):
    """PyTorch's ``inference_mode``: here the same as ``no_grad`` (there are no separate
    inference tensors); ``inference_mode(False)`` leaves grad mode as it is. As in
    PyTorch it also decorates without parentheses (``@tl.inference_mode``)."""

    def __new__(cls, mode: Any = True) -> Any:
        if callable(mode) and not isinstance(mode, (bool, np.bool_)):
            return cls(True)(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        if not isinstance(mode, (bool, np.bool_)):
            raise TypeError(f"inference_mode: mode must be a bool, got {mode!r}")
        self.on = bool(mode)

    @property
    def mode(self) -> bool:  # type: ignore[override]
        return False if self.on else state.enabled
