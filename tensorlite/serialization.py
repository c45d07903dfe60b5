"""save/load of nested state dicts: one ``.npz`` of plain arrays plus a JSON header.

Never pickle: arrays are written and read with ``allow_pickle=False`` and object arrays
are refused, so loading an untrusted file cannot run code. Writes are atomic: a temporary
file in the same directory, flushed to disk, then renamed over the target.
"""
from __future__ import annotations

import io
import json
import math
import os
import tempfile
import zipfile
from collections import OrderedDict
from typing import Any

import numpy as np

from .tensor import Tensor, _make

_FORMAT = "tensorlite-state-1"
_HEADER = "__header__"


def _encode(obj: Any, arrays: list, path: str) -> Any:
    """A JSON description of ``obj``; arrays are appended to ``arrays`` and referenced."""
    if isinstance(obj, Tensor):
        return {"$t": _add_array(obj.data, arrays, path)}
    if isinstance(obj, np.ndarray):
        return {"$a": _add_array(obj, arrays, path)}
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if math.isfinite(f) else {"$f": repr(f)}
    if obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, dict):
        for k in obj:
            if isinstance(k, bool) or not isinstance(k, (str, int, np.integer)):
                raise TypeError(f"save: dict keys must be strings or ints, got "
                                f"{type(k).__name__} at {path or 'the top level'}")
        # Key/value pairs (not a JSON object) keep int keys ints and the order as given.
        return {"$d": [[k if isinstance(k, str) else int(k),
                        _encode(v, arrays, f"{path}.{k}" if path else str(k))]
                       for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        items = [_encode(v, arrays, f"{path}[{i}]") for i, v in enumerate(obj)]
        return {"$l": items} if isinstance(obj, list) else {"$u": items}
    raise TypeError(f"save: cannot save an object of type {type(obj).__name__} at "
                    f"{path or 'the top level'} (only Tensors, arrays, numbers, strings, None, "
                    "dicts, lists and tuples)")


def _add_array(a: np.ndarray, arrays: list, path: str) -> int:
    if a.dtype.hasobject or a.dtype.kind not in "biufc":
        raise TypeError(f"save: the array at {path or 'the top level'} has dtype {a.dtype}; "
                        "only numeric and bool arrays can be saved")
    arrays.append(a if a.flags.c_contiguous else a.copy(order="C"))
    return len(arrays) - 1


def save(obj: Any, path: str) -> None:
    """Write ``obj`` (a nested state dict) to ``path`` atomically."""
    arrays: list = []
    header = {"format": _FORMAT, "root": _encode(obj, arrays, "")}
    entries = {f"a{i}": a for i, a in enumerate(arrays)}
    entries[_HEADER] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **entries)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _decode(node: Any, arrays: Any, path: str) -> Any:
    if isinstance(node, dict):
        if "$t" in node:
            return _make(_array(arrays, node["$t"], path), False, None, 0, None)
        if "$a" in node:
            return _array(arrays, node["$a"], path)
        if "$f" in node:
            return float(node["$f"])
        if "$d" in node:
            return OrderedDict((k, _decode(v, arrays, path)) for k, v in node["$d"])
        if "$l" in node:
            return [_decode(v, arrays, path) for v in node["$l"]]
        if "$u" in node:
            return tuple(_decode(v, arrays, path) for v in node["$u"])
        raise ValueError(f"load: {path} has an unknown entry in its header")
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    raise ValueError(f"load: {path} has an unknown entry in its header")


def _array(arrays: Any, index: Any, path: str) -> np.ndarray:
    key = f"a{int(index)}"
    if key not in arrays.files:
        raise ValueError(f"load: {path} is missing array {key}")
    a = arrays[key]
    if a.dtype.hasobject:
        raise ValueError(f"load: {path} holds an object array; refusing to load it")
    return a


def load(path: str) -> Any:
    """Read what :func:`save` wrote. Tensors come back as Tensors (no grad), arrays as arrays."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no such file: {path}")
    try:
        with np.load(path, allow_pickle=False) as arrays:
            if _HEADER not in arrays.files:
                raise ValueError(f"load: {path} is not a tensorlite file (no header)")
            header = json.loads(bytes(arrays[_HEADER]).decode("utf-8"))
            if not isinstance(header, dict) or header.get("format") != _FORMAT:
                raise ValueError(f"load: {path} is not a tensorlite file (format "
                                 f"{header.get('format') if isinstance(header, dict) else '?'})")
            # Read every array while the file is open (np.load is lazy).
            return _decode(header["root"], _Eager(arrays), path)
    except (zipfile.BadZipFile, OSError, EOFError, json.JSONDecodeError, UnicodeDecodeError,
            KeyError) as e:
        raise ValueError(f"load: {path} is not a readable tensorlite file ({e})") from None
    except ValueError as e:
        if "pickle" in str(e).lower() or "object" in str(e).lower():
            raise ValueError(f"load: {path} holds pickled object arrays; refusing to load "
                             "them") from None
        raise


class _Eager:
    def __init__(self, npz: Any) -> None:
        self.npz = npz
        self.files = npz.files

    def __getitem__(self, key: str) -> np.ndarray:
        return np.array(self.npz[key])
