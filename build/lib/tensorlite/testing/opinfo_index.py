"""OpInfo entries for shape and indexing ops (ops/shape.py)."""
from __future__ import annotations

import numpy as np

from .. import ops as O
from ..ops import compare, reduce as R, shape as S
from ..tensor import Tensor
from .opinfo import OpInfo, SampleInput, _st, register


def _dim_samples(min_dims: int = 1, min_side: int = 1, **extra):
    """x of a random shape, a dim of it, and ``extra(d, shape, dim)`` -> (args, kwargs)."""
    def build():
        st, ts = _st()

        @st.composite
        def draw(d):
            shape = d(ts.shapes(min_dims=min_dims, min_side=min_side))
            x = d(ts.float_arrays(shape))
            dim = d(st.integers(-len(shape), len(shape) - 1))
            args, kw = extra["more"](d, shape, dim % len(shape))
            return SampleInput((x,) + args, dict(kw, dim=dim))
        return draw()
    return build


def _rng(d):
    st, _ = _st()
    return np.random.default_rng(d(st.integers(0, 2 ** 32 - 1)))


# -- masked_fill: mask broadcast with x; the 0-d value tensor gets a gradient too ---------
def _masked_fill_samples(tensor_value=True):
    def build():
        st, ts = _st()

        @st.composite
        def draw(d):
            sx, sm = d(ts.broadcastable_shapes(2))
            x = d(ts.float_arrays(sx))
            mask = np.asarray(_rng(d).random(sm) > 0.5)
            if tensor_value:
                return SampleInput((x, mask, d(ts.float_arrays(()))))
            return SampleInput((x, mask), {"value": d(st.sampled_from([-2.5, 0.0, 7.0]))})
        return draw()
    return build


register(OpInfo("masked_fill", lambda x, m, v: O.masked_fill(x, m, v),
                lambda x, m, v: np.where(m, v, x), _masked_fill_samples(), (compare.Where,),
                lambda t, x, m, v: x.masked_fill(m, v)))
register(OpInfo("masked_fill_number", lambda x, m, value: x.masked_fill(m, value),
                lambda x, m, value: np.where(m, value, x), _masked_fill_samples(False),
                (compare.Where,), lambda t, x, m, value: x.masked_fill(m, value)))


# -- index_select -------------------------------------------------------------------------
def _index_select_more(d, shape, dim):
    st, ts = _st()
    idx = ts.index_arrays(d, shape[dim], (d(st.integers(1, 5)),))
    return (idx,), {}


register(OpInfo("index_select", lambda x, idx, dim: O.index_select(x, dim, idx),
                lambda x, idx, dim: np.take(x, idx, axis=dim),
                _dim_samples(more=_index_select_more), (S.GetItem, S.IndexAdd),
                lambda t, x, idx, dim: x.index_select(dim, idx)))


# -- repeat / tile --------------------------------------------------------------------------
def _repeat_samples():
    st, ts = _st()

    @st.composite
    def draw(d):
        shape = d(ts.shapes(max_dims=2))
        x = d(ts.float_arrays(shape))
        reps = tuple(d(st.integers(0, 3))
                     for _ in range(len(shape) + d(st.integers(0 if shape else 1, 1))))
        return SampleInput((x,), {"reps": reps})
    return draw()


register(OpInfo("repeat", lambda x, reps: x.repeat(*reps), lambda x, reps: np.tile(x, reps),
                _repeat_samples, (S.Repeat,), lambda t, x, reps: x.repeat(*reps)))
register(OpInfo("tile", lambda x, reps: O.tile(x, reps[1:]),
                lambda x, reps: np.tile(x, reps[1:]), _repeat_samples, (S.Repeat,),
                lambda t, x, reps: t.tile(x, reps[1:])))


# -- repeat_interleave ------------------------------------------------------------------------
def _repeat_interleave_more(d, shape, dim):
    st, _ = _st()
    if d(st.booleans()):
        return (), {"repeats": d(st.integers(0, 3))}
    return (), {"repeats": _rng(d).integers(0, 3, shape[dim])}


def _as_tl(v):
    return Tensor(v) if isinstance(v, np.ndarray) else v


def _as_torch(t, v):
    return t.as_tensor(v) if isinstance(v, np.ndarray) else v


register(OpInfo("repeat_interleave",
                lambda x, repeats, dim: O.repeat_interleave(x, _as_tl(repeats), dim),
                lambda x, repeats, dim: np.repeat(x, repeats, axis=dim),
                _dim_samples(more=_repeat_interleave_more), (S.GetItem, S.IndexAdd),
                lambda t, x, repeats, dim: x.repeat_interleave(_as_torch(t, repeats), dim)))
register(OpInfo("repeat_interleave_flat",
                lambda x, repeats, dim: O.repeat_interleave(x, 2),
                lambda x, repeats, dim: np.repeat(x, 2),
                _dim_samples(more=lambda d, s, k: ((), {"repeats": 2})),
                (S.GetItem, S.IndexAdd),
                lambda t, x, repeats, dim: x.repeat_interleave(2)))


# -- scatter / scatter_add ----------------------------------------------------------------
def _scatter_index(d, shape, dim, unique):
    """An index no larger than ``shape``; with ``unique``, no position repeats along dim
    (a repeated scatter position gets an undefined winner, so no finite difference)."""
    st, _ = _st()
    ishape = tuple(d(st.integers(1, n)) for n in shape)
    rng = _rng(d)
    if not unique:
        return rng.integers(0, shape[dim], ishape)
    full = list(ishape)
    full[dim] = shape[dim]
    perm = np.argsort(rng.random(full), axis=dim)
    return np.ascontiguousarray(np.take(perm, np.arange(ishape[dim]), axis=dim))


def _scatter_more(unique):
    def more(d, shape, dim):
        _, ts = _st()
        idx = _scatter_index(d, shape, dim, unique)
        return (idx, d(ts.float_arrays(idx.shape))), {}
    return more


def _np_scatter(x, idx, src, dim, add=False):
    out = x.copy()
    pos = list(np.indices(idx.shape, sparse=True))
    pos[dim] = idx
    if add:
        np.add.at(out, tuple(pos), src[tuple(slice(0, n) for n in idx.shape)])
    else:
        out[tuple(pos)] = src[tuple(slice(0, n) for n in idx.shape)] if np.ndim(src) else src
    return out


register(OpInfo("scatter", lambda x, idx, src, dim: O.scatter(x, dim, idx, src),
                _np_scatter, _dim_samples(more=_scatter_more(True)), (S.Scatter,),
                lambda t, x, idx, src, dim: x.scatter(dim, idx, src)))
register(OpInfo("scatter_value", lambda x, idx, src, dim: O.scatter(x, dim, idx, value=-1.5),
                lambda x, idx, src, dim: _np_scatter(x, idx, -1.5, dim),
                _dim_samples(more=_scatter_more(False)), (S.Scatter,),
                lambda t, x, idx, src, dim: x.scatter(dim, idx, -1.5)))
register(OpInfo("scatter_add", lambda x, idx, src, dim: O.scatter_add(x, dim, idx, src),
                lambda x, idx, src, dim: _np_scatter(x, idx, src, dim, add=True),
                _dim_samples(more=_scatter_more(False)), (R.ScatterAdd, R.Gather),
                lambda t, x, idx, src, dim: x.scatter_add(dim, idx, src)))


# -- take_along_dim: indices broadcast against x outside dim, negatives count from the end --
def _take_more(d, shape, dim):
    st, _ = _st()
    ishape = [d(st.sampled_from([1, n])) for n in shape]
    ishape[dim] = d(st.integers(1, 4))
    return (_rng(d).integers(0, shape[dim], ishape),), {}


register(OpInfo("take_along_dim", lambda x, idx, dim: O.take_along_dim(x, idx, dim),
                lambda x, idx, dim: np.take_along_axis(x, idx, axis=dim),
                _dim_samples(more=_take_more), (R.Gather, R.ScatterAdd, S.Expand),
                lambda t, x, idx, dim: t.take_along_dim(x, idx, dim),
                # PyTorch 2.13 accepts an index past a size-1 dim of the input (index 1 into
                # size 1 returns the input); its own gather refuses the same index
                fuzz_refusals=(r"take_along_dim: index \d+ is out of range",)))
register(OpInfo("take_along_dim_flat", lambda x, idx, dim: O.take_along_dim(x, idx),
                lambda x, idx, dim: np.take(x.reshape(-1), idx.reshape(-1)),
                _dim_samples(more=lambda d, s, k: ((_rng(d).integers(
                    0, int(np.prod(s)), (3, 2)),), {})),
                (S.GetItem, S.IndexAdd), lambda t, x, idx, dim: t.take_along_dim(x, idx),
                # PyTorch 2.13 flattens with view(-1), which refuses a non-contiguous input
                # ("view size is not compatible"); the flattened gather is well defined
                fuzz_skip=lambda case: case.layouts[0] in ("transposed", "strided", "expanded")))


# -- narrow, roll, tril/triu, diagonal/diag -------------------------------------------------
def _narrow_more(d, shape, dim):
    st, _ = _st()
    n = shape[dim]
    start = d(st.integers(-n, n))
    length = d(st.integers(0, n - (start + n if start < 0 else start)))
    return (), {"start": start, "length": length}


register(OpInfo("narrow", lambda x, dim, start, length: x.narrow(dim, start, length),
                lambda x, dim, start, length: np.take(
                    x, np.arange(start % x.shape[dim] if start < 0 else start,
                                 (start % x.shape[dim] if start < 0 else start) + length),
                    axis=dim),
                _dim_samples(more=_narrow_more), (S.GetItem, S.IndexAdd),
                lambda t, x, dim, start, length: x.narrow(dim, start, length)))


def _roll_samples():
    st, ts = _st()

    @st.composite
    def draw(d):
        shape = d(ts.shapes())
        x = d(ts.float_arrays(shape))
        if not shape or d(st.booleans()):
            return SampleInput((x,), {"shifts": d(st.integers(-7, 7)), "dims": None})
        k = d(st.integers(1, 3))
        dims = tuple(d(st.integers(-len(shape), len(shape) - 1)) for _ in range(k))
        shifts = tuple(d(st.integers(-7, 7)) for _ in range(k))
        return SampleInput((x,), {"shifts": shifts, "dims": dims})
    return draw()


register(OpInfo("roll", lambda x, shifts, dims: O.roll(x, shifts, dims),
                lambda x, shifts, dims: np.roll(x, shifts, dims), _roll_samples, (S.Roll,),
                lambda t, x, shifts, dims: t.roll(x, shifts, () if dims is None else dims)))


def _matrix_samples(**kw):
    def build():
        st, ts = _st()

        @st.composite
        def draw(d):
            shape = d(ts.shapes(min_dims=2))
            out = {k: d(v()) for k, v in kw.items()}
            if "dim1" in out:
                n = len(shape)
                dims = d(st.permutations(range(n)))[:2]
                out["dim1"], out["dim2"] = dims[0] - d(st.sampled_from([0, n])), dims[1]
            return SampleInput((d(ts.float_arrays(shape)),), out)
        return draw()
    return build


def _offsets():
    st, _ = _st()
    return st.integers(-3, 3)


register(OpInfo("tril", lambda x, diagonal: O.tril(x, diagonal),
                lambda x, diagonal: np.tril(x, diagonal), _matrix_samples(diagonal=_offsets),
                (S.Triangle,), lambda t, x, diagonal: x.tril(diagonal)))
register(OpInfo("triu", lambda x, diagonal: x.triu(diagonal),
                lambda x, diagonal: np.triu(x, diagonal), _matrix_samples(diagonal=_offsets),
                (S.Triangle,), lambda t, x, diagonal: t.triu(x, diagonal)))
register(OpInfo("diagonal", lambda x, offset, dim1, dim2: x.diagonal(offset, dim1, dim2),
                lambda x, offset, dim1, dim2: np.diagonal(x, offset, dim1, dim2),
                _matrix_samples(offset=_offsets, dim1=_offsets, dim2=_offsets),
                (S.Diagonal, S.DiagEmbed),
                lambda t, x, offset, dim1, dim2: x.diagonal(offset, dim1, dim2)))


def _diag_samples():
    st, ts = _st()

    @st.composite
    def draw(d):
        shape = d(ts.shapes(min_dims=1, max_dims=2))
        return SampleInput((d(ts.float_arrays(shape)),), {"diagonal": d(st.integers(-3, 3))})
    return draw()


register(OpInfo("diag", lambda x, diagonal: O.diag(x, diagonal),
                lambda x, diagonal: np.diag(x, diagonal), _diag_samples,
                (S.Diagonal, S.DiagEmbed), lambda t, x, diagonal: t.diag(x, diagonal)))


# -- movedim, unflatten, broadcast_to, meshgrid (compositions of views) ---------------------
def _movedim_samples():
    st, ts = _st()

    @st.composite
    def draw(d):
        shape = d(ts.shapes(min_dims=1))
        n = len(shape)
        k = d(st.integers(1, n))
        src = d(st.permutations(range(n)))[:k]
        dst = d(st.permutations(range(n)))[:k]
        src = tuple(s - n if d(st.booleans()) else s for s in src)
        return SampleInput((d(ts.float_arrays(shape)),), {"source": src, "destination": dst})
    return draw()


register(OpInfo("movedim", lambda x, source, destination: O.movedim(x, source, destination),
                lambda x, source, destination: np.moveaxis(x, source, destination),
                _movedim_samples, (S.Permute,),
                lambda t, x, source, destination: x.movedim(source, destination)))


def _unflatten_more(d, shape, dim):
    st, _ = _st()
    n = shape[dim]
    a = d(st.sampled_from([k for k in range(1, n + 1) if n % k == 0]))
    return (), {"sizes": d(st.sampled_from([(a, n // a), (-1, a), (a, 1, -1)]))}


register(OpInfo("unflatten", lambda x, dim, sizes: x.unflatten(dim, sizes),
                lambda x, dim, sizes: np.reshape(
                    x, x.shape[:dim % x.ndim] + tuple(
                        s if s != -1 else x.shape[dim] // abs(int(np.prod(sizes)))
                        for s in sizes) + x.shape[dim % x.ndim + 1:]),
                _dim_samples(more=_unflatten_more), (S.Reshape,),
                lambda t, x, dim, sizes: x.unflatten(dim, sizes)))


def _meshgrid_samples():
    st, ts = _st()

    @st.composite
    def draw(d):
        k = d(st.integers(1, 3))
        arrs = tuple(d(ts.float_arrays((d(st.integers(1, 4)),))) for _ in range(k))
        return SampleInput(arrs, {"indexing": d(st.sampled_from(["ij", "xy"]))})
    return draw()


register(OpInfo("meshgrid", lambda *xs, indexing: O.meshgrid(*xs, indexing=indexing),
                lambda *xs, indexing: tuple(np.meshgrid(*xs, indexing=indexing)),
                _meshgrid_samples, (S.Reshape, S.Expand),
                lambda t, *xs, indexing: t.meshgrid(*xs, indexing=indexing)))


# -- views rebased after an in-place change of their base (S.AsStrided) ----------------------
def _views_after_inplace(x, b):
    """Views of y taken before y changes in place, used after: their gradient must see b
    (a transposed slice, a strided flat view, an expanded row whose cells overlap)."""
    y = x * 1
    v_t = y.t()[::2]
    v_flat = y.reshape(-1)[1::2]
    v_exp = y[:1].expand(2, y.shape[1])
    y.mul_(b)
    return v_t.sum(0) * 2 + v_flat.sum() + (v_exp * v_exp).sum()


def _np_views_after_inplace(x, b):
    y = x * b
    return y.T[::2].sum(0) * 2 + y.reshape(-1)[1::2].sum() + 2 * (y[:1] ** 2).sum()


def _views_after_inplace_samples():
    st, ts = _st()

    @st.composite
    def draw(d):
        shape = d(ts.shapes(min_dims=2, max_dims=2, min_side=1))
        return SampleInput((d(ts.float_arrays(shape)), d(ts.float_arrays(()))))
    return draw()


register(OpInfo("view_after_inplace", _views_after_inplace, _np_views_after_inplace,
                _views_after_inplace_samples, (S.AsStrided, S.AsStridedAdjoint),
                lambda t, x, b: _views_after_inplace(x, b)))
