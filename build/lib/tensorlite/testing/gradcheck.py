"""Gradient checking by central finite differences, in float64.

``gradcheck`` builds the full Jacobian both ways — numerically, column by column, from
(f(x + eps e_j) - f(x - eps e_j)) / 2eps, and analytically, row by row, from
vector-Jacobian products with one-hot output gradients — and compares them. It also
checks properties every correct backward has: linearity in ``grad_output``, zero in ->
zero out, reproducibility, and gradients shaped and typed like their inputs.

The signatures are PyTorch's (``torch.autograd.gradcheck`` / ``gradgradcheck``). Options
that need machinery tensorlite does not have (vmap, forward-mode AD, sparse tensors) are
refused with ``NotImplementedError`` rather than silently ignored, so a check that was
asked for is never skipped without notice.
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator, Optional

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


def _tensor_outputs(fn: Callable, inputs: tuple) -> list:
    """Every Tensor fn returns, in order (non-Tensor outputs such as ints are dropped)."""
    return [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor)]


def _refuse_unsupported(fn_label: str, **flags: bool) -> None:
    reasons = {
        "check_batched_grad": "tensorlite has no vmap to batch gradients with",
        "check_batched_forward_grad": "tensorlite has no forward-mode AD or vmap",
        "check_forward_ad": "tensorlite has no forward-mode AD",
        "check_fwd_over_rev": "tensorlite has no forward-mode AD",
        "masked": "tensorlite has no sparse or masked tensors",
    }
    for flag, value in flags.items():
        if flag in ("check_backward_ad", "check_rev_over_rev"):
            if not value:
                # Torch would then check forward mode only; here that would check nothing.
                raise NotImplementedError(
                    f"{fn_label}: {flag}=False is not supported: tensorlite has only "
                    "reverse-mode AD, so there would be nothing left to check")
        elif value:
            raise NotImplementedError(f"{fn_label}: {flag}=True is not supported: "
                                      f"{reasons[flag]}")


def _check_inputs(name: str, inputs: tuple) -> list:
    diff = [k for k, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not diff:
        raise ValueError(f"gradcheck({name}): no input requires grad (gradcheck expects at "
                         "least one Tensor input with requires_grad=True)")
    for k in diff:
        if inputs[k].dtype != np.float64:
            # PyTorch only warns; a float32 finite difference with eps=1e-6 is mostly
            # rounding noise, so the check would fail (or pass) for the wrong reason.
            raise ValueError(f"gradcheck({name}): input {k} is {inputs[k].dtype}; finite "
                             "differences need float64 inputs (use .double())")
    return diff


@contextlib.contextmanager
def _private_data(x: Tensor) -> Iterator[np.ndarray]:
    """Give ``x`` a private contiguous copy of its values to perturb; always restore the
    original array (even if fn raises), so the caller's tensor, its views and read-only or
    broadcast (stride-0) storage are never touched."""
    orig = x._data
    x._data = np.array(orig, dtype=orig.dtype, order="C", copy=True)
    try:
        yield x._data
    finally:
        x._data = orig


def _numerical_jacobian(fn: Callable, inputs: tuple, k: int, eps: float) -> list:
    """One (n_out_elems x n_in_elems) block per Tensor output of fn, for input ``k``."""
    x = inputs[k]
    cols: list = []
    # Evaluated with grad mode on: fn may itself use autograd (gradgradcheck's VJP).
    with _private_data(x) as buf:
        flat = buf.reshape(-1)
        for j in range(flat.size):
            orig = flat[j]
            flat[j] = orig + eps
            plus = [o._data.astype(np.float64).ravel() for o in _tensor_outputs(fn, inputs)]
            flat[j] = orig - eps
            minus = [o._data.astype(np.float64).ravel() for o in _tensor_outputs(fn, inputs)]
            flat[j] = orig
            cols.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
        if not cols:
            return [np.zeros((o._data.size, 0)) for o in _tensor_outputs(fn, inputs)]
    return [np.stack([c[o] for c in cols], axis=1) for o in range(len(cols[0]))]


def _directional_derivative(fn: Callable, inputs: tuple, k: int, v: np.ndarray,
                            eps: float) -> list:
    """(f(x + eps v) - f(x - eps v)) / 2eps for every Tensor output, for input ``k``."""
    x = inputs[k]
    with _private_data(x) as buf:
        orig = buf.copy()
        buf[...] = orig + eps * v
        plus = [o._data.astype(np.float64) for o in _tensor_outputs(fn, inputs)]
        buf[...] = orig - eps * v
        minus = [o._data.astype(np.float64) for o in _tensor_outputs(fn, inputs)]
    return [(p - m) / (2 * eps) for p, m in zip(plus, minus)]


def _vjp(outputs: list, diff_inputs: list, grads: list) -> list:
    return list(autograd.grad(outputs, diff_inputs, grads, retain_graph=True,
                              allow_unused=True))


def _fail(msg: str, raise_exception: bool) -> bool:
    if raise_exception:
        raise GradcheckError(msg)
    return False


def _index(flat: int, shape: tuple) -> list:
    return [int(i) for i in np.unravel_index(flat, shape)] if shape else []


def _worst(bad: np.ndarray, err: np.ndarray) -> int:
    """Flat index of the worst failing element (NaN counts as worst)."""
    return int(np.argmax(np.where(bad, np.nan_to_num(err, nan=np.inf, posinf=np.inf), -np.inf)))


def _check_no_differentiable_outputs(fn, inputs, diff, outs, eps, fast_mode, name,
                                     raise_exception) -> bool:
    # As PyTorch: with no output requiring grad the function must be locally constant in
    # its differentiable inputs, i.e. the numerical Jacobian must be zero.
    rng = np.random.default_rng(3)
    for k in diff:
        if fast_mode:
            blocks = _directional_derivative(fn, inputs, k, rng.standard_normal(inputs[k].shape),
                                             eps)
        else:
            blocks = _numerical_jacobian(fn, inputs, k, eps)
        for oi, n in enumerate(blocks):
            if np.any(n != 0):
                return _fail(f"gradcheck({name}): no output requires grad, but the numerical "
                             f"gradient of output {oi} w.r.t. input {k} is non-zero "
                             f"(max |value| {np.nanmax(np.abs(n)):.10g})", raise_exception)
    return True


def gradcheck(fn: Callable, inputs: Any, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True, fast_mode: bool = False, *,
              nondet_tol: float = 0.0, check_undefined_grad: bool = True,
              check_grad_dtypes: bool = False, check_batched_grad: bool = False,
              check_batched_forward_grad: bool = False, check_forward_ad: bool = False,
              check_backward_ad: bool = True, masked: Optional[bool] = None) -> bool:
    """Compare analytical and numerical gradients of ``fn`` at ``inputs`` (float64 Tensors).

    ``inputs`` is a Tensor or a tuple/list of arguments; non-Tensor arguments and Tensors
    without ``requires_grad`` are passed through unchecked. Outputs that do not require
    grad (and non-Tensor outputs) are ignored; if none requires grad, the numerical
    gradient must be zero. Returns True on success; on failure raises
    :class:`GradcheckError` (or returns False with ``raise_exception=False``) naming the
    input, the worst element, and both values.

    PyTorch's keywords: ``nondet_tol`` is the tolerance of the reproducibility check (two
    identical backward calls); ``check_undefined_grad`` enables the check that a zero
    ``grad_output`` gives zero gradients (tensorlite passes zeros where PyTorch passes an
    undefined gradient). Gradient shapes and dtypes are always checked, whatever
    ``check_grad_dtypes`` says. ``check_batched_grad``, ``check_batched_forward_grad``,
    ``check_forward_ad``, ``masked=True`` and ``check_backward_ad=False`` raise
    ``NotImplementedError``.
    """
    name = _fn_name(fn)
    _refuse_unsupported(f"gradcheck({name})", check_batched_grad=check_batched_grad,
                        check_batched_forward_grad=check_batched_forward_grad,
                        check_forward_ad=check_forward_ad, check_backward_ad=check_backward_ad,
                        masked=bool(masked))
    inputs = _as_tuple(inputs)
    diff = _check_inputs(name, inputs)
    diff_inputs = [inputs[k] for k in diff]
    all_outs = _tensor_outputs(fn, inputs)
    out_idx = [i for i, o in enumerate(all_outs) if o.requires_grad]
    outputs = [all_outs[i] for i in out_idx]
    if not outputs:
        return _check_no_differentiable_outputs(fn, inputs, diff, all_outs, eps, fast_mode,
                                                name, raise_exception)

    # Shape, dtype and reproducibility on one random direction, before the Jacobians, so a
    # malformed gradient is reported as such rather than as a confusing mismatch.
    rng = np.random.default_rng(0)
    vs = [_make(rng.standard_normal(o.shape).astype(o.dtype), False, None, 0, None)
          for o in outputs]
    g1 = _vjp(outputs, diff_inputs, vs)
    for k, x, g in zip(diff, diff_inputs, g1):
        if g is not None and (g.shape != x.shape or g.dtype != x.dtype):
            return _fail(f"gradcheck({name}): gradient of input {k} has shape {tuple(g.shape)} "
                         f"and dtype {g.dtype}, but the input has shape {tuple(x.shape)} and "
                         f"dtype {x.dtype}", raise_exception)
    g_again = _vjp(outputs, diff_inputs, vs)
    for k, a, b in zip(diff, g1, g_again):
        if (a is None) != (b is None):
            return _fail(f"gradcheck({name}): backward is not reproducible for input {k} (one "
                         "of two identical backward calls gave no gradient)", raise_exception)
        if a is None:
            continue
        diff_ab = np.abs(a._data - b._data)
        if not np.array_equal(a._data, b._data, equal_nan=True) and not np.all(diff_ab <= nondet_tol):
            w = _worst(~(diff_ab <= nondet_tol), diff_ab)
            return _fail(f"gradcheck({name}): backward is not reproducible for input {k}: two "
                         f"identical backward calls differ at element {_index(w, a.shape)}: "
                         f"{a._data.reshape(-1)[w]:.10g} vs {b._data.reshape(-1)[w]:.10g} "
                         f"(nondet_tol={nondet_tol})", raise_exception)

    if fast_mode:
        ok = _fast_check(fn, inputs, diff, out_idx, outputs, eps, atol, rtol, raise_exception,
                         name)
    else:
        ok = _slow_check(fn, inputs, diff, out_idx, outputs, eps, atol, rtol, raise_exception,
                         name)
    if not ok:
        return False

    # A backward that is right for one-hot grad_outputs can still be wrong for others
    # (e.g. it squares grad_output, or adds a constant): check linearity and zero -> zero.
    g_twice = _vjp(outputs, diff_inputs, [v * 2 for v in vs])
    g_zero = _vjp(outputs, diff_inputs, [v * 0 for v in vs]) if check_undefined_grad else g1
    for k, a, c, z in zip(diff, g1, g_twice, g_zero):
        if a is None:
            continue
        # noise allowed by nondet_tol enters once through c and twice through 2 * a
        close = np.isclose(c._data, 2 * a._data, rtol=1e-10, atol=1e-12 + 3 * nondet_tol,
                           equal_nan=True)
        if not close.all():
            w = _worst(~close, np.abs(c._data - 2 * a._data))
            return _fail(f"gradcheck({name}): backward is not linear in grad_output for input "
                         f"{k}: at element {_index(w, a.shape)}, 2 * grad_output gave "
                         f"{c._data.reshape(-1)[w]:.10g}, expected 2 * {a._data.reshape(-1)[w]:.10g}",
                         raise_exception)
        if check_undefined_grad and z is not None and np.any(np.abs(z._data) > nondet_tol):
            w = _worst(np.abs(z._data) > nondet_tol, np.abs(z._data))
            return _fail(f"gradcheck({name}): a zero grad_output gave a non-zero gradient for "
                         f"input {k}: {z._data.reshape(-1)[w]:.10g} at element "
                         f"{_index(w, z.shape)}", raise_exception)
    return True


def _slow_check(fn, inputs, diff, out_idx, outputs, eps, atol, rtol, raise_exception,
                name) -> bool:
    diff_inputs = [inputs[k] for k in diff]
    # Analytical Jacobian rows from one-hot grad_outputs.
    analytical = {k: [np.zeros((o._data.size, inputs[k]._data.size)) for o in outputs] for k in diff}
    for oi, o in enumerate(outputs):
        for m in range(o._data.size):
            seeds = [_make(np.zeros(p.shape, p.dtype), False, None, 0, None) for p in outputs]
            seeds[oi]._data.reshape(-1)[m] = 1.0
            for k, g in zip(diff, _vjp(outputs, diff_inputs, seeds)):
                if g is not None:
                    analytical[k][oi][m] = g._data.reshape(-1)
    for k in diff:
        blocks = _numerical_jacobian(fn, inputs, k, eps)
        numerical = [blocks[i] for i in out_idx]
        for oi, (a, n) in enumerate(zip(analytical[k], numerical)):
            # torch.allclose(analytical, numerical): |a - n| <= atol + rtol * |n|
            err = np.abs(a - n) - (atol + rtol * np.abs(n))
            bad = ~(err <= 0)
            if bad.any():
                r, c = np.unravel_index(_worst(bad, err), a.shape)
                in_idx = _index(c, inputs[k].shape)
                out_pos = _index(r, outputs[oi].shape)
                return _fail(
                    f"gradcheck({name}): Jacobian mismatch for output {oi} w.r.t. input {k}: worst "
                    f"element d out{out_pos} / d in{in_idx}: numerical {n[r, c]:.10g} vs "
                    f"analytical {a[r, c]:.10g} (atol={atol}, rtol={rtol})", raise_exception)
    return True


def _fast_check(fn, inputs, diff, out_idx, outputs, eps, atol, rtol, raise_exception,
                name) -> bool:
    """Compare u^T J v both ways for random u, v, one input at a time."""
    rng = np.random.default_rng(1)
    us = [rng.standard_normal(o.shape) for o in outputs]
    seeds = [_make(u.astype(o.dtype), False, None, 0, None) for u, o in zip(us, outputs)]
    gs = _vjp(outputs, [inputs[k] for k in diff], seeds)
    for k, g in zip(diff, gs):
        v = rng.standard_normal(inputs[k].shape)
        analytical = 0.0 if g is None else float(np.sum(g._data * v))
        jv = _directional_derivative(fn, inputs, k, v, eps)
        numerical = float(sum(np.sum(u * jv[i]) for u, i in zip(us, out_idx)))
        if not abs(analytical - numerical) <= atol + rtol * abs(numerical):
            return _fail(f"gradcheck({name}, fast_mode): u^T J v mismatch for input {k}: "
                         f"numerical {numerical:.10g} vs analytical {analytical:.10g} "
                         f"(atol={atol}, rtol={rtol}; rerun with fast_mode=False for the "
                         "worst element)", raise_exception)
    return True


def _noncontiguous_copy(arr: np.ndarray) -> np.ndarray:
    if arr.ndim == 0 or arr.size <= 1:
        return arr
    big = np.empty(arr.shape[:-1] + (arr.shape[-1] * 2,), arr.dtype)
    view = big[..., ::2]
    view[...] = arr
    return view


def gradgradcheck(fn: Callable, inputs: Any, grad_outputs: Any = None, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True,
                  fast_mode: bool = False, *, gen_non_contig_grad_outputs: bool = False,
                  nondet_tol: float = 0.0, check_undefined_grad: bool = True,
                  check_grad_dtypes: bool = False, check_batched_grad: bool = False,
                  check_fwd_over_rev: bool = False, check_rev_over_rev: bool = True,
                  masked: bool = False) -> bool:
    """gradcheck of the backward pass itself: d/d(inputs, grad_outputs) of the VJP.

    ``grad_outputs`` (one per output that requires grad) default to random float64
    Tensors with ``requires_grad=True`` (non-contiguous with
    ``gen_non_contig_grad_outputs=True``); given ones that do not require grad are
    used but not differentiated. Other keywords are as in :func:`gradcheck`
    (``check_fwd_over_rev=True`` and ``check_rev_over_rev=False`` are not supported).
    """
    name = _fn_name(fn)
    _refuse_unsupported(f"gradgradcheck({name})", check_batched_grad=check_batched_grad,
                        check_fwd_over_rev=check_fwd_over_rev,
                        check_rev_over_rev=check_rev_over_rev, masked=bool(masked))
    inputs = _as_tuple(inputs)
    diff = _check_inputs(name, inputs)
    outputs = [o for o in _tensor_outputs(fn, inputs) if o.requires_grad]
    n_in = len(inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(2)
        grad_outputs = []
        for o in outputs:
            # As PyTorch's make_tensor(low=-1, high=1): values of the size a gradient has.
            arr = rng.uniform(-1, 1, o.shape)
            if gen_non_contig_grad_outputs:
                arr = _noncontiguous_copy(arr)
            grad_outputs.append(Tensor(arr, dtype=np.float64, requires_grad=True))
    grad_outputs = list(_as_tuple(grad_outputs))
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"gradgradcheck({name}): got {len(grad_outputs)} grad_outputs for "
                         f"{len(outputs)} outputs that require grad")
    for i, (g, o) in enumerate(zip(grad_outputs, outputs)):
        if not isinstance(g, Tensor) or tuple(g.shape) != tuple(o.shape):
            got = tuple(g.shape) if isinstance(g, Tensor) else type(g).__name__
            raise ValueError(f"gradgradcheck({name}): grad_outputs[{i}] must be a Tensor of "
                             f"shape {tuple(o.shape)} (output {i}), got {got}")

    def vjp(*args):
        xs, gos = args[:n_in], args[n_in:]
        outs = [o for o in _tensor_outputs(fn, xs) if o.requires_grad]
        gs = autograd.grad(outs, [xs[k] for k in diff], list(gos), create_graph=True,
                           allow_unused=True)
        return tuple(g for g in gs if g is not None)

    vjp.__qualname__ = f"backward of {name}"
    return gradcheck(vjp, inputs + tuple(grad_outputs), eps, atol, rtol, raise_exception,
                     fast_mode, nondet_tol=nondet_tol, check_undefined_grad=check_undefined_grad,
                     check_grad_dtypes=check_grad_dtypes)
