"""Tensor: a numpy array plus the little autograd needs to know about it."""
from __future__ import annotations

from itertools import chain as _chain
from typing import Any, Callable, Optional

import sys as _sys

import numpy as np


float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
bool_ = np.dtype(np.bool_)
_DEFAULT_FLOAT = float32

_DTYPE_NAMES = {float32: "float32", float64: "float64", int64: "int64", int32: "int32",
                bool_: "bool"}


# Tensor type names as PyTorch spells them (x.type() -> 'tensorlite.FloatTensor').
_TYPE_NAMES = {np.dtype(np.float32): "FloatTensor", np.dtype(np.float64): "DoubleTensor",
               np.dtype(np.int64): "LongTensor", np.dtype(np.int32): "IntTensor",
               np.dtype(np.int16): "ShortTensor", np.dtype(np.int8): "CharTensor",
               np.dtype(np.uint8): "ByteTensor", np.dtype(np.bool_): "BoolTensor"}


def as_dtype(dtype: Any, op: str = "dtype") -> np.dtype:
    """A numpy dtype from ``tl.float32``, ``np.float64``, ``'int64'``, ``float`` ...

    Only the dtypes tensors support: bool, (unsigned) integers, float32 and float64.
    Complex, string and object dtypes have no meaning for the ops, and float16 has no
    kernels (numba cannot compile them), so each is refused here, naming ``op``."""
    if dtype is float:
        return _DEFAULT_FLOAT
    if dtype is int:
        return int64
    if dtype is bool:
        return bool_
    if isinstance(dtype, np.dtype) and (dtype is float32 or dtype is float64 or dtype is int64):
        return dtype  # the common cases, without the checks below
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{op}: unknown dtype {dtype!r}") from None
    if not _supported(dt):
        raise TypeError(f"{op}: unsupported dtype {dt} (tensors hold bool, integer, float32 or "
                        "float64 data)")
    return dt


def _supported(dt: np.dtype) -> bool:
    return dt.kind in "iub" or (dt.kind == "f" and dt.itemsize in (4, 8))


def _make(data: np.ndarray, requires_grad: bool, grad_fn: Any, out_nr: int,
          version: Optional[list]) -> "Tensor":
    # The one constructor on the hot path: no argument checking, no copies.
    t = _new(Tensor)
    t._data = data
    t.requires_grad = requires_grad
    t.grad_fn = grad_fn
    t._out_nr = out_nr
    t._version = [0] if version is None else version
    t.grad = None
    t._hooks = None
    t._view_version = None
    return t


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    ``_data`` is the underlying numpy array (users reach it as ``.numpy()``; ``.data`` is,
    as in PyTorch, a Tensor sharing it). A tensor with ``requires_grad=True`` that was
    created by the user is a *leaf*; tensors computed from it carry a ``grad_fn`` (the
    node that made them) and receive gradients during ``backward``.
    """

    # _base: set only on views (basic indexing, reshape/view, permute, expand), to the tensor
    # whose memory they share; read with getattr(t, "_base", None), off the hot path.
    # _hooks: None, or a leaf's hooks (autograd/hooks.py's LeafHooks).
    # _view_version: None, or on views the version counter's value when the view's grad_fn
    # was last derived from its base; a differing counter means the base changed in place
    # since, and autograd/views.py's refresh_view rebases the view's grad_fn onto the base's
    # new history.
    __slots__ = ("_data", "grad", "grad_fn", "requires_grad", "_out_nr", "_version", "_hooks",
                 "_base", "_view_version", "__weakref__")
    # numpy must defer to our reflected operators (array * tensor -> Tensor.__rmul__).
    __array_ufunc__ = None
    __array_priority__ = 1000

    def __init__(self, data: Any, dtype: Any = None, requires_grad: bool = False) -> None:
        arr = _to_array(data, dtype)
        self._data = arr
        self.grad = None
        self.grad_fn = None
        self._out_nr = 0
        self._version = [0]
        self._hooks = None
        self._view_version = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # -- attributes ---------------------------------------------------------------------
    @property
    def data(self) -> "Tensor":
        """The same storage as a Tensor outside the graph, as PyTorch's ``.data``.

        Unlike ``detach()`` it has its own version counter, so in-place changes made
        through it are invisible to autograd (PyTorch's rule; ``p.data.add_(...)`` in an
        optimizer must not invalidate the graph). The numpy array is ``.numpy()``."""
        return _make(self._data, False, None, 0, None)

    @data.setter
    def data(self, value: "Tensor") -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"data: expected a Tensor, got {type(value).__name__}")
        self._data = value._data

    @property
    def shape(self) -> tuple:
        return self._data.shape

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    def size(self, dim: Optional[int] = None) -> Any:
        if dim is None:
            return self._data.shape
        from ._checks import normalize_dim
        return self._data.shape[normalize_dim("size", dim, self._data.ndim)]

    def numel(self) -> int:
        return int(self._data.size)

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def T(self) -> "Tensor":
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self) -> "Tensor":
        return self.transpose(-2, -1)

    @property
    def _version_count(self) -> int:
        return self._version[0]

    # -- numpy interop -----------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The array itself (shared memory); a copy when the tensor requires grad."""
        return self._data.copy() if self.requires_grad else self._data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if dtype is not None:
            return self._data.astype(dtype)
        return self._data.copy() if copy else self._data

    def item(self) -> Any:
        if self._data.size != 1:
            raise ValueError(f"item: only a tensor with one element can be converted to a Python "
                             f"scalar, got shape {tuple(self.shape)}")
        return self._data.reshape(()).item()

    def tolist(self) -> Any:
        return self._data.tolist()

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(f"bool: the truth value of a tensor with {self._data.size} elements "
                               "is ambiguous; use .any() or .all()")
        return bool(self._data.reshape(()))

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.item())

    __hash__ = object.__hash__

    def __format__(self, spec: str) -> str:
        # f"{loss:.4f}" works on a 0-d tensor, as in PyTorch; other tensors take no spec.
        if self._data.ndim == 0:
            return format(self.item(), spec)
        return object.__format__(self, spec)

    def __repr__(self) -> str:
        body = np.array2string(self._data, separator=", ", prefix="tensor(", precision=4,
                               threshold=200)
        extras = []
        if self.dtype not in (_DEFAULT_FLOAT, int64) or self._data.size == 0:
            extras.append(f"dtype=tl.{_DTYPE_NAMES.get(self.dtype, str(self.dtype))}")
        elif self.dtype == int64 and self._data.size == 0:
            extras.append("dtype=tl.int64")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    # -- autograd ------------------------------------------------------------------------
    def backward(self, gradient: Any = None, retain_graph: Optional[bool] = None,
                 create_graph: bool = False, inputs: Any = None) -> None:
        """Accumulate the gradient of this tensor into every leaf's ``.grad`` (with
        ``inputs``, only into those tensors' ``.grad``). The walk: autograd/engine.py."""
        _engine.backward(self, gradient, retain_graph, create_graph, inputs)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError(f"requires_grad_: only floating-point tensors can require "
                               f"gradients, got dtype {self.dtype}")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_: cannot turn off requires_grad of a non-leaf "
                               "tensor; use .detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self) -> "Tensor":
        """The same data (shared memory and version counter), cut from the graph."""
        return _make(self._data, False, None, 0, self._version)

    def detach_(self) -> "Tensor":
        """Cut this tensor from the graph in place. A view is refused (PyTorch's rule): it
        shares memory and version with its base, so only ``detach()`` can cut it."""
        if getattr(self, "_base", None) is not None:
            raise RuntimeError(f"detach_: cannot detach a view (of a tensor of shape "
                               f"{tuple(self._base.shape)}) in place; use detach() instead")
        self.grad_fn = None
        self.requires_grad = False
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        _autograd().hooks.retain_grad(self)

    def register_hook(self, hook: Callable) -> Any:
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new one.

        Returns a handle whose ``remove()`` unregisters the hook.
        """
        return _autograd().hooks.register_hook(self, hook)

    def register_post_accumulate_grad_hook(self, hook: Callable) -> Any:
        """Call ``hook(self)`` after a backward pass has accumulated this leaf's ``.grad``
        (as soon as its gradient is complete, while the rest of the backward still runs).

        The hook returns None; it may read or change ``self.grad`` in place (an optimizer
        step in backward, an all-reduce). Returns a handle whose ``remove()`` unregisters it.
        """
        return _autograd().hooks.register_post_accumulate_grad_hook(self, hook)

    @property
    def _post_acc_hooks(self) -> Any:
        """This leaf's post-accumulate-grad hooks (a list), or None."""
        return self._hooks.post if self._hooks is not None else None

    # -- conversions ---------------------------------------------------------------------
    def to(self, *args: Any, **kwargs: Any) -> "Tensor":
        """PyTorch's call forms: ``to(dtype)``, ``to(device)``, ``to(device, dtype)``,
        ``to(other)``, keywords ``dtype``, ``device``, ``copy``. The tensor itself comes back
        when nothing changes (and ``copy`` is False); the only device is the CPU."""
        from .ops.elementwise import cast, clone
        if len(args) == 1 and not kwargs and isinstance(args[0], np.dtype):
            return cast(self, args[0])
        from .device import parse_to
        dtype, copy = parse_to(args, kwargs)
        out = self if dtype is None else cast(self, as_dtype(dtype, "to"))
        return clone(out) if copy and out is self else out

    def type(self, dtype: Any = None) -> Any:
        """Without an argument the type's name (PyTorch's ``'torch.FloatTensor'`` style, here
        ``'tensorlite.FloatTensor'``); with a dtype, or a name such as ``'torch.DoubleTensor'``,
        the tensor converted to it."""
        if dtype is None:
            return f"tensorlite.{_TYPE_NAMES.get(self._data.dtype, 'Tensor')}"
        if isinstance(dtype, str) and dtype.endswith("Tensor"):
            name = dtype.rsplit(".", 1)[-1]
            found = [dt for dt, n in _TYPE_NAMES.items() if n == name]
            if not found:
                raise TypeError(f"type: unknown tensor type {dtype!r}")
            dtype = found[0]
        return self.to(dtype)

    def half(self) -> "Tensor":
        raise TypeError("half: float16 tensors are not supported (no kernels for them); use "
                        ".float() or .double()")

    def bfloat16(self) -> "Tensor":
        raise TypeError("bfloat16: bfloat16 tensors are not supported (no kernels for them); "
                        "use .float() or .double()")

    @property
    def device(self) -> Any:
        """Always the CPU (``tl.device('cpu')``)."""
        from .device import CPU
        return CPU

    @property
    def is_cuda(self) -> bool:
        return False

    def cuda(self, *args: Any, **kwargs: Any) -> "Tensor":
        from .device import no_cuda
        raise no_cuda("Tensor")

    def float(self) -> "Tensor":
        return self.to(float32)

    def double(self) -> "Tensor":
        return self.to(float64)

    def long(self) -> "Tensor":
        return self.to(int64)

    def int(self) -> "Tensor":
        return self.to(int32)

    def bool(self) -> "Tensor":
        return self.to(bool_)

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_contiguous(self) -> bool:
        return bool(self._data.flags.c_contiguous)


_new = object.__new__


def _to_array(data: Any, dtype: Any = None) -> np.ndarray:
    """An ndarray from Python data, numpy data or a Tensor, with tensorlite's dtype rules."""
    if isinstance(data, Tensor):
        data = data._data
    if dtype is not None:
        dtype = as_dtype(dtype, "tensor")
        fresh = not isinstance(data, np.ndarray)
        arr = _np_array("tensor", data, None) if fresh else data
        if arr.dtype.kind not in "fiub":
            # Converting first and checking the kind: np.array(data, float32) would parse
            # strings, turn None into NaN and drop imaginary parts, all silently.
            raise TypeError(f"tensor: cannot convert data of dtype {arr.dtype} to {dtype}")
        return arr.astype(dtype, copy=not fresh)
    if isinstance(data, np.ndarray):
        arr = np.array(data)
    elif isinstance(data, np.generic):
        arr = np.array(data)
    else:
        arr = _np_array("tensor", data, None)
        if arr.dtype.kind in "fuO" and isinstance(data, (int, list, tuple)):
            big, f64 = _scan(data)
            if big is not None:
                # numpy makes ints past int64 uint64 (wrapped to negative by the int64 cast
                # below) or, mixed with small ones, float64: PyTorch refuses them.
                raise TypeError(f"tensor: an integer does not fit in int64: {big}")
            # Python floats become the default float dtype (float32), as in PyTorch; float64
            # numpy scalars, arrays or tensors among the data keep float64, as in PyTorch.
            if arr.dtype == float64 and not f64:
                arr = arr.astype(_DEFAULT_FLOAT)
        elif arr.dtype == float64:  # a Python float
            arr = arr.astype(_DEFAULT_FLOAT)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"tensor: unsupported data of dtype {arr.dtype}")
    if arr.dtype.kind in "iu" and arr.dtype != int64 and not isinstance(data, (np.ndarray,
                                                                               np.generic)):
        arr = arr.astype(int64)
    if arr.dtype == np.float16:
        arr = arr.astype(float32)
    elif arr.dtype.kind == "f" and not _supported(arr.dtype):
        raise TypeError(f"tensor: unsupported data of dtype {arr.dtype} (use float32 or float64)")
    return arr


def _np_array(op: str, data: Any, dtype: Any) -> np.ndarray:
    """np.array(data, dtype) with numpy's conversion errors (ragged nested lists, strings
    that are not numbers) restated with the op's name."""
    try:
        return np.array(data, dtype=dtype)
    except (ValueError, TypeError, OverflowError) as e:
        if "inhomogeneous" in str(e) or "sequence" in str(e):
            raise ValueError(f"{op}: nested sequences have unequal lengths (a ragged list "
                             f"cannot be a tensor): {e}") from None
        raise type(e)(f"{op}: cannot convert {type(data).__name__} data"
                      + (f" to {np.dtype(dtype)}" if dtype is not None else "")
                      + f": {e}") from None


_PLAIN = frozenset((float, int, bool))


def _scan(data: Any) -> tuple:
    """(an int outside int64's range or None, whether a float64 numpy scalar, array or
    tensor is among the data) for nested lists. Goes level by level with C-level passes
    (element types, min/max of the ints), so that tl.tensor of a long list of Python
    numbers stays close to np.array's cost."""
    big, f64 = None, False
    level = data if isinstance(data, (list, tuple)) else [data]
    while level:
        types = set(map(type, level))
        if int in types and big is None:
            ints = [d for d in level if type(d) is int]
            big = next((v for v in (min(ints), max(ints)) if not -2 ** 63 <= v < 2 ** 63), None)
        for t in types - _PLAIN:
            if t is list or t is tuple or f64:
                continue
            if issubclass(t, (np.ndarray, np.generic, Tensor)):
                f64 = any(d.dtype == float64 for d in level if type(d) is t)
        if list not in types and tuple not in types:
            break
        level = list(_chain.from_iterable(d for d in level if type(d) is list or type(d) is tuple))
    return big, f64


def _autograd() -> Any:
    """The autograd package, which imports this module (Tensor is the leaf of the import
    graph): the few methods that start the engine look it up when called."""
    return _sys.modules["tensorlite.autograd"]


class _Engine:
    """``Tensor.backward``'s way to the engine: looked up once, on the first call."""

    def __getattr__(self, name: str) -> Any:
        entry = _autograd().api.tensor_backward
        self.backward = entry
        return entry


_engine = _Engine()
