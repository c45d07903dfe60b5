"""OpInfo entries for more elementwise math (ops/elementwise.py, ops/compare.py).

The bool-valued ops (isinf, isclose, equal ...) have no gradient and so no entry here;
tests/test_ops_math_extra.py compares them with PyTorch.
"""
from __future__ import annotations

import numpy as np

from .. import ops as O
from ..ops import elementwise as E
from .opinfo import OpInfo, SampleInput, _st, binary_samples, register, unary_samples


def _un(name, op, ref, covers, torch_fn, **kw):
    register(OpInfo(name, op, ref, kw.pop("samples", unary_samples()), covers, torch_fn, **kw))


# -- unary float functions: samples kept inside each domain, away from its poles ---------
_un("reciprocal", O.reciprocal, np.reciprocal, (E.Reciprocal,), lambda t, x: x.reciprocal(),
    samples=unary_samples(0.3, 3))
_un("reciprocal_neg", O.reciprocal, np.reciprocal, (E.Reciprocal,),
    lambda t, x: t.reciprocal(x), samples=unary_samples(-3, -0.3))
_un("rsqrt", O.rsqrt, lambda x: 1 / np.sqrt(x), (E.Rsqrt,), lambda t, x: x.rsqrt(),
    samples=unary_samples(0.2, 5))
_un("log1p", O.log1p, np.log1p, (E.Log1p,), lambda t, x: x.log1p(),
    samples=unary_samples(-0.8, 5))
_un("expm1", O.expm1, np.expm1, (E.Expm1,), lambda t, x: x.expm1())
_un("log2", O.log2, np.log2, (E.Log2,), lambda t, x: x.log2(), samples=unary_samples(0.2, 5))
_un("log10", O.log10, np.log10, (E.Log10,), lambda t, x: x.log10(),
    samples=unary_samples(0.2, 5))
_un("tan", O.tan, np.tan, (E.Tan,), lambda t, x: x.tan(), samples=unary_samples(-1.2, 1.2))
_un("asin", O.asin, np.arcsin, (E.Asin, E.Rsqrt), lambda t, x: x.asin(),
    samples=unary_samples(-0.9, 0.9))
_un("acos", O.acos, np.arccos, (E.Acos, E.Rsqrt), lambda t, x: x.acos(),
    samples=unary_samples(-0.9, 0.9))
_un("atan", O.atan, np.arctan, (E.Atan,), lambda t, x: x.atan())
_un("sinh", O.sinh, np.sinh, (E.Sinh, E.Cosh), lambda t, x: x.sinh())
_un("cosh", O.cosh, np.cosh, (E.Cosh, E.Sinh), lambda t, x: x.cosh())

# -- rounding: values kept away from the jumps (integers, or halves for round) -----------
_INTS = tuple(float(k) for k in range(-3, 4))
_HALVES = tuple(k + 0.5 for k in range(-4, 4))
# The gradient is a constant 0: there is no second gradient (as sign).
_un("floor", O.floor, np.floor, (E.Floor, E._Rounding), lambda t, x: x.floor(),
    samples=unary_samples(avoid=_INTS), supports_gradgrad=False)
_un("ceil", O.ceil, np.ceil, (E.Ceil, E._Rounding), lambda t, x: x.ceil(),
    samples=unary_samples(avoid=_INTS), supports_gradgrad=False)
_un("trunc", O.trunc, np.trunc, (E.Trunc, E._Rounding), lambda t, x: x.trunc(),
    samples=unary_samples(avoid=_INTS), supports_gradgrad=False)
_un("round", O.round, np.round, (E.Round, E._Rounding), lambda t, x: x.round(),
    samples=unary_samples(avoid=_HALVES), supports_gradgrad=False)
_un("frac", O.frac, lambda x: x - np.trunc(x), (E.Frac,), lambda t, x: x.frac(),
    samples=unary_samples(avoid=_INTS))


def _round_decimals_samples():
    st, ts = _st()

    @st.composite
    def draw(d):
        decimals = d(st.sampled_from([-1, 1, 2]))
        step = 10.0 ** -decimals
        shape = d(ts.shapes())
        # Values drawn on a grid of step/2 multiples, then moved a quarter step off it:
        # never within step/4 of a rounding boundary (k + 0.5) * step.
        x = d(ts.float_arrays(shape, -30 * step, 30 * step, noncontiguous=False))
        x = np.asarray((np.floor(x / step) + d(st.sampled_from([0.2, 0.25, 0.75, 0.8]))) * step)
        return SampleInput((x,), {"decimals": decimals})
    return draw()


def _np_round(x, decimals):
    # PyTorch's formula (numpy's np.round differs in the last bit for some values).
    p = 10.0 ** abs(decimals)
    return np.rint(x * p) / p if decimals > 0 else np.rint(x / p) * p


register(OpInfo("round_decimals", lambda x, decimals: O.round(x, decimals=decimals), _np_round,
                _round_decimals_samples, (E.Round, E._Rounding),
                lambda t, x, decimals: t.round(x, decimals=decimals),
                supports_gradgrad=False))

# -- binary --------------------------------------------------------------------------
_bs = binary_samples
# atan2: b > 0 keeps the samples off the branch cut (b < 0, a = 0) and away from (0, 0).
register(OpInfo("atan2", O.atan2, np.arctan2, _bs(lo_b=0.4, hi_b=3), (E.Atan2, E.Reciprocal),
                lambda t, a, b: t.atan2(a, b)))
register(OpInfo("atan2_neg", lambda a, b: a.arctan2(b), np.arctan2, _bs(lo=0.4, lo_b=-3,
                                                                          hi_b=-0.4),
                (E.Atan2, E.Reciprocal), lambda t, a, b: t.arctan2(a, b)))
register(OpInfo("hypot", O.hypot, np.hypot, _bs(lo_b=0.4, hi_b=3), (E.Hypot,),
                lambda t, a, b: t.hypot(a, b)))
register(OpInfo("logaddexp", O.logaddexp, np.logaddexp, _bs(-5, 5), (E.Logaddexp, E.Exp),
                lambda t, a, b: t.logaddexp(a, b)))


def _fmod_samples():
    st, ts = _st()

    @st.composite
    def draw(d):
        sa, sb = d(ts.broadcastable_shapes(2))
        a = d(ts.float_arrays(sa))
        # |b| in [0.6, 0.9]: no integer a (the exact values the strategy likes) is then a
        # multiple of b, so a / b stays away from the jumps of fmod.
        b = d(ts.float_arrays(sb, 0.6, 0.9))
        if d(st.booleans()):
            b = -b
        return SampleInput((a, b))
    return draw()


register(OpInfo("fmod", O.fmod, np.fmod, _fmod_samples, (E.Fmod,),
                lambda t, a, b: t.fmod(a, b)))
def _remainder_samples():
    st, ts = _st()

    @st.composite
    def draw(d):
        sample = d(_fmod_samples())
        a, b = sample.args
        # floor(a / b) jumps at every multiple of b, 0 included (fmod's trunc does not jump
        # at 0): move a off the jumps so finite differences see one branch.
        q = a / b
        a = np.where(np.abs(q - np.round(q)) < 1e-2, a + 0.3 * np.abs(b), a)
        return SampleInput((np.asarray(a, dtype=np.float64), b))
    return draw()


register(OpInfo("remainder", O.remainder, np.remainder, _remainder_samples, (E.Remainder,),
                lambda t, a, b: t.remainder(a, b)))
register(OpInfo("fmod_scalar", lambda a: O.fmod(a, 0.7), lambda a: np.fmod(a, 0.7),
                unary_samples(avoid=tuple(0.7 * k for k in range(-4, 5))), (E.Fmod,),
                lambda t, a: t.fmod(a, 0.7)))


def _lerp_samples():
    st, ts = _st()

    @st.composite
    def draw(d):
        ss, se, sw = d(ts.broadcastable_shapes(3))
        # weights on both sides of 0.5 (PyTorch's two formulas) and outside [0, 1]
        return SampleInput((d(ts.float_arrays(ss)), d(ts.float_arrays(se)),
                            d(ts.float_arrays(sw, -0.5, 1.5))))
    return draw()


def _np_lerp(s, e, w):
    return np.where(np.abs(w) < 0.5, s + w * (e - s), e - (e - s) * (1 - w))


register(OpInfo("lerp", O.lerp, _np_lerp, _lerp_samples, (E.Lerp,),
                lambda t, s, e, w: t.lerp(s, e, w)))


def _lerp_scalar_samples():
    st, ts = _st()

    @st.composite
    def draw(d):
        ss, se = d(ts.broadcastable_shapes(2))
        w = d(st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0, -0.3, 1.7]))
        return SampleInput((d(ts.float_arrays(ss)), d(ts.float_arrays(se))), {"weight": w})
    return draw()


register(OpInfo("lerp_scalar", lambda s, e, weight: s.lerp(e, weight),
                lambda s, e, weight: _np_lerp(s, e, np.float64(weight)),
                _lerp_scalar_samples, (E.Lerp,),
                lambda t, s, e, weight: t.lerp(s, e, weight)))

# -- nan_to_num (finite samples: the identity with gradient 1; the edges are in the tests)
register(OpInfo("nan_to_num", lambda x: O.nan_to_num(x, 1.5, 2.0, -2.0),
                lambda x: np.nan_to_num(x, nan=1.5, posinf=2.0, neginf=-2.0), unary_samples(),
                (E.NanToNum,), lambda t, x: t.nan_to_num(x, 1.5, 2.0, -2.0)))


# -- entries written in the op's own declaration (a unary-table row's test=dict(...)) ------
def entry_from_declaration(op) -> OpInfo:
    """The OpInfo entry of an op declared with ``test=dict(ref=..., lo=..., hi=...)``
    (optional ``avoid``, ``torch_fn``, ``gradgrad``): samples inside [lo, hi]."""
    t = op.test
    return OpInfo(op.name, op.fn, t["ref"],
                  unary_samples(t.get("lo", -3), t.get("hi", 3), avoid=t.get("avoid", ())),
                  (op.fn.Function,), t.get("torch_fn"),
                  supports_gradgrad=t.get("gradgrad", True))


def _register_declared() -> None:
    from ..ops import registry
    for op in registry.OPS.values():
        if op.test is not None:
            register(entry_from_declaration(op))


_register_declared()
