"""Side-by-side timing: ours vs PyTorch in one process, interleaved, medians of repeats."""
from __future__ import annotations

import statistics
import time
from typing import Callable, Optional


def try_torch():
    try:
        import torch
        torch.set_num_threads(2)
        return torch
    except ImportError:
        return None


# The clock of time_call: wall time, or (--cpu-time) the calling thread's CPU time, which on a
# machine other processes keep busy counts only the time this process actually ran;
# with one thread per library (--threads 1) it approximates the quiet machine's time.
CLOCK = [time.perf_counter]


def time_call(fn: Callable[[], object], number: int) -> float:
    """Seconds per call, averaged over ``number`` calls."""
    clock = CLOCK[0]
    t0 = clock()
    for _ in range(number):
        fn()
    return (clock() - t0) / number


def compare(ours: Callable, theirs: Optional[Callable], number: int = 10, rounds: int = 7,
            pause: float = 0.25) -> dict:
    """Median seconds per call for both, measured in alternating rounds.

    The pause lets the other library's BLAS/OpenMP worker threads stop spinning before
    the next block (they otherwise steal a core from the one being measured).
    """
    ours()
    if theirs is not None:
        theirs()
    a, b = [], []
    for _ in range(rounds):
        a.append(time_call(ours, number))
        if theirs is not None:
            time.sleep(pause)
            b.append(time_call(theirs, number))
            time.sleep(pause)
    med_a = statistics.median(a)
    med_b = statistics.median(b) if b else None
    return {"ours_ms": med_a * 1e3, "torch_ms": None if med_b is None else med_b * 1e3,
            "ratio": None if med_b is None else med_a / med_b}


def print_table(rows: list[dict]) -> None:
    print(f"{'workload':58s} {'ours ms':>10s} {'torch ms':>10s} {'ratio':>7s}")
    for r in rows:
        t = "-" if r["torch_ms"] is None else f"{r['torch_ms']:.4f}"
        q = "-" if r["ratio"] is None else f"{r['ratio']:.2f}x"
        print(f"{r['name']:58s} {r['ours_ms']:10.4f} {t:>10s} {q:>7s}")
