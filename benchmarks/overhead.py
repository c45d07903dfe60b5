"""Per-op Python overhead: fwd+bwd of a tiny op and of a 100-op chain, vs PyTorch.

    python benchmarks/overhead.py
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import tensorlite as tl  # noqa: E402
from benchmarks._harness import compare, print_table, try_torch  # noqa: E402


def workloads():
    torch = try_torch()
    a_np, b_np = np.ones((2, 2), np.float32), np.ones((2, 2), np.float32)
    a, b = tl.tensor(a_np, requires_grad=True), tl.tensor(b_np, requires_grad=True)
    seed_ours = tl.ones(2, 2)   # made once, as PyTorch's seed below is

    def tiny_ours():
        (a + b).backward(seed_ours)

    def chain_ours():
        y = a
        for _ in range(50):
            y = y * b + a
        y.backward(seed_ours)

    tiny_torch = chain_torch = None
    if torch is not None:
        ta = torch.ones(2, 2, requires_grad=True)
        tb = torch.ones(2, 2, requires_grad=True)
        seed = torch.ones(2, 2)

        def tiny_torch():
            (ta + tb).backward(seed)

        def chain_torch():
            y = ta
            for _ in range(50):
                y = y * tb + ta
            y.backward(seed)
    return [("tiny op: add (2,2)+(2,2) fwd+bwd", tiny_ours, tiny_torch, 2000),
            ("100-op chain (50 x (mul, add)) fwd+bwd", chain_ours, chain_torch, 50)]


def run() -> list[dict]:
    rows = []
    for name, ours, theirs, number in workloads():
        r = compare(ours, theirs, number=number)
        r["name"] = name
        rows.append(r)
    return rows


if __name__ == "__main__":
    print_table(run())
