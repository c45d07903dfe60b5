"""Reverse-mode automatic differentiation: Function/ctx, the backward engine, grad modes.

The whole idea fits in a few lines, as in the lecture's backpropagation:

* every differentiable op is a :class:`Function` with a ``forward`` (arrays in, array out)
  and a ``backward`` (gradient of the output in, gradients of the inputs out);
* calling ``MyOp.apply(*inputs)`` runs ``forward`` and, when an input requires a gradient,
  records a *node* (the ``ctx`` object) that remembers its inputs' nodes;
* ``loss.backward()`` visits those nodes in reverse topological order, calling each
  ``backward`` and summing the gradients that arrive at a node from all of its uses.
  Each gradient a ``backward`` (or a hook) returns is checked against the input it is
  for -- one per input, of its shape and dtype -- so a wrong one is an error naming the
  op, never a silently broadcast ``.grad``.

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
    "set_grad_enabled", "is_grad_enabled", "backward", "grad", "RemovableHandle",
    "queue_callback",
]


# ---------------------------------------------------------------------------------------
# Grad mode
# ---------------------------------------------------------------------------------------
class _GradMode:
    # A class attribute is the cheapest global flag to read on the hot path.
    enabled = True


def is_grad_enabled() -> bool:
    return _GradMode.enabled


class _GradModeContext:
    """Sets grad mode for a ``with`` block, or for every call of a decorated function."""

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


class set_grad_enabled(_GradModeContext):
    """Set grad mode on or off: as a plain call (``tl.set_grad_enabled(False)``), a context
    manager (``with tl.set_grad_enabled(False):``) or a decorator (``@tl.set_grad_enabled(False)``).
    """

    def __init__(self, mode: bool) -> None:
        # The mode switches here already, as PyTorch's does, so that the plain call works.
        self.prev = _GradMode.enabled
        self.mode = bool(mode)
        _GradMode.enabled = self.mode

    def __enter__(self) -> None:
        # `prev` stays the mode from before the constructor's switch: __exit__ restores that.
        _GradMode.enabled = self.mode

    def __call__(self, fn: Callable) -> Callable:
        # As a decorator the constructor's switch must not outlive the definition: the mode
        # applies only while the decorated function runs.
        _GradMode.enabled = self.prev
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
        return False if self.on else _GradMode.enabled


# ---------------------------------------------------------------------------------------
# Function and its context (the graph node)
# ---------------------------------------------------------------------------------------
class Context:
    """The ``ctx`` handed to ``forward``/``backward``; it is also the graph node.

    Attributes a backward may read: ``saved_tensors``, ``needs_input_grad``, and anything
    ``forward`` stored on it (``ctx.stride = 2``).
    """

    # _out_meta: (shape, dtype) of each output, recorded by apply; the engine checks the
    # gradients flowing into this node's outputs against it.
    __slots__ = ("fn", "next_edges", "needs_input_grad", "_saved", "_saved_versions",
                 "_n_outputs", "_freed", "_out_meta", "__dict__", "__weakref__")
    # Rarely set: class-level defaults keep node creation cheap (an instance value lands
    # in __dict__ only for the nodes that need one).
    _saved_outputs = None
    _non_diff = None
    _pre_hooks = None
    _has_arrays = False
    materialize_grads = True

    def __init__(self) -> None:
        self._saved = None
        self._freed = False
        self._out_meta = None

    # -- saving -----------------------------------------------------------------------
    def save_for_backward(self, *items: Any) -> None:
        """Save inputs (Tensors) or outputs (the arrays ``forward`` returns) for backward.

        Saving an output array records it without a reference cycle; ``saved_tensors``
        gives it back as a Tensor attached to this node, so double backward works.
        """
        self._saved = items
        versions = []
        for k, t in enumerate(items):
            if isinstance(t, Tensor):
                versions.append(t._version[0])
            elif t is not None and not isinstance(t, (np.ndarray, np.generic)):
                # As PyTorch: only tensors (here also forward's arrays) or None; other
                # values go on ctx as attributes (ctx.k = k).
                raise TypeError(f"{self.name()}: save_for_backward can only save tensors, arrays "
                                f"or None, but argument {k} is of type {type(t).__name__}; store "
                                "other values as attributes of ctx")
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
    def _add_pre_hook(self, nr: int, hook: Callable) -> "RemovableHandle":
        """Run ``hook(grad)`` on the gradient of output ``nr`` before this node's backward."""
        if self._pre_hooks is None:
            self._pre_hooks = {}
        hooks = self._pre_hooks.setdefault(nr, [])
        if hooks and isinstance(hooks[-1], _RetainGrad):
            # retain_grad stores what every other hook has made of the gradient (PyTorch's
            # order), so it stays last whenever it was registered.
            hooks.insert(len(hooks) - 1, hook)
        else:
            hooks.append(hook)
        return RemovableHandle(hooks, hook)

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
                return x._data ** 3
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
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            # As PyTorch: keyword arguments are bound to forward's parameters and count as
            # inputs in its order (backward returns a gradient for each).
            args = _bind_args(cls, args, kwargs)
        ctx = _new_ctx(Context)
        ctx.fn = cls
        ctx._saved = None
        ctx._freed = False
        if _GradMode.enabled:
            for a in args:
                if getattr(a, "_view_version", None) is not None:
                    refresh_view(a)
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
            a = result._data if isinstance(result, Tensor) else result
            if type(a) is not np.ndarray:
                a = np.asarray(a)
            # A forward returning one of its inputs unchanged gives an alias of it (PyTorch
            # makes it a view): an in-place change of either must be seen by the other's
            # saved-tensor check, so they share the version counter.
            alias = isinstance(result, Tensor) and any(result is x for x in args)
            if alias:
                version = result._version
            elif cls._shares_version:
                version = args[0]._version
            else:
                version = None
            if not track:
                return _make(a, False, None, 0, version)
            ctx.next_edges = tuple([((t.grad_fn, t._out_nr) if t.grad_fn is not None
                                     else (t, -1)) if n else None
                                    for t, n in zip(args, needs)])
            ctx._n_outputs = 1
            ctx._out_meta = ((a.shape, a.dtype),)
            diff = a.dtype.kind == "f" and (ctx._non_diff is None or id(a) not in ctx._non_diff)
            out = _make(a, diff, ctx if diff else None, 0, version)
            if alias:
                out._base = result
            if ctx._has_arrays:
                _bind_saved_outputs(ctx, (result,), [a], [out])
            return out

        results = result
        arrays = [r._data if isinstance(r, Tensor) else r for r in results]
        # Outputs that are neither tensors nor arrays (None, a Python int, a string) come
        # back unchanged, as in PyTorch, and their gradient in backward is None.
        plain = [not isinstance(r, (np.ndarray, np.generic)) for r in arrays]
        for k, r in enumerate(arrays):
            if isinstance(r, np.generic):
                arrays[k] = np.asarray(r)
        if not track:
            return tuple([r if p else _make(a, False, None, 0, None)
                          for r, a, p in zip(results, arrays, plain)])
        ctx.next_edges = tuple([_edge(a) if n else None for a, n in zip(args, needs)])
        ctx._n_outputs = len(arrays)
        ctx._out_meta = tuple(None if p else (a.shape, a.dtype) for a, p in zip(arrays, plain))
        non_diff = ctx._non_diff
        outs = []
        for nr, a in enumerate(arrays):
            if plain[nr]:
                outs.append(results[nr])
                continue
            diff = a.dtype.kind == "f" and (non_diff is None or id(a) not in non_diff)
            outs.append(_make(a, diff, ctx if diff else None, nr, None))
        if ctx._saved is not None:
            _bind_saved_outputs(ctx, results, arrays, outs)
        return tuple(outs)


_new_ctx = object.__new__


def _bind_args(cls: type, args: tuple, kwargs: dict) -> tuple:
    """``args`` and ``kwargs`` of ``cls.apply`` as one positional tuple, in the order of
    ``cls.forward``'s parameters (after ctx); a clear TypeError when they do not fit."""
    import inspect
    try:
        bound = inspect.signature(cls.forward).bind(None, *args, **kwargs)
    except TypeError as err:
        raise TypeError(f"{cls.__name__}.apply: the arguments do not fit {cls.__name__}.forward: "
                        f"{err}") from None
    if bound.kwargs:
        raise TypeError(f"{cls.__name__}.apply: keyword-only parameters of forward "
                        f"({', '.join(bound.kwargs)}) are not supported; make them positional")
    return tuple(bound.args[1:])


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
            data = o._data if isinstance(o, Tensor) else np.asarray(o)
            err._out_meta = ((data.shape, data.dtype),)
            wrapped.append(_make(data, True, err, 0, None))
        return wrapped[0] if single else tuple(wrapped)

    wrapper._once_differentiable = True
    return wrapper


class _DelayedError(Function):
    """Stands in the graph for a once-differentiable backward; differentiating it raises."""

    @staticmethod
    def forward(ctx, x):
        return x._data

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


def _leading_to(order: list, capture: dict) -> set:
    """The nodes of ``order`` (each before the nodes feeding it) whose backward passes a
    gradient on to a key of ``capture``, directly or through other such nodes."""
    needed: set = set()
    for node in reversed(order):
        for e in node.next_edges:
            if e is not None and ((e[1] >= 0 and e[0] in needed) or e in capture):
                needed.add(node)
                break
    return needed


# -- hooks ------------------------------------------------------------------------------
class RemovableHandle:
    """What ``Tensor.register_hook`` returns: ``handle.remove()`` unregisters the hook
    (also usable as ``with t.register_hook(fn): ...``)."""

    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks: list, hook: Callable) -> None:
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        hooks, self._hooks = self._hooks, None
        if hooks is None:
            return  # removed already: a second remove() must not take a twin registration
        for k, h in enumerate(hooks):
            if h is self._hook:
                del hooks[k]
                return

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


class _RetainGrad:
    """The hook ``retain_grad`` puts on a non-leaf's gradient: keeps it in ``.grad``."""

    __slots__ = ("ref",)

    def __init__(self, t: Any) -> None:
        self.ref = weakref.ref(t)  # the graph must not keep the tensor alive

    def __call__(self, g: Any) -> None:
        t = self.ref()
        if t is None:
            return
        # A copy, as PyTorch's: the gradient array flows on into the graph (to other
        # nodes and leaves), so `.grad` must not share it.
        t.grad = g.clone() if t.grad is None else t.grad + g


def _register_hook(t: Any, hook: Callable) -> RemovableHandle:
    """``t.register_hook(hook)``: ``hook(grad)`` runs when ``t``'s gradient is computed and may
    return a replacement of the same shape and dtype. A leaf keeps its hooks itself; a
    non-leaf's live on the node that made it (they run before that node's backward)."""
    if not t.requires_grad:
        raise RuntimeError("register_hook: cannot register a hook on a tensor that does not "
                           "require grad")
    if not callable(hook):
        raise TypeError(f"register_hook: the hook must be callable, got {type(hook).__name__}")
    if t.grad_fn is None:
        if t._hooks is None:
            t._hooks = []
        t._hooks.append(hook)
        return RemovableHandle(t._hooks, hook)
    return t.grad_fn._add_pre_hook(t._out_nr, hook)


def _retain_grad(t: Any) -> None:
    """``t.retain_grad()``: keep a non-leaf's gradient in ``.grad`` (a leaf keeps it anyway).

    Its hook always runs after the tensor's other hooks, whichever was registered first,
    and registering twice keeps one (PyTorch's rules)."""
    node = t.grad_fn
    if node is None:
        if not t.requires_grad:
            raise RuntimeError("retain_grad: tensor does not require grad")
        return
    hooks = node._pre_hooks.get(t._out_nr) if node._pre_hooks is not None else None
    if hooks and any(isinstance(h, _RetainGrad) and h.ref() is t for h in hooks):
        return
    if node._pre_hooks is None:
        node._pre_hooks = {}
    node._pre_hooks.setdefault(t._out_nr, []).append(_RetainGrad(t))


def _run_hooks(hooks: list, g: Any, seen: set) -> Any:
    # A hook may keep the gradient it is handed: `seen` records the arrays user code has
    # seen, so that a leaf's .grad never shares (and later accumulates into) one of them.
    seen.add(id(g._data))
    for h in tuple(hooks):  # a hook may remove itself
        r = h(g)
        if r is not None:
            _check_hook_result(h, g, r)
            g = r
            seen.add(id(g._data))
    return g


def _check_hook_result(hook: Callable, g: Any, r: Any) -> None:
    # As PyTorch: a hook may change a gradient's values but not its shape or dtype (the
    # node it flows into was built for exactly those).
    name = getattr(hook, "__name__", type(hook).__name__)
    if not isinstance(r, Tensor):
        raise TypeError(f"hook '{name}' returned {type(r).__name__}; a hook must return a Tensor "
                        "or None")
    if r._data.shape != g._data.shape:
        raise RuntimeError(f"hook '{name}' has changed the size of value: it returned shape "
                           f"{tuple(r._data.shape)} for a gradient of shape {tuple(g._data.shape)}")
    if r._data.dtype != g._data.dtype:
        raise RuntimeError(f"hook '{name}' has changed the type of value: it returned dtype "
                           f"{r._data.dtype} for a gradient of dtype {g._data.dtype}")


# -- checking what a backward returns ---------------------------------------------------
def _check_count(node: Context, grads: tuple) -> tuple:
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


def _conform(node: Context, edge: tuple, g: Any, shape: tuple, dtype: np.dtype) -> Any:
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
        from .ops.broadcast import unbroadcast  # ops import this module: import when needed
        g = unbroadcast(g, shape)
    gdtype = g._data.dtype
    if gdtype != dtype:
        if gdtype.kind != "f":
            raise TypeError(
                f"Function {node.name()} returned a gradient of dtype {gdtype} at index {k}, but "
                f"input {k} has dtype {dtype}; a gradient must be floating point")
        g = g.to(dtype)
    return g


# -- running the graph backwards ---------------------------------------------------------
# -- end-of-backward callbacks ----------------------------------------------------------
# One frame (a list of callbacks) per running backward; nested backwards (one called from a
# hook) get their own. A frame's callbacks run when its backward has finished.
_callback_frames: list = []


class _ExecutionEngine:
    """The role of PyTorch's ``Variable._execution_engine``: ``queue_callback(fn)`` from a
    hook runs ``fn()`` once the current backward pass has finished (every ``.grad`` stored,
    every hook run), before ``backward()`` returns. DistributedDataParallel waits for its
    last all-reduces there."""

    def queue_callback(self, callback: Callable[[], None]) -> None:
        if not callable(callback):
            raise TypeError(f"queue_callback: the callback must be callable, got "
                            f"{type(callback).__name__}")
        if not _callback_frames:
            raise RuntimeError("queue_callback: final callbacks can only be installed during the "
                               "backward pass (from a hook)")
        _callback_frames[-1].append(callback)


_execution_engine = _ExecutionEngine()


def queue_callback(callback: Callable[[], None]) -> None:
    """Run ``callback()`` when the backward pass now running has finished."""
    _execution_engine.queue_callback(callback)


def _execute(roots: Sequence, grad_roots: Sequence, retain_graph: bool, create_graph: bool,
             capture: Optional[dict] = None) -> None:
    """Run the backward pass (``_walk``), then the callbacks queued during it, in order (a
    callback may queue another). A backward that raises drops its callbacks."""
    frame: list = []
    _callback_frames.append(frame)
    try:
        _walk(roots, grad_roots, retain_graph, create_graph, capture)
        k = 0
        while k < len(frame):
            frame[k]()
            k += 1
    finally:
        _callback_frames.pop()


def _walk(roots: Sequence, grad_roots: Sequence, retain_graph: bool, create_graph: bool,
          capture: Optional[dict] = None) -> None:
    """Propagate ``grad_roots`` from ``roots`` (output Tensors) back to the leaves.

    Gradients arriving at a node from several uses are summed before its backward runs.
    Each gradient a backward returns is checked against the input it is for (count, shape,
    dtype). With ``capture`` (a dict keyed by (node or leaf, output nr)), gradients reaching
    those places are recorded there and leaves' ``.grad`` is left alone (``autograd.grad``).

    A released node (retain_graph=False) may run again: only reading its freed saved
    tensors is an error, so ops that saved nothing backpropagate twice, as in PyTorch.

    A leaf's gradient is stored (its hooks run, then its post-accumulate-grad hooks) as soon
    as the last node feeding it has run, not after the whole walk, as PyTorch's engine
    does: a post-accumulate hook can then start work on it (DistributedDataParallel's
    all-reduce) while the rest of the graph is still being walked.
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
    # autograd.grad runs only the nodes through which a gradient reaches a requested
    # place, as PyTorch does: the graph upstream of the inputs is left alone.
    needed = None if capture is None else _leading_to(order, capture)
    # For each node, the leaves it is the last (in `order`) to feed: their gradient is
    # complete once it has run. autograd.grad and backward(inputs=) store nothing here.
    last_feeder = _last_feeders(order) if capture is None else None
    seen = {id(g._data) for g in grad_roots}  # arrays a leaf's .grad must not share
    prev_mode = _GradMode.enabled
    _GradMode.enabled = create_graph
    try:
        ready = None
        for node in order:
            if ready is not None:
                # The previous node was the last to feed these leaves (flushed here, at the
                # top, so that every `continue` below still reaches it).
                _flush_leaves(ready, pending, create_graph, seen)
            ready = last_feeder.get(node) if last_feeder is not None else None
            n_out = node._n_outputs
            hooks = node._pre_hooks
            if n_out == 1:
                g = pending.pop((node, 0), None)
                if g is None:
                    continue
                if hooks is not None and 0 in hooks:
                    g = _run_hooks(hooks[0], g, seen)
                if capture is not None and (node, 0) in capture:
                    capture[(node, 0)] = g
                if needed is not None and node not in needed:
                    continue
                in_grads = node.fn.backward(node, g)
            else:
                grads = [pending.pop((node, k), None) for k in range(n_out)]
                if all(g is None for g in grads):
                    continue
                for k in range(n_out):
                    if grads[k] is None:
                        if node.materialize_grads and node._out_meta[k] is not None:
                            shape, dtype = node._out_meta[k]
                            grads[k] = _make(np.zeros(shape, dtype), False, None, 0, None)
                        continue
                    if hooks is not None and k in hooks:
                        grads[k] = _run_hooks(hooks[k], grads[k], seen)
                    if capture is not None and (node, k) in capture:
                        capture[(node, k)] = grads[k]
                if needed is not None and node not in needed:
                    continue
                in_grads = node.fn.backward(node, *grads)
            if type(in_grads) is not tuple:
                in_grads = (in_grads,)
            edges = node.next_edges
            if len(in_grads) != len(edges):
                in_grads = _check_count(node, in_grads)
            shared = last_feeder is not None and len(edges) > 1
            for edge, gi in zip(edges, in_grads):
                if edge is None or gi is None:
                    continue
                if not isinstance(gi, Tensor):
                    gi = _make(np.asarray(gi), False, None, 0, None)
                # The input's shape and dtype: a leaf's own, or what its producer recorded.
                d = gi._data
                child, nr = edge
                if nr < 0:
                    ref = child._data
                    if d.shape != ref.shape or d.dtype is not ref.dtype:
                        gi = _conform(node, edge, gi, ref.shape, ref.dtype)
                else:
                    shape, dtype = child._out_meta[nr]
                    if d.shape != shape or d.dtype is not dtype:
                        gi = _conform(node, edge, gi, shape, dtype)
                    if shared:
                        # An array handed to a node and maybe also to a leaf, whose .grad is
                        # stored before that node runs: the leaf must get its own copy, or a
                        # post-accumulate hook writing into .grad would change the gradient
                        # the node has still to consume.
                        seen.add(id(gi._data))
                prev = pending.get(edge)
                if prev is None:
                    pending[edge] = gi
                elif create_graph:
                    pending[edge] = prev + gi
                else:
                    # Plain array sum: no graph is being recorded, so skip the op machinery.
                    pending[edge] = _make(prev._data + gi._data, False, None, 0, None)
            if not retain_graph:
                node._release()
        if ready is not None:
            _flush_leaves(ready, pending, create_graph, seen)

        # What is left in `pending` are the gradients of leaves no node feeds (a leaf passed
        # as a root) and, with `capture`, every leaf's (edges with nr == -1).
        for (leaf, nr), g in list(pending.items()):
            if nr >= 0:
                continue
            if capture is not None:
                if (leaf, -1) in capture:
                    # A leaf's hooks run for autograd.grad too (PyTorch), before capture.
                    if leaf._hooks:
                        g = _run_hooks(leaf._hooks, g, seen)
                    capture[(leaf, -1)] = g
                continue
            if leaf._hooks:
                g = _run_hooks(leaf._hooks, g, seen)
            _store_leaf_grad(leaf, g, create_graph, seen)
            _run_post_accumulate_hooks(leaf)
    finally:
        _GradMode.enabled = prev_mode


def _last_feeders(order: list) -> dict:
    """node -> the leaves for which it is the last node of ``order`` with an edge to them."""
    last: dict = {}
    for node in order:
        for e in node.next_edges:
            if e is not None and e[1] < 0:
                last[id(e[0])] = (node, e[0])  # a later node replaces an earlier one
    by_node: dict = {}
    for node, leaf in last.values():
        by_node.setdefault(node, []).append(leaf)
    return by_node


def _flush_leaves(leaves: list, pending: dict, create_graph: bool, seen: set) -> None:
    """Store the now complete gradients of ``leaves`` (hooks, .grad, post-accumulate hooks)."""
    for leaf in leaves:
        g = pending.pop((leaf, -1), None)
        if g is None:
            continue  # no gradient reached it (every path to it carried None)
        if leaf._hooks:
            g = _run_hooks(leaf._hooks, g, seen)
        _store_leaf_grad(leaf, g, create_graph, seen)
        _run_post_accumulate_hooks(leaf)


def _run_post_accumulate_hooks(leaf: Any) -> None:
    # Off the hot path: the slot is set only on tensors that ever had such a hook.
    hooks = getattr(leaf, "_post_acc_hooks", None)
    if not hooks:
        return
    for h in tuple(hooks):  # a hook may remove itself
        if h(leaf) is not None:
            name = getattr(h, "__name__", type(h).__name__)
            raise TypeError(f"post accumulate grad hook '{name}' returned a value; such hooks "
                               "must return None (they may change .grad in place)")


def _register_post_accumulate_grad_hook(t: Any, hook: Callable) -> RemovableHandle:
    """``t.register_post_accumulate_grad_hook(hook)``: ``hook(t)`` runs after ``t.grad`` has
    been accumulated by a backward pass (PyTorch's semantics: leaves only, returns None)."""
    if not callable(hook):
        raise TypeError(f"register_post_accumulate_grad_hook: the hook must be callable, got "
                        f"{type(hook).__name__}")
    if not t.requires_grad:
        raise RuntimeError("register_post_accumulate_grad_hook: cannot register a hook on a "
                           "tensor that does not require grad")
    if t.grad_fn is not None:
        raise RuntimeError("register_post_accumulate_grad_hook: post accumulate grad hooks cannot "
                           "be registered on non-leaf tensors (its grad is never accumulated)")
    hooks = getattr(t, "_post_acc_hooks", None)
    if hooks is None:
        hooks = t._post_acc_hooks = []
    hooks.append(hook)
    return RemovableHandle(hooks, hook)


def _execute_leaf_node(node: Context, g: Any, retain_graph: bool, create_graph: bool) -> None:
    """The common small case of ``_execute``: one root whose node feeds only leaves (a
    tiny op, a loss over parameters) -- no ordering or pending-gradient bookkeeping."""
    prev_mode = _GradMode.enabled
    _GradMode.enabled = create_graph
    try:
        in_grads = node.fn.backward(node, g)
        if type(in_grads) is not tuple:
            in_grads = (in_grads,)
        edges = node.next_edges
        if len(in_grads) != len(edges):
            in_grads = _check_count(node, in_grads)
        leaves: dict = {}
        for edge, gi in zip(edges, in_grads):
            if edge is None or gi is None:
                continue
            if not isinstance(gi, Tensor):
                gi = _make(np.asarray(gi), False, None, 0, None)
            leaf = edge[0]
            d, ref = gi._data, leaf._data
            if d.shape != ref.shape or d.dtype is not ref.dtype:
                gi = _conform(node, edge, gi, ref.shape, ref.dtype)
            prev = leaves.get(leaf)
            if prev is None:
                leaves[leaf] = gi
            elif create_graph:
                leaves[leaf] = prev + gi
            else:
                leaves[leaf] = _make(prev._data + gi._data, False, None, 0, None)
        if not retain_graph:
            node._release()
        seen = {id(g._data)}
        for leaf, gi in leaves.items():
            if leaf._hooks:
                gi = _run_hooks(leaf._hooks, gi, seen)
            _store_leaf_grad(leaf, gi, create_graph, seen)
            _run_post_accumulate_hooks(leaf)
    finally:
        _GradMode.enabled = prev_mode


class _OwnedVersion(list):
    """The version counter of a ``.grad`` whose array the engine allocated itself.

    Only such a ``.grad`` is accumulated into in place: an array that a backward or a hook
    handed over may still be held by whoever made it (a custom Function's constant, a
    hook's stash), and adding into it would silently change their tensor too."""


def _store_leaf_grad(leaf: Any, g: Any, create_graph: bool, seen: set) -> None:
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
            leaf.grad = _make(data.copy(), False, None, 0, _OwnedVersion([0]))
        else:
            seen.add(key)
            leaf.grad = _make(data, False, None, 0, None)
        return
    od = old._data
    if old.grad_fn is None and not old.requires_grad and od.shape == data.shape \
            and od.dtype == data.dtype:
        if type(old._version) is _OwnedVersion:
            od += data
            old._version[0] += 1
        else:
            # Not ours to write into: the same Tensor takes a fresh array, ours from now on.
            old._data = od + data
            old._version = _OwnedVersion([old._version[0] + 1])
        return
    # A .grad recorded by an earlier create_graph backward (or of a user-set shape/dtype)
    # is left as it is; the sum replaces it.
    leaf.grad = _make(od + data, False, None, 0, None)


def _seed(t: Any, gradient: Any, who: str) -> Any:
    if gradient is None:
        if t._data.size != 1:
            raise RuntimeError(
                f"{who}: grad can be implicitly created only for scalar outputs, but the output has "
                f"shape {tuple(t.shape)}; pass a gradient of that shape")
        return _make(np.ones(t._data.shape, t._data.dtype), False, None, 0, None)
    if not isinstance(gradient, Tensor):
        arr = np.asarray(gradient)
        if arr.dtype.kind not in "fiub":
            raise TypeError(f"{who}: gradient must be a Tensor or numbers, got "
                            f"{type(gradient).__name__} of dtype {arr.dtype}")
        # Plain numbers (a list, an array) take the output's dtype.
        gradient = _make(arr.astype(t._data.dtype), False, None, 0, None)
    if gradient._data.dtype.kind != "f":
        raise TypeError(f"{who}: gradient must be floating point (as the output, "
                        f"{t._data.dtype}), got {gradient._data.dtype}")
    if gradient.shape != t.shape:
        raise RuntimeError(
            f"{who}: gradient has shape {tuple(gradient.shape)} but the output has shape "
            f"{tuple(t.shape)}")
    if gradient._data.dtype != t._data.dtype:
        # As PyTorch: a float gradient of another precision is cast to the output's.
        gradient = _make(gradient._data.astype(t._data.dtype), False, None, 0, None)
    return gradient


def _tensor_tuple(value: Any, who: str, what: str) -> tuple:
    """``value`` (a Tensor or an iterable of Tensors) as a tuple, or a TypeError naming ``who``."""
    if isinstance(value, Tensor):
        return (value,)
    try:
        items = tuple(value)
    except TypeError:
        raise TypeError(f"{who}: {what} must be a Tensor or a sequence of Tensors, got "
                        f"{type(value).__name__}") from None
    for k, t in enumerate(items):
        if not isinstance(t, Tensor):
            raise TypeError(f"{who}: {what} must be a Tensor or a sequence of Tensors, but "
                            f"element {k} is {type(t).__name__}")
    return items


def refresh_view(t: Any) -> None:
    """Rebase a view whose base (or another view of it) changed in place since the view's
    grad_fn was derived: the view's grad_fn becomes "these elements of the base's current
    value", as PyTorch regenerates a view's grad_fn (AsStridedBackward) from its base's
    new one. Without it, y = x * 1; v = y[:]; y.mul_(b) gave v a gradient that ignored b.
    Views share the base's version counter; _view_version is its value at the last
    derivation. Called for the inputs of every recorded op and the roots of backward."""
    made_without_grad = t._view_version < 0
    if (~t._view_version if made_without_grad else t._view_version) == t._version[0] \
            or not _GradMode.enabled:
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
    from .ops.shape import rebased_view  # ops import autograd, not the other way round
    new = rebased_view(t)
    t.grad_fn, t._out_nr, t.requires_grad = new.grad_fn, new._out_nr, new.requires_grad


def _refresh_views(tensors: tuple) -> None:
    for t in tensors:
        if getattr(t, "_view_version", None) is not None:
            refresh_view(t)


def backward(tensors: Any, grad_tensors: Any = None, retain_graph: Optional[bool] = None,
             create_graph: bool = False, inputs: Any = None) -> None:
    """Accumulate d(tensors)/d(leaf) into every leaf's ``.grad``; with ``inputs``, only into
    the ``.grad`` of those tensors (leaves or not), as PyTorch's ``inputs=`` argument."""
    if isinstance(tensors, Tensor):
        grad_tensors = (grad_tensors,)
    tensors = _tensor_tuple(tensors, "autograd.backward", "tensors")
    _refresh_views(tensors)
    if grad_tensors is None:
        grad_tensors = (None,) * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,)
    if retain_graph is None:
        retain_graph = create_graph
    for k, t in enumerate(tensors):
        if not t.requires_grad:
            raise RuntimeError(
                f"backward: element {k} of tensors does not require grad and does not have a "
                f"grad_fn (shape {tuple(t.shape)}); did you compute it under no_grad or from "
                "tensors without requires_grad=True?")
    if inputs is not None:
        inputs = _tensor_tuple(inputs, "backward", "inputs")
        if not inputs:
            raise RuntimeError("backward: the `inputs` argument cannot be empty")
        for k, t in enumerate(inputs):
            if not t.requires_grad:
                raise RuntimeError(f"backward: element {k} of inputs (shape {tuple(t.shape)}) "
                                   "does not require grad")
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(f"backward: got {len(grad_tensors)} grad_tensors for {len(tensors)} "
                           "tensors")
    seeds = [_seed(t, g, "backward") for t, g in zip(tensors, grad_tensors)]
    if inputs is None:
        _execute(tensors, seeds, retain_graph, create_graph)
        return
    # Only the graph between `tensors` and `inputs` runs, and only the inputs' .grad changes
    # (the other leaves are left alone): autograd.grad's capture, then accumulation.
    capture: dict = {}
    for t in inputs:
        if t.grad_fn is not None:
            # As PyTorch: a non-leaf input is made to retain its grad (for good), and its
            # retain_grad hook stores the gradient when the node is reached.
            _retain_grad(t)
        capture[(t.grad_fn, t._out_nr) if t.grad_fn is not None else (t, -1)] = None
    _execute(tensors, seeds, retain_graph, create_graph, capture)
    done = set()
    for t in inputs:
        if t.grad_fn is not None:
            continue
        g = capture[(t, -1)]
        if g is None or id(t) in done:
            continue
        done.add(id(t))
        # Every captured array counts as seen: .grad gets its own copy, never a shared one.
        _store_leaf_grad(t, g, create_graph, {id(g._data)})
        _run_post_accumulate_hooks(t)


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: Optional[bool] = None,
         create_graph: bool = False, allow_unused: Optional[bool] = None,
         materialize_grads: bool = False) -> tuple:
    """Gradients of ``outputs`` w.r.t. ``inputs``, returned as a tuple; ``.grad`` untouched.

    ``materialize_grads=True`` gives zeros (not None) for inputs the outputs do not depend
    on; ``allow_unused`` then defaults to True (PyTorch's rule)."""
    if materialize_grads and allow_unused is False:
        raise ValueError("grad: expected allow_unused to be True or not passed when "
                         "materialize_grads=True")
    if allow_unused is None:
        allow_unused = materialize_grads
    outputs = _tensor_tuple(outputs, "autograd.grad", "outputs")
    inputs = _tensor_tuple(inputs, "autograd.grad", "inputs")
    _refresh_views(outputs + inputs)
    if not inputs:
        raise RuntimeError("autograd.grad: the `inputs` argument cannot be empty")
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,) * len(outputs) if grad_outputs is None else (grad_outputs,)
    elif not isinstance(grad_outputs, (tuple, list)):
        raise TypeError(f"autograd.grad: grad_outputs must be a Tensor or a sequence (one per "
                        f"output), got {type(grad_outputs).__name__}")
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    if retain_graph is None:
        retain_graph = create_graph
    for k, t in enumerate(inputs):
        if not t.requires_grad:
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
            result.append(_make(np.zeros(t._data.shape, t._data.dtype), False, None, 0, None)
                          if materialize_grads else None)
            continue
        result.append(g)  # already of t's shape and dtype: the engine checked it
    return tuple(result)


def Variable(data: Any, requires_grad: bool = False, volatile: bool = False) -> Any:  # noqa: N802
    """PyTorch's pre-0.4 ``Variable``, a no-op wrapper today: a Tensor sharing ``data``'s
    storage, a leaf of its own, with ``requires_grad`` as given (``volatile`` is ignored, as
    PyTorch has done since 0.4; use ``no_grad``)."""
    from .tensor import Tensor
    if not isinstance(data, Tensor):
        raise TypeError(f"Variable: data must be a Tensor, got {type(data).__name__}")
    out = data.detach()
    if requires_grad:
        out.requires_grad_(True)
    return out
