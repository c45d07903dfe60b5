"""`python -m models`: train, evaluate and sample the lecture's reference networks.

    python -m models list
    python -m models train lenet                 # LeNet-5 on MNIST, sensible defaults
    python -m models train lstm-lm --epochs 13
    python -m models eval runs/lenet/best.npz
    python -m models sample runs/char-lstm/best.npz --prompt "ROMEO:"
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from types import SimpleNamespace

import numpy as np

import tensorlite as tl

from . import registry

TUNABLE = {  # flag -> type; a flag left unset takes the model's default
    "epochs": int, "batch_size": int, "lr": float, "optimizer": str, "weight_decay": float,
    "momentum": float, "schedule": str, "clip": float, "bptt": int, "hidden": int,
    "layers": int, "dropout": float, "embed": int, "context": int, "cell": str,
    "min_freq": int,
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m models", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the models and their data")

    t = sub.add_parser("train", help="train a model")
    t.add_argument("name", help="model name (see `list`)")
    t.add_argument("--data", default=None, help="data path (see `list`; default per model)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--out", default=None, help="output directory (default runs/NAME)")
    t.add_argument("--augment", action="store_true",
                   help="image models: random translation/rotation/scaling/crop")
    t.add_argument("--resume", default=None, metavar="CKPT", help="continue from a checkpoint")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    t.add_argument("--limit", type=int, default=None,
                   help="use only the first N training examples/tokens (quick runs)")
    for flag, typ in TUNABLE.items():
        t.add_argument("--" + flag.replace("_", "-"), dest=flag, type=typ, default=None)

    e = sub.add_parser("eval", help="evaluate a checkpoint on the test split")
    e.add_argument("ckpt")
    e.add_argument("--data", default=None)
    e.add_argument("--split", default="test", choices=["train", "val", "test"])

    s = sub.add_parser("sample", help="generate text from a language-model checkpoint")
    s.add_argument("ckpt")
    s.add_argument("--prompt", default="")
    s.add_argument("--length", type=int, default=200)
    s.add_argument("--temperature", type=float, default=0.8)
    s.add_argument("--seed", type=int, default=0)
    return p


def _resolve(args: argparse.Namespace) -> SimpleNamespace:
    spec = registry.get(args.name)
    merged = dict(spec.defaults)
    for k in TUNABLE:
        v = getattr(args, k, None)
        if v is not None:
            merged[k] = v
    for k in ("data", "seed", "augment", "limit"):
        merged[k] = getattr(args, k, None)
    merged["name"] = spec.name
    for k in TUNABLE:
        merged.setdefault(k, None)
    return SimpleNamespace(**merged)


def cmd_list() -> None:
    for spec in registry.SPECS.values():
        print(f"{spec.name:20s} {spec.summary}")
        print(f"{'':20s} data: {spec.data}")
        print(f"{'':20s} defaults: " + ", ".join(f"{k}={v}" for k, v in spec.defaults.items()))


def cmd_train(args: argparse.Namespace) -> int:
    from .train import Trainer
    cfg = _resolve(args)
    tl.manual_seed(cfg.seed)
    spec = registry.get(cfg.name)
    t0 = time.perf_counter()
    try:
        task = spec.make_task(cfg)
    except ValueError as e:  # data that loads but cannot be used: say so, no traceback
        print(f"error: {e}", file=sys.stderr)
        return 2
    if cfg.limit:
        task.limit(cfg.limit)
    model = spec.make_model(cfg, task.info())
    optimizer = registry.make_optimizer(cfg, model.parameters())
    scheduler = registry.make_scheduler(cfg, optimizer)
    out = args.out or os.path.join("runs", spec.name)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{spec.name}: {n_params:,} parameters; data ready in {time.perf_counter() - t0:.1f}s;"
          f" writing to {out}/")
    trainer = Trainer(model, task, optimizer, scheduler, epochs=cfg.epochs,
                      batch_size=cfg.batch_size, out_dir=out, clip_grad=cfg.clip,
                      config=vars(cfg), progress=not args.no_progress)
    if args.resume:
        trainer.resume(args.resume)
    history = trainer.fit()
    best = os.path.join(out, "best.npz")
    if history and os.path.exists(best):
        result = evaluate_checkpoint(best, "test")
        print("test: " + ", ".join(f"{k} {v:.4f}" for k, v in result.items()))
        with open(os.path.join(out, "test.json"), "w") as f:
            json.dump(result, f, indent=2)
    return 0


def load_checkpoint(path: str, data: str = None):
    if not os.path.exists(path):
        raise SystemExit(f"no checkpoint at {path}")
    try:
        ckpt = tl.load(path)
    except (ValueError, OSError) as e:
        raise SystemExit(f"{path} is not a tensorlite checkpoint: {e}")
    if not isinstance(ckpt, dict) or not {"config", "model", "task"} <= set(ckpt):
        raise SystemExit(f"{path} is not a checkpoint of `python -m models train` (it has no "
                         "config/model/task entries)")
    cfg = SimpleNamespace(**ckpt["config"])
    if data is not None:
        cfg.data = data
    spec = registry.get(cfg.name)
    model = spec.make_model(cfg, ckpt["task"])
    model.load_state_dict(ckpt["model"])
    model.eval()
    return ckpt, cfg, spec, model


def evaluate_checkpoint(path: str, split: str = "test", data: str = None) -> dict:
    ckpt, cfg, spec, model = load_checkpoint(path, data)
    cfg.limit = None
    task = spec.make_task(cfg)
    # The task rebuilds its vocabulary from the data; other data (--data) could give other
    # word ids, which would silently scramble the model's inputs.
    info = task.info()
    for key in ("vocab", "classes"):
        if key in ckpt["task"] and list(info.get(key, [])) != list(ckpt["task"][key]):
            raise SystemExit(f"eval: the data at {cfg.data or 'the default path'} gives a "
                             f"different {key} from the one {path} was trained with")
    with tl.no_grad():
        return task.evaluate(model, split, 256)


def cmd_eval(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    result = evaluate_checkpoint(args.ckpt, args.split, args.data)
    print(f"{args.split}: " + ", ".join(f"{k} {v:.4f}" for k, v in result.items()) +
          f" ({time.perf_counter() - t0:.1f}s)")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    ckpt, cfg, spec, model = load_checkpoint(args.ckpt)
    info = ckpt["task"]
    if "bptt" not in info and "context" not in info:
        raise SystemExit(f"sample: {cfg.name} is not a language model")
    from .sampling import sample_text
    tl.manual_seed(args.seed)
    try:
        print(sample_text(model, info, args.prompt, args.length, args.temperature))
    except ValueError as e:
        raise SystemExit(str(e))
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "list":
        cmd_list()
        return 0
    try:
        return {"train": cmd_train, "eval": cmd_eval, "sample": cmd_sample}[args.command](args)
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
