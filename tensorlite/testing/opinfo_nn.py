"""OpInfo entries for pooling and embedding."""
from __future__ import annotations

import numpy as np

from ..ops import embedding as Em, pool as P
from .opinfo import OpInfo, SampleInput, _st, register


def _pool_samples(adaptive: bool = False, unique: bool = False):
    def build():
        st, ts = _st()

        @st.composite
        def draw(d):
            n, c = d(st.integers(1, 2)), d(st.integers(1, 3))
            h, w = d(st.integers(1, 7)), d(st.integers(1, 7))
            x = d(ts.float_arrays((n, c, h, w), unique=unique))
            if adaptive:
                return SampleInput((x,), {"output_size": (d(st.integers(1, h)),
                                                          d(st.integers(1, w)))})
            kh, kw = d(st.integers(1, h)), d(st.integers(1, w))
            stride = (d(st.integers(1, 3)), d(st.integers(1, 3)))
            pad = (d(st.integers(0, kh // 2)), d(st.integers(0, kw // 2)))
            return SampleInput((x,), {"kernel_size": (kh, kw), "stride": stride, "padding": pad})
        return draw()
    return build


def _windows(x, kernel_size, stride, padding, fill):
    kh, kw = kernel_size
    sh, sw = stride
    ph, pw = padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    ho = (x.shape[2] + 2 * ph - kh) // sh + 1
    wo = (x.shape[3] + 2 * pw - kw) // sw + 1
    out = np.empty(x.shape[:2] + (ho, wo, kh * kw))
    for i in range(ho):
        for j in range(wo):
            out[:, :, i, j] = xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw].reshape(
                x.shape[:2] + (-1,))
    return out


def np_max_pool2d(x, kernel_size, stride, padding):
    return _windows(x, kernel_size, stride, padding, -np.inf).max(-1)


def np_avg_pool2d(x, kernel_size, stride, padding):
    # count_include_pad: zero padding is averaged in, windows are clipped at the padded border.
    return _windows(x, kernel_size, stride, padding, 0.0).sum(-1) / (kernel_size[0] *
                                                                      kernel_size[1])


def np_adaptive_avg_pool2d(x, output_size):
    h, w = x.shape[2:]
    ho, wo = output_size
    out = np.empty(x.shape[:2] + (ho, wo))
    for i in range(ho):
        a, b = (i * h) // ho, -((-(i + 1) * h) // ho)
        for j in range(wo):
            c, d = (j * w) // wo, -((-(j + 1) * w) // wo)
            out[:, :, i, j] = x[:, :, a:b, c:d].mean(axis=(2, 3))
    return out


register(OpInfo("max_pool2d", lambda x, **kw: P.max_pool2d(x, **kw), np_max_pool2d,
                _pool_samples(unique=True), (P.MaxPool2d, P.MaxPoolScatter, P.MaxPoolGather),
                lambda t, x, **kw: t.nn.functional.max_pool2d(x, **kw)))
register(OpInfo("avg_pool2d", lambda x, **kw: P.avg_pool2d(x, **kw), np_avg_pool2d,
                _pool_samples(), (P.AvgPool2d, P.AvgPoolAdjoint),
                lambda t, x, **kw: t.nn.functional.avg_pool2d(x, **kw)))
register(OpInfo("adaptive_avg_pool2d", lambda x, **kw: P.adaptive_avg_pool2d(x, **kw),
                np_adaptive_avg_pool2d, _pool_samples(adaptive=True),
                (P.AdaptiveAvgPool2d, P.AdaptiveAvgPoolAdjoint),
                lambda t, x, **kw: t.nn.functional.adaptive_avg_pool2d(x, **kw)))


def _embedding_samples():
    st, ts = _st()

    @st.composite
    def draw(d):
        v, dim = d(st.integers(1, 6)), d(st.integers(1, 4))
        w = d(ts.float_arrays((v, dim)))
        shape = d(ts.shapes(min_dims=0, max_dims=2))
        idx = ts.index_arrays(d, v, shape)
        return SampleInput((w,), {"indices": idx})
    return draw()


register(OpInfo("embedding", lambda w, indices: Em.embedding(indices, w),
                lambda w, indices: w[indices], _embedding_samples,
                (Em.Embedding, Em.EmbeddingScatter),
                lambda t, w, indices: t.nn.functional.embedding(t.as_tensor(indices), w)))


# -- the nodes of nn.functional.linear, softplus and layer/batch normalisation -----------------
from ..ops.activation import Softplus  # noqa: E402
from ..ops.linalg import Linear  # noqa: E402
from ..ops.normalization import Normalize  # noqa: E402
from .opinfo import unary_samples  # noqa: E402


def _linear_samples():
    def build():
        st, ts = _st()

        @st.composite
        def draw(d):
            m, n_in, n_out = d(st.integers(1, 4)), d(st.integers(1, 4)), d(st.integers(1, 4))
            x = d(ts.float_arrays((m, n_in)))
            w = d(ts.float_arrays((n_out, n_in)))
            b = d(ts.float_arrays((n_out,)))
            return SampleInput((x, w, b))
        return draw()
    return build


register(OpInfo("linear", lambda x, w, b: Linear.apply(x, w, b), lambda x, w, b: x @ w.T + b,
                _linear_samples(), (Linear,), lambda t, x, w, b: t.nn.functional.linear(x, w, b)))
register(OpInfo("softplus", Softplus.apply, lambda x: np.logaddexp(0.0, x), unary_samples(),
                (Softplus,), lambda t, x: t.nn.functional.softplus(x)))


def _normalize_samples():
    def build():
        st, ts = _st()

        @st.composite
        def draw(d):
            n, c = d(st.integers(2, 4)), d(st.integers(1, 4))
            # distinct values: a constant row has no variance to normalise by
            x = d(ts.float_arrays((n, c), unique=True))
            w = d(ts.float_arrays((c,), 0.5, 2))
            b = d(ts.float_arrays((c,)))
            return SampleInput((x, w, b))
        return draw()
    return build


def _normalize(x, w, b, eps=1e-5):
    """Layer normalisation over the last dim through the Normalize node (as nn's layer_norm
    calls it: the centred input and the biased variance computed outside)."""
    centered = x._data - x._data.mean(-1, keepdims=True)
    var = (centered * centered).mean(-1, keepdims=True)
    return Normalize.apply(x, w, b, centered, var, eps, (-1,))


def _np_normalize(x, w, b, eps=1e-5):
    c = x - x.mean(-1, keepdims=True)
    return c / np.sqrt((c * c).mean(-1, keepdims=True) + eps) * w + b


register(OpInfo("normalize", _normalize, _np_normalize, _normalize_samples(), (Normalize,),
                lambda t, x, w, b: t.nn.functional.layer_norm(x, (x.shape[-1],), w, b),
                atol=1e-8, rtol=1e-6,
                fuzz_known="values near the float64 maximum: the squared deviations overflow "
                           "to inf, so 1/sqrt(var) is 0 and the row becomes the bias, where "
                           "PyTorch gives nan (nn.functional.layer_norm does the same)"))
