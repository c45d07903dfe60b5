"""``Tensor.data`` as PyTorch defines it: a Tensor sharing storage, outside the graph."""
import numpy as np
import pytest

import tensorlite as tl


def test_data_is_a_tensor_that_shares_storage_and_does_not_require_grad():
    x = tl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    d = x.data
    assert isinstance(d, tl.Tensor)
    assert not d.requires_grad and d.grad_fn is None
    d[0] = 7.0
    np.testing.assert_array_equal(x.detach().numpy(), [7.0, 2.0, 3.0])


def test_in_place_change_through_data_is_invisible_to_autograd():
    # An optimizer's p.data.add_(...) between forward and backward must not make the
    # saved tensor "modified in place" (PyTorch: .data has its own version counter).
    w = tl.tensor([2.0, 3.0], dtype=tl.float64, requires_grad=True)
    y = (w * w).sum()
    w.data.add_(1.0)
    y.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [6.0, 8.0])   # 2 * the new values


def test_scripts_idioms_on_data_work():
    outputs = tl.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]], requires_grad=True)
    assert outputs.data.size(0) == 3
    values, predicted = tl.max(outputs.data, 1)
    np.testing.assert_array_equal(predicted.numpy(), [1, 0, 1])
    assert not values.requires_grad


def test_assigning_data_replaces_the_values_keeping_the_leaf():
    p = tl.zeros(2, 2, requires_grad=True)
    p.data = tl.ones(3, dtype=tl.float64)
    assert p.is_leaf and p.requires_grad
    assert p.shape == (3,) and p.dtype == tl.float64
    np.testing.assert_array_equal(p.detach().numpy(), [1.0, 1.0, 1.0])


def test_assigning_a_non_tensor_to_data_is_refused():
    p = tl.zeros(2, requires_grad=True)
    with pytest.raises(TypeError, match="data: expected a Tensor, got list"):
        p.data = [1.0, 2.0]
    np.testing.assert_array_equal(p.detach().numpy(), [0.0, 0.0])
