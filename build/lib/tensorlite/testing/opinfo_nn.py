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
