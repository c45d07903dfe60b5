"""Tensor construction, attributes, numpy interop, indexing and error messages."""
import numpy as np
import pytest

import tensorlite as tl


def test_default_dtypes_follow_pytorch():
    assert tl.tensor([1.0, 2.0]).dtype == tl.float32
    assert tl.tensor([1, 2]).dtype == tl.int64
    assert tl.tensor([True]).dtype == tl.bool
    assert tl.tensor(np.zeros(2)).dtype == tl.float64
    assert tl.zeros(2, 3).dtype == tl.float32 and tl.zeros(2, 3).shape == (2, 3)
    assert tl.arange(5).dtype == tl.int64 and tl.arange(0.0, 1.0, 0.5).dtype == tl.float32
    assert tl.full((2,), 3).dtype == tl.int64


def test_from_numpy_shares_memory_and_numpy_does_not_copy():
    a = np.zeros(3)
    t = tl.from_numpy(a)
    a[0] = 5
    assert t[0].item() == 5
    assert t.numpy() is a


def test_attributes():
    x = tl.randn(2, 3, requires_grad=True)
    assert x.shape == (2, 3) and x.ndim == 2 and x.size() == (2, 3) and x.size(1) == 3
    assert x.numel() == 6 and x.is_leaf and x.grad is None and x.grad_fn is None
    assert x.T.shape == (3, 2)
    y = x * 2
    assert not y.is_leaf and y.grad_fn is not None
    assert "grad_fn=<MulBackward>" in repr(y)
    assert "requires_grad=True" in repr(x)
    assert "dtype=tl.float64" in repr(tl.zeros(1, dtype=tl.float64))


def test_item_tolist_and_array_protocol():
    x = tl.tensor([[1.0, 2.0]])
    assert x.tolist() == [[1.0, 2.0]]
    assert tl.tensor(3.5).item() == 3.5
    np.testing.assert_array_equal(np.asarray(x), [[1.0, 2.0]])
    with pytest.raises(ValueError, match="item: only a tensor with one element"):
        x.item()


def test_manual_seed_reproduces_random_draws():
    tl.manual_seed(123)
    a = tl.randn(5).numpy().copy()
    b = tl.randint(0, 10, (5,)).numpy().copy()
    tl.manual_seed(123)
    np.testing.assert_array_equal(tl.randn(5).numpy(), a)
    np.testing.assert_array_equal(tl.randint(0, 10, (5,)).numpy(), b)


def test_reflected_operators_with_numpy_and_scalars():
    x = tl.tensor([1.0, 2.0])
    assert isinstance(np.ones(2) * x, tl.Tensor)
    np.testing.assert_allclose((2 - x).numpy(), [1.0, 0.0])
    np.testing.assert_allclose((1 / x).numpy(), [1.0, 0.5])
    np.testing.assert_allclose((2 ** x).numpy(), [2.0, 4.0])


def test_comparisons_are_bool_and_not_differentiable():
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    m = x > 1.5
    assert m.dtype == tl.bool and not m.requires_grad
    np.testing.assert_array_equal(m.numpy(), [False, True])


def test_indexing_with_ints_slices_none_ellipsis_arrays_and_masks():
    x = tl.arange(24).reshape(2, 3, 4)
    assert x[1, 2, 3].item() == 23
    assert x[:, None, ..., 1].shape == (2, 1, 3)
    np.testing.assert_array_equal(x[tl.tensor([1, 0]), 0, 0].numpy(), [12, 0])
    np.testing.assert_array_equal(x[x > 20].numpy(), [21, 22, 23])


def test_index_out_of_range_is_a_clear_error():
    x = tl.zeros(3)
    with pytest.raises(IndexError, match=r"getitem: index 5 is out of bounds.*\(3,\)"):
        x[5]
    with pytest.raises(IndexError, match="getitem"):
        x[tl.tensor([0, 7])]


def test_setitem_broadcasts_and_checks_shapes():
    x = tl.zeros(2, 3)
    x[0] = tl.tensor([1.0, 2.0, 3.0])
    x[1, :] = 7
    np.testing.assert_array_equal(x.numpy(), [[1, 2, 3], [7, 7, 7]])
    with pytest.raises(ValueError, match=r"setitem: value of shape \(2,\)"):
        x[0] = tl.ones(2)


def test_shape_op_errors_name_the_op():
    x = tl.zeros(2, 3)
    with pytest.raises(RuntimeError, match=r"reshape: shape \(4,\) is invalid for an input of "
                                           r"shape \(2, 3\)"):
        x.reshape(4)
    with pytest.raises(IndexError, match="sum: dim 2 is out of range"):
        x.sum(2)
    with pytest.raises(ValueError, match="permute"):
        x.permute(0, 0)
    with pytest.raises(RuntimeError, match="expand"):
        x.expand(4, 3)
    with pytest.raises(ValueError, match="cat: tensor 1 has shape"):
        tl.cat([x, tl.zeros(2, 2)], 0)


def test_max_with_dim_returns_values_and_indices():
    x = tl.tensor([[1.0, 5.0, 5.0], [3.0, 2.0, 0.0]], requires_grad=True)
    values, indices = x.max(dim=1)
    np.testing.assert_array_equal(values.numpy(), [5.0, 3.0])
    np.testing.assert_array_equal(indices.numpy(), [1, 0])
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 0], [1, 0, 0]])


def test_logsumexp_and_softmax_are_stable_for_large_inputs():
    x = tl.tensor([1000.0, 1000.0], dtype=tl.float64)
    assert x.logsumexp(0).item() == pytest.approx(1000 + np.log(2))
    np.testing.assert_allclose(x.softmax(0).numpy(), [0.5, 0.5])
    np.testing.assert_allclose(tl.tensor([-1000.0, 0.0]).log_softmax(0).numpy(), [-1000.0, 0.0])


def test_var_std_unbiased_by_default():
    x = tl.tensor([1.0, 2.0, 3.0, 4.0], dtype=tl.float64)
    assert x.var().item() == pytest.approx(np.var([1, 2, 3, 4], ddof=1))
    assert x.std(correction=0).item() == pytest.approx(np.std([1, 2, 3, 4]))


def test_in_place_dtype_errors():
    x = tl.zeros(2, dtype=tl.int64)
    with pytest.raises(TypeError, match="add_"):
        x.add_(tl.tensor([0.5, 0.5]))
