"""ReLU's one-pass backward kernel against numpy's mask-multiply, and through the op."""
import numpy as np
import pytest

import tensorlite as tl
from tensorlite.kernels import activation as K


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_backward_passes_gradient_where_input_is_not_at_most_zero(dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 5, 7)).astype(dtype)
    x[0, 0, :3] = [0.0, -0.0, np.nan]   # no gradient at 0 (PyTorch); NaN lets it through
    g = rng.standard_normal(x.shape).astype(dtype)
    got = K.relu_backward(g, x)
    assert got.dtype == dtype and got.shape == x.shape
    np.testing.assert_array_equal(got, np.where(x <= 0, 0, g).astype(dtype))
    assert not got[0, 0, :2].any() and got[0, 0, 2] == g[0, 0, 2]


def test_relu_op_uses_the_same_rule_on_large_and_small_inputs():
    # Above 4096 elements the op calls the kernel; below, numpy. Both must agree with the
    # mask rule, including for a non-contiguous input (numpy path).
    rng = np.random.default_rng(1)
    for shape in [(2, 3), (64, 100)]:
        a = rng.standard_normal(shape)
        x = tl.tensor(a, requires_grad=True)
        g = rng.standard_normal(shape)
        x.relu().backward(tl.tensor(g))
        np.testing.assert_array_equal(x.grad.numpy(), np.where(a > 0, g, 0))
    a = rng.standard_normal((100, 64))
    x = tl.tensor(a, requires_grad=True)
    g = rng.standard_normal((64, 100))
    x.t().relu().backward(tl.tensor(g))
    np.testing.assert_array_equal(x.grad.numpy(), np.where(a.T > 0, g, 0).T)
