"""Views after an in-place change of their base: their history is re-derived.

A view shares its base's memory and version counter. When the base (or another view of
it) is changed in place, the view's values change too, so its ``grad_fn`` must become
"these elements of the base's current value", as PyTorch regenerates a view's grad_fn
(AsStridedBackward) from its base's new one. ``refresh_view`` does that for the inputs
of every recorded op and the roots of backward.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from .function import Function
from .grad_mode import state


def _positions_in_base(view: np.ndarray, base: np.ndarray) -> np.ndarray:
    """For each element of ``view`` (an array sharing ``base``'s memory), the C-order flat
    index of the base element at the same address."""
    isz = base.itemsize
    start = base.__array_interface__["data"][0]

    def addresses(a: np.ndarray, origin: int) -> np.ndarray:
        out = np.full(a.shape, origin, dtype=np.int64)
        for k, (n, st) in enumerate(zip(a.shape, a.strides)):
            out += (np.arange(n, dtype=np.int64) * st).reshape((n,) + (1,) * (a.ndim - k - 1))
        return out

    where = addresses(view, view.__array_interface__["data"][0])
    if base.flags.c_contiguous:
        return (where - start) // isz
    cells = addresses(base, start).ravel()
    order = np.argsort(cells, kind="stable")
    pos = np.searchsorted(cells[order], where)
    return order[np.minimum(pos, cells.size - 1)]


class AsStrided(Function):
    """The elements of ``base`` at C-order flat ``positions`` (any shape): how a view is
    re-derived from its base after the base changed in place (PyTorch's AsStridedBackward
    role). Overlapping positions (an expanded view) receive summed gradients."""

    @staticmethod
    def forward(ctx, base, positions):
        ctx.positions, ctx.base_shape = positions, base._data.shape
        return base._data.reshape(-1)[positions]

    @staticmethod
    def backward(ctx, g):
        return AsStridedAdjoint.apply(g, ctx.positions, ctx.base_shape)


class AsStridedAdjoint(Function):
    """zeros(base_shape) with ``g`` added at the flat ``positions`` (AsStrided's adjoint)."""

    @staticmethod
    def forward(ctx, g, positions, base_shape):
        ctx.positions = positions
        out = np.zeros(int(np.prod(base_shape)), g._data.dtype)
        np.add.at(out, positions.reshape(-1), g._data.reshape(-1))
        return out.reshape(base_shape)

    @staticmethod
    def backward(ctx, h):
        return AsStrided.apply(h, ctx.positions)


def rebased_view(view: Tensor) -> Tensor:
    """``view`` re-derived from its base's current history (a new node, same values)."""
    base = view._base
    if base._data.itemsize != view._data.itemsize:
        raise RuntimeError("in-place: a view with another dtype than its base cannot be "
                           "rebased after the base changed in place")
    return AsStrided.apply(base, _positions_in_base(view._data, base._data))


def refresh_view(t: Any) -> None:
    """Rebase a view whose base (or another view of it) changed in place since the view's
    grad_fn was derived: the view's grad_fn becomes "these elements of the base's current
    value", as PyTorch regenerates a view's grad_fn (AsStridedBackward) from its base's
    new one. Without it, y = x * 1; v = y[:]; y.mul_(b) gave v a gradient that ignored b.
    Views share the base's version counter; _view_version is its value at the last
    derivation. Called for the inputs of every recorded op and the roots of backward."""
    made_without_grad = t._view_version < 0
    if (~t._view_version if made_without_grad else t._view_version) == t._version[0] \
            or not state.enabled:
        return
    if made_without_grad:
        if t._base.requires_grad:
            raise RuntimeError(
                f"a view (shape {tuple(t.shape)}) was created under no_grad and its base (shape "
                f"{tuple(t._base.shape)}) has since been modified in place and requires grad: "
                "whether the view should see that history is ambiguous, so it is refused (as "
                "in PyTorch). Create the view after the in-place change, or do both under "
                "no_grad")
        t._view_version = ~t._version[0]
        return
    t._view_version = t._version[0]
    if not (t.requires_grad or t._base.requires_grad):
        return
    new = rebased_view(t)
    t.grad_fn, t._out_nr, t.requires_grad = new.grad_fn, new._out_nr, new.requires_grad


def refresh_views(tensors: tuple) -> None:
    for t in tensors:
        if t._view_version is not None:
            refresh_view(t)
