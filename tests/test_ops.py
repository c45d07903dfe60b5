"""Op tests generated from the OpInfo database (tensorlite/testing/opinfo.py).

For every entry and hypothesis-drawn sample: forward matches the numpy reference,
gradcheck and gradgradcheck pass in float64 (or double backward raises for
once-differentiable ops), inputs are not mutated, and the graph is freed after backward.
"""
import inspect

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tensorlite as tl
import tensorlite.ops
from tensorlite.autograd import Function
from tensorlite.testing import gradcheck, gradgradcheck
from tensorlite.testing.opinfo import op_db

OPS = [pytest.param(info, id=info.name) for info in op_db]


def to_tensors(sample, requires_grad=True):
    args = []
    for a in sample.args:
        if isinstance(a, np.ndarray):
            t = tl.from_numpy(a)
            if requires_grad and a.dtype.kind == "f":
                t.requires_grad_(True)
            args.append(t)
        else:
            args.append(a)
    return args


def call(info, args, kwargs):
    return info.op(*args, **kwargs)


def as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def _check_close(got, want, atol, rtol):
    for g, w in zip(as_tuple(got), as_tuple(want)):
        g = g.data if isinstance(g, tl.Tensor) else g
        np.testing.assert_allclose(g, np.asarray(w), atol=atol, rtol=rtol)
        assert g.shape == np.asarray(w).shape


@pytest.mark.parametrize("info", OPS)
@given(data=st.data())
def test_forward_matches_reference(info, data):
    sample = data.draw(info.samples())
    args = to_tensors(sample, requires_grad=False)
    _check_close(call(info, args, sample.kwargs), info.ref(*sample.args, **sample.kwargs),
                 info.atol, info.rtol)


def _grad_fn(info, sample):
    args = to_tensors(sample)
    pos = [k for k, a in enumerate(args) if isinstance(a, tl.Tensor) and a.requires_grad]

    def fn(*diff):
        full = list(args)
        for k, t in zip(pos, diff):
            full[k] = t
        return call(info, full, sample.kwargs)
    fn.__qualname__ = info.name
    return fn, [args[k] for k in pos]


@pytest.mark.parametrize("info", OPS)
@given(data=st.data())
def test_gradcheck(info, data):
    sample = data.draw(info.samples())
    fn, inputs = _grad_fn(info, sample)
    fast = sum(t.numel() for t in inputs) > info.fast_mode_above
    assert gradcheck(fn, inputs, eps=info.grad_eps, atol=info.grad_atol, rtol=info.grad_rtol,
                     fast_mode=fast)


@pytest.mark.parametrize("info", OPS)
@given(data=st.data())
@settings(max_examples=6)
def test_gradgradcheck(info, data):
    sample = data.draw(info.samples())
    fn, inputs = _grad_fn(info, sample)
    assert not info.once_differentiable, (
        "no built-in op is once-differentiable; tests/test_autograd.py checks that "
        "differentiating a once_differentiable backward twice raises")
    if not info.supports_gradgrad:
        # A step function's gradient (0) or a cast's is a constant of the incoming gradient:
        # computed with create_graph=True it has no history to differentiate again.
        outs = [o for o in as_tuple(fn(*inputs)) if o.requires_grad]
        grads = tl.autograd.grad(outs, inputs, [tl.ones_like(o) for o in outs],
                                 create_graph=True, allow_unused=True)
        assert any(g is not None for g in grads)
        assert all(g is None or not g.requires_grad for g in grads)
        return
    fast = sum(t.numel() for t in inputs) > info.fast_mode_above // 2
    assert gradgradcheck(fn, inputs, eps=info.grad_eps, atol=info.grad_atol,
                         rtol=info.grad_rtol, fast_mode=fast)


@pytest.mark.parametrize("info", OPS)
@given(data=st.data())
def test_inputs_not_mutated_and_graph_freed(info, data):
    sample = data.draw(info.samples())
    before = [a.copy() if isinstance(a, np.ndarray) else a for a in sample.args]
    args = to_tensors(sample)
    outs = [o for o in as_tuple(call(info, args, sample.kwargs)) if o.requires_grad]
    nodes = [o.grad_fn for o in outs if o.grad_fn is not None]
    sum(o.sum() for o in outs).backward()
    for b, a in zip(before, sample.args):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)
    for node in nodes:
        assert node._freed and node._saved is None
        with pytest.raises(RuntimeError, match="second time"):
            node.saved_tensors


def test_every_function_has_an_opinfo_entry():
    covered = {cls for info in op_db for cls in info.covers}
    missing = []
    for mod in _ops_modules():
        for name, obj in inspect.getmembers(mod, inspect.isclass):
            if issubclass(obj, Function) and obj is not Function and \
                    obj.__module__ == mod.__name__ and obj not in covered:
                missing.append(f"{mod.__name__}.{name}")
    assert not missing, f"Function subclasses without an OpInfo entry: {missing}"


def _ops_modules():
    import importlib
    import pkgutil
    pkg = tensorlite.ops
    return [importlib.import_module(f"{pkg.__name__}.{m.name}")
            for m in pkgutil.iter_modules(pkg.__path__)]
