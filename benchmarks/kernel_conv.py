"""conv2d kernels (forward + both gradients) vs PyTorch, float32, same process.

    python benchmarks/kernel_conv.py [--repeats 15]

Prints, per workload, the median ms of ours (conv2d_forward + conv2d_backward_input +
conv2d_backward_weight) and of torch.nn.functional.conv2d forward + backward with
requires_grad on input and weight, and their ratio (ours / torch; < 1 is faster).
Rounds alternate between the libraries with a pause between blocks, because each
library's idle threads keep spinning for a while and would slow the other one down.
On Linux a round during which other processes used the CPU is discarded and repeated
(the machine has 2 cores: any other busy process halves a 2-thread kernel's speed).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import resource

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from tensorlite.kernels.conv import (conv2d_backward_input, conv2d_backward_weight,  # noqa: E402
                                     conv2d_forward)

# (name, N, C, O, H, W, k, padding)
WORKLOADS = [
    ("N32 3->32 32x32 k3 p1", 32, 3, 32, 32, 32, 3, 1),
    ("N64 32->64 16x16 k3 p1", 64, 32, 64, 16, 16, 3, 1),
]
PAUSE = 0.25  # seconds between blocks of different libraries


def ours_step(x, w, gy, k, p):
    one = (1, 1)
    conv2d_forward(x, w, one, (p, p), one, 1)
    conv2d_backward_input(gy, w, x.shape[2:], one, (p, p), one, 1)
    conv2d_backward_weight(x, gy, (k, k), one, (p, p), one, 1)


def _cpu_seconds() -> tuple:
    """(CPU seconds used by the whole machine, by this process) so far; machine None off Linux."""
    mine = resource.getrusage(resource.RUSAGE_SELF)
    try:
        with open("/proc/stat") as f:
            ticks = [int(v) for v in f.readline().split()[1:]]
        machine = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # less idle
    except OSError:
        machine = None
    return machine, mine.ru_utime + mine.ru_stime


def _others_were_busy(before: tuple) -> bool:
    machine, mine = _cpu_seconds()
    if machine is None:
        return False
    return (machine - before[0]) - (mine - before[1]) > 0.05


def time_block(fn, calls):
    """Median ms of ``calls`` calls of fn."""
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15, help="rounds per library")
    parser.add_argument("--calls", type=int, default=10, help="timed calls per round")
    args = parser.parse_args()
    try:
        import torch
        torch.set_num_threads(2)
    except ImportError:
        torch = None
        print("torch not installed: timing ours only")

    rng = np.random.default_rng(0)
    for name, n, c, o, h, wd, k, p in WORKLOADS:
        x = rng.standard_normal((n, c, h, wd), dtype=np.float32)
        w = rng.standard_normal((o, c, k, k), dtype=np.float32)
        gy = rng.standard_normal((n, o, h + 2 * p - k + 1, wd + 2 * p - k + 1), dtype=np.float32)
        step = lambda: ours_step(x, w, gy, k, p)  # noqa: E731
        step()  # compile (or load from the cache) and warm up
        if torch is not None:
            xt = torch.from_numpy(x).requires_grad_(True)
            wt = torch.from_numpy(w).requires_grad_(True)
            gyt = torch.from_numpy(gy)

            def torch_step():
                y = torch.nn.functional.conv2d(xt, wt, None, 1, p)
                torch.autograd.grad(y, (xt, wt), gyt)
            torch_step()
        ours, theirs, discarded = [], [], 0
        while len(ours) < args.repeats and discarded < 10 * args.repeats:
            before = _cpu_seconds()
            time.sleep(PAUSE)
            mine = time_block(step, args.calls)
            if torch is not None:
                time.sleep(PAUSE)
                ref = time_block(torch_step, args.calls)
            if _others_were_busy(before):
                discarded += 1
                continue
            ours.append(mine)
            if torch is not None:
                theirs.append(ref)
        if discarded:
            print(f"({discarded} rounds discarded: other processes were using the CPU)")
        if not ours:
            print(f"{name:24s} no quiet round: machine too busy to measure")
            continue
        ms = float(np.median(ours))
        if torch is None:
            print(f"{name:24s} ours {ms:7.2f} ms")
        else:
            ref = float(np.median(theirs))
            print(f"{name:24s} ours {ms:7.2f} ms  torch {ref:7.2f} ms  ratio {ms / ref:5.2f}x")


if __name__ == "__main__":
    main()
