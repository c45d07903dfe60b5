"""Leaf gradients stored as soon as they are complete, post-accumulate-grad hooks and
end-of-backward callbacks (what DistributedDataParallel builds on), as PyTorch's."""
import numpy as np
import pytest

import nn
import tensorlite as tl
from tensorlite.autograd import _execution_engine, queue_callback


def _mlp():
    tl.manual_seed(0)
    return nn.Linear(3, 4).double(), nn.Linear(4, 2).double()


def test_post_accumulate_hook_receives_the_tensor_with_its_grad_stored():
    w = tl.tensor([1.0, 2.0, 3.0], dtype=tl.float64, requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(lambda p: seen.append((p is w, p.grad.numpy().copy())))
    (w * w).sum().backward()
    assert len(seen) == 1 and seen[0][0]
    np.testing.assert_array_equal(seen[0][1], [2.0, 4.0, 6.0])


def test_post_accumulate_hook_sees_the_accumulated_grad_on_a_second_backward():
    w = tl.tensor([1.0, -1.0], dtype=tl.float64, requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.numpy().copy()))
    (3 * w).sum().backward()
    (5 * w).sum().backward()
    np.testing.assert_array_equal(seen[0], [3.0, 3.0])
    np.testing.assert_array_equal(seen[1], [8.0, 8.0])


def test_hooks_of_later_layers_fire_before_earlier_layers_are_differentiated():
    l1, l2 = _mlp()
    x = tl.randn(5, 3, dtype=tl.float64)
    events = []
    for name, p in [("l1.weight", l1.weight), ("l1.bias", l1.bias),
                    ("l2.weight", l2.weight), ("l2.bias", l2.bias)]:
        p.register_post_accumulate_grad_hook(lambda p, name=name: events.append(name))
    h = l1(x)
    # h's own hook runs when h's gradient is complete, i.e. just before l1's backward.
    h.register_hook(lambda g: events.append("grad of l1's output"))
    l2(h.relu()).sum().backward()
    assert sorted(events[:2]) == ["l2.bias", "l2.weight"]
    assert events[2] == "grad of l1's output"
    assert sorted(events[3:]) == ["l1.bias", "l1.weight"]


def test_a_leaf_used_twice_is_stored_once_after_its_last_use():
    w = tl.tensor([2.0], dtype=tl.float64, requires_grad=True)
    calls = []
    w.register_post_accumulate_grad_hook(lambda p: calls.append(p.grad.item()))
    a = w * 3.0            # first use
    b = (a * a) * w        # second use, later in the graph: d/dw (9 w^3) = 27 w^2
    b.sum().backward()
    assert calls == [108.0]
    assert w.grad.item() == 108.0


def test_gradients_are_unchanged_by_early_storing():
    l1, l2 = _mlp()
    x = tl.randn(6, 3, dtype=tl.float64)
    params = [l1.weight, l1.bias, l2.weight, l2.bias]
    expected = tl.autograd.grad(l2(l1(x).tanh()).pow(2).sum(), params)
    l2(l1(x).tanh()).pow(2).sum().backward()
    l2(l1(x).tanh()).pow(2).sum().backward()
    for p, e in zip(params, expected):
        np.testing.assert_allclose(p.grad.numpy(), 2 * e.numpy(), rtol=1e-14)


def test_a_hook_writing_into_grad_does_not_change_gradients_still_flowing():
    # add's backward hands one array to the leaf p and to the node of w * 3; p's .grad is
    # stored before that node runs, so zeroing it in place must not reach w's gradient.
    p = tl.tensor([1.0, 2.0], dtype=tl.float64, requires_grad=True)
    w = tl.tensor([4.0, 5.0], dtype=tl.float64, requires_grad=True)
    c = tl.tensor([7.0, 11.0], dtype=tl.float64)

    def zero_in_place(t):
        t.grad.mul_(0.0)

    p.register_post_accumulate_grad_hook(zero_in_place)
    ((p + w * 3.0) * c).sum().backward()
    np.testing.assert_array_equal(p.grad.numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(w.grad.numpy(), [21.0, 33.0])


def test_removed_post_accumulate_hook_no_longer_fires():
    w = tl.tensor([1.0], requires_grad=True)
    calls = []
    handle = w.register_post_accumulate_grad_hook(lambda p: calls.append(1))
    (w * 2).sum().backward()
    handle.remove()
    (w * 2).sum().backward()
    assert calls == [1]


def test_post_accumulate_hook_fires_for_backward_inputs_but_not_for_autograd_grad():
    w = tl.tensor([1.0], requires_grad=True)
    v = tl.tensor([1.0], requires_grad=True)
    calls = []
    w.register_post_accumulate_grad_hook(lambda p: calls.append("w"))
    v.register_post_accumulate_grad_hook(lambda p: calls.append("v"))
    (w * v).sum().backward(inputs=[w])
    assert calls == ["w"]
    tl.autograd.grad((w * v).sum(), [w, v])
    assert calls == ["w"]
    assert v.grad is None


def test_post_accumulate_hook_returning_a_value_is_an_error():
    w = tl.tensor([1.0], requires_grad=True)

    def bad(p):
        return p.grad

    w.register_post_accumulate_grad_hook(bad)
    with pytest.raises(TypeError, match="post accumulate grad hook 'bad'.*must return None"):
        (w * 2).sum().backward()


def test_post_accumulate_hook_only_on_leaves_that_require_grad():
    w = tl.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (w * 2).register_post_accumulate_grad_hook(lambda p: None)
    with pytest.raises(RuntimeError, match="does not require grad"):
        tl.tensor([1.0]).register_post_accumulate_grad_hook(lambda p: None)
    with pytest.raises(TypeError, match="callable"):
        w.register_post_accumulate_grad_hook(3)


def test_queued_callback_runs_once_after_every_grad_is_stored():
    l1, l2 = _mlp()
    x = tl.randn(5, 3, dtype=tl.float64)
    events = []

    def final():
        events.append(("final", l1.weight.grad is not None, l2.weight.grad is not None))

    def first_hook(p):
        events.append("l2.weight")
        queue_callback(final)

    l2.weight.register_post_accumulate_grad_hook(first_hook)
    l1.weight.register_post_accumulate_grad_hook(lambda p: events.append("l1.weight"))
    l2(l1(x).relu()).sum().backward()
    assert events == ["l2.weight", "l1.weight", ("final", True, True)]
    # The callback belonged to that backward only.
    events.clear()
    l2.weight._post_acc_hooks.clear()
    l2(l1(x).relu()).sum().backward()
    assert events == ["l1.weight"]


def test_a_callback_may_queue_another_and_they_run_in_order():
    w = tl.tensor([1.0], requires_grad=True)
    order = []

    def second():
        order.append(2)

    def first():
        order.append(1)
        _execution_engine.queue_callback(second)

    w.register_hook(lambda g: _execution_engine.queue_callback(first))
    (w * 2).sum().backward()
    assert order == [1, 2]


def test_queue_callback_outside_backward_is_an_error():
    with pytest.raises(RuntimeError, match="only be installed during the backward pass"):
        queue_callback(lambda: None)


def test_callbacks_of_a_failing_backward_are_dropped():
    w = tl.tensor([1.0], requires_grad=True)
    ran = []

    def hook(g):
        queue_callback(lambda: ran.append(1))
        raise ValueError("boom")

    w.register_hook(hook)
    with pytest.raises(ValueError, match="boom"):
        (w * 2).sum().backward()
    assert ran == []
    with pytest.raises(RuntimeError, match="during the backward pass"):
        queue_callback(lambda: None)
