"""Shape ops: reshape/view, permute/transpose, expand, flip, indexing, cat/stack, pad.

Ops whose result is a numpy view of their input (reshape, permute, expand, basic
indexing) share the input's version counter, so an in-place change through either is
seen by every saved tensor that aliases the same memory.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .._checks import broadcast_shape, check_int, is_int, normalize_dim, normalize_dims, shape_str
from ..autograd import Function
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
        ctx.in_shape = x.data.shape
        return x.data.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape)


def _check_shape(op: str, x: Tensor, shape: tuple) -> None:
    n = x.data.size
    known = int(np.prod([s for s in shape if s != -1])) if shape else 1
    bad = shape.count(-1) > 1 or any(s < -1 for s in shape) or (
        -1 not in shape and known != n) or (-1 in shape and (known == 0 or n % known))
    if bad:
        raise RuntimeError(f"{op}: shape {shape_str(shape)} is invalid for an input of shape "
                           f"{shape_str(x.data.shape)} ({n} elements)")


def _as_view(out: Tensor, x: Tensor) -> Tensor:
    """Mark ``out`` as a view of ``x`` (or of x's own base) when their memory is shared; the
    in-place ops consult the mark (tensor.check_view_write)."""
    if out.data.base is not None and np.may_share_memory(out.data, x.data):
        base = getattr(x, "_base", None)
        out._base = x if base is None else base
    return out


def reshape(x: Tensor, *shape: Any) -> Tensor:
    shape = _shape_arg("reshape", shape)
    if shape == x.data.shape:
        return x
    _check_shape("reshape", x, shape)
    return _as_view(Reshape.apply(x, shape), x)


def view(x: Tensor, *shape: Any) -> Tensor:
    """PyTorch's view: a reshape that shares x's memory. A layout that would need a copy (a
    transposed tensor, say) is an error, as in PyTorch, since writes through the result
    would then silently miss x; ``reshape`` copies in that case."""
    shape = _shape_arg("view", shape)
    if shape == x.data.shape:
        return x
    _check_shape("view", x, shape)
    probe = x.data.view()
    try:
        probe.shape = shape  # numpy refuses exactly when the new shape needs a copy
    except AttributeError:
        raise RuntimeError(f"view: a tensor of shape {shape_str(x.data.shape)} and strides "
                           f"{x.data.strides} cannot be viewed as {shape_str(shape)} without a "
                           "copy; use .reshape() (or .contiguous() first)") from None
    return _as_view(Reshape.apply(x, shape), x)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    if x.data.ndim == 0:
        return reshape(x, 1)
    s = normalize_dim("flatten", start_dim, x.data.ndim)
    e = normalize_dim("flatten", end_dim, x.data.ndim)
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = x.data.shape
    return reshape(x, shape[:s] + (int(np.prod(shape[s:e + 1])),) + shape[e + 1:])


def squeeze(x: Tensor, dim: Any = None) -> Tensor:
    shape = x.data.shape
    if dim is None:
        return reshape(x, tuple(n for n in shape if n != 1))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    dims = {normalize_dim("squeeze", d, x.data.ndim) for d in dims}
    return reshape(x, tuple(n for i, n in enumerate(shape) if not (i in dims and n == 1)))


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    d = normalize_dim("unsqueeze", dim, x.data.ndim + 1)
    shape = x.data.shape
    return reshape(x, shape[:d] + (1,) + shape[d:])


class Permute(Function):
    _shares_version = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.data.transpose(dims)

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
    nd = x.data.ndim
    if len(dims) != nd:
        raise ValueError(f"permute: got {len(dims)} dims {dims} for a tensor with {nd} dims")
    dims = tuple(normalize_dim("permute", d, nd) for d in dims)
    if sorted(dims) != list(range(nd)):
        raise ValueError(f"permute: dims {dims} are not a permutation of 0..{nd - 1}")
    if dims == tuple(range(nd)):
        return x
    return _as_view(Permute.apply(x, dims), x)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    nd = x.data.ndim
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
        ctx.in_shape = x.data.shape
        return np.broadcast_to(x.data, shape)

    @staticmethod
    def backward(ctx, g):
        return unbroadcast(g, ctx.in_shape)


def expand(x: Tensor, *shape: Any) -> Tensor:
    shape = _shape_arg("expand", shape)
    xs = x.data.shape
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
        return np.flip(x.data, dims).copy()

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
    dims = normalize_dims("flip", dims, x.data.ndim)
    return Flip.apply(x, dims)


class Contiguous(Function):
    @staticmethod
    def forward(ctx, x):
        return x.data.copy(order="C")

    @staticmethod
    def backward(ctx, g):
        return g


def contiguous(x: Tensor) -> Tensor:
    if x.data.flags.c_contiguous:
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
        it = it.data
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
                    isinstance(v, Tensor) and v.data.dtype.kind in "iu" and v.data.size == 1):
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
        np.broadcast_to(np.empty((), np.uint8), x.data.shape)[norm]
    except IndexError as e:
        raise IndexError(f"{op}: {e} (tensor of shape {shape_str(x.data.shape)})") from None
    except (ValueError, TypeError) as e:  # anything numpy refuses, with the op's name
        raise type(e)(f"{op}: {e} (tensor of shape {shape_str(x.data.shape)})") from None
    if any(isinstance(i, np.ndarray) for i in norm) and any(
            isinstance(i, (int, np.integer)) for i in norm):
        return _two_step(norm, x.data.ndim)
    return norm


def _is_basic(idx: Any) -> bool:
    return type(idx) is tuple and not any(isinstance(i, np.ndarray) for i in idx)


class GetItem(Function):
    @staticmethod
    def forward(ctx, x, idx):
        ctx.idx, ctx.in_shape = idx, x.data.shape
        out = take(x.data, idx)
        if not isinstance(out, np.ndarray):
            # A full integer index gives numpy a scalar; with a trailing Ellipsis it gives a
            # 0-d view instead, so x[0].add_(1) writes into x, as in PyTorch.
            out = x.data[idx + (Ellipsis,)] if isinstance(idx, tuple) and _is_basic(idx) \
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
        out = np.zeros(shape, src.data.dtype)
        if _is_basic(idx):
            out[idx] = src.data
        elif type(idx) is TwoStepIndex:
            np.add.at(out[idx.basic], idx.adv, src.data)  # out[basic] is a view of out
        else:
            np.add.at(out, idx, src.data)
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
        ctx.idx, ctx.v_shape = idx, v.data.shape
        put(x.data, idx, v.data)
        return x.data

    @staticmethod
    def backward(ctx, g):
        need_x, _, need_v = ctx.needs_input_grad
        gx = gv = None
        if need_x:
            keep = np.ones(g.data.shape, g.dtype)
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
    target = np.shape(take(np.broadcast_to(np.empty((), np.uint8), x.data.shape), norm))
    vshape = v.data.shape
    extra = len(vshape) - len(target)
    if extra > 0 and all(n == 1 for n in vshape[:extra]):
        v = v.reshape(vshape[extra:])
    try:
        np.broadcast_to(np.empty((), np.uint8), v.data.shape)
        np.broadcast_to(np.empty(v.data.shape, np.uint8), target)
    except ValueError:
        raise ValueError(f"{op}: value of shape {shape_str(vshape)} cannot be assigned to a "
                         f"selection of shape {shape_str(target)}") from None
    if v.data.dtype != x.data.dtype:
        if x.data.dtype.kind != "f" and v.data.dtype.kind == "f":
            raise TypeError(f"{op}: cannot assign a {v.dtype} value to a {x.dtype} tensor")
        v = cast(v, x.data.dtype)
    track = is_grad_enabled() and (x.requires_grad or v.requires_grad)
    if track and x.requires_grad and x.grad_fn is None:
        raise RuntimeError(f"{op}: a leaf tensor that requires grad cannot be modified in place "
                           "(use `with tl.no_grad():` or work on a clone)")
    from ..tensor import check_view_write
    check_view_write(op, x, v)
    if not track:
        put(x.data, norm, v.data)
        x._version[0] += 1
        return
    old = _make(x.data, x.requires_grad, x.grad_fn, x._out_nr, x._version)
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
        ctx.sizes = [x.data.shape[dim] for x in xs]
        return np.concatenate([x.data for x in xs], axis=dim)

    @staticmethod
    def backward(ctx, g):
        out, start = [None], 0
        nd = g.data.ndim
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
    dt = tensors[0].data.dtype
    for t in tensors[1:]:
        dt = result_dtype(dt, t.data.dtype)
    if any(t.data.ndim != 1 for t in tensors):
        # As PyTorch: a 1-D empty tensor (the usual start of a loop `acc = cat([acc, x])`)
        # is skipped when joining tensors of other ranks; it still takes part in the dtype.
        kept = [t for t in tensors if t.data.shape != (0,)]
        tensors = kept or tensors[:1]
    ref = tensors[0]
    if ref.data.ndim == 0:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated")
    d = normalize_dim("cat", dim, ref.data.ndim)
    for k, t in enumerate(tensors):
        if t.data.ndim != ref.data.ndim or any(
                a != b for i, (a, b) in enumerate(zip(t.data.shape, ref.data.shape)) if i != d):
            raise ValueError(f"cat: tensor {k} has shape {shape_str(t.data.shape)}, which does "
                             f"not match {shape_str(ref.data.shape)} outside dim {d}")
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
        return np.pad(x.data, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, g):
        sl = tuple(slice(a, g.data.shape[i] - b) for i, (a, b) in enumerate(ctx.widths))
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
    if len(pad) % 2 or len(pad) // 2 > x.data.ndim:
        raise ValueError(f"pad: padding {pad} must have an even length of at most "
                         f"2 * ndim = {2 * x.data.ndim}")
    if any(p < 0 for p in pad):
        raise ValueError(f"pad: negative padding {pad} is not supported")
    if mode != "constant":
        return _pad_by_index(x, pad, mode)
    widths = [(0, 0)] * x.data.ndim
    for k in range(len(pad) // 2):
        widths[x.data.ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    return Pad.apply(x, tuple(widths), value)


_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _pad_by_index(x: Tensor, pad: tuple, mode: str) -> Tensor:
    """reflect / replicate / circular padding as a gather along each padded dim: output
    position i of a dim of size n reads input position src(i - left). Built on getitem, so
    the gradient (a scatter-add onto the source positions) and its derivatives come free."""
    k, nd, shape = len(pad) // 2, x.data.ndim, x.data.shape
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
    d = normalize_dim("split", dim, x.data.ndim)
    n = x.data.shape[d]
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
    d = normalize_dim("chunk", dim, x.data.ndim)
    if x.data.shape[d] == 0:
        return split(x, [0] * chunks, d)  # PyTorch: `chunks` empty pieces
    size = -(-x.data.shape[d] // chunks)
    return split(x, max(size, 1), d)


def unbind(x: Tensor, dim: int = 0) -> tuple:
    d = normalize_dim("unbind", dim, x.data.ndim)
    return tuple(getitem(x, (slice(None),) * d + (i,)) for i in range(x.data.shape[d]))
