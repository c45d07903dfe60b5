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
