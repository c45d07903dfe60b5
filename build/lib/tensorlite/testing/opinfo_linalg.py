"""OpInfo entries for linear algebra (ops/linalg.py) and the nn.functional helpers built on
it (normalize, cosine_similarity, pairwise_distance)."""
from __future__ import annotations

import numpy as np

from .. import ops as O
from ..ops import compare, elementwise as E, linalg as L, reduce as R, shape as S
from .opinfo import OpInfo, SampleInput, _st, register


def _F():
    # nn is a sibling package of tensorlite; imported on use so the library never needs it.
    import nn.functional as F
    return F


def _sides(d, st, k=3, lo=1, hi=4):
    return [d(st.integers(lo, hi)) for _ in range(k)]


# ---------------------------------------------------------------------------------------
# mm, bmm, dot, mv, outer
# ---------------------------------------------------------------------------------------
def _product_samples(kind):
    def build():
        st, ts = _st()

        @st.composite
        def draw(d):
            n, k, m = _sides(d, st)
            b = d(st.integers(1, 3))
            shapes = {"mm": ((n, k), (k, m)), "bmm": ((b, n, k), (b, k, m)),
                      "dot": ((k,), (k,)), "mv": ((n, k), (k,)), "outer": ((n,), (m,))}[kind]
            return SampleInput(tuple(d(ts.float_arrays(s)) for s in shapes))
        return draw()
    return build


register(OpInfo("mm", O.mm, np.matmul, _product_samples("mm"), (L.MatMul,),
                lambda t, a, b: t.mm(a, b)))
register(OpInfo("bmm", O.bmm, np.matmul, _product_samples("bmm"), (L.MatMul,),
                lambda t, a, b: t.bmm(a, b)))
register(OpInfo("dot", O.dot, np.dot, _product_samples("dot"), (L.Dot, E.Mul),
                lambda t, a, b: t.dot(a, b)))
register(OpInfo("mv", O.mv, np.matmul, _product_samples("mv"), (L.Mv, E.Mul, S.Reshape, S.Permute),
                lambda t, a, b: t.mv(a, b)))
register(OpInfo("outer", O.outer, np.outer, _product_samples("outer"), (E.Mul, S.Reshape),
                lambda t, a, b: t.outer(a, b)))


# ---------------------------------------------------------------------------------------
# addmm, addmv, baddbmm
# ---------------------------------------------------------------------------------------
def _addmm_samples(kind):
    def build():
        st, ts = _st()

        @st.composite
        def draw(d):
            n, k, m = _sides(d, st)
            b = d(st.integers(1, 3))
            out = {"addmm": (n, m), "addmv": (n,), "baddbmm": (b, n, m)}[kind]
            # input: the full shape, or one that broadcasts to it (trailing dims, size 1s)
            lead = d(st.integers(0, len(out)))
            ishape = tuple(s if d(st.booleans()) else 1 for s in out[lead:])
            mats = {"addmm": ((n, k), (k, m)), "addmv": ((n, k), (k,)),
                    "baddbmm": ((b, n, k), (b, k, m))}[kind]
            kw = {"beta": d(st.sampled_from([1, 0, 0.5, -2])),
                  "alpha": d(st.sampled_from([1, 2, -0.75]))}
            return SampleInput((d(ts.float_arrays(ishape)),) + tuple(
                d(ts.float_arrays(s)) for s in mats), kw)
        return draw()
    return build


def _np_addmm(i, a, b, beta, alpha):
    return (beta * i if beta else 0) + alpha * np.matmul(a, b)


for _name in ("addmm", "addmv", "baddbmm"):
    register(OpInfo(_name, getattr(O, _name), _np_addmm, _addmm_samples(_name),
                    (L.MatMul, L.Mv, E.Mul, E.Add, compare.Where),
                    lambda t, i, a, b, _n=_name, **kw: getattr(t, _n)(i, a, b, **kw),
                    # PyTorch 2.13's addmv of a (1,) input and a (0, k) matrix returns shape
                    # (1,); the broadcast of (1,) with the (0,) product is (0,)
                    fuzz_skip=None if _name != "addmv" else
                    lambda case: any(isinstance(a, np.ndarray) and 0 in a.shape
                                     for a in case.args)))


# ---------------------------------------------------------------------------------------
# einsum and tensordot
# ---------------------------------------------------------------------------------------
# (equation, shapes as letters -> sizes drawn per letter; 'X' marks a size-1 broadcast)
_EQUATIONS = [
    ("ij,jk->ik", ["ij", "jk"]),
    ("bij,bjk->bik", ["bij", "bjk"]),
    ("ii->i", ["ii"]),
    ("ii", ["ii"]),
    ("...ij->...ji", ["bij"]),
    ("ij->", ["ij"]),
    ("ij", ["ij"]),
    ("ba,ab", ["ba", "ab"]),
    ("i,i->", ["i", "i"]),
    ("i,j->ij", ["i", "j"]),
    ("ij,ij->ij", ["ij", "ij"]),
    ("ijk,jl->kil", ["ijk", "jl"]),
    ("bn,anm,bm->ba", ["bn", "anm", "bm"]),
    ("iij->j", ["iij"]),
    ("ij,j->i", ["ij", "j"]),
    ("...ij,...jk->...ik", ["aXij", "bjk"]),
    ("i,i->i", ["X", "i"]),
    (",i->i", ["", "i"]),
]


def _einsum_samples():
    st, ts = _st()

    @st.composite
    def draw(d):
        eq, specs = d(st.sampled_from(_EQUATIONS))
        sizes = {c: d(st.integers(1, 4)) for c in "".join(specs)}
        sizes["X"] = 1
        if eq.startswith("...ij,"):
            sizes["a"] = d(st.integers(2, 3))  # a x 1 against b: broadcast batch dims
        arrays = tuple(d(ts.float_arrays(tuple(sizes[c] for c in s))) for s in specs)
        return SampleInput(arrays, {"equation": eq})
    return draw()


def _np_einsum(*arrays, equation):
    if equation == "i,i->i":  # PyTorch broadcasts a size-1 subscript; numpy does not
        return arrays[0] * arrays[1]
    return np.asarray(np.einsum(equation, *arrays))


register(OpInfo("einsum", lambda *xs, equation: O.einsum(equation, *xs), _np_einsum,
                _einsum_samples, (L.Einsum, S.Expand),
                lambda t, *xs, equation: t.einsum(equation, *xs), max_examples=40))


def _tensordot_samples():
    st, ts = _st()

    @st.composite
    def draw(d):
        na, nb = d(st.integers(0, 3)), d(st.integers(0, 3))
        sa = [d(st.integers(1, 3)) for _ in range(na)]
        sb = [d(st.integers(1, 3)) for _ in range(nb)]
        if d(st.booleans()):
            n = d(st.integers(0, min(na, nb)))
            for j in range(n):
                sb[j] = sa[na - n + j]
            dims = n
        else:
            n = d(st.integers(0, min(na, nb)))
            da = d(st.permutations(range(na)))[:n]
            db = d(st.permutations(range(nb)))[:n]
            for i, j in zip(da, db):
                sb[j] = sa[i]
            dims = (list(da), list(db))
        return SampleInput((d(ts.float_arrays(sa)), d(ts.float_arrays(sb))), {"dims": dims})
    return draw()


register(OpInfo("tensordot", lambda a, b, dims: O.tensordot(a, b, dims),
                lambda a, b, dims: np.tensordot(a, b, dims), _tensordot_samples,
                (L.Einsum,), lambda t, a, b, dims: t.tensordot(a, b, dims)))


# ---------------------------------------------------------------------------------------
# vector norms and the nn.functional helpers
# ---------------------------------------------------------------------------------------
_ORDS = [2, 1, 3, 1.5, np.inf, -np.inf, 0.5, -1]


def _norm_samples():
    st, ts = _st()

    @st.composite
    def draw(d):
        shape = d(ts.shapes(min_dims=0))
        nd = len(shape)
        # Away from 0 (|x|'s kink) and without ties (the max of |x| for p = inf).
        x = d(ts.float_arrays(shape, 0.2, 3, unique=True))
        x = np.asarray(x * np.where(d(ts.float_arrays(shape, -1, 1, noncontiguous=False)) < 0,
                                    -1, 1))
        dim = d(st.one_of(st.none(), st.integers(-nd, nd - 1) if nd else st.none(),
                          st.sets(st.integers(0, nd - 1), min_size=1).map(tuple)
                          if nd else st.none()))
        return SampleInput((x,), {"ord": d(st.sampled_from(_ORDS)), "dim": dim,
                                  "keepdim": d(st.booleans())})
    return draw()


def _np_vector_norm(x, ord, dim, keepdim):
    axis = dim if dim is None or isinstance(dim, tuple) else (dim,)
    a = np.abs(x)
    if ord == np.inf:
        return np.asarray(np.max(a, axis=axis, keepdims=keepdim))
    if ord == -np.inf:
        return np.asarray(np.min(a, axis=axis, keepdims=keepdim))
    return np.asarray(np.sum(a ** ord, axis=axis, keepdims=keepdim) ** (1 / ord))


register(OpInfo("linalg.vector_norm", O.vector_norm, _np_vector_norm, _norm_samples,
                (R.Norm,),
                lambda t, x, ord, dim, keepdim: t.linalg.vector_norm(x, ord, dim, keepdim)))


def _normalize_samples():
    st, ts = _st()

    @st.composite
    def draw(d):
        shape = d(ts.shapes(min_dims=1))
        dim = d(st.integers(-len(shape), len(shape) - 1))
        x = d(ts.float_arrays(shape, 0.2, 3, unique=True))
        x = x * np.where(d(ts.float_arrays(shape, -1, 1, noncontiguous=False)) < 0, -1, 1)
        return SampleInput((x,), {"p": d(st.sampled_from([2.0, 1.0, 3.0, np.inf])), "dim": dim})
    return draw()


def _np_normalize(x, p, dim):
    return x / np.maximum(_np_vector_norm(x, p, dim, True), 1e-12)


register(OpInfo("nn.functional.normalize", lambda x, **kw: _F().normalize(x, **kw),
                _np_normalize, _normalize_samples, (R.Norm, E.Clamp, E.Div),
                lambda t, x, **kw: t.nn.functional.normalize(x, **kw)))


def _pair_samples(p_values=None):
    def build():
        st, ts = _st()

        @st.composite
        def draw(d):
            s1, s2 = d(ts.broadcastable_shapes(2, min_dims=1))
            nd = max(len(s1), len(s2))
            if p_values is None:
                # no zero vectors: the clamp at eps is a kink a finite difference crosses
                a, b = d(ts.float_arrays(s1, avoid=(0,))), d(ts.float_arrays(s2, avoid=(0,)))
            else:
                # a > 0 > b: |a - b| stays away from 0, the kink of |.| for p = 1 and inf.
                a, b = d(ts.float_arrays(s1, 0.2, 3)), d(ts.float_arrays(s2, -3, -0.2))
            if p_values is None:
                return SampleInput((a, b), {"dim": d(st.integers(-nd, nd - 1))})
            return SampleInput((a, b), {"p": d(st.sampled_from(p_values)),
                                        "keepdim": d(st.booleans())})
        return draw()
    return build


def _np_cosine(a, b, dim):
    a, b = np.broadcast_arrays(a, b)
    na = np.maximum(np.sqrt(np.sum(a * a, axis=dim, keepdims=True)), 1e-8)
    nb = np.maximum(np.sqrt(np.sum(b * b, axis=dim, keepdims=True)), 1e-8)
    return np.sum(a / na * (b / nb), axis=dim)


def _np_pairwise(a, b, p, keepdim):
    diff = a - b + 1e-6
    return _np_vector_norm(diff, p, diff.ndim - 1, keepdim)


register(OpInfo("nn.functional.cosine_similarity",
                lambda a, b, **kw: _F().cosine_similarity(a, b, **kw), _np_cosine,
                _pair_samples(), (R.Norm, E.Div, E.Mul, R.Sum),
                lambda t, a, b, **kw: t.nn.functional.cosine_similarity(a, b, **kw),
                fuzz_known="norms that overflow to inf: ([1e308, 1e308], [1e308, -1e308]) "
                           "gives NaN, PyTorch 0 (x / inf = 0 there)"))
register(OpInfo("nn.functional.pairwise_distance",
                lambda a, b, **kw: _F().pairwise_distance(a, b, **kw), _np_pairwise,
                _pair_samples([2.0, 1.0, 3.0, 0.5]), (R.Norm, E.Sub, E.Add),
                lambda t, a, b, **kw: t.nn.functional.pairwise_distance(a, b, **kw)))
