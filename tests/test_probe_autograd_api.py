"""The autograd extension API and engine arguments against PyTorch: backward(inputs=...),
autograd.grad(materialize_grads=...), kwargs to Function.apply, what save_for_backward
accepts, non-tensor outputs of a custom forward, a forward returning its input, and
detach_ on a view."""
import numpy as np
import pytest

import tensorlite as tl


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _pair(torch, values):
    return (tl.tensor(values, dtype=tl.float64, requires_grad=True),
            torch.tensor(values, dtype=torch.float64, requires_grad=True))


def _grads(*ts):
    return [None if t.grad is None else np.asarray(t.grad.detach().numpy()) for t in ts]


def _same(ours, theirs):
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        assert (o is None) == (t is None)
        if o is not None:
            np.testing.assert_allclose(o, t, rtol=1e-12)


@pytest.mark.parametrize("form", ["method", "function"])
def test_backward_inputs_accumulates_only_into_them(torch, form):
    results = []
    for lib in (tl, torch):
        dt = lib.float64
        a = lib.tensor([1.0, 2.0], dtype=dt, requires_grad=True)
        b = lib.tensor([3.0, -4.0], dtype=dt, requires_grad=True)
        c = a * b                      # a non-leaf input gets a .grad too
        loss = (c * c * b).sum()
        if form == "method":
            loss.backward(inputs=[a, c], retain_graph=True)
            loss.backward(inputs=[a])  # accumulates into a only
        else:
            lib.autograd.backward([loss], [lib.tensor(2.0, dtype=dt)], inputs=[a, c],
                                  retain_graph=True)
            lib.autograd.backward(loss, inputs=a)
        results.append(_grads(a, b, c))
    _same(*results)
    assert results[0][1] is None


def test_backward_inputs_refuses_empty_or_no_grad():
    a = tl.tensor([1.0], dtype=tl.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="inputs"):
        (a * 2).sum().backward(inputs=[])
    with pytest.raises(RuntimeError, match="does not require grad"):
        (a * 2).sum().backward(inputs=[tl.tensor([1.0])])


def test_grad_materialize_grads(torch):
    out = []
    for lib in (tl, torch):
        a = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        unused = lib.tensor([[5.0]], dtype=lib.float64, requires_grad=True)
        ga, gu = lib.autograd.grad((a * a).sum(), [a, unused], materialize_grads=True)
        out.append((ga.detach().numpy(), gu.detach().numpy()))
        with pytest.raises(ValueError):
            lib.autograd.grad((a * a).sum(), [a, unused], materialize_grads=True,
                              allow_unused=False)
    _same(out[0], out[1])
    assert out[0][1].shape == (1, 1)


def _scale_fn(lib):
    class Scale(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k=1.0, y=None):
            ctx.k = k
            xs = x.data if lib is tl else x
            ys = y.data if lib is tl else y
            return xs * k + ys

        @staticmethod
        def backward(ctx, g):
            return g * ctx.k, None, g * 3

    return Scale


def test_apply_binds_keyword_arguments_in_forward_order(torch):
    res = []
    for lib in (tl, torch):
        x = lib.tensor([1.0, -2.0], dtype=lib.float64, requires_grad=True)
        y = lib.tensor([0.5, 4.0], dtype=lib.float64, requires_grad=True)
        out = _scale_fn(lib).apply(x, y=y, k=2.0)
        out.sum().backward()
        res.append([out.detach().numpy()] + _grads(x, y))
    _same(res[0], res[1])


def test_apply_refuses_arguments_forward_does_not_take():
    x = tl.tensor([1.0], dtype=tl.float64, requires_grad=True)
    with pytest.raises(TypeError, match="Scale.apply"):
        _scale_fn(tl).apply(x, z=3)


@pytest.mark.parametrize("bad", [3, "s", (1, 2)])
def test_save_for_backward_takes_only_tensors_or_none(torch, bad):
    for lib in (tl, torch):
        class Save(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x, None, bad)
                return x.data * 2 if lib is tl else x * 2

            @staticmethod
            def backward(ctx, g):
                return g * 2

        x = lib.tensor([1.0], dtype=lib.float64, requires_grad=True)
        with pytest.raises(TypeError, match="save_for_backward"):
            Save.apply(x)


def test_non_tensor_outputs_pass_through(torch):
    seen = {}
    for lib in (tl, torch):
        class Multi(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return (x.data * 2 if lib is tl else x * 2), None, 3

            @staticmethod
            def backward(ctx, g, g_none, g_int):
                seen[lib] = (g_none, g_int)
                return g * 2

        x = lib.tensor([1.0, -2.0], dtype=lib.float64, requires_grad=True)
        y, n, k = Multi.apply(x)
        assert n is None and k == 3 and type(k) is int
        y.sum().backward()
        np.testing.assert_allclose(np.asarray(x.grad.detach().numpy()), [2.0, 2.0])
    assert seen[tl] == seen[torch] == (None, None)


def test_forward_returning_its_input_is_an_alias(torch):
    for lib in (tl, torch):
        class Ident(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 2

        x = lib.tensor([1.0, -2.0], dtype=lib.float64, requires_grad=True)
        h = x * 1                       # non-leaf, so in-place writes are allowed
        out = Ident.apply(h)
        assert out is not h and out.grad_fn is not None
        saved = h * h                   # saves h
        with lib.no_grad():
            out.add_(1)                 # changes h too: the alias shares its version
        with pytest.raises(RuntimeError, match="modified by an inplace|in-place"):
            saved.sum().backward()


def test_detach_on_a_view_is_refused(torch):
    for lib in (tl, torch):
        base = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True) * 2
        view = base[0:1]
        with pytest.raises(RuntimeError, match="detach"):
            view.detach_()
        assert view.requires_grad          # nothing changed
