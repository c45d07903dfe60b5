"""Gradient checking by central finite differences, in float64.

``gradcheck`` builds the full Jacobian both ways — numerically, column by column, from
(f(x + eps e_j) - f(x - eps e_j)) / 2eps, and analytically, row by row, from
vector-Jacobian products with one-hot output gradients — and compares them. It also
checks properties every correct backward has: linearity in ``grad_output``, zero in ->
zero out, reproducibility, and gradients shaped and typed like their inputs.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .. import autograd
from ..tensor import Tensor, _make

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(AssertionError):
    """A gradient check failed; the message names the function, input and element."""


def _as_tuple(x: Any) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _fn_name(fn: Callable) -> str:
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, type):
        # MyOp.apply is Function.apply bound to MyOp: its __qualname__ would name Function
        return f"{owner.__qualname__}.{fn.__name__}"
    if hasattr(fn, "func") and hasattr(fn, "args"):  # functools.partial
        return f"partial({_fn_name(fn.func)})"
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


def _outputs(fn: Callable, inputs: tuple) -> list:
    outs = _as_tuple(fn(*inputs))
    return [o for o in outs if isinstance(o, Tensor) and o.dtype.kind == "f"]


def _check_inputs(name: str, inputs: tuple) -> list:
    diff = [k for k, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not diff:
        raise ValueError(f"gradcheck({name}): no input requires grad")
    for k in diff:
        if inputs[k].dtype != np.float64:
            raise ValueError(f"gradcheck({name}): input {k} is {inputs[k].dtype}; finite "
                             "differences need float64 inputs (use .double())")
    return diff


def _numerical_jacobian(fn: Callable, inputs: tuple, k: int, eps: float) -> list:
    """One (n_out_elems x n_in_elems) block per output, for input ``k``."""
    x = inputs[k]
    if not x.data.flags.writeable:
        x.data = x.data.copy()
    flat = x.data.reshape(-1) if x.data.flags.c_contiguous else None
    n = x.data.size
    cols: list = []
    # Evaluated with grad mode on: fn may itself use autograd (gradgradcheck's VJP).
    for j in range(n):
        if flat is not None:
            orig = flat[j]
            flat[j] = orig + eps
            plus = [o.data.astype(np.float64).ravel().copy() for o in _outputs(fn, inputs)]
            flat[j] = orig - eps
            minus = [o.data.astype(np.float64).ravel().copy() for o in _outputs(fn, inputs)]
            flat[j] = orig
        else:
            idx = np.unravel_index(j, x.data.shape)
            orig = x.data[idx]
            x.data[idx] = orig + eps
            plus = [o.data.astype(np.float64).ravel().copy() for o in _outputs(fn, inputs)]
            x.data[idx] = orig - eps
            minus = [o.data.astype(np.float64).ravel().copy() for o in _outputs(fn, inputs)]
            x.data[idx] = orig
        cols.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
    n_out = len(cols[0]) if cols else len(_outputs(fn, inputs))
    if not cols:
        outs = _outputs(fn, inputs)
        return [np.zeros((o.data.size, 0)) for o in outs]
    return [np.stack([c[o] for c in cols], axis=1) for o in range(n_out)]


def _vjp(outputs: list, diff_inputs: list, grads: list) -> list:
    gs = autograd.grad(outputs, diff_inputs, grads, retain_graph=True, allow_unused=True)
    return [None if g is None else g for g in gs]


def _fail(msg: str, raise_exception: bool) -> bool:
    if raise_exception:
        raise GradcheckError(msg)
    return False


def gradcheck(fn: Callable, inputs: Any, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, fast_mode: bool = False) -> bool:
    """Compare analytical and numerical gradients of ``fn`` at ``inputs`` (float64 Tensors).

    Returns True on success; on failure raises :class:`GradcheckError` (or returns False
    with ``raise_exception=False``) naming the input, the worst element, and both values.
    """
    inputs = _as_tuple(inputs)
    name = _fn_name(fn)
    diff = _check_inputs(name, inputs)
    diff_inputs = [inputs[k] for k in diff]
    outputs = [o for o in _outputs(fn, inputs) if o.requires_grad]
    if not outputs:
        raise ValueError(f"gradcheck({name}): no output requires grad")

    # Shape, dtype, linearity, zero and reproducibility checks on one random direction.
    rng = np.random.default_rng(0)
    vs = [_make(rng.standard_normal(o.shape).astype(o.dtype), False, None, 0, None)
          for o in outputs]
    g1 = _vjp(outputs, diff_inputs, vs)
    for k, (x, g) in zip(diff, zip(diff_inputs, g1)):
        if g is None:
            continue
        if g.shape != x.shape or g.dtype != x.dtype:
            return _fail(f"gradcheck({name}): gradient of input {k} has shape {tuple(g.shape)} "
                         f"and dtype {g.dtype}, but the input has shape {tuple(x.shape)} and "
                         f"dtype {x.dtype}", raise_exception)
    g_again = _vjp(outputs, diff_inputs, vs)
    g_twice = _vjp(outputs, diff_inputs, [v * 2 for v in vs])
    g_zero = _vjp(outputs, diff_inputs, [v * 0 for v in vs])
    for k, a, b, c, z in zip(diff, g1, g_again, g_twice, g_zero):
        if a is None:
            continue
        if not np.array_equal(a.data, b.data, equal_nan=True):
            return _fail(f"gradcheck({name}): backward is not reproducible for input {k} (two "
                         "identical backward calls differ)", raise_exception)
        if not np.allclose(c.data, 2 * a.data, rtol=1e-10, atol=1e-12, equal_nan=True):
            return _fail(f"gradcheck({name}): backward is not linear in grad_output for input {k}"
                         " (2 * grad_output did not double the gradient)", raise_exception)
        if z is not None and np.any(z.data != 0):
            return _fail(f"gradcheck({name}): a zero grad_output gave a non-zero gradient for "
                         f"input {k}", raise_exception)

    if fast_mode:
        return _fast_check(fn, inputs, diff, outputs, eps, atol, rtol, raise_exception, name)

    # Analytical Jacobian rows from one-hot grad_outputs.
    analytical = {k: [np.zeros((o.data.size, inputs[k].data.size)) for o in outputs] for k in diff}
    for oi, o in enumerate(outputs):
        for m in range(o.data.size):
            seeds = [_make(np.zeros(p.shape, p.dtype), False, None, 0, None) for p in outputs]
            seeds[oi].data.reshape(-1)[m] = 1.0
            gs = _vjp(outputs, diff_inputs, seeds)
            for k, g in zip(diff, gs):
                if g is not None:
                    analytical[k][oi][m] = g.data.reshape(-1)
    for k in diff:
        numerical = _numerical_jacobian(fn, inputs, k, eps)
        for oi, (a, n) in enumerate(zip(analytical[k], numerical)):
            err = np.abs(a - n) - (atol + rtol * np.abs(n))
            bad = ~(err <= 0)
            if bad.any():
                flat = int(np.nanargmax(np.where(bad, np.nan_to_num(err, nan=np.inf), -np.inf)))
                r, c = np.unravel_index(flat, a.shape)
                in_idx = [int(i) for i in np.unravel_index(c, inputs[k].shape)] if inputs[k].ndim else []
                out_idx = [int(i) for i in np.unravel_index(r, outputs[oi].shape)] if outputs[oi].ndim else []
                return _fail(
                    f"gradcheck({name}): Jacobian mismatch for output {oi} w.r.t. input {k}: worst "
                    f"element d out{list(out_idx)} / d in{list(in_idx)}: numerical {n[r, c]:.10g} vs "
                    f"analytical {a[r, c]:.10g} (atol={atol}, rtol={rtol})", raise_exception)
    return True


def _fast_check(fn, inputs, diff, outputs, eps, atol, rtol, raise_exception, name) -> bool:
    """Compare u^T J v both ways for random u, v, one input at a time."""
    rng = np.random.default_rng(1)
    us = [rng.standard_normal(o.shape) for o in outputs]
    seeds = [_make(u.astype(o.dtype), False, None, 0, None) for u, o in zip(us, outputs)]
    gs = _vjp(outputs, [inputs[k] for k in diff], seeds)
    for k, g in zip(diff, gs):
        x = inputs[k]
        v = rng.standard_normal(x.shape)
        analytical = 0.0 if g is None else float(np.sum(g.data * v))
        orig = x.data.copy()
        x.data[...] = orig + eps * v
        plus = [o.data.copy() for o in _outputs(fn, inputs)]
        x.data[...] = orig - eps * v
        minus = [o.data.copy() for o in _outputs(fn, inputs)]
        x.data[...] = orig
        numerical = float(sum(np.sum(u * (p - m) / (2 * eps)) for u, p, m in zip(us, plus, minus)))
        if not abs(analytical - numerical) <= atol + rtol * abs(numerical):
            return _fail(f"gradcheck({name}, fast_mode): u^T J v mismatch for input {k}: "
                         f"numerical {numerical:.10g} vs analytical {analytical:.10g}",
                         raise_exception)
    return True


def gradgradcheck(fn: Callable, inputs: Any, grad_outputs: Any = None, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True,
                  fast_mode: bool = False) -> bool:
    """gradcheck of the backward pass itself: d/d(inputs, grad_outputs) of the VJP."""
    inputs = _as_tuple(inputs)
    name = _fn_name(fn)
    diff = _check_inputs(name, inputs)
    outputs = [o for o in _outputs(fn, inputs) if o.requires_grad]
    n_in = len(inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(2)
        grad_outputs = [Tensor(rng.standard_normal(o.shape), dtype=np.float64,
                               requires_grad=True) for o in outputs]
    grad_outputs = list(_as_tuple(grad_outputs))

    def vjp(*args):
        xs, gos = args[:n_in], args[n_in:]
        outs = [o for o in _outputs(fn, xs) if o.requires_grad]
        gs = autograd.grad(outs, [xs[k] for k in diff], list(gos), create_graph=True,
                           allow_unused=True)
        return tuple(g for g in gs if g is not None and g.requires_grad)

    vjp.__qualname__ = f"backward of {name}"
    return gradcheck(vjp, inputs + tuple(grad_outputs), eps, atol, rtol, raise_exception,
                     fast_mode)
