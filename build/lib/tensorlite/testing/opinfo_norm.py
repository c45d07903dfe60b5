"""OpInfo entries for batch normalisation (the fused Functions of ops/normalization.py)."""
from __future__ import annotations

import numpy as np

from ..ops import normalization as N
from .opinfo import OpInfo, SampleInput, _st, register

_EPS = 1e-5


def _bn_samples(eval_mode: bool):
    def build():
        st, ts = _st()

        @st.composite
        def draw(d):
            rest = d(st.sampled_from([(), (3,), (2, 3)]))
            n = d(st.integers(2, 3))
            c = d(st.integers(1, 3))
            x = d(ts.float_arrays((n, c) + rest, unique=True))
            w = d(ts.float_arrays((c,)))
            b = d(ts.float_arrays((c,)))
            kw = {}
            if eval_mode:
                kw = {"running_mean": d(ts.float_arrays((c,))),
                      "running_var": d(ts.float_arrays((c,), lo=0.5, hi=2.0))}
            return SampleInput((x, w, b), kw)
        return draw()
    return build


def _dims(x):
    return (0,) + tuple(range(2, x.ndim)), (1, x.shape[1]) + (1,) * (x.ndim - 2)


def np_batch_norm_train(x, w, b):
    dims, shape = _dims(x)
    mean = x.mean(axis=dims, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=dims, keepdims=True)
    return (x - mean) / np.sqrt(var + _EPS) * w.reshape(shape) + b.reshape(shape)


def np_batch_norm_eval(x, w, b, running_mean, running_var):
    _, shape = _dims(x)
    return ((x - running_mean.reshape(shape)) / np.sqrt(running_var.reshape(shape) + _EPS)
            * w.reshape(shape) + b.reshape(shape))


register(OpInfo("batch_norm_train", lambda x, w, b: N.batch_norm_train(x, w, b, _EPS)[0],
                np_batch_norm_train, _bn_samples(False), (N.BatchNormTrain,),
                lambda t, x, w, b: t.nn.functional.batch_norm(x, None, None, w, b, True,
                                                              0.1, _EPS)))
register(OpInfo("batch_norm_eval",
                lambda x, w, b, running_mean, running_var: N.batch_norm_eval(
                    x, w, b, running_mean, running_var, _EPS),
                np_batch_norm_eval, _bn_samples(True), (N.BatchNormEval,),
                lambda t, x, w, b, running_mean, running_var: t.nn.functional.batch_norm(
                    x, t.tensor(running_mean), t.tensor(running_var), w, b, False, 0.1,
                    _EPS)))
