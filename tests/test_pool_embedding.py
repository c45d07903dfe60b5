"""Pooling and embedding: PyTorch's semantics on ties, padding, repeated words, errors."""
import numpy as np
import pytest

import tensorlite as tl
from tensorlite.ops.embedding import embedding
from tensorlite.ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d


def test_max_pool_gradient_goes_to_the_first_maximum_of_each_window():
    x = tl.tensor([[[[1.0, 3.0, 3.0, 0.0],
                     [3.0, 2.0, 1.0, 3.0]]]], requires_grad=True)
    y = max_pool2d(x, 2)
    np.testing.assert_array_equal(y.numpy(), [[[[3.0, 3.0]]]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[[[0, 1, 1, 0], [0, 0, 0, 0]]]])


def test_max_pool_overlapping_windows_accumulate_gradient():
    x = tl.tensor([[[[0.0, 5.0, 0.0]]]], requires_grad=True)
    max_pool2d(x, (1, 2), stride=1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[[[0, 2, 0]]]])


def test_max_pool_padding_is_minus_infinity():
    x = tl.full((1, 1, 2, 2), -5.0)
    np.testing.assert_array_equal(max_pool2d(x, 2, padding=1).numpy(), np.full((1, 1, 2, 2), -5.0))


def test_avg_pool_counts_zero_padding_like_pytorch_default():
    x = tl.ones(1, 1, 2, 2)
    np.testing.assert_allclose(avg_pool2d(x, 2, stride=1, padding=1).numpy()[0, 0],
                               [[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]])


def test_adaptive_avg_pool_to_one_is_the_global_mean():
    x = tl.randn(2, 3, 5, 7, dtype=tl.float64)
    np.testing.assert_allclose(adaptive_avg_pool2d(x, 1).numpy()[..., 0, 0],
                               x.numpy().mean(axis=(2, 3)))


@pytest.mark.parametrize("fn, kw, msg", [
    (max_pool2d, dict(kernel_size=3, padding=2), "padding .* must be at most half"),
    (max_pool2d, dict(kernel_size=5), "larger than the padded input"),
    (avg_pool2d, dict(kernel_size=0), "kernel_size must be >= 1"),
])
def test_pool_bad_arguments(fn, kw, msg):
    with pytest.raises(ValueError, match=msg):
        fn(tl.zeros(1, 1, 4, 4), **kw)


def test_embedding_gradient_sums_over_every_position_of_a_word():
    # The lecture: dL/dC(w) = sum over positions t with w_t = w of dL/dx_t.
    w = tl.zeros(5, 2, requires_grad=True)
    ids = tl.tensor([[1, 3, 1], [1, 0, 3]])
    g = tl.tensor(np.arange(12, dtype=np.float32).reshape(2, 3, 2))
    embedding(ids, w).backward(g)
    want = np.zeros((5, 2), np.float32)
    for (i, j), word in np.ndenumerate(ids.numpy()):
        want[word] += g.numpy()[i, j]
    np.testing.assert_array_equal(w.grad.numpy(), want)


def test_embedding_padding_row_gets_no_gradient():
    w = tl.ones(4, 3, requires_grad=True)
    out = embedding(tl.tensor([0, 2, 0]), w, padding_idx=0)
    out.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy()[0], [0, 0, 0])
    np.testing.assert_array_equal(w.grad.numpy()[2], [1, 1, 1])


def test_embedding_indices_are_validated_before_any_kernel_runs():
    w = tl.zeros(4, 3)
    with pytest.raises(IndexError, match=r"embedding: indices contain 4, out of range \[0, 4\)"):
        embedding(tl.tensor([0, 4]), w)
    with pytest.raises(IndexError, match="-1"):
        embedding(tl.tensor([-1]), w)
    with pytest.raises(TypeError, match="integer"):
        embedding(tl.tensor([0.5]), w)
    with pytest.raises(ValueError, match="padding_idx"):
        embedding(tl.tensor([0]), w, padding_idx=9)


# -- ceil_mode, count_include_pad, divisor_override: PyTorch's divisor rules ----------------------
POOL_OPTIONS = [
    # (x shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
    ((2, 3, 7, 7), 2, 2, 0, True, True, None),
    ((2, 3, 7, 8), 3, 2, 1, True, True, None),
    ((1, 2, 6, 9), (3, 2), (2, 3), (1, 1), True, False, None),
    ((2, 3, 7, 7), 3, 2, 1, False, False, None),
    ((2, 3, 5, 6), 3, 3, 1, True, False, None),
    ((2, 1, 5, 5), 2, 2, 1, False, True, 3),
    ((2, 1, 5, 5), 2, 2, 1, False, True, -2),   # a negative override is used as given
    ((1, 2, 5, 4), 2, 3, 0, True, False, -3),
    ((1, 2, 4, 4), 2, 3, 0, True, True, None),   # ceil window dropped: would start past the end
    ((3, 5, 5), 3, 2, 1, True, False, None),     # unbatched (C, H, W)
]


@pytest.mark.parametrize("cfg", POOL_OPTIONS)
def test_avg_pool_options_match_pytorch_in_float64(cfg):
    torch = pytest.importorskip("torch")
    shape, k, s, p, ceil, include, div = cfg
    a = np.random.default_rng(0).standard_normal(shape)
    x, xt = tl.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y = avg_pool2d(x, k, s, p, ceil_mode=ceil, count_include_pad=include, divisor_override=div)
    yt = torch.nn.functional.avg_pool2d(xt, k, s, p, ceil_mode=ceil, count_include_pad=include,
                                        divisor_override=div)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), atol=1e-12)
    g = np.random.default_rng(1).standard_normal(yt.shape)
    y.backward(tl.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("cfg", [c for c in POOL_OPTIONS if c[5] and c[6] is None])
def test_max_pool_ceil_mode_matches_pytorch_in_float64(cfg):
    torch = pytest.importorskip("torch")
    shape, k, s, p, ceil, _, _ = cfg
    a = np.random.default_rng(0).standard_normal(shape)
    x, xt = tl.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y = max_pool2d(x, k, s, p, ceil_mode=ceil)
    yt = torch.nn.functional.max_pool2d(xt, k, s, p, ceil_mode=ceil)
    np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
    g = np.random.default_rng(1).standard_normal(yt.shape)
    y.backward(tl.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), atol=1e-12)


def test_ceil_mode_output_sizes_and_divisors_by_hand():
    # 5 wide, kernel 2, stride 2, ceil_mode: windows [0,2), [2,4), [4,5) -> the last one
    # holds one cell and divides by 1 (the overhang is not padding).
    x = tl.tensor(np.arange(5.0).reshape(1, 1, 1, 5))
    np.testing.assert_allclose(avg_pool2d(x, (1, 2), ceil_mode=True).numpy(),
                               [[[[0.5, 2.5, 4.0]]]])
    np.testing.assert_allclose(max_pool2d(x, (1, 2), ceil_mode=True).numpy(), [[[[1, 3, 4]]]])
    # padding 1, count_include_pad=False: the first window covers one pad cell, one input cell
    np.testing.assert_allclose(
        avg_pool2d(x, (1, 2), padding=(0, 1), count_include_pad=False).numpy(),
        [[[[0.0, 1.5, 3.5]]]])


def test_avg_pool_options_gradcheck():
    from tensorlite.testing import gradcheck, gradgradcheck
    x = tl.randn(1, 2, 5, 6, dtype=tl.float64, requires_grad=True)
    fn = lambda t: avg_pool2d(t, 3, 2, 1, ceil_mode=True, count_include_pad=False)  # noqa: E731
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_pool_option_errors():
    x = tl.randn(1, 1, 4, 4)
    with pytest.raises(ValueError, match="avg_pool2d: divisor_override"):
        avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(TypeError, match="max_pool2d: ceil_mode"):
        max_pool2d(x, 2, ceil_mode="yes")
    with pytest.raises(NotImplementedError, match="max_pool2d: dilation"):
        max_pool2d(x, 2, dilation=2)


@pytest.mark.parametrize("kwargs,exc,match", [
    ({"padding_idx": 9}, ValueError, "padding_idx 9 must be within"),
    ({"indices": [1, 7]}, IndexError, "indices contain 7"),
    ({"max_norm": "a"}, ValueError, "max_norm must be a finite number"),
    ({"max_norm": -1.0}, ValueError, "max_norm must be non-negative"),
    ({"norm_type": float("nan")}, ValueError, "norm_type must be a finite number"),
])
def test_embedding_max_norm_leaves_the_weight_alone_when_an_argument_is_bad(kwargs, exc, match):
    import nn.functional as F
    w = tl.tensor(np.full((5, 3), 10.0))
    idx = tl.tensor(np.array(kwargs.pop("indices", [1, 2])))
    kwargs.setdefault("max_norm", 1.0)
    with pytest.raises(exc, match=match):
        F.embedding(idx, w, **kwargs)
    np.testing.assert_array_equal(w.data, np.full((5, 3), 10.0))
    assert w._version[0] == 0
