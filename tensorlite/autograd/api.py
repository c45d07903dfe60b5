"""The public entry points: ``Tensor.backward``, ``autograd.backward`` and ``autograd.grad``.

They check their arguments, make the seed gradients, and hand over to the walk
(``engine.run_backward``).
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..tensor import Tensor, _make
from .accumulate import store_leaf_grad
from .engine import edge_of, run_backward
from .hooks import retain_grad, run_post_accumulate_hooks
from .views import refresh_views


def tensor_backward(t: Tensor, gradient: Any = None, retain_graph: Optional[bool] = None,
                    create_graph: bool = False, inputs: Any = None) -> None:
    """``t.backward(...)``: ``backward((t,), ...)`` with the seed checked cheaply when it is
    already a Tensor of ``t``'s shape and dtype (the common call in a training loop)."""
    if t._view_version is not None:
        refresh_views((t,))
    if inputs is not None or not t.requires_grad:
        backward(t, gradient, retain_graph, create_graph, inputs)  # also: the clear error
        return
    if (type(gradient) is Tensor and gradient._data.shape == t._data.shape
            and gradient._data.dtype is t._data.dtype):
        seed = gradient
    else:
        seed = _seed(t, gradient, "backward")
    run_backward((t,), (seed,), create_graph if retain_graph is None else retain_graph,
                 create_graph)


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


def backward(tensors: Any, grad_tensors: Any = None, retain_graph: Optional[bool] = None,
             create_graph: bool = False, inputs: Any = None) -> None:
    """Accumulate d(tensors)/d(leaf) into every leaf's ``.grad``; with ``inputs``, only into
    the ``.grad`` of those tensors (leaves or not), as PyTorch's ``inputs=`` argument."""
    if isinstance(tensors, Tensor):
        grad_tensors = (grad_tensors,)
    tensors = _tensor_tuple(tensors, "autograd.backward", "tensors")
    refresh_views(tensors)
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
        run_backward(tensors, seeds, retain_graph, create_graph)
        return
    # Only the graph between `tensors` and `inputs` runs, and only the inputs' .grad changes
    # (the other leaves are left alone): autograd.grad's capture, then accumulation.
    capture: dict = {}
    for t in inputs:
        if t.grad_fn is not None:
            # As PyTorch: a non-leaf input is made to retain its grad (for good), and its
            # retain_grad hook stores the gradient when the node is reached.
            retain_grad(t)
        capture[edge_of(t)] = None
    run_backward(tensors, seeds, retain_graph, create_graph, capture)
    done = set()
    for t in inputs:
        if t.grad_fn is not None:
            continue
        g = capture[(t, -1)]
        if g is None or id(t) in done:
            continue
        done.add(id(t))
        # Every captured array counts as seen: .grad gets its own copy, never a shared one.
        store_leaf_grad(t, g, create_graph, {id(g._data)})
        if t._hooks is not None and t._hooks.post:
            run_post_accumulate_hooks(t)


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
    refresh_views(outputs + inputs)
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
        key = edge_of(t)
        capture[key] = None
        keys.append(key)
    seeds = [_seed(t, g, "grad") for t, g in zip(outputs, grad_outputs)]
    run_backward(outputs, seeds, retain_graph, create_graph, capture)
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
    if not isinstance(data, Tensor):
        raise TypeError(f"Variable: data must be a Tensor, got {type(data).__name__}")
    out = data.detach()
    if requires_grad:
        out.requires_grad_(True)
    return out
