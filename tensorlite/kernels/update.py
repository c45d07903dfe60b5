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
