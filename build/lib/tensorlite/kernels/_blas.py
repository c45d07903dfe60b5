"""Hold BLAS to one thread around parallel kernels that call np.dot.

The conv kernels run one image chunk per thread and call sgemm/dgemm from each thread.
A multi-threaded OpenBLAS inside those threads either serialises on its own lock or
oversubscribes the 2 cores, and its workers keep spinning ~0.1 s after each call, which
slows the next parallel kernel several-fold (PERF-NOTES). So each such kernel call runs
inside ``single_threaded_blas()``, which sets every loaded BLAS to 1 thread and restores
the previous counts on exit.
"""
from __future__ import annotations

_libs = None  # the BLAS library controllers, found once (scanning takes ~0.5 s)


def _blas_controllers() -> list:
    global _libs
    if _libs is None:
        try:
            # numba's np.dot calls scipy's BLAS; load it before scanning so it is found.
            import scipy.linalg.cython_blas  # noqa: F401
            from threadpoolctl import ThreadpoolController
            _libs = list(ThreadpoolController().select(user_api="blas").lib_controllers)
        except ImportError:
            # Without threadpoolctl results are the same, only slower: nothing to control.
            _libs = []
    return _libs


class single_threaded_blas:
    """Context manager: every BLAS library runs on one thread inside the block."""

    __slots__ = ("_saved",)

    def __enter__(self) -> "single_threaded_blas":
        saved = []
        for lib in _blas_controllers():
            n = lib.get_num_threads()
            if n != 1:
                lib.set_num_threads(1)
                saved.append((lib, n))
        self._saved = saved
        return self

    def __exit__(self, *exc) -> None:
        for lib, n in self._saved:
            lib.set_num_threads(n)
