"""What a backward returns is made to fit the input it is for, or refused clearly.

``unbroadcast`` is the one place where a gradient computed at a broadcast shape is summed
back to an input's shape: ops return gradients at the shape they computed, and the engine
(``conform``) reduces them here, as tinygrad and PyTorch's engine do.
"""
from __future__ import annotations

from typing import Any

import numpy as np


def unbroadcast(g: Any, shape: tuple) -> Any:
    """Sum ``g`` over the dimensions that broadcasting added or stretched to reach ``shape``.

    Written with Tensor methods (``sum``, ``reshape``), so it is recorded under
    ``create_graph`` and gradients of gradients flow through it."""
    gshape = g._data.shape
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    dims = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and gshape[lead + i] != 1)
    out = g.sum(dims, keepdim=True) if dims else g
    return out.reshape(shape) if out._data.shape != shape else out


def check_count(node: Any, grads: tuple) -> tuple:
    """``grads`` with one entry per input of ``node``, or PyTorch's error for a wrong count.

    Trailing Nones beyond the inputs are dropped (PyTorch allows them). Fewer gradients
    than inputs are accepted only where the missing inputs need none: built-in ops return
    nothing for trailing arguments such as a shape or a dim."""
    edges = node.next_edges
    n, got = len(edges), len(grads)
    if got > n and all(g is None for g in grads[n:]):
        return grads[:n]
    if got < n and all(e is None for e in edges[got:]):
        return grads
    raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                       f"(expected {n}, got {got})")


def _broadcasts_to(shape: tuple, target: tuple) -> bool:
    if len(shape) > len(target):
        return False
    for s, t in zip(reversed(shape), reversed(target)):
        if s != t and s != 1:
            return False
    return True


def conform(node: Any, edge: tuple, g: Any, shape: tuple, dtype: np.dtype) -> Any:
    """The gradient ``g`` that ``node`` returned along ``edge``, made to fit that input's
    ``shape`` and ``dtype`` as PyTorch's engine does (validate_outputs), or a clear error.

    A larger gradient that the input's shape broadcasts to is summed down to it; any other
    shape is refused. A float gradient of another precision is cast; a gradient that is
    not floating point at all (a mask, indices) is refused rather than cast."""
    k = next(i for i, e in enumerate(node.next_edges) if e is edge)
    got = g._data.shape
    if got != shape:
        if not _broadcasts_to(shape, got):
            raise RuntimeError(
                f"Function {node.name()} returned an invalid gradient at index {k} - got shape "
                f"{got} but expected shape compatible with {shape} (the shape of input {k})")
        g = unbroadcast(g, shape)
    gdtype = g._data.dtype
    if gdtype != dtype:
        if gdtype.kind != "f":
            raise TypeError(
                f"Function {node.name()} returned a gradient of dtype {gdtype} at index {k}, but "
                f"input {k} has dtype {dtype}; a gradient must be floating point")
        g = g.to(dtype)
    return g
