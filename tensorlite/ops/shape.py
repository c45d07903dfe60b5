"""Shape ops: reshape/view, permute/transpose, expand, flip, indexing, cat/stack, pad.

Ops whose result is a numpy view of their input (reshape, permute, expand, basic
indexing) share the input's version counter, so an in-place change through either is
seen by every saved tensor that aliases the same memory.
"""
from __future__ import annotations

import functools
from typing import Any, Sequence

import numpy as np

from .._checks import broadcast_shape, check_int, is_int, normalize_dim, normalize_dims, shape_str
from ..autograd import Function, is_grad_enabled
from ..autograd.views import AsStrided, AsStridedAdjoint, rebased_view  # noqa: F401
from ..tensor import Tensor, _make
from .broadcast import result_dtype, unbroadcast


def _shape_arg(op: str, shape: Sequence[Any]) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    for s in shape:
        # int(2.5) would silently truncate a computed size: only integers are sizes
        if not is_int(s):
            raise TypeError(f"{op}: sizes must be ints, got {type(s).__name__} {s!r} in "
                            f"{tuple(shape)!r}")
    return tuple(int(s) for s in shape)


class Reshape(Function):
    _shares_version = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x._data.shape
        return x._data.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape)


def _check_shape(op: str, x: Tensor, shape: tuple) -> None:
    n = x._data.size
    known = int(np.prod([s for s in shape if s != -1])) if shape else 1
    bad = shape.count(-1) > 1 or any(s < -1 for s in shape) or (
        -1 not in shape and known != n) or (-1 in shape and (known == 0 or n % known))
    if bad:
        raise RuntimeError(f"{op}: shape {shape_str(shape)} is invalid for an input of shape "
                           f"{shape_str(x._data.shape)} ({n} elements)")


def _as_view(out: Tensor, x: Tensor) -> Tensor:
    """Mark ``out`` as a view of ``x`` (or of x's own base) when their memory is shared; the
    in-place ops consult the mark (tensor.check_view_write)."""
    if out._data.base is not None and np.may_share_memory(out._data, x._data):
        base = getattr(x, "_base", None)
        out._base = x if base is None else base
        # a view made under no_grad is marked by the complement (negative): it may not be
        # rebased onto a history it never had (autograd.refresh_view, PyTorch's rule)
        out._view_version = out._version[0] if is_grad_enabled() else ~out._version[0]
    return out


def reshape(x: Tensor, *shape: Any) -> Tensor:
    shape = _shape_arg("reshape", shape)
    if shape == x._data.shape:
        return x
    _check_shape("reshape", x, shape)
    out = Reshape.apply(x, shape)
    if not np.may_share_memory(out._data, x._data):
        # numpy copied (x was transposed, say): the copy is not a view, so an in-place
        # change of it must not look like a change of x to x's saved uses.
        out._version = [0]
        return out
    return _as_view(out, x)


def view(x: Tensor, *shape: Any) -> Tensor:
    """PyTorch's view: a reshape that shares x's memory. A layout that would need a copy (a
    transposed tensor, say) is an error, as in PyTorch, since writes through the result
    would then silently miss x; ``reshape`` copies in that case."""
    shape = _shape_arg("view", shape)
    if shape == x._data.shape:
        return x
    _check_shape("view", x, shape)
    probe = x._data.view()
    try:
        probe.shape = shape  # numpy refuses exactly when the new shape needs a copy
    except AttributeError:
        raise RuntimeError(f"view: a tensor of shape {shape_str(x._data.shape)} and strides "
                           f"{x._data.strides} cannot be viewed as {shape_str(shape)} without a "
                           "copy; use .reshape() (or .contiguous() first)") from None
    return _as_view(Reshape.apply(x, shape), x)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    if x._data.ndim == 0:
        return reshape(x, 1)
    s = normalize_dim("flatten", start_dim, x._data.ndim)
    e = normalize_dim("flatten", end_dim, x._data.ndim)
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = x._data.shape
    return reshape(x, shape[:s] + (int(np.prod(shape[s:e + 1])),) + shape[e + 1:])


def squeeze(x: Tensor, dim: Any = None) -> Tensor:
    shape = x._data.shape
    if dim is None:
        return reshape(x, tuple(n for n in shape if n != 1))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    dims = {normalize_dim("squeeze", d, x._data.ndim) for d in dims}
    return reshape(x, tuple(n for i, n in enumerate(shape) if not (i in dims and n == 1)))


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    d = normalize_dim("unsqueeze", dim, x._data.ndim + 1)
    shape = x._data.shape
    return reshape(x, shape[:d] + (1,) + shape[d:])


class Permute(Function):
    _shares_version = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x._data.transpose(dims)

    @staticmethod
    def backward(ctx, g):
        return g.permute(*np.argsort(ctx.dims).tolist())


def permute(x: Tensor, *dims: Any) -> Tensor:
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    for d in dims:
        if not is_int(d):
            raise TypeError(f"permute: dims must be ints, got {type(d).__name__} {d!r} in "
                            f"{dims!r}")
    nd = x._data.ndim
    if len(dims) != nd:
        raise ValueError(f"permute: got {len(dims)} dims {dims} for a tensor with {nd} dims")
    dims = tuple(normalize_dim("permute", d, nd) for d in dims)
    if sorted(dims) != list(range(nd)):
        raise ValueError(f"permute: dims {dims} are not a permutation of 0..{nd - 1}")
    if dims == tuple(range(nd)):
        return x
    return _as_view(Permute.apply(x, dims), x)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    nd = x._data.ndim
    if nd < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return x
    a = normalize_dim("transpose", dim0, nd)
    b = normalize_dim("transpose", dim1, nd)
    dims = list(range(nd))
    dims[a], dims[b] = dims[b], dims[a]
    return permute(x, *dims)


class Expand(Function):
    _shares_version = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x._data.shape
        return np.broadcast_to(x._data, shape)

    @staticmethod
    def backward(ctx, g):
        return unbroadcast(g, ctx.in_shape)


def expand(x: Tensor, *shape: Any) -> Tensor:
    shape = _shape_arg("expand", shape)
    xs = x._data.shape
    if len(shape) < len(xs):
        raise RuntimeError(f"expand: the target shape {shape_str(shape)} has fewer dims than the "
                           f"input {shape_str(xs)}")
    lead = len(shape) - len(xs)
    target = list(shape)
    for i, n in enumerate(xs):
        if target[lead + i] == -1:
            target[lead + i] = n
        elif n != 1 and target[lead + i] != n:
            raise RuntimeError(f"expand: input of shape {shape_str(xs)} cannot be expanded to "
                               f"{shape_str(shape)} (dim {lead + i}: {n} is not 1)")
    if any(t < 0 for t in target):
        raise RuntimeError(f"expand: invalid target shape {shape_str(shape)}")
    target = tuple(target)
    if target == xs:
        return x
    return _as_view(Expand.apply(x, target), x)


def expand_as(x: Tensor, other: Tensor) -> Tensor:
    return expand(x, other.shape)


class Flip(Function):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.flip(x._data, dims).copy()

    @staticmethod
    def backward(ctx, g):
        return Flip.apply(g, ctx.dims)


def flip(x: Tensor, *args: Any, dims: Any = None) -> Tensor:
    """Reverse the order along ``dims``: ``flip(x, (0, 1))``, ``flip(x, dims=(0, 1))`` or,
    as the method, ``x.flip(0, 1)``."""
    if dims is None:
        if not args:
            raise TypeError("flip: missing dims (an int or a tuple of ints)")
        dims = args[0] if len(args) == 1 else args
    elif args:
        raise TypeError("flip: dims given both positionally and as a keyword")
    # normalize_dims refuses repeated dims (numpy's "repeated axis" would not name flip)
    dims = normalize_dims("flip", dims, x._data.ndim)
    return Flip.apply(x, dims)


class Contiguous(Function):
    @staticmethod
    def forward(ctx, x):
        return x._data.copy(order="C")

    @staticmethod
    def backward(ctx, g):
        return g


def contiguous(x: Tensor) -> Tensor:
    if x._data.flags.c_contiguous:
        return x
    return Contiguous.apply(x)


# ---------------------------------------------------------------------------------------
# Indexing
# ---------------------------------------------------------------------------------------
class TwoStepIndex:
    """An index mixing integers with index arrays, applied as PyTorch does: the integers
    (with the slices, None and Ellipsis) first, as a basic index, then the arrays on the
    result. numpy treats an integer as one more advanced index, which changes the layout:
    for x of shape (3, 4, 5), numpy's x[0, :, [1, 3]] has shape (2, 4), PyTorch's (4, 2)
    (the arrays' dims move to the front only when arrays are separated from each other)."""

    __slots__ = ("basic", "adv")

    def __init__(self, basic: tuple, adv: tuple) -> None:
        self.basic, self.adv = basic, adv


def take(a: np.ndarray, idx: Any) -> Any:
    """``a[idx]`` for a normalized index (a tuple or a TwoStepIndex)."""
    if type(idx) is TwoStepIndex:
        return a[idx.basic][idx.adv]
    return a[idx]


def put(a: np.ndarray, idx: Any, value: Any) -> None:
    """``a[idx] = value``; the basic step of a TwoStepIndex is a view, so it writes into a."""
    if type(idx) is TwoStepIndex:
        a[idx.basic][idx.adv] = value
    else:
        a[idx] = value


def _index_item(op: str, it: Any) -> Any:
    if isinstance(it, Tensor):
        it = it._data
    elif isinstance(it, range):
        it = np.arange(it.start, it.stop, it.step, dtype=np.int64)   # as PyTorch: a sequence
    elif isinstance(it, list):
        try:
            it = np.asarray(it)
        except ValueError:
            raise IndexError(f"{op}: a list index must be rectangular (nested lists of "
                             f"equal lengths), got {it!r:.60}") from None
        if it.size == 0 and it.dtype.kind == "f":
            it = it.astype(np.int64)  # [] holds no floats: an empty list of indices
    elif isinstance(it, (bool, np.bool_)):
        it = np.asarray(it)  # True/False index as a 0-d mask (a new dim), not as 1/0
    if isinstance(it, np.ndarray):
        if it.dtype.kind not in "iub":
            raise IndexError(f"{op}: tensors used as indices must be integer or bool, got "
                             f"dtype {it.dtype}")
        if it.ndim == 0 and it.dtype.kind in "iu":
            # A 0-d integer tensor indexes like the integer it holds (PyTorch selects).
            it = int(it)
    elif isinstance(it, slice):
        for v in (it.start, it.stop, it.step):
            if v is not None and not is_int(v) and not (
                    isinstance(v, Tensor) and v._data.dtype.kind in "iu" and v._data.size == 1):
                raise TypeError(f"{op}: slice bounds must be ints or None, got "
                                f"{type(v).__name__} {v!r} in {it!r}")
        if it.step is not None and int(it.step) == 0:
            raise ValueError(f"{op}: slice step cannot be zero ({it!r})")
        if it.step is not None and int(it.step) < 0:
            # PyTorch refuses negative steps; numpy's reversed view would make code that
            # works here fail there.
            raise ValueError(f"{op}: slice step must be greater than zero, got {it!r}; use "
                             "flip() to reverse a dim")
    elif not (it is None or it is Ellipsis or isinstance(it, (int, np.integer))):
        raise IndexError(f"{op}: unsupported index of type {type(it).__name__}")
    return it


def _two_step(items: tuple, ndim: int) -> TwoStepIndex:
    """Split ``items`` (integers and arrays mixed) into PyTorch's two steps."""
    consumed = sum(1 if isinstance(it, (int, np.integer, slice)) else
                   it.ndim if isinstance(it, np.ndarray) and it.dtype.kind == "b" else
                   1 if isinstance(it, np.ndarray) else 0 for it in items)
    basic, arrays, out = [], {}, 0  # arrays: position in the intermediate result -> (array, dims)
    for it in items:
        if isinstance(it, np.ndarray):
            if it.dtype.kind == "b" and it.ndim == 0:
                # a 0-d mask adds a dim of size 1 and keeps (True) or drops (False) its entry
                basic.append(None)
                arrays[out] = (it.reshape(1), 1)
                out += 1
            else:
                span = it.ndim if it.dtype.kind == "b" else 1
                basic.extend([slice(None)] * span)
                arrays[out] = (it, span)
                out += span
        else:
            basic.append(it)
            if it is Ellipsis:
                out += ndim - consumed
            elif it is None or isinstance(it, slice):
                out += 1
    if Ellipsis not in basic:
        basic.append(Ellipsis)  # keeps the basic step an array view even when all dims go
    adv, p = [], 0
    while p < out:
        if p in arrays:
            arr, span = arrays[p]
            adv.append(arr)
            p += span
        else:
            adv.append(slice(None))
            p += 1
    return TwoStepIndex(tuple(basic), tuple(adv))


def normalize_index(op: str, x: Tensor, idx: Any) -> Any:
    """Tensors and lists in an index become arrays; bounds are checked with a clear error.

    The result is a tuple for numpy, or a TwoStepIndex where PyTorch's layout differs from
    numpy's (integers mixed with index arrays)."""
    items = idx if isinstance(idx, tuple) else (idx,)
    norm = tuple(_index_item(op, it) for it in items)
    try:
        # A dry run on a zero-strided array of the same shape checks every index for free.
        np.broadcast_to(np.empty((), np.uint8), x._data.shape)[norm]
    except IndexError as e:
        raise IndexError(f"{op}: {e} (tensor of shape {shape_str(x._data.shape)})") from None
    except (ValueError, TypeError) as e:  # anything numpy refuses, with the op's name
        raise type(e)(f"{op}: {e} (tensor of shape {shape_str(x._data.shape)})") from None
    if any(isinstance(i, np.ndarray) for i in norm) and any(
            isinstance(i, (int, np.integer)) for i in norm):
        return _two_step(norm, x._data.ndim)
    return norm


def _is_basic(idx: Any) -> bool:
    return type(idx) is tuple and not any(isinstance(i, np.ndarray) for i in idx)


class GetItem(Function):
    @staticmethod
    def forward(ctx, x, idx):
        ctx.idx, ctx.in_shape = idx, x._data.shape
        out = take(x._data, idx)
        if not isinstance(out, np.ndarray):
            # A full integer index gives numpy a scalar; with a trailing Ellipsis it gives a
            # 0-d view instead, so x[0].add_(1) writes into x, as in PyTorch.
            out = x._data[idx + (Ellipsis,)] if isinstance(idx, tuple) and _is_basic(idx) \
                and Ellipsis not in idx else np.asarray(out)
        return out

    @staticmethod
    def backward(ctx, g):
        return IndexAdd.apply(g, ctx.idx, ctx.in_shape)


class IndexAdd(Function):
    """zeros(shape) with ``src`` added at ``idx``; repeated indices accumulate."""

    @staticmethod
    def forward(ctx, src, idx, shape):
        ctx.idx = idx
        out = np.zeros(shape, src._data.dtype)
        if _is_basic(idx):
            out[idx] = src._data
        elif type(idx) is TwoStepIndex:
            np.add.at(out[idx.basic], idx.adv, src._data)  # out[basic] is a view of out
        else:
            np.add.at(out, idx, src._data)
        return out

    @staticmethod
    def backward(ctx, g):
        return GetItem.apply(g, ctx.idx)


def getitem(x: Tensor, idx: Any) -> Tensor:
    norm = normalize_index("getitem", x, idx)
    out = GetItem.apply(x, norm)
    if _is_basic(norm):
        out._version = x._version
        _as_view(out, x)
    return out


class SetItem(Function):
    """``x[idx] = v`` recorded as a node: x's old value is replaced at idx by v."""

    @staticmethod
    def forward(ctx, x, idx, v):
        ctx.idx, ctx.v_shape = idx, v._data.shape
        put(x._data, idx, v._data)
        return x._data

    @staticmethod
    def backward(ctx, g):
        need_x, _, need_v = ctx.needs_input_grad
        gx = gv = None
        if need_x:
            keep = np.ones(g._data.shape, g.dtype)
            put(keep, ctx.idx, 0)
            gx = g * _make(keep, False, None, 0, None)
        if need_v:
            gv = unbroadcast(GetItem.apply(g, ctx.idx), ctx.v_shape)
        return gx, None, gv


def setitem(x: Tensor, idx: Any, value: Any, op: str = "setitem") -> None:
    """``x[idx] = value``; ``op`` names the public call in errors (``copy_`` uses this)."""
    from ..autograd import is_grad_enabled
    from .broadcast import as_operand
    from .elementwise import cast
    norm = normalize_index(op, x, idx)
    v = value if isinstance(value, Tensor) else as_operand(value, x, op)
    target = np.shape(take(np.broadcast_to(np.empty((), np.uint8), x._data.shape), norm))
    vshape = v._data.shape
    extra = len(vshape) - len(target)
    if extra > 0 and all(n == 1 for n in vshape[:extra]):
        v = v.reshape(vshape[extra:])
    try:
        np.broadcast_to(np.empty((), np.uint8), v._data.shape)
        np.broadcast_to(np.empty(v._data.shape, np.uint8), target)
    except ValueError:
        raise ValueError(f"{op}: value of shape {shape_str(vshape)} cannot be assigned to a "
                         f"selection of shape {shape_str(target)}") from None
    if v._data.dtype != x._data.dtype:
        if x._data.dtype.kind != "f" and v._data.dtype.kind == "f":
            raise TypeError(f"{op}: cannot assign a {v.dtype} value to a {x.dtype} tensor")
        v = cast(v, x._data.dtype)
    track = is_grad_enabled() and (x.requires_grad or v.requires_grad)
    if track and x.requires_grad and x.grad_fn is None:
        raise RuntimeError(f"{op}: a leaf tensor that requires grad cannot be modified in place "
                           "(use `with tl.no_grad():` or work on a clone)")
    from .._checks import check_view_write
    check_view_write(op, x, v)
    if not track:
        put(x._data, norm, v._data)
        x._version[0] += 1
        return
    old = _make(x._data, x.requires_grad, x.grad_fn, x._out_nr, x._version)
    out = SetItem.apply(old, norm, v)
    x._version[0] += 1
    x.grad_fn, x._out_nr, x.requires_grad = out.grad_fn, 0, True


# ---------------------------------------------------------------------------------------
# Joining and padding
# ---------------------------------------------------------------------------------------
class Cat(Function):
    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.dim = dim
        ctx.sizes = [x._data.shape[dim] for x in xs]
        return np.concatenate([x._data for x in xs], axis=dim)

    @staticmethod
    def backward(ctx, g):
        out, start = [None], 0
        nd = g._data.ndim
        for size, need in zip(ctx.sizes, ctx.needs_input_grad[1:]):
            if need:
                sl = (slice(None),) * ctx.dim + (slice(start, start + size),)
                out.append(GetItem.apply(g, sl + (slice(None),) * (nd - ctx.dim - 1)))
            else:
                out.append(None)
            start += size
        return tuple(out)


def _tensor_list(op: str, tensors: Any) -> list:
    # A Tensor is iterable (over its rows), so cat(t) would quietly join t's rows.
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: expected a list or tuple of Tensors, got "
                        f"{type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty sequence of tensors")
    for k, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected a sequence of Tensors, got {type(t).__name__} at "
                            f"position {k}")
    return list(tensors)


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Concatenate along an existing dim; shapes must agree elsewhere."""
    tensors = _tensor_list("cat", tensors)
    dt = tensors[0]._data.dtype
    for t in tensors[1:]:
        dt = result_dtype(dt, t._data.dtype)
    if any(t._data.ndim != 1 for t in tensors):
        # As PyTorch: a 1-D empty tensor (the usual start of a loop `acc = cat([acc, x])`)
        # is skipped when joining tensors of other ranks; it still takes part in the dtype.
        kept = [t for t in tensors if t._data.shape != (0,)]
        tensors = kept or tensors[:1]
    ref = tensors[0]
    if ref._data.ndim == 0:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated")
    d = normalize_dim("cat", dim, ref._data.ndim)
    for k, t in enumerate(tensors):
        if t._data.ndim != ref._data.ndim or any(
                a != b for i, (a, b) in enumerate(zip(t._data.shape, ref._data.shape)) if i != d):
            raise ValueError(f"cat: tensor {k} has shape {shape_str(t._data.shape)}, which does "
                             f"not match {shape_str(ref._data.shape)} outside dim {d}")
    from .elementwise import cast
    return Cat.apply(d, *[cast(t, dt) for t in tensors])


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join along a new dim; all shapes must be equal."""
    tensors = _tensor_list("stack", tensors)
    shape = tensors[0].shape
    for k, t in enumerate(tensors):
        if t.shape != shape:
            raise ValueError(f"stack: tensor {k} has shape {shape_str(t.shape)} but tensor 0 has "
                             f"{shape_str(shape)}")
    d = normalize_dim("stack", dim, len(shape) + 1)
    return cat([unsqueeze(t, d) for t in tensors], d)


class Pad(Function):
    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.widths = widths
        return np.pad(x._data, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, g):
        sl = tuple(slice(a, g._data.shape[i] - b) for i, (a, b) in enumerate(ctx.widths))
        return GetItem.apply(g, sl)


def pad(x: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """PyTorch's F.pad: ``pad`` lists (left, right) pairs from the LAST dim backwards.

    ``mode`` is 'constant' (``value`` fills), 'reflect' (mirror without repeating the edge:
    [1, 2, 3] padded by 2 on the left starts 3, 2, 1, 2, 3), 'replicate' (repeat the edge)
    or 'circular' (wrap around). The last three pad the last 1-3 dims of a batched or
    unbatched input, as in PyTorch.
    """
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be one of {', '.join(map(repr, _PAD_MODES))}, "
                         f"got {mode!r}")
    pad = tuple(pad)
    if not all(is_int(p) for p in pad):
        raise TypeError(f"pad: padding must be ints, got {pad!r}")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > x._data.ndim:
        raise ValueError(f"pad: padding {pad} must have an even length of at most "
                         f"2 * ndim = {2 * x._data.ndim}")
    if any(p < 0 for p in pad):
        raise ValueError(f"pad: negative padding {pad} is not supported")
    if mode != "constant":
        return _pad_by_index(x, pad, mode)
    widths = [(0, 0)] * x._data.ndim
    for k in range(len(pad) // 2):
        widths[x._data.ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    return Pad.apply(x, tuple(widths), value)


_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _pad_by_index(x: Tensor, pad: tuple, mode: str) -> Tensor:
    """reflect / replicate / circular padding as a gather along each padded dim: output
    position i of a dim of size n reads input position src(i - left). Built on getitem, so
    the gradient (a scatter-add onto the source positions) and its derivatives come free."""
    k, nd, shape = len(pad) // 2, x._data.ndim, x._data.shape
    if k not in (1, 2, 3) or nd not in (k + 1, k + 2):
        raise ValueError(f"pad: mode {mode!r} pads the last 1, 2 or 3 dims of an input with one "
                         f"or two leading dims; {2 * k} padding values need a {k + 1}-D or "
                         f"{k + 2}-D input, got shape {shape_str(shape)}")
    for j in range(k):
        d = nd - 1 - j
        n, left, right = shape[d], pad[2 * j], pad[2 * j + 1]
        if left == right == 0:
            continue
        if mode == "reflect" and max(left, right) >= n:
            raise ValueError(f"pad: reflect padding ({left}, {right}) of dim {d} must be smaller "
                             f"than its size {n} (input shape {shape_str(shape)})")
        if mode == "circular" and max(left, right) > n:
            raise ValueError(f"pad: circular padding ({left}, {right}) of dim {d} may not "
                             f"exceed its size {n}: it would wrap around more than once "
                             f"(input shape {shape_str(shape)})")
        if mode == "replicate" and n == 0:
            raise ValueError(f"pad: replicate padding of dim {d} needs a non-empty dim "
                             f"(input shape {shape_str(shape)})")
        i = np.arange(-left, n + right)
        if mode == "reflect":
            src = np.where(i < 0, -i, np.where(i >= n, 2 * (n - 1) - i, i))
        elif mode == "replicate":
            src = np.clip(i, 0, n - 1)
        else:
            src = i % n
        x = getitem(x, (slice(None),) * d + (src,))
    return x


def split(x: Tensor, split_size: Any, dim: int = 0) -> tuple:
    d = normalize_dim("split", dim, x._data.ndim)
    n = x._data.shape[d]
    if is_int(split_size):
        if split_size < 0 or (split_size == 0 and n):
            raise ValueError(f"split: split_size must be positive (or 0 for an empty dim), got "
                             f"{split_size} for dim {d} of size {n}")
        split_size = int(split_size)
        # an empty dim splits into one empty piece, as in PyTorch
        sizes = [split_size] * (n // split_size) + ([n % split_size] if n % split_size else []) \
            if n else [0]
    else:
        if isinstance(split_size, Tensor) or not isinstance(split_size, (list, tuple)):
            raise TypeError(f"split: split_size must be an int or a list of ints, got "
                            f"{type(split_size).__name__}")
        sizes = list(split_size)
        if not all(is_int(s) and s >= 0 for s in sizes):
            raise ValueError(f"split: sizes must be non-negative ints, got {sizes}")
    if sum(sizes) != n:
        raise ValueError(f"split: sizes {sizes} do not add up to {n} (dim {d})")
    out, start = [], 0
    for s in sizes:
        out.append(getitem(x, (slice(None),) * d + (slice(start, start + s),)))
        start += s
    return tuple(out)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple:
    check_int("chunk", "chunks", chunks, 1)
    d = normalize_dim("chunk", dim, x._data.ndim)
    if x._data.shape[d] == 0:
        return split(x, [0] * chunks, d)  # PyTorch: `chunks` empty pieces
    size = -(-x._data.shape[d] // chunks)
    return split(x, max(size, 1), d)


def unbind(x: Tensor, dim: int = 0) -> tuple:
    d = normalize_dim("unbind", dim, x._data.ndim)
    return tuple(getitem(x, (slice(None),) * d + (i,)) for i in range(x._data.shape[d]))


# ---------------------------------------------------------------------------------------
# More shape and indexing ops: masked_fill, index_select, repeat/tile, repeat_interleave,
# scatter/scatter_add, take_along_dim, narrow, roll, tril/triu, diag/diagonal, movedim,
# unflatten, broadcast_to/broadcast_tensors/broadcast_shapes, meshgrid.
# ---------------------------------------------------------------------------------------
_NUMBERS = (bool, int, float, np.bool_, np.integer, np.floating)


def _int_index(op: str, index: Any, name: str = "index") -> np.ndarray:
    """An index tensor's array: signed integers only (bool or float indices are a bug)."""
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor of int64 (or int32), got "
                        f"{type(index).__name__}")
    a = index._data
    if a.dtype.kind != "i":
        raise TypeError(f"{op}: {name} must be an int64 (or int32) tensor, got dtype {a.dtype}")
    return a


def _check_range(op: str, idx: np.ndarray, size: int, dim: int, negative: bool = False) -> None:
    """Indices in [0, size) (or [-size, size) where the op wraps negatives), checked before
    any array is read or written."""
    if not idx.size:
        return
    lo, hi = int(idx.min()), int(idx.max())
    low = -size if negative else 0
    if lo < low or hi >= size:
        bad = lo if lo < low else hi
        raise IndexError(f"{op}: index {bad} is out of range for dim {dim} of size {size} "
                         f"(expected {low}..{size - 1})")


@functools.lru_cache(maxsize=None)
def _memory_limit() -> int:
    """The bytes one array may take: the machine's physical memory (an array larger than
    that can never be filled), or the address space when the OS does not say."""
    limit = int(np.iinfo(np.intp).max)
    try:
        import os
        limit = min(limit, os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        pass
    return limit


def _check_size(op: str, shape: Sequence[int], dtype: Any) -> None:
    """Refuse a result larger than the machine's memory before allocating it: numpy would
    raise a MemoryError without the op's name (or, for zeros, hand out lazily mapped pages
    that kill the process when touched)."""
    n = 1
    for k in shape:
        n *= int(k)  # Python ints: no overflow on the way
    nbytes = n * np.dtype(dtype).itemsize
    if nbytes > _memory_limit():
        raise RuntimeError(f"{op}: the result of shape {shape_str(shape)} would be too large "
                           f"({n} elements, {nbytes / 2**30:.1f} GiB, more than this machine's "
                           "memory)")


def masked_fill(x: Tensor, mask: Tensor, value: Any) -> Tensor:
    """``value`` where ``mask`` is True, ``x`` elsewhere; ``mask`` (bool) broadcasts with x.

    ``value`` is a number or a 0-d tensor, converted to x's dtype as PyTorch does (1.7 into
    an int64 tensor is 1); a 0-d value tensor receives the sum of the gradient over the
    filled positions."""
    if not isinstance(mask, Tensor):
        raise TypeError(f"masked_fill: mask must be a bool Tensor, got {type(mask).__name__}")
    if mask._data.dtype.kind != "b":
        raise TypeError(f"masked_fill: mask must be a bool tensor, got dtype {mask.dtype}")
    broadcast_shape("masked_fill", x._data.shape, mask._data.shape)
    dt = x._data.dtype
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"masked_fill: value must be a number or a 0-d tensor, got a "
                               f"tensor of shape {shape_str(value.shape)}")
        if value._data.dtype != dt:
            from .elementwise import cast
            value = cast(value, dt)
    elif isinstance(value, _NUMBERS):
        with np.errstate(over="ignore", invalid="ignore"):  # 1e300 into float32 is inf
            value = _make(np.asarray(value).astype(dt), False, None, 0, None)
    else:
        raise TypeError(f"masked_fill: value must be a number or a 0-d tensor, got "
                        f"{type(value).__name__} {value!r:.40}")
    from .compare import where
    return where(mask, value, x)


def index_select(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """The entries of ``x`` at positions ``index`` (a vector) along ``dim``; a copy."""
    nd = x._data.ndim
    d = normalize_dim("index_select", dim, nd)
    idx = _int_index("index_select", index)
    if idx.ndim > 1:
        raise IndexError(f"index_select: index must be a vector (0-d or 1-D), got shape "
                         f"{shape_str(idx.shape)}")
    n = x._data.shape[d] if nd else 1
    _check_range("index_select", idx, n, d)
    if nd == 0:
        if idx.size != 1:
            raise IndexError(f"index_select: a 0-d input takes exactly one index, got "
                             f"{idx.size}")
        return x.clone()
    # A copy of the indices: changing `index` in place later must not move the gradient.
    return GetItem.apply(x, (slice(None),) * d + (idx.reshape(-1).astype(np.intp),))


class Repeat(Function):
    """np.tile: the input (its shape padded with leading 1s) repeated ``reps[i]`` times
    along dim i; the gradient sums the copies."""

    @staticmethod
    def forward(ctx, x, reps):
        ctx.in_shape, ctx.reps = x._data.shape, reps
        return np.tile(x._data, reps)

    @staticmethod
    def backward(ctx, g):
        reps, shape = ctx.reps, (1,) * (len(ctx.reps) - len(ctx.in_shape)) + ctx.in_shape
        # dim i of the output is (reps[i], shape[i]) flattened, the copy index outermost
        split = tuple(n for pair in zip(reps, shape) for n in pair)
        summed = g.reshape(split).sum(tuple(range(0, 2 * len(reps), 2)))
        return summed.reshape(ctx.in_shape)


def repeat(x: Tensor, *sizes: Any) -> Tensor:
    """``x.repeat(2, 3)``: tile x 2 times along dim 0 and 3 times along dim 1 (PyTorch's
    repeat; numpy's tile). ``sizes`` needs at least x.ndim entries; extra ones add dims."""
    if not sizes:
        raise TypeError("repeat: missing the repeat counts (x.repeat(2, 3) or "
                        "x.repeat((2, 3)))")
    reps = _shape_arg("repeat", sizes)
    if len(reps) < x._data.ndim:
        raise RuntimeError(f"repeat: {len(reps)} repeat counts {reps} for a tensor with "
                           f"{x._data.ndim} dims (shape {shape_str(x._data.shape)}); give at "
                           "least one per dim")
    if any(r < 0 for r in reps):
        raise RuntimeError(f"repeat: repeat counts must be non-negative, got {reps}")
    _check_size("repeat", _tiled_shape(x._data.shape, reps), x._data.dtype)
    return Repeat.apply(x, reps)


def _tiled_shape(shape: tuple, reps: tuple) -> tuple:
    shape = (1,) * (len(reps) - len(shape)) + shape
    return tuple(r * n for r, n in zip(reps, shape))


def tile(x: Tensor, *dims: Any) -> Tensor:
    """PyTorch's tile: repeat, with missing leading counts taken as 1."""
    reps = _shape_arg("tile", dims)
    if any(r < 0 for r in reps):
        raise RuntimeError(f"tile: repeat counts must be non-negative, got {reps}")
    reps = (1,) * (x._data.ndim - len(reps)) + reps
    _check_size("tile", _tiled_shape(x._data.shape, reps), x._data.dtype)
    return Repeat.apply(x, reps)


def repeat_interleave(x: Tensor, repeats: Any = None, dim: Any = None, *,
                      output_size: Any = None) -> Tensor:
    """Repeat each entry ``repeats`` times (an int, or an integer tensor with one count per
    entry) along ``dim`` (of the flattened input when dim is None). With only an integer
    tensor, ``repeat_interleave(r)`` repeats 0, 1, ... r[i] times each, as PyTorch."""
    op = "repeat_interleave"
    if repeats is None:
        counts = _int_index(op, x, "repeats")
        if counts.ndim != 1:
            raise RuntimeError(f"{op}: repeats must be a 1-D tensor, got shape "
                               f"{shape_str(counts.shape)}")
        if counts.size and counts.min() < 0:
            raise RuntimeError(f"{op}: repeats must be non-negative, got {int(counts.min())}")
        return _make(np.repeat(np.arange(counts.size, dtype=counts.dtype), counts), False,
                     None, 0, None)
    if dim is None:
        x, d = flatten(x), 0
    else:
        if x._data.ndim == 0:
            raise IndexError(f"{op}: dim {dim} is out of range for a 0-d tensor (use "
                             "dim=None)")
        d = normalize_dim(op, dim, x._data.ndim)
    n = x._data.shape[d]
    if isinstance(repeats, Tensor):
        counts = _int_index(op, repeats, "repeats")
        if counts.ndim > 1:
            raise RuntimeError(f"{op}: repeats must be a 0-d or 1-D tensor, got shape "
                               f"{shape_str(counts.shape)}")
        counts = counts.reshape(-1)
        if counts.size != 1 and counts.size != n:
            raise RuntimeError(f"{op}: repeats has {counts.size} entries but the input has "
                               f"{n} along dim {d}")
    else:
        counts = np.asarray(check_int(op, "repeats", repeats))
    if counts.size and counts.min() < 0:
        raise RuntimeError(f"{op}: repeats must be non-negative, got {int(counts.min())}")
    total = int(np.sum(counts, dtype=np.float64)) * (n if counts.size == 1 else 1)
    _check_size(op, x._data.shape[:d] + (total,) + x._data.shape[d + 1:], x._data.dtype)
    src = np.repeat(np.arange(n), counts)
    if output_size is not None and check_int(op, "output_size", output_size) != src.size:
        raise RuntimeError(f"{op}: output_size is {output_size} but the repeats give "
                           f"{src.size}")
    return GetItem.apply(x, (slice(None),) * d + (src,))


def _scatter_positions(index: np.ndarray, dim: int) -> tuple:
    """The positions out[...] that index addresses: index along dim, its own coordinates
    along the other dims."""
    pos = list(np.indices(index.shape, sparse=True))
    pos[dim] = index
    return tuple(pos)


def _check_scatter(op: str, x: Tensor, dim: Any, index: Any, src: Any) -> tuple:
    """dim normalized and a private copy of the index, after every check PyTorch makes
    (plus the bounds it leaves to the kernel)."""
    nd = x._data.ndim
    d = normalize_dim(op, dim, nd)
    idx = _int_index(op, index)
    if idx.ndim != nd:
        raise RuntimeError(f"{op}: index must have as many dims as the input ({nd}), got "
                           f"shape {shape_str(idx.shape)}")
    if src is not None:
        if src._data.ndim != nd:
            raise RuntimeError(f"{op}: src must have as many dims as the input ({nd}), got "
                               f"shape {shape_str(src.shape)}")
        if src._data.dtype != x._data.dtype:
            raise TypeError(f"{op}: src dtype {src.dtype} differs from the input's {x.dtype}")
    if idx.size:
        xs = x._data.shape
        if any(i != d and a > b for i, (a, b) in enumerate(zip(idx.shape, xs))) or (
                src is not None and any(a > b for a, b in zip(idx.shape, src._data.shape))):
            raise RuntimeError(
                f"{op}: index of shape {shape_str(idx.shape)} must be no larger than the input "
                f"{shape_str(xs)} outside dim {d}" + (
                    f" and no larger than src {shape_str(src.shape)}" if src is not None else ""))
        _check_range(op, idx, xs[d] if nd else 1, d)
    return d, np.array(idx, dtype=np.intp)


class Scatter(Function):
    """``x`` with src's values written at ``index`` along ``dim``. With repeated positions
    the last write wins (as PyTorch on CPU; the order is unspecified there)."""

    @staticmethod
    def forward(ctx, x, src, dim, index):
        ctx.dim, ctx.index, ctx.src_shape = dim, index, src._data.shape
        out = x._data.copy()
        if index.size:
            part = src._data[tuple(slice(0, n) for n in index.shape)] if src._data.ndim else \
                src._data
            out[_scatter_positions(index, dim)] = part
        return out

    @staticmethod
    def backward(ctx, g):
        need_x, need_src = ctx.needs_input_grad[:2]
        gx = gsrc = None
        index = _make(ctx.index, False, None, 0, None)
        if need_x:
            keep = np.ones(g._data.shape, g._data.dtype)
            if ctx.index.size:
                keep[_scatter_positions(ctx.index, ctx.dim)] = 0
            gx = g * _make(keep, False, None, 0, None)
        if need_src:
            from .reduce import Gather
            # Every src entry addressed by index gets its position's gradient, repeated
            # positions included (PyTorch's gather); entries past index's shape get zero.
            gsrc = Gather.apply(g, ctx.dim, index) if g._data.shape == ctx.index.shape else \
                _gather_part(g, ctx.dim, index)
            if gsrc._data.shape != ctx.src_shape:
                gsrc = Pad.apply(gsrc, tuple((0, s - n) for s, n in
                                             zip(ctx.src_shape, gsrc._data.shape)), 0.0)
        return gx, gsrc, None, None


def _gather_part(g: Tensor, dim: int, index: Tensor) -> Tensor:
    from .reduce import Gather
    sl = tuple(slice(0, n) if i != dim else slice(None) for i, n in enumerate(index.shape))
    return Gather.apply(GetItem.apply(g, sl), dim, index)


def _scatter_src(op: str, x: Tensor, index: Any, src: Any, value: Any) -> Tensor:
    if src is not None and value is not None:
        raise TypeError(f"{op}: give either src or value, not both")
    if src is None:
        src = value
    if src is None:
        raise TypeError(f"{op}: missing src (a tensor) or value (a number)")
    if isinstance(src, Tensor):
        if src._data.ndim == 0 and isinstance(index, Tensor) and index._data.ndim:
            # a 0-d src fills every addressed position (its gradient sums over them)
            if src._data.dtype != x._data.dtype:
                raise TypeError(f"{op}: src dtype {src.dtype} differs from the input's "
                                f"{x.dtype}")
            return src.expand(index.shape)
        return src
    if not isinstance(src, _NUMBERS):
        raise TypeError(f"{op}: src must be a Tensor or value a number, got "
                        f"{type(src).__name__} {src!r:.40}")
    with np.errstate(over="ignore", invalid="ignore"):
        return _make(np.asarray(src).astype(x._data.dtype), False, None, 0, None)


def scatter(x: Tensor, dim: int, index: Tensor, src: Any = None, value: Any = None,
            reduce: Any = None) -> Tensor:
    """A copy of ``x`` with ``src[i][j]`` written at ``[index[i][j]][j]`` (dim 0), or the
    number ``value`` at each such position: PyTorch's scatter."""
    if reduce is not None:
        if reduce != "add":
            raise ValueError(f"scatter: reduce must be None or 'add', got {reduce!r} (use "
                             "scatter_add for sums)")
        src = _scatter_src("scatter", x, index, src, value)
        if src._data.ndim == 0:
            src = src.expand(index.shape) if isinstance(index, Tensor) else src
        return scatter_add(x, dim, index, src)
    src = _scatter_src("scatter", x, index, src, value)
    scalar = src._data.ndim == 0 and not src.requires_grad and x._data.ndim
    d, idx = _check_scatter("scatter", x, dim, index, None if scalar else src)
    if x._data.ndim == 0:
        out = Scatter.apply(x.reshape(1), src.reshape(1), 0, idx.reshape(1))
        return out.reshape(())
    return Scatter.apply(x, src, d, idx)


def scatter_add(x: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of ``x`` with ``src[i][j]`` added at ``[index[i][j]][j]`` (dim 0); repeated
    positions sum."""
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add: src must be a Tensor, got {type(src).__name__}")
    d, idx = _check_scatter("scatter_add", x, dim, index, src)
    if x._data.ndim == 0:
        return scatter_add(x.reshape(1), 0, _make(idx.reshape(1), False, None, 0, None),
                           src.reshape(1)).reshape(())
    if idx.shape != src._data.shape:
        src = getitem(src, tuple(slice(0, n) for n in idx.shape))
    from .reduce import ScatterAdd
    # ScatterAdd (gather's adjoint) wants an index as large as its output outside dim: add
    # into that block, then pad it with zeros to x's shape.
    block = idx.shape[:d] + (x._data.shape[d],) + idx.shape[d + 1:]
    added = ScatterAdd.apply(src, d, _make(idx, False, None, 0, None), block)
    if block != x._data.shape:
        added = Pad.apply(added, tuple((0, n - b) for n, b in zip(x._data.shape, block)), 0)
    return x + added


def take_along_dim(x: Tensor, indices: Tensor, dim: Any = None) -> Tensor:
    """``out[i][j] = x[indices[i][j]][j]`` for dim 0, x and indices broadcast against each
    other outside ``dim``; with dim None, the flattened x at the flattened indices."""
    op = "take_along_dim"
    idx = _int_index(op, indices, "indices")
    if dim is None or x._data.ndim == 0 and idx.ndim == 0:
        _check_range(op, idx, x._data.size, 0)
        out = GetItem.apply(reshape(x, -1), (idx.reshape(-1).astype(np.intp),))
        return out if dim is None else out.reshape(())
    d = normalize_dim(op, dim, x._data.ndim)
    if idx.ndim != x._data.ndim:
        raise RuntimeError(f"{op}: input and indices must have the same number of dims, got "
                           f"input {shape_str(x._data.shape)} and indices "
                           f"{shape_str(idx.shape)}")
    n = x._data.shape[d]
    # PyTorch reads out of bounds (no check) when the indices are broadcast: refused here.
    _check_range(op, idx, n, d)
    xs, ishape = list(x._data.shape), list(idx.shape)
    xs[d] = ishape[d] = 1
    common = list(broadcast_shape(op, xs, ishape))
    common[d] = n
    xb = expand(x, tuple(common))
    common[d] = idx.shape[d]
    # a private copy: changing `indices` in place later must not move the gradient
    full = np.array(np.broadcast_to(idx, tuple(common)), dtype=np.intp)
    from .reduce import Gather
    return Gather.apply(xb, d, _make(full, False, None, 0, None))


def narrow(x: Tensor, dim: int, start: Any, length: int) -> Tensor:
    """The view ``x[..., start:start + length, ...]`` along ``dim`` (start may be negative)."""
    if x._data.ndim == 0:
        raise RuntimeError("narrow: cannot be applied to a 0-d tensor")
    d = normalize_dim("narrow", dim, x._data.ndim)
    if isinstance(start, Tensor):
        if start._data.ndim or start._data.dtype.kind not in "iu":
            raise TypeError(f"narrow: start must be an int or a 0-d integer tensor, got a "
                            f"tensor of shape {shape_str(start.shape)} and dtype {start.dtype}")
        start = int(start._data)
    start = check_int("narrow", "start", start)
    length = check_int("narrow", "length", length)
    n = x._data.shape[d]
    if not -n <= start <= n:
        raise IndexError(f"narrow: start {start} is out of range for dim {d} of size {n} "
                         f"(expected {-n}..{n})")
    if start < 0:
        start += n
    if length < 0:
        raise RuntimeError(f"narrow: length must be non-negative, got {length}")
    if start + length > n:
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds the size {n} "
                           f"of dim {d}")
    return getitem(x, (slice(None),) * d + (slice(start, start + length),))


class Roll(Function):
    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return np.roll(x._data, shifts, dims)

    @staticmethod
    def backward(ctx, g):
        shifts = -ctx.shifts if isinstance(ctx.shifts, int) else tuple(-s for s in ctx.shifts)
        return Roll.apply(g, shifts, ctx.dims)


def _int_tuple(op: str, name: str, value: Any) -> tuple:
    items = (value,) if is_int(value) else value
    if not isinstance(items, (tuple, list)) or not all(is_int(v) for v in items):
        raise TypeError(f"{op}: {name} must be an int or a tuple of ints, got {value!r}")
    return tuple(int(v) for v in items)


def roll(x: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """Shift entries circularly by ``shifts`` along ``dims``; without dims, over the
    flattened tensor (the shape is kept)."""
    shifts = _int_tuple("roll", "shifts", shifts)
    dims = () if dims is None else _int_tuple("roll", "dims", dims)
    if not dims:
        if len(shifts) != 1:
            raise RuntimeError(f"roll: {len(shifts)} shifts {shifts} need as many dims")
        return Roll.apply(x, shifts[0], None)
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    if x._data.ndim == 0:
        raise IndexError(f"roll: dims {dims} given for a 0-d tensor")
    dims = tuple(normalize_dim("roll", d, x._data.ndim) for d in dims)
    return Roll.apply(x, shifts, dims)


class Triangle(Function):
    """tril / triu of the last two dims: the entries kept pass their gradient, the others
    get zero (the same mask applied to the gradient)."""

    @staticmethod
    def forward(ctx, x, k, upper):
        ctx.k, ctx.upper = k, upper
        return np.triu(x._data, k) if upper else np.tril(x._data, k)

    @staticmethod
    def backward(ctx, g):
        return Triangle.apply(g, ctx.k, ctx.upper)


def _triangle(op: str, x: Tensor, diagonal: Any, upper: bool) -> Tensor:
    k = check_int(op, "diagonal", diagonal)
    if x._data.ndim < 2:
        raise RuntimeError(f"{op}: input must have at least 2 dims, got shape "
                           f"{shape_str(x._data.shape)}")
    return Triangle.apply(x, k, upper)


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle (on and below the ``diagonal``-th diagonal) of the last two dims."""
    return _triangle("tril", x, diagonal, False)


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle (on and above the ``diagonal``-th diagonal) of the last two dims."""
    return _triangle("triu", x, diagonal, True)


def _diag_view(a: np.ndarray, offset: int, d1: int, d2: int) -> np.ndarray:
    """A strided view of a's diagonal (dims d1, d2 removed, the diagonal last), writable
    when ``a`` is: numpy's own diagonal() is read-only, PyTorch's is a writable view."""
    n1, n2 = a.shape[d1], a.shape[d2]
    length = max(min(n1, n2 - offset) if offset >= 0 else min(n1 + offset, n2), 0)
    rest = [i for i in range(a.ndim) if i not in (d1, d2)]
    shape = tuple(a.shape[i] for i in rest) + (length,)
    strides = tuple(a.strides[i] for i in rest) + (a.strides[d1] + a.strides[d2],)
    if length:
        # start the view at the diagonal's first entry
        if offset >= 0:
            a = a[(slice(None),) * d2 + (slice(offset, None),)]
        else:
            a = a[(slice(None),) * d1 + (slice(-offset, None),)]
    return np.lib.stride_tricks.as_strided(a, shape, strides, writeable=a.flags.writeable)


class Diagonal(Function):
    _shares_version = True

    @staticmethod
    def forward(ctx, x, offset, d1, d2):
        ctx.args = (x._data.shape, offset, d1, d2)
        return _diag_view(x._data, offset, d1, d2)

    @staticmethod
    def backward(ctx, g):
        return DiagEmbed.apply(g, *ctx.args)


class DiagEmbed(Function):
    """zeros(shape) with ``src`` on the diagonal (dims d1, d2, offset): diagonal's adjoint."""

    @staticmethod
    def forward(ctx, src, shape, offset, d1, d2):
        ctx.args = (offset, d1, d2)
        out = np.zeros(shape, src._data.dtype)
        _diag_view(out, offset, d1, d2)[...] = src._data
        return out

    @staticmethod
    def backward(ctx, g):
        return Diagonal.apply(g, *ctx.args)


def diagonal(x: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The view of the ``offset``-th diagonal of dims ``dim1``/``dim2`` (moved last); writes
    through it reach x, as in PyTorch."""
    offset = check_int("diagonal", "offset", offset)
    d1 = normalize_dim("diagonal", dim1, x._data.ndim)
    d2 = normalize_dim("diagonal", dim2, x._data.ndim)
    if x._data.ndim < 2:
        raise IndexError(f"diagonal: input must have at least 2 dims, got shape "
                         f"{shape_str(x._data.shape)}")
    if d1 == d2:
        raise RuntimeError(f"diagonal: dim1 and dim2 are the same dim ({d1})")
    return _as_view(Diagonal.apply(x, offset, d1, d2), x)


def diag(x: Tensor, diagonal: int = 0) -> Tensor:
    """1-D input: a square matrix with x on its ``diagonal``-th diagonal. 2-D input: a copy
    of that diagonal."""
    k = check_int("diag", "diagonal", diagonal)
    nd = x._data.ndim
    if nd == 1:
        size = x._data.shape[0] + abs(k)
        _check_size("diag", (size, size), x._data.dtype)
        return DiagEmbed.apply(x, (size, size), k, 0, 1)
    if nd == 2:
        from .elementwise import clone
        return clone(Diagonal.apply(x, k, 0, 1))
    raise RuntimeError(f"diag: input must be 1-D or 2-D, got shape {shape_str(x._data.shape)}")


def movedim(x: Tensor, source: Any, destination: Any) -> Tensor:
    """Move dims ``source`` to positions ``destination``; the others keep their order."""
    src = _int_tuple("movedim", "source", source)
    dst = _int_tuple("movedim", "destination", destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: source {src} and destination {dst} must have the same "
                           "number of dims")
    nd = x._data.ndim
    src = tuple(normalize_dim("movedim", d, nd) for d in src)
    dst = tuple(normalize_dim("movedim", d, nd) for d in dst)
    for name, dims in (("source", src), ("destination", dst)):
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in {name} {dims}")
    if nd == 0:
        return x
    order = [-1] * nd
    for s, t in zip(src, dst):
        order[t] = s
    rest = iter(i for i in range(nd) if i not in src)
    return permute(x, [o if o >= 0 else next(rest) for o in order])


moveaxis = movedim


def swapaxes(x: Tensor, axis0: int, axis1: int) -> Tensor:
    return transpose(x, axis0, axis1)


def swapdims(x: Tensor, dim0: int, dim1: int) -> Tensor:
    return transpose(x, dim0, dim1)


def unflatten(x: Tensor, dim: int, sizes: Any) -> Tensor:
    """Split dim ``dim`` into ``sizes`` (one of which may be -1); a view where possible."""
    if x._data.ndim == 0:
        raise RuntimeError("unflatten: cannot unflatten a 0-d tensor")
    d = normalize_dim("unflatten", dim, x._data.ndim)
    if isinstance(sizes, Tensor) or not isinstance(sizes, (tuple, list)) or not all(
            is_int(s) for s in sizes):
        raise TypeError(f"unflatten: sizes must be a tuple of ints, got {sizes!r}")
    sizes = [int(s) for s in sizes]
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    n = x._data.shape[d]
    known = int(np.prod([s for s in sizes if s != -1]))
    if sizes.count(-1) > 1 or any(s < -1 for s in sizes) or (
            -1 in sizes and (known == 0 or n % known)) or (-1 not in sizes and known != n):
        raise RuntimeError(f"unflatten: sizes {tuple(sizes)} do not multiply up to the size "
                           f"{n} of dim {d} (input shape {shape_str(x._data.shape)})")
    if -1 in sizes:
        sizes[sizes.index(-1)] = n // known
    shape = x._data.shape
    return reshape(x, shape[:d] + tuple(sizes) + shape[d + 1:])


def broadcast_to(x: Tensor, *shape: Any) -> Tensor:
    """expand() under NumPy's name: a read-only view of x at ``shape`` (-1 keeps a size)."""
    try:
        return expand(x, *shape)
    except (RuntimeError, TypeError) as e:
        raise type(e)(str(e).replace("expand:", "broadcast_to:", 1)) from None


def broadcast_shapes(*shapes: Any) -> tuple:
    """The shape that ``shapes`` broadcast to (an int counts as a 1-D shape)."""
    norm = []
    for s in shapes:
        s = (s,) if is_int(s) else s
        if isinstance(s, Tensor) or not isinstance(s, (tuple, list)) or not all(
                is_int(n) for n in s):
            raise TypeError(f"broadcast_shapes: each shape must be an int or a tuple of ints, "
                            f"got {s!r}")
        if any(n < 0 for n in s):
            raise RuntimeError(f"broadcast_shapes: negative size in shape {tuple(s)}")
        norm.append(tuple(int(n) for n in s))
    return tuple(int(n) for n in broadcast_shape("broadcast_shapes", *norm))


def broadcast_tensors(*tensors: Tensor) -> tuple:
    """The tensors expanded to their common shape (read-only views, as expand)."""
    for k, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"broadcast_tensors: expected Tensors, got {type(t).__name__} at "
                            f"position {k}")
    shape = broadcast_shape("broadcast_tensors", *(t._data.shape for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


def meshgrid(*tensors: Any, indexing: str = "ij") -> tuple:
    """Coordinate grids from 1-D tensors: with 'ij', output k varies along dim k; with 'xy'
    (Cartesian), the first two dims are swapped, as numpy's meshgrid."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    for k, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"meshgrid: expected Tensors, got {type(t).__name__} at position {k}")
        if t._data.ndim > 1:
            raise RuntimeError(f"meshgrid: expected 0-d or 1-D tensors, got shape "
                               f"{shape_str(t.shape)} at position {k}")
        if t._data.dtype != tensors[0]._data.dtype:
            raise TypeError(f"meshgrid: all tensors must have the same dtype, got "
                            f"{tensors[0].dtype} and {t.dtype} (position {k})")
    if not tensors:
        raise ValueError("meshgrid: expected at least one tensor")
    swap = indexing == "xy" and len(tensors) > 1
    ts = list(tensors)
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    n = len(ts)
    shape = tuple(t._data.size for t in ts)
    grids = [expand(reshape(t, (1,) * k + (-1,) + (1,) * (n - k - 1)), shape)
             for k, t in enumerate(ts)]
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def concat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """cat under another of PyTorch's names."""
    return cat(tensors, dim)


def concatenate(tensors: Sequence[Tensor], axis: int = 0, *, dim: Any = None) -> Tensor:
    """cat under NumPy's name (``axis``; ``dim`` accepted too, as PyTorch)."""
    return cat(tensors, axis if dim is None else dim)
