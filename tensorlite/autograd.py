"""Reverse-mode automatic differentiation: Function/ctx, the backward engine, grad modes.

The whole idea fits in a few lines, as in the lecture's backpropagation:

* every differentiable op is a :class:`Function` with a ``forward`` (arrays in, array out)
  and a ``backward`` (gradient of the output in, gradients of the inputs out);
* calling ``MyOp.apply(*inputs)`` runs ``forward`` and, when an input requires a gradient,
  records a *node* (the ``ctx`` object) that remembers its inputs' nodes;
* ``loss.backward()`` visits those nodes in reverse topological order, calling each
  ``backward`` and summing the gradients that arrive at a node from all of its uses.

The visit is iterative (no recursion), so graphs of 10^5+ nodes are fine. Backward
formulas are written with differentiable Tensor ops, so running the backward pass with
``create_graph=True`` records it too and gives gradients of gradients.
"""
from __future__ import annotations

import functools
import weakref
from typing import Any, Callable, Iterable, Optional, Sequence

import numpy as np

# Set by tensor.py once Tensor exists (tensor.py imports this module first).
Tensor: Any = None
_make: Any = None

__all__ = [
    "Function", "Context", "once_differentiable", "no_grad", "enable_grad",
    "set_grad_enabled", "is_grad_enabled", "backward", "grad",
]


# ---------------------------------------------------------------------------------------
# Grad mode
# ---------------------------------------------------------------------------------------
class _GradMode:
    # A class attribute is the cheapest global flag to read on the hot path.
    enabled = True


def is_grad_enabled() -> bool:
    return _GradMode.enabled


class set_grad_enabled:
    """Context manager / decorator that sets grad mode on or off."""

    def __init__(self, mode: bool) -> None:
        self.prev = _GradMode.enabled
        self.mode = bool(mode)
        _GradMode.enabled = self.mode

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc) -> None:
        _GradMode.enabled = self.prev


class _GradModeContext:
    mode = True

    def __enter__(self) -> None:
        self.prev = _GradMode.enabled
        _GradMode.enabled = self.mode

    def __exit__(self, *exc) -> None:
        _GradMode.enabled = self.prev

    def __call__(self, fn: Callable) -> Callable:
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = _GradMode.enabled
            _GradMode.enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                _GradMode.enabled = prev

        return wrapper


class no_grad(_GradModeContext):
    """Disable graph recording: ``with tl.no_grad(): ...`` or ``@tl.no_grad()``."""

    mode = False


class enable_grad(_GradModeContext):
    """Re-enable graph recording inside a ``no_grad`` block."""

    mode = True


# ---------------------------------------------------------------------------------------
# Function and its context (the graph node)
# ---------------------------------------------------------------------------------------
class Context:
    """The ``ctx`` handed to ``forward``/``backward``; it is also the graph node.

    Attributes a backward may read: ``saved_tensors``, ``needs_input_grad``, and anything
    ``forward`` stored on it (``ctx.stride = 2``).
    """

    __slots__ = ("fn", "next_edges", "needs_input_grad", "_saved", "_saved_versions",
                 "_n_outputs", "_freed", "__dict__", "__weakref__")
    # Rarely set: class-level defaults keep node creation cheap (an instance value lands
    # in __dict__ only for the nodes that need one).
    _saved_outputs = None
    _out_meta = None
    _non_diff = None
    _pre_hooks = None
    _has_arrays = False
    materialize_grads = True

    def __init__(self) -> None:
        self._saved = None
        self._freed = False

    # -- saving -----------------------------------------------------------------------
    def save_for_backward(self, *items: Any) -> None:
        """Save inputs (Tensors) or outputs (the arrays ``forward`` returns) for backward.

        Saving an output array records it without a reference cycle; ``saved_tensors``
        gives it back as a Tensor attached to this node, so double backward works.
        """
        self._saved = items
        versions = []
        for t in items:
            if isinstance(t, Tensor):
                versions.append(t._version[0])
            else:
                versions.append(None)
                if t is not None:
                    self._has_arrays = True
        self._saved_versions = versions

    @property
    def saved_tensors(self) -> tuple:
        if self._freed:
            raise RuntimeError(
                f"{self.name()}: trying to backward through the graph a second time (its saved "
                "tensors were freed after the first backward); pass retain_graph=True to the first "
                "backward if you need to backward twice")
        items = self._saved
        if items is None:
            return ()
        out = []
        outputs = self._saved_outputs
        for k, t in enumerate(items):
            if isinstance(t, Tensor):
                if t._version[0] != self._saved_versions[k]:
                    raise RuntimeError(
                        f"{self.name()}: one of the tensors needed for gradient computation has "
                        f"been modified by an in-place operation: saved tensor {k} of shape "
                        f"{tuple(t.shape)} is at version {t._version[0]}, expected version "
                        f"{self._saved_versions[k]}")
                out.append(t)
            elif outputs is not None and k in outputs:
                nr, version, expected = outputs[k]
                if version[0] != expected:
                    raise RuntimeError(
                        f"{self.name()}: one of the tensors needed for gradient computation has "
                        f"been modified by an in-place operation: output {nr} of shape "
                        f"{tuple(t.shape)} is at version {version[0]}, expected version {expected}")
                out.append(_make(np.asarray(t), True, self, nr, version))
            elif isinstance(t, (np.ndarray, np.generic)):
                out.append(_make(np.asarray(t), False, None, 0, None))
            else:
                out.append(t)
        return tuple(out)

    def mark_non_differentiable(self, *outputs: Any) -> None:
        """Declare outputs (arrays returned by forward) that carry no gradient (e.g. indices)."""
        self._non_diff = tuple(id(o) for o in outputs)

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = bool(value)

    def name(self) -> str:
        return f"{self.fn.__name__}Backward" if self.fn is not None else "Node"

    def __repr__(self) -> str:
        return f"<{self.name()}>"

    # -- hooks on non-leaf outputs ----------------------------------------------------
    def _add_pre_hook(self, nr: int, hook: Callable) -> None:
        if self._pre_hooks is None:
            self._pre_hooks = {}
        self._pre_hooks.setdefault(nr, []).append(hook)

    def _release(self) -> None:
        self._saved = None
        if self._saved_outputs is not None:
            self._saved_outputs = None
        self._freed = True


class Function:
    """Base class of every differentiable op, built-in or user-defined.

    Subclass it with two static methods::

        class Cube(tl.autograd.Function):
            @staticmethod
            def forward(ctx, x):              # Tensors in; return an ndarray (or Tensor)
                ctx.save_for_backward(x)
                return x.data ** 3
            @staticmethod
            def backward(ctx, g):             # Tensors in, Tensors (or None) out
                (x,) = ctx.saved_tensors
                return g * 3 * x * x          # differentiable ops -> double backward works

        y = Cube.apply(x)

    ``forward`` runs without recording; ``backward`` must use Tensor ops so that
    ``create_graph=True`` can differentiate it again. A backward that cannot be
    differentiated is decorated with :func:`once_differentiable`.
    """

    # True for ops whose output is a view of input 0 (they share its version counter).
    _shares_version = False

    @staticmethod
    def forward(ctx: Context, *args: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, *grads: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def apply(cls, *args: Any) -> Any:
        ctx = _new_ctx(Context)
        ctx.fn = cls
        ctx._saved = None
        ctx._freed = False
        if _GradMode.enabled:
            needs = tuple([isinstance(a, Tensor) and a.requires_grad for a in args])
            track = True in needs
            ctx.needs_input_grad = needs
            _GradMode.enabled = False
            try:
                result = cls.forward(ctx, *args)
            finally:
                _GradMode.enabled = True
        else:
            track = False
            ctx.needs_input_grad = (False,) * len(args)
            result = cls.forward(ctx, *args)

        if type(result) is not tuple:
            # The common case: one output.
            a = result.data if isinstance(result, Tensor) else result
            if type(a) is not np.ndarray:
                a = np.asarray(a)
            if not track:
                return _make(a, False, None, 0, args[0]._version if cls._shares_version else None)
            ctx.next_edges = tuple([((t.grad_fn, t._out_nr) if t.grad_fn is not None
                                     else (t, -1)) if n else None
                                    for t, n in zip(args, needs)])
            ctx._n_outputs = 1
            diff = a.dtype.kind == "f" and (ctx._non_diff is None or id(a) not in ctx._non_diff)
            out = _make(a, diff, ctx if diff else None, 0,
                        args[0]._version if cls._shares_version else None)
            if ctx._has_arrays:
                _bind_saved_outputs(ctx, (result,), [a], [out])
            return out

        results = result
        arrays = [r.data if isinstance(r, Tensor) else r for r in results]
        for k, r in enumerate(arrays):
            if not isinstance(r, np.ndarray):
                arrays[k] = np.asarray(r)
        if not track:
            return tuple([_make(a, False, None, 0, None) for a in arrays])
        ctx.next_edges = tuple([_edge(a) if n else None for a, n in zip(args, needs)])
        ctx._n_outputs = len(arrays)
        ctx._out_meta = tuple((a.shape, a.dtype) for a in arrays)
        non_diff = ctx._non_diff
        outs = []
        for nr, a in enumerate(arrays):
            diff = a.dtype.kind == "f" and (non_diff is None or id(a) not in non_diff)
            outs.append(_make(a, diff, ctx if diff else None, nr, None))
        if ctx._saved is not None:
            _bind_saved_outputs(ctx, results, arrays, outs)
        return tuple(outs)


_new_ctx = object.__new__


def _edge(t: Any) -> tuple:
    """Where a gradient for input ``t`` goes: its producing node, or the leaf itself."""
    fn = t.grad_fn
    if fn is not None:
        return (fn, t._out_nr)
    return (t, -1)


def _bind_saved_outputs(ctx: Context, results: tuple, arrays: list, outs: list) -> None:
    # An ndarray saved in forward that is also an output becomes a "saved output": we
    # keep only the array and the output's version counter, never the output Tensor
    # itself (that would make a reference cycle node -> output -> node).
    saved_outputs = None
    for k, item in enumerate(ctx._saved):
        if isinstance(item, (np.ndarray, np.generic)):
            for nr, a in enumerate(arrays):
                if item is a or item is results[nr]:
                    if saved_outputs is None:
                        saved_outputs = {}
                    version = outs[nr]._version
                    saved_outputs[k] = (nr, version, version[0])
                    break
    ctx._saved_outputs = saved_outputs


def once_differentiable(backward: Callable) -> Callable:
    """Mark a backward that is not itself differentiable (e.g. a fused kernel).

    It runs on plain arrays; if ``create_graph=True`` asks to differentiate it again, the
    gradients it returns carry a node whose backward raises a clear error.
    """

    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        if not _GradMode.enabled:
            return backward(ctx, *grads)
        prev = _GradMode.enabled
        _GradMode.enabled = False
        try:
            outs = backward(ctx, *grads)
        finally:
            _GradMode.enabled = prev
        single = not isinstance(outs, tuple)
        outs = (outs,) if single else outs
        # The true second derivative would flow to this node's inputs and to the incoming
        # gradients; tie the results to exactly those through a node whose backward raises.
        edges = [e for e in ctx.next_edges if e is not None]
        edges += [_edge(g) for g in grads if isinstance(g, Tensor) and g.requires_grad]
        if not edges:
            return outs[0] if single else outs
        wrapped = []
        for o in outs:
            if o is None:
                wrapped.append(None)
                continue
            err = _new_ctx(Context)
            err.fn, err._saved, err._freed, err._n_outputs = _DelayedError, None, False, 1
            err.next_edges = tuple(edges)
            err.needs_input_grad = (True,) * len(edges)
            err.op_name = ctx.name()
            data = o.data if isinstance(o, Tensor) else np.asarray(o)
            wrapped.append(_make(data, True, err, 0, None))
        return wrapped[0] if single else tuple(wrapped)

    wrapper._once_differentiable = True
    return wrapper


class _DelayedError(Function):
    """Stands in the graph for a once-differentiable backward; differentiating it raises."""

    @staticmethod
    def forward(ctx, x):
        return x.data

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError(
            f"{ctx.op_name}: this backward is once_differentiable (a fused kernel); it cannot be "
            "differentiated again (create_graph=True through it is not supported)")


# ---------------------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------------------
def _topo_order(roots: Sequence[Context]) -> list:
    """Nodes reachable from ``roots``, each before the nodes that feed it.

    Iterative DFS (post-order, then reversed), so deep graphs do not hit the recursion limit.
    """
    order = []
    visited = set()
    for root in roots:
        if root in visited:
            continue
        visited.add(root)
        stack = [(root, iter(root.next_edges))]
        while stack:
            node, it = stack[-1]
            for edge in it:
                if edge is None or edge[1] < 0:
                    continue
                child = edge[0]
                if child in visited:
                    continue
                visited.add(child)
                stack.append((child, iter(child.next_edges)))
                break
            else:
                stack.pop()
                order.append(node)
    order.reverse()
    return order


def _run_hooks(hooks: list, g: Any) -> Any:
    for h in hooks:
        r = h(g)
        if r is not None:
            g = r
    return g


def _freed_error(node: Context) -> RuntimeError:
    return RuntimeError(
        f"{node.name()}: trying to backward through the graph a second time (its saved tensors "
        "were freed after the first backward); pass retain_graph=True to the first backward if "
        "you need to backward twice")


def _execute(roots: Sequence, grad_roots: Sequence, retain_graph: bool, create_graph: bool,
             capture: Optional[dict] = None) -> None:
    """Propagate ``grad_roots`` from ``roots`` (output Tensors) back to the leaves.

    Gradients arriving at a node from several uses are summed before its backward runs.
    With ``capture`` (a dict keyed by (node or leaf, output nr)), gradients reaching those
    places are recorded there and leaves' ``.grad`` is left alone (``autograd.grad``).
    """
    if capture is None and len(roots) == 1:
        node = roots[0].grad_fn
        if node is not None and node._n_outputs == 1 and node._pre_hooks is None:
            for edge in node.next_edges:
                if edge is not None and edge[1] >= 0:
                    break
            else:
                _execute_leaf_node(node, grad_roots[0], retain_graph, create_graph)
                return
    pending: dict = {}      # (node, nr) -> summed gradient arriving at that output
    root_nodes = []
    for t, g in zip(roots, grad_roots):
        fn = t.grad_fn
        key = (fn, t._out_nr) if fn is not None else (t, -1)
        prev = pending.get(key)
        pending[key] = g if prev is None else prev + g
        if fn is not None:
            root_nodes.append(fn)

    order = _topo_order(root_nodes) if len(root_nodes) != 1 or \
        any(e is not None and e[1] >= 0 for e in root_nodes[0].next_edges) else root_nodes
    prev_mode = _GradMode.enabled
    _GradMode.enabled = create_graph
    try:
        for node in order:
            if node._freed:
                raise _freed_error(node)
            n_out = node._n_outputs
            hooks = node._pre_hooks
            if n_out == 1:
                g = pending.pop((node, 0), None)
                if g is None:
                    continue
                if hooks is not None and 0 in hooks:
                    g = _run_hooks(hooks[0], g)
                if capture is not None and (node, 0) in capture:
                    capture[(node, 0)] = g
                in_grads = node.fn.backward(node, g)
            else:
                grads = [pending.pop((node, k), None) for k in range(n_out)]
                if all(g is None for g in grads):
                    continue
                for k in range(n_out):
                    if grads[k] is None:
                        if node.materialize_grads:
                            shape, dtype = node._out_meta[k]
                            grads[k] = _make(np.zeros(shape, dtype), False, None, 0, None)
                        continue
                    if hooks is not None and k in hooks:
                        grads[k] = _run_hooks(hooks[k], grads[k])
                    if capture is not None and (node, k) in capture:
                        capture[(node, k)] = grads[k]
                in_grads = node.fn.backward(node, *grads)
            if type(in_grads) is not tuple:
                in_grads = (in_grads,)
            for edge, gi in zip(node.next_edges, in_grads):
                if edge is None or gi is None:
                    continue
                if not isinstance(gi, Tensor):
                    gi = _make(np.asarray(gi), False, None, 0, None)
                prev = pending.get(edge)
                if prev is None:
                    pending[edge] = gi
                elif create_graph:
                    pending[edge] = prev + gi
                else:
                    # Plain array sum: no graph is being recorded, so skip the op machinery.
                    pending[edge] = _make(prev.data + gi.data, False, None, 0, None)
            if not retain_graph:
                node._release()

        # What is left in `pending` are the leaves' gradients (edges with nr == -1).
        seen = {id(g.data) for g in grad_roots}
        for (leaf, nr), g in pending.items():
            if nr >= 0:
                continue
            if capture is not None:
                if (leaf, -1) in capture:
                    capture[(leaf, -1)] = g
                continue
            if leaf._hooks is not None:
                g = _run_hooks(leaf._hooks, g)
            _store_leaf_grad(leaf, g, create_graph, seen)
    finally:
        _GradMode.enabled = prev_mode


def _execute_leaf_node(node: Context, g: Any, retain_graph: bool, create_graph: bool) -> None:
    """The common small case of ``_execute``: one root whose node feeds only leaves (a
    tiny op, a loss over parameters) -- no ordering or pending-gradient bookkeeping."""
    if node._freed:
        raise _freed_error(node)
    prev_mode = _GradMode.enabled
    _GradMode.enabled = create_graph
    try:
        in_grads = node.fn.backward(node, g)
        if type(in_grads) is not tuple:
            in_grads = (in_grads,)
        leaves: dict = {}
        for edge, gi in zip(node.next_edges, in_grads):
            if edge is None or gi is None:
                continue
            if not isinstance(gi, Tensor):
                gi = _make(np.asarray(gi), False, None, 0, None)
            leaf = edge[0]
            prev = leaves.get(leaf)
            if prev is None:
                leaves[leaf] = gi
            elif create_graph:
                leaves[leaf] = prev + gi
            else:
                leaves[leaf] = _make(prev.data + gi.data, False, None, 0, None)
        if not retain_graph:
            node._release()
        seen = {id(g.data)}
        for leaf, gi in leaves.items():
            if leaf._hooks is not None:
                gi = _run_hooks(leaf._hooks, gi)
            _store_leaf_grad(leaf, gi, create_graph, seen)
    finally:
        _GradMode.enabled = prev_mode


def _store_leaf_grad(leaf: Any, g: Any, create_graph: bool, seen: set) -> None:
    data = g.data
    ldata = leaf.data
    if data.shape != ldata.shape or data.dtype != ldata.dtype:
        if create_graph:
            g = g.expand(ldata.shape).to(ldata.dtype)
            data = g.data
        else:
            data = np.broadcast_to(data, ldata.shape).astype(ldata.dtype)
    if not create_graph:
        if leaf.grad is not None:
            # A fresh sum: never aliases the incoming array.
            leaf.grad = _make(leaf.grad.data + data, False, None, 0, None)
            return
        # .grad must own writable memory: the array reaching here may be a broadcast view,
        # the caller's seed, or shared with another leaf's gradient (add's backward passes
        # one array twice).
        key = id(data)
        if key in seen or data.base is not None or not data.flags.writeable:
            data = data.copy()
            key = id(data)
        seen.add(key)
        leaf.grad = _make(data, False, None, 0, None)
    else:
        leaf.grad = g if leaf.grad is None else leaf.grad + g


def _seed(t: Any, gradient: Any, who: str) -> Any:
    if gradient is None:
        if t.data.size != 1:
            raise RuntimeError(
                f"{who}: grad can be implicitly created only for scalar outputs, but the output has "
                f"shape {tuple(t.shape)}; pass a gradient of that shape")
        return _make(np.ones(t.data.shape, t.data.dtype), False, None, 0, None)
    if not isinstance(gradient, Tensor):
        arr = np.asarray(gradient)
        if arr.dtype.kind not in "fiub":
            raise TypeError(f"{who}: gradient must be a Tensor or numbers, got "
                            f"{type(gradient).__name__} of dtype {arr.dtype}")
        # Plain numbers (a list, an array) take the output's dtype.
        gradient = _make(arr.astype(t.data.dtype), False, None, 0, None)
    if gradient.data.dtype.kind != "f":
        raise TypeError(f"{who}: gradient must be floating point (as the output, "
                        f"{t.data.dtype}), got {gradient.data.dtype}")
    if gradient.shape != t.shape:
        raise RuntimeError(
            f"{who}: gradient has shape {tuple(gradient.shape)} but the output has shape "
            f"{tuple(t.shape)}")
    if gradient.data.dtype != t.data.dtype:
        # As PyTorch: a float gradient of another precision is cast to the output's.
        gradient = _make(gradient.data.astype(t.data.dtype), False, None, 0, None)
    return gradient


def backward(tensors: Any, grad_tensors: Any = None, retain_graph: Optional[bool] = None,
             create_graph: bool = False) -> None:
    """Accumulate d(tensors)/d(leaf) into every leaf's ``.grad``."""
    if isinstance(tensors, Tensor):
        tensors = (tensors,)
        grad_tensors = (grad_tensors,)
    tensors = tuple(tensors)
    if grad_tensors is None:
        grad_tensors = (None,) * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,)
    if retain_graph is None:
        retain_graph = create_graph
    for t in tensors:
        if not t.requires_grad:
            raise RuntimeError(
                "backward: element 0 of tensors does not require grad and does not have a grad_fn "
                f"(shape {tuple(t.shape)}); did you compute it under no_grad or from tensors "
                "without requires_grad=True?")
    seeds = [_seed(t, g, "backward") for t, g in zip(tensors, grad_tensors)]
    _execute(tensors, seeds, retain_graph, create_graph)


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: Optional[bool] = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple:
    """Gradients of ``outputs`` w.r.t. ``inputs``, returned as a tuple; ``.grad`` untouched."""
    if isinstance(outputs, Tensor):
        outputs = (outputs,)
    outputs = tuple(outputs)
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,) * len(outputs) if grad_outputs is None else (grad_outputs,)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    if retain_graph is None:
        retain_graph = create_graph
    for k, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"grad: input {k} does not require grad")
    for k, t in enumerate(outputs):
        if not t.requires_grad:
            raise RuntimeError(
                f"grad: output {k} does not require grad and does not have a grad_fn")
    capture: dict = {}
    keys = []
    for t in inputs:
        key = (t.grad_fn, t._out_nr) if t.grad_fn is not None else (t, -1)
        capture[key] = None
        keys.append(key)
    seeds = [_seed(t, g, "grad") for t, g in zip(outputs, grad_outputs)]
    _execute(outputs, seeds, retain_graph, create_graph, capture)
    result = []
    for k, (t, key) in enumerate(zip(inputs, keys)):
        g = capture[key]
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {k} (shape {tuple(t.shape)}) was not used to compute the outputs; "
                    "pass allow_unused=True to get None for it")
            result.append(None)
            continue
        if g.shape != t.shape:
            g = g.expand(t.shape) if create_graph else _make(
                np.array(np.broadcast_to(g.data, t.shape)), False, None, 0, None)
        result.append(g)
    return tuple(result)
