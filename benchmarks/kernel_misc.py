"""Pooling, embedding and fused-loss kernels vs PyTorch, float32 fwd+bwd, one process.

    python benchmarks/kernel_misc.py           # the three targets plus the other pools
    python benchmarks/kernel_misc.py --detail  # also softmax/log_softmax vs the numpy expression
    python benchmarks/kernel_misc.py --threads 1   # both libraries on one thread
    python benchmarks/kernel_misc.py --target avx2 # compiled for an AVX2 CPU (machine.py)
    python benchmarks/kernel_misc.py --threads 1 --cpu-time   # CPU time: for a busy machine

Ours is the bare kernels (tensorlite.kernels.pool / embedding / loss) the op layer calls;
theirs is the torch.nn.functional op with its backward, so theirs also carries autograd's
overhead (a few microseconds: small against these workloads). Interleaved rounds, medians.
"""
from __future__ import annotations

import argparse
import os
import sys

import numba
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks import machine  # noqa: E402
from benchmarks._harness import compare, print_table, try_torch  # noqa: E402
from tensorlite.kernels import activation as KA  # noqa: E402
from tensorlite.kernels import embedding as KE  # noqa: E402
from tensorlite.kernels import loss as KL  # noqa: E402
from tensorlite.kernels import pool as KP  # noqa: E402


def pool_workloads(torch, rng) -> list:
    x = rng.standard_normal((32, 32, 32, 32)).astype(np.float32)
    gy = np.ones((32, 32, 16, 16), np.float32)
    g5 = np.ones((32, 32, 5, 5), np.float32)
    k = s = (2, 2)
    p = (0, 0)

    def max_ours():
        y, argmax = KP.max_pool2d_forward(x, k, s, p)
        KP.max_pool2d_backward(gy, argmax, (32, 32), k, s, p)

    def avg_ours():
        KP.avg_pool2d_forward(x, k, s, p)
        KP.avg_pool2d_backward(gy, (32, 32), k, s, p)

    def max3_ours():  # ResNet's stem pool: 3x3, stride 2, padding 1 (overlapping windows)
        y, argmax = KP.max_pool2d_forward(x, (3, 3), s, (1, 1))
        KP.max_pool2d_backward(gy, argmax, (32, 32), (3, 3), s, (1, 1))

    def adaptive_ours():
        KP.adaptive_avg_pool2d_forward(x, (5, 5))
        KP.adaptive_avg_pool2d_backward(g5, (32, 32))

    max_t = avg_t = max3_t = adaptive_t = None
    if torch is not None:
        F = torch.nn.functional
        X, GY, G5 = torch.tensor(x, requires_grad=True), torch.tensor(gy), torch.tensor(g5)

        def max_t():
            X.grad = None
            F.max_pool2d(X, 2).backward(GY)

        def avg_t():
            X.grad = None
            F.avg_pool2d(X, 2).backward(GY)

        def max3_t():
            X.grad = None
            F.max_pool2d(X, 3, 2, 1).backward(GY)

        def adaptive_t():
            X.grad = None
            F.adaptive_avg_pool2d(X, 5).backward(G5)
    return [("max_pool2d 2x2 on (32,32,32,32) fwd+bwd [target <= 0.5x]", max_ours, max_t, 10),
            ("max_pool2d 3x3 s2 p1 on (32,32,32,32) fwd+bwd", max3_ours, max3_t, 10),
            ("avg_pool2d 2x2 on (32,32,32,32) fwd+bwd", avg_ours, avg_t, 10),
            ("adaptive_avg_pool2d (32,32,32,32)->5x5 fwd+bwd", adaptive_ours, adaptive_t, 10)]


def embedding_workloads(torch, rng) -> list:
    w = rng.standard_normal((10000, 200)).astype(np.float32)
    idx = rng.integers(0, 10000, (35, 20))
    flat = idx.reshape(-1)
    gy = np.ones((700, 200), np.float32)

    def ours():
        KE.embedding_forward(flat, w)
        KE.embedding_backward(flat, gy, 10000, -1)

    theirs = None
    if torch is not None:
        W, I, G = torch.tensor(w, requires_grad=True), torch.tensor(idx), torch.ones(35, 20, 200)

        def theirs():
            W.grad = None
            torch.nn.functional.embedding(I, W).backward(G)
    return [("embedding 10000x200, indices (35,20) fwd+bwd [target <= 1.0x]", ours, theirs, 50)]


def cross_entropy_workloads(torch, rng) -> list:
    rows = []
    for dtype in (np.float32, np.float64):
        x = rng.standard_normal((700, 10000)).astype(dtype)
        t = rng.integers(0, 10000, 700)
        # 'mean' reduction: every row's gradient is 1/M, as the op passes it.
        g = np.full(700, 1.0 / 700, dtype)

        def ours(x=x, t=t, g=g):
            loss, stats = KL.cross_entropy_forward(x, t, -100, 0.0)
            KL.cross_entropy_backward(x, t, stats, g, -100, 0.0)

        theirs = None
        if torch is not None:
            X, T = torch.tensor(x, requires_grad=True), torch.tensor(t)

            def theirs(X=X, T=T):
                X.grad = None
                torch.nn.functional.cross_entropy(X, T).backward()
        target = " [target <= 1.0x]" if dtype == np.float32 else ""
        rows.append((f"cross_entropy (700, 10000) {np.dtype(dtype).name} fwd+bwd{target}", ours,
                     theirs, 5))
    return rows


def softmax_workloads(torch, rng) -> list:
    """Forward only: ours vs torch, and the numpy expression (what the op did before) vs torch."""
    rows = []
    for shape in [(700, 10000), (4096, 64), (64, 10)]:
        x = rng.standard_normal(shape).astype(np.float32)

        def numpy_expr(x=x):
            m = x.max(axis=1, keepdims=True)
            s = x - m
            return s - np.log(np.exp(s).sum(axis=1, keepdims=True))

        theirs = None
        if torch is not None:
            X = torch.tensor(x)

            def theirs(X=X):
                torch.log_softmax(X, 1)
        number = 5 if shape[0] == 700 else 200
        rows.append((f"log_softmax {shape} fwd: kernel", lambda x=x: KL.log_softmax_forward(x),
                     theirs, number))
        rows.append((f"log_softmax {shape} fwd: numpy expression", numpy_expr, theirs, number))
    return rows


def activation_workloads(torch, rng) -> list:
    x = rng.standard_normal((64, 6, 28, 28)).astype(np.float32)  # LeNet's first feature map
    g = np.ones_like(x)
    u = rng.random(x.shape, dtype=np.float32)

    def relu_ours():
        np.maximum(x, 0)
        KA.relu_backward(g, x)

    def dropout_ours():
        mask = KA.dropout_mask(u, 0.5, np.float32)
        x * mask
        g * mask

    relu_t = dropout_t = None
    if torch is not None:
        X, G = torch.tensor(x, requires_grad=True), torch.tensor(g)

        def relu_t():
            X.grad = None
            torch.relu(X).backward(G)

        def dropout_t():
            X.grad = None
            torch.nn.functional.dropout(X, 0.5).backward(G)
    # Ours draws no random numbers (u is given); PyTorch's figure includes its draw.
    return [("relu (64,6,28,28) fwd+bwd", relu_ours, relu_t, 20),
            ("dropout mask+apply (64,6,28,28) fwd+bwd, ours without the draw", dropout_ours,
             dropout_t, 20)]


def run(detail: bool = False, threads: int = 2, only: str = "") -> list[dict]:
    torch = try_torch()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    if torch is not None:
        torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    if threads == 1:
        import scipy.linalg.cython_blas  # noqa: F401  (load numba's BLAS before limiting it)
        from threadpoolctl import threadpool_limits
        threadpool_limits(1, user_api="blas")
    print(machine.summary(machine.describe()), flush=True)
    work = (pool_workloads(torch, rng) + embedding_workloads(torch, rng)
            + cross_entropy_workloads(torch, rng) + activation_workloads(torch, rng))
    if detail:
        work += softmax_workloads(torch, rng)
    rows = []
    for name, ours, theirs, number in work:
        if only not in name:
            continue
        r = compare(ours, theirs, number=number)
        r["name"] = name
        rows.append(r)
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detail", action="store_true", help="also softmax vs numpy")
    parser.add_argument("--threads", type=int, default=2, help="threads for both libraries")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time by process CPU time instead of wall time (with --threads "
                             "1: the quiet-machine time on a busy machine)")
    parser.add_argument("--target", choices=machine.TARGETS, default="host",
                        help="compile for this CPU (a child process; see machine.py)")
    parser.add_argument("--only", default="", help="only rows whose name contains this")
    args = parser.parse_args()
    code = machine.reexec(args.target, sys.argv)
    if code is not None:
        sys.exit(code)
    if args.cpu_time:
        import time
        from benchmarks import _harness
        _harness.CLOCK[0] = time.process_time
    print_table(run(args.detail, args.threads, args.only))
