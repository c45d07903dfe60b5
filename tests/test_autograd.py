"""The engine's contract: accumulation, graph freeing, version counters, hooks, modes."""
import gc
import weakref

import numpy as np
import pytest

import tensorlite as tl
from tensorlite.testing import GradcheckError, gradcheck, gradgradcheck


def test_gradients_accumulate_across_backward_calls():
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3 + 2, 3 + 4])


def test_shared_subexpression_sums_gradients():
    x = tl.tensor(2.0, dtype=tl.float64, requires_grad=True)
    y = x * x
    z = y + y * x  # dz/dx = 2y' ... = 2x + 3x^2
    z.backward()
    assert x.grad.item() == pytest.approx(2 * 2 + 3 * 4)


def test_backward_on_non_scalar_without_gradient_is_an_error():
    x = tl.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"backward: grad can be implicitly created only for "
                                           r"scalar outputs.*\(2, 3\)"):
        (x * 2).backward()


def test_backward_with_explicit_gradient():
    x = tl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).backward(tl.tensor([1.0, 0.5, 0.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, 0.0])


def test_backward_gradient_of_wrong_shape_is_an_error():
    x = tl.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"gradient has shape \(2,\)"):
        (x * 2).backward(tl.ones(2))


def test_second_backward_through_freed_graph_is_an_error():
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])


def test_saved_tensors_are_freed_after_backward():
    x = tl.randn(100, requires_grad=True)
    h = x.exp()
    ref = weakref.ref(h)
    loss = (h * h).sum()
    del h
    assert ref() is not None  # kept alive by the graph (saved by Mul)
    loss.backward()
    gc.collect()
    assert ref() is None


def test_deep_chain_of_100k_ops_backpropagates_without_recursion():
    x = tl.tensor(1.0, dtype=tl.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad.item() == 1.0


def test_in_place_modification_of_saved_tensor_raises_naming_the_op():
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    a = x * 2
    b = a * a  # Mul saves a
    a.add_(1)
    with pytest.raises(RuntimeError, match=r"MulBackward.*modified by an in-place operation"):
        b.sum().backward()


def test_in_place_on_output_saved_by_exp_raises():
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.mul_(2)
    with pytest.raises(RuntimeError, match="ExpBackward"):
        y.sum().backward()


def test_version_counter_bumps_and_views_share_it():
    x = tl.zeros(4)
    v = x.view(2, 2)
    assert x._version_count == 0
    x.add_(1)
    assert x._version_count == 1 and v._version_count == 1
    v[0] = 5.0
    assert x._version_count == 2
    np.testing.assert_allclose(x.numpy(), [5, 5, 1, 1])


def test_in_place_on_leaf_requiring_grad_is_an_error():
    w = tl.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="add_: a leaf tensor that requires grad"):
        w.add_(1)
    with tl.no_grad():
        w.add_(1)
    np.testing.assert_allclose(w.numpy(), [2, 2, 2])


def test_in_place_ops_on_non_leaf_are_differentiable():
    x = tl.tensor([1.0, 2.0], dtype=tl.float64, requires_grad=True)
    y = x * 1
    y.mul_(x)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_setitem_is_differentiable_in_both_operands():
    x = tl.tensor([1.0, 2.0, 3.0], dtype=tl.float64, requires_grad=True)
    v = tl.tensor(10.0, dtype=tl.float64, requires_grad=True)
    y = x * 2
    y[1] = v * 3
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 0.0, 2.0])
    assert v.grad.item() == 3.0


def test_no_grad_and_enable_grad():
    x = tl.ones(2, requires_grad=True)
    with tl.no_grad():
        y = x * 2
        with tl.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad

    @tl.no_grad()
    def f(t):
        return t * 2
    assert not f(x).requires_grad


def test_detach_shares_memory_and_cuts_the_graph():
    x = tl.ones(2, requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf
    e = x.detach()
    e.data[0] = 7
    assert x.data[0] == 7


def test_retain_grad_keeps_non_leaf_gradient():
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [6.0, 12.0])


def test_hooks_see_and_can_replace_gradients():
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    y = x * 2
    y.register_hook(lambda g: g * 10)
    y.sum().backward()
    np.testing.assert_allclose(seen[0], [20.0, 20.0])
    np.testing.assert_allclose(x.grad.numpy(), [20.0, 20.0])


def test_autograd_grad_does_not_touch_dot_grad():
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    (g,) = tl.autograd.grad((x * x).sum(), x)
    np.testing.assert_allclose(g.numpy(), [2.0, 4.0])
    assert x.grad is None


def test_autograd_grad_unused_input():
    x = tl.ones(2, requires_grad=True)
    y = tl.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="not used"):
        tl.autograd.grad((x * 2).sum(), [x, y])
    gx, gy = tl.autograd.grad((x * 2).sum(), [x, y], allow_unused=True)
    assert gy is None


def test_higher_order_gradients():
    x = tl.tensor(0.7, dtype=tl.float64, requires_grad=True)
    y = x.tanh()
    (g1,) = tl.autograd.grad(y, x, create_graph=True)
    (g2,) = tl.autograd.grad(g1, x, create_graph=True)
    (g3,) = tl.autograd.grad(g2, x)
    t = np.tanh(0.7)
    assert g1.item() == pytest.approx(1 - t ** 2)
    assert g2.item() == pytest.approx(-2 * t * (1 - t ** 2))
    assert g3.item() == pytest.approx(-2 * (1 - t ** 2) ** 2 + 4 * t ** 2 * (1 - t ** 2))


def test_grads_of_leaves_are_writable_and_not_aliased():
    a = tl.ones(2, 2, requires_grad=True)
    b = tl.ones(2, 2, requires_grad=True)
    (a + b).sum().backward()
    a.grad.zero_()
    np.testing.assert_allclose(b.grad.numpy(), np.ones((2, 2)))


def test_broadcast_gradients_reduce_to_input_shapes():
    a = tl.ones(3, 1, requires_grad=True)
    b = tl.ones(4, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (4,)
    np.testing.assert_allclose(a.grad.numpy(), np.full((3, 1), 4.0))
    np.testing.assert_allclose(b.grad.numpy(), np.full(4, 3.0))


class Cube(tl.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.data ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x * x


class WrongCube(Cube):
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2 * x * x  # deliberately wrong


def test_user_function_passes_gradcheck_and_gradgradcheck():
    x = tl.randn(3, 2, dtype=tl.float64, requires_grad=True)
    assert gradcheck(Cube.apply, (x,))
    assert gradgradcheck(Cube.apply, (x,))


def test_gradcheck_catches_a_wrong_backward_naming_input_and_element():
    x = tl.tensor([1.0, 2.0], dtype=tl.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match=r"input 0.*numerical .* vs analytical"):
        gradcheck(WrongCube.apply, (x,))
    assert gradcheck(WrongCube.apply, (x,), raise_exception=False) is False


def test_gradcheck_fast_mode_catches_a_wrong_backward():
    x = tl.randn(30, dtype=tl.float64, requires_grad=True)
    assert gradcheck(Cube.apply, (x,), fast_mode=True)
    with pytest.raises(GradcheckError, match="fast_mode"):
        gradcheck(WrongCube.apply, (x,), fast_mode=True)


def test_gradcheck_requires_float64():
    x = tl.randn(3, requires_grad=True)
    with pytest.raises(ValueError, match="float64"):
        gradcheck(Cube.apply, (x,))


class FusedCube(tl.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.data ** 3

    @staticmethod
    @tl.autograd.once_differentiable
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return tl.tensor(g.numpy() * 3 * x.numpy() ** 2)


def test_once_differentiable_raises_on_double_backward():
    x = tl.randn(3, dtype=tl.float64, requires_grad=True)
    assert gradcheck(FusedCube.apply, (x,))
    (g,) = tl.autograd.grad(FusedCube.apply(x).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        g.sum().backward()


def test_mark_non_differentiable_and_needs_input_grad():
    class SortWithIndex(tl.autograd.Function):
        @staticmethod
        def forward(ctx, x, w):
            assert ctx.needs_input_grad == (True, False)
            idx = np.argsort(x.data)
            ctx.mark_non_differentiable(idx)
            ctx.idx = idx
            return x.data[idx], idx

        @staticmethod
        def backward(ctx, g, g_idx):
            out = np.zeros_like(g.data)
            out[ctx.idx] = g.data
            return tl.tensor(out), None

    x = tl.tensor([3.0, 1.0, 2.0], requires_grad=True)
    vals, idx = SortWithIndex.apply(x, tl.ones(3))
    assert not idx.requires_grad and vals.requires_grad
    (vals * tl.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 1.0, 2.0])


def test_mismatched_shapes_raise_naming_the_op():
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\), \(4,\) cannot be broadcast"):
        tl.ones(2, 3) + tl.ones(4)
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\)"):
        tl.ones(2, 3) @ tl.ones(4, 5)


def test_requires_grad_on_integer_tensor_is_an_error():
    with pytest.raises(RuntimeError, match="floating-point"):
        tl.tensor([1, 2], requires_grad=True)


def test_float32_and_float64_promotion():
    a = tl.ones(2, requires_grad=True)
    b = tl.ones(2, dtype=tl.float64)
    c = a * b
    assert c.dtype == tl.float64
    c.sum().backward()
    assert a.grad.dtype == tl.float32
    assert (tl.ones(2) * 2.5).dtype == tl.float32
    assert (tl.tensor([1, 2]) * 2.5).dtype == tl.float32
    assert (tl.tensor([1, 2]) / 2).dtype == tl.float32
