"""In-place arithmetic (+=, -=, *=, /=), writes through views, and the refusals that keep
them from giving silently wrong values or gradients; compared with PyTorch where it applies."""
import numpy as np
import pytest

import tensorlite as tl


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def test_augmented_assignment_updates_the_tensor_itself(torch):
    # The manual SGD step of every tutorial: p must change, not a rebound local name.
    w = tl.tensor([1.0, 2.0], dtype=tl.float64, requires_grad=True)
    wt = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    (w * w).sum().backward()
    (wt * wt).sum().backward()
    with tl.no_grad():
        for p in [w]:
            p -= 0.1 * p.grad
    with torch.no_grad():
        for p in [wt]:
            p -= 0.1 * p.grad
    np.testing.assert_allclose(w._data, wt.detach().numpy())
    x = tl.tensor([1.0, 2.0])
    alias = x
    alias *= 3
    alias += 1
    alias /= 2
    np.testing.assert_allclose(x._data, [2.0, 3.5])
    assert alias is x


def test_augmented_assignment_on_a_non_leaf_is_recorded(torch):
    a = tl.tensor([1.0, 2.0, 3.0], dtype=tl.float64, requires_grad=True)
    at = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
    b, bt = a * 2, at * 2
    b *= a
    bt *= at
    b.sum().backward()
    bt.sum().backward()
    np.testing.assert_allclose(a.grad._data, at.grad.numpy())


def test_augmented_assignment_on_a_leaf_that_requires_grad_is_refused():
    w = tl.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="__iadd__: a leaf tensor that requires grad"):
        w += 1


def test_integer_index_gives_a_view_that_writes_through(torch):
    x = tl.tensor([1.0, 2.0, 3.0])
    x[0].add_(10)
    x[1].zero_()
    xt = torch.tensor([1.0, 2.0, 3.0])
    xt[0].add_(10)
    xt[1].zero_()
    np.testing.assert_array_equal(x._data, xt.numpy())
    m = tl.zeros(2, 3)
    m[1][2] = 5.0          # no autograd involved: writes through, as in PyTorch
    assert m._data[1, 2] == 5.0


def test_clamp_in_place_with_only_max_or_only_min(torch):
    for kw in ({"max": 1.0}, {"min": 0.0}, {"min": -1.0, "max": 1.0}):
        x = tl.tensor([-2.0, 0.5, 3.0])
        xt = torch.tensor([-2.0, 0.5, 3.0])
        np.testing.assert_array_equal(x.clamp_(**kw)._data, xt.clamp_(**kw).numpy())


@pytest.mark.parametrize("write", [
    lambda b, v: b[0].__setitem__(1, v),           # b[0][1] = v
    lambda b, v: b[0].mul_(3),
    lambda b, v: b.T.add_(v),
    lambda b, v: b.reshape(6)[2:].fill_(0.0),
], ids=["chained setitem", "mul_ on a row", "add_ on .T", "fill_ on a reshaped slice"])
def test_writes_into_views_of_graph_tensors_are_refused_before_any_change(write):
    # The base's gradient would not see the write; PyTorch rebases the graph, we refuse
    # with a pointer to the one-step form.
    a = tl.ones(2, 3, dtype=tl.float64, requires_grad=True)
    v = tl.tensor(5.0, dtype=tl.float64, requires_grad=True)
    b = a * 1
    before = b._data.copy()
    with pytest.raises(RuntimeError, match="in-place write into a view"):
        write(b, v)
    np.testing.assert_array_equal(b._data, before)


def test_the_one_step_form_gives_pytorchs_gradients(torch):
    a = tl.ones(2, 3, dtype=tl.float64, requires_grad=True)
    v = tl.tensor(5.0, dtype=tl.float64, requires_grad=True)
    at = torch.ones(2, 3, dtype=torch.float64, requires_grad=True)
    vt = torch.tensor(5.0, dtype=torch.float64, requires_grad=True)
    b, bt = a * 1, at * 1
    b[0, 1] = v
    bt[0][1] = vt
    (b * b).sum().backward()
    (bt * bt).sum().backward()
    np.testing.assert_array_equal(a.grad._data, at.grad.numpy())
    assert v.grad.item() == vt.grad.item() == 10.0


def test_views_of_leaves_that_require_grad_can_be_written_only_under_no_grad(torch):
    w = tl.ones(2, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="mul_"):
        w[0].mul_(10)
    with tl.no_grad():
        w[0].mul_(10)      # what nn.init does
    np.testing.assert_array_equal(w._data, [[10, 10], [1, 1]])


def test_expanded_tensors_are_read_only_with_a_clear_error():
    e = tl.zeros(3).expand(2, 3)
    with pytest.raises(RuntimeError, match="add_: this tensor is read-only"):
        e.add_(1)
    with pytest.raises(RuntimeError, match="setitem: this tensor is read-only"):
        e[0, 0] = 1.0


def test_fill_on_a_non_leaf_zeroes_the_gradient_of_what_it_overwrote(torch):
    a = tl.tensor([1.0, 2.0], dtype=tl.float64, requires_grad=True)
    at = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    b, bt = a * 3, at * 3
    b.zero_()
    bt.zero_()
    (b + a).sum().backward()
    (bt + at).sum().backward()
    np.testing.assert_array_equal(a.grad._data, at.grad.numpy())   # only through "+ a"
    np.testing.assert_array_equal(b._data, [0.0, 0.0])


def test_t_refuses_more_than_two_dims():
    with pytest.raises(RuntimeError, match=r"t: expects a tensor with at most 2 dims"):
        tl.randn(2, 3, 4).t()
    assert tl.randn(2, 3).t().shape == (3, 2)
    assert tl.randn(3).t().shape == (3,)
