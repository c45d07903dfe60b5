"""One error type for PyTorch APIs that tensorlite deliberately does not provide.

A script written for PyTorch that reaches for one of them (CUDA, ONNX export, a dataset
download) gets an ``UnsupportedError`` naming the API and saying what to do instead,
never an ``AttributeError`` from deep inside.
"""
from __future__ import annotations

__all__ = ["UnsupportedError", "refuse"]


class UnsupportedError(NotImplementedError, RuntimeError):
    """A PyTorch API that is out of tensorlite's scope (see docs/pytorch-compat.md)."""


def refuse(api: str, why: str = "tensorlite computes on the CPU only") -> "UnsupportedError":
    return UnsupportedError(f"{api}: {why} (see docs/pytorch-compat.md)")


def refusing(api: str, why: str = "tensorlite computes on the CPU only"):
    """A function that raises ``refuse(api, why)`` whatever it is called with."""
    def fn(*args, **kwargs):
        raise refuse(api, why)
    fn.__name__ = api.rsplit(".", 1)[-1]
    fn.__qualname__ = api
    fn.__doc__ = f"Not available: {why}."
    return fn
