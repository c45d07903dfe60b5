"""Split a kernel's work into one chunk per thread, on plain Python threads.

The kernels that pay for a second core (conv, pooling, the fused losses) are serial
``@njit(nogil=True)`` functions over a range of images, planes or rows; numba releases the
GIL inside them, so running the chunks on ordinary threads is truly parallel. This replaces
numba's ``parallel=True``/``prange`` wrappers, which cost seconds of compile time each
(the parfor passes), and whose worker threads spin and stall for milliseconds when another
process holds the second core (PERF-NOTES); idle Python threads sleep instead.

``numba.get_num_threads()`` (NUMBA_NUM_THREADS, or ``numba.set_num_threads``) stays the
one knob for the thread count.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import numba

_executor = None
_workers = 0
_lock = threading.Lock()


def num_threads(limit: int) -> int:
    """Threads to use for ``limit`` independent items: at most numba's thread count."""
    return max(1, min(numba.get_num_threads(), int(limit)))


def _pool(workers: int) -> ThreadPoolExecutor:
    global _executor, _workers
    with _lock:
        if _executor is None or _workers < workers:
            if _executor is not None:
                _executor.shutdown(wait=True)
            _executor = ThreadPoolExecutor(max_workers=workers,
                                           thread_name_prefix="tensorlite-kernel")
            _workers = workers
        return _executor


def bounds(n: int, threads: int) -> list:
    """Chunk t is [b[t], b[t+1]): equal chunks, the spare items spread out."""
    return [n * t // threads for t in range(threads + 1)]


def parallel_chunks(n: int, threads: int, call: Callable[[int, int, int], None]) -> None:
    """call(t, first, stop) for each of ``threads`` chunks of range(n), concurrently.

    Chunk 0 runs on the calling thread; the others on pool threads. Every chunk has finished
    when this returns; the first exception raised by any chunk is re-raised.
    """
    if threads <= 1:
        call(0, 0, n)
        return
    b = bounds(n, threads)
    pool = _pool(threads - 1)
    futures = [pool.submit(call, t, b[t], b[t + 1]) for t in range(1, threads)]
    try:
        call(0, b[0], b[1])
    finally:
        # Wait for every chunk even if ours failed: they write into shared output arrays.
        errors = [f.exception() for f in futures]
    for e in errors:
        if e is not None:
            raise e
