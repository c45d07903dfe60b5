"""MSELoss and BCEWithLogitsLoss: parity with PyTorch in float64 for every reduction
(value, gradients w.r.t. input and target), stability at extreme logits, gradient checks,
and the loss modules' buffers."""
import numpy as np
import pytest

import nn
import nn.functional as F
import tensorlite as tl
from tensorlite.testing import gradcheck, gradgradcheck

ATOL = 1e-10
REDUCTIONS = ["mean", "sum", "none"]


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _rng(seed=0):
    return np.random.default_rng(seed)


def compare_loss(torch, ours_fn, theirs_fn, arrays, grad_of=(0, 1), consts=()):
    """Value and gradients (w.r.t. the arrays listed in ``grad_of``) of both losses."""
    ours = [tl.tensor(a, requires_grad=k in grad_of) for k, a in enumerate(arrays)]
    theirs = [torch.tensor(a, requires_grad=k in grad_of) for k, a in enumerate(arrays)]
    lo, lt = ours_fn(*ours), theirs_fn(*theirs)
    assert lo.shape == tuple(lt.shape)
    np.testing.assert_allclose(lo._data, lt.detach().numpy(), atol=ATOL, rtol=1e-12)
    g = _rng(7).standard_normal(lo.shape)
    lo.backward(tl.tensor(g))
    lt.backward(torch.tensor(g))
    for k in grad_of:
        np.testing.assert_allclose(ours[k].grad._data, theirs[k].grad.numpy(), atol=ATOL,
                                   rtol=1e-12, err_msg=f"gradient of argument {k}")


# -- MSE ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_loss_matches_pytorch(torch, reduction):
    x, y = _rng().standard_normal((4, 3)), _rng(1).standard_normal((4, 3))
    compare_loss(torch, nn.MSELoss(reduction=reduction),
                 torch.nn.MSELoss(reduction=reduction), [x, y])


def test_mse_loss_functional_default_is_mean():
    x, y = tl.tensor([1.0, 2.0]), tl.tensor([0.0, 0.0])
    assert F.mse_loss(x, y).item() == pytest.approx(2.5)


def test_mse_loss_warns_when_broadcasting():
    with pytest.warns(UserWarning, match="broadcast"):
        F.mse_loss(tl.zeros(3, 1), tl.zeros(3))


def test_mse_loss_gradgradcheck():
    x = tl.randn(3, 2, dtype=tl.float64, requires_grad=True)
    y = tl.randn(3, 2, dtype=tl.float64, requires_grad=True)
    assert gradcheck(F.mse_loss, (x, y))
    assert gradgradcheck(F.mse_loss, (x, y))


# -- BCE with logits ---------------------------------------------------------------------------
def _bce_data(shape=(5, 4)):
    x = _rng().standard_normal(shape) * 4
    x.flat[0] = 0.0   # exactly 0: where a composed relu/abs form gets the gradient wrong
    y = _rng(1).random(shape)
    return x, y


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_matches_pytorch(torch, reduction):
    compare_loss(torch, nn.BCEWithLogitsLoss(reduction=reduction),
                 torch.nn.BCEWithLogitsLoss(reduction=reduction), list(_bce_data()))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_weight_and_pos_weight_match_pytorch(torch, reduction):
    x, y = _bce_data()
    w = _rng(2).random(4) + 0.5
    pw = _rng(3).random(4) * 3

    def ours(x, y, w, pw):
        return F.binary_cross_entropy_with_logits(x, y, w, reduction=reduction, pos_weight=pw)

    def theirs(x, y, w, pw):
        return torch.nn.functional.binary_cross_entropy_with_logits(x, y, w, reduction=reduction,
                                                                    pos_weight=pw)
    compare_loss(torch, ours, theirs, [x, y, w, pw], grad_of=(0, 1))  # torch: no grad for w, pw


def test_bce_with_logits_module_buffers_match_pytorch(torch):
    x, y = _bce_data((3, 2))
    pw = np.array([2.0, 0.5])
    ours = nn.BCEWithLogitsLoss(pos_weight=tl.tensor(pw))
    theirs = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pw))
    compare_loss(torch, ours, theirs, [x, y])
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["pos_weight"]


def test_bce_with_logits_is_stable_at_extreme_logits(torch):
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    y = np.array([1.0, 0.0, 0.5, 1.0, 0.0])
    compare_loss(torch, lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction="none"),
                 lambda a, b: torch.nn.functional.binary_cross_entropy_with_logits(
                     a, b, reduction="none"), [x, y])
    loss = F.binary_cross_entropy_with_logits(tl.tensor(x, dtype=tl.float32),
                                              tl.tensor(y, dtype=tl.float32), reduction="none")
    assert np.isfinite(loss._data).all()
    np.testing.assert_allclose(loss._data, [1000, 0, np.log(2), 0, 1000], rtol=1e-6, atol=1e-6)


def test_bce_with_logits_gradient_at_zero_is_sigmoid_minus_target():
    x = tl.tensor([0.0, 0.0], dtype=tl.float64, requires_grad=True)
    F.binary_cross_entropy_with_logits(x, tl.tensor([1.0, 0.0], dtype=tl.float64),
                                       reduction="sum").backward()
    np.testing.assert_allclose(x.grad._data, [-0.5, 0.5], atol=1e-15)


def test_bce_with_logits_gradcheck_and_gradgradcheck():
    x = tl.tensor([[-3.0, 0.0, 0.7], [2.0, -0.2, 5.0]], dtype=tl.float64, requires_grad=True)
    y = tl.rand(2, 3, dtype=tl.float64, requires_grad=True)
    w = tl.rand(3, dtype=tl.float64, requires_grad=True)
    pw = tl.rand(3, dtype=tl.float64, requires_grad=True)

    def fn(x, y, w, pw):
        return F.binary_cross_entropy_with_logits(x, y, w, reduction="mean", pos_weight=pw)

    assert gradcheck(fn, (x, y, w, pw))
    assert gradgradcheck(fn, (x, y, w, pw))
    assert gradgradcheck(F.binary_cross_entropy_with_logits, (x, y))


def test_bce_with_logits_errors():
    with pytest.raises(ValueError, match=r"target size \(3,\) must be the same as input size "
                                         r"\(3, 1\)"):
        F.binary_cross_entropy_with_logits(tl.zeros(3, 1), tl.zeros(3))
    with pytest.raises(ValueError, match="reduction"):
        F.binary_cross_entropy_with_logits(tl.zeros(3), tl.zeros(3), reduction="avg")


# -- modules -----------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [nn.MSELoss, nn.BCEWithLogitsLoss, nn.CrossEntropyLoss,
                                 nn.NLLLoss])
def test_loss_modules_reject_unknown_reductions(cls):
    with pytest.raises(ValueError, match="reduction"):
        cls(reduction="average")


def test_class_weights_are_buffers_that_follow_dtype_conversion():
    loss = nn.CrossEntropyLoss(weight=tl.ones(3))
    assert list(loss.state_dict()) == ["weight"] and list(loss.parameters()) == []
    loss.double()
    assert loss.weight.dtype == tl.float64
    assert nn.NLLLoss().weight is None and list(nn.NLLLoss().state_dict()) == []


# -- ignored targets: selected away, so masked (-inf) logits in them cannot poison anything --
_MASKED = np.array([[-np.inf, 0.5, 1.0], [0.2, 0.1, -0.3], [1.5, -np.inf, 0.0]])
_IGNORED_CASES = [
    ("nll", lambda F_, x, t, w: F_.nll_loss(x, t)),
    ("nll none", lambda F_, x, t, w: F_.nll_loss(x, t, reduction="none")),
    ("nll weighted", lambda F_, x, t, w: F_.nll_loss(x, t, w)),
    ("ce weighted", lambda F_, x, t, w: F_.cross_entropy(x, t, w)),
    ("ce weighted smoothed", lambda F_, x, t, w: F_.cross_entropy(x, t, w, label_smoothing=0.2)),
    ("ce weighted sum", lambda F_, x, t, w: F_.cross_entropy(x, t, w, reduction="sum")),
]


@pytest.mark.parametrize("name,fn", _IGNORED_CASES, ids=[c[0] for c in _IGNORED_CASES])
def test_ignored_rows_with_masked_logits_match_pytorch(torch, name, fn):
    if "smoothed" in name:
        # Label smoothing reads every class of a kept row; keep the -inf only in ignored rows.
        x = _MASKED.copy()
        x[2, 1] = -2.0
    else:
        x = _MASKED
    t, w = np.array([-100, 1, 2]), np.array([1.0, 2.0, 3.0])
    xo, xt = tl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    lo = fn(F, xo, tl.tensor(t), tl.tensor(w))
    lt = fn(torch.nn.functional, xt, torch.tensor(t), torch.tensor(w))
    np.testing.assert_allclose(lo._data, lt.detach().numpy(), atol=ATOL)
    lo.sum().backward()
    lt.sum().backward()
    assert np.isfinite(xo.grad._data).all()
    np.testing.assert_allclose(xo.grad._data, xt.grad.numpy(), atol=ATOL)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_a_batch_of_only_ignored_targets_gives_nan_loss_and_zero_gradient(torch, loss, weighted):
    # A batch that is all padding: the mean is 0/0 (NaN, as in PyTorch) but no NaN may reach
    # the parameters.
    x = _rng().standard_normal((3, 4))
    t = np.full(3, -100)
    kw = {"weight": np.ones(4)} if weighted else {}
    xo, xt = tl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    with np.errstate(all="ignore"):
        lo = getattr(F, loss)(xo, tl.tensor(t), **{k: tl.tensor(v) for k, v in kw.items()})
        lo.backward()
    lt = getattr(torch.nn.functional, loss)(xt, torch.tensor(t),
                                            **{k: torch.tensor(v) for k, v in kw.items()})
    lt.backward()
    assert np.isnan(lo.item()) and np.isnan(lt.item())
    np.testing.assert_array_equal(xo.grad._data, xt.grad.numpy())
    assert not xo.grad._data.any()


def test_probability_targets_refuse_ignore_index_and_average_empty_batches_to_nan(torch):
    with pytest.raises(ValueError, match="cross_entropy: ignore_index is not supported"):
        F.cross_entropy(tl.zeros(2, 3), tl.zeros(2, 3), ignore_index=1)
    got = F.cross_entropy(tl.zeros(0, 4), tl.zeros(0, 4))
    want = torch.nn.functional.cross_entropy(torch.zeros(0, 4), torch.zeros(0, 4))
    assert np.isnan(got.item()) and np.isnan(want.item())


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_zero_classes_is_a_clear_error(loss):
    with pytest.raises(ValueError, match=f"{loss}: input has no classes"):
        getattr(F, loss)(tl.zeros(2, 0), tl.tensor([-100, -100]))


def test_loss_modules_take_pytorchs_positional_order(torch):
    # size_average and reduce come before reduction in PyTorch; a positional call written
    # for PyTorch must mean the same here.
    import inspect
    for name in ("CrossEntropyLoss", "NLLLoss", "MSELoss", "BCEWithLogitsLoss"):
        ours = list(inspect.signature(getattr(nn, name)).parameters)
        theirs = list(inspect.signature(getattr(torch.nn, name)).parameters)
        assert ours == theirs, name
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((5, 4)), np.array([0, 3, 1, 1, 2])
    w = np.array([1.0, 2.0, 0.5, 1.5])
    got = nn.CrossEntropyLoss(tl.tensor(w), None, 1, None, "sum", 0.1)(tl.tensor(x), tl.tensor(t))
    want = torch.nn.CrossEntropyLoss(torch.tensor(w), None, 1, None, "sum", 0.1)(
        torch.tensor(x), torch.tensor(t))
    np.testing.assert_allclose(got.item(), want.item(), rtol=1e-12)


def test_functional_losses_take_pytorchs_positional_order(torch):
    import inspect
    for name in ("cross_entropy", "nll_loss", "mse_loss", "binary_cross_entropy_with_logits"):
        ours = list(inspect.signature(getattr(F, name)).parameters)
        theirs = list(inspect.signature(getattr(torch.nn.functional, name)).parameters)
        assert ours == theirs, name
    rng = np.random.default_rng(1)
    x, t = rng.standard_normal((6, 3)), np.array([0, 2, 1, 1, 0, 2])
    got = F.nll_loss(tl.tensor(x).log_softmax(1), tl.tensor(t), None, None, 2, None, "sum")
    want = torch.nn.functional.nll_loss(torch.tensor(x).log_softmax(1), torch.tensor(t), None,
                                        None, 2, None, "sum")
    np.testing.assert_allclose(got.item(), want.item(), rtol=1e-12)
