"""Memory stays flat over many training steps (no graph or tensor leak).

    python benchmarks/memory.py [--steps 10000]

Trains a small MLP for N steps and prints the process's resident memory every 1000
steps; the last figure should equal the first within noise.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import nn  # noqa: E402
import nn.functional as F  # noqa: E402
import tensorlite as tl  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=10000)
    args = p.parse_args(argv)
    tl.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = tl.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    x = tl.tensor(rng.standard_normal((32, 64)).astype(np.float32))
    y = tl.tensor(rng.integers(0, 10, 32))
    readings = []
    for step in range(1, args.steps + 1):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
        if step % 1000 == 0 or step == 100:
            readings.append((step, rss_mb()))
            print(f"step {step:6d}  rss {readings[-1][1]:8.1f} MB", flush=True)
    growth = readings[-1][1] - readings[0][1]
    print(f"growth from step {readings[0][0]} to {readings[-1][0]}: {growth:+.1f} MB "
          f"(peak rss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
