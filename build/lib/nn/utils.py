"""Gradient clipping and flattening parameters into one vector."""
from __future__ import annotations

import math
from typing import Any, Iterable, Union

import numpy as np

import tensorlite as tl
from tensorlite import Tensor
from tensorlite.tensor import _make

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters"]

_Params = Union[Tensor, Iterable[Tensor]]


def _param_list(parameters: _Params) -> list:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _number(op: str, name: str, value: Any) -> float:
    """``value`` as a float; 'inf' strings are accepted (PyTorch's norm_type='inf')."""
    if isinstance(value, Tensor):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating,
                                                         str)):
        raise TypeError(f"{op}: {name} must be a number, got {type(value).__name__} {value!r}")
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{op}: {name} must be a number, got {value!r}") from None


def _scale_grad_in_place(p: Tensor, factor: float) -> None:
    g = p.grad
    if g.grad_fn is None and g._data.flags.writeable:
        g._data *= g._data.dtype.type(factor)
        g._version[0] += 1
    else:
        p.grad = _make(g._data * g._data.dtype.type(factor), False, None, 0, None)


def clip_grad_norm_(parameters: _Params, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: Any = None) -> Tensor:
    """Rescale the gradients in place so that their joint norm is at most ``max_norm``.

    The joint norm is the ``norm_type``-norm of all gradients taken as one vector
    (``inf`` for the largest absolute value). Each gradient is multiplied by
    min(1, max_norm / (norm + 1e-6)). Returns the norm before clipping, as a 0-d Tensor.
    ``foreach`` (PyTorch's choice of implementation) is accepted and ignored.
    """
    op = "clip_grad_norm_"
    params = _param_list(parameters)
    grads = [p.grad._data for p in params if p.grad is not None]
    # A negative max_norm would flip every gradient's sign (PyTorch does so silently) and a
    # NaN one would skip clipping: both are refused before any gradient is touched.
    max_norm = _number(op, "max_norm", max_norm)
    if not max_norm >= 0:
        raise ValueError(f"{op}: max_norm must be a non-negative number, got {max_norm}")
    norm_type = _number(op, "norm_type", norm_type)
    if math.isnan(norm_type):
        raise ValueError(f"{op}: norm_type must be a number, got {norm_type}")
    if not grads:
        return tl.tensor(0.0)
    dtype = grads[0].dtype
    if math.isinf(norm_type):
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    else:
        # The norm of the per-tensor norms is the norm of everything concatenated.
        per = np.array([np.linalg.norm(g.ravel(), norm_type) if g.size else 0.0 for g in grads],
                       dtype=np.float64)
        total = float(np.linalg.norm(per, norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the "
                           "gradients is non-finite, so it cannot be clipped; pass "
                           "error_if_nonfinite=False to clip anyway")
    coef = max_norm / (total + 1e-6)
    # A NaN norm scales by NaN, as PyTorch does: the NaN shows in every gradient instead of
    # the step going ahead unclipped (error_if_nonfinite=True refuses it instead).
    if not coef >= 1.0:
        for p in params:
            if p.grad is not None:
                _scale_grad_in_place(p, coef)
    return _make(np.array(total, dtype=dtype), False, None, 0, None)


def clip_grad_value_(parameters: _Params, clip_value: float, foreach: Any = None) -> None:
    """Clamp every gradient element to [-clip_value, clip_value], in place (``foreach`` is
    accepted for PyTorch's signature and ignored)."""
    clip_value = _number("clip_grad_value_", "clip_value", clip_value)
    if not clip_value >= 0:
        # np.clip with min > max would set every element to -|clip_value|
        raise ValueError(f"clip_grad_value_: clip_value must be a non-negative number, got "
                         f"{clip_value}")
    for p in _param_list(parameters):
        if p.grad is None:
            continue
        g = p.grad
        if g.grad_fn is None and g._data.flags.writeable:
            np.clip(g._data, -clip_value, clip_value, out=g._data)
            g._version[0] += 1
        else:
            p.grad = _make(np.clip(g._data, -clip_value, clip_value), False, None, 0, None)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor (differentiable)."""
    return tl.cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into the parameters' data, in order."""
    if not isinstance(vec, Tensor) or vec.ndim != 1:
        raise TypeError("vector_to_parameters: expected a 1-D Tensor")
    params = list(parameters)
    need = sum(p.numel() for p in params)
    if vec.numel() != need:
        raise ValueError(f"vector_to_parameters: the vector has {vec.numel()} elements but the "
                         f"parameters need {need}")
    offset = 0
    for p in params:
        n = p.numel()
        p._data[...] = vec._data[offset:offset + n].reshape(p.shape)
        p._version[0] += 1
        offset += n
