"""Differential fuzzing against PyTorch, driven by the op database.

Every OpInfo entry with a ``torch_fn`` gets it for free: its own sample strategy supplies
a well-formed call (shapes that fit, valid kwargs), and :func:`fuzz_cases` then perturbs
it the way hostile data does:

* shapes: a dim made 0 (empty tensors) or 1 in every array that has it, or 1 in one array
  only (a size-1 broadcast dim);
* dtype: every float array float32 or float64 (the dtypes the kernels accept);
* layout: each float input reaches the op as a contiguous tensor, a transpose of other
  storage, a strided slice of a larger tensor, or an expanded size-1 dim;
* values: some elements replaced by +-0, +-inf, NaN, huge and tiny (subnormal) numbers,
  and by copies of other elements (ties).

:func:`compare` runs both libraries on the case and checks, in order: that they agree on
raising (PyTorch raises -> tensorlite raises; tensorlite raises while PyTorch does not ->
the entry documents why in ``fuzz_refusals``), the output's shape, dtype and values (NaN
where NaN, infinities with their sign, finite values within the dtype's tolerance), and
the gradients of every float input for one random upstream gradient. A failure message
names the op, the case and the first disagreeing element.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Any, Optional

import numpy as np

__all__ = ["FuzzCase", "fuzz_cases", "compare", "FuzzMismatch"]

# Special values by dtype: huge is near the largest finite value (sums overflow), tiny is
# subnormal (reciprocals overflow, products underflow).
_SPECIAL = {
    np.dtype(np.float64): (0.0, -0.0, np.inf, -np.inf, np.nan, 1e308, -1e308, 5e-324, 1e-310),
    np.dtype(np.float32): (0.0, -0.0, np.inf, -np.inf, np.nan, 3e38, -3e38, 1e-45, 1e-40),
}
LAYOUTS = ("contiguous", "transposed", "strided", "expanded")


class FuzzMismatch(AssertionError):
    """tensorlite and PyTorch disagree on a fuzz case."""


@dataclasses.dataclass
class FuzzCase:
    args: tuple          # ndarrays (float ones become differentiable inputs) and plain values
    kwargs: dict
    layouts: tuple       # one of LAYOUTS per arg (only float arrays use it)
    dtype: Any           # the dtype every float array was given
    note: str            # what was perturbed, for the failure message

    def __repr__(self) -> str:
        shapes = [a.shape if isinstance(a, np.ndarray) else a for a in self.args]
        return (f"FuzzCase({self.note}; dtype={np.dtype(self.dtype).name}, shapes={shapes}, "
                f"layouts={self.layouts}, kwargs={self.kwargs}, args={self.args!r})")


def _is_float(a: Any) -> bool:
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def fuzz_cases(info: Any):
    """A hypothesis strategy of :class:`FuzzCase` for one OpInfo entry."""
    from hypothesis import strategies as st

    @st.composite
    def draw(d):
        sample = d(info.samples())
        args = [np.array(a) if isinstance(a, np.ndarray) else a for a in sample.args]
        notes = []
        floats = [k for k, a in enumerate(args) if _is_float(a)]
        # -- shapes -------------------------------------------------------------------
        sizes = sorted({n for k in floats for n in args[k].shape if n > 1})
        if sizes and d(st.integers(0, 5)) == 0:
            size = d(st.sampled_from(sizes))
            new = d(st.sampled_from((0, 1)))
            only = d(st.sampled_from([None] + floats)) if new == 1 else None
            for k in floats if only is None else [only]:
                a = args[k]
                axes = [i for i, n in enumerate(a.shape) if n == size]
                if axes:
                    ax = d(st.sampled_from(axes))
                    args[k] = np.take(a, np.arange(new), axis=ax)
            notes.append(f"dim {size} -> {new}" + ("" if only is None else f" in arg {only}"))
        # -- dtype --------------------------------------------------------------------
        dtype = np.dtype(d(st.sampled_from((np.float64, np.float64, np.float32))))
        for k in floats:
            with np.errstate(over="ignore"):
                args[k] = args[k].astype(dtype)
        # float arrays among the kwargs (class weights, say) follow, as a caller's would
        kwargs = {key: v.astype(dtype) if _is_float(v) else v for key, v in sample.kwargs.items()}
        # -- values -------------------------------------------------------------------
        special = _SPECIAL[dtype]
        for k in floats:
            a = args[k]
            if a.size == 0 or d(st.integers(0, 2)) == 0:
                continue
            flat = a.reshape(-1)
            count = d(st.integers(1, max(1, min(4, flat.size))))
            for _ in range(count):
                i = d(st.integers(0, flat.size - 1))
                if d(st.integers(0, 3)) == 0 and flat.size > 1:
                    flat[i] = flat[d(st.integers(0, flat.size - 1))]  # a tie
                else:
                    flat[i] = d(st.sampled_from(special))
            args[k] = flat.reshape(a.shape)
            notes.append(f"specials in arg {k}")
        # -- layouts ------------------------------------------------------------------
        layouts = []
        for k, a in enumerate(args):
            if not _is_float(a):
                layouts.append("contiguous")
                continue
            choice = d(st.sampled_from(LAYOUTS))
            if choice == "transposed" and a.ndim < 2:
                choice = "strided" if a.ndim else "contiguous"
            if choice == "expanded":
                axes = [i for i, n in enumerate(a.shape) if n > 1]
                if axes:
                    ax = d(st.sampled_from(axes))
                    # equal slices along ax: the input is then an expansion of one slice
                    args[k] = np.array(np.broadcast_to(np.take(a, [0], axis=ax), a.shape))
                else:
                    choice = "contiguous"
            layouts.append(choice)
        return FuzzCase(tuple(args), kwargs, tuple(layouts), dtype,
                        ", ".join(notes) or "no perturbation")
    return draw()


def _leaf_and_input(lib: Any, a: np.ndarray, layout: str) -> tuple:
    """(the differentiable leaf, the tensor handed to the op) for one float array, the op's
    input laid out as ``layout`` says, built with the library's own view ops."""
    def leaf(arr):
        return lib.tensor(np.ascontiguousarray(arr), requires_grad=True)
    if layout == "transposed":
        t = leaf(a.T)
        return t, t.permute(*reversed(range(a.ndim)))
    if layout == "strided":
        if a.ndim == 0:
            t = leaf(a)
            return t, t
        big = np.repeat(a, 2, axis=-1)
        t = leaf(big)
        return t, t[..., ::2]
    if layout == "expanded":
        axis = next((i for i, n in enumerate(a.shape) if n > 1), None)
        if axis is not None and (np.take(a, [0], axis=axis) == a).all() or axis is not None \
                and np.isnan(a).all():
            t = leaf(np.take(a, [0], axis=axis))
            return t, t.expand(*a.shape)
    t = leaf(a)
    return t, t


def _run(lib: Any, fn: Any, case: FuzzCase) -> tuple:
    """(outputs tuple, leaves) or raises what the op raises."""
    leaves, inputs = [], []
    for a, layout in zip(case.args, case.layouts):
        if _is_float(a):
            lf, x = _leaf_and_input(lib, a, layout)
            leaves.append(lf)
            inputs.append(x)
        elif isinstance(a, np.ndarray):
            inputs.append(lib.tensor(a))
        else:
            inputs.append(a)
    out = fn(*inputs, **case.kwargs)
    outs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    return outs, leaves


def _np(t: Any) -> Optional[np.ndarray]:
    if t is None:
        return None
    if hasattr(t, "detach"):
        t = t.detach()
    return np.asarray(t.numpy())


def _tolerances(dtype: np.dtype, info: Any) -> tuple:
    if dtype == np.float32:
        return 2e-4, 1e-5
    return 1e-7, max(info.atol * 10, 1e-10)


def _same_values(what: str, got: np.ndarray, want: np.ndarray, rtol: float, atol: float,
                 scale: float = 0.0) -> Optional[str]:
    """None if equal under the fuzzer's rule, else a description of the first difference.
    ``scale`` widens atol for values computed from large inputs (cancellation)."""
    if got.shape != want.shape:
        return f"{what}: shape {got.shape} vs PyTorch {want.shape}"
    if want.dtype.kind == "f" or got.dtype.kind == "f":
        g, w = got.astype(np.float64), want.astype(np.float64)
        nan_g, nan_w = np.isnan(g), np.isnan(w)
        bad = nan_g != nan_w
        both = ~nan_g & ~nan_w
        inf_w = np.isinf(w) | np.isinf(g)
        bad |= both & inf_w & (g != w)
        fin = both & ~inf_w
        with np.errstate(invalid="ignore", over="ignore"):
            bad |= fin & (np.abs(g - w) > atol + scale * atol + rtol * np.abs(w))
    else:
        bad = got != want
    if not bad.any():
        return None
    i = tuple(int(v) for v in np.argwhere(bad)[0])
    return (f"{what}: {int(bad.sum())} of {bad.size} elements differ; first at {i}: "
            f"tensorlite {got[i]!r} vs PyTorch {want[i]!r}")


def compare(info: Any, case: FuzzCase, torch: Any) -> None:
    """Run ``case`` through tensorlite and PyTorch; raise :class:`FuzzMismatch` on any
    disagreement the entry does not document."""
    import tensorlite as tl

    if info.fuzz_skip is not None and info.fuzz_skip(case):
        return  # a case the entry documents as out of comparison (PyTorch wrong there)
    try:
        ref, t_leaves = _run(torch, lambda *a, **k: info.torch_fn(torch, *a, **k), case)
        t_err = None
    except Exception as e:  # noqa: BLE001 - any PyTorch error counts as "raises"
        t_err = e
    try:
        out, l_leaves = _run(tl, info.op, case)
        l_err = None
    except Exception as e:  # noqa: BLE001
        l_err = e
    if t_err is not None:
        if l_err is None:
            raise FuzzMismatch(f"{info.name}: PyTorch raises ({type(t_err).__name__}: "
                               f"{str(t_err)[:200]}) but tensorlite returns a value; {case!r}")
        return
    if l_err is not None:
        message = f"{type(l_err).__name__}: {l_err}"
        if any(re.search(pattern, message) for pattern in info.fuzz_refusals):
            return
        raise FuzzMismatch(f"{info.name}: tensorlite raises ({message[:300]}) where PyTorch "
                           f"returns a value, and the entry's fuzz_refusals give no reason; "
                           f"{case!r}") from l_err
    if len(out) != len(ref):
        raise FuzzMismatch(f"{info.name}: {len(out)} outputs vs PyTorch {len(ref)}; {case!r}")
    rtol, atol = _tolerances(case.dtype, info)
    # Finite inputs of large magnitude lose absolute precision in sums and differences.
    mags = [np.abs(a[np.isfinite(a)]).max() for a in case.args if _is_float(a)
            and np.isfinite(a).any()]
    scale = float(max(mags, default=0.0))
    for k, (o, r) in enumerate(zip(out, ref)):
        if not hasattr(r, "detach"):
            continue
        got, want = _np(o), _np(r)
        if np.dtype(str(r.dtype).replace("torch.", "")) != got.dtype:
            raise FuzzMismatch(f"{info.name}: output {k} dtype {got.dtype} vs PyTorch "
                               f"{r.dtype}; {case!r}")
        problem = _same_values(f"{info.name} output {k}", got, want, rtol, atol, scale)
        if problem:
            raise FuzzMismatch(f"{problem}; {case!r}")
    if info.name in _NO_GRAD_COMPARE or not t_leaves:
        return
    pairs = [(o, r) for o, r in zip(out, ref) if hasattr(r, "requires_grad") and r.requires_grad
             and r.dtype.is_floating_point]
    if not pairs:
        return
    rng = np.random.default_rng(len(repr(case)))
    seeds = [rng.standard_normal(tuple(r.shape)).astype(case.dtype) for _, r in pairs]
    g_t = torch.autograd.grad([r for _, r in pairs], t_leaves,
                              [torch.tensor(s) for s in seeds], allow_unused=True)
    l_out = [o for o, _ in pairs]
    if not all(getattr(o, "requires_grad", False) for o in l_out):
        raise FuzzMismatch(f"{info.name}: the output does not require grad where PyTorch's "
                           f"does; {case!r}")
    g_l = tl.autograd.grad(l_out, l_leaves, [tl.tensor(s) for s in seeds], allow_unused=True)
    for k, (gl, gt) in enumerate(zip(g_l, g_t)):
        if gt is None:
            if gl is not None and np.any(_np(gl)):
                raise FuzzMismatch(f"{info.name}: input {k} gets a non-zero gradient where "
                                   f"PyTorch's is None; {case!r}")
            continue
        if gl is None:
            gl_arr = np.zeros(tuple(gt.shape), _np(gt).dtype)
        else:
            gl_arr = _np(gl)
        problem = _same_values(f"{info.name} gradient of input {k}", gl_arr, _np(gt), rtol,
                               atol, scale)
        if problem:
            raise FuzzMismatch(f"{problem}; {case!r}")


# Entries whose outputs are compared but not their gradients (none yet).
_NO_GRAD_COMPARE: frozenset = frozenset()
