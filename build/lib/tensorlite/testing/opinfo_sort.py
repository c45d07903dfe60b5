"""OpInfo entries for reductions, scans and sorting (ops/reduce.py, ops/sort.py).

Ops returning (values, indices) are entered with their values (the differentiable part);
the indices, and the integer-valued ops (argsort, nonzero, unique, count_nonzero), are
compared with PyTorch in tests/test_ops_sort_extra.py.
"""
from __future__ import annotations

import numpy as np

from .. import ops as O
from ..ops import compare, elementwise as E, reduce as R, shape as S
# (ops.sort is the sort function; the module's Functions are imported by name.)
from ..ops.sort import Cumprod, Cumsum, LogCumSumExp, MedianAll
from .opinfo import OpInfo, SampleInput, _st, register


def _with_zeros(d, x: np.ndarray) -> np.ndarray:
    """x with none, one or several elements set to exactly 0 (prod/cumprod's hard cases)."""
    st, _ = _st()
    k = d(st.sampled_from([0, 0, 1, 2]))
    if k and x.size:
        x = np.array(x)
        for j in d(st.lists(st.integers(0, x.size - 1), min_size=k, max_size=k)):
            x.reshape(-1)[j] = 0.0
    return x


def _dim_samples(zeros: bool = False, keepdim: bool = False, dim_none: bool = False,
                 lo: float = -2, hi: float = 2, unique: bool = False, min_dims: int = 0):
    def build():
        st, ts = _st()

        @st.composite
        def draw(d):
            shape = d(ts.shapes(min_dims=min_dims))
            x = d(ts.float_arrays(shape, lo, hi, unique=unique))
            if zeros:
                x = _with_zeros(d, x)
            nd = len(shape)
            dims = st.integers(-max(nd, 1), max(nd, 1) - 1)
            dim = d(st.one_of(st.none(), dims) if dim_none else dims)
            kw = {"dim": dim}
            if keepdim:
                kw["keepdim"] = d(st.booleans()) if dim is not None else False
            return SampleInput((x,), kw)
        return draw()
    return build


# -- prod ---------------------------------------------------------------------------------
def _np_prod(x, dim, keepdim):
    if dim is None or x.ndim == 0:
        return np.asarray(np.prod(x))
    return np.prod(x, axis=dim, keepdims=keepdim)


register(OpInfo("prod", lambda x, dim, keepdim: O.prod(x, dim, keepdim), _np_prod,
                _dim_samples(zeros=True, keepdim=True, dim_none=True), (R.Prod, Cumprod),
                lambda t, x, dim, keepdim: t.prod(x) if dim is None else
                t.prod(x, dim, keepdim)))


# -- scans --------------------------------------------------------------------------------
def _np_scan(fn):
    def ref(x, dim):
        return x.copy() if x.ndim == 0 else fn(x, axis=dim)
    return ref


register(OpInfo("cumsum", lambda x, dim: O.cumsum(x, dim), _np_scan(np.cumsum),
                _dim_samples(), (Cumsum, S.Flip),
                lambda t, x, dim: t.cumsum(x, dim)))
register(OpInfo("cumprod", lambda x, dim: O.cumprod(x, dim), _np_scan(np.cumprod),
                _dim_samples(zeros=True), (Cumprod, Cumsum, R.Prod),
                lambda t, x, dim: t.cumprod(x, dim)))
register(OpInfo("logcumsumexp", lambda x, dim: O.logcumsumexp(x, dim),
                _np_scan(np.logaddexp.accumulate), _dim_samples(lo=-20, hi=20),
                (LogCumSumExp, E.Exp, E.Log, compare.Where),
                lambda t, x, dim: t.logcumsumexp(x, dim)))


def _np_cum_extreme(is_max):
    def ref(x, dim):
        if x.ndim == 0:
            return x.copy()
        return (np.maximum if is_max else np.minimum).accumulate(x, axis=dim)
    return ref


# Repeated values (no unique=True): the running extreme's gradient goes to its latest
# occurrence, which PyTorch's cummax picks too.
register(OpInfo("cummax", lambda x, dim: O.cummax(x, dim).values, _np_cum_extreme(True),
                _dim_samples(unique=True), (R.Gather, R.ScatterAdd),
                lambda t, x, dim: t.cummax(x, dim).values))
register(OpInfo("cummin", lambda x, dim: O.cummin(x, dim).values, _np_cum_extreme(False),
                _dim_samples(unique=True), (R.Gather, R.ScatterAdd),
                lambda t, x, dim: t.cummin(x, dim).values))


# -- norm ---------------------------------------------------------------------------------
_PS = [2, "fro", 1, float("inf"), float("-inf"), 0.5, 3, 1.5, -1.5]


def _norm_samples():
    st, ts = _st()

    @st.composite
    def draw(d):
        shape = d(ts.shapes())
        # Away from 0 (the kink of |x|) and with distinct |x| (no ties for inf / -inf).
        x = d(ts.float_arrays(shape, 0.1, 3, unique=True))
        x = np.asarray(x * np.where(d(ts.float_arrays(shape, -1, 1, noncontiguous=False)) < 0,
                                    -1, 1))
        nd = len(shape)
        dim = d(st.one_of(st.none(), st.integers(-nd, nd - 1) if nd else st.none(),
                          st.sets(st.integers(0, nd - 1), min_size=1).map(tuple)
                          if nd else st.none()))
        p = d(st.sampled_from(_PS))
        if p == "fro" and isinstance(dim, tuple) and len(dim) > 2:
            p = 2
        return SampleInput((x,), {"p": p, "dim": dim, "keepdim": d(st.booleans())})
    return draw()


def _np_norm(x, p, dim, keepdim):
    p = 2 if p == "fro" else p
    axis = None if dim is None else dim
    a = np.abs(x)
    if p == float("inf"):
        out = np.max(a, axis=axis, keepdims=keepdim)
    elif p == float("-inf"):
        out = np.min(a, axis=axis, keepdims=keepdim)
    else:
        out = np.sum(a ** p, axis=axis, keepdims=keepdim) ** (1 / p)
    if keepdim and dim is None:
        out = np.reshape(out, (1,) * x.ndim)
    return np.asarray(out)


register(OpInfo("norm", lambda x, p, dim, keepdim: O.norm(x, p, dim, keepdim), _np_norm,
                _norm_samples, (R.Norm, E.Sign, compare.Where),
                lambda t, x, p, dim, keepdim: t.norm(x, p, dim, keepdim)))


# -- aminmax ------------------------------------------------------------------------------
def _aminmax_samples():
    st, ts = _st()

    @st.composite
    def draw(d):
        shape = d(ts.shapes())
        x = d(ts.float_arrays(shape, unique=True))
        nd = len(shape)
        dim = d(st.one_of(st.none(), st.integers(-max(nd, 1), max(nd, 1) - 1)))
        return SampleInput((x,), {"dim": dim, "keepdim": d(st.booleans())})
    return draw()


def _np_aminmax(x, dim, keepdim):
    axis = None if dim is None or x.ndim == 0 else dim
    return (np.asarray(np.min(x, axis=axis, keepdims=keepdim)),
            np.asarray(np.max(x, axis=axis, keepdims=keepdim)))


register(OpInfo("aminmax", lambda x, dim, keepdim: tuple(O.aminmax(x, dim=dim, keepdim=keepdim)),
                _np_aminmax, _aminmax_samples, (R._Extreme,),
                lambda t, x, dim, keepdim: tuple(t.aminmax(x, dim=dim, keepdim=keepdim))))


# -- sorting ------------------------------------------------------------------------------
def _sort_samples():
    st, ts = _st()

    @st.composite
    def draw(d):
        shape = d(ts.shapes())
        nd = len(shape)
        # Distinct values: at a tie sort is not differentiable (which element each
        # gradient goes to there is compared with PyTorch in tests/test_ops_sort_extra.py).
        x = d(ts.float_arrays(shape, unique=True))
        return SampleInput((x,), {"dim": d(st.integers(-max(nd, 1), max(nd, 1) - 1)),
                                  "descending": d(st.booleans())})
    return draw()


def _np_sort(x, dim, descending):
    if x.ndim == 0:
        return x.copy()
    out = np.sort(x, axis=dim, kind="stable")
    return np.flip(out, dim) if descending else out


register(OpInfo("sort", lambda x, dim, descending: O.sort(x, dim, descending, stable=True).values,
                _np_sort, _sort_samples, (R.Gather, R.ScatterAdd),
                lambda t, x, dim, descending: t.sort(x, dim=dim, descending=descending,
                                                     stable=True).values))
register(OpInfo("msort", O.msort, lambda x: np.sort(x, axis=0) if x.ndim else x.copy(),
                lambda: _dim_samples(unique=True)().map(lambda s: SampleInput(s.args)),
                (R.Gather, R.ScatterAdd), lambda t, x: t.msort(x)))


def _k_samples(k_min: int, flag: str):
    """x with distinct values, a dim, a k in [k_min, size of dim], and a bool ``flag``
    keyword (topk's largest, kthvalue's keepdim)."""
    st, ts = _st()

    @st.composite
    def draw(d):
        shape = d(ts.shapes())
        nd = len(shape)
        x = d(ts.float_arrays(shape, unique=True))
        dim = d(st.integers(-max(nd, 1), max(nd, 1) - 1))
        n = shape[dim] if nd else 1
        return SampleInput((x,), {"k": d(st.integers(k_min, n)), "dim": dim,
                                  flag: d(st.booleans())})
    return draw()


def _np_topk(x, k, dim, largest):
    if x.ndim == 0:
        return x.copy()
    s = np.sort(x, axis=dim)
    if largest:
        s = np.flip(s, dim)
    return np.take(s, np.arange(k), axis=dim)


register(OpInfo("topk", lambda x, k, dim, largest: O.topk(x, k, dim, largest).values, _np_topk,
                lambda: _k_samples(0, "largest"), (R.Gather, R.ScatterAdd),
                lambda t, x, k, dim, largest: t.topk(x, k, dim, largest).values))


def _np_kth(x, k, dim, keepdim):
    if x.ndim == 0:
        return x.copy()
    return np.take(np.sort(x, axis=dim), [k - 1] if keepdim else k - 1, axis=dim)


register(OpInfo("kthvalue", lambda x, k, dim, keepdim: O.kthvalue(x, k, dim, keepdim).values,
                _np_kth, lambda: _k_samples(1, "keepdim"), (R.Gather, R.ScatterAdd),
                lambda t, x, k, dim, keepdim: t.kthvalue(x, k, dim, keepdim).values,
                fuzz_known="tied values: the gradient goes to another of the equal elements "
                           "than PyTorch's (its partial sort picks e.g. the last)"))


def _np_median(x, dim, keepdim):
    if dim is None:
        flat = np.sort(x, axis=None)
        return np.asarray(flat[(flat.size - 1) // 2])
    if x.ndim == 0:
        return x.copy()
    n = x.shape[dim]
    return np.take(np.sort(x, axis=dim), [(n - 1) // 2] if keepdim else (n - 1) // 2, axis=dim)


def _median_op(x, dim, keepdim):
    return O.median(x) if dim is None else O.median(x, dim, keepdim).values


def _median_torch(t, x, dim, keepdim):
    return t.median(x) if dim is None else t.median(x, dim, keepdim).values


# Distinct values: at a tie the median is not differentiable (the gradient PyTorch picks
# there is compared in tests/test_ops_sort_extra.py).
register(OpInfo("median", _median_op, _np_median,
                _dim_samples(keepdim=True, dim_none=True, unique=True),
                (MedianAll, R.Gather, R.ScatterAdd), _median_torch,
                # PyTorch 2.13's median(dim) of an expanded input (stride 0 along dim) reads
                # garbage: [0.5, 0.5] as expand gave 5e-210
                fuzz_skip=lambda case: case.layouts[0] == "expanded"))


# -- masked_select ------------------------------------------------------------------------
def _masked_select_samples():
    st, ts = _st()

    @st.composite
    def draw(d):
        sx, sm = d(ts.broadcastable_shapes(2))
        mask = np.asarray(np.asarray(d(ts.float_arrays(sm, -1, 1, noncontiguous=False))) > 0)
        return SampleInput((d(ts.float_arrays(sx)), mask))
    return draw()


def _np_masked_select(x, mask):
    shape = np.broadcast_shapes(x.shape, mask.shape)
    return np.broadcast_to(x, shape)[np.broadcast_to(mask, shape)]


register(OpInfo("masked_select", O.masked_select, _np_masked_select, _masked_select_samples,
                (S.Expand, S.Reshape, S.GetItem, S.IndexAdd),
                lambda t, x, mask: t.masked_select(x, mask)))
