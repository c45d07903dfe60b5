"""The optimizers' fused in-place update w += a * g (tensorlite/kernels/update.py)."""
import numpy as np
import pytest

from tensorlite.kernels import update
from tensorlite.kernels.update import axpy_


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [10, update._KERNEL_MIN + 3, 3 * update._THREADED_MIN + 7])
def test_axpy_matches_the_numpy_expression_bit_for_bit(dtype, n):
    rng = np.random.default_rng(n)
    w = rng.standard_normal(n).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    expected = w + np.multiply(g, -0.37)
    axpy_(w, -0.37, g)
    np.testing.assert_array_equal(w, expected)


def test_axpy_on_a_2d_parameter_and_every_chunk_boundary():
    # Three threads' worth of rows: every element, including the chunk edges, moves once.
    w = np.zeros((update._THREADED_MIN // 100 * 3 + 1, 100), np.float32)
    g = np.arange(w.size, dtype=np.float32).reshape(w.shape)
    axpy_(w, 2.0, g)
    np.testing.assert_array_equal(w, 2.0 * g)


def test_axpy_falls_back_for_mixed_dtypes_and_strided_arrays():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((400, 100)).astype(np.float32)
    g64 = rng.standard_normal((400, 100))
    expected = w.copy()
    expected += np.multiply(g64, 0.5)
    axpy_(w, 0.5, g64)
    np.testing.assert_array_equal(w, expected)

    base = rng.standard_normal((400, 200)).astype(np.float32)
    wt = base[:, ::2]                    # a strided view: updated in place, through the view
    g = rng.standard_normal((400, 100)).astype(np.float32)
    expected = wt + np.multiply(g, -1.5)
    axpy_(wt, -1.5, g)
    np.testing.assert_array_equal(base[:, ::2], expected)
    assert np.shares_memory(wt, base)


def _adam_run(monkeypatch, fused, dtype, steps=3, **kw):
    """Three Adam steps on a parameter large enough for the kernel; with fused=False the
    kernel is switched off, so optim/adam.py's numpy steps run instead."""
    import nn
    import tensorlite as tl
    from tensorlite import optim
    monkeypatch.setattr(update, "_KERNEL_MIN", 1 << 14 if fused else 1 << 62)
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal((300, 70)).astype(dtype)   # 21,000 elements: the kernel's size
    p = nn.Parameter(tl.tensor(w0.copy()))
    opt = (optim.AdamW if kw.pop("adamw", False) else optim.Adam)([p], **kw)
    for _ in range(steps):
        g = rng.standard_normal(w0.shape).astype(dtype)
        g[0, :3] = 0.0                                    # rows a word never reached
        p.grad = tl.tensor(g)
        opt.step()
    st = opt.state[p]
    extra = st["max_exp_avg_sq"] if "max_exp_avg_sq" in st else None
    assert not np.array_equal(p._data, w0)
    return p._data.copy(), st["exp_avg"].copy(), st["exp_avg_sq"].copy(), extra


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kw", [
    dict(lr=1e-3),
    dict(lr=3e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
    dict(lr=1e-2, amsgrad=True, maximize=True),
    dict(lr=1e-2, weight_decay=0.05, adamw=True, amsgrad=True),
])
def test_fused_adam_is_bit_identical_to_the_numpy_steps(monkeypatch, dtype, kw):
    fused = _adam_run(monkeypatch, True, dtype, **dict(kw))
    plain = _adam_run(monkeypatch, False, dtype, **dict(kw))
    for a, b in zip(fused, plain):
        if a is None:
            assert b is None
        else:
            np.testing.assert_array_equal(a, b)


def test_adam_kernel_declines_mixed_dtypes_and_strided_gradients():
    w = np.zeros((200, 100), np.float32)
    m, v = np.zeros_like(w), np.zeros_like(w)
    args = dict(b1=0.9, b2=0.999, step_size=1e-3, bias2_sqrt=0.03, eps=1e-8, l2=0.0,
                decay=1.0, maximize=False)
    assert not update.adam_(w, np.ones((200, 100)), m, v, None, **args)
    assert not update.adam_(w, np.ones((100, 200), np.float32).T, m, v, None, **args)
    assert not np.any(w) and not np.any(m) and not np.any(v)
    assert update.adam_(w, np.ones((200, 100), np.float32), m, v, None, **args)
    assert np.all(w < 0) and np.allclose(m, 0.1)
