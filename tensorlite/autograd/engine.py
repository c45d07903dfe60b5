"""The backward walk: gradients from the outputs back to the leaves.

As the lecture's backpropagation: visit the nodes so that each comes after every node
that uses its outputs (a reverse topological order), sum the gradients arriving at a
node from all of its uses, call its ``backward``, and pass each returned gradient on to
the input it is for. Leaves collect theirs in ``.grad`` as soon as the last node that
feeds them has run. The order is found iteratively (no recursion): graphs of 10^5+
nodes are fine.

Keys of the ``pending`` gradients are *edges*: ``(node, output nr)`` for a gradient
flowing into a node's output, ``(leaf, -1)`` for one flowing into a leaf tensor.
"""
from __future__ import annotations

import operator
from typing import Any, Optional, Sequence

import numpy as np

from ..tensor import Tensor, _make
from .accumulate import Owned, add_into, store_leaf_grad
from .conform import check_count, conform
from .grad_mode import state
from .hooks import callback_frames, run_hooks, run_post_accumulate_hooks


def run_backward(roots: Sequence, seeds: Sequence, retain_graph: bool, create_graph: bool,
                 capture: Optional[dict] = None) -> None:
    """Propagate ``seeds`` (one gradient per root Tensor) back through the graph, then run
    the callbacks queued during the walk (a callback may queue another).

    With ``capture`` (a dict keyed by edges) the gradients reaching those edges are
    recorded there and no ``.grad`` is touched (``autograd.grad``, ``backward(inputs=)``).
    A released node (retain_graph=False) may run again: only reading its freed saved
    tensors is an error, so ops that saved nothing backpropagate twice, as in PyTorch."""
    frame: list = []
    callback_frames.append(frame)
    prev_mode = state.enabled
    state.enabled = create_graph  # the backward formulas are recorded only then
    try:
        _walk(roots, seeds, retain_graph, create_graph, capture)
        state.enabled = prev_mode
        k = 0
        while k < len(frame):
            frame[k]()
            k += 1
    finally:
        state.enabled = prev_mode
        callback_frames.pop()


def _walk(roots: Sequence, seeds: Sequence, retain_graph: bool, create_graph: bool,
          capture: Optional[dict]) -> None:
    pending: dict = {}
    nodes = []
    seen = set()  # arrays user code holds: a .grad must not share them
    for t, g in zip(roots, seeds):
        add_into(pending, edge_of(t), g, create_graph)
        seen.add(id(g._data))
        if t.grad_fn is not None:
            nodes.append(t.grad_fn)
    order, leaf_uses = graph_order(nodes)
    # autograd.grad runs only the nodes through which a gradient reaches a requested
    # place, as PyTorch does: the graph upstream of the inputs is left alone.
    needed = None if capture is None else _leading_to(order, capture)
    # Leaves get their .grad as soon as the last node feeding them has run (PyTorch's
    # engine does the same: a post-accumulate hook can start an all-reduce early).
    early = leaf_uses if capture is None else None
    for node in order:
        grads = _arriving(node, pending, seen, capture)
        if grads is not None and (needed is None or node in needed):
            done = _send(node, node.fn.backward(node, *grads), pending, create_graph, seen, early)
            if not retain_graph:
                node._release()
        else:
            done = _count_down(node, pending, early) if early is not None else None
        if done is not None:
            for leaf, g in done:
                _store(leaf, g, create_graph, seen)
    if pending:
        _leftover_leaves(pending, create_graph, seen, capture)


def _leftover_leaves(pending: dict, create_graph: bool, seen: set, capture: Optional[dict]) -> None:
    """Leaves given as roots, and with ``capture`` every leaf's gradient."""
    for (leaf, nr), g in list(pending.items()):
        if nr >= 0:
            continue
        if capture is None:
            _store(leaf, g, create_graph, seen)
        elif (leaf, -1) in capture:
            # A leaf's hooks run for autograd.grad too (PyTorch), before capture.
            hooks = leaf._hooks
            capture[(leaf, -1)] = run_hooks(hooks.on_grad, g, seen) if hooks and hooks.on_grad else g


def edge_of(t: Tensor) -> tuple:
    """Where a gradient for ``t`` goes: the output of the node that made it, or the leaf."""
    fn = t.grad_fn
    return (fn, t._out_nr) if fn is not None else (t, -1)


def graph_order(roots: list) -> tuple:
    """(the nodes reachable from ``roots``, each before the nodes that feed it; for each
    leaf reached, how many edges lead to it). A node is made after the nodes feeding it,
    so the nodes in decreasing creation order (``seq``) is such an order, as in PyTorch."""
    leaf_uses: dict = {}
    if len(roots) == 1:
        # The common small case (one node feeding only leaves: a tiny op, a loss over
        # parameters) needs no search.
        for edge in roots[0].next_edges:
            if edge is not None:
                if edge[1] >= 0:
                    break
                leaf_uses[edge[0]] = leaf_uses.get(edge[0], 0) + 1
        else:
            return roots, leaf_uses
        leaf_uses.clear()
    nodes = set(roots)
    stack = list(nodes)
    while stack:
        for edge in stack.pop().next_edges:
            if edge is None:
                continue
            child = edge[0]
            if edge[1] < 0:
                leaf_uses[child] = leaf_uses.get(child, 0) + 1
            elif child not in nodes:
                nodes.add(child)
                stack.append(child)
    if len(nodes) == 1:
        return list(nodes), leaf_uses
    return sorted(nodes, key=_seq, reverse=True), leaf_uses


_seq = operator.attrgetter("seq")


def _leading_to(order: list, capture: dict) -> set:
    """The nodes of ``order`` whose backward passes a gradient on to a key of ``capture``,
    directly or through other such nodes."""
    needed: set = set()
    for node in reversed(order):
        for e in node.next_edges:
            if e is not None and ((e[1] >= 0 and e[0] in needed) or e in capture):
                needed.add(node)
                break
    return needed


def _arriving(node: Any, pending: dict, seen: set, capture: Optional[dict]) -> Optional[tuple]:
    """The summed gradients of ``node``'s outputs, after their hooks (None if none arrived).

    Outputs no gradient reached get zeros when the op asks for them (``materialize_grads``)."""
    hooks = node._pre_hooks
    if node._n_outputs == 1:
        g = pending.pop((node, 0), None)
        if g is None:
            return None
        if type(g._version) is Owned:
            g._version = [0]  # handed on from here (backward may pass it on): no longer ours
        if hooks is not None and 0 in hooks:
            g = run_hooks(hooks[0], g, seen)
        if capture is not None and (node, 0) in capture:
            capture[(node, 0)] = g
        return (g,)
    grads = [pending.pop((node, k), None) for k in range(node._n_outputs)]
    if all(g is None for g in grads):
        return None
    for k, g in enumerate(grads):
        if g is not None and type(g._version) is Owned:
            g._version = [0]
        if g is None:
            if node.materialize_grads and node._out_meta[k] is not None:
                shape, dtype = node._out_meta[k]
                grads[k] = _make(np.zeros(shape, dtype), False, None, 0, None)
            continue
        if hooks is not None and k in hooks:
            grads[k] = run_hooks(hooks[k], g, seen)
        if capture is not None and (node, k) in capture:
            capture[(node, k)] = grads[k]
    return tuple(grads)


def _send(node: Any, in_grads: Any, pending: dict, create_graph: bool, seen: set,
          leaf_uses: Optional[dict]) -> Optional[list]:
    """Pass the gradients ``node.backward`` returned on to its inputs, each checked against
    the input's shape and dtype (a leaf's own, or what its producer recorded).

    With ``leaf_uses`` (edges still to come into each leaf), returns the (leaf, gradient)
    pairs this node completed."""
    if type(in_grads) is not tuple:
        in_grads = (in_grads,)
    edges = node.next_edges
    if len(in_grads) != len(edges):
        in_grads = check_count(node, in_grads)
    # One array handed to a node and to a leaf (add's backward): the leaf's .grad is
    # stored before that node runs, so it must not be that array (a post-accumulate hook
    # may write into .grad in place): such arrays going on to nodes count as seen.
    shared = leaf_uses is not None and len(in_grads) > 1 and _repeats(in_grads)
    done = None
    for edge, gi in zip(edges, in_grads):
        if edge is None:
            continue
        child, nr = edge
        if gi is not None:
            if not isinstance(gi, Tensor):
                gi = _make(np.asarray(gi), False, None, 0, None)
            d = gi._data
            if nr < 0:
                shape, dtype = child._data.shape, child._data.dtype
            else:
                shape, dtype = child._out_meta[nr]
                if child.seq > node.seq:
                    # graph_order's premise broken: never a silently missing gradient
                    raise RuntimeError(f"autograd: {child.name()} was recorded after its user "
                                       f"{node.name()}; the backward order would be wrong")
            if d.shape != shape or d.dtype is not dtype:
                gi = conform(node, edge, gi, shape, dtype)
            if nr >= 0 and shared:
                seen.add(id(gi._data))
            prev = pending.get(edge)  # add_into(pending, edge, gi, create_graph), inlined
            if prev is None:
                pending[edge] = gi
            elif create_graph:
                pending[edge] = prev + gi
            elif type(prev._version) is Owned:
                np.add(prev._data, gi._data, out=prev._data)  # a sum made here: ours to update
            else:
                total = prev._data + gi._data
                if type(total) is not np.ndarray:
                    total = np.asarray(total)  # numpy gives a scalar for 0-d arrays
                pending[edge] = _make(total, False, None, 0, Owned([0]))
        if nr < 0 and leaf_uses is not None:
            left = leaf_uses[child] - 1
            leaf_uses[child] = left
            if not left:
                if done is None:
                    done = []
                done.append((child, pending.pop(edge, None)))
    return done


def _repeats(grads: tuple) -> bool:
    """Whether one array is among ``grads`` twice."""
    if len(grads) == 2:
        a, b = grads
        return a is not None and b is not None and (a is b or getattr(a, "_data", a) is
                                                    getattr(b, "_data", b))
    ids = [id(getattr(g, "_data", g)) for g in grads if g is not None]
    return len(set(ids)) < len(ids)


def _count_down(node: Any, pending: dict, leaf_uses: dict) -> Optional[list]:
    """``_send``'s leaf bookkeeping for a node that did not run (no gradient reached it)."""
    done = None
    for edge in node.next_edges:
        if edge is not None and edge[1] < 0:
            left = leaf_uses[edge[0]] - 1
            leaf_uses[edge[0]] = left
            if not left:
                if done is None:
                    done = []
                done.append((edge[0], pending.pop(edge, None)))
    return done


def _store(leaf: Tensor, g: Any, create_graph: bool, seen: set) -> None:
    """A leaf's complete gradient: its hooks, then ``.grad``, then post-accumulate hooks."""
    if g is None:
        return  # no gradient reached it (every path to it carried None)
    hooks = leaf._hooks
    if hooks is None:
        store_leaf_grad(leaf, g, create_graph, seen)
        return
    if hooks.on_grad:
        g = run_hooks(hooks.on_grad, g, seen)
    store_leaf_grad(leaf, g, create_graph, seen)
    if hooks.post:
        run_post_accumulate_hooks(leaf)
