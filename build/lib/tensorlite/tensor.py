"""Tensor: a numpy array plus the little autograd needs to know about it."""
from __future__ import annotations

from itertools import chain as _chain
from typing import Any, Callable, Optional

import numpy as np

from . import _checks
from . import autograd as _ag

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
    # _view_version: on views, the version counter's value when the view's grad_fn was last
    # derived from its base; a differing counter means the base changed in place since, and
    # autograd.refresh_view rebases the view's grad_fn onto the base's new history.
    # _post_acc_hooks: set only by register_post_accumulate_grad_hook (read with getattr).
    __slots__ = ("_data", "grad", "grad_fn", "requires_grad", "_out_nr", "_version", "_hooks",
                 "_base", "_view_version", "_post_acc_hooks", "__weakref__")
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
        ``inputs``, only into those tensors' ``.grad``)."""
        if inputs is not None:
            _ag.backward(self, gradient, retain_graph, create_graph, inputs)
            return
        if not self.requires_grad:
            _ag.backward(self)  # raises the clear error
        if (type(gradient) is Tensor and gradient._data.shape == self._data.shape
                and gradient._data.dtype is self._data.dtype):
            seed = gradient
        else:
            seed = _ag._seed(self, gradient, "backward")
        _ag._execute((self,), (seed,), create_graph if retain_graph is None else retain_graph,
                     create_graph)

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
        _ag._retain_grad(self)

    def register_hook(self, hook: Callable) -> Any:
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new one.

        Returns a handle whose ``remove()`` unregisters the hook.
        """
        return _ag._register_hook(self, hook)

    def register_post_accumulate_grad_hook(self, hook: Callable) -> Any:
        """Call ``hook(self)`` after a backward pass has accumulated this leaf's ``.grad``
        (as soon as its gradient is complete, while the rest of the backward still runs).

        The hook returns None; it may read or change ``self.grad`` in place (an optimizer
        step in backward, an all-reduce). Returns a handle whose ``remove()`` unregisters it.
        """
        return _ag._register_post_accumulate_grad_hook(self, hook)

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

    def clone(self) -> "Tensor":
        from .ops.elementwise import clone
        return clone(self)

    def contiguous(self) -> "Tensor":
        from .ops.shape import contiguous
        return contiguous(self)

    def is_contiguous(self) -> bool:
        return bool(self._data.flags.c_contiguous)


_new = object.__new__
_ag.Tensor = Tensor
_checks.Tensor = Tensor
_ag._make = _make


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


# ---------------------------------------------------------------------------------------
# Operators and methods: thin forwards to the ops (one definition of each op, in ops/).
# ---------------------------------------------------------------------------------------
from . import ops as _ops  # noqa: E402


_NO_OPERAND = object()  # _inplace's marker for ops without a second operand (None is a value)


def check_view_write(op: str, t: Tensor, other: Any = None) -> None:
    """Refuse writes that would go wrong silently: into a view that takes part in autograd
    (the write would reach the base's memory but not its gradient: x[0][1] = v leaves x's
    graph unaware of v), into a view of a leaf that requires grad, and into read-only
    memory (expand() results, read-only numpy arrays)."""
    if not t._data.flags.writeable:
        raise RuntimeError(f"{op}: this tensor is read-only (an expand() result, or a read-only "
                           "numpy array); write into a clone() of it instead")
    base = getattr(t, "_base", None)
    if base is None or not _ag._GradMode.enabled:
        return
    if t.requires_grad or base.requires_grad or (isinstance(other, Tensor)
                                                 and other.requires_grad):
        raise RuntimeError(
            f"{op}: in-place write into a view of a tensor of shape {tuple(base.shape)} that is "
            "part of the autograd graph; the base's gradient would not see it. Index the base "
            "in one step (x[0, 1] = v rather than x[0][1] = v), or write into a clone() of the "
            "view, or wrap the write in `with tl.no_grad():`")


def _inplace(name: str, fn: Any) -> Callable:
    """An in-place method: out-of-place op, result written into this tensor's memory."""

    def method(self: Tensor, other: Any = _NO_OPERAND, *args: Any, **kwargs: Any) -> Tensor:
        operands = args if other is _NO_OPERAND else (other,) + args
        track = _ag._GradMode.enabled and (self.requires_grad or any(
            isinstance(o, Tensor) and o.requires_grad for o in operands))
        if track and self.grad_fn is None and self.requires_grad:
            raise RuntimeError(f"{name}: a leaf tensor that requires grad cannot be modified in "
                               "place (use `with tl.no_grad():` or work on a clone)")
        check_view_write(name, self, next((o for o in operands if isinstance(o, Tensor)
                                           and o.requires_grad), None))
        if track:
            # The old value may be needed by the new node (mul_'s gradient for `other`), so
            # the node sees a snapshot; this tensor then takes over the node.
            old = _make(self._data.copy(), self.requires_grad, self.grad_fn, self._out_nr, None)
            out = fn(old, *operands, **kwargs)
        else:
            with _ag.no_grad():
                out = fn(self.detach(), *operands, **kwargs)
        if out._data.shape != self._data.shape:
            raise RuntimeError(f"{name}: the result of shape {tuple(out.shape)} does not fit the "
                               f"tensor of shape {tuple(self.shape)}")
        if out._data.dtype != self._data.dtype and not np.can_cast(out._data.dtype, self._data.dtype,
                                                                 "same_kind"):
            raise TypeError(f"{name}: result dtype {out.dtype} cannot be written into a tensor of "
                            f"dtype {self.dtype}")
        self._data[...] = out._data
        self._version[0] += 1
        if track:
            self.grad_fn, self._out_nr, self.requires_grad = out.grad_fn, out._out_nr, True
        return self
    method.__name__ = name
    return method


def _zero_(self: Tensor) -> Tensor:
    return self.fill_(0)


def _fill_(self: Tensor, value: Any) -> Tensor:
    if _ag._GradMode.enabled and self.requires_grad and self.grad_fn is None:
        raise RuntimeError("fill_: a leaf tensor that requires grad cannot be filled in place "
                           "(use `with tl.no_grad():`)")
    if isinstance(value, Tensor):
        if value._data.ndim:
            # as PyTorch: a 1-element tensor of shape (1,) is refused too (it is not a scalar)
            raise RuntimeError(f"fill_: the value must be a number or a 0-d tensor, got a tensor "
                               f"of shape {tuple(value.shape)}")
        if _ag._GradMode.enabled and value.requires_grad:
            # Recorded as a write of the broadcast value, so value gets the summed gradient
            # (PyTorch records fill_ with a tensor value; reading out the number lost it).
            _ops.setitem(self, Ellipsis, value, "fill_")
            return self
        value = value._data[()]
    if not isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
        raise TypeError(f"fill_: the value must be a number, got {type(value).__name__} "
                        f"{value!r:.40}")
    if _ag._GradMode.enabled and self.requires_grad:
        # A non-leaf in a graph: recorded, so the values it had get a zero gradient (as
        # PyTorch's fill_ does) rather than the graph silently keeping the old ones.
        _ops.setitem(self, Ellipsis, value, "fill_")
        return self
    check_view_write("fill_", self)
    self._data[...] = value
    self._version[0] += 1
    return self


def _copy_(self: Tensor, src: Any) -> Tensor:
    """Copy ``src`` (broadcast) into this tensor: ``self[...] = src``, gradient included."""
    _ops.setitem(self, Ellipsis, src, "copy_")
    return self


def _clamp_(self: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    return _CLAMP_(self, min, max)


_CLAMP_ = _inplace("clamp_", lambda old, lo, hi: _ops.clamp(old, lo, hi))


def _comparable(other: Any) -> bool:
    """Whether ``t == other`` compares elementwise. As PyTorch, None, strings and other
    objects are not data: ``t == None`` is False (Python's identity fallback), not an error,
    so ``x in [None, t]`` and ``if t != None`` work."""
    return other is not None and not isinstance(other, (str, bytes)) and (
        isinstance(other, (Tensor, int, float, np.ndarray, np.generic, list, tuple)))


_methods = {
    "__add__": _ops.add, "__radd__": lambda s, o: _ops.add(o, s),
    "__sub__": _ops.sub, "__rsub__": lambda s, o: _ops.sub(o, s),
    "__mul__": _ops.mul, "__rmul__": lambda s, o: _ops.mul(o, s),
    "__truediv__": _ops.div, "__rtruediv__": lambda s, o: _ops.div(o, s),
    "__pow__": _ops.pow, "__rpow__": lambda s, o: _ops.pow(o, s),
    "__matmul__": _ops.matmul, "__rmatmul__": lambda s, o: _ops.matmul(o, s),
    "__floordiv__": _ops.floor_divide, "__rfloordiv__": lambda s, o: _ops.floor_divide(o, s),
    "__mod__": _ops.remainder, "__rmod__": lambda s, o: _ops.remainder(o, s),
    "floor_divide": _ops.floor_divide, "remainder": _ops.remainder,
    "__neg__": _ops.neg, "__pos__": lambda s: s, "__abs__": _ops.abs,
    "__eq__": lambda s, o: _ops.eq(s, o) if _comparable(o) else NotImplemented,
    "__ne__": lambda s, o: _ops.ne(s, o) if _comparable(o) else NotImplemented,
    "__lt__": _ops.lt, "__le__": _ops.le,
    "__gt__": _ops.gt, "__ge__": _ops.ge,
    "__invert__": _ops.bitwise_not, "__and__": _ops.bitwise_and, "__or__": _ops.bitwise_or,
    "__xor__": _ops.bitwise_xor, "__rand__": lambda s, o: _ops.bitwise_and(o, s),
    "__ror__": lambda s, o: _ops.bitwise_or(o, s), "__rxor__": lambda s, o: _ops.bitwise_xor(o, s),
    "__getitem__": _ops.getitem, "__setitem__": _ops.setitem,
    "add": _ops.add, "sub": _ops.sub, "mul": _ops.mul, "div": _ops.div, "pow": _ops.pow,
    "matmul": _ops.matmul, "neg": _ops.neg,
    "exp": _ops.exp, "log": _ops.log, "sqrt": _ops.sqrt, "abs": _ops.abs, "tanh": _ops.tanh,
    "sigmoid": _ops.sigmoid, "relu": _ops.relu, "erf": _ops.erf, "sin": _ops.sin, "cos": _ops.cos,
    "sign": _ops.sign, "square": _ops.square, "clamp": _ops.clamp, "clip": _ops.clamp,
    "maximum": _ops.maximum, "minimum": _ops.minimum,
    "eq": _ops.eq, "ne": _ops.ne, "lt": _ops.lt, "le": _ops.le, "gt": _ops.gt, "ge": _ops.ge,
    "isnan": _ops.isnan, "isfinite": _ops.isfinite,
    "sum": _ops.sum, "mean": _ops.mean, "max": _ops.max, "min": _ops.min, "amax": _ops.amax,
    "amin": _ops.amin, "var": _ops.var, "std": _ops.std, "logsumexp": _ops.logsumexp,
    "argmax": _ops.argmax, "argmin": _ops.argmin, "any": _ops.any, "all": _ops.all,
    "gather": _ops.gather,
    "reshape": _ops.reshape, "view": _ops.view, "flatten": _ops.flatten,
    "squeeze": _ops.squeeze, "unsqueeze": _ops.unsqueeze, "transpose": _ops.transpose,
    "permute": _ops.permute, "expand": _ops.expand, "flip": _ops.flip,
    "split": _ops.split, "chunk": _ops.chunk, "unbind": _ops.unbind,
    "softmax": _ops.softmax, "log_softmax": _ops.log_softmax,
    "add_": _inplace("add_", _ops.add), "sub_": _inplace("sub_", _ops.sub),
    "mul_": _inplace("mul_", _ops.mul), "div_": _inplace("div_", _ops.div),
    # x += y is in place, as in PyTorch (and numpy): `p -= lr * p.grad` must update p itself,
    # not rebind a local name to a new tensor.
    "__iadd__": _inplace("__iadd__", _ops.add), "__isub__": _inplace("__isub__", _ops.sub),
    "__imul__": _inplace("__imul__", _ops.mul),
    "__itruediv__": _inplace("__itruediv__", _ops.div),
    "clamp_": _clamp_, "zero_": _zero_, "fill_": _fill_, "copy_": _copy_,
    # -- more elementwise math (ops/elementwise.py, ops/compare.py) --
    "reciprocal": _ops.reciprocal, "rsqrt": _ops.rsqrt, "log1p": _ops.log1p,
    "expm1": _ops.expm1, "log2": _ops.log2, "log10": _ops.log10, "tan": _ops.tan,
    "asin": _ops.asin, "acos": _ops.acos, "atan": _ops.atan, "arcsin": _ops.asin,
    "arccos": _ops.acos, "arctan": _ops.atan, "sinh": _ops.sinh, "cosh": _ops.cosh,
    "floor": _ops.floor, "ceil": _ops.ceil, "trunc": _ops.trunc, "fix": _ops.trunc,
    "round": _ops.round, "frac": _ops.frac,
    "atan2": _ops.atan2, "arctan2": _ops.atan2, "hypot": _ops.hypot,
    "logaddexp": _ops.logaddexp, "fmod": _ops.fmod, "lerp": _ops.lerp,
    "nan_to_num": _ops.nan_to_num, "isinf": _ops.isinf, "isposinf": _ops.isposinf,
    "isneginf": _ops.isneginf, "isclose": _ops.isclose, "allclose": _ops.allclose,
    "equal": _ops.equal,
    "exp_": _inplace("exp_", _ops.exp), "log_": _inplace("log_", _ops.log),
    "sqrt_": _inplace("sqrt_", _ops.sqrt), "abs_": _inplace("abs_", _ops.abs),
    "neg_": _inplace("neg_", _ops.neg), "tanh_": _inplace("tanh_", _ops.tanh),
    "sigmoid_": _inplace("sigmoid_", _ops.sigmoid), "relu_": _inplace("relu_", _ops.relu),
    "floor_": _inplace("floor_", _ops.floor), "round_": _inplace("round_", _ops.round),
    "reciprocal_": _inplace("reciprocal_", _ops.reciprocal),
    "pow_": _inplace("pow_", _ops.pow),
    # -- more reductions, scans and sorting (ops/reduce.py, ops/sort.py) --
    "prod": _ops.prod, "cumsum": _ops.cumsum, "cumprod": _ops.cumprod, "norm": _ops.norm,
    "sort": _ops.sort, "argsort": _ops.argsort, "msort": _ops.msort, "topk": _ops.topk,
    "kthvalue": _ops.kthvalue, "median": _ops.median, "count_nonzero": _ops.count_nonzero,
    "nonzero": _ops.nonzero, "unique": _ops.unique, "cummax": _ops.cummax,
    "cummin": _ops.cummin, "logcumsumexp": _ops.logcumsumexp, "aminmax": _ops.aminmax,
    "masked_select": _ops.masked_select,
    # -- more shape and indexing ops (ops/shape.py), creation helpers --
    "masked_fill": _ops.masked_fill, "masked_fill_": _inplace("masked_fill_", _ops.masked_fill),
    "index_select": _ops.index_select, "repeat": _ops.repeat, "tile": _ops.tile,
    "repeat_interleave": _ops.repeat_interleave,
    "scatter": _ops.scatter, "scatter_": _inplace("scatter_", _ops.scatter),
    "scatter_add": _ops.scatter_add, "scatter_add_": _inplace("scatter_add_", _ops.scatter_add),
    "take_along_dim": _ops.take_along_dim, "narrow": _ops.narrow, "roll": _ops.roll,
    "tril": _ops.tril, "triu": _ops.triu, "diag": _ops.diag, "diagonal": _ops.diagonal,
    "movedim": _ops.movedim, "moveaxis": _ops.moveaxis, "swapaxes": _ops.swapaxes,
    "swapdims": _ops.swapdims, "unflatten": _ops.unflatten, "broadcast_to": _ops.broadcast_to,
    "new_zeros": _ops.new_zeros, "new_ones": _ops.new_ones, "new_full": _ops.new_full,
    "new_empty": _ops.new_empty, "new_tensor": _ops.new_tensor, "type_as": _ops.type_as,
    "cpu": _ops.cpu,
    # -- more linear algebra (ops/linalg.py) and random sampling --
    "mm": _ops.mm, "bmm": _ops.bmm, "dot": _ops.dot, "mv": _ops.mv, "outer": _ops.outer,
    "ger": _ops.ger, "addmm": _ops.addmm, "addmv": _ops.addmv, "baddbmm": _ops.baddbmm,
    "multinomial": _ops.multinomial, "bernoulli": _ops.bernoulli,
    "uniform_": _ops.uniform_, "normal_": _ops.normal_, "bernoulli_": _ops.bernoulli_,
    "exponential_": _ops.exponential_, "random_": _ops.random_,
}
for _name, _fn in _methods.items():
    setattr(Tensor, _name, _fn)
Tensor.__hash__ = object.__hash__


def _t(self: Tensor) -> Tensor:
    if self.ndim > 2:
        raise RuntimeError(f"t: expects a tensor with at most 2 dims, got shape "
                           f"{tuple(self.shape)}; use transpose(dim0, dim1) or .mT")
    return _ops.transpose(self, 0, 1) if self.ndim == 2 else self


Tensor.t = _t
Tensor.view_as = lambda self, other: _ops.view(self, other.shape)
Tensor.expand_as = lambda self, other: _ops.expand(self, other.shape)
Tensor.reshape_as = lambda self, other: _ops.reshape(self, other.shape)


def _shape_inplace(name: str, fn: Any) -> Callable:
    """An in-place shape change (``unsqueeze_``, ``squeeze_``, ``t_``, ``transpose_``): the
    tensor takes the out-of-place result's view of the same memory, and its graph node."""

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        track = _ag._GradMode.enabled and self.requires_grad
        if track and self.grad_fn is None:
            raise RuntimeError(f"{name}: a leaf tensor that requires grad cannot be modified in "
                               "place (use the out-of-place form, or `with tl.no_grad():`)")
        if track:
            out = fn(_make(self._data, True, self.grad_fn, self._out_nr, self._version),
                     *args, **kwargs)
            self.grad_fn, self._out_nr = out.grad_fn, out._out_nr
        else:
            with _ag.no_grad():
                out = fn(self.detach(), *args, **kwargs)
        self._data = out._data
        self._version[0] += 1
        return self
    method.__name__ = name
    return method


Tensor.unsqueeze_ = _shape_inplace("unsqueeze_", _ops.unsqueeze)
Tensor.squeeze_ = _shape_inplace("squeeze_", _ops.squeeze)
Tensor.transpose_ = _shape_inplace("transpose_", _ops.transpose)
Tensor.t_ = _shape_inplace("t_", _t)
