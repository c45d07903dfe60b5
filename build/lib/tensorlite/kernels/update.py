"""In-place parameter updates for the optimizers: w <- w + a * g in one pass.

numpy spells this ``w += np.multiply(g, a)``: a temporary as large as the parameter and
two passes over memory, on one thread. For a language model's (10000, 200) embedding and
decoder that is most of the SGD step; here it is one fused loop, split over the cores for
large parameters (benchmarks/run.py, the LSTM LM step). The arithmetic is numpy's: a * g
rounded to the dtype, then added, so results are bit-identical to the numpy expression.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ._threads import num_threads, parallel_chunks

# Below this many elements numpy's two calls are cheaper than a kernel dispatch.
_KERNEL_MIN = 1 << 14
# Above this, one chunk per thread (a chunk of at least 256 KiB of float32).
_THREADED_MIN = 1 << 17


def axpy_(w: np.ndarray, a: float, g: np.ndarray) -> None:
    """w += a * g in place; w and g of one shape. Same-dtype C-contiguous float arrays take
    the fused kernel; anything else the numpy expression."""
    if (w.size < _KERNEL_MIN or w.dtype != g.dtype or w.dtype.kind != "f"
            or not (w.flags.c_contiguous and g.flags.c_contiguous and w.flags.writeable)):
        w += np.multiply(g, a)
        return
    wf, gf = w.reshape(-1), g.reshape(-1)
    a = wf.dtype.type(a)
    n = wf.shape[0]
    threads = 1 if n < _THREADED_MIN else num_threads(n // (_THREADED_MIN // 2))
    parallel_chunks(n, threads, lambda t, first, stop: _axpy(wf, a, gf, first, stop))


@njit(cache=True, error_model="numpy", nogil=True)
def _axpy(w, a, g, first, stop):
    """w[i] += a * g[i] for first <= i < stop; w, g 1-D of one float dtype, a of that dtype."""
    # Indexing slices from 0 lets numba drop its negative-index check, and LLVM vectorise
    # the loop: range(first, stop) on w itself measured 7x slower.
    ws, gs = w[first:stop], g[first:stop]
    for i in range(ws.shape[0]):
        ws[i] += a * gs[i]


def _fusable(w: np.ndarray, *arrays: np.ndarray) -> bool:
    return (w.size >= _KERNEL_MIN and w.dtype.kind == "f" and w.flags.c_contiguous
            and w.flags.writeable
            and all(a.dtype == w.dtype and a.flags.c_contiguous and a.shape == w.shape
                    for a in arrays))


def adam_(w: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, vmax, *, b1: float,
          b2: float, step_size: float, bias2_sqrt: float, eps: float, l2: float,
          decay: float, maximize: bool) -> bool:
    """One Adam update of w, m, v (and vmax, the amsgrad maximum, or None) in place, fused:

        g <- -g (maximize);  w <- w * decay (decoupled weight decay; decay = 1 - lr * wd);
        g <- g + l2 * w;  m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
        vmax <- max(vmax, v) (then used for v);  w <- w - step_size * m / (sqrt(v) / bias2_sqrt + eps)

    with the same operations, in the same order and dtype, as the numpy version in
    optim/adam.py, so the results are bit-identical. Returns False, touching nothing, when
    the arrays do not qualify (small, mixed dtypes, not C-contiguous): the caller runs numpy.
    """
    arrays = (g, m, v) if vmax is None else (g, m, v, vmax)
    if not _fusable(w, *arrays):
        return False
    f = w.dtype.type
    flat = [a.reshape(-1) for a in (w, g, m, v, v if vmax is None else vmax)]
    n = flat[0].shape[0]
    threads = 1 if n < _THREADED_MIN else num_threads(n // (_THREADED_MIN // 2))
    consts = (f(b1), f(1.0 - b1), f(b2), f(1.0 - b2), f(-step_size), f(bias2_sqrt), f(eps),
              f(l2), f(decay))
    flags = (bool(maximize), l2 != 0.0, decay != 1.0, vmax is not None)
    parallel_chunks(n, threads,
                    lambda t, first, stop: _adam(*flat, *consts, *flags, first, stop))
    return True


@njit(cache=True, error_model="numpy", nogil=True)
def _adam(w, g, m, v, vmax, b1, c1, b2, c2, neg_step, s2, eps, l2, decay, maximize, use_l2,
          use_decay, amsgrad, first, stop):
    """Elements [first, stop) of the fused Adam update (see adam_); 1-D arrays of one dtype,
    scalars of that dtype."""
    ws, gs, ms, vs, xs = (w[first:stop], g[first:stop], m[first:stop], v[first:stop],
                          vmax[first:stop])
    for i in range(ws.shape[0]):
        gi = gs[i]
        if maximize:
            gi = -gi
        wi = ws[i]
        if use_decay:
            wi = wi * decay
        if use_l2:
            gi = wi * l2 + gi
        mi = ms[i] * b1 + gi * c1
        vi = vs[i] * b2 + (gi * gi) * c2
        ms[i] = mi
        vs[i] = vi
        if amsgrad:
            # np.maximum: NaN in either wins
            if vi > xs[i] or vi != vi:
                xs[i] = vi
            else:
                vi = xs[i]
        ws[i] = wi + (mi / (np.sqrt(vi) / s2 + eps)) * neg_step
