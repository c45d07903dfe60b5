"""``tl.save`` / ``tl.load``: nested state dicts in one ``.npz`` file, never pickled.

The file is an uncompressed ``np.savez`` archive. Entry ``header`` is a JSON document
(stored as a uint8 array) describing the structure; every array is stored as an entry
``a0``, ``a1``, ... which the header references by number, with its kind (Tensor, array
or numpy scalar), dtype and shape::

    {"format": "tensorlite", "version": 1, "arrays": 2,
     "root": {"$dict": [["w", {"$tensor": 0, "dtype": "<f4", "shape": [2, 3]}],
                        ["step", 7], ["betas", {"$tuple": [0.9, 0.999]}],
                        ["best", {"$float": "inf"}], ["mask", {"$array": 1, ...}]]}}

Lists are JSON arrays; every dict is a ``$dict`` (or ``$odict``) list of key/value pairs,
which keeps the order and int keys (optimizer state dicts use them) exactly.

Safety: arrays are read with ``allow_pickle=False`` and object arrays are refused on save
and on load, so loading an untrusted file cannot run code; every entry's npy header is
checked (dtype, size against the archive's record, stored uncompressed so that a small
file cannot inflate into gigabytes) before its data is read, and anything malformed is a
``ValueError`` naming the file. Writes are atomic: a temporary file in the
target's directory, fsync'ed, then ``os.replace``'d over the target, so a crash or an error
mid-write leaves the previous file intact.
"""
from __future__ import annotations

import io
import json
import math
import os
import secrets
import zipfile
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Union

import numpy as np

from .tensor import Tensor, _make, _supported

__all__ = ["save", "load"]

_FORMAT = "tensorlite"
_VERSION = 1
_HEADER = "header"
_KINDS = "biufc"  # bool, int, uint, float, complex: plain bytes, nothing to unpickle
_NONFINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}

PathLike = Union[str, "os.PathLike[str]"]


# -- save ----------------------------------------------------------------------------------
class _Encoder:
    """Turns an object tree into JSON-able nodes, collecting its arrays."""

    def __init__(self) -> None:
        self.arrays: List[np.ndarray] = []
        self._index: Dict[int, int] = {}    # id(array) -> entry number: one array, one entry
        self._keep: List[Any] = []          # keeps memoised arrays alive so ids stay unique
        self._open: set = set()             # containers being encoded (cycle detection)

    def array(self, a: np.ndarray, where: str) -> int:
        if a.dtype.kind not in _KINDS or a.dtype.hasobject or a.dtype.names is not None:
            raise TypeError(f"save: the array at {where} has dtype {a.dtype}; only bool, "
                            "integer, float and complex arrays can be saved (never objects)")
        i = self._index.get(id(a))
        if i is None:
            i = self._index[id(a)] = len(self.arrays)
            self._keep.append(a)
            self.arrays.append(a if a.flags.c_contiguous else np.ascontiguousarray(a))
        return i

    def node(self, obj: Any, where: str) -> Any:
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, np.generic):  # before float: np.float64 subclasses float
            a = np.asarray(obj)
            return {"$scalar": self.array(a, where), "dtype": a.dtype.str}
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            f = float(obj)
            return f if math.isfinite(f) else {"$float": repr(f)}
        if isinstance(obj, Tensor):
            a = obj._data
            return {"$tensor": self.array(a, where), "dtype": a.dtype.str, "shape": list(a.shape)}
        if isinstance(obj, np.ndarray):
            return {"$array": self.array(obj, where), "dtype": obj.dtype.str,
                    "shape": list(obj.shape)}
        if isinstance(obj, (dict, list, tuple)):
            if id(obj) in self._open:
                raise ValueError(f"save: circular reference at {where}")
            self._open.add(id(obj))
            try:
                if isinstance(obj, dict):
                    pairs = []
                    for k, v in obj.items():
                        if isinstance(k, (bool, np.bool_)) or not isinstance(k, (str, int,
                                                                                  np.integer)):
                            raise TypeError(f"save: dict keys must be str or int, got "
                                            f"{type(k).__name__} {k!r} in {where}")
                        k = k if isinstance(k, str) else int(k)
                        pairs.append([k, self.node(v, f"{where}[{k!r}]")])
                    return {"$odict" if isinstance(obj, OrderedDict) else "$dict": pairs}
                items = [self.node(v, f"{where}[{i}]") for i, v in enumerate(obj)]
                return items if isinstance(obj, list) else {"$tuple": items}
            finally:
                self._open.discard(id(obj))
        if callable(getattr(obj, "state_dict", None)):
            # torch.save(model, path) pickles the whole object; tensorlite never pickles
            raise TypeError(f"save: cannot save a whole {type(obj).__name__} at {where} (that "
                            "would need pickling, which tensorlite never does); save its "
                            "state_dict() instead and load it into a newly built one")
        raise TypeError(f"save: cannot save an object of type {type(obj).__name__} at {where}; "
                        "only Tensors, numpy arrays and scalars, int, float, bool, None, str, "
                        "and dicts, lists and tuples of these")


def save(obj: Any, path: PathLike, pickle_module: Any = None, pickle_protocol: int = 2,
         _use_new_zipfile_serialization: bool = True,
         _disable_byteorder_record: bool = False) -> None:
    """Write ``obj`` to ``path`` (written as given: no suffix is added), atomically.

    ``torch.save``'s pickling options are accepted and have no effect: nothing is pickled
    (a ``pickle_module`` other than None is refused).

    ``path`` may also be a binary file object open for writing (as ``torch.save`` allows,
    e.g. ``io.BytesIO``); the archive is then written at its current position in one
    ``write`` call, and the atomicity is the caller's business.

    ``obj``: nested dicts (str or int keys; order kept; OrderedDict comes back as
    OrderedDict), lists, tuples, Tensors (saved as their data), numpy arrays and scalars,
    int/float/bool/None and strings. Objects of other types and object arrays raise
    TypeError before anything is written."""
    if pickle_module is not None:
        raise TypeError("save: tensorlite files are never pickled; pickle_module is not "
                        "supported")
    is_file = _is_writable_file(path)
    if not is_file and not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"save: path must be a str, an os.PathLike or a binary file object "
                        f"open for writing, got {type(path).__name__}")
    if not is_file:
        target = os.path.realpath(os.fspath(path))  # through a symlink, as open() would
        if os.path.isdir(target):
            # checked first: os.replace would fail only after the whole archive is written,
            # naming the temporary file
            raise IsADirectoryError(f"save: {os.fspath(path)!r} is a directory, not a file path")
    enc = _Encoder()
    try:
        root = enc.node(obj, "obj")
    except RecursionError:
        raise ValueError("save: the object is nested too deeply to save") from None
    header = {"format": _FORMAT, "version": _VERSION, "arrays": len(enc.arrays), "root": root}
    try:
        blob = json.dumps(header, allow_nan=False, separators=(",", ":")).encode("ascii")
    except RecursionError:
        raise ValueError("save: the object is nested too deeply to save") from None
    entries = {f"a{i}": a for i, a in enumerate(enc.arrays)}
    entries[_HEADER] = np.frombuffer(blob, dtype=np.uint8)
    if is_file:
        # built in memory, then one write: zipfile seeks back to patch each entry's header,
        # which streams such as gzip files and pipes cannot do
        buf = io.BytesIO()
        np.savez(buf, allow_pickle=False, **entries)
        path.write(buf.getbuffer())
        return

    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"save: directory {directory!r} does not exist "
                                f"(writing {os.fspath(path)!r})")
    fd, tmp = _create_temp(directory, os.path.basename(target))
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, allow_pickle=False, **entries)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def _is_writable_file(f: Any) -> bool:
    if isinstance(f, (str, bytes, os.PathLike)) or not hasattr(f, "write"):
        return False
    if _text_mode(f):
        raise TypeError("save: the file object must be open in binary mode ('wb')")
    return True


def _text_mode(f: Any) -> bool:
    mode = getattr(f, "mode", None)  # an int for gzip files: those are binary
    return isinstance(f, io.TextIOBase) or (isinstance(mode, str) and "b" not in mode)


def _create_temp(directory: str, base: str):
    # O_EXCL with a random name: never clobbers another writer's temp file; mode 0o666 lets
    # the umask decide the final permissions, as for a file written with open().
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(directory, f".{base[:200]}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue


def _fsync_directory(directory: str) -> None:
    # Makes the rename itself durable; not possible on every platform, so best effort.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- load ----------------------------------------------------------------------------------
class _Corrupt(Exception):
    """A malformed file; reported as ValueError naming the path."""


def load(path: PathLike, map_location: Any = None, pickle_module: Any = None, *,
         weights_only: Optional[bool] = None, mmap: Optional[bool] = None,
         **pickle_load_args: Any) -> Any:
    """Read what :func:`save` wrote: Tensors come back as ``tl.Tensor`` (requires_grad
    False), arrays as ``np.ndarray``, numpy scalars as numpy scalars, with exact dtype,
    shape and values; tuples as tuples, dicts in their saved order. Arrays that were one
    object when saved are one object again.

    ``torch.load``'s keywords are accepted so that PyTorch code runs unchanged: nothing is
    ever unpickled, so every load is what PyTorch calls ``weights_only=True`` (and
    ``weights_only=False`` changes nothing); ``map_location`` may be the CPU (a string,
    ``tl.device``, a dict or a function mapping storages: everything loads on the CPU
    anyway) and is refused for another device; ``mmap`` is accepted (the file is read).

    Raises FileNotFoundError (or another OSError) if the file cannot be opened, and
    ValueError naming the file if it is not a well-formed tensorlite file (truncated,
    corrupt, foreign, or holding pickled objects, which are never unpickled)."""
    _check_torch_load_args(map_location, pickle_module, weights_only, mmap, pickle_load_args)
    if hasattr(path, "read") and not isinstance(path, (str, bytes, os.PathLike)):
        # a binary file object (as torch.load allows), read from its current position
        if _text_mode(path):
            raise TypeError("load: the file object must be open in binary mode ('rb')")
        if not (hasattr(path, "seek") and hasattr(path, "tell")):
            raise TypeError("load: the file object must be seekable")
        return _read_reporting(path, getattr(path, "name", None) or type(path).__name__)
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"load: path must be a str, an os.PathLike or a binary file object, "
                        f"got {type(path).__name__}")
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"load: {path!r} is a directory, not a tensorlite file")
    with open(path, "rb") as f:
        return _read_reporting(f, path)


def _check_torch_load_args(map_location: Any, pickle_module: Any, weights_only: Any,
                           mmap: Any, extra: Dict[str, Any]) -> None:
    if pickle_module is not None or extra:
        raise TypeError("load: tensorlite files are never pickled; pickle_module and pickle "
                        f"load arguments are not supported (got {sorted(extra) or 'pickle_module'})")
    for name, v in (("weights_only", weights_only), ("mmap", mmap)):
        if v is not None and not isinstance(v, (bool, np.bool_)):
            raise TypeError(f"load: {name} must be None or a bool, got {v!r}")
    if map_location is None or callable(map_location):
        return
    from .device import check_device
    targets = map_location.values() if isinstance(map_location, dict) else [map_location]
    for t in targets:
        check_device(t, "load: map_location")


def _read_reporting(f: Any, path: str) -> Any:
    try:
        return _read(f)
    except _Corrupt as e:
        raise ValueError(f"load: {path}: {e}") from None
    except MemoryError:
        raise
    except Exception as e:  # zipfile/numpy/json errors of a damaged file, never a crash
        raise ValueError(f"load: {path} is not a readable tensorlite file "
                         f"({type(e).__name__}: {e})") from None


def _read(f: Any) -> Any:
    # np.load on anything but a zip or .npy file guesses "pickle" and advises
    # allow_pickle=True, which is exactly wrong here: name the real problem instead.
    start = f.tell()
    magic = f.read(6)
    f.seek(start)
    if not magic.startswith(b"PK") and magic != b"\x93NUMPY":
        raise _Corrupt("not a readable tensorlite file ("
                       + ("the file is empty" if not magic else "not an .npz/zip archive") + ")")
    npz = np.load(f, allow_pickle=False)
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise _Corrupt("not a tensorlite file (a single .npy array, not an .npz archive)")
    with npz:
        names = set(npz.files)
        if _HEADER not in names:
            if any(n.endswith("data.pkl") for n in npz.zip.namelist()):
                raise _Corrupt("a PyTorch checkpoint (pickled), which tensorlite never "
                               "unpickles; in PyTorch, save it as numpy arrays "
                               "(np.savez(path, **{k: v.numpy() for k, v in "
                               "sd.items()})) and load those with np.load")
            raise _Corrupt("not a tensorlite file (no header entry)")
        _check_entry(npz, _HEADER, allowed="u")
        raw = npz[_HEADER]
        if raw.dtype != np.uint8 or raw.ndim != 1:
            raise _Corrupt("not a tensorlite file (malformed header entry)")
        header = json.loads(raw.tobytes().decode("utf-8"), parse_constant=_no_constant)
        if not isinstance(header, dict) or header.get("format") != _FORMAT:
            raise _Corrupt("not a tensorlite file (no tensorlite header)")
        version, n = header.get("version"), header.get("arrays")
        if not _is_int(version) or version < 1:
            raise _Corrupt(f"bad format version {version!r}")
        if version > _VERSION:
            raise _Corrupt(f"written by a newer tensorlite (format version {version}; this one "
                           f"reads up to {_VERSION})")
        if not _is_int(n) or n != len(names) - 1 or "root" not in header:
            raise _Corrupt(f"malformed header (it lists {n!r} arrays, the archive holds "
                           f"{len(names) - 1})")
        expected = {_HEADER} | {f"a{i}" for i in range(n)}
        if names != expected:
            extra, missing = sorted(names - expected), sorted(expected - names)
            raise _Corrupt("entries do not match the header"
                           + (f"; unexpected: {', '.join(extra[:5])}" if extra else "")
                           + (f"; missing: {', '.join(missing[:5])}" if missing else ""))
        for i in range(n):  # every entry vetted before any array data is read
            _check_entry(npz, f"a{i}", allowed=_KINDS)
        return _Decoder(npz, n).node(header["root"])


def _no_constant(name: str) -> Any:
    raise _Corrupt(f"malformed header (JSON constant {name})")


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _check_entry(npz: Any, name: str, allowed: str) -> None:
    """Read the npy header of entry ``name``: refuse object/structured dtypes and sizes
    larger than the stored bytes (so a forged shape cannot make us allocate)."""
    info = npz.zip.getinfo(name + ".npy")
    if info.compress_type != zipfile.ZIP_STORED:
        # save never compresses; a compressed entry could inflate a small hostile file into
        # gigabytes (a zip bomb) before any check on the data
        raise _Corrupt(f"entry {name} is compressed (tensorlite files are stored "
                       "uncompressed); refusing to inflate it")
    with npz.zip.open(info) as m:
        version = np.lib.format.read_magic(m)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(m)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(m)
        else:
            raise _Corrupt(f"entry {name} has unsupported npy version {version}")
        offset = m.tell()
    if dtype.hasobject:
        raise _Corrupt(f"entry {name} holds an object array (pickled Python objects); "
                       "refusing to load it")
    if dtype.kind not in allowed or dtype.names is not None:
        raise _Corrupt(f"entry {name} has unsupported dtype {dtype}")
    nbytes = dtype.itemsize * math.prod(shape)
    if nbytes > info.file_size - offset:
        raise _Corrupt(f"entry {name} is truncated or corrupt (shape {shape} needs {nbytes} "
                       f"bytes, {info.file_size - offset} stored)")


class _Decoder:
    def __init__(self, npz: Any, n: int) -> None:
        self.npz, self.n = npz, n
        self.loaded: Dict[int, np.ndarray] = {}

    def array(self, node: dict, key: str) -> np.ndarray:
        i = node[key]
        if not _is_int(i) or not 0 <= i < self.n:
            raise _Corrupt(f"header refers to array {i!r}, but the file holds {self.n}")
        a = self.loaded.get(i)
        if a is None:
            a = self.loaded[i] = self.npz[f"a{i}"]
        shape = node.get("shape", [])
        if a.dtype.str != node.get("dtype") or not isinstance(shape, list) \
                or a.shape != tuple(shape):
            raise _Corrupt(f"array a{i} is {a.dtype.str} {a.shape}, the header says "
                           f"{node.get('dtype')} {shape}")
        return a

    def node(self, node: Any) -> Any:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.node(v) for v in node]
        if isinstance(node, dict):
            if "$tensor" in node:
                a = self.array(node, "$tensor")
                if not _supported(a.dtype):
                    # save only writes Tensors' data, which never has these dtypes; a Tensor
                    # built around one would fail later, inside some op
                    raise _Corrupt(f"array a{node['$tensor']} is marked as a Tensor but has "
                                   f"dtype {a.dtype}, which tensors cannot hold")
                return _make(a, False, None, 0, None)
            if "$array" in node:
                return self.array(node, "$array")
            if "$scalar" in node:
                return self.array(node, "$scalar")[()]
            if "$dict" in node or "$odict" in node:
                ordered = "$odict" in node
                pairs = node["$odict" if ordered else "$dict"]
                if not isinstance(pairs, list):
                    raise _Corrupt("malformed dict in the header")
                out: Dict[Any, Any] = OrderedDict() if ordered else {}
                for pair in pairs:
                    if not (isinstance(pair, list) and len(pair) == 2
                            and (isinstance(pair[0], str) or _is_int(pair[0]))):
                        raise _Corrupt("malformed dict entry in the header")
                    out[pair[0]] = self.node(pair[1])
                return out
            if "$tuple" in node and isinstance(node["$tuple"], list):
                return tuple(self.node(v) for v in node["$tuple"])
            if node.get("$float") in _NONFINITE:
                return _NONFINITE[node["$float"]]
        raise _Corrupt(f"unknown entry in the header: {str(node)[:60]}")
