"""Cold start: import time, first-call compilation of every kernel, and the disk cache.

    python benchmarks/coldstart.py            # float32 (what training uses)
    python benchmarks/coldstart.py --float64  # also the float64 specialisations
    python benchmarks/coldstart.py --target avx2   # compile for an AVX2 CPU (Zen 3 features)

Runs each phase in a fresh Python process with its own empty NUMBA_CACHE_DIR:
1. `import tensorlite` (and nn), timed, median of 5 processes;
2. "cold": the first fwd+bwd call of every kernel family (conv2d, conv_transpose2d, max/avg/
   adaptive pooling, embedding, cross-entropy, dropout, relu, RNN/LSTM/GRU), each timed;
3. "warm": the same calls in a second process that finds the compiled code on disk.
Targets (issue 3): cold total under 30 s, warm total under 1 s, import under 0.5 s.

numba keys its on-disk cache by CPU name and features: a cache filled on one CPU (a shared
home directory, a container image built elsewhere) is not used on another, which compiles
everything once more on first use and adds its own entries. ``--target avx2`` measures that
first use for an AVX2-only CPU from any machine (benchmarks/machine.py).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Executed in the child process: prints one JSON object {family: seconds}.
_CHILD = r"""
import json, sys, time
import numpy as np
t0 = time.perf_counter()
import tensorlite as tl, nn, nn.functional as F
t_import = time.perf_counter() - t0
dtypes = sys.argv[1].split(",")
times = {"import": t_import}

def timed(name, fn):
    t, c = time.perf_counter(), time.process_time()
    fn()
    times[name] = times.get(name, 0.0) + time.perf_counter() - t
    times["cpu:" + name] = times.get("cpu:" + name, 0.0) + time.process_time() - c

for dt in dtypes:
    rng = np.random.default_rng(0)
    def T(*shape, grad=True):
        return tl.tensor(rng.standard_normal(shape).astype(dt), requires_grad=grad)
    def conv():
        x, w, b = T(2, 4, 9, 9), T(6, 2, 3, 3), T(6)
        F.conv2d(x, w, b, stride=2, padding=1, groups=2).sum().backward()
    def conv_t():
        x, w = T(2, 4, 5, 5), T(4, 3, 3, 3)
        F.conv_transpose2d(x, w, stride=2, padding=1).sum().backward()
    def maxpool():
        F.max_pool2d(T(2, 3, 8, 8), 2).sum().backward()
        F.max_pool2d(T(64, 32, 32, 32), 2).sum().backward()   # the threaded path
    def avgpool():
        F.avg_pool2d(T(2, 3, 8, 8), 3, 2, 1).sum().backward()
        F.avg_pool2d(T(64, 32, 32, 32), 2).sum().backward()
        F.adaptive_avg_pool2d(T(2, 3, 7, 7), (3, 2)).sum().backward()
        F.adaptive_avg_pool2d(T(64, 32, 32, 32), 1).sum().backward()
    def embedding():
        w = T(50, 8)
        F.embedding(tl.tensor(rng.integers(0, 50, (5, 3))), w, padding_idx=0).sum().backward()
    def cross_entropy():
        y = tl.tensor(rng.integers(0, 7, 6))
        F.cross_entropy(T(6, 7), y).backward()
        F.cross_entropy(T(6, 7), y, label_smoothing=0.1, ignore_index=2).backward()
        F.cross_entropy(T(700, 1000), tl.tensor(rng.integers(0, 1000, 700))).backward()
    def dropout():
        F.dropout(T(4, 5), 0.5, training=True).sum().backward()
        F.dropout(T(64, 100), 0.5, training=True).sum().backward()   # the kernel's size
    def relu():
        F.relu(T(64, 100)).sum().backward()
    def rnn(kind):
        def run():
            m = getattr(nn, kind)(5, 6, num_layers=1)
            if dt == "float64":
                m = m.double()
            out, _ = m(T(4, 3, 5))
            out.sum().backward()
        return run
    for name, fn in [("conv2d", conv), ("conv_transpose2d", conv_t), ("max_pool2d", maxpool),
                     ("avg/adaptive pool", avgpool), ("embedding", embedding),
                     ("cross_entropy", cross_entropy), ("dropout", dropout), ("relu", relu),
                     ("RNN", rnn("RNN")), ("LSTM", rnn("LSTM")), ("GRU", rnn("GRU"))]:
        timed(name, fn)
print(json.dumps(times))
"""


TARGET_ENV: dict = {}  # set by main from --target


def child(cache: str, dtypes: str) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=ROOT, **TARGET_ENV)
    out = subprocess.run([sys.executable, "-c", _CHILD, dtypes], env=env, cwd=ROOT,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def import_time(cache: str) -> float:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=ROOT, **TARGET_ENV)
    code = ("import time; t = time.perf_counter(); import tensorlite, nn; "
            "print(time.perf_counter() - t)")
    runs = [float(subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True,
                                 capture_output=True, text=True).stdout) for _ in range(5)]
    return statistics.median(runs)


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--float64", action="store_true", help="also compile float64 kernels")
    p.add_argument("--json", help="write the figures here")
    p.add_argument("--target", default="host", choices=["host", "avx2", "haswell"],
                   help="the CPU numba compiles for (see benchmarks/machine.py)")
    args = p.parse_args(argv)
    sys.path.insert(0, ROOT)
    from benchmarks import machine
    TARGET_ENV.update(machine.target_env(args.target))
    env = dict(os.environ, PYTHONPATH=ROOT, **TARGET_ENV)
    info = json.loads(subprocess.run(
        [sys.executable, "-c", "import json, numpy; from benchmarks.machine import describe; "
         "print(json.dumps(describe()))"], env=env, cwd=ROOT, check=True,
        capture_output=True, text=True).stdout)
    print(machine.summary(info))
    dtypes = "float32,float64" if args.float64 else "float32"
    with tempfile.TemporaryDirectory() as cache:
        imp = import_time(cache)
        cold = child(cache, dtypes)
        warm = child(cache, dtypes)
    # Wall time is what a user waits; CPU time (this process's user + system) is what
    # the compile costs, and does not grow when other processes share the cores.
    families = [k for k in cold if k != "import" and not k.startswith("cpu:")]
    print(f"{'kernel family':<20} {'cold (s)':>9} {'cold CPU s':>10} {'warm (s)':>9}")
    for k in families:
        print(f"{k:<20} {cold[k]:9.2f} {cold['cpu:' + k]:10.2f} {warm[k]:9.3f}")
    total_cold = sum(cold[k] for k in families)
    total_cpu = sum(cold["cpu:" + k] for k in families)
    total_warm = sum(warm[k] for k in families)
    print(f"{'total':<20} {total_cold:9.2f} {total_cpu:10.2f} {total_warm:9.3f}"
          f"   (targets: < 30 s, < 1 s)")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average {load:.1f} at the end")
    print(f"import tensorlite, nn: {imp:.3f} s (median of 5 processes; target < 0.5 s)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"target": args.target, "machine": info, "dtypes": dtypes, "import_s": imp, "cold_s": cold, "warm_s": warm,
                       "cold_total_s": total_cold, "cold_total_cpu_s": total_cpu,
                       "warm_total_s": total_warm, "loadavg_end": load}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
