"""The benchmark runner: every workload fwd+bwd, ours vs PyTorch side by side in one
process (interleaved rounds, medians), printed as a table and saved as JSON.

    python -m benchmarks                 # all workloads
    python -m benchmarks conv lstm       # only those whose name contains a word
    python -m benchmarks --json out.json
    python -m benchmarks --background-load   # with a CPU-bound process running beside it
    python -m benchmarks --target avx2   # numba, BLAS and PyTorch held to AVX2 (see machine.py)
    python -m benchmarks --threads 1     # both libraries (and BLAS) on one thread

Every result records the machine (benchmarks/machine.py: CPU model, the CPU and vector ISA
numba compiles for, threads, the BLAS libraries and their kernels, the load average).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import machine  # noqa: E402  (imports neither numpy nor numba)
# The benchmarks' BLAS tuning, before numpy loads (docs/architecture.md; tensorlite sets
# nothing at import): OpenBLAS's workers sleep after 2^18 cycles instead of spinning.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "18")
import tensorlite as tl  # noqa: E402
import numpy as np  # noqa: E402
from benchmarks._harness import compare, print_table, try_torch  # noqa: E402
from benchmarks.layers import (w_adam, w_batchnorm, w_conv_variants, w_resnet,  # noqa: E402
                               w_rnn_variants)


def _t(torch, a, grad=False):
    return torch.tensor(a, requires_grad=grad)


def w_overhead(torch):
    from benchmarks.overhead import workloads
    return [(n, o, t, num) for n, o, t, num in workloads()]


def w_conv(torch):
    import nn.functional as F
    out = []
    rng = np.random.default_rng(0)
    for n, c, o, hw in [(32, 3, 32, 32), (64, 32, 64, 16)]:
        xa = rng.standard_normal((n, c, hw, hw)).astype(np.float32)
        wa = (rng.standard_normal((o, c, 3, 3)) * 0.1).astype(np.float32)
        x, w = tl.tensor(xa, requires_grad=True), tl.tensor(wa, requires_grad=True)
        g = tl.ones(n, o, hw, hw)

        def ours(x=x, w=w, g=g):
            x.grad = w.grad = None
            F.conv2d(x, w, padding=1).backward(g)
        theirs = None
        if torch is not None:
            X, W, G = _t(torch, xa, True), _t(torch, wa, True), torch.ones(n, o, hw, hw)

            def theirs(X=X, W=W, G=G):
                X.grad = W.grad = None
                torch.nn.functional.conv2d(X, W, padding=1).backward(G)
        out.append((f"conv2d N{n} {c}->{o} {hw}x{hw} k3 p1 fwd+bwd", ours, theirs, 5))
    return out


def w_pool(torch):
    import nn.functional as F
    xa = np.random.default_rng(0).standard_normal((32, 32, 32, 32)).astype(np.float32)
    x = tl.tensor(xa, requires_grad=True)
    g = tl.ones(32, 32, 16, 16)

    def ours():
        x.grad = None
        F.max_pool2d(x, 2).backward(g)
    theirs = None
    if torch is not None:
        X, G = _t(torch, xa, True), torch.ones(32, 32, 16, 16)

        def theirs():
            X.grad = None
            torch.nn.functional.max_pool2d(X, 2).backward(G)
    return [("max_pool2d 2x2 on (32,32,32,32) fwd+bwd", ours, theirs, 10)]


def w_embedding(torch):
    import nn.functional as F
    rng = np.random.default_rng(0)
    wa = rng.standard_normal((10000, 200)).astype(np.float32)
    ia = rng.integers(0, 10000, (35, 20))
    w, idx = tl.tensor(wa, requires_grad=True), tl.tensor(ia)
    g = tl.ones(35, 20, 200)

    def ours():
        w.grad = None
        F.embedding(idx, w).backward(g)
    theirs = None
    if torch is not None:
        W, I, G = _t(torch, wa, True), torch.tensor(ia), torch.ones(35, 20, 200)

        def theirs():
            W.grad = None
            torch.nn.functional.embedding(I, W).backward(G)
    return [("embedding 10000x200, indices (35,20) fwd+bwd", ours, theirs, 20)]


def w_cross_entropy(torch):
    import nn.functional as F
    rng = np.random.default_rng(0)
    xa = rng.standard_normal((700, 10000)).astype(np.float32)
    ta = rng.integers(0, 10000, 700)
    x, t = tl.tensor(xa, requires_grad=True), tl.tensor(ta)

    def ours():
        x.grad = None
        F.cross_entropy(x, t).backward()
    theirs = None
    if torch is not None:
        X, T = _t(torch, xa, True), torch.tensor(ta)

        def theirs():
            X.grad = None
            torch.nn.functional.cross_entropy(X, T).backward()
    return [("cross_entropy (700, 10000) fwd+bwd", ours, theirs, 10)]


def w_lstm(torch):
    import nn
    rng = np.random.default_rng(0)
    xa = rng.standard_normal((35, 20, 200)).astype(np.float32)
    tl.manual_seed(0)
    ours_m = nn.LSTM(200, 200, 2)
    x = tl.tensor(xa, requires_grad=True)

    def ours():
        ours_m.zero_grad()
        out, _ = ours_m(x)
        out.sum().backward()
    theirs = None
    if torch is not None:
        tm = torch.nn.LSTM(200, 200, 2)
        X = _t(torch, xa, True)

        def theirs():
            tm.zero_grad()
            out, _ = tm(X)
            out.sum().backward()
    return [("LSTM 2 layers, seq 35, batch 20, 200->200 fwd+bwd", ours, theirs, 5)]


def w_lenet(torch):
    import nn.functional as F
    from models import LeNet5
    rng = np.random.default_rng(0)
    xa = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    ya = rng.integers(0, 10, 64)
    tl.manual_seed(0)
    model = LeNet5()
    opt = tl.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = tl.tensor(xa), tl.tensor(ya)

    def ours():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    theirs = None
    if torch is not None:
        tmodel = torch.nn.Sequential(
            torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
            torch.nn.Linear(400, 120), torch.nn.ReLU(), torch.nn.Linear(120, 84), torch.nn.ReLU(),
            torch.nn.Linear(84, 10))
        topt = torch.optim.SGD(tmodel.parameters(), lr=0.01, momentum=0.9)
        X, Y = torch.tensor(xa), torch.tensor(ya)

        def theirs():
            topt.zero_grad()
            torch.nn.functional.cross_entropy(tmodel(X), Y).backward()
            topt.step()
    return [("LeNet-5 train step, batch 64 (fwd, CE, bwd, SGD)", ours, theirs, 10)]


def w_lstm_lm(torch):
    import nn.functional as F
    from models import RNNLM
    rng = np.random.default_rng(0)
    xa = rng.integers(0, 10000, (35, 20))
    ya = rng.integers(0, 10000, (35, 20))
    tl.manual_seed(0)
    model = RNNLM(10000, 200, 200, 2, "lstm")
    opt = tl.optim.SGD(model.parameters(), lr=0.1)
    x, y = tl.tensor(xa), tl.tensor(ya)

    def ours():
        opt.zero_grad()
        logits, _ = model(x)
        F.cross_entropy(logits.reshape(-1, 10000), y.reshape(-1)).backward()
        opt.step()
    theirs = None
    if torch is not None:
        class TorchLM(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.enc = torch.nn.Embedding(10000, 200)
                self.rnn = torch.nn.LSTM(200, 200, 2)
                self.dec = torch.nn.Linear(200, 10000)

            def forward(self, ids):
                out, _ = self.rnn(self.enc(ids))
                return self.dec(out)
        tmodel = TorchLM()
        topt = torch.optim.SGD(tmodel.parameters(), lr=0.1)
        X, Y = torch.tensor(xa), torch.tensor(ya)

        def theirs():
            topt.zero_grad()
            torch.nn.functional.cross_entropy(tmodel(X).reshape(-1, 10000),
                                              Y.reshape(-1)).backward()
            topt.step()
    return [("2-layer LSTM LM train step (vocab 10k, 35x20, 200)", ours, theirs, 3)]


MARKDOWN = """# Performance relative to PyTorch

Written by `python -m benchmarks{target_flag} --markdown docs/performance.md` on {date}
(torch {torch}, numpy {numpy}). Machine: {machine}. Each workload is forward + backward (training
steps include the optimizer), float32, timed for ours and PyTorch alternately in one
process; figures are medians of the rounds. Ratio = ours / PyTorch (below 1 is faster).
On the shared 2-vCPU development machine both columns move by up to a third from one run
to the next (PyTorch's as much as ours), so compare ratios across a few runs.

| workload | ours ms | PyTorch ms | ratio |
|---|---|---|---|
{rows}

The same on an AVX2-only CPU, measured from any x86-64 machine: `python -m benchmarks
--target avx2`; what the kernels do to vectorise on both, the two columns and the
compile cost on first use on another CPU: [cpus.md](cpus.md).

Kernel-level benchmarks with more detail: `python benchmarks/kernel_conv.py`,
`python benchmarks/kernel_misc.py`, `python benchmarks/kernel_rnn.py`; per-op overhead:
`python benchmarks/overhead.py`; memory over 10,000 steps: `python benchmarks/memory.py`.
Batch norm, depthwise/grouped/1x1/transposed convolution, the ResNet step, time per epoch
and the busy-machine measurements: docs/performance-layers.md.
"""

GROUPS = [("overhead", w_overhead), ("conv", w_conv), ("pool", w_pool),
          ("embedding", w_embedding), ("cross_entropy", w_cross_entropy), ("lstm", w_lstm),
          ("lenet", w_lenet), ("lstm_lm", w_lstm_lm), ("batchnorm", w_batchnorm),
          ("conv_variants", w_conv_variants), ("resnet", w_resnet),
          ("rnn_variants", w_rnn_variants), ("adam", w_adam)]


def start_background_load():
    """One CPU-bound process beside the benchmark: a busy laptop or CI box."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "-"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("only", nargs="*", help="run only groups whose name contains one of these")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--markdown", default=None, help="also write the table as Markdown here")
    p.add_argument("--json", default=None,
                   help="default: benchmarks/results/latest.json (latest-avx2.json, ...)")
    p.add_argument("--target", choices=machine.TARGETS, default="host",
                   help="the CPU to compile for: host, or avx2 (Zen 3 features; BLAS and "
                        "PyTorch held to AVX2 too), run in a child process")
    p.add_argument("--threads", type=int, default=None,
                   help="threads for both libraries and BLAS (default: all cores)")
    p.add_argument("--cpu-time", action="store_true",
                   help="time by the calling thread's CPU time, not wall time (with --threads 1 all "
                        "work runs on that thread: the quiet-machine time on a busy machine)")
    p.add_argument("--background-load", action="store_true",
                   help="run a CPU-bound Python process (while True: pass) beside the benchmark")
    args = p.parse_args(argv)
    # numba, OpenBLAS and PyTorch read their ISA settings when they load: start afresh.
    code = machine.reexec(args.target, ["-m", "benchmarks"] + list(
        sys.argv[1:] if argv is None else argv))
    if code is not None:
        return code
    if args.json is None:
        args.json = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results",
                                 "latest.json" if args.target == "host"
                                 else f"latest-{args.target}.json")
    torch = try_torch()
    if args.cpu_time:
        from benchmarks import _harness
        _harness.CLOCK[0] = time.thread_time
    if args.threads:
        import numba
        from threadpoolctl import threadpool_limits
        import scipy.linalg.cython_blas  # noqa: F401  (load numba's BLAS before limiting it)
        numba.set_num_threads(args.threads)
        threadpool_limits(args.threads, user_api="blas")
        if torch is not None:
            torch.set_num_threads(args.threads)
    info = machine.describe()
    print(machine.summary(info), flush=True)
    rows = []
    load = start_background_load() if args.background_load else None
    if load is not None:
        print(f"with a background CPU-bound process; load average {load_average()}", flush=True)
    try:
        _run_groups(args, torch, rows)
    finally:
        if load is not None:
            load.terminate()
            load.wait()
    meta = {"date": time.strftime("%Y-%m-%d %H:%M"), "python": platform.python_version(),
            "numpy": np.__version__, "torch": getattr(torch, "__version__", None),
            "cpus": os.cpu_count(), "cpu": machine.cpu_model(), "load_average_after": load_average(),
            "background_load": bool(args.background_load),
            "threads": args.threads, "clock": "cpu" if args.cpu_time else "wall",
            "target": args.target, "machine": info, "rows": rows}
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(meta, f, indent=2)
    print(f"\nsaved {args.json}")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(MARKDOWN.format(date=meta["date"], torch=meta["torch"], numpy=meta["numpy"],
                                    machine=machine.summary(info),
                                    target_flag="" if args.target == "host"
                                    else f" --target {args.target}", rows="\n".join(
                f"| {r['name']} | {r['ours_ms']:.3f} | "
                f"{'-' if r['torch_ms'] is None else format(r['torch_ms'], '.3f')} | "
                f"{'-' if r['ratio'] is None else format(r['ratio'], '.2f') + 'x'} |"
                for r in rows)))
    return 0


def _run_groups(args, torch, rows) -> None:
    names = {name for name, _ in GROUPS}
    for name, make in GROUPS:
        # A word that names a group selects that group alone ("conv", not conv_variants).
        if args.only and not any(w == name if w in names else w in name for w in args.only):
            continue
        for wname, ours, theirs, number in make(torch):
            r = compare(ours, theirs, number=number, rounds=args.rounds)
            r["name"] = wname
            rows.append(r)
            print_table([r]) if len(rows) == 1 else print(
                f"{r['name']:58s} {r['ours_ms']:10.4f} "
                f"{'-' if r['torch_ms'] is None else format(r['torch_ms'], '10.4f'):>10s} "
                f"{'-' if r['ratio'] is None else format(r['ratio'], '.2f') + 'x':>7s}",
                flush=True)


if __name__ == "__main__":
    sys.exit(main())
