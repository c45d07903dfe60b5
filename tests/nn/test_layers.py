"""Layers without kernels (Linear, activations, Flatten, BatchNorm, LayerNorm, Sequential):
parity with PyTorch in float64 (outputs, input gradient, parameter gradients, running
statistics), gradient checks of the functional forms, and default initialisations."""
import math

import numpy as np
import pytest

import nn
import nn.functional as F
import tensorlite as tl
from tensorlite.testing import gradcheck, gradgradcheck

ATOL = 1e-10


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _state(module):
    return {k: v.detach().numpy() for k, v in module.state_dict().items()}


def _randomise(torch, theirs, positive_buffers=False):
    """Non-trivial parameters (and running statistics), so no term can hide behind a 1 or 0."""
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype))
        if positive_buffers:
            for name, b in theirs.named_buffers():
                if name.endswith("running_mean"):
                    b.copy_(torch.randn(b.shape, generator=gen, dtype=b.dtype))
                elif name.endswith("running_var"):
                    b.copy_(torch.rand(b.shape, generator=gen, dtype=b.dtype) + 0.5)


def check_module(torch, ours, theirs, x, *, train=True, steps=1, randomise=True):
    """Run both modules on the same float64 input ``steps`` times; compare everything."""
    theirs = theirs.double()
    if randomise:
        _randomise(torch, theirs, positive_buffers=not train)
    ours.double().load_state_dict(_state(theirs))
    ours.train(train)
    theirs.train(train)
    rng = np.random.default_rng(1)
    for _ in range(steps):
        xo = tl.tensor(x, requires_grad=True)
        xt = torch.tensor(x, requires_grad=True)
        yo, yt = ours(xo), theirs(xt)
        assert yo.shape == tuple(yt.shape) and yo.dtype == tl.float64
        np.testing.assert_allclose(yo._data, yt.detach().numpy(), atol=ATOL, rtol=0)
        g = rng.standard_normal(yo.shape)
        yo.backward(tl.tensor(g))
        yt.backward(torch.tensor(g))
        np.testing.assert_allclose(xo.grad._data, xt.grad.numpy(), atol=ATOL, rtol=0)
    ours_params = dict(ours.named_parameters())
    theirs_params = dict(theirs.named_parameters())
    assert list(ours_params) == list(theirs_params)
    for name, tp in theirs_params.items():
        np.testing.assert_allclose(ours_params[name].grad._data, tp.grad.numpy(), atol=ATOL,
                                   rtol=0, err_msg=name)
    for name, value in _state(theirs).items():
        np.testing.assert_allclose(ours.state_dict()[name]._data, value, atol=ATOL, rtol=0,
                                   err_msg=name)


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# -- Linear ------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (4,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_pytorch(torch, shape, bias):
    check_module(torch, nn.Linear(4, 3, bias=bias), torch.nn.Linear(4, 3, bias=bias), _x(*shape))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_linear_bias_gradient_of_a_large_batch_is_the_column_sum(dtype):
    # From 64 rows and 65536 cells the bias gradient is a BLAS product ones @ g.
    rng = np.random.default_rng(0)
    x = tl.tensor(rng.standard_normal((130, 8)).astype(dtype))
    m = nn.Linear(8, 600).to(tl.float64 if dtype == np.float64 else tl.float32)
    g = rng.standard_normal((130, 600)).astype(dtype)
    m(x).backward(tl.tensor(g))
    np.testing.assert_allclose(m.bias.grad._data, g.astype(np.float64).sum(0),
                               rtol=1e-12 if dtype == np.float64 else 1e-5,
                               atol=1e-12 if dtype == np.float64 else 1e-4)
    assert m.bias.grad.dtype == m.bias.dtype


def test_linear_parameter_names_and_shapes():
    m = nn.Linear(4, 3)
    assert [(n, p.shape) for n, p in m.named_parameters()] == [("weight", (3, 4)),
                                                               ("bias", (3,))]
    assert nn.Linear(4, 3, bias=False).bias is None


def test_frozen_linear_passes_gradient_to_its_input_only(torch):
    theirs = torch.nn.Linear(4, 3).double().requires_grad_(False)
    ours = nn.Linear(4, 3).double().requires_grad_(False)
    ours.load_state_dict(_state(theirs))
    x = _x(2, 4)
    xo, xt = tl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours(xo).sum().backward()
    theirs(xt).sum().backward()
    np.testing.assert_allclose(xo.grad._data, xt.grad.numpy(), atol=ATOL)
    assert ours.weight.grad is None and not ours(xo.detach()).requires_grad


def test_linear_errors_name_the_shapes_and_dtypes():
    m = nn.Linear(4, 3)
    with pytest.raises(ValueError, match=r"linear: input of shape \(2, 5\).*\(3, 4\)"):
        m(tl.randn(2, 5))
    with pytest.raises(TypeError, match="same dtype"):
        m(tl.randn(2, 4, dtype=tl.float64))


def test_linear_gradcheck_and_gradgradcheck():
    x = tl.randn(3, 4, dtype=tl.float64, requires_grad=True)
    w = tl.randn(2, 4, dtype=tl.float64, requires_grad=True)
    b = tl.randn(2, dtype=tl.float64, requires_grad=True)
    assert gradcheck(F.linear, (x, w, b))
    assert gradgradcheck(F.linear, (x, w, b))
    assert gradcheck(F.linear, (x, w))
    x3 = tl.randn(2, 3, 4, dtype=tl.float64, requires_grad=True)
    assert gradcheck(F.linear, (x3, w, b))
    assert gradgradcheck(F.linear, (x3, w, b))


# -- activations, Flatten, Identity -------------------------------------------------------------
def _with_zeros(*shape):
    x = _x(*shape)
    x.flat[::3] = 0.0  # ReLU's kink: PyTorch's gradient at 0 is 0
    return x


@pytest.mark.parametrize("make", [
    lambda m: m.ReLU(), lambda m: m.Tanh(), lambda m: m.Sigmoid(), lambda m: m.Softmax(dim=1),
    lambda m: m.Softmax(dim=-1), lambda m: m.LogSoftmax(dim=0), lambda m: m.LogSoftmax(dim=2),
    lambda m: m.Flatten(), lambda m: m.Flatten(0, 1), lambda m: m.Flatten(start_dim=2),
    lambda m: m.Identity(),
], ids=["relu", "tanh", "sigmoid", "softmax1", "softmax-1", "logsoftmax0", "logsoftmax2",
        "flatten", "flatten01", "flatten2", "identity"])
def test_parameterless_layers_match_pytorch(torch, make):
    check_module(torch, make(nn), make(torch.nn), _with_zeros(3, 4, 5))


def test_softmax_without_dim_uses_pytorch_legacy_choice(torch):
    x = _x(2, 3)
    with pytest.warns(UserWarning, match="implicit dimension"):
        y = nn.Softmax()(tl.tensor(x))
    np.testing.assert_allclose(y._data, torch.softmax(torch.tensor(x), 1).numpy(), atol=ATOL)


def test_functional_activations_gradcheck():
    x = tl.randn(3, 4, dtype=tl.float64, requires_grad=True)
    for fn in (F.tanh, F.sigmoid, lambda t: F.softmax(t, 1), lambda t: F.log_softmax(t, 0)):
        assert gradcheck(fn, (x,))
        assert gradgradcheck(fn, (x,))


def test_softplus_matches_pytorch_including_zero_and_extremes(torch):
    x = np.array([-800.0, -30.0, -1.0, 0.0, 1e-8, 2.0, 19.0, 21.0, 800.0])
    for beta, threshold in ((1.0, 20.0), (2.0, 20.0), (0.5, 5.0)):
        xo = tl.tensor(x, requires_grad=True)
        xt = torch.tensor(x, requires_grad=True)
        yo = F.softplus(xo, beta, threshold)
        yt = torch.nn.functional.softplus(xt, beta, threshold)
        np.testing.assert_allclose(yo._data, yt.detach().numpy(), atol=ATOL, rtol=1e-12)
        yo.sum().backward()
        yt.sum().backward()
        np.testing.assert_allclose(xo.grad._data, xt.grad.numpy(), atol=ATOL, rtol=1e-12)


def test_softplus_gradgradcheck_through_zero():
    x = tl.tensor([-2.0, 0.0, 0.5, 3.0], dtype=tl.float64, requires_grad=True)
    assert gradcheck(F.softplus, (x,))
    assert gradgradcheck(F.softplus, (x,))


# x values including 0 (where leaky_relu and elu switch branch) and large magnitudes (where a
# naively composed elu would overflow in its discarded branch).
_ACT_X = np.array([-40.0, -3.0, -1.0, -0.25, 0.0, 1e-9, 0.3, 1.7, 5.0, 800.0])
_ACTIVATIONS = [
    ("leaky_relu", lambda F, x: F.leaky_relu(x), lambda m: m.LeakyReLU()),
    ("leaky_relu 0.2", lambda F, x: F.leaky_relu(x, 0.2), lambda m: m.LeakyReLU(0.2)),
    ("elu", lambda F, x: F.elu(x), lambda m: m.ELU()),
    ("elu 0.5", lambda F, x: F.elu(x, 0.5), lambda m: m.ELU(alpha=0.5)),
    ("gelu", lambda F, x: F.gelu(x), lambda m: m.GELU()),
    ("gelu tanh", lambda F, x: F.gelu(x, approximate="tanh"), lambda m: m.GELU("tanh")),
    ("silu", lambda F, x: F.silu(x), lambda m: m.SiLU()),
    ("softplus", lambda F, x: F.softplus(x, 2.0), lambda m: m.Softplus(beta=2.0)),
]


@pytest.mark.parametrize("name,fn,module", _ACTIVATIONS, ids=[a[0] for a in _ACTIVATIONS])
def test_activation_matches_pytorch_values_and_gradients(torch, name, fn, module):
    xo = tl.tensor(_ACT_X, requires_grad=True)
    xt = torch.tensor(_ACT_X, requires_grad=True)
    yo, yt = fn(F, xo), fn(torch.nn.functional, xt)
    np.testing.assert_allclose(yo._data, yt.detach().numpy(), rtol=1e-12, atol=ATOL)
    # A weighted sum, so each element's gradient is checked with its own factor.
    w = np.linspace(0.5, 1.5, _ACT_X.size)
    (yo * tl.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(xo.grad._data, xt.grad.numpy(), rtol=1e-12, atol=ATOL)
    assert np.isfinite(xo.grad._data).all()
    # The module form gives the same values as PyTorch's module.
    mo, mt = module(nn), module(torch.nn)
    np.testing.assert_allclose(mo(tl.tensor(_ACT_X))._data,
                               mt(torch.tensor(_ACT_X)).numpy(), rtol=1e-12, atol=ATOL)
    assert repr(mo).split("(")[0] == repr(mt).split("(")[0]


@pytest.mark.parametrize("name,fn,module", _ACTIVATIONS, ids=[a[0] for a in _ACTIVATIONS])
def test_activation_gradcheck_and_gradgradcheck(name, fn, module):
    # Away from 0, where leaky_relu and elu have a kink in the first or second derivative.
    x = tl.tensor([[-2.1, -0.7, 0.4], [1.3, -1.6, 2.8]], dtype=tl.float64, requires_grad=True)
    assert gradcheck(lambda t: fn(F, t), (x,))
    assert gradgradcheck(lambda t: fn(F, t), (x,))


def test_activation_bad_input_is_a_clear_error():
    with pytest.raises(TypeError, match="gelu: input must be a Tensor"):
        F.gelu([1.0, 2.0])
    with pytest.raises(TypeError, match="leaky_relu: input must be a floating-point"):
        F.leaky_relu(tl.tensor([1, 2]))
    with pytest.raises(ValueError, match="gelu: approximate"):
        F.gelu(tl.tensor([1.0]), approximate="sigmoid")
    with pytest.raises(ValueError, match="GELU: approximate"):
        nn.GELU("fast")
    with pytest.raises(ValueError, match="elu: alpha must be a finite number"):
        F.elu(tl.tensor([1.0]), alpha=float("nan"))


def test_one_hot_is_int64_like_pytorch(torch):
    idx = np.array([[0, 2], [1, 0]])
    out = F.one_hot(tl.tensor(idx))
    assert out.dtype == tl.int64
    np.testing.assert_array_equal(out._data, torch.nn.functional.one_hot(torch.tensor(idx)).numpy())
    assert F.one_hot(tl.tensor([1]), num_classes=4).tolist() == [[0, 1, 0, 0]]
    with pytest.raises(IndexError, match="one_hot"):
        F.one_hot(tl.tensor([0, 5]), num_classes=3)
    with pytest.raises(TypeError, match="integer"):
        F.one_hot(tl.tensor([0.0]))


# -- BatchNorm ----------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5)])
@pytest.mark.parametrize("train", [True, False])
def test_batchnorm1d_matches_pytorch(torch, shape, train):
    check_module(torch, nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3), _x(*shape), train=train,
                 steps=3)


@pytest.mark.parametrize("train", [True, False])
def test_batchnorm2d_matches_pytorch(torch, train):
    check_module(torch, nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3), _x(4, 3, 5, 6) * 2 + 1,
                 train=train, steps=3)


@pytest.mark.parametrize("kwargs", [dict(momentum=None), dict(momentum=0.3, eps=1e-3),
                                    dict(affine=False), dict(bias=False),
                                    dict(track_running_stats=False)],
                         ids=["cumulative", "momentum-eps", "no-affine", "no-bias", "no-stats"])
@pytest.mark.parametrize("train", [True, False])
def test_batchnorm_options_match_pytorch(torch, kwargs, train):
    check_module(torch, nn.BatchNorm2d(3, **kwargs), torch.nn.BatchNorm2d(3, **kwargs),
                 _x(4, 3, 2, 3), train=train, steps=3)


def test_batchnorm_train_then_eval_uses_running_statistics(torch):
    ours, theirs = nn.BatchNorm2d(3).double(), torch.nn.BatchNorm2d(3).double()
    for k in range(4):
        x = _x(4, 3, 2, 2, seed=k) * (k + 1)
        ours(tl.tensor(x))
        theirs(torch.tensor(x))
    ours.eval(), theirs.eval()
    x = _x(2, 3, 2, 2, seed=9)
    np.testing.assert_allclose(ours(tl.tensor(x))._data,
                               theirs(torch.tensor(x)).detach().numpy(), atol=ATOL)
    assert ours.num_batches_tracked.item() == 4


def test_batchnorm_defaults_and_buffers():
    m = nn.BatchNorm2d(4)
    assert (m.weight._data == 1).all() and (m.bias._data == 0).all()
    assert (m.running_mean._data == 0).all() and (m.running_var._data == 1).all()
    assert m.num_batches_tracked.dtype == tl.int64 and m.num_batches_tracked.ndim == 0
    assert [n for n, _ in m.named_buffers()] == ["running_mean", "running_var",
                                                 "num_batches_tracked"]
    no_stats = nn.BatchNorm2d(4, track_running_stats=False)
    assert no_stats.running_mean is None and list(no_stats.buffers()) == []


def test_batchnorm_errors():
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected 2D or 3D input \(got 4D"):
        nn.BatchNorm1d(3)(tl.randn(2, 3, 4, 5))
    with pytest.raises(ValueError, match="expected 3 channels"):
        nn.BatchNorm2d(3)(tl.randn(2, 4, 5, 5))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(tl.randn(1, 3))
    nn.BatchNorm1d(3).eval()(tl.randn(1, 3))  # fine in eval mode


def test_batchnorm_does_not_update_statistics_in_eval():
    m = nn.BatchNorm1d(3).eval()
    m(tl.randn(4, 3))
    assert (m.running_mean._data == 0).all() and m.num_batches_tracked.item() == 0


def test_batch_norm_functional_gradcheck():
    x = tl.randn(4, 3, 2, dtype=tl.float64, requires_grad=True)
    w = tl.randn(3, dtype=tl.float64, requires_grad=True)
    b = tl.randn(3, dtype=tl.float64, requires_grad=True)
    rm, rv = tl.randn(3, dtype=tl.float64), tl.rand(3, dtype=tl.float64) + 0.5

    def train(x, w, b):
        return F.batch_norm(x, None, None, w, b, training=True)

    def evaluate(x, w, b):
        return F.batch_norm(x, rm, rv, w, b, training=False)

    for fn in (train, evaluate):
        assert gradcheck(fn, (x, w, b))
        assert gradgradcheck(fn, (x, w, b))


@pytest.mark.parametrize("affine", ["none", "weight", "bias", "both"])
def test_normalisation_functionals_with_partial_affine_match_pytorch(torch, affine):
    x = _x(4, 3, 5)
    w = _x(3, seed=1) if affine in ("weight", "both") else None
    b = _x(3, seed=2) if affine in ("bias", "both") else None
    tf = torch.nn.functional
    cases = [
        (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
         lambda x, w, b: tf.batch_norm(x, None, None, w, b, training=True), w, b),
        (lambda x, w, b: F.layer_norm(x, (3, 5), w, b),
         lambda x, w, b: tf.layer_norm(x, (3, 5), w, b),
         None if w is None else _x(3, 5, seed=1), None if b is None else _x(3, 5, seed=2)),
    ]
    for ours, theirs, w_arr, b_arr in cases:
        args = [a for a in (x, w_arr, b_arr)]
        to = [None if a is None else tl.tensor(a, requires_grad=True) for a in args]
        tt = [None if a is None else torch.tensor(a, requires_grad=True) for a in args]
        yo, yt = ours(*to), theirs(*tt)
        np.testing.assert_allclose(yo._data, yt.detach().numpy(), atol=ATOL)
        g = _x(*yo.shape, seed=3)
        yo.backward(tl.tensor(g))
        yt.backward(torch.tensor(g))
        for a, b_ in zip(to, tt):
            if a is not None:
                np.testing.assert_allclose(a.grad._data, b_.grad.numpy(), atol=ATOL)
        gradgradcheck(ours, tuple(to))


# -- LayerNorm ----------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,kwargs", [
    ((5,), {}), ((4, 5), {}), (5, dict(elementwise_affine=False)), (5, dict(bias=False)),
    ((5,), dict(eps=1e-3)),
], ids=["last", "last-two", "no-affine", "no-bias", "eps"])
def test_layernorm_matches_pytorch(torch, shape, kwargs):
    check_module(torch, nn.LayerNorm(shape, **kwargs), torch.nn.LayerNorm(shape, **kwargs),
                 _x(3, 4, 5))


def test_layernorm_error_names_shapes():
    with pytest.raises(ValueError, match=r"layer_norm: input of shape \(2, 3\).*\(4,\)"):
        nn.LayerNorm(4)(tl.randn(2, 3))


def test_layer_norm_functional_gradcheck():
    x = tl.randn(3, 2, 4, dtype=tl.float64, requires_grad=True)
    w = tl.randn(2, 4, dtype=tl.float64, requires_grad=True)
    b = tl.randn(2, 4, dtype=tl.float64, requires_grad=True)

    def fn(x, w, b):
        return F.layer_norm(x, (2, 4), w, b)

    assert gradcheck(fn, (x, w, b))
    assert gradgradcheck(fn, (x, w, b))


# -- Sequential ---------------------------------------------------------------------------------
@pytest.mark.parametrize("train", [True, False])
def test_sequential_model_matches_pytorch(torch, train):
    def build(m):
        return m.Sequential(m.Linear(6, 8), m.BatchNorm1d(8), m.ReLU(), m.Linear(8, 5),
                            m.Tanh(), m.LayerNorm(5), m.Linear(5, 3), m.LogSoftmax(dim=1))
    check_module(torch, build(nn), build(torch.nn), _x(7, 6), train=train, steps=2)


def test_gradient_penalty_matches_pytorch(torch):
    # d/dtheta |d out / d x|^2 needs second derivatives of every layer.
    def build(m):
        return m.Sequential(m.Linear(3, 4), m.Tanh(), m.LayerNorm(4), m.Linear(4, 2),
                            m.Sigmoid(), m.Linear(2, 1))
    theirs = build(torch.nn).double()
    _randomise(torch, theirs)
    ours = build(nn).double()
    ours.load_state_dict(_state(theirs))
    x = _x(5, 3)
    xo, xt = tl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (go,) = tl.autograd.grad(ours(xo).sum(), xo, create_graph=True)
    (gt,) = torch.autograd.grad(theirs(xt).sum(), xt, create_graph=True)
    (go * go).sum().backward()
    (gt * gt).sum().backward()
    for (name, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        if tp.grad is None:  # the last bias does not affect d out / d x
            assert p.grad is None, name
        else:
            np.testing.assert_allclose(p.grad._data, tp.grad.numpy(), atol=ATOL, err_msg=name)
    np.testing.assert_allclose(xo.grad._data, xt.grad.numpy(), atol=ATOL)


# -- default initialisation ---------------------------------------------------------------------
def test_linear_default_init_is_uniform_one_over_sqrt_fan_in():
    m = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    assert m.weight.dtype == tl.float32
    assert np.abs(m.weight._data).max() <= bound and np.abs(m.bias._data).max() <= bound
    # U(-b, b) has standard deviation b / sqrt(3).
    assert abs(m.weight._data.std() - bound / math.sqrt(3)) < 0.01 * bound
    assert np.abs(m.weight._data).max() > 0.99 * bound


def test_conv_default_init_uses_fan_in_of_the_kernel():
    m = nn.Conv2d(8, 16, 3, groups=2)
    assert m.weight.shape == (16, 4, 3, 3) and m.bias.shape == (16,)
    bound = 1 / math.sqrt(4 * 9)
    assert np.abs(m.weight._data).max() <= bound and np.abs(m.bias._data).max() <= bound
    assert np.abs(m.weight._data).max() > 0.9 * bound


def test_embedding_default_init_is_standard_normal_with_zero_padding_row():
    m = nn.Embedding(1000, 50, padding_idx=-1)
    assert m.padding_idx == 999
    assert (m.weight._data[999] == 0).all()
    w = m.weight._data[:999]
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02


def test_layernorm_default_init():
    m = nn.LayerNorm((2, 3))
    assert m.weight.shape == (2, 3) and (m.weight._data == 1).all() and (m.bias._data == 0).all()


def test_init_is_reproducible_under_manual_seed_and_dtype_independent():
    tl.manual_seed(5)
    a = nn.Linear(5, 4)
    tl.manual_seed(5)
    b = nn.Linear(5, 4, dtype=tl.float64)
    assert b.weight.dtype == tl.float64
    np.testing.assert_array_equal(a.weight._data, b.weight._data.astype(np.float32))


def test_calculate_gain_matches_pytorch(torch):
    for name, param in [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                        ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
                        ("selu", None)]:
        assert nn.init.calculate_gain(name, param) == pytest.approx(
            torch.nn.init.calculate_gain(name, param))
    with pytest.raises(ValueError, match="unsupported"):
        nn.init.calculate_gain("swish")


@pytest.mark.parametrize("shape", [(3, 4), (5, 2, 3, 3), (2, 3, 4)])
def test_fans_match_pytorch(torch, shape):
    assert nn.init._calculate_fan_in_and_fan_out(tl.zeros(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))


def test_fans_need_two_dims():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.xavier_uniform_(tl.zeros(3))


def test_xavier_and_kaiming_scales():
    t = tl.zeros(200, 300, dtype=tl.float64)
    nn.init.xavier_uniform_(t, gain=2.0)
    assert np.abs(t._data).max() <= 2.0 * math.sqrt(6 / 500)
    nn.init.xavier_normal_(t)
    assert abs(t._data.std() - math.sqrt(2 / 500)) < 0.02 * math.sqrt(2 / 500)
    nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu")
    assert abs(t._data.std() - math.sqrt(2 / 200)) < 0.02 * math.sqrt(2 / 200)
    nn.init.kaiming_uniform_(t, nonlinearity="relu")
    assert np.abs(t._data).max() <= math.sqrt(2) * math.sqrt(3 / 300)
    with pytest.raises(ValueError, match="mode"):
        nn.init.kaiming_uniform_(t, mode="fan_middle")


def test_simple_initialisers_fill_in_place_and_return_the_tensor():
    p = nn.Parameter(tl.zeros(3, 3))
    version = p._version[0]
    assert nn.init.constant_(p, 2.5) is p and (p._data == 2.5).all()
    assert p._version[0] > version
    nn.init.ones_(p)
    assert (p._data == 1).all()
    nn.init.zeros_(p)
    assert (p._data == 0).all()
    nn.init.eye_(p)
    np.testing.assert_array_equal(p._data, np.eye(3))
    nn.init.uniform_(p, -0.1, 0.1)
    assert np.abs(p._data).max() <= 0.1
    nn.init.normal_(p, 5.0, 1e-3)
    assert np.abs(p._data - 5).max() < 0.01
    assert p.grad is None and p.requires_grad


def test_trunc_normal_stays_in_range():
    t = tl.zeros(1000, dtype=tl.float64)
    nn.init.trunc_normal_(t, mean=0.0, std=1.0, a=-0.5, b=1.0)
    assert t._data.min() >= -0.5 and t._data.max() <= 1.0 and t._data.std() > 0.2


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 2, 2)])
def test_orthogonal_gives_orthonormal_rows_or_columns(shape):
    t = tl.zeros(*shape, dtype=tl.float64)
    nn.init.orthogonal_(t, gain=2.0)
    flat = t._data.reshape(shape[0], -1) / 2.0
    small = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
    np.testing.assert_allclose(small, np.eye(min(flat.shape)), atol=1e-12)


def test_initialising_an_empty_tensor_is_a_no_op():
    t = tl.zeros(0, 3)
    assert nn.init.kaiming_uniform_(t) is t and nn.init.xavier_normal_(t) is t
