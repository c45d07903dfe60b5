"""Embedding kernels: the gather, and the lecture's gradient (sum over occurrences)."""
import os
import subprocess
import sys

import numpy as np
import pytest

from tensorlite.kernels import embedding as K


def _weight(v=7, d=5, dtype=np.float64):
    return np.random.default_rng(0).standard_normal((v, d)).astype(dtype)


def _ref_backward(indices, grad, v, padding_idx):
    out = np.zeros((v, grad.shape[1]), grad.dtype)
    np.add.at(out, indices, grad)
    if padding_idx >= 0:
        out[padding_idx] = 0
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_gathers_rows(dtype):
    w = _weight(dtype=dtype)
    idx = np.array([3, 0, 3, 6], np.int64)
    y = K.embedding_forward(idx, w)
    assert y.dtype == dtype and y.shape == (4, 5)
    np.testing.assert_array_equal(y, w[idx])


def test_forward_of_no_indices_is_empty():
    assert K.embedding_forward(np.array([], np.int64), _weight()).shape == (0, 5)


def test_backward_sums_gradient_over_repeated_indices():
    idx = np.array([2, 4, 2, 2], np.int64)
    grad = np.arange(8.0).reshape(4, 2)
    gw = K.embedding_backward(idx, grad, 5, -1)
    np.testing.assert_array_equal(gw[2], grad[0] + grad[2] + grad[3])
    np.testing.assert_array_equal(gw[4], grad[1])
    np.testing.assert_array_equal(gw[[0, 1, 3]], 0.0)


def test_backward_leaves_padding_row_zero():
    idx = np.array([1, 0, 1, 3], np.int64)
    grad = np.ones((4, 3))
    gw = K.embedding_backward(idx, grad, 4, 1)
    np.testing.assert_array_equal(gw[1], 0.0)
    np.testing.assert_array_equal(gw[0], 1.0)
    np.testing.assert_array_equal(gw[3], 1.0)


@pytest.mark.parametrize("padding_idx", [-1, 0, 9])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backward_matches_reference(dtype, padding_idx):
    rng = np.random.default_rng(1)
    idx = rng.integers(0, 10, 200).astype(np.int64)
    grad = rng.standard_normal((200, 6)).astype(dtype)
    gw = K.embedding_backward(idx, grad, 10, padding_idx)
    assert gw.dtype == dtype and gw.shape == (10, 6)
    np.testing.assert_allclose(gw, _ref_backward(idx, grad, 10, padding_idx),
                               rtol=1e-5 if dtype == np.float32 else 1e-13)


def test_backward_accepts_non_contiguous_gradient():
    grad = np.arange(24.0).reshape(6, 4)[:, ::2]
    idx = np.array([0, 1, 0, 1, 2, 2], np.int64)
    np.testing.assert_array_equal(K.embedding_backward(idx, grad, 3, -1),
                                  _ref_backward(idx, grad, 3, -1))


@pytest.mark.parametrize("padding_idx", [None, 3])
def test_matches_pytorch(padding_idx):
    torch = pytest.importorskip("torch")
    w = _weight(v=12, d=4)
    idx = np.random.default_rng(2).integers(0, 12, (5, 7)).astype(np.int64)
    gy = np.random.default_rng(3).standard_normal((5, 7, 4))
    wt = torch.tensor(w, requires_grad=True)
    yt = torch.nn.functional.embedding(torch.tensor(idx), wt, padding_idx=padding_idx)
    yt.backward(torch.tensor(gy))
    flat = idx.reshape(-1)
    np.testing.assert_array_equal(K.embedding_forward(flat, w).reshape(5, 7, 4),
                                  yt.detach().numpy())
    gw = K.embedding_backward(flat, gy.reshape(-1, 4), 12,
                              -1 if padding_idx is None else padding_idx)
    np.testing.assert_allclose(gw, wt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_kernels_run_without_jit():
    """NUMBA_DISABLE_JIT=1 runs the same functions as plain Python."""
    script = """
import numpy as np
from tensorlite.kernels import embedding as K
idx = np.array([2, 0, 2, 1], np.int64)
grad = np.arange(8.0).reshape(4, 2)
gw = K.embedding_backward(idx, grad, 4, 1)
assert np.array_equal(gw, [[2, 3], [0, 0], [4, 6], [0, 0]]), gw
assert np.array_equal(K.embedding_forward(idx, gw), gw[idx])
"""
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=120)


@pytest.mark.parametrize("threshold", [1, 1 << 40])
def test_backward_same_with_threaded_and_serial_zeroing(monkeypatch, threshold):
    # Above _THREADED_ZEROING cells the dense gradient is zeroed in one chunk of rows per
    # thread; every row outside the indices must still be exactly zero, whatever was in
    # the freshly allocated memory.
    monkeypatch.setattr(K, "_THREADED_ZEROING", threshold)
    rng = np.random.default_rng(1)
    v, d = 37, 6
    idx = rng.integers(0, v, 50)
    grad = rng.standard_normal((50, d))
    for _ in range(3):  # reuse of freed memory must not leak old values
        np.testing.assert_array_equal(K.embedding_backward(idx, grad, v, 5),
                                      _ref_backward(idx, grad, v, 5))
