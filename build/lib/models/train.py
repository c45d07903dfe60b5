"""The one training loop: epochs of a Task, a progress bar, a summary line per epoch,
checkpoints (last and best), metrics as JSON and CSV (per epoch, and every step's training
loss), learning curves as PNG, and a clean stop on Ctrl-C."""
from __future__ import annotations

import csv
import json
import math
import os
import sys
import time
from typing import Any, Callable, Optional, Union

import numpy as np

import tensorlite as tl


class Task:
    """What a model is trained on: batches, the loss of a batch, evaluation.

    ``higher_is_better`` and ``metric`` name the validation figure that picks the best
    checkpoint (accuracy for classifiers, perplexity for language models).
    """

    metric = "accuracy"
    higher_is_better = True
    batch_dim = 0  # the batch axis of train_batches' tensors (data parallel slices it)

    def train_batches(self, batch_size: int) -> Any:
        raise NotImplementedError

    def num_train_batches(self, batch_size: int) -> int:
        raise NotImplementedError

    def start_epoch(self, model: Any) -> None:
        """Reset per-epoch state (e.g. a recurrent LM's carried hidden state)."""

    def loss(self, model: Any, batch: Any) -> tuple:
        """(scalar loss Tensor, number of samples it averages over)."""
        raise NotImplementedError

    def evaluate(self, model: Any, split: str, batch_size: int) -> dict:
        raise NotImplementedError

    def info(self) -> dict:
        """What a checkpoint must remember to rebuild the task (vocabulary, sizes)."""
        return {}

    def limit(self, n: int) -> None:
        """Keep only the first ``n`` training examples (or tokens): for quick runs."""
        train = self.splits["train"]
        self.splits["train"] = tuple(a[:n] for a in train) if isinstance(train, tuple) \
            else train[:n]


class Trainer:
    def __init__(self, model: Any, task: Task, optimizer: Any, scheduler: Any = None,
                 epochs: int = 10, batch_size: int = 64, out_dir: str = "runs/model",
                 clip_grad: Optional[float] = None, config: Optional[dict] = None,
                 progress: bool = True, eval_batch_size: Optional[int] = None,
                 schedule_per: str = "epoch", parallel: Any = None) -> None:
        self.model, self.task, self.optimizer, self.scheduler = model, task, optimizer, scheduler
        self.epochs, self.batch_size, self.out_dir = epochs, batch_size, out_dir
        self.clip_grad, self.config = clip_grad, dict(config or {})
        # Data parallel (``parallel`` is the model wrapped in DistributedDataParallel):
        # batch_size is per rank; every rank draws the same global batch of
        # batch_size * world samples and trains on its slice; rank 0 alone evaluates,
        # prints and writes files.
        self.parallel = parallel
        self.rank, self.world = _rank_and_world(parallel)
        self.progress = progress and sys.stderr.isatty() and self.rank == 0
        self.eval_batch_size = eval_batch_size or max(batch_size, 256)
        self.schedule_per = schedule_per
        self.history: list[dict] = []
        # (position in epochs, loss) of every training step: the per-step curve shows what
        # one point per epoch hides (a 1-epoch run is one point).
        self.steps: list[tuple] = []
        self.start_epoch = 1
        self.best: Optional[float] = None
        self.interrupted = False      # fit() stopped on Ctrl-C (after saving)
        self.saved_best = False       # fit() wrote best.npz in this run
        # The epoch out_dir/last.npz is known to hold (None: no such file of this run),
        # so that an interruption never points to a last.npz that is not there.
        self.last_saved: Optional[int] = None

    # -- checkpoints --------------------------------------------------------------------
    def checkpoint(self, epoch: int, interrupted: bool = False) -> dict:
        return {
            "format": "tensorlite-checkpoint-1",
            "config": self.config,
            "task": self.task.info(),
            "epoch": epoch,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else {},
            "history": self.history,
            "steps": np.asarray(self.steps, np.float64).reshape(-1, 2),
            "data": getattr(self.task, "data_record", None),
            "best": self.best,
            "rng": json.dumps(tl.get_rng_state()),
            # Weights from the middle of epoch + 1: never the best model of `epoch`.
            "interrupted": interrupted,
        }

    def resume(self, checkpoint: Union[str, dict], lr: Optional[float] = None,
               name: Optional[str] = None) -> None:
        """Continue from a checkpoint (a path, or the dict ``tl.load`` gave for ``name``):
        weights, optimizer and scheduler state, history, best score and RNG state.

        The schedule's length is this Trainer's: a scheduler built for more (or fewer)
        epochs than the checkpoint's (a cosine's ``T_max``, a step schedule's
        ``step_size``) keeps its progress but takes the lr that epoch has on the new
        schedule, as if the run had been planned that long. ``lr`` (a ``--lr`` given
        again) replaces the schedule's base learning rate, which the optimizer state
        would otherwise restore; the current lr is scaled with it."""
        if isinstance(checkpoint, str):
            name, checkpoint = checkpoint, tl.load(checkpoint)
        ckpt = checkpoint
        self.model.load_state_dict(ckpt["model"])
        # Read before load_state_dict overwrites them with the checkpoint's.
        horizon = {k: getattr(self.scheduler, k) for k in ("T_max", "step_size")
                   if hasattr(self.scheduler, k)}
        self.optimizer.load_state_dict(ckpt["optimizer"])
        if self.scheduler is not None and ckpt.get("scheduler"):
            self.scheduler.load_state_dict(ckpt["scheduler"])
        self.history = list(ckpt.get("history") or [])
        self.best = ckpt.get("best")
        self.start_epoch = int(ckpt["epoch"]) + 1
        # An interrupted checkpoint holds steps of the epoch that restarts: drop them.
        steps = np.asarray(ckpt.get("steps", np.zeros((0, 2))), np.float64).reshape(-1, 2)
        self.steps = [(float(x), float(v)) for x, v in steps if x <= self.start_epoch - 1]
        if ckpt.get("rng"):
            tl.set_rng_state(json.loads(ckpt["rng"]))
        if name and os.path.abspath(name) == os.path.abspath(
                os.path.join(self.out_dir, "last.npz")):
            self.last_saved = int(ckpt["epoch"])
        print(f"resumed from {name or 'a checkpoint'} at epoch {self.start_epoch}"
              + (" (from its first batch: the interrupted part of the epoch is trained "
                 "again)" if ckpt.get("interrupted") else ""))
        groups = self.optimizer.param_groups
        if lr is not None:
            old = groups[0].get("initial_lr", groups[0]["lr"])
            if old > 0 and lr != old:
                self._scale_lr(lr / old)
                print(f"--lr {lr:g} replaces the checkpoint's base learning rate {old:g}")
        changed = {k: (ckpt["scheduler"].get(k), v) for k, v in horizon.items()
                   if ckpt.get("scheduler") and ckpt["scheduler"].get(k) != v}
        if changed:
            for k, (_, v) in changed.items():
                setattr(self.scheduler, k, v)
            # step(epoch) takes the closed form: the lr of this epoch on the new schedule
            # (the chained update would continue the old curve, e.g. at lr 0 past its end).
            self.scheduler.step(self.scheduler.last_epoch)
            spans = ", ".join(f"{k} {v} (was {was})" for k, (was, v) in changed.items())
            print(f"the {type(self.scheduler).__name__} schedule now fits --epochs "
                  f"{self.epochs}: {spans}")
        if lr is not None or changed:
            print(f"epoch {self.start_epoch} trains at lr {groups[0]['lr']:.4g}")

    def _scale_lr(self, factor: float) -> None:
        """Multiply the base and current learning rates: every schedule here is linear in
        its base lr, so this is the schedule the run would have had with the new one."""
        for g in self.optimizer.param_groups:
            g["lr"] *= factor
            if "initial_lr" in g:
                g["initial_lr"] *= factor
        sched = self.scheduler
        if sched is not None:
            if hasattr(sched, "base_lrs"):
                sched.base_lrs = [b * factor for b in sched.base_lrs]
            sched._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def _save(self, name: str, epoch: int, interrupted: bool = False) -> str:
        path = os.path.join(self.out_dir, name)
        if self.rank == 0:  # tl.save writes atomically: a rank dying cannot leave half a file
            tl.save(self.checkpoint(epoch, interrupted), path)
        return path

    # -- the loop -----------------------------------------------------------------------
    def fit(self) -> list:
        if self.rank == 0:
            os.makedirs(self.out_dir, exist_ok=True)
        epoch = self.start_epoch - 1
        try:
            for epoch in range(self.start_epoch, self.epochs + 1):
                row = self._train_epoch(epoch)
                self.history.append(row)
                self._report(row)
                value = row.get(f"val_{self.task.metric}")
                improved = value is not None and (self.best is None or (
                    value > self.best if self.task.higher_is_better else value < self.best))
                if improved:
                    self.best = value
                # After updating self.best, so that a resume knows this epoch's score.
                self._save("last.npz", epoch)
                self.last_saved = epoch
                # last.npz is now past any interrupted state of this directory: a stale
                # interrupted.npz would only invite resuming an older model.
                stale = os.path.join(self.out_dir, "interrupted.npz")
                if self.rank == 0 and os.path.exists(stale):
                    os.remove(stale)
                if improved:
                    self._save("best.npz", epoch)
                    self.saved_best = True
                self._write_metrics()
        except KeyboardInterrupt:
            # last.npz keeps the end of the last completed epoch (an exact resume point);
            # the partly trained weights go to their own file. The caller should stop:
            # evaluating a half-trained run would report figures of no real model.
            self.interrupted = True
            done = epoch - 1
            print(f"\ninterrupted during epoch {epoch}: saving the partly trained model to "
                  f"{self.out_dir}/interrupted.npz", flush=True)
            self._save("interrupted.npz", max(done, 0), interrupted=True)
            self._write_metrics()
            # Resuming restarts the epoch from its first batch (the shuffle order and the
            # carried state of the batches done are not saved): say so rather than promise
            # a mid-epoch continuation.
            if self.last_saved is not None and self.last_saved == done:
                print(f"{self.out_dir}/last.npz holds the end of epoch {done}; --resume takes "
                      f"either file and trains epoch {epoch} again from its first batch",
                      flush=True)
            else:
                print(f"--resume {self.out_dir}/interrupted.npz keeps these weights and trains "
                      f"epoch {epoch} again from its first batch", flush=True)
        return self.history

    def _train_epoch(self, epoch: int) -> dict:
        model, task = self.model, self.task
        model.train()
        task.start_epoch(model)
        n_batches = task.num_train_batches(self.batch_size * self.world)
        forward = self.parallel if self.parallel is not None else model
        bar = None
        if self.progress:
            from tqdm import tqdm
            bar = tqdm(total=n_batches, desc=f"epoch {epoch}/{self.epochs}", leave=False,
                       dynamic_ncols=True)
        t0 = time.perf_counter()
        total, count, seen = 0.0, 0, 0
        for i, batch in enumerate(task.train_batches(self.batch_size * self.world)):
            if self.world > 1:
                batch = _shard(batch, getattr(task, "batch_dim", 0), self.rank, self.world)
                if batch is None:
                    continue  # a last global batch too small to give every rank a sample
            loss, n = task.loss(forward, batch)
            self.optimizer.zero_grad()
            loss.backward()
            if self.clip_grad:
                import nn
                nn.utils.clip_grad_norm_(model.parameters(), self.clip_grad)
            self.optimizer.step()
            if self.scheduler is not None and self.schedule_per == "step":
                self.scheduler.step()
            value = loss.item()
            if not math.isfinite(value):
                raise FloatingPointError(f"training diverged at epoch {epoch}: loss is {value}; "
                                         "try a smaller --lr")
            total += value * n
            count += n
            seen += n
            self.steps.append((epoch - 1 + (i + 1) / n_batches, value))
            if bar is not None:
                rate = seen / max(time.perf_counter() - t0, 1e-9)
                bar.set_postfix(loss=f"{total / count:.4f}", samples_per_s=f"{rate:,.0f}")
                bar.update(1)
        if bar is not None:
            bar.close()
        if self.world > 1:
            # The epoch's figures over every rank's samples, not rank 0's share.
            from tensorlite import distributed as dist
            sums = tl.tensor([total, count, seen], dtype=tl.float64)
            dist.all_reduce(sums)
            total, count, seen = float(sums[0]), int(sums[1]), int(sums[2])
        if count == 0:
            raise ValueError(f"epoch {epoch}: the training split is empty (check --data and "
                             "--limit)")
        train_time = time.perf_counter() - t0
        row = {"epoch": epoch, "train_loss": total / max(count, 1),
               "lr": self.optimizer.param_groups[0]["lr"]}
        model.eval()
        if self.rank == 0:
            with tl.no_grad():
                for split in ("val",):
                    for k, v in task.evaluate(model, split, self.eval_batch_size).items():
                        row[f"{split}_{k}"] = v
        if self.world > 1:
            # Evaluated once, on rank 0; every rank needs the figures (best checkpoint,
            # ReduceLROnPlateau) to stay in step.
            from tensorlite import distributed as dist
            shared = [row]
            dist.broadcast_object_list(shared, src=0)
            row = shared[0]
        if self.scheduler is not None and self.schedule_per == "epoch":
            if type(self.scheduler).__name__ == "ReduceLROnPlateau":
                self.scheduler.step(row.get("val_loss", row["train_loss"]))
            else:
                self.scheduler.step()
        row["seconds"] = time.perf_counter() - t0
        row["samples_per_s"] = seen / max(train_time, 1e-9)
        return row

    def _report(self, row: dict) -> None:
        parts = [f"epoch {row['epoch']:3d}", f"train loss {row['train_loss']:.4f}"]
        if "val_loss" in row:
            parts.append(f"val loss {row['val_loss']:.4f}")
        if "val_accuracy" in row:
            parts.append(f"val acc {100 * row['val_accuracy']:.2f}%")
        if "val_perplexity" in row:
            parts.append(f"val ppl {row['val_perplexity']:.2f}")
        parts += [f"lr {row['lr']:.4g}", f"{row['seconds']:.1f}s",
                  f"{row['samples_per_s']:,.0f} samples/s"]
        print(" | ".join(parts), flush=True)

    def _write_metrics(self) -> None:
        if self.rank != 0:
            return
        with _atomic(os.path.join(self.out_dir, "metrics.json")) as f:
            json.dump(self.history, f, indent=2)
        if self.history:
            keys = list(dict.fromkeys(k for row in self.history for k in row))
            with _atomic(os.path.join(self.out_dir, "metrics.csv"), newline="") as f:
                w = csv.DictWriter(f, fieldnames=keys)
                w.writeheader()
                w.writerows(self.history)
        if self.steps:
            with _atomic(os.path.join(self.out_dir, "steps.csv"), newline="") as f:
                w = csv.writer(f)
                w.writerow(["epoch", "train_loss"])
                w.writerows((f"{x:.6g}", repr(v)) for x, v in self.steps)
        plot_curves(self.history, os.path.join(self.out_dir, "learning_curves.png"),
                    self.steps, self._title())

    def _title(self) -> str:
        """The plot's title: model, data, seed and the run's length."""
        cfg, record = self.config, getattr(self.task, "data_record", None) or {}
        data = record.get("name") or cfg.get("data") or "its data"
        parts = [f"{cfg.get('name', 'model')} on {data}"]
        if cfg.get("limit"):
            parts[0] += f" (first {cfg['limit']:,})"
        parts.append(f"{self.epochs} epoch{'s' if self.epochs != 1 else ''}")
        if cfg.get("seed") is not None:
            parts.append(f"seed {cfg['seed']}")
        return ", ".join(parts)


# -- data parallel (issue 15) -----------------------------------------------------------------
def _rank_and_world(parallel: Any) -> tuple:
    if parallel is None:
        return 0, 1
    from tensorlite import distributed as dist
    return dist.get_rank(), dist.get_world_size()


def _shard(batch: Any, dim: int, rank: int, world: int) -> Optional[tuple]:
    """This rank's contiguous slice of a global batch along the batch axis ``dim`` (dim 1
    for time-major language-model segments), or None when some rank would get nothing."""
    n = batch[0].shape[dim]
    if n < world:
        return None
    lo, hi = n * rank // world, n * (rank + 1) // world
    index = (slice(None),) * dim + (slice(lo, hi),)
    return tuple(tl.from_numpy(np.ascontiguousarray(t.numpy()[index])) for t in batch)


class _atomic:
    """``with _atomic(path) as f``: write a text file that appears whole or not at all
    (a temporary file renamed over ``path``), so a run killed mid-write leaves the old one."""

    def __init__(self, path: str, newline: Optional[str] = None) -> None:
        self.path, self.tmp = path, f"{path}.tmp{os.getpid()}"
        self.newline = newline

    def __enter__(self):
        self.f = open(self.tmp, "w", newline=self.newline)
        return self.f

    def __exit__(self, kind, value, tb) -> None:
        self.f.close()
        if kind is None:
            os.replace(self.tmp, self.path)
        else:
            os.remove(self.tmp)


def plot_curves(history: list, path: str, steps: Optional[list] = None,
                title: str = "") -> Optional[str]:
    """Learning curves (:func:`curves_figure`) as a PNG when matplotlib is installed (the
    `plot` extra); None without it or without a finished epoch."""
    if not history:
        return None
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig = curves_figure(history, steps, title)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def curves_figure(history: list, steps: Optional[list] = None, title: str = ""):
    """A matplotlib Figure: the loss (every training step, its running mean, and each
    epoch's training and validation loss) and the validation metric per epoch, the best
    epoch marked; x in epochs with whole-epoch ticks."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator
    epochs = [r["epoch"] for r in history]
    metrics = [k for k in ("val_accuracy", "val_perplexity") if k in history[0]]
    fig, axes = plt.subplots(1, 1 + len(metrics), figsize=(6 * (1 + len(metrics)), 4.2),
                             squeeze=False)
    axes = axes[0]
    ax = axes[0]
    losses = []
    if steps:
        xs = np.array([x for x, _ in steps])
        ys = np.array([v for _, v in steps])
        ax.plot(xs, ys, color="tab:blue", alpha=0.25, lw=0.8, label="train loss, each step")
        # A running mean over ~2% of the steps (at least 5): the trend through the noise.
        k = max(5, len(ys) // 50)
        if len(ys) > k:
            mean = np.convolve(ys, np.ones(k) / k, mode="valid")
            ax.plot(xs[k - 1:], mean, color="tab:blue", lw=1.5,
                    label=f"train loss, mean of {k} steps")
        losses.append(ys)
    train = [r["train_loss"] for r in history]
    ax.plot(epochs, train, "o", color="tab:blue", mec="white", ms=7,
            label="train loss, epoch mean")
    losses.append(train)
    if "val_loss" in history[0]:
        val = [r["val_loss"] for r in history]
        ax.plot(epochs, val, "s-", color="tab:orange", ms=7, label="validation loss")
        losses.append(val)
    values = np.concatenate([np.asarray(v, float) for v in losses])
    values = values[np.isfinite(values) & (values > 0)]
    if len(values) and values.max() > 10 * values.min():
        ax.set_yscale("log")              # losses falling over decades: keep the tail visible
    ax.set_ylabel("cross-entropy loss (nats)")
    ax.set_title("loss")
    ax.legend(fontsize=8)
    for ax, key in zip(axes[1:], metrics):
        vals = [r[key] for r in history]
        if key == "val_accuracy":
            vals = [100 * v for v in vals]
            best = int(np.argmax(vals))
            ax.set_ylabel("validation accuracy (%)")
            label = f"best {vals[best]:.2f}% at epoch {epochs[best]}"
        else:
            best = int(np.argmin(vals))
            ax.set_ylabel("validation perplexity")
            label = f"best {vals[best]:.2f} at epoch {epochs[best]}"
        ax.plot(epochs, vals, "s-", color="tab:orange", ms=7)
        ax.plot([epochs[best]], [vals[best]], "*", color="tab:red", ms=15, label=label)
        ax.set_title(key.replace("val_", "validation "))
        ax.legend(fontsize=8)
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.set_xlim(0 if steps else min(epochs) - 0.5, max(epochs) + (0.1 if steps else 0.5))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))   # no "1.25 epochs"
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
