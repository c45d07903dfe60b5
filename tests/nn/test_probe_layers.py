"""Regression tests from a probe review of nn against PyTorch: dilated max pooling and
return_indices, channel dropout, empty training batches in BatchNorm, the legacy loss
flags, container methods (pop, +, *, named setitem, atomic insert/extend/update), state
dicts from PyTorch tensors that require grad, clip_grad_norm_ on a NaN norm, reprs, and
clear errors for non-Tensor inputs. Values are compared with PyTorch in float64."""
import warnings
from collections import OrderedDict

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


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _state(module):
    return {k: v.detach().numpy() for k, v in module.state_dict().items()}


def _run_both(torch, ours, theirs, x):
    """Forward and backward (same random upstream gradient) through both; return
    (ours output, theirs output, ours input grad, theirs input grad)."""
    xo, xt = tl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    first_o = yo[0] if isinstance(yo, tuple) else yo
    first_t = yt[0] if isinstance(yt, tuple) else yt
    g = _x(*first_o.shape, seed=3)
    first_o.backward(tl.tensor(g))
    first_t.backward(torch.tensor(g))
    return yo, yt, xo.grad._data, xt.grad.numpy()


# -- MaxPool2d: dilation and return_indices ---------------------------------------------------
@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=3, stride=1, dilation=2),
    dict(kernel_size=(2, 3), stride=(2, 1), dilation=(3, 1), padding=(1, 1), ceil_mode=True),
    dict(kernel_size=3, stride=2, dilation=2, ceil_mode=True),
    dict(kernel_size=3, stride=1, dilation=2, padding=1),
], ids=["d2", "rect-ceil-pad", "ceil", "pad"])
@pytest.mark.parametrize("shape", [(2, 3, 7, 8), (3, 7, 8)], ids=["batched", "unbatched"])
def test_dilated_max_pool_matches_pytorch(torch, kwargs, shape):
    x = _x(*shape)
    yo, yt, go, gt = _run_both(torch, nn.MaxPool2d(**kwargs), torch.nn.MaxPool2d(**kwargs), x)
    assert yo.shape == tuple(yt.shape)
    np.testing.assert_allclose(yo._data, yt.detach().numpy(), atol=ATOL, rtol=0)
    np.testing.assert_allclose(go, gt, atol=ATOL, rtol=0)


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, ceil_mode=True), dict(kernel_size=3, dilation=2, padding=1),
], ids=["k2", "pad", "ceil", "dilated"])
@pytest.mark.parametrize("shape", [(2, 3, 7, 8), (3, 7, 8)], ids=["batched", "unbatched"])
def test_max_pool_return_indices_match_pytorch_with_ties(torch, kwargs, shape):
    x = np.maximum(_x(*shape), 0.0)   # after a ReLU: windows full of tied zeros
    x[..., :3, :3] = 0.0
    ours = nn.MaxPool2d(return_indices=True, **kwargs)
    theirs = torch.nn.MaxPool2d(return_indices=True, **kwargs)
    (yo, io), (yt, it), go, gt = _run_both(torch, ours, theirs, x)
    assert io.dtype == tl.int64 and io.shape == tuple(it.shape)
    np.testing.assert_array_equal(io._data, it.numpy())
    np.testing.assert_allclose(yo._data, yt.detach().numpy(), atol=ATOL, rtol=0)
    # The gradient goes to the first maximum of each window, as in PyTorch.
    np.testing.assert_allclose(go, gt, atol=ATOL, rtol=0)


def test_dilated_max_pool_gradcheck_and_gradgradcheck():
    x = tl.tensor(_x(1, 2, 6, 6), requires_grad=True)

    def fn(t):
        return F.max_pool2d(t, 3, 1, 1, dilation=2)

    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_dilated_max_pool_errors_name_the_op():
    with pytest.raises(ValueError, match="max_pool2d: dilation must be >= 1"):
        nn.MaxPool2d(2, dilation=0)(tl.zeros(1, 1, 4, 4))
    with pytest.raises(ValueError, match=r"max_pool2d: the dilated kernel \(7, 7\) is larger"):
        nn.MaxPool2d(3, dilation=3)(tl.zeros(1, 1, 4, 4))
    with pytest.raises(ValueError, match="max_pool2d: padding"):
        nn.MaxPool2d(2, dilation=3, padding=2)(tl.zeros(1, 1, 8, 8))
    with pytest.raises(ValueError, match="max_pool2d: expected a 3-D"):
        nn.MaxPool2d(2, return_indices=True)(tl.zeros(4, 4))


# -- Dropout1d / Dropout2d --------------------------------------------------------------------
def test_dropout2d_zeroes_whole_channels_and_rescales():
    tl.manual_seed(0)
    x = tl.tensor(_x(50, 40, 3, 3), requires_grad=True)
    y = nn.Dropout2d(0.3)(x)
    out = y._data.reshape(50, 40, 9)
    dropped = (out == 0).all(-1)
    assert ((out == 0).all(-1) | (out != 0).all(-1)).all()   # a channel goes or stays whole
    assert abs(dropped.mean() - 0.3) < 0.03
    np.testing.assert_allclose(out[~dropped], x._data.reshape(50, 40, 9)[~dropped] / 0.7)
    y.sum().backward()
    grad = x.grad._data.reshape(50, 40, 9)
    assert (grad[dropped] == 0).all()
    np.testing.assert_allclose(grad[~dropped], 1 / 0.7)


@pytest.mark.parametrize("shape", [(3, 40, 5), (40, 5)], ids=["batched", "unbatched"])
def test_dropout1d_zeroes_whole_channels(shape):
    tl.manual_seed(1)
    y = nn.Dropout1d(0.5)(tl.tensor(_x(*shape)))._data
    assert ((y == 0).all(-1) | (y != 0).all(-1)).all()
    assert 0 < (y == 0).all(-1).mean() < 1


@pytest.mark.parametrize("cls,shape", [("Dropout1d", (2, 3, 4)), ("Dropout2d", (2, 3, 4, 4))])
def test_channel_dropout_eval_p0_p1_and_repr_match_pytorch(torch, cls, shape):
    x = _x(*shape)
    for module, p in ((getattr(nn, cls)(0.4).eval(), 0.4), (getattr(nn, cls)(0.0), 0.0),
                      (getattr(nn, cls)(1.0), 1.0)):
        theirs = getattr(torch.nn, cls)(p).train(module.training)
        np.testing.assert_array_equal(module(tl.tensor(x))._data,
                                      theirs(torch.tensor(x)).numpy())
    assert repr(getattr(nn, cls)(0.2)) == repr(getattr(torch.nn, cls)(0.2))


def test_channel_dropout_errors():
    with pytest.raises(ValueError, match="Dropout2d: probability"):
        nn.Dropout2d(1.5)
    with pytest.raises(ValueError, match=r"dropout1d: expected a 2-D .* got shape \(3, 4, 2, 2\)"):
        nn.Dropout1d()(tl.zeros(3, 4, 2, 2))
    with pytest.raises(ValueError, match=r"dropout2d: expected a 3-D or 4-D"):
        nn.Dropout2d()(tl.zeros(3, 4))
    with pytest.raises(TypeError, match="dropout2d: input must be a Tensor"):
        F.dropout2d(np.zeros((1, 2, 3, 3)))


# -- BatchNorm on an empty training batch -----------------------------------------------------
@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (0, 3)), ("BatchNorm2d", (2, 3, 0, 4))])
def test_batchnorm_empty_training_batch_matches_pytorch(torch, cls, shape):
    ours, theirs = getattr(nn, cls)(3).double(), getattr(torch.nn, cls)(3).double()
    yo, yt, go, gt = _run_both(torch, ours, theirs, np.zeros(shape))
    assert yo.shape == tuple(yt.shape) == shape and go.shape == shape
    for name, value in _state(theirs).items():   # statistics untouched, counter moved
        np.testing.assert_array_equal(ours.state_dict()[name]._data, value, err_msg=name)
    np.testing.assert_array_equal(ours.weight.grad._data, theirs.weight.grad.numpy())
    np.testing.assert_array_equal(ours.bias.grad._data, theirs.bias.grad.numpy())


def test_batchnorm1d_on_3d_input_with_cumulative_average_matches_pytorch(torch):
    ours = nn.BatchNorm1d(3, momentum=None).double()
    theirs = torch.nn.BatchNorm1d(3, momentum=None).double()
    for k in range(3):
        x = _x(4, 3, 5, seed=k) * (k + 1) + k
        np.testing.assert_allclose(ours(tl.tensor(x))._data,
                                   theirs(torch.tensor(x)).detach().numpy(), atol=ATOL)
    for name, value in _state(theirs).items():
        np.testing.assert_allclose(ours.state_dict()[name]._data, value, atol=ATOL, err_msg=name)


# -- losses: PyTorch's legacy flags and mse_loss(weight=) -------------------------------------
@pytest.mark.filterwarnings("ignore:size_average and reduce")
@pytest.mark.parametrize("size_average,reduce", [(False, None), (None, False), (True, True),
                                                 (False, True)])
def test_legacy_size_average_and_reduce_match_pytorch(torch, size_average, reduce):
    x, t = _x(4, 3), np.array([0, 1, 2, 1])
    kw = dict(size_average=size_average, reduce=reduce)
    pairs = [
        (nn.CrossEntropyLoss(**kw)(tl.tensor(x), tl.tensor(t)),
         torch.nn.CrossEntropyLoss(**kw)(torch.tensor(x), torch.tensor(t))),
        (F.nll_loss(tl.tensor(x), tl.tensor(t), **kw),
         torch.nn.functional.nll_loss(torch.tensor(x), torch.tensor(t), **kw)),
        (nn.MSELoss(**kw)(tl.tensor(x), tl.tensor(2 * x)),
         torch.nn.MSELoss(**kw)(torch.tensor(x), torch.tensor(2 * x))),
        (nn.BCEWithLogitsLoss(**kw)(tl.tensor(x), tl.tensor(np.abs(x) / 3)),
         torch.nn.BCEWithLogitsLoss(**kw)(torch.tensor(x), torch.tensor(np.abs(x) / 3))),
    ]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours._data, theirs.numpy(), atol=ATOL)


def test_legacy_loss_flags_warn_like_pytorch():
    with pytest.warns(UserWarning, match="reduction='sum'"):
        nn.MSELoss(size_average=False)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_weight_matches_pytorch(torch, reduction):
    x, t, w = _x(4, 3), _x(4, 3, seed=1), np.abs(_x(4, 3, seed=2))
    xo, xt = tl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    lo = F.mse_loss(xo, tl.tensor(t), reduction=reduction, weight=tl.tensor(w))
    lt = torch.nn.functional.mse_loss(xt, torch.tensor(t), reduction=reduction,
                                      weight=torch.tensor(w))
    np.testing.assert_allclose(lo._data, lt.detach().numpy(), atol=ATOL)
    lo.sum().backward()
    lt.sum().backward()
    np.testing.assert_allclose(xo.grad._data, xt.grad.numpy(), atol=ATOL)
    with pytest.raises(ValueError, match=r"mse_loss: weight of shape \(3,\)"):
        F.mse_loss(xo, tl.tensor(t), weight=tl.ones(3))


# -- state dicts ------------------------------------------------------------------------------
def test_load_state_dict_accepts_pytorch_tensors_that_require_grad(torch):
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4)).double()
    ours = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).double()
    ours.load_state_dict(theirs.state_dict(keep_vars=True))
    ours.load_state_dict(dict(theirs.named_parameters()), strict=False)
    x = _x(5, 3)
    np.testing.assert_allclose(ours(tl.tensor(x))._data,
                               theirs(torch.tensor(x)).detach().numpy(), atol=ATOL)


def test_strict_load_lists_missing_keys_before_unexpected_like_pytorch(torch):
    sd = {k: v for k, v in _state(torch.nn.Linear(2, 3)).items() if k != "bias"}
    sd["extra"] = np.zeros(1)
    with pytest.raises(RuntimeError) as ours:
        nn.Linear(2, 3).load_state_dict(sd)
    with pytest.raises(RuntimeError) as theirs:
        torch.nn.Linear(2, 3).load_state_dict({k: torch.tensor(v) for k, v in sd.items()})
    for msg in (str(ours.value), str(theirs.value)):
        assert 'Missing key(s) in state_dict: "bias"' in msg
        assert msg.index("Missing") < msg.index('Unexpected key(s) in state_dict: "extra"')


# -- containers -------------------------------------------------------------------------------
def test_sequential_pop_add_and_multiply_match_pytorch(torch):
    def pair():
        return (nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)),
                torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(),
                                    torch.nn.Linear(3, 1)))
    ours, theirs = pair()
    assert repr(ours.pop(1)) == repr(theirs.pop(1))
    assert repr(ours) == repr(theirs) and len(ours) == 2
    ours, theirs = pair()
    assert repr(ours + ours[:1]) == repr(theirs + theirs[:1])
    doubled = ours * 2
    assert repr(doubled) == repr(theirs * 2) == repr(2 * theirs) == repr(2 * ours)
    assert doubled[0] is doubled[3]   # repeated, not copied (shared parameters), as PyTorch
    assert list(doubled.state_dict()) == list((theirs * 2).state_dict())
    ours *= 2
    theirs *= 2
    assert repr(ours) == repr(theirs)
    with pytest.raises(ValueError, match="Sequential"):
        ours * 0
    with pytest.raises(ValueError, match="Sequential"):
        ours + nn.ModuleList([nn.ReLU()])


def test_module_list_pop_matches_pytorch(torch):
    ours = nn.ModuleList([nn.Linear(1, 1), nn.ReLU(), nn.Tanh()])
    theirs = torch.nn.ModuleList([torch.nn.Linear(1, 1), torch.nn.ReLU(), torch.nn.Tanh()])
    assert repr(ours.pop(0)) == repr(theirs.pop(0))
    assert repr(ours.pop(-1)) == repr(theirs.pop(-1))
    assert repr(ours) == repr(theirs)


def test_setitem_on_a_named_sequential_keeps_the_name(torch):
    ours = nn.Sequential(OrderedDict(fc=nn.Linear(2, 2), act=nn.ReLU()))
    theirs = torch.nn.Sequential(OrderedDict(fc=torch.nn.Linear(2, 2), act=torch.nn.ReLU()))
    ours[0] = nn.Linear(2, 3)
    theirs[0] = torch.nn.Linear(2, 3)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["fc.weight", "fc.bias"]
    assert ours.fc.out_features == 3 and len(ours) == 2


def test_bad_insert_extend_or_update_leaves_the_container_unchanged():
    seq = nn.Sequential(nn.ReLU(), nn.Tanh())
    with pytest.raises(IndexError, match="Sequential.insert: index 5 is out of range"):
        seq.insert(5, nn.ReLU())
    with pytest.raises(TypeError, match="int is not a Module subclass"):
        seq.insert(0, 3)
    assert [type(m).__name__ for m in seq] == ["ReLU", "Tanh"]
    ml = nn.ModuleList([nn.ReLU()])
    with pytest.raises(TypeError, match="ModuleList: int is not a Module subclass"):
        ml.extend([nn.Tanh(), 3])
    assert len(ml) == 1
    md = nn.ModuleDict({"a": nn.ReLU()})
    with pytest.raises(ValueError, match="element #1 has length 3; 2 is required"):
        md.update([("b", nn.Tanh()), ("c", nn.ReLU(), 1)])
    with pytest.raises(TypeError, match="element #0 should be a"):
        md.update([3])
    assert list(md.keys()) == ["a"]


# -- reprs, clipping, non-Tensor inputs -------------------------------------------------------
def test_embedding_repr_shows_a_non_default_norm_type(torch):
    kw = dict(padding_idx=1, max_norm=0.5, norm_type=1.0)
    assert repr(nn.Embedding(5, 3, **kw)) == repr(torch.nn.Embedding(5, 3, **kw))


def test_clip_grad_norm_of_a_nan_norm_spreads_nan_like_pytorch(torch):
    g = np.array([np.nan, 1.0, 2.0])
    p = nn.Parameter(tl.zeros(3, dtype=tl.float64))
    p.grad = tl.tensor(g)
    pt = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    pt.grad = torch.tensor(g)
    total = nn.utils.clip_grad_norm_([p], 1.0, foreach=None)
    total_t = torch.nn.utils.clip_grad_norm_([pt], 1.0)
    assert np.isnan(total.item()) and np.isnan(total_t.item())
    np.testing.assert_array_equal(np.isnan(p.grad._data), np.isnan(pt.grad.numpy()))
    assert np.isnan(p.grad._data).all()


@pytest.mark.parametrize("module,op", [(nn.ReLU(), "relu"), (nn.Tanh(), "tanh"),
                                       (nn.Sigmoid(), "sigmoid"), (nn.Softmax(1), "softmax"),
                                       (nn.LogSoftmax(1), "log_softmax"),
                                       (nn.Flatten(), "flatten")])
def test_layers_given_a_numpy_array_name_the_op(module, op):
    with pytest.raises(TypeError, match=f"{op}: input must be a Tensor, got ndarray"):
        module(np.ones((2, 3)))


def test_relu_still_accepts_tensors_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert nn.ReLU()(tl.tensor([-1.0, 2.0])).tolist() == [0.0, 2.0]


# -- forward hooks: prepend and with_kwargs ---------------------------------------------------
def test_forward_hooks_prepend_and_with_kwargs_follow_pytorch(torch):
    class Scale(torch.nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    class OurScale(nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    results = []
    for lib, mod in ((tl, OurScale()), (torch, Scale())):
        calls = []
        mod.register_forward_pre_hook(lambda m, a: calls.append("pre"))
        mod.register_forward_pre_hook(lambda m, a: calls.append("pre-first"), prepend=True)
        # a with_kwargs pre-hook may replace the keyword arguments
        mod.register_forward_pre_hook(lambda m, a, kw: (a, {"factor": kw["factor"] * 10}),
                                      with_kwargs=True)
        mod.register_forward_hook(lambda m, a, kw, out: out + kw["factor"], with_kwargs=True)
        out = mod(lib.tensor([1.0, 2.0], dtype=lib.float64), factor=2.0)
        results.append((calls, out.tolist()))
    assert results[0] == results[1] == (["pre-first", "pre"], [40.0, 60.0])
    with pytest.raises(RuntimeError, match="forward pre-hook must return None or a tuple"):
        bad = OurScale()
        bad.register_forward_pre_hook(lambda m, a, kw: a, with_kwargs=True)
        bad(tl.tensor([1.0]), factor=1.0)
