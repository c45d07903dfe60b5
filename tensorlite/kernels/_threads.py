"""Run a kernel over a range of items on the calling thread plus idle pool threads, the
split chosen at run time.

The kernels that pay for a second core (conv, pooling, batch norm, the fused losses, the
optimizer updates) are serial ``@njit(nogil=True)`` functions over a range of images,
planes, channels or elements; numba releases the GIL inside them, so running pieces of the
range on ordinary threads is truly parallel. This replaces numba's
``parallel=True``/``prange`` wrappers, which cost seconds of compile time each (the parfor
passes) and whose static split makes every call wait for a worker thread that cannot run
while another process holds the second core (PERF-NOTES).

The split is decided as the work runs, not in advance: the range is handed out in pieces
claimed from a shared cursor (guided scheduling: each claim takes 1/threads of what is
left, so the pieces shrink towards the end and there are few of them: every piece costs
a trip through the GIL). The calling thread starts claiming at once; a pool
thread joins when the OS runs it. On a quiet machine both threads share the range about
evenly; when the second core is busy the worker starts late or never, and the calling
thread simply takes every piece (the late worker then finds nothing left and returns
without touching the arrays). The caller waits only for pieces a worker has actually
claimed, and the shrinking pieces keep that wait short.

A worker that claimed a piece and then lost its core to another process still makes the
caller wait until the OS runs it again (milliseconds on a busy machine). So each call
measures how long the caller waited after its own last piece; when that wait exceeds a
quarter of the caller's own working time, or the workers did less than a fifth of the
items (they started late), the second core is not really available and
the following calls run serially for a while (1 ms, doubling on each repeated failure up
to 0.25 s), then try the pool again. On a quiet machine the wait is a few microseconds and
nothing changes.

``numba.get_num_threads()`` (NUMBA_NUM_THREADS, or ``numba.set_num_threads``) stays the
one knob for the thread count.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import numba

_executor = None
_workers = 0
_lock = threading.Lock()


# The back-off state: serial until _serial_until (perf_counter seconds); _backoff is the
# length of the next serial period.
_serial_until = 0.0
_backoff = 0.001
_MAX_BACKOFF = 0.25


_count = None  # numba's per-thread count getter, once its threading layer is up


def _numba_threads() -> int:
    # numba.get_num_threads() takes a multiprocessing lock on every call (0.1-0.5 ms on a
    # busy machine, 30 times a ResNet step); after the first call the layer is up and
    # its getter can be called directly.
    global _count
    if _count is None:
        n = numba.get_num_threads()
        from numba.np.ufunc import parallel
        _count = getattr(parallel, "_get_num_threads", None) or numba.get_num_threads
        return n
    return _count()


def num_threads(limit: int) -> int:
    """Threads to use for ``limit`` independent items: at most numba's thread count, and
    one while the back-off after a slow worker lasts."""
    if _serial_until and time.perf_counter() < _serial_until:
        return 1
    return max(1, min(_numba_threads(), int(limit)))


def _record(work: float, wait: float, share: float) -> None:
    """Adjust the back-off after a parallel call: the caller worked ``work`` s, then
    waited ``wait`` s for workers; it did ``share`` of the items itself."""
    global _serial_until, _backoff
    if (wait > 0.25 * work and wait > 50e-6) or share > 0.8:
        _serial_until = time.perf_counter() + _backoff
        _backoff = min(_MAX_BACKOFF, 2 * _backoff)
    elif _serial_until:
        _serial_until = 0.0
        _backoff = 0.001


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


class _Job:
    """One parallel_chunks call: the cursor over range(n), and who is still working."""

    __slots__ = ("n", "call", "min_piece", "parts", "cursor", "slots", "active", "lock",
                 "idle", "error", "caller_items")

    def __init__(self, n: int, call: Callable, threads: int, min_piece: int) -> None:
        self.n = n
        self.call = call
        self.min_piece = max(1, min_piece)
        self.parts = threads  # each claim takes 1/threads of what is left
        self.caller_items = 0
        self.cursor = 0
        self.slots = 0
        self.active = 0  # threads inside the claim loop
        self.lock = threading.Lock()
        self.idle = threading.Event()
        self.error = None

    def claim(self) -> tuple:
        with self.lock:
            first = self.cursor
            left = self.n - first
            if left <= 0:
                return first, first
            take = min(left, max(self.min_piece, -(-left // self.parts)))
            self.cursor = first + take
            return first, first + take

    def run(self, caller: bool = False) -> None:
        with self.lock:
            if self.cursor >= self.n:
                return  # a late worker: everything is taken, touch nothing
            slot = self.slots
            self.slots += 1
            self.active += 1
        try:
            while True:
                first, stop = self.claim()
                if first >= stop:
                    break
                self.call(slot, first, stop)
                if caller:
                    self.caller_items += stop - first
        except BaseException as e:  # noqa: BLE001 (re-raised by the caller)
            with self.lock:
                if self.error is None:
                    self.error = e
                self.cursor = self.n  # stop the others claiming more
        finally:
            with self.lock:
                self.active -= 1
                if self.active == 0 and self.cursor >= self.n:
                    self.idle.set()


def parallel_chunks(n: int, threads: int, call: Callable[[int, int, int], None],
                    min_piece: int = 1) -> None:
    """call(slot, first, stop) over pieces that cover range(n) exactly once, on up to
    ``threads`` threads (the calling one included).

    ``slot`` (in [0, threads)) names the thread running the piece: one thread may run
    several pieces under its slot, never two threads one slot at a time, so per-slot
    scratch is safe; a slot whose thread never started gets no call. Pieces hold at least
    ``min_piece`` items (except the last). Every piece has finished when this returns; the
    first exception raised by any piece is re-raised.
    """
    if threads <= 1 or n <= min_piece:
        call(0, 0, n)
        return
    job = _Job(n, call, threads, min_piece)
    pool = _pool(threads - 1)
    for _ in range(threads - 1):
        pool.submit(job.run)
    t0 = time.perf_counter()
    job.run(caller=True)
    # Our loop ended because the cursor reached n; wait for pieces still being run by
    # workers (they write into shared output arrays). A worker that has not started will
    # find nothing to do.
    with job.lock:
        done = job.active == 0
    t1 = time.perf_counter()
    if not done:
        job.idle.wait()
    _record(t1 - t0, time.perf_counter() - t1, job.caller_items / n)
    if job.error is not None:
        raise job.error
