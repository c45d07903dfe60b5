"""Tasks: how each kind of model meets its data (batches, loss, evaluation)."""
from __future__ import annotations

import math
from typing import Any, Callable, Optional, Sequence

import numpy as np

import nn.functional as F
import tensorlite as tl
from tensorlite.random import generator

from .train import Task


def _batches_of(n: int, batch_size: int, shuffle: bool) -> list:
    order = generator().permutation(n) if shuffle else np.arange(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


class ImageClassification(Task):
    """Images (N, C, H, W) float32 and int64 labels; optional per-image augmentation."""

    def __init__(self, splits: dict, num_classes: int, transform: Optional[Callable] = None,
                 mean: float = 0.0, std: float = 1.0) -> None:
        self.splits = {k: (np.ascontiguousarray(x, np.float32), np.asarray(y, np.int64))
                       for k, (x, y) in splits.items()}
        self.num_classes = num_classes
        self.transform = transform
        self.mean, self.std = float(mean), float(std)
        self.image_shape = tuple(self.splits["train"][0].shape[1:])

    def info(self) -> dict:
        return {"num_classes": self.num_classes, "image_shape": list(self.image_shape),
                "mean": self.mean, "std": self.std}

    def num_train_batches(self, batch_size: int) -> int:
        return math.ceil(len(self.splits["train"][1]) / batch_size)

    def _prepare(self, x: np.ndarray, train: bool) -> tl.Tensor:
        if train and self.transform is not None:
            x = np.stack([np.asarray(self.transform(img), np.float32) for img in x])
        return tl.from_numpy(((x - self.mean) / self.std).astype(np.float32))

    def train_batches(self, batch_size: int):
        x, y = self.splits["train"]
        for idx in _batches_of(len(y), batch_size, shuffle=True):
            yield self._prepare(x[idx], True), tl.from_numpy(y[idx])

    def loss(self, model, batch):
        x, y = batch
        return F.cross_entropy(model(x), y), len(y)

    def evaluate(self, model, split, batch_size):
        x, y = self.splits[split]
        total, correct = 0.0, 0
        for idx in _batches_of(len(y), batch_size, shuffle=False):
            logits = model(self._prepare(x[idx], False))
            target = tl.from_numpy(y[idx])
            total += F.cross_entropy(logits, target, reduction="sum").item()
            correct += int((logits._data.argmax(1) == y[idx]).sum())
        return {"loss": total / len(y), "accuracy": correct / len(y)}


def batchify(ids: np.ndarray, batch_size: int) -> np.ndarray:
    """A token stream as (T, batch_size) columns, each a contiguous stretch of text."""
    n = len(ids) // batch_size
    return np.ascontiguousarray(ids[:n * batch_size].reshape(batch_size, n).T)


class LanguageModeling(Task):
    """Next-token prediction over a token stream with truncated BPTT: the hidden state is
    carried from one segment to the next (values only; the graph is cut)."""

    metric = "perplexity"
    higher_is_better = False
    batch_dim = 1  # segments are time-major (T, batch): data parallel splits the columns

    def __init__(self, splits: dict, vocab: Sequence[str], bptt: int = 35,
                 eval_batch_size: int = 10, char_level: bool = False) -> None:
        self.splits = {k: np.asarray(v, np.int64) for k, v in splits.items()}
        self.vocab = list(vocab)
        self.bptt = bptt
        self.eval_bs = eval_batch_size
        self.char_level = char_level
        self.hidden = None

    def info(self) -> dict:
        return {"vocab": self.vocab, "bptt": self.bptt, "char_level": self.char_level}

    def num_train_batches(self, batch_size: int) -> int:
        return math.ceil((len(self.splits["train"]) // batch_size - 1) / self.bptt)

    def start_epoch(self, model) -> None:
        self.hidden = None

    def _segments(self, data: np.ndarray):
        for i in range(0, len(data) - 1, self.bptt):
            n = min(self.bptt, len(data) - 1 - i)
            yield tl.from_numpy(data[i:i + n]), tl.from_numpy(data[i + 1:i + 1 + n])

    def train_batches(self, batch_size: int):
        yield from self._segments(batchify(self.splits["train"], batch_size))

    def loss(self, model, batch):
        from .language import detach_hidden
        x, y = batch
        logits, hidden = model(x, detach_hidden(self.hidden))
        self.hidden = hidden
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)), y.numel()

    def evaluate(self, model, split, batch_size):
        data = batchify(self.splits[split], self.eval_bs)
        hidden, total, count = None, 0.0, 0
        for x, y in self._segments(data):
            logits, hidden = model(x, hidden)
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1),
                                     reduction="sum").item()
            count += y.numel()
        loss = total / count
        return {"loss": loss, "perplexity": math.exp(min(loss, 50.0))}


class NGramLanguageModeling(Task):
    """Bengio et al.'s setting: predict w_t from the n-1 previous words."""

    metric = "perplexity"
    higher_is_better = False

    def __init__(self, splits: dict, vocab: Sequence[str], context: int) -> None:
        self.splits = {k: np.asarray(v, np.int64) for k, v in splits.items()}
        self.vocab = list(vocab)
        self.context = context

    def info(self) -> dict:
        return {"vocab": self.vocab, "context": self.context}

    def _windows(self, ids: np.ndarray, idx: np.ndarray):
        # Row r holds w_{t-n+1} .. w_{t-1} for target position t = idx[r] + context.
        offs = np.arange(self.context)
        return ids[idx[:, None] + offs], ids[idx + self.context]

    def num_train_batches(self, batch_size: int) -> int:
        return math.ceil((len(self.splits["train"]) - self.context) / batch_size)

    def train_batches(self, batch_size: int):
        ids = self.splits["train"]
        for idx in _batches_of(len(ids) - self.context, batch_size, shuffle=True):
            ctx, tgt = self._windows(ids, idx)
            yield tl.from_numpy(ctx), tl.from_numpy(tgt)

    def loss(self, model, batch):
        x, y = batch
        return F.cross_entropy(model(x), y), len(y)

    def evaluate(self, model, split, batch_size):
        ids = self.splits[split]
        total, count = 0.0, 0
        for idx in _batches_of(len(ids) - self.context, batch_size * 4, shuffle=False):
            ctx, tgt = self._windows(ids, idx)
            total += F.cross_entropy(model(tl.from_numpy(ctx)), tl.from_numpy(tgt),
                                     reduction="sum").item()
            count += len(idx)
        loss = total / count
        return {"loss": loss, "perplexity": math.exp(min(loss, 50.0))}


def pad_batch(seqs: Sequence[Sequence[int]], pad: int = 0, max_len: Optional[int] = None):
    n = max(1, max((len(s) for s in seqs), default=1))
    if max_len:
        n = min(n, max_len)
    out = np.full((len(seqs), n), pad, np.int64)
    for i, s in enumerate(seqs):
        s = s[:n]
        out[i, :len(s)] = s
    return out


class TextClassification(Task):
    """Sentences as word-id lists with labels; batches padded to their longest sentence."""

    def __init__(self, splits: dict, vocab: Sequence[str], num_classes: int,
                 classes: Sequence[str] = (), max_len: int = 100) -> None:
        self.splits = splits  # name -> (list of id lists, int64 labels)
        self.vocab = list(vocab)
        self.num_classes = num_classes
        self.classes = list(classes)
        self.max_len = max_len

    def info(self) -> dict:
        return {"vocab": self.vocab, "num_classes": self.num_classes, "classes": self.classes}

    def num_train_batches(self, batch_size: int) -> int:
        return math.ceil(len(self.splits["train"][1]) / batch_size)

    def train_batches(self, batch_size: int):
        seqs, y = self.splits["train"]
        for idx in _batches_of(len(y), batch_size, shuffle=True):
            yield (tl.from_numpy(pad_batch([seqs[i] for i in idx], max_len=self.max_len)),
                   tl.from_numpy(np.asarray(y)[idx]))

    def loss(self, model, batch):
        x, y = batch
        return F.cross_entropy(model(x), y), len(y)

    def evaluate(self, model, split, batch_size):
        seqs, y = self.splits[split]
        y = np.asarray(y)
        total, correct = 0.0, 0
        for idx in _batches_of(len(y), batch_size, shuffle=False):
            x = tl.from_numpy(pad_batch([seqs[i] for i in idx], max_len=self.max_len))
            logits = model(x)
            total += F.cross_entropy(logits, tl.from_numpy(y[idx]), reduction="sum").item()
            correct += int((logits._data.argmax(1) == y[idx]).sum())
        return {"loss": total / len(y), "accuracy": correct / len(y)}
