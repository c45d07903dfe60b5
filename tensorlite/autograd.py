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

    __slots__ = (
        "fn", "next_edges", "needs_input_grad", "_saved", "_saved_versions", "_saved_outputs",
        "_n_outputs", "_out_meta", "_non_diff", "_pre_hooks", "_freed", "materialize_grads",
        "__dict__", "__weakref__",
    )

    def __init__(self) -> None:
        self._saved = None
        self._saved_versions = None
        self._saved_outputs = None
        self._non_diff = None
        self._pre_hooks = None
        self._freed = False
        self.materialize_grads = True

    # -- saving -----------------------------------------------------------------------
    def save_for_backward(self, *items: Any) -> None:
        """Save inputs (Tensors) or outputs (the arrays ``forward`` returns) for backward.

        Saving an output array records it without a reference cycle; ``saved_tensors``
        gives it back as a Tensor attached to this node, so double backward works.
        """
        from .tensor import Tensor
        self._saved = items
        self._saved_versions = tuple(t._version[0] if type(t) is Tensor or isinstance(t, Tensor)
                                     else None for t in items)

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
        from .tensor import Tensor, _make
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
                out.append(_make(t, True, self, nr, version))
            elif isinstance(t, np.ndarray):
                out.append(_make(t, False, None, 0, None))
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
        from .tensor import Tensor, _make
        ctx = Context()
        ctx.fn = cls
        track = False
        if _GradMode.enabled:
            needs = tuple([isinstance(a, Tensor) and a.requires_grad for a in args])
            track = True in needs
        else:
            needs = (False,) * len(args)
        ctx.needs_input_grad = needs

        prev = _GradMode.enabled
        _GradMode.enabled = False
        try:
            result = cls.forward(ctx, *args)
        finally:
            _GradMode.enabled = prev

        single = not isinstance(result, tuple)
        results = (result,) if single else result
        arrays = [r.data if isinstance(r, Tensor) else r for r in results]
        for k, r in enumerate(arrays):
            if not isinstance(r, np.ndarray):
                arrays[k] = np.asarray(r)

        if not track:
            if cls._shares_version:
                return _make(arrays[0], False, None, 0, args[0]._version)
            outs = tuple([_make(a, False, None, 0, None) for a in arrays])
            return outs[0] if single else outs

        ctx.next_edges = tuple([_edge(a) if n else None for a, n in zip(args, needs)])
        ctx._n_outputs = len(arrays)
        if not single:
            ctx._out_meta = tuple((a.shape, a.dtype) for a in arrays)
        non_diff = ctx._non_diff
        outs = []
        for nr, a in enumerate(arrays):
            diff = a.dtype.kind == "f" and (non_diff is None or id(a) not in non_diff)
            outs.append(_make(a, diff, ctx if diff else None, nr, None))
        if cls._shares_version:
            outs[0]._version = args[0]._version
        if ctx._saved is not None:
            _bind_saved_outputs(ctx, arrays, outs)
        return outs[0] if single else tuple(outs)


def _edge(t: Any) -> tuple:
    """Where a gradient for input ``t`` goes: its producing node, or the leaf itself."""
    fn = t.grad_fn
    if fn is not None:
        return (fn, t._out_nr)
    return (t, -1)


def _bind_saved_outputs(ctx: Context, arrays: list, outs: list) -> None:
    # An ndarray saved in forward that is also an output becomes a "saved output": we
    # keep only the array and the output's version counter, never the output Tensor
    # itself (that would make a reference cycle node -> output -> node).
    saved_outputs = None
    for k, item in enumerate(ctx._saved):
        if isinstance(item, np.ndarray):
            for nr, a in enumerate(arrays):
                if item is a:
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
        from .tensor import Tensor
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
        any_grad_in = any(isinstance(g, Tensor) and g.requires_grad for g in grads)
        saved_req = False
        if ctx._saved is not None and not ctx._freed:
            saved_req = any(isinstance(t, Tensor) and t.requires_grad for t in ctx._saved)
        if not (any_grad_in or saved_req):
            return outs[0] if single else outs
        name = ctx.name()
        wrapped = tuple(None if o is None else _DelayedError.apply(o, name) for o in outs)
        return wrapped[0] if single else wrapped

    wrapper._once_differentiable = True
    return wrapper


class _DelayedError(Function):
    """Stands in the graph for a once-differentiable backward; differentiating it raises."""

    @staticmethod
    def forward(ctx, x, name):
        ctx.op_name = name
        return x.data

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError(
            f"{ctx.op_name}: this backward is once_differentiable (a fused kernel); it cannot be "
            "differentiated again (create_graph=True through it is not supported)")


# ---------------------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------------------
def _topo_order(roots: Sequence[Context]) -> tuple[list, dict]:
    """Nodes reachable from ``roots`` in an order where each node precedes its inputs.

    Iterative DFS (post-order, then reversed), so deep graphs do not hit the recursion limit.
    """
    order = []
    visited = set()
    for root in roots:
        if id(root) in visited:
            continue
        visited.add(id(root))
        stack = [(root, iter(root.next_edges))]
        while stack:
            node, it = stack[-1]
            advanced = False
            for edge in it:
                if edge is None:
                    continue
                child = edge[0]
                if edge[1] < 0 or id(child) in visited:
                    continue
                visited.add(id(child))
                stack.append((child, iter(child.next_edges)))
                advanced = True
                break
            if not advanced:
                stack.pop()
                order.append(node)
    order.reverse()
    return order


def _accumulate(buf: dict, key: Any, g: Any) -> None:
    prev = buf.get(key)
    buf[key] = g if prev is None else prev + g


def _run_hooks(hooks: list, g: Any) -> Any:
    for h in hooks:
        r = h(g)
        if r is not None:
            g = r
    return g


def _execute(roots: Sequence, grad_roots: Sequence, retain_graph: bool, create_graph: bool,
             capture: Optional[dict] = None) -> None:
    """Propagate ``grad_roots`` from ``roots`` (output Tensors) back to the leaves.

    With ``capture`` (a dict keyed by edge), gradients reaching those edges are stored
    there instead of being accumulated into leaves' ``.grad`` (that is ``autograd.grad``).
    """
    from .tensor import Tensor, _make

    node_grads: dict = {}  # (id(node), nr) -> grad Tensor
    leaf_grads: dict = {}  # id(leaf) -> [leaf, grad]
    root_nodes = []
    for t, g in zip(roots, grad_roots):
        fn = t.grad_fn
        if fn is None:
            # A leaf as root: its gradient is the seed itself.
            if capture is not None:
                key = (id(t), -1)
                if key in capture:
                    capture[key] = g if capture[key] is None else capture[key] + g
            else:
                _accumulate_leaf(leaf_grads, t, g)
            continue
        _accumulate(node_grads, (id(fn), t._out_nr), g)
        root_nodes.append(fn)

    order = _topo_order(root_nodes)
    prev_mode = _GradMode.enabled
    _GradMode.enabled = create_graph
    try:
        for node in order:
            if node._freed:
                raise RuntimeError(
                    f"{node.name()}: trying to backward through the graph a second time (its "
                    "saved tensors were freed after the first backward); pass retain_graph=True to "
                    "the first backward if you need to backward twice")
            n_out = node._n_outputs
            nid = id(node)
            hooks = node._pre_hooks
            if n_out == 1:
                g = node_grads.pop((nid, 0), None)
                if g is None:
                    continue
                if hooks is not None and 0 in hooks:
                    g = _run_hooks(hooks[0], g)
                if capture is not None and (nid, 0) in capture:
                    capture[(nid, 0)] = g
                grads = (g,)
            else:
                grads = [node_grads.pop((nid, k), None) for k in range(n_out)]
                if all(g is None for g in grads):
                    continue
                for k in range(n_out):
                    if hooks is not None and k in hooks and grads[k] is not None:
                        grads[k] = _run_hooks(hooks[k], grads[k])
                    if capture is not None and (nid, k) in capture and grads[k] is not None:
                        capture[(nid, k)] = grads[k]
                if node.materialize_grads:
                    for k in range(n_out):
                        if grads[k] is None:
                            shape, dtype = node._out_meta[k]
                            grads[k] = _make(np.zeros(shape, dtype), False, None, 0, None)
                grads = tuple(grads)

            in_grads = node.fn.backward(node, *grads)
            if not isinstance(in_grads, tuple):
                in_grads = (in_grads,)
            edges = node.next_edges
            if len(in_grads) < len(edges):
                # Trailing non-Tensor arguments (stride, dim, ...) need no gradient.
                in_grads = in_grads + (None,) * (len(edges) - len(in_grads))
            for edge, gi in zip(edges, in_grads):
                if edge is None or gi is None:
                    continue
                if not isinstance(gi, Tensor):
                    gi = _make(np.asarray(gi), False, None, 0, None)
                child, nr = edge
                if nr < 0:
                    if capture is not None:
                        key = (id(child), -1)
                        if key in capture:
                            capture[key] = gi if capture[key] is None else capture[key] + gi
                    else:
                        _accumulate_leaf(leaf_grads, child, gi)
                else:
                    _accumulate(node_grads, (id(child), nr), gi)
            if not retain_graph:
                node._release()
        # Leaves last: their hooks see the total gradient of this backward pass.
        seen = {id(g.data) for g in grad_roots}
        for leaf, g in leaf_grads.values():
            if leaf._hooks is not None:
                g = _run_hooks(leaf._hooks, g)
            _store_leaf_grad(leaf, g, create_graph, seen)
    finally:
        _GradMode.enabled = prev_mode


def _accumulate_leaf(leaf_grads: dict, leaf: Any, g: Any) -> None:
    entry = leaf_grads.get(id(leaf))
    if entry is None:
        leaf_grads[id(leaf)] = [leaf, g]
    else:
        entry[1] = entry[1] + g


def _store_leaf_grad(leaf: Any, g: Any, create_graph: bool, seen: set) -> None:
    from .tensor import _make
    data = g.data
    if data.shape != leaf.data.shape:
        data = np.broadcast_to(data, leaf.data.shape)
    if data.dtype != leaf.data.dtype:
        data = data.astype(leaf.data.dtype)
    if not create_graph:
        # .grad must own writable memory: the array reaching here may be a broadcast view
        # or shared with another leaf's gradient (add's backward passes one array twice).
        if not data.flags.writeable or not data.flags.owndata or id(data) in seen:
            data = np.array(data)
        seen.add(id(data))
        g = _make(data, False, None, 0, None)
    elif data is not g.data:
        g = g.expand(leaf.shape) if g.shape != leaf.shape else g.to(leaf.dtype)
    if leaf.grad is None:
        leaf.grad = g
    else:
        leaf.grad = leaf.grad + g if create_graph else _make(leaf.grad.data + g.data, False, None,
                                                             0, None)


def _seed(t: Any, gradient: Any, who: str) -> Any:
    from .tensor import Tensor, _make
    if gradient is None:
        if t.data.size != 1:
            raise RuntimeError(
                f"{who}: grad can be implicitly created only for scalar outputs, but the output has "
                f"shape {tuple(t.shape)}; pass a gradient of that shape")
        return _make(np.ones(t.data.shape, t.data.dtype), False, None, 0, None)
    if not isinstance(gradient, Tensor):
        gradient = _make(np.asarray(gradient, dtype=t.data.dtype), False, None, 0, None)
    if gradient.shape != t.shape:
        raise RuntimeError(
            f"{who}: gradient has shape {tuple(gradient.shape)} but the output has shape "
            f"{tuple(t.shape)}")
    return gradient


def backward(tensors: Any, grad_tensors: Any = None, retain_graph: Optional[bool] = None,
             create_graph: bool = False) -> None:
    """Accumulate d(tensors)/d(leaf) into every leaf's ``.grad``."""
    from .tensor import Tensor
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
    from .tensor import Tensor, _make
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
        key = (id(t.grad_fn), t._out_nr) if t.grad_fn is not None else (id(t), -1)
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
