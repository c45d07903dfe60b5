"""`python -m models`: train, evaluate and sample the lecture's reference networks.

    python -m models list
    python -m models train lenet                 # LeNet-5 on MNIST into runs/lenet/1
    python -m models train lstm-lm --epochs 13
    python -m models eval runs/lenet/latest      # a run directory, or a checkpoint file
    python -m models sample runs/char-lstm/latest --prompt "ROMEO:"
    python -m models train lenet --resume runs/lenet/latest --epochs 15

Every run gets a new directory, runs/NAME/1, runs/NAME/2, ... (runs/NAME/latest points
to the newest); an --out that already holds a run is refused unless --overwrite is given.
A resumed run keeps the checkpoint's flags (and, without --out, its directory) unless
they are given again; --epochs then stretches the learning-rate schedule to the new
length and --lr sets a new base rate.
Exit codes: 0 done (or nothing to do), 1 training diverged, 2 a usage or data error,
130 interrupted (Ctrl-C saves interrupted.npz and skips the test evaluation).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import time
from types import SimpleNamespace
from typing import Callable, Optional

import tensorlite as tl

from . import registry


class CLIError(Exception):
    """A problem with the command line or its inputs: printed as one `error:` line, exit 2."""


def _number(typ: type, low: float, strict: bool, high: float = math.inf) -> Callable:
    """An argparse type: a finite ``typ`` in (low, high) or [low, high), so that a bad value
    is a usage error naming the flag instead of a traceback deep in training."""
    bound = f"> {low:g}" if strict else f">= {low:g}"
    what = f"{'an integer' if typ is int else 'a number'} {bound}" + (
        f" and < {high:g}" if high < math.inf else "")

    def parse(text: str):
        try:
            value = typ(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not math.isfinite(value) or not (value > low if strict else value >= low) \
                or not value < high:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text}")
        return value
    parse.__name__ = what           # argparse names the type in some messages
    return parse


positive_int = _number(int, 0, strict=True)
count = _number(int, 0, strict=False)
positive_float = _number(float, 0.0, strict=True)
nonnegative_float = _number(float, 0.0, strict=False)
fraction = _number(float, 0.0, strict=False, high=1.0)

TUNABLE = {  # flag -> argparse type or choices; a flag left unset takes the model's default
    "epochs": positive_int, "batch_size": positive_int, "lr": positive_float,
    "optimizer": registry.OPTIMIZERS, "weight_decay": nonnegative_float,
    "momentum": nonnegative_float, "schedule": registry.SCHEDULES, "clip": nonnegative_float,
    "bptt": positive_int, "hidden": count, "layers": positive_int, "dropout": fraction,
    "embed": positive_int, "context": positive_int, "cell": registry.CELLS,
    "min_freq": positive_int,
}
HELP = {  # what each tunable flag sets; the defaults differ per model (see `list`)
    "epochs": "passes over the training data", "batch_size": "samples per batch",
    "lr": "base learning rate", "optimizer": "optimizer", "weight_decay": "L2 penalty",
    "momentum": "SGD momentum", "schedule": "learning-rate schedule over the epochs",
    "clip": "clip the gradient norm to this (0: no clipping)",
    "bptt": "language models: time steps per truncated-backprop segment",
    "hidden": "hidden units (bag-of-embeddings: 0 for no hidden layer)",
    "layers": "recurrent layers", "dropout": "dropout probability",
    "embed": "embedding size", "context": "neural-lm: previous words seen (n-1)",
    "cell": "recurrent cell", "min_freq": "text classifiers: words seen fewer times in "
    "training read as <unk>",
}
# Flags a resumed run cannot change: they shape the model, its vocabulary or the state
# the checkpoint holds for the optimizer and the schedule.
FIXED_ON_RESUME = ("optimizer", "schedule", "hidden", "layers", "embed", "context", "cell",
                   "min_freq")
RUN_FLAGS = ("data", "seed", "augment", "limit")      # the other flags a checkpoint records


class Parser(argparse.ArgumentParser):
    """argparse, but a bad command line is one `error:` line (exit 2) naming the command's
    --help, not the 15-line usage block above it: the error is what the user needs to
    read, and the usage block pushes it out of sight."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="python -m models", description=__doc__,
               formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the models and their data")

    t = sub.add_parser("train", help="train a model")
    t.add_argument("name", help="model name (see `list`)")
    t.add_argument("--data", default=None, help="data path (see `list`; default per model)")
    t.add_argument("--seed", type=count, default=None, help="random seed (default 0)")
    t.add_argument("--out", default=None,
                   help="output directory (default: a new runs/NAME/N, or the --resume "
                   "checkpoint's); refused if it holds a run, unless --overwrite")
    t.add_argument("--overwrite", action="store_true",
                   help="let --out replace the run it holds (its checkpoints and metrics)")
    # default None, not False: a resumed run keeps its checkpoint's setting unless given.
    t.add_argument("--augment", action="store_true", default=None,
                   help="image models: random translation/rotation/scaling/crop")
    t.add_argument("--resume", default=None, metavar="CKPT",
                   help="continue from a checkpoint or a run directory, with its flags "
                   "unless given again")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    t.add_argument("--limit", type=positive_int, default=None,
                   help="use only the first N training examples/tokens (quick runs)")
    t.add_argument("--nproc", type=positive_int, default=None,
                   help="train data parallel on N processes of this machine (starts mpirun; "
                   "--batch-size is then per process). Under mpirun or srun the ranks come "
                   "from the launcher instead; see docs/distributed.md")
    for flag, kind in TUNABLE.items():
        typed = dict(choices=kind) if isinstance(kind, tuple) else dict(type=kind)
        t.add_argument("--" + flag.replace("_", "-"), dest=flag, default=None,
                       help=f"{HELP[flag]} (default: the model's, see `list`)", **typed)

    e = sub.add_parser("eval", help="evaluate a checkpoint on the test split")
    e.add_argument("ckpt", help="a checkpoint, or a run directory (its best.npz)")
    e.add_argument("--data", default=None,
                   help="the data (default: what the checkpoint was trained on)")
    e.add_argument("--split", default="test", choices=["train", "val", "test"])

    s = sub.add_parser("sample", help="generate text from a language-model checkpoint")
    s.add_argument("ckpt", help="a checkpoint, or a run directory (its best.npz)")
    s.add_argument("--prompt", default="")
    s.add_argument("--length", type=count, default=200)
    s.add_argument("--temperature", type=positive_float, default=0.8)
    s.add_argument("--seed", type=count, default=0)
    return p


def _resolve(args: argparse.Namespace, saved: Optional[dict] = None) -> SimpleNamespace:
    """The run's settings: the model's defaults, then a resumed checkpoint's (``saved``),
    then the flags given on this command line."""
    spec = registry.get(args.name)
    merged = dict(spec.defaults)
    keys = list(TUNABLE) + list(RUN_FLAGS)
    if saved:
        merged.update({k: v for k, v in saved.items() if k in keys and v is not None})
    for k in keys:
        v = getattr(args, k, None)
        if v is not None:
            merged[k] = v
    merged["name"] = spec.name
    for k in keys:
        merged.setdefault(k, None)
    if merged["seed"] is None:
        merged["seed"] = 0
    return SimpleNamespace(**merged)


def cmd_list() -> None:
    for spec in registry.SPECS.values():
        print(f"{spec.name:20s} {spec.summary}")
        ready = "ready" if registry.default_data_present(spec) else "not installed here"
        print(f"{'':20s} data ({ready}): {spec.data}")
        print(f"{'':20s} defaults: " + ", ".join(f"{k}={v}" for k, v in spec.defaults.items()))


# -- run directories ------------------------------------------------------------------
# What a run writes into its directory: --out refuses a directory holding any of these
# (a second `train` must never destroy the first), and --overwrite removes exactly these.
RUN_FILES = ("last.npz", "best.npz", "interrupted.npz", "metrics.json", "metrics.csv",
             "steps.csv", "test.json", "learning_curves.png")


def _run_files(directory: str) -> list:
    return [f for f in RUN_FILES if os.path.isfile(os.path.join(directory, f))]


def _follow(directory: str) -> str:
    """``directory`` with a `latest` link (ours are relative) replaced by its target, so
    that messages and resumed runs name runs/NAME/2, which stays right when a newer run
    moves `latest`."""
    if os.path.islink(directory):
        target = os.readlink(directory)
        directory = target if os.path.isabs(target) else os.path.join(
            os.path.dirname(directory), target)
    return os.path.normpath(directory)


def checkpoint_in(path: str, who: str, prefer: tuple) -> str:
    """The checkpoint a path names: a file as it is; in a run directory the first of
    ``prefer`` there (eval and sample take best.npz, --resume the newest state); a
    model's directory (runs/NAME) stands for its `latest` run."""
    if not os.path.isdir(path):
        return path
    run = _follow(path)
    if not _run_files(run) and os.path.isdir(os.path.join(run, "latest")):
        run = _follow(os.path.join(run, "latest"))
    for name in prefer:
        if os.path.isfile(os.path.join(run, name)):
            return os.path.join(run, name)
    raise CLIError(f"{who}{path} is a directory without a checkpoint ({' or '.join(prefer)}); "
                   "name a checkpoint file or a run directory such as runs/NAME/1")


def _check_out(out: str, overwrite: bool, continuing: bool) -> None:
    """Before any data loads: ``out`` can be made and written, and holds no other run
    unless --overwrite (``continuing``: a resumed run goes on in its own directory)."""
    if os.path.exists(out) and not os.path.isdir(out):
        raise CLIError(f"--out {out} is a file; --out names a directory")
    probe = out
    while not os.path.exists(probe):
        probe = os.path.dirname(probe) or "."
    if not os.path.isdir(probe):
        raise CLIError(f"--out {out} cannot be created: {probe} is a file, not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise CLIError(f"--out {out} cannot be written: no write permission in {probe}")
    held = _run_files(out) if os.path.isdir(out) else []
    if held and not (overwrite or continuing):
        raise CLIError(f"--out {out} already holds a run ({', '.join(held)}); name a new "
                       "directory, or pass --overwrite to replace that run")


def _new_run_dir(base: str) -> str:
    """base/N for the next free N (1, 2, ...), made here (mkdir is atomic: two runs started
    together get different numbers), with base/latest pointing to it."""
    os.makedirs(base, exist_ok=True)
    numbers = [int(n) for n in os.listdir(base) if n.isdigit()]
    n = max(numbers, default=0) + 1
    while True:
        try:
            os.mkdir(os.path.join(base, str(n)))
            break
        except FileExistsError:
            n += 1
    link, tmp = os.path.join(base, "latest"), os.path.join(base, f".latest-{os.getpid()}")
    try:
        if os.path.lexists(tmp):
            os.remove(tmp)
        os.symlink(str(n), tmp)
        os.replace(tmp, link)             # atomic: `latest` is never missing or half made
    except OSError:
        pass                              # no symlinks here: the numbered directory is enough
    return os.path.join(base, str(n))


def _resume_would_replace(ckpt: dict, path: str, out: str) -> Optional[int]:
    """The epoch of ``out``/last.npz when continuing ``path`` in ``out`` would write over
    later epochs of that run (e.g. --resume best.npz of epoch 3 beside last.npz of 10)."""
    last = os.path.join(out, "last.npz")
    if os.path.abspath(path) == os.path.abspath(last) or not os.path.isfile(last):
        return None
    try:
        later = int(tl.load(last)["epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return later if later > int(ckpt["epoch"]) else None


def cmd_train(args: argparse.Namespace) -> int:
    from .train import Trainer
    from tensorlite import distributed as dist
    if args.nproc and args.nproc > 1 and not dist.launched_by_mpi():
        return _launch_ranks(args)
    spec = registry.get(args.name)
    parallel = dist.launched_by_mpi()
    if parallel:
        _start_data_parallel()
    ckpt = resume = None
    if args.resume:
        # Checked before the data loads: a wrong file should fail in a second, not later.
        resume = checkpoint_in(args.resume, "--resume: ", ("interrupted.npz", "last.npz"))
        ckpt = read_checkpoint(resume, "--resume")
        _check_resumable(ckpt, args, spec.name, resume)
    cfg = _resolve(args, ckpt["config"] if ckpt else None)
    if ckpt is not None and int(ckpt["epoch"]) >= cfg.epochs:
        print(f"nothing to do: {resume} has trained {int(ckpt['epoch'])} epochs and "
              f"--epochs is {cfg.epochs}; pass a larger --epochs to train further")
        return 0
    # Where the run goes, checked before the data loads (minutes for some models): a
    # resumed run stays in its checkpoint's directory unless --out moves it; a new run
    # gets a new runs/NAME/N, made once the data is ready.
    out = args.out or (os.path.dirname(resume) or "." if ckpt is not None else None)
    continuing = ckpt is not None and out is not None and _same_dir(resume, out)
    if out is not None:
        _check_out(out, args.overwrite, continuing)
    if continuing and not args.overwrite:
        later = _resume_would_replace(ckpt, resume, out)
        if later is not None:
            raise CLIError(f"--resume: {resume} is epoch {int(ckpt['epoch'])} of the run in "
                           f"{out}, whose last.npz is at epoch {later}; continuing there would "
                           "replace the later epochs: pass --out for a new directory, or "
                           "--overwrite")
    if ckpt is not None:
        cfg.data = _data_for(ckpt, resume, args.data, "--resume: ")
    tl.manual_seed(cfg.seed)
    t0 = time.perf_counter()
    try:
        task = spec.make_task(cfg)
        if cfg.limit:
            task.limit(cfg.limit)
        if ckpt is not None:
            check_same_task(ckpt["task"], task.info(), f"--resume: the data at "
                            f"{_data_path(task, cfg)}", resume)
        if task.num_train_batches(cfg.batch_size) < 1:
            raise ValueError(f"the training split has no batch of --batch-size "
                             f"{cfg.batch_size} (check --data and --limit)")
        model = spec.make_model(cfg, task.info())
        optimizer = registry.make_optimizer(cfg, model.parameters())
        scheduler = registry.make_scheduler(cfg, optimizer)
    except ValueError as e:  # data that loads but cannot be used: say so, no traceback
        raise CLIError(str(e)) from None
    # Rank 0 alone makes the new run directory or clears the old run's files.
    if not parallel or dist.get_rank() == 0:
        if out is None:
            out = _new_run_dir(os.path.join("runs", spec.name))
        elif args.overwrite and not continuing:
            for name in _run_files(out):       # only the old run's files; others stay
                os.remove(os.path.join(out, name))
    ddp = None
    if parallel:
        # Rank 0 names the output directory: the others must agree with it.
        shared = [out]
        dist.broadcast_object_list(shared, src=0)
        out = shared[0]
        from nn.parallel import DistributedDataParallel
        ddp = DistributedDataParallel(model)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{spec.name}: {n_params:,} parameters; data ready in {time.perf_counter() - t0:.1f}s;"
          f" writing to {out}/")
    if parallel:
        world = dist.get_world_size()
        print(f"data parallel: {world} processes x --batch-size {cfg.batch_size} = global batch "
              f"{world * cfg.batch_size} (--batch-size is per process)")
    trainer = Trainer(model, task, optimizer, scheduler, epochs=cfg.epochs,
                      batch_size=cfg.batch_size, out_dir=out, clip_grad=cfg.clip,
                      config=vars(cfg), progress=not args.no_progress, parallel=ddp)
    carried = None
    if ckpt is not None:
        fresh = [dict(g) for g in optimizer.param_groups]
        try:
            trainer.resume(ckpt, lr=args.lr, name=resume)
        except (KeyError, RuntimeError, ValueError) as e:
            raise CLIError(f"--resume: {resume} does not fit the model these flags "
                           f"build ({_one_line(e)})") from None
        # The optimizer state restored the checkpoint's hyper-parameters; flags given
        # again win, as --lr does.
        for flag in ("weight_decay", "momentum"):
            if getattr(args, flag) is not None:
                for group, new in zip(optimizer.param_groups, fresh):
                    if flag in group:
                        group[flag] = new[flag]
        carried = _carry_best(ckpt, resume, out, f"val_{task.metric}")
    try:
        history = trainer.fit()
    except FloatingPointError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if trainer.interrupted:
        print("stopped without the test evaluation", file=sys.stderr)
        return 130
    best = os.path.join(out, "best.npz")
    resumed_here = ckpt is not None and _same_dir(resume, out)
    if not (trainer.saved_best or carried or (resumed_here and os.path.exists(best))):
        # No best.npz of this run: after a resume into a new directory in which no
        # epoch beat the checkpoint's best, whose weights were not found next to it.
        best = os.path.join(out, "last.npz")
        if ckpt is not None and ckpt.get("best") is not None:
            print(f"note: no epoch after the resume beat {resume}'s best "
                  f"val {task.metric} ({ckpt['best']:.4g}), and no best.npz with those "
                  f"weights was found next to it; the test figures are of {best}")
        else:
            print(f"note: no epoch set a best val {task.metric}; the test figures are of "
                  f"{best}")
    if parallel and dist.get_rank() != 0:
        return 0                                # the test evaluation is rank 0's alone
    if history and os.path.exists(best):
        result = evaluate_checkpoint(best, "test")
        print(format_result("test", result))
        from .train import _atomic
        with _atomic(os.path.join(out, "test.json")) as f:
            json.dump(result, f, indent=2)
    return 0


def _data_path(task, cfg) -> str:
    """The data a task was built from, for messages."""
    record = getattr(task, "data_record", None) or {}
    return record.get("path") or cfg.data or "the default path"


def _data_for(ckpt: dict, path: str, given: Optional[str], who: str) -> Optional[str]:
    """The --data that rebuilds a checkpoint's task: the flag when given; else the data
    it was trained on, found by the absolute path its record holds (so that a relative
    --data of the training shell still works from another directory), then as it was
    typed; None for the model's default data. CLIError naming the path when it is gone."""
    if given is not None:
        return given
    typed = ckpt["config"].get("data")
    if typed is None:
        return None
    recorded = (ckpt.get("data") or {}).get("path")
    from . import datasets
    for candidate in (recorded, typed):
        if candidate and os.path.exists(datasets.locate(candidate, "sst2")):
            return candidate
    sha = (ckpt.get("data") or {}).get("sha256")
    raise CLIError(f"{who}{path} was trained on {recorded or typed}, which is not there; "
                   f"pass --data with that data" + (f" (sha256 {sha[:16]}...)" if sha else ""))


def _compare_data(ckpt: dict, task, path: str) -> None:
    """A note on stderr when the data found differs from the data the checkpoint recorded:
    figures of other data are not the run's figures."""
    then = (ckpt.get("data") or {}).get("sha256")
    now = (getattr(task, "data_record", None) or {}).get("sha256")
    if then and now and then != now:
        print(f"note: the data at {task.data_record['path']} (sha256 {now[:12]}) differs "
              f"from the data {path} was trained on ({ckpt['data']['path']}, sha256 "
              f"{then[:12]})", file=sys.stderr)
# -- data parallel (issue 15) -----------------------------------------------------------------
def _launch_ranks(args: argparse.Namespace) -> int:
    """``--nproc N``: run this same command as N MPI ranks (each rank then sees the launcher's
    environment and trains data parallel). Threads are split between the ranks."""
    from tensorlite.distributed import launch
    raw = list(args.raw_argv)
    for k, a in enumerate(raw):
        if a == "--nproc":
            del raw[k:k + 2]
            break
        if a.startswith("--nproc="):
            del raw[k]
            break
    env = dict(os.environ)
    threads = str(max(1, (os.cpu_count() or 1) // args.nproc))
    for var in ("NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        env.setdefault(var, threads)
    try:
        return launch.run(args.nproc, ["models"] + raw, module=True, env=env).returncode
    except RuntimeError as e:                   # no mpirun
        raise CLIError(f"--nproc: {e}") from None


def _start_data_parallel() -> None:
    """Join the job, split the cores between this machine's ranks unless the thread count
    was set, and keep the screen for rank 0 (the others' errors still reach stderr)."""
    from tensorlite import distributed as dist
    try:
        dist.init_process_group("mpi")
    except RuntimeError as e:                   # mpi4py missing
        raise CLIError(str(e)) from None
    local = dist.process_group._local_size()
    if "NUMBA_NUM_THREADS" not in os.environ and local > 1:
        import numba
        numba.set_num_threads(max(1, min(numba.get_num_threads(), (os.cpu_count() or 1) // local)))
        from threadpoolctl import threadpool_limits
        threadpool_limits(numba.get_num_threads())
    if dist.get_rank() != 0:
        sys.stdout = open(os.devnull, "w")


def _one_line(error: Exception, limit: int = 300) -> str:
    """An exception's message on one line: load_state_dict puts its header on the first
    line and the names of the missing or mismatched weights on the next ones."""
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _same_dir(path: str, out: str) -> bool:
    return os.path.dirname(os.path.abspath(path)) == os.path.abspath(out)


def _check_resumable(ckpt: dict, args: argparse.Namespace, name: str, path: str) -> None:
    """The checkpoint at ``path`` is of model ``name`` and no flag that shapes the model or
    the optimizer/schedule state is given with another value than it was trained with."""
    saved = ckpt["config"]
    if saved.get("name") != name:
        raise CLIError(f"--resume: {path} is a checkpoint of {saved.get('name')}, not "
                       f"{name}; resume it with `python -m models train {saved.get('name')} "
                       f"--resume {path}`")
    differ = [f"--{k.replace('_', '-')} {getattr(args, k)} (it has {saved.get(k)})"
              for k in FIXED_ON_RESUME
              if getattr(args, k, None) is not None and saved.get(k) is not None
              and getattr(args, k) != saved[k]]
    if differ:
        raise CLIError(f"--resume: {path} was trained with other settings that a "
                       f"resumed run cannot change: {', '.join(differ)}; leave these flags "
                       "out (the checkpoint's are used) or start a new run")


def _carry_best(ckpt: dict, path: str, out: str, key: str) -> Optional[str]:
    """Start a new output directory's best.npz from the best model so far, so that the
    test evaluation at the end finds it even when no later epoch beats it: the resumed
    checkpoint itself when its epoch is the best one, else a best.npz next to it that
    holds the checkpoint's best score. Returns the file copied (None: none found)."""
    if _same_dir(path, out) or ckpt.get("best") is None:
        return None
    epoch = int(ckpt["epoch"])
    own = next((r.get(key) for r in ckpt.get("history") or [] if r.get("epoch") == epoch),
               None)
    candidates = [path] if own == ckpt["best"] and not ckpt.get("interrupted") else []
    beside = os.path.join(os.path.dirname(os.path.abspath(path)), "best.npz")
    if os.path.exists(beside) and os.path.abspath(path) != beside:
        try:
            other = tl.load(beside)
            if other.get("best") == ckpt["best"] and int(other["epoch"]) <= epoch:
                candidates.append(beside)
        except (OSError, ValueError, KeyError, TypeError):
            pass                              # not a usable checkpoint: not a candidate
    if not candidates:
        return None
    os.makedirs(out, exist_ok=True)
    shutil.copyfile(candidates[0], os.path.join(out, "best.npz"))
    return candidates[0]


def read_checkpoint(path: str, who: str = "") -> dict:
    """A checkpoint written by `python -m models train`, or CLIError saying why not."""
    prefix = f"{who}: " if who else ""
    if not os.path.exists(path):
        raise CLIError(f"{prefix}no checkpoint at {path}")
    try:
        ckpt = tl.load(path)
    except (ValueError, OSError, KeyError, EOFError) as e:
        raise CLIError(f"{prefix}{path} is not a tensorlite checkpoint "
                       f"({_load_reason(e, path)})") from None
    if not isinstance(ckpt, dict) or not {"config", "model", "task", "epoch"} <= set(ckpt) \
            or not isinstance(ckpt["config"], dict) or "name" not in ckpt["config"]:
        raise CLIError(f"{prefix}{path} is not a checkpoint of `python -m models train` (it has "
                       "no config/model/task/epoch entries)")
    return ckpt


def _load_reason(error: Exception, path: str) -> str:
    """What tl.load found wrong, without its own "load: PATH is not a readable tensorlite
    file" preamble, which would repeat the line's start."""
    text = _one_line(error)
    for lead in (f"load: {path}: ", f"load: {path} ", f"load: {path!r} ", "load: "):
        if text.startswith(lead):
            text = text[len(lead):]
            break
    for lead in ("is not a readable tensorlite file ", "not a readable tensorlite file ",
                 "is "):
        if text.startswith(lead):
            text = text[len(lead):]
            break
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    return text


# Task entries that must agree between a checkpoint and the data it meets: they fix the
# meaning of the model's inputs and outputs (word ids, class ids) or its shapes.
TASK_KEYS = ("vocab", "classes", "num_classes", "image_shape", "context")


def check_same_task(saved: dict, info: dict, what: str, path: str) -> None:
    """CLIError unless ``info`` (the task built now) matches the checkpoint's task
    ``saved`` on :data:`TASK_KEYS`. The task rebuilds its vocabulary from the data; other
    data could give other word ids, which would silently scramble the model's inputs
    (even when the vocabulary size happens to match)."""
    for key in TASK_KEYS:
        if key not in saved:
            continue
        old, new = saved[key], info.get(key)
        if isinstance(old, (list, tuple)) and isinstance(new, (list, tuple)):
            same = list(old) == list(new)
            sizes = f" ({len(new)} entries; the checkpoint's has {len(old)})"
        else:
            same, sizes = old == new, f" ({new}; the checkpoint's is {old})"
        if not same:
            noun = {"vocab": "vocabulary", "classes": "set of classes",
                    "num_classes": "number of classes", "image_shape": "image shape"}.get(key, key)
            raise CLIError(f"{what} gives a different {noun} from the one {path} was trained "
                           f"with{sizes}")


def load_checkpoint(path: str, data: str = None):
    """(checkpoint, its config with the data to use, spec, model with its weights) of a
    checkpoint file or a run directory (its best.npz, else last.npz)."""
    path = checkpoint_in(path, "", ("best.npz", "last.npz"))
    ckpt = read_checkpoint(path)
    cfg = SimpleNamespace(**ckpt["config"])
    cfg.checkpoint = path
    spec = registry.get(cfg.name)
    try:
        model = spec.make_model(cfg, ckpt["task"])
        model.load_state_dict(ckpt["model"])
    except (AttributeError, KeyError, RuntimeError, TypeError, ValueError) as e:
        # A checkpoint whose config, task or weights were edited or damaged.
        raise CLIError(f"{path}: its weights do not fit the {cfg.name} model its config "
                       f"describes ({_one_line(e)})") from None
    model.eval()
    return ckpt, cfg, spec, model


def evaluate_checkpoint(path: str, split: str = "test", data: str = None) -> dict:
    """A checkpoint's (or run directory's) figures on ``split`` of ``data`` (default: the
    data it was trained on, found by its record)."""
    ckpt, cfg, spec, model = load_checkpoint(path, data)
    path = cfg.checkpoint
    cfg.data = _data_for(ckpt, path, data, "eval: ")
    cfg.limit = None
    try:
        task = spec.make_task(cfg)
    except ValueError as e:     # data that loads but cannot be used, as in `train`
        raise CLIError(str(e)) from None
    check_same_task(ckpt["task"], task.info(),
                    f"eval: the data at {_data_path(task, cfg)}", path)
    _compare_data(ckpt, task, path)
    with tl.no_grad():
        return task.evaluate(model, split, 256)


def format_result(split: str, result: dict) -> str:
    """One line of a split's figures: ``test: loss 0.0284, accuracy 0.9912, error 0.88%``
    (the error rate is what the papers report for classifiers, so it is spelled out)."""
    line = f"{split}: " + ", ".join(f"{k} {v:.4f}" for k, v in result.items())
    if "accuracy" in result:
        line += f", error {100 * (1 - result['accuracy']):.2f}%"
    return line


def cmd_eval(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    result = evaluate_checkpoint(args.ckpt, args.split, args.data)
    print(format_result(args.split, result) + f" ({time.perf_counter() - t0:.1f}s)")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    ckpt, cfg, spec, model = load_checkpoint(args.ckpt)
    info = ckpt["task"]
    if "bptt" not in info and "context" not in info:
        raise CLIError(f"sample: {cfg.name} is not a language model")
    from .sampling import prompt_ids, sample_text
    tl.manual_seed(args.seed)
    try:
        unknown = prompt_ids(info, args.prompt)[1]
        if unknown:
            print(f"warning: the prompt's words {unknown} are not in the model's vocabulary "
                  "and are read as <unk>", file=sys.stderr)
        print(sample_text(model, info, args.prompt, args.length, args.temperature))
    except ValueError as e:
        raise CLIError(str(e)) from None
    return 0


def main(argv=None) -> int:
    rc = _main(argv)
    from tensorlite import distributed as dist
    if rc != 0 and dist.is_initialized() and dist.get_world_size() > 1:
        # An error on one rank: end every rank now (the others may be waiting for it in a
        # collective) instead of leaving the job hanging.
        sys.stdout.flush()
        sys.stderr.flush()
        from mpi4py import MPI
        MPI.COMM_WORLD.Abort(rc)
    return rc


def _main(argv=None) -> int:
    parser = build_parser()
    if not (sys.argv[1:] if argv is None else argv):
        parser.print_help(sys.stderr)       # no command at all: show what there is
        return 2
    args = parser.parse_args(argv)
    args.raw_argv = list(sys.argv[1:] if argv is None else argv)
    if args.command == "list":
        cmd_list()
        return 0
    try:
        return {"train": cmd_train, "eval": cmd_eval, "sample": cmd_sample}[args.command](args)
    # OSError: missing data, unusable directories; UnknownModel: a name `list` lacks.
    except (CLIError, registry.UnknownModel, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:           # during data loading (training handles its own)
        print("\ninterrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
