"""Where gradients are summed: at a node's output during the walk, and into a leaf's ``.grad``."""
from __future__ import annotations

from typing import Any

from ..tensor import _make


def add_into(pending: dict, key: tuple, g: Any, create_graph: bool) -> None:
    """Sum ``g`` into ``pending[key]``: the gradients arriving at one place from its uses."""
    prev = pending.get(key)
    if prev is None:
        pending[key] = g
    elif create_graph:
        pending[key] = prev + g  # recorded: a gradient of this sum may be asked for
    else:
        # Plain array sum: no graph is being recorded, so skip the op machinery.
        pending[key] = _make(prev._data + g._data, False, None, 0, Owned([0]))


class Owned(list):
    """The version counter of a gradient whose array the engine allocated itself (a
    ``.grad``, or a sum of gradients during the walk).

    Only such an array is accumulated into in place: an array that a backward or a hook
    handed over may still be held by whoever made it (a custom Function's constant, a
    hook's stash), and adding into it would silently change their tensor too."""


def store_leaf_grad(leaf: Any, g: Any, create_graph: bool, seen: set) -> None:
    """Accumulate ``g`` (already of the leaf's shape and dtype) into ``leaf.grad``.

    As PyTorch: an existing ``.grad`` outside any graph is updated in place, so a reference
    to it held across backward calls (an optimizer's, a user's) stays current."""
    old = leaf.grad
    if create_graph:
        # The sum is part of the recorded graph, so it is a new tensor (PyTorch's rule).
        leaf.grad = g if old is None else old + g
        return
    data = g._data
    if old is None:
        # .grad must own writable memory: the array reaching here may be a broadcast view,
        # the caller's seed, seen by a hook, or shared with another leaf's gradient (add's
        # backward passes one array twice).
        key = id(data)
        if key in seen or data.base is not None or not data.flags.writeable:
            leaf.grad = _make(data.copy(), False, None, 0, Owned([0]))
        else:
            seen.add(key)
            leaf.grad = _make(data, False, None, 0, None)
        return
    od = old._data
    if old.grad_fn is None and not old.requires_grad and od.shape == data.shape \
            and od.dtype == data.dtype:
        if type(old._version) is Owned:
            od += data
            old._version[0] += 1
        else:
            # Not ours to write into: the same Tensor takes a fresh array, ours from now on.
            old._data = od + data
            old._version = Owned([old._version[0] + 1])
        return
    # A .grad recorded by an earlier create_graph backward (or of a user-set shape/dtype)
    # is left as it is; the sum replaces it.
    leaf.grad = _make(od + data, False, None, 0, None)
