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
