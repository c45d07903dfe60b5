"""Function and its ctx: how an op records itself in the graph.

Every differentiable op, built-in or user-defined, is a :class:`Function` subclass with a
``forward`` (Tensors in, an array out) and a ``backward`` (the gradient of each output in,
one gradient per input out). ``MyOp.apply(*inputs)`` runs ``forward`` without recording
and, when an input requires a gradient, makes the ``ctx`` a *node* of the graph: it
remembers where each input's gradient goes (``next_edges``) and what forward saved.
"""
from __future__ import annotations

import functools
import itertools
from typing import Any, Callable, Optional

import numpy as np

from ..tensor import Tensor, _make
from .grad_mode import state

class Context:
    """The ``ctx`` handed to ``forward``/``backward``; it is also the graph node.

    Attributes a backward may read: ``saved_tensors``, ``needs_input_grad``, and anything
    ``forward`` stored on it (``ctx.stride = 2``).
    """

    # _out_meta: (shape, dtype) of each output, recorded by apply; the engine checks the
    # gradients flowing into this node's outputs against it.
    # seq: the node's creation number; a node is always made after the nodes of its
    # inputs, so decreasing seq is an order in which backward can visit the graph.
    __slots__ = ("fn", "next_edges", "needs_input_grad", "_saved", "_saved_versions",
                 "_n_outputs", "_freed", "_out_meta", "seq", "__dict__", "__weakref__")
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
    # Optional: the forward on arrays alone, for ops whose callers compute directly when
    # nothing is recorded (no ctx, no node).
    compute = None

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
        if state.enabled:
            for a in args:
                if isinstance(a, Tensor) and a._view_version is not None:
                    _refresh(a)  # may record a node (AsStrided): before this one's seq
            ctx.seq = _next_seq()
            # (Unrolled for one and two inputs: a comprehension costs a call.)
            n = len(args)
            if n == 2:
                a, b = args
                needs = (isinstance(a, Tensor) and a.requires_grad,
                         isinstance(b, Tensor) and b.requires_grad)
            elif n == 1:
                needs = (isinstance(args[0], Tensor) and args[0].requires_grad,)
            else:
                needs = tuple([isinstance(a, Tensor) and a.requires_grad for a in args])
            track = True in needs
            ctx.needs_input_grad = needs
            state.enabled = False
            try:
                result = cls.forward(ctx, *args)
            finally:
                state.enabled = True
        else:
            track = False
            ctx.needs_input_grad = (False,) * len(args)
            result = cls.forward(ctx, *args)

        if type(result) is not tuple:
            return _one_output(cls, ctx, args, result, track)
        return _outputs(ctx, args, result, track)


def _refresh(view: Tensor) -> None:
    # views.py defines Functions (AsStrided), so it imports this module: looked up here, on
    # the path taken only by views.
    from .views import refresh_view
    refresh_view(view)


def _one_output(cls: type, ctx: Context, args: tuple, result: Any, track: bool) -> Tensor:
    """The common case of ``apply``: forward returned one array (or Tensor)."""
    if type(result) is np.ndarray:
        a, alias = result, False
    else:
        a = result._data if isinstance(result, Tensor) else np.asarray(result)
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
    edges = []
    for t, n in zip(args, ctx.needs_input_grad):
        if not n:
            edges.append(None)
        elif t.grad_fn is None:
            edges.append((t, -1))
        else:
            edges.append((t.grad_fn, t._out_nr))
    ctx.next_edges = tuple(edges)
    ctx._n_outputs = 1
    dtype = a.dtype
    ctx._out_meta = ((a.shape, dtype),)
    non_diff = ctx._non_diff
    diff = dtype.kind == "f" and (non_diff is None or id(a) not in non_diff)
    out = _make(a, diff, ctx if diff else None, 0, version)
    if alias:
        out._base = result
    if ctx._has_arrays:
        _bind_saved_outputs(ctx, (result,), [a], [out])
    return out


def record(cls: type, a: Tensor, b: Optional[Tensor], out: np.ndarray,
           save: tuple = ()) -> Tensor:
    """The node ``cls.apply(a, b)`` (or ``cls.apply(a)``) would make, for an op that has
    computed its float output ``out`` itself: the elementwise table's fast path, which
    skips ``apply``'s generality (any outputs, aliases, keyword binding) but builds the
    same node. ``save``: the inputs backward reads (``ctx.saved_tensors``), or the one
    entry ``out`` for an op whose backward reads its output."""
    ctx = _new_ctx(Context)
    ctx.seq = _next_seq()
    ctx.fn = cls
    ctx._freed = False
    na = a.requires_grad  # (the caller has refreshed views: refresh_views)
    ea = ((a, -1) if a.grad_fn is None else (a.grad_fn, a._out_nr)) if na else None
    if b is None:
        ctx.needs_input_grad = (na,)
        ctx.next_edges = (ea,)
    else:
        nb = b.requires_grad
        ctx.needs_input_grad = (na, nb)
        ctx.next_edges = (ea, ((b, -1) if b.grad_fn is None else (b.grad_fn, b._out_nr))
                          if nb else None)
    ctx._n_outputs = 1
    ctx._out_meta = ((out.shape, out.dtype),)
    y = _make(out, True, ctx, 0, None)
    if not save:
        ctx._saved = None
    elif save[0] is out:
        ctx._saved = save
        ctx._saved_versions = [None]
        ctx._saved_outputs = {0: (0, y._version, 0)}
    else:
        ctx._saved = save
        ctx._saved_versions = [None if t is None else t._version[0] for t in save]
    return y


def _outputs(ctx: Context, args: tuple, results: tuple, track: bool) -> tuple:
    """``apply`` for a forward that returned a tuple of outputs."""
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
    ctx.next_edges = tuple([_edge(a) if n else None for a, n in zip(args, ctx.needs_input_grad)])
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
_next_seq = itertools.count().__next__  # atomic under the GIL: threads may record at once


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
        if not state.enabled:
            return backward(ctx, *grads)
        prev = state.enabled
        state.enabled = False
        try:
            outs = backward(ctx, *grads)
        finally:
            state.enabled = prev
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
            err.seq = _next_seq()
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

