"""Each pool/embedding/loss/activation kernel against its version at an older commit, in
one process: the old ``tensorlite/kernels`` is extracted from git into a temporary package
and imported beside the current one; interleaved rounds, medians, one thread, the calling
thread's CPU time (robust to other processes on a shared machine).

    python benchmarks/kernels_vs_commit.py 68800d6                # this CPU
    python benchmarks/kernels_vs_commit.py 68800d6 --target avx2  # compiled for AVX2

docs/cpus.md has the figures for 68800d6, the kernels before issue 18.
"""
from __future__ import annotations

import argparse
import importlib
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from benchmarks import machine  # noqa: E402


def _extract(commit: str, dest: str) -> None:
    """dest/kernels_old/: tensorlite/kernels as of commit."""
    pkg = os.path.join(dest, "kernels_old")
    os.makedirs(pkg)
    names = subprocess.run(["git", "ls-tree", "--name-only", commit, "tensorlite/kernels/"],
                           cwd=ROOT, check=True, capture_output=True, text=True).stdout.split()
    for path in names:
        if path.endswith(".py"):
            text = subprocess.run(["git", "show", f"{commit}:{path}"], cwd=ROOT, check=True,
                                  capture_output=True, text=True).stdout
            with open(os.path.join(pkg, os.path.basename(path)), "w") as f:
                f.write(text)


def _median_ms(fn, number: int) -> float:
    t0 = time.thread_time()
    for _ in range(number):
        fn()
    return (time.thread_time() - t0) / number * 1e3


def compare(name: str, old, new, number: int = 10, rounds: int = 9) -> None:
    old(), new()
    a, b = [], []
    for _ in range(rounds):
        a.append(_median_ms(old, number))
        b.append(_median_ms(new, number))
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"{name:46s} {ma:9.3f} {mb:9.3f} {ma / mb:7.2f}x", flush=True)


def run(commit: str) -> None:
    import numba
    import numpy as np
    import scipy.linalg.cython_blas  # noqa: F401
    from threadpoolctl import threadpool_limits
    numba.set_num_threads(1)
    threadpool_limits(1)
    tmp = tempfile.mkdtemp(prefix="tl-kernels-")
    _extract(commit, tmp)
    sys.path.insert(0, tmp)
    old = {m: importlib.import_module(f"kernels_old.{m}")
           for m in ("pool", "embedding", "loss", "activation")}
    from tensorlite.kernels import activation, embedding, loss, pool
    new = {"pool": pool, "embedding": embedding, "loss": loss, "activation": activation}
    print(machine.summary(machine.describe()))
    print(f"{'kernel (ms per call, thread CPU time)':46s} {commit[:9]:>9s} {'now':>9s} speed-up")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 32, 32, 32)).astype(np.float32)
    xl = rng.standard_normal((64, 6, 28, 28)).astype(np.float32)
    k2, s2, p0 = (2, 2), (2, 2), (0, 0)
    for label, X in (("(32,32,32,32)", x), ("LeNet (64,6,28,28)", xl)):
        G = np.ones(X.shape[:2] + (X.shape[2] // 2, X.shape[3] // 2), np.float32)
        hw = X.shape[2:]
        arg = {v: m["pool"].max_pool2d_forward(X, k2, s2, p0)[1] for v, m in
               (("old", old), ("new", new))}
        compare(f"max_pool2d 2x2 forward {label}",
                lambda: old["pool"].max_pool2d_forward(X, k2, s2, p0),
                lambda: new["pool"].max_pool2d_forward(X, k2, s2, p0))
        compare(f"max_pool2d 2x2 backward {label}",
                lambda: old["pool"].max_pool2d_backward(G, arg["old"], hw, k2, s2, p0),
                lambda: new["pool"].max_pool2d_backward(G, arg["new"], hw, k2, s2, p0))
    gy = np.ones((32, 32, 16, 16), np.float32)
    k3, p1 = (3, 3), (1, 1)
    a_old = old["pool"].max_pool2d_forward(x, k3, s2, p1)[1]
    a_new = new["pool"].max_pool2d_forward(x, k3, s2, p1)[1]
    compare("max_pool2d 3x3 s2 p1 forward (32,32,32,32)",
            lambda: old["pool"].max_pool2d_forward(x, k3, s2, p1),
            lambda: new["pool"].max_pool2d_forward(x, k3, s2, p1))
    compare("max_pool2d 3x3 s2 p1 backward (32,32,32,32)",
            lambda: old["pool"].max_pool2d_backward(gy, a_old, (32, 32), k3, s2, p1),
            lambda: new["pool"].max_pool2d_backward(gy, a_new, (32, 32), k3, s2, p1))
    compare("avg_pool2d 2x2 forward (32,32,32,32)",
            lambda: old["pool"].avg_pool2d_forward(x, k2, s2, p0),
            lambda: new["pool"].avg_pool2d_forward(x, k2, s2, p0))
    w_idx = rng.integers(0, 10000, 700)
    ge = np.ones((700, 200), np.float32)
    compare("embedding backward 10000x200, 700 indices",
            lambda: old["embedding"].embedding_backward(w_idx, ge, 10000, -1),
            lambda: new["embedding"].embedding_backward(w_idx, ge, 10000, -1), number=20)
    xc = rng.standard_normal((700, 10000)).astype(np.float32)
    tc = rng.integers(0, 10000, 700)
    gc = np.full(700, 1 / 700, np.float32)
    stats = new["loss"].cross_entropy_forward(xc, tc, -100, 0.0)[1]
    compare("cross_entropy forward (700, 10000)",
            lambda: old["loss"].cross_entropy_forward(xc, tc, -100, 0.0),
            lambda: new["loss"].cross_entropy_forward(xc, tc, -100, 0.0), number=3)
    compare("cross_entropy backward (700, 10000)",
            lambda: old["loss"].cross_entropy_backward(xc, tc, stats, gc, -100, 0.0),
            lambda: new["loss"].cross_entropy_backward(xc, tc, stats, gc, -100, 0.0), number=3)
    compare("log_softmax forward (700, 10000)", lambda: old["loss"].log_softmax_forward(xc),
            lambda: new["loss"].log_softmax_forward(xc), number=3)
    g1 = np.ones_like(xl)
    compare("relu backward (64,6,28,28)", lambda: old["activation"].relu_backward(g1, xl),
            lambda: new["activation"].relu_backward(g1, xl), number=20)
    u = rng.random(xl.shape, dtype=np.float32)
    if hasattr(old["activation"], "dropout_mask"):
        old_mask = lambda: old["activation"].dropout_mask(u, 0.5, np.float32)  # noqa: E731
    else:  # before the kernel: the numpy expression the op used
        old_mask = lambda: (u >= np.float32(0.5)).astype(np.float32) * np.float32(2.0)  # noqa: E731
    compare("dropout mask (64,6,28,28)", old_mask,
            lambda: new["activation"].dropout_mask(u, 0.5, np.float32), number=20)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("commit", help="the older commit to compare with")
    p.add_argument("--target", choices=machine.TARGETS, default="host")
    args = p.parse_args()
    code = machine.reexec(args.target, sys.argv)
    if code is not None:
        return code
    run(args.commit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
