"""Layers backed by numba kernels (Conv2d, ConvTranspose2d, pools, Embedding, Dropout,
CrossEntropyLoss, NLLLoss): parity with PyTorch in float64 via load_state_dict."""
import math

import numpy as np
import pytest

pytest.importorskip("tensorlite.ops.conv")
pytest.importorskip("tensorlite.ops.pool")
pytest.importorskip("tensorlite.ops.embedding")
pytest.importorskip("tensorlite.ops.loss")
pytest.importorskip("tensorlite.ops.dropout")

import nn  # noqa: E402
import nn.functional as F  # noqa: E402
import tensorlite as tl  # noqa: E402

ATOL = 1e-10


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _state(module):
    return {k: v.detach().numpy() for k, v in module.state_dict().items()}


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def check_module(torch, ours, theirs, x, train=True):
    """Same float64 weights and input: compare output, input gradient, parameter gradients."""
    theirs = theirs.double().train(train)
    ours = ours.double().train(train)
    ours.load_state_dict(_state(theirs))
    xo, xt = tl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    assert yo.shape == tuple(yt.shape)
    np.testing.assert_allclose(yo._data, yt.detach().numpy(), atol=ATOL, rtol=0)
    g = _x(*yo.shape, seed=1)
    yo.backward(tl.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xo.grad._data, xt.grad.numpy(), atol=ATOL, rtol=0)
    for (name, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad._data, tp.grad.numpy(), atol=ATOL, rtol=0,
                                   err_msg=name)
    for name, value in _state(theirs).items():
        np.testing.assert_allclose(ours.state_dict()[name]._data, value, atol=ATOL, err_msg=name)


# -- convolution ---------------------------------------------------------------------------------
@pytest.mark.parametrize("args,kwargs", [
    ((3, 4, 3), dict(padding=1)),
    ((3, 4, 3), dict(stride=2, dilation=2, padding=2)),
    ((4, 6, (2, 3)), dict(stride=(2, 1), padding=(1, 0), groups=2)),
    ((3, 2, 1), dict(bias=False)),
    ((3, 4, 3), dict(padding="same")),
    ((3, 4, 4), dict(padding="same")),
    ((3, 4, 3), dict(padding="same", dilation=2)),
    ((3, 4, 3), dict(padding="valid")),
], ids=["pad1", "stride-dilation", "groups-rect", "1x1-nobias", "same-odd", "same-even",
        "same-dilated", "valid"])
@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_conv2d_matches_pytorch(torch, args, kwargs):
    c = args[0]
    check_module(torch, nn.Conv2d(*args, **kwargs), torch.nn.Conv2d(*args, **kwargs),
                 _x(2, c, 7, 8))


def test_conv2d_parameter_shapes():
    m = nn.Conv2d(4, 6, (2, 3), groups=2)
    assert [(n, p.shape) for n, p in m.named_parameters()] == [("weight", (6, 2, 2, 3)),
                                                               ("bias", (6,))]


def test_conv2d_flipped_kernel_is_the_lecture_convolution(torch):
    # True convolution = cross-correlation with the kernel flipped in both spatial dims.
    x, w = _x(1, 1, 5, 5), _x(1, 1, 3, 3, seed=1)
    ours = F.conv2d(tl.tensor(x), tl.tensor(w).flip((-2, -1)))
    expected = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            expected[i, j] = sum(x[0, 0, i + 2 - a, j + 2 - b] * w[0, 0, a, b]
                                 for a in range(3) for b in range(3))
    np.testing.assert_allclose(ours._data[0, 0], expected, atol=1e-12)


@pytest.mark.parametrize("kwargs", [dict(), dict(stride=2, padding=1, output_padding=1),
                                    dict(groups=2, bias=False, dilation=2)])
def test_conv_transpose2d_matches_pytorch(torch, kwargs):
    check_module(torch, nn.ConvTranspose2d(4, 6, 3, **kwargs),
                 torch.nn.ConvTranspose2d(4, 6, 3, **kwargs), _x(2, 4, 5, 4))


def test_conv_transpose2d_default_init_matches_pytorch_bounds():
    m = nn.ConvTranspose2d(4, 6, 3)
    assert m.weight.shape == (4, 6, 3, 3)
    bound = 1 / math.sqrt(6 * 9)  # PyTorch computes fan_in from weight dim 1
    assert np.abs(m.weight._data).max() <= bound and np.abs(m.bias._data).max() <= bound


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("kwargs", [
    {"padding": 1}, {"padding": (2, 1), "stride": 2}, {"padding": "same"},
    {"padding": "same", "dilation": 2}, {"padding": 1, "groups": 2}, {"padding": "valid"},
], ids=["p1", "p21-s2", "same", "same-d2", "groups", "valid"])
def test_conv2d_padding_modes_match_pytorch(torch, mode, kwargs):
    k = 4 if kwargs.get("padding") == "same" and "dilation" not in kwargs else 3
    ours = nn.Conv2d(4, 6, k, padding_mode=mode, **kwargs)
    theirs = torch.nn.Conv2d(4, 6, k, padding_mode=mode, **kwargs)
    check_module(torch, ours, theirs, _x(2, 4, 7, 6))
    assert f"padding_mode={mode}" in repr(ours)


def test_conv2d_padding_mode_is_checked():
    with pytest.raises(ValueError, match="Conv2d: padding_mode must be one of"):
        nn.Conv2d(1, 1, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="ConvTranspose2d: padding_mode must be one of 'zeros'"):
        nn.ConvTranspose2d(1, 1, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="reflect padding \\(3, 3\\) of dim 3 must be smaller"):
        nn.Conv2d(1, 1, 3, padding=3, padding_mode="reflect")(tl.randn(1, 1, 3, 3))


def test_conv2d_error_names_channels():
    with pytest.raises(ValueError, match="conv2d: input has 2 channels"):
        nn.Conv2d(3, 4, 3)(tl.randn(1, 2, 5, 5))


# -- pooling -------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda m: m.MaxPool2d(2), lambda m: m.MaxPool2d(3, stride=2, padding=1),
    lambda m: m.MaxPool2d((2, 3), stride=(1, 2)), lambda m: m.AvgPool2d(2),
    lambda m: m.AvgPool2d(3, stride=2, padding=1), lambda m: m.AdaptiveAvgPool2d(1),
    lambda m: m.AdaptiveAvgPool2d((3, 2)), lambda m: m.AdaptiveAvgPool2d((None, 2)),
], ids=["max2", "max3s2p1", "max-rect", "avg2", "avg3s2p1", "adaptive1", "adaptive32",
        "adaptive-none"])
def test_pooling_matches_pytorch(torch, make):
    check_module(torch, make(nn), make(torch.nn), _x(2, 3, 7, 6))


# -- embedding -----------------------------------------------------------------------------------
def test_embedding_matches_pytorch_with_padding_idx(torch):
    theirs = torch.nn.Embedding(10, 4, padding_idx=2).double()
    ours = nn.Embedding(10, 4, padding_idx=2).double()
    ours.load_state_dict(_state(theirs))
    idx = np.array([[1, 2, 3, 1], [2, 9, 0, 1]])
    yo, yt = ours(tl.tensor(idx)), theirs(torch.tensor(idx))
    np.testing.assert_allclose(yo._data, yt.detach().numpy(), atol=ATOL)
    g = _x(2, 4, 4, seed=3)
    yo.backward(tl.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(ours.weight.grad._data, theirs.weight.grad.numpy(), atol=ATOL)
    assert not ours.weight.grad._data[2].any()  # the padding row gets no gradient


def test_embedding_max_norm_renormalises_like_pytorch(torch):
    theirs = torch.nn.Embedding(6, 3, max_norm=1.0).double()
    ours = nn.Embedding(6, 3, max_norm=1.0).double()
    ours.load_state_dict(_state(theirs))
    idx = np.array([0, 3, 3, 5])
    np.testing.assert_allclose(ours(tl.tensor(idx))._data,
                               theirs(torch.tensor(idx)).detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(ours.weight._data, theirs.weight.detach().numpy(), atol=1e-12)


def test_embedding_from_pretrained_is_frozen_by_default():
    w = tl.randn(5, 2)
    m = nn.Embedding.from_pretrained(w)
    assert not m.weight.requires_grad and m.weight.shape == (5, 2)
    np.testing.assert_array_equal(m(tl.tensor([4]))._data, w._data[[4]])
    assert nn.Embedding.from_pretrained(w, freeze=False).weight.requires_grad


def test_embedding_rejects_out_of_range_indices():
    with pytest.raises(IndexError, match="out of range"):
        nn.Embedding(3, 2)(tl.tensor([3]))


# -- dropout -------------------------------------------------------------------------------------
def test_dropout_in_training_zeroes_and_rescales():
    tl.manual_seed(0)
    x = tl.ones(200, 100, requires_grad=True)
    y = nn.Dropout(0.3)(x)
    kept = y._data != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y._data[kept], 1 / 0.7, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad._data, y._data, rtol=1e-6)  # gradient = mask / (1 - p)


def test_dropout_is_identity_in_eval_and_for_p_zero():
    x = tl.randn(3, 4)
    assert nn.Dropout(0.5).eval()(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert not nn.Dropout(1.0)(x)._data.any()
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_functional_dropout_respects_training_flag():
    x = tl.randn(3, 4)
    assert F.dropout(x, 0.5, training=False) is x


# -- classification losses -----------------------------------------------------------------------
def _compare_loss(torch, ours_loss, theirs_loss, x, target):
    xo, xt = tl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    lo, lt = ours_loss(xo, tl.tensor(target)), theirs_loss(xt, torch.tensor(target))
    np.testing.assert_allclose(lo._data, lt.detach().numpy(), atol=ATOL, rtol=1e-12)
    g = _x(*lo.shape, seed=5)
    lo.backward(tl.tensor(g))
    lt.backward(torch.tensor(g))
    np.testing.assert_allclose(xo.grad._data, xt.grad.numpy(), atol=ATOL, rtol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("kwargs", [dict(), dict(ignore_index=1), dict(label_smoothing=0.2),
                                    dict(weight=True), dict(weight=True, ignore_index=0,
                                                            label_smoothing=0.1)],
                         ids=["plain", "ignore", "smoothing", "weight", "all"])
def test_cross_entropy_loss_matches_pytorch(torch, reduction, kwargs):
    kwargs = dict(kwargs)
    w = np.array([0.5, 2.0, 1.0, 1.5])
    if kwargs.pop("weight", False):
        ours = nn.CrossEntropyLoss(weight=tl.tensor(w), reduction=reduction, **kwargs)
        theirs = torch.nn.CrossEntropyLoss(weight=torch.tensor(w), reduction=reduction, **kwargs)
    else:
        ours = nn.CrossEntropyLoss(reduction=reduction, **kwargs)
        theirs = torch.nn.CrossEntropyLoss(reduction=reduction, **kwargs)
    target = np.array([0, 1, 3, 1, 2, 0])
    _compare_loss(torch, ours, theirs, _x(6, 4), target)
    spatial = np.random.default_rng(2).integers(0, 4, size=(2, 3, 2))
    _compare_loss(torch, ours, theirs, _x(2, 4, 3, 2), spatial)


def test_cross_entropy_with_probability_targets_matches_pytorch(torch):
    p = np.random.default_rng(3).random((5, 4))
    p /= p.sum(1, keepdims=True)
    _compare_loss(torch, nn.CrossEntropyLoss(label_smoothing=0.1),
                  torch.nn.CrossEntropyLoss(label_smoothing=0.1), _x(5, 4), p)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss_matches_pytorch(torch, reduction, weighted):
    w = np.array([0.5, 2.0, 1.0])
    ours = nn.NLLLoss(weight=tl.tensor(w) if weighted else None, ignore_index=2,
                      reduction=reduction)
    theirs = torch.nn.NLLLoss(weight=torch.tensor(w) if weighted else None, ignore_index=2,
                              reduction=reduction)
    logp = np.log(np.random.default_rng(4).dirichlet(np.ones(3), size=6))
    _compare_loss(torch, ours, theirs, logp, np.array([0, 1, 2, 2, 1, 0]))


# -- a whole network ------------------------------------------------------------------------------
def _lenet(m):
    return m.Sequential(
        m.Conv2d(1, 4, 5, padding=2), m.BatchNorm2d(4), m.ReLU(), m.MaxPool2d(2),
        m.Conv2d(4, 6, 3), m.Tanh(), m.AvgPool2d(2), m.Flatten(), m.Linear(6 * 2 * 2, 10),
        m.ReLU(), m.Linear(10, 3))


@pytest.mark.parametrize("train", [True, False])
def test_small_cnn_loaded_from_pytorch_gives_same_outputs_and_gradients(torch, train):
    theirs = _lenet(torch.nn)
    with torch.no_grad():
        for b in theirs.buffers():
            if b.dtype.is_floating_point:
                b.uniform_(0.5, 1.5)
    check_module(torch, _lenet(nn), theirs, _x(3, 1, 12, 12), train=train)


def test_small_cnn_cross_entropy_training_step_matches_pytorch(torch):
    theirs = _lenet(torch.nn).double()
    ours = _lenet(nn).double()
    ours.load_state_dict(_state(theirs))
    x, y = _x(4, 1, 12, 12), np.array([0, 2, 1, 2])
    lo = F.cross_entropy(ours(tl.tensor(x)), tl.tensor(y))
    lt = torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y))
    lo.backward()
    lt.backward()
    assert abs(lo.item() - lt.item()) < ATOL
    for (name, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad._data, tp.grad.numpy(), atol=ATOL, err_msg=name)
