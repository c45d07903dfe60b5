"""Layers and functions added for PyTorch scripts (1-D convolution and pooling, hardtanh,
relu6, logsigmoid, prelu, kl_div; BCE, smooth L1, L1 and Huber losses as modules): values
and gradients against PyTorch in float64, gradcheck, PyTorch's parameter shapes."""
import numpy as np
import pytest

import nn
import nn.functional as F
import tensorlite as tl
from tensorlite.testing import gradcheck

torch = pytest.importorskip("torch")
TF = torch.nn.functional
rng = np.random.default_rng(0)


def _both(fn_ours, fn_theirs, *arrays):
    ours = [tl.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    o, t = fn_ours(*ours), fn_theirs(*theirs)
    np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=1e-12, atol=1e-12)
    seed = rng.normal(size=tuple(t.shape))
    go = tl.autograd.grad(o, ours, tl.tensor(seed))
    gt = torch.autograd.grad(t, theirs, torch.tensor(seed))
    for a, b in zip(go, gt):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)
    assert gradcheck(fn_ours, [tl.tensor(a, requires_grad=True) for a in arrays])


@pytest.mark.parametrize("kw", [dict(), dict(stride=2), dict(padding=2, dilation=2),
                                dict(padding="same"), dict(padding="valid"), dict(groups=2)])
def test_conv1d_matches_pytorch(kw):
    x, w, b = rng.normal(size=(2, 4, 9)), rng.normal(size=(6, 4 // kw.get("groups", 1), 4)), \
        rng.normal(size=6)
    _both(lambda x, w, b: F.conv1d(x, w, b, **kw), lambda x, w, b: TF.conv1d(x, w, b, **kw),
          x, w, b)


@pytest.mark.parametrize("name, kw", [("max_pool1d", dict(kernel_size=2)),
                                      ("max_pool1d", dict(kernel_size=3, stride=1, padding=1)),
                                      ("avg_pool1d", dict(kernel_size=3, stride=2)),
                                      ("avg_pool1d", dict(kernel_size=2, padding=1,
                                                          count_include_pad=False))])
def test_pool1d_matches_pytorch(name, kw):
    x = rng.permutation(48).reshape(2, 3, 8) * 0.1       # distinct values: no ties
    _both(lambda x: getattr(F, name)(x, **kw), lambda x: getattr(TF, name)(x, **kw), x)


@pytest.mark.parametrize("name, args", [("hardtanh", ()), ("hardtanh", (-0.5, 2.0)),
                                        ("relu6", ()), ("logsigmoid", ())])
def test_activations_match_pytorch(name, args):
    x = rng.uniform(-8, 8, size=(3, 5))
    x = x[np.all(np.abs(x[..., None] - np.array([-1, 1, -0.5, 2, 0, 6])) > 0.05, axis=-1)]
    _both(lambda x: getattr(F, name)(x, *args), lambda x: getattr(TF, name)(x, *args), x)


@pytest.mark.parametrize("n", [1, 3])
def test_prelu_matches_pytorch(n):
    x = rng.normal(size=(2, 3, 4))
    x[np.abs(x) < 0.05] = 0.5
    _both(F.prelu, TF.prelu, x, rng.uniform(0.1, 0.4, size=n))


@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none", "mean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_pytorch(reduction, log_target):
    x = np.log(rng.dirichlet(np.ones(4), size=3))
    t = rng.dirichlet(np.ones(4), size=3)
    t[0, 1] = 0.0                                        # 0 log 0 = 0
    if log_target:
        t = np.log(t + 0.1)
    with pytest.warns(UserWarning) if reduction == "mean" else _nothing():
        _both(lambda x: F.kl_div(x, tl.tensor(t), reduction=reduction, log_target=log_target),
              lambda x: TF.kl_div(x, torch.tensor(t), reduction=reduction,
                                  log_target=log_target), x)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


@pytest.mark.parametrize("name, args, kw", [
    ("Conv1d", (4, 6, 3), dict(stride=2, bias=False)), ("Conv1d", (4, 6, 3), dict(groups=2)),
    ("MaxPool1d", (2,), {}), ("AvgPool1d", (3,), dict(stride=1)), ("Hardtanh", (-2.0, 2.0), {}),
    ("ReLU6", (), {}), ("LogSigmoid", (), {}), ("PReLU", (4,), {}),
    ("Unflatten", (1, (2, 2)), {}),
])
def test_modules_have_pytorchs_parameters_and_values(name, args, kw):
    ours, theirs = getattr(nn, name)(*args, **kw).double(), getattr(torch.nn, name)(*args, **kw)
    theirs = theirs.double()
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = rng.normal(size=(2, 4, 8))
    np.testing.assert_allclose(ours(tl.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name, kw", [("BCELoss", {}), ("BCELoss", dict(reduction="sum")),
                                      ("SmoothL1Loss", dict(beta=0.5)), ("L1Loss", {}),
                                      ("HuberLoss", dict(delta=0.7)),
                                      ("KLDivLoss", dict(reduction="batchmean"))])
def test_loss_modules_match_pytorch(name, kw):
    x = rng.uniform(0.05, 0.95, size=(4, 3))
    y = rng.uniform(0, 1, size=(4, 3))
    if name == "KLDivLoss":
        x = np.log(x / x.sum(1, keepdims=True))
    _both(lambda x: getattr(nn, name)(**kw)(x, tl.tensor(y)),
          lambda x: getattr(torch.nn, name)(**kw)(x, torch.tensor(y)), x)


def test_bce_refuses_what_pytorch_refuses():
    with pytest.raises(RuntimeError, match="binary_cross_entropy: all elements of input"):
        F.binary_cross_entropy(tl.tensor([1.5]), tl.tensor([1.0]))
    with pytest.raises(ValueError, match="binary_cross_entropy: target size"):
        F.binary_cross_entropy(tl.tensor([0.5, 0.5]), tl.tensor([1.0]))
    with pytest.raises(RuntimeError, match="not differentiable with respect to weight"):
        F.binary_cross_entropy(tl.tensor([0.5]), tl.tensor([1.0]),
                               weight=tl.ones(1, requires_grad=True))
    # a probability of exactly 0 or 1 costs 100, not inf (PyTorch's clamp of the log)
    assert F.binary_cross_entropy(tl.tensor([0.0, 1.0]), tl.tensor([1.0, 0.0])).item() == 100.0


def test_parameter_list_and_dict_register_as_pytorch():
    def build(N, T):
        class Mixture(N.Module):
            def __init__(self):
                super().__init__()
                self.weights = N.ParameterList([N.Parameter(T.ones(2, 3)) for _ in range(2)])
                self.weights.append(T.zeros(3))           # a Tensor becomes a Parameter
                self.scales = N.ParameterDict({"a": N.Parameter(T.ones(1))})
                self.scales["b"] = N.Parameter(T.zeros(2))

            def forward(self, x):
                return sum(x @ w.T for w in self.weights[:2]) * self.scales["a"]
        return Mixture().double()
    ours, theirs = build(nn, tl), build(torch.nn, torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert len(list(ours.parameters())) == len(list(theirs.parameters())) == 5
    assert isinstance(ours.weights[2], nn.Parameter) and len(ours.weights) == 3
    assert "b" in ours.scales and list(ours.scales.keys()) == ["a", "b"]
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = rng.normal(size=(4, 3))
    np.testing.assert_allclose(ours(tl.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy())
    del ours.scales["b"]
    assert list(ours.state_dict())[-1] == "scales.a"
