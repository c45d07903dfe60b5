"""Reverse-mode automatic differentiation, in small modules:

==============  ===============================================================
grad_mode.py    ``no_grad``, ``enable_grad``, ... : whether ops record (per thread)
function.py     ``Function`` and its ``ctx`` (the graph node); ``once_differentiable``
engine.py       the backward walk (``run_backward``)
accumulate.py   where gradients are summed: pending ones and a leaf's ``.grad``
conform.py      a backward's gradients checked and fitted to their inputs
                (``unbroadcast``: the one place broadcasting's gradient is reduced)
hooks.py        ``register_hook``, ``retain_grad``, post-accumulate hooks, callbacks
api.py          ``Tensor.backward``, ``autograd.backward``, ``autograd.grad``
==============  ===============================================================

Every differentiable op is a :class:`Function`; ``loss.backward()`` visits the recorded
nodes in reverse topological order, summing the gradients that arrive at a node from
all of its uses before calling its ``backward``. Backward formulas are written with
differentiable Tensor ops, so with ``create_graph=True`` the backward pass is itself
recorded and gives gradients of gradients.
"""
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .function import Context, Function, once_differentiable
from .hooks import RemovableHandle, _execution_engine, queue_callback
from .api import Variable, backward, grad
from .accumulate import Owned as _OwnedVersion  # nn/parallel.py updates .grad as the engine does

__all__ = [
    "Function", "Context", "once_differentiable", "no_grad", "enable_grad",
    "set_grad_enabled", "is_grad_enabled", "inference_mode", "backward", "grad",
    "RemovableHandle", "queue_callback", "Variable",
]
