"""Data-parallel figures: ``python -m benchmarks.distributed`` (needs mpi4py and mpirun).

0. how early in a LeNet-5 backward the first gradient is ready for sending;
1. all-reduce of 60k, 1M and 10M float32 values on 2 ranks: time and bus bandwidth,
   tensorlite (MPI) side by side with torch.distributed (gloo) in the same job, rounds
   interleaved, medians;
2. how much of the gradient all-reduce DistributedDataParallel's bucketed overlap hides
   in a real training step (the LSTM LM of `models`, the ResNet of `models`), polling
   and progress-thread modes: hidden = (step without overlap - step with overlap) /
   all-reduce time alone;
3. training samples/s of LeNet-5 and the LSTM LM: 1 process x 2 threads against 2
   processes x 1 thread, the same global batch.

On one 2-core machine these are figures of overhead and correctness, not of speed-up
(both ranks share the cores that one process would use). docs/distributed.md reads them.
Options: --quick (fewer repeats), --json PATH (write the figures).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

SIZES = [60_000, 1_000_000, 10_000_000]


def _threads_env(n: int) -> dict:
    env = dict(os.environ)
    for var in ("NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        env[var] = str(n)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _last_json(text: str) -> dict:
    for line in reversed(text.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError("the worker printed no result:\n" + text)


# -- workers (run under mpirun) -----------------------------------------------------------
def worker_collectives(quick: bool) -> None:
    import numpy as np
    import torch
    import torch.distributed as tdist

    import tensorlite as tl
    import tensorlite.distributed as dist
    from tensorlite.distributed import collectives as coll
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.set_num_threads(1)
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29533")
    tdist.init_process_group("gloo", rank=rank, world_size=world)
    g = dist.process_group._group
    rows = []
    for n in SIZES:
        a = tl.tensor(np.random.default_rng(rank).standard_normal(n).astype(np.float32))
        t = torch.from_numpy(a.numpy().copy())
        reps = max(2, int(3e7 // (n * 10))) if not quick else 2
        fns = {"tensorlite": lambda: dist.all_reduce(a),
               "tensorlite_unchecked": lambda: coll._all_reduce_array(g, a._data, dist.ReduceOp.SUM, False),
               "torch_gloo": lambda: tdist.all_reduce(t)}
        times = {k: [] for k in fns}
        for fn in fns.values():
            fn()
        for _ in range(3 if quick else 7):
            for k, fn in fns.items():
                dist.barrier()
                t0 = time.perf_counter()
                for _ in range(reps):
                    fn()
                dt = (time.perf_counter() - t0) / reps
                # The slowest rank's time is the collective's time.
                dt = float(g.comm.allreduce(dt, op=g.MPI.MAX))
                times[k].append(dt)
        row = {"n": n, "bytes": 4 * n}
        for k, v in times.items():
            med = statistics.median(v)
            row[f"{k}_ms"] = med * 1e3
            # Bus bandwidth (the nccl-tests convention): what each link carries in a ring.
            row[f"{k}_busbw_GBs"] = 4 * n / med * 2 * (world - 1) / world / 1e9
        rows.append(row)
    tdist.destroy_process_group()
    if rank == 0:
        print(json.dumps({"allreduce": rows, "world": world}), flush=True)


def _lm_setup(batch: int):
    import numpy as np

    import nn.functional as F
    import tensorlite as tl
    from models.language import RNNLM
    vocab, bptt = 10_000, 20
    model = RNNLM(vocab, 200, 200, 2, "lstm", 0.0)
    rng = np.random.default_rng(0)
    x = tl.tensor(rng.integers(0, vocab, (bptt, batch)))
    y = tl.tensor(rng.integers(0, vocab, (bptt, batch)))

    def loss_fn(m):
        logits, _ = m(x)
        return F.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1))
    return model, loss_fn, bptt * batch


def _resnet_setup(batch: int):
    import numpy as np

    import nn.functional as F
    import tensorlite as tl
    from models.resnet import ResNet
    model = ResNet("basic", (1, 1, 1), (32, 64, 128), 10, stem_width=16, first_stride=2)
    rng = np.random.default_rng(0)
    x = tl.tensor(rng.standard_normal((batch, 1, 28, 28)).astype(np.float32))
    y = tl.tensor(rng.integers(0, 10, batch))
    return model, (lambda m: F.cross_entropy(m(x), y)), batch


def _lenet_setup(batch: int):
    import numpy as np

    import nn.functional as F
    import tensorlite as tl
    from models.lenet import LeNet5
    model = LeNet5()
    rng = np.random.default_rng(0)
    x = tl.tensor(rng.standard_normal((batch, 1, 28, 28)).astype(np.float32))
    y = tl.tensor(rng.integers(0, 10, batch))
    return model, (lambda m: F.cross_entropy(m(x), y)), batch


SETUPS = {"lstm-lm": _lm_setup, "resnet": _resnet_setup, "lenet": _lenet_setup}


def worker_overlap(quick: bool) -> None:
    import copy

    import nn.parallel as parallel_mod
    import tensorlite as tl
    import tensorlite.distributed as dist
    from nn.parallel import DistributedDataParallel as DDP
    from tensorlite.distributed import collectives as coll
    dist.init_process_group("mpi")
    g = dist.process_group._group
    out = {}
    for name, batch in (("lstm-lm", 10), ("resnet", 32)):
        tl.manual_seed(0)
        model, loss_fn, _ = SETUPS[name](batch)
        plain = copy.deepcopy(model)
        overlapped = DDP(copy.deepcopy(model))                       # 1 MB, then 25 MB buckets
        # One bucket (no small first one): its all-reduce starts after the whole backward.
        first, parallel_mod._FIRST_BUCKET_BYTES = parallel_mod._FIRST_BUCKET_BYTES, 1 << 62
        one_bucket = DDP(copy.deepcopy(model), bucket_cap_mb=1 << 20)
        parallel_mod._FIRST_BUCKET_BYTES = first
        assert len(one_bucket._buckets) == 1
        threaded = DDP(copy.deepcopy(model))
        object.__setattr__(threaded, "_progress", "thread")
        flats = [b.flat for b in overlapped._buckets]

        def comm_alone():
            for f in flats:
                coll._all_reduce_array(g, f, dist.ReduceOp.SUM, False)

        def step(m):
            def run():
                m.zero_grad()
                loss_fn(m).backward()
            return run
        variants = {"compute": step(plain), "allreduce_alone": comm_alone,
                    "no_overlap": step(one_bucket), "overlap_poll": step(overlapped),
                    "overlap_thread": step(threaded)}
        times = {k: [] for k in variants}
        for fn in variants.values():
            fn()
        reps = 2 if quick else 5
        for _ in range(3 if quick else 7):
            for k, fn in variants.items():
                dist.barrier()
                t0 = time.perf_counter()
                for _ in range(reps):
                    fn()
                dt = (time.perf_counter() - t0) / reps
                times[k].append(float(g.comm.allreduce(dt, op=g.MPI.MAX)))
        med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
        params = sum(p.numel() for p in model.parameters())
        row = {"params": params, "grad_MB": 4 * params / 2 ** 20,
               "buckets": len(overlapped._buckets), "batch_per_rank": batch}
        row.update({f"{k}_ms": v for k, v in med.items()})
        for mode in ("poll", "thread"):
            row[f"hidden_{mode}"] = (med["no_overlap"] - med[f"overlap_{mode}"]) / med["allreduce_alone"]
        out[name] = row
    if dist.get_rank() == 0:
        print(json.dumps({"overlap": out}), flush=True)


def worker_throughput(model_name: str, global_batch: int, steps: int) -> None:
    import tensorlite as tl
    from tensorlite import distributed as dist
    parallel = dist.launched_by_mpi()
    world = 1
    if parallel:
        dist.init_process_group("mpi")
        world = dist.get_world_size()
    tl.manual_seed(0)
    model, loss_fn, samples = SETUPS[model_name](global_batch // world)
    fwd = model
    if parallel:
        from nn.parallel import DistributedDataParallel as DDP
        fwd = DDP(model)
    opt = tl.optim.SGD(model.parameters(), lr=0.01)

    def step():
        opt.zero_grad()
        loss_fn(fwd).backward()
        opt.step()
    for _ in range(3):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    dt = time.perf_counter() - t0
    if parallel:
        g = dist.process_group._group
        dt = float(g.comm.allreduce(dt, op=g.MPI.MAX))
    if not parallel or dist.get_rank() == 0:
        print(json.dumps({"samples_per_s": samples * world * steps / dt}), flush=True)


def first_hook(repeats: int = 30) -> dict:
    """When the first post-accumulate-grad hook fires in a LeNet-5 backward (batch 64): how
    early DDP can start sending (before the engine change it was the end of backward)."""
    import nn.functional as F
    import tensorlite as tl
    from models.lenet import LeNet5
    tl.manual_seed(0)
    model = LeNet5()
    x, y = tl.randn(64, 1, 28, 28), tl.randint(0, 10, (64,))
    state: dict = {}

    def hook(p):
        state.setdefault("t", time.perf_counter())
    for p in model.parameters():
        p.register_post_accumulate_grad_hook(hook)
    first, total = [], []
    for i in range(repeats):
        model.zero_grad()
        loss = F.cross_entropy(model(x), y)
        state.clear()
        t0 = time.perf_counter()
        loss.backward()
        if i >= 5:
            first.append(state["t"] - t0)
            total.append(time.perf_counter() - t0)
    return {"first_hook_ms": statistics.median(first) * 1e3,
            "backward_ms": statistics.median(total) * 1e3}


# -- the driver ------------------------------------------------------------------------------
def _mpi(nproc: int, args: list, threads: int, timeout: float) -> str:
    from tensorlite.distributed import launch
    res = launch.run(nproc, ["benchmarks.distributed"] + args, module=True, timeout=timeout,
                     env=_threads_env(threads), capture=True)
    if res.returncode != 0:
        raise RuntimeError(f"the {nproc}-rank job failed:\n{res.stdout}")
    return res.stdout


def _single(args: list, threads: int, timeout: float) -> str:
    res = subprocess.run([sys.executable, "-m", "benchmarks.distributed"] + args,
                         env=_threads_env(threads), capture_output=True, text=True,
                         timeout=timeout)
    if res.returncode != 0:
        raise RuntimeError(f"the single-process run failed:\n{res.stdout}{res.stderr}")
    return res.stdout


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.distributed")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json", default=None)
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    p.add_argument("--model", default=None, help=argparse.SUPPRESS)
    p.add_argument("--global-batch", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--steps", type=int, default=20, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker == "collectives":
        worker_collectives(a.quick)
        return 0
    if a.worker == "overlap":
        worker_overlap(a.quick)
        return 0
    if a.worker == "throughput":
        worker_throughput(a.model, a.global_batch, a.steps)
        return 0
    quick = ["--quick"] if a.quick else []
    from benchmarks import machine
    result = {"cpu": machine.cpu_model(), "cores": os.cpu_count(), "load_before": os.getloadavg()[0],
              "note": "shared machine (other jobs running): medians of interleaved rounds"}
    print(f"CPU: {result['cpu']} ({result['cores']} cores), load average "
          f"{result['load_before']:.1f} at the start: the machine is shared, figures are noisy")

    result["lenet_backward"] = first_hook()
    print(f"LeNet-5 backward (batch 64): the first gradient is stored and its post-accumulate "
          f"hook runs {result['lenet_backward']['first_hook_ms']:.2f} ms into a "
          f"{result['lenet_backward']['backward_ms']:.2f} ms backward")

    result.update(_last_json(_mpi(2, ["--worker", "collectives"] + quick, 1, 1800)))
    print("\nall-reduce on 2 ranks (float32; ms per call, bus bandwidth GB/s)")
    print(f"{'values':>12s} {'tensorlite':>12s} {'(no check)':>12s} {'torch gloo':>12s}"
          f" {'tl busbw':>9s} {'gloo busbw':>10s}")
    for r in result["allreduce"]:
        print(f"{r['n']:>12,d} {r['tensorlite_ms']:12.3f} {r['tensorlite_unchecked_ms']:12.3f} "
              f"{r['torch_gloo_ms']:12.3f} {r['tensorlite_busbw_GBs']:9.2f} "
              f"{r['torch_gloo_busbw_GBs']:10.2f}")

    result.update(_last_json(_mpi(2, ["--worker", "overlap"] + quick, 1, 3600)))
    print("\nDDP overlap on 2 ranks x 1 thread (ms per forward+backward, medians)")
    for name, r in result["overlap"].items():
        print(f"{name}: {r['params']:,} params ({r['grad_MB']:.1f} MB of gradients, "
              f"{r['buckets']} buckets), batch {r['batch_per_rank']} per rank")
        print(f"  compute alone {r['compute_ms']:.1f} | all-reduce alone "
              f"{r['allreduce_alone_ms']:.1f} | one bucket after backward "
              f"{r['no_overlap_ms']:.1f} | buckets, polling {r['overlap_poll_ms']:.1f} | "
              f"buckets, progress thread {r['overlap_thread_ms']:.1f}")
        print(f"  share of the all-reduce hidden: polling {100 * r['hidden_poll']:.0f}%, "
              f"thread {100 * r['hidden_thread']:.0f}%")

    print("\ntraining samples/s, same global batch: 1 process x 2 threads vs 2 processes x 1 thread")
    result["throughput"] = {}
    for model, batch in (("lenet", 64), ("lstm-lm", 20)):
        args = ["--worker", "throughput", "--model", model, "--global-batch", str(batch),
                "--steps", "10" if a.quick else "30"]
        one, two = [], []
        for _ in range(1 if a.quick else 3):       # alternated: the load changes over time
            one.append(_last_json(_single(args, 2, 1800))["samples_per_s"])
            two.append(_last_json(_mpi(2, args, 1, 1800))["samples_per_s"])
        row = {"global_batch": batch, "one_process_2_threads": statistics.median(one),
               "two_processes_1_thread": statistics.median(two)}
        result["throughput"][model] = row
        unit = "tokens" if model == "lstm-lm" else "images"
        print(f"{model:8s} (global batch {batch}): {row['one_process_2_threads']:10,.0f} vs "
              f"{row['two_processes_1_thread']:10,.0f} {unit}/s "
              f"({row['two_processes_1_thread'] / row['one_process_2_threads']:.2f}x)")
    result["load_after"] = os.getloadavg()[0]
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
