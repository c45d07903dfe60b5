"""OpInfo entries for the classification losses."""
from __future__ import annotations

import numpy as np

from ..ops import loss as L
from ..ops import reduce as R, shape as S, activation as A
from .opinfo import OpInfo, SampleInput, _st, register


def _np_log_softmax(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def np_cross_entropy(x, target, weight=None, ignore_index=-100, reduction="mean",
                     label_smoothing=0.0):
    """Reference straight from the definition, with classes on axis 1."""
    k = x.shape[1]
    logp = _np_log_softmax(x, 1)
    xt = np.moveaxis(logp, 1, -1).reshape(-1, k)
    t = target.reshape(-1)
    w = np.ones(k) if weight is None else weight
    keep = t != ignore_index
    safe = np.where(keep, t, 0)
    nll = -xt[np.arange(len(t)), safe] * w[safe] * keep
    smooth = -(xt * w).sum(1) / k * keep
    rows = (1 - label_smoothing) * nll + label_smoothing * smooth
    if reduction == "none":
        return rows.reshape(target.shape)
    if reduction == "sum":
        return rows.sum()
    return rows.sum() / (w[safe] * keep).sum()


def np_nll_loss(x, target, weight=None, ignore_index=-100, reduction="mean"):
    k = x.shape[1]
    xt = np.moveaxis(x, 1, -1).reshape(-1, k)
    t = target.reshape(-1)
    w = np.ones(k) if weight is None else weight
    keep = t != ignore_index
    safe = np.where(keep, t, 0)
    rows = -xt[np.arange(len(t)), safe] * w[safe] * keep
    if reduction == "none":
        return rows.reshape(target.shape)
    if reduction == "sum":
        return rows.sum()
    return rows.sum() / (w[safe] * keep).sum()


def loss_samples(weighted: bool = False, smoothing: bool = True):
    def build():
        st, ts = _st()

        @st.composite
        def draw(d):
            n, k = d(st.integers(1, 5)), d(st.integers(2, 5))
            extra = d(st.sampled_from([(), (), (2,), (2, 3)]))
            x = d(ts.float_arrays((n, k) + extra, -4, 4))
            t = np.asarray(d(st.lists(st.integers(0, k - 1), min_size=n * int(np.prod(extra)),
                                      max_size=n * int(np.prod(extra)))), np.int64)
            t = t.reshape((n,) + extra)
            kw = {"reduction": d(st.sampled_from(["mean", "sum", "none"]))}
            if d(st.booleans()) and t.size > 1:
                t.reshape(-1)[0] = -100            # one ignored target
            if weighted:
                kw["weight"] = d(ts.float_arrays((k,), 0.2, 2.0, noncontiguous=False))
            if smoothing:
                kw["label_smoothing"] = d(st.sampled_from([0.0, 0.1]))
            return SampleInput((x,), dict(kw, target=t))
        return draw()
    return build


def _tl_weight(kw):
    from ..tensor import _make
    kw = dict(kw)
    if kw.get("weight") is not None:
        kw["weight"] = _make(kw["weight"], False, None, 0, None)
    return kw


def _torch_kw(t, kw):
    kw = dict(kw)
    kw["target"] = t.as_tensor(kw["target"])
    if kw.get("weight") is not None:
        kw["weight"] = t.as_tensor(kw["weight"])
    return kw


register(OpInfo("cross_entropy", lambda x, **kw: L.cross_entropy(x, **_tl_weight(kw)),
                np_cross_entropy, loss_samples(), (L.CrossEntropyRows,),
                lambda t, x, **kw: t.nn.functional.cross_entropy(x, **_torch_kw(t, kw))))
register(OpInfo("cross_entropy_weighted", lambda x, **kw: L.cross_entropy(x, **_tl_weight(kw)),
                np_cross_entropy, loss_samples(weighted=True),
                (A.LogSoftmax, R.Gather, S.GetItem),
                lambda t, x, **kw: t.nn.functional.cross_entropy(x, **_torch_kw(t, kw))))
register(OpInfo("nll_loss", lambda x, **kw: L.nll_loss(x, **_tl_weight(kw)),
                np_nll_loss, loss_samples(weighted=True, smoothing=False), (R.Gather,),
                lambda t, x, **kw: t.nn.functional.nll_loss(x, **_torch_kw(t, kw))))


# -- binary cross-entropy and the regression losses -----------------------------------------
def _reduce_np(loss, reduction):
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def np_binary_cross_entropy(x, y, weight=None, reduction="mean"):
    loss = -(y * np.maximum(np.log(x), -100) + (1 - y) * np.maximum(np.log1p(-x), -100))
    return _reduce_np(loss if weight is None else loss * weight, reduction)


def np_smooth_l1_loss(x, y, reduction="mean", beta=1.0):
    d = np.abs(x - y)
    loss = d if beta == 0 else np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)
    return _reduce_np(loss, reduction)


def np_huber_loss(x, y, reduction="mean", delta=1.0):
    d = np.abs(x - y)
    return _reduce_np(np.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta)), reduction)


def _bce_samples():
    st, ts = _st()

    @st.composite
    def draw(d):
        shape = d(ts.shapes())
        x = d(ts.float_arrays(shape, 0.05, 0.95))
        y = d(ts.float_arrays(shape, 0.02, 0.98))   # inside: gradcheck perturbs it
        kw = {"reduction": d(st.sampled_from(["mean", "sum", "none"]))}
        if d(st.booleans()):
            kw["weight"] = d(ts.float_arrays(shape[len(shape) // 2:], 0.2, 2.0,
                                             noncontiguous=False))
        return SampleInput((x, y), kw)
    return draw()


def _regression_samples(param: str, values):
    """(input, target) whose differences keep away from the loss's kinks (0 and +-param)."""
    def build():
        st, ts = _st()

        @st.composite
        def draw(d):
            shape = d(ts.shapes())
            p = d(st.sampled_from(values))
            x = d(ts.float_arrays(shape))
            diff = d(ts.float_arrays(shape, -3, 3, avoid=(0.0, p, -p), margin=0.1))
            kw = {"reduction": d(st.sampled_from(["mean", "sum", "none"]))}
            if param:
                kw[param] = p
            return SampleInput((x, np.asarray(x - diff)), kw)
        return draw()
    return build


register(OpInfo("binary_cross_entropy",
                lambda x, y, **kw: L.binary_cross_entropy(x, y, **_tl_weight(kw)),
                np_binary_cross_entropy, _bce_samples, (L.BinaryCrossEntropy,),
                lambda t, x, y, **kw: t.nn.functional.binary_cross_entropy(
                    x, y, **({**kw, "weight": t.as_tensor(kw["weight"])} if "weight" in kw
                             else kw))))
register(OpInfo("smooth_l1_loss", L.smooth_l1_loss, np_smooth_l1_loss,
                _regression_samples("beta", [0.0, 0.5, 1.0, 2.0]), (),
                lambda t, x, y, **kw: t.nn.functional.smooth_l1_loss(x, y, **kw)))
register(OpInfo("huber_loss", L.huber_loss, np_huber_loss,
                _regression_samples("delta", [0.5, 1.0, 2.0]), (),
                lambda t, x, y, **kw: t.nn.functional.huber_loss(x, y, **kw)))
register(OpInfo("l1_loss", L.l1_loss, lambda x, y, reduction="mean": _reduce_np(
                    np.abs(x - y), reduction),
                _regression_samples("", [0.0]), (),
                lambda t, x, y, **kw: t.nn.functional.l1_loss(x, y, **kw)))
