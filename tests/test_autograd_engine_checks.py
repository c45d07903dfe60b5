"""The engine checks what backward functions and hooks hand it, as PyTorch's does.

Also: grad-mode objects as decorators, hooks under autograd.grad, removable hook handles,
retain_grad ordering, in-place .grad accumulation, and a second backward through nodes
that saved nothing. Values are compared with PyTorch where it is importable.
"""
import re

import numpy as np
import pytest

import tensorlite as tl


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _custom(lib, backward):
    """``Bad``: a Function of ``lib`` (tensorlite or torch): 2x, with the given backward."""

    class Bad(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x._data * 2 if lib is tl else x * 2

        @staticmethod
        def backward(ctx, g):
            return backward(g)

    return Bad


def _leaf(lib, values, **kw):
    dtype = tl.float64 if lib is tl else lib.float64
    return lib.tensor(values, dtype=dtype, requires_grad=True, **kw)


# -- 1. gradients returned by Function.backward -------------------------------------------
@pytest.mark.parametrize("wrong", ["scalar", "longer", "fewer_dims_than_input"])
def test_backward_returning_a_gradient_of_an_incompatible_shape_is_an_error(torch, wrong):
    shape = (1, 2) if wrong == "fewer_dims_than_input" else (2,)
    make = {"scalar": lambda lib, g: g.sum(),
            "longer": lambda lib, g: lib.ones(5, dtype=g.dtype),
            "fewer_dims_than_input": lambda lib, g: g.reshape(2)}[wrong]
    got = {"scalar": (), "longer": (5,), "fewer_dims_than_input": (2,)}[wrong]
    for lib in (tl, torch):
        x = _leaf(lib, np.ones(shape))
        with pytest.raises(RuntimeError, match="BadBackward returned an invalid gradient at "
                                               "index 0"):
            (_custom(lib, lambda g: make(lib, g)).apply(x) * 1).sum().backward()
    x = _leaf(tl, np.ones(shape))
    with pytest.raises(RuntimeError, match=re.escape(f"got shape {got} but expected shape "
                                                     f"compatible with {shape}")):
        (_custom(tl, lambda g: make(tl, g)).apply(x) * 1).sum().backward()
    assert x.grad is None


def test_a_wrong_shape_is_caught_when_the_node_feeds_only_leaves():
    # The root's node feeds only leaves: the engine's short path must check too.
    x = _leaf(tl, [1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"BadBackward .* got shape \(\) but expected shape "
                                           r"compatible with \(2,\)"):
        _custom(tl, lambda g: g.sum()).apply(x).backward(tl.ones(2, dtype=tl.float64))


def test_a_wrong_shape_into_a_non_leaf_input_is_caught():
    x = _leaf(tl, [1.0, 2.0])
    y = x * 3
    with pytest.raises(RuntimeError, match=r"BadBackward .* got shape \(3,\) but expected "
                                           r"shape compatible with \(2,\)"):
        _custom(tl, lambda g: tl.ones(3, dtype=tl.float64)).apply(y).sum().backward()


def test_a_wrong_shape_into_the_second_output_of_a_multi_output_node_is_caught():
    class Split(tl.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x._data[:2].copy(), x._data[2:].copy()

        @staticmethod
        def backward(ctx, ga, gb):
            return tl.cat([ga, gb])

    x = _leaf(tl, [1.0, 2.0, 3.0, 4.0, 5.0])
    a, b = Split.apply(x)
    with pytest.raises(RuntimeError, match=r"BadBackward .* got shape \(2,\) but expected "
                                           r"shape compatible with \(3,\)"):
        (a.sum() + _custom(tl, lambda g: g[:2]).apply(b).sum()).backward()


@pytest.mark.parametrize("in_shape, grad_shape", [((2,), (3, 2)), ((2, 1), (2, 3)),
                                                  ((2,), (1, 2)), ((), (4,))])
def test_a_larger_broadcastable_gradient_is_summed_to_the_input_shape(torch, in_shape,
                                                                      grad_shape):
    values = np.arange(1.0, 1.0 + np.prod(in_shape)).reshape(in_shape)
    grads = []
    for lib in (tl, torch):
        x = _leaf(lib, values)
        bad = _custom(lib, lambda g: (g * 1).expand(*grad_shape) * 3)
        (bad.apply(x) * 2).sum().backward()
        grads.append(np.asarray(x.grad.tolist()))
        assert tuple(x.grad.shape) == in_shape
    np.testing.assert_allclose(grads[0], grads[1])


def test_summing_a_larger_gradient_is_recorded_under_create_graph():
    # f(x) = x^2 whose backward leaves the sum over 3 copies to the engine: d/dx = 3 * 2x,
    # so the second derivative through the engine's reduction is 6.
    class Square(tl.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x._data ** 2

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return (2 * x * g).expand(3, 2)

    x = _leaf(tl, [1.0, 2.0])
    (g,) = tl.autograd.grad(Square.apply(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.numpy(), [6.0, 12.0])
    (gg,) = tl.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), [6.0, 6.0])


def test_backward_returning_too_many_gradients_is_an_error(torch):
    for lib in (tl, torch):
        x = _leaf(lib, [1.0, 2.0])
        with pytest.raises(RuntimeError, match=r"function BadBackward returned an incorrect "
                                               r"number of gradients \(expected 1, got 2\)"):
            (_custom(lib, lambda g: (g, g)).apply(x) * 1).sum().backward()


def test_backward_may_return_extra_nones(torch):
    grads = []
    for lib in (tl, torch):
        x = _leaf(lib, [1.0, 2.0])
        (_custom(lib, lambda g: (g * 5, None, None)).apply(x) * 1).sum().backward()
        grads.append(x.grad.tolist())
    assert grads[0] == grads[1] == [5.0, 5.0]


def test_backward_returning_no_gradient_for_an_input_that_needs_one_is_an_error():
    class Two(tl.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x._data * y._data

        @staticmethod
        def backward(ctx, g):
            return g

    x, y = _leaf(tl, [1.0, 2.0]), _leaf(tl, [3.0, 4.0])
    with pytest.raises(RuntimeError, match=r"function TwoBackward returned an incorrect number "
                                           r"of gradients \(expected 2, got 1\)"):
        Two.apply(x, y).sum().backward()


def test_backward_may_omit_gradients_for_trailing_non_tensor_arguments():
    # Deliberately more lenient than PyTorch (which wants a None per argument): the
    # built-in ops return nothing for trailing arguments such as a shape or a dim.
    class Scale(tl.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.k = k
            return x._data * k

        @staticmethod
        def backward(ctx, g):
            return g * ctx.k

    x = _leaf(tl, [1.0, 2.0])
    Scale.apply(x, 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_a_float_gradient_of_another_precision_is_cast_to_the_input_dtype(torch):
    results = []
    for lib in (tl, torch):
        x = _leaf(lib, [1.0, 2.0])
        y = x * 1
        seen = []
        y.register_hook(lambda g: seen.append(g.dtype))
        (_custom(lib, lambda g: (g * 3).float()).apply(y) * 1).sum().backward()
        results.append((str(seen[0]).split(".")[-1], str(x.grad.dtype).split(".")[-1],
                        x.grad.tolist()))
    assert results[0] == results[1] == ("float64", "float64", [3.0, 3.0])


@pytest.mark.parametrize("dtype", [tl.int64, tl.bool_])
def test_a_gradient_that_is_not_floating_point_is_an_error(dtype):
    # PyTorch casts it silently; an integer or bool "gradient" (a mask, indices) is
    # almost surely a bug, so it is refused.
    x = _leaf(tl, [1.0, 2.0])
    with pytest.raises(TypeError, match=rf"BadBackward returned a gradient of dtype "
                                        rf"{np.dtype(dtype)} at index 0, but input 0 has dtype "
                                        r"float64"):
        (_custom(tl, lambda g: tl.ones(2, dtype=dtype)).apply(x) * 1).sum().backward()


def test_gradients_of_built_in_ops_pass_the_checks_unchanged():
    x = _leaf(tl, np.arange(6.0).reshape(2, 3))
    w = _leaf(tl, [[1.0], [2.0]])
    b = tl.tensor(0.5, dtype=tl.float32, requires_grad=True)
    loss = ((x * w + b).tanh() @ x.T).logsumexp(1).sum()
    loss.backward()
    assert x.grad.shape == (2, 3) and w.grad.shape == (2, 1) and b.grad.shape == ()
    assert b.grad.dtype == tl.float32


# -- 1b. gradients returned by hooks ----------------------------------------------------
def test_a_leaf_hook_that_changes_the_shape_is_an_error(torch):
    def fn(g):
        return g.sum()

    for lib in (tl, torch):
        x = _leaf(lib, [1.0, 2.0])
        x.register_hook(fn)
        with pytest.raises(RuntimeError, match="hook 'fn' has changed the size of value"):
            (x * 2).sum().backward()
    assert x.grad is None


def test_a_non_leaf_hook_that_changes_the_shape_or_dtype_is_an_error(torch):
    for lib in (tl, torch):
        for change, what in ((lambda g: g[:1], "size"), (lambda g: g.float(), "type")):
            x = _leaf(lib, [1.0, 2.0])
            y = x * 2
            y.register_hook(change)
            with pytest.raises(RuntimeError, match=f"hook '<lambda>' has changed the {what} of "
                                                   "value"):
                (y * 3).sum().backward()


def test_a_hook_returning_something_other_than_a_tensor_is_a_type_error():
    x = _leaf(tl, [1.0, 2.0])
    x.register_hook(lambda g: g.numpy() * 2)
    with pytest.raises(TypeError, match="hook '<lambda>' returned ndarray"):
        (x * 2).sum().backward()


# -- 2. set_grad_enabled ---------------------------------------------------------------
def test_set_grad_enabled_works_as_a_decorator():
    @tl.set_grad_enabled(False)
    def f(x):
        return x * 2, tl.is_grad_enabled()

    assert tl.is_grad_enabled()  # defining f must not switch the mode for the process
    x = _leaf(tl, [1.0])
    for _ in range(2):
        y, inside = f(x)
        assert inside is False and not y.requires_grad and tl.is_grad_enabled()


def test_set_grad_enabled_decorator_restores_the_mode_of_the_caller():
    @tl.set_grad_enabled(True)
    def f():
        return tl.is_grad_enabled()

    with tl.no_grad():
        assert f() is True
        assert not tl.is_grad_enabled()


def test_set_grad_enabled_as_a_call_and_as_a_context_manager():
    try:
        tl.set_grad_enabled(False)
        assert not tl.is_grad_enabled()
        with tl.set_grad_enabled(True):
            assert tl.is_grad_enabled()
        assert not tl.is_grad_enabled()
    finally:
        tl.set_grad_enabled(True)
    with tl.set_grad_enabled(False):
        assert not tl.is_grad_enabled()
    assert tl.is_grad_enabled()


def test_no_grad_still_works_as_a_decorator():
    @tl.no_grad()
    def f():
        return tl.is_grad_enabled()

    assert f() is False and tl.is_grad_enabled()


# -- 3. leaf hooks under autograd.grad --------------------------------------------------
def test_leaf_hooks_run_under_autograd_grad(torch):
    results = []
    for lib in (tl, torch):
        x = _leaf(lib, [1.0, 2.0])
        x.register_hook(lambda g: g * 100)
        (g,) = lib.autograd.grad((x * x).sum(), x)
        results.append(g.tolist())
        assert x.grad is None
    assert results[0] == results[1] == [200.0, 400.0]


def test_hooks_of_leaves_that_are_not_inputs_do_not_run_under_autograd_grad():
    x, w = _leaf(tl, [1.0, 2.0]), _leaf(tl, [3.0, 4.0])
    calls = []
    w.register_hook(lambda g: calls.append(g))
    (g,) = tl.autograd.grad((x * w).sum(), x)
    np.testing.assert_allclose(g.numpy(), [3.0, 4.0])
    assert calls == [] and w.grad is None


# -- 4, 5. hook handles and retain_grad (tensor.py delegates to the engine) -------------
def test_register_hook_returns_a_handle_that_removes_the_hook(torch):
    results = []
    for lib in (tl, torch):
        x = _leaf(lib, [1.0, 2.0])
        y = x * 1
        hx = x.register_hook(lambda g: g * 10)
        hy = y.register_hook(lambda g: g * 100)
        (y * 1).sum().backward(retain_graph=True)
        hx.remove()
        hy.remove()
        hy.remove()  # a second remove is harmless
        (y * 1).sum().backward()
        results.append(x.grad.tolist())
    assert results[0] == results[1] == [1001.0, 1001.0]


def test_removing_one_of_two_registrations_of_the_same_hook_keeps_the_other():
    x = _leaf(tl, [1.0])

    def double(g):
        return g * 2

    first = x.register_hook(double)
    x.register_hook(double)
    first.remove()
    first.remove()
    (x * 1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0])


def test_a_hook_handle_works_as_a_context_manager():
    x = _leaf(tl, [1.0])
    with x.register_hook(lambda g: g * 7):
        (x * 1).sum().backward()
    (x * 1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [8.0])


def test_retain_grad_stores_the_gradient_after_all_hooks(torch):
    results = []
    for lib in (tl, torch):
        x = _leaf(lib, [1.0, 2.0])
        y = x * 2
        y.retain_grad()  # registered first, applied last
        y.register_hook(lambda g: g * 10)
        (y * 3).sum().backward()
        results.append((y.grad.tolist(), x.grad.tolist()))
    assert results[0] == results[1] == ([30.0, 30.0], [60.0, 60.0])


def test_retain_grad_twice_keeps_one_gradient(torch):
    results = []
    for lib in (tl, torch):
        x = _leaf(lib, [1.0, 2.0])
        y = x * 2
        y.retain_grad()
        y.retain_grad()
        y.sum().backward()
        results.append(y.grad.tolist())
    assert results[0] == results[1] == [1.0, 1.0]


def test_retained_gradient_does_not_share_memory_with_a_leaf_gradient():
    a, b = _leaf(tl, [1.0, 2.0]), _leaf(tl, [3.0, 4.0])
    y = a + b
    y.retain_grad()
    (y * 2).sum().backward()
    y.grad._data[...] = 0  # e.g. a user zeroing the retained grad
    np.testing.assert_allclose(a.grad.numpy(), [2.0, 2.0])
    np.testing.assert_allclose(b.grad.numpy(), [2.0, 2.0])


# -- 6. .grad accumulates in place ------------------------------------------------------
def _version(t):
    return t._version_count if isinstance(t, tl.Tensor) else t._version


def test_a_held_reference_to_grad_sees_later_accumulation(torch):
    results = []
    for lib in (tl, torch):
        x = _leaf(lib, [1.0, 2.0])
        (x * x).sum().backward()
        held = x.grad
        version = _version(held)
        (x * x).sum().backward()
        (x * 3).sum().backward()
        assert held is x.grad
        results.append((held.tolist(), _version(held) > version))
    assert results[0] == results[1] == ([7.0, 11.0], True)


def test_accumulation_of_a_big_graph_keeps_the_grad_object():
    x = _leaf(tl, np.arange(4.0))
    y = x
    for _ in range(3):
        y = (y * 2 + x).tanh()
    y.sum().backward(retain_graph=True)
    held, first = x.grad, x.grad.numpy().copy()
    y.sum().backward()
    assert held is x.grad
    np.testing.assert_allclose(held.numpy(), 2 * first)


def test_accumulating_never_writes_into_an_array_that_a_backward_handed_over():
    const = tl.tensor([5.0, 6.0], dtype=tl.float64)
    held = const.numpy().copy()

    class UsesConst(tl.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x._data * const._data

        @staticmethod
        def backward(ctx, g):
            return const  # right for g = 1; a constant this Function keeps

    x = _leaf(tl, [1.0, 2.0])
    for _ in range(3):
        UsesConst.apply(x).backward(tl.ones(2, dtype=tl.float64))
    np.testing.assert_allclose(x.grad.numpy(), 3 * held)
    np.testing.assert_allclose(const.numpy(), held)


def test_accumulating_never_writes_into_an_array_a_hook_kept():
    kept = []
    x = _leaf(tl, [1.0, 2.0])
    x.register_hook(lambda g: kept.append(g))
    (x * 2).sum().backward()
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 4.0])
    np.testing.assert_allclose(kept[0].numpy(), [2.0, 2.0])


def test_accumulating_after_zero_grad_in_place_keeps_the_object():
    x = _leaf(tl, [1.0, 2.0])
    opt = tl.optim.SGD([x], lr=0.1)
    (x * x).sum().backward()
    held = x.grad
    opt.zero_grad(set_to_none=False)
    (x * 3).sum().backward()
    assert x.grad is held
    np.testing.assert_allclose(held.numpy(), [3.0, 3.0])


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_create_graph_accumulation_stays_differentiable(torch):
    results = []
    for lib in (tl, torch):
        x = _leaf(lib, [1.0, 2.0])
        (x ** 3).sum().backward(create_graph=True)
        (x ** 3).sum().backward(create_graph=True)
        g = x.grad  # 6 x^2, recorded
        (gg,) = lib.autograd.grad(g.sum(), x)
        results.append((g.tolist(), gg.tolist()))
    assert results[0] == results[1]


# -- 7. autograd.grad argument types ----------------------------------------------------
@pytest.mark.parametrize("outputs, inputs, match", [
    (1.0, "x", r"autograd.grad: outputs must be a Tensor or a sequence of Tensors, got float"),
    ([1.0], "x", r"autograd.grad: outputs must be .* but element 0 is float"),
    ("y", 1.0, r"autograd.grad: inputs must be a Tensor or a sequence of Tensors, got float"),
    ("y", ["x", 2], r"autograd.grad: inputs must be .* but element 1 is int"),
])
def test_autograd_grad_with_non_tensor_arguments_is_a_type_error(outputs, inputs, match):
    x = _leaf(tl, [1.0, 2.0])
    env = {"x": x, "y": (x * x).sum()}

    def sub(v):
        if isinstance(v, list):
            return [sub(e) for e in v]
        return env.get(v, v) if isinstance(v, str) else v

    with pytest.raises(TypeError, match=match):
        tl.autograd.grad(sub(outputs), sub(inputs))


def test_autograd_grad_accepts_any_iterable_of_inputs():
    x, w = _leaf(tl, [1.0, 2.0]), _leaf(tl, [3.0, 4.0])
    gx, gw = tl.autograd.grad((x * w).sum(), (t for t in (x, w)))
    np.testing.assert_allclose(gx.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(gw.numpy(), [1.0, 2.0])


def test_autograd_backward_with_a_non_tensor_is_a_type_error():
    with pytest.raises(TypeError, match="autograd.backward: tensors must be a Tensor"):
        tl.autograd.backward(1.0)


# -- 8. a second backward ---------------------------------------------------------------
def test_second_backward_through_nodes_that_saved_nothing_works(torch):
    results = []
    for lib in (tl, torch):
        x = _leaf(lib, [1.0, 2.0])
        y = x + 1
        y.sum().backward()
        y.sum().backward()
        results.append(x.grad.tolist())
    assert results[0] == results[1] == [2.0, 2.0]


def test_second_backward_through_a_node_that_saved_tensors_is_still_an_error(torch):
    for lib in (tl, torch):
        x = _leaf(lib, [1.0, 2.0])
        y = x * x + 1
        y.sum().backward()
        with pytest.raises(RuntimeError, match="second time"):
            y.sum().backward()
    # the error names the op whose saved tensors are gone
    x = _leaf(tl, [1.0, 2.0])
    y = x * x + 1
    y.sum().backward()
    with pytest.raises(RuntimeError, match="MulBackward"):
        y.sum().backward()


def test_autograd_grad_runs_only_the_part_of_the_graph_that_leads_to_its_inputs():
    # As PyTorch: the gradient with respect to an intermediate tensor does not run the
    # backward of the nodes upstream of it.
    calls = []

    class Spy(tl.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x._data * 2

        @staticmethod
        def backward(ctx, g):
            calls.append(1)
            return g * 2

    w = tl.ones(3, requires_grad=True)
    h = Spy.apply(w) * 3
    (g,) = tl.autograd.grad((h * h).sum(), h)
    np.testing.assert_allclose(g.numpy(), [12.0, 12.0, 12.0])
    assert calls == [] and w.grad is None
    (g,) = tl.autograd.grad((Spy.apply(w) * w).sum(), w)
    np.testing.assert_allclose(g.numpy(), [4.0, 4.0, 4.0])
    assert calls == [1]
