"""Constructors take PyTorch's arguments in PyTorch's order, and old or partial PyTorch
checkpoints load as they do in PyTorch."""
import numpy as np
import pytest

import nn
import tensorlite as tl


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def test_rnn_positional_arguments_follow_pytorch(torch):
    # nonlinearity is RNN's fourth argument; bias, batch_first follow it.
    ours = nn.RNN(3, 4, 2, "relu", False, True).double()
    theirs = torch.nn.RNN(3, 4, 2, "relu", False, True).double()
    assert (ours.nonlinearity, ours.bias, ours.batch_first) == ("relu", False, True)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 5, 3))
    out, h = ours(tl.tensor(x))
    out_t, h_t = theirs(torch.tensor(x))
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(h.data, h_t.detach().numpy(), atol=1e-12)


@pytest.mark.parametrize("make,exc,match", [
    (lambda: nn.RNN(3, 4, 1, "relu", False, True, True), ValueError, "RNN: dropout"),
    (lambda: nn.LSTM(3, 4, 1, "yes"), TypeError, "LSTM: bias must be a bool, got 'yes'"),
    (lambda: nn.GRU(3, 4, batch_first=1), TypeError, "GRU: batch_first must be a bool"),
    (lambda: nn.LSTM(3, 4, bidirectional=None), TypeError, "LSTM: bidirectional must be a bool"),
    (lambda: nn.GRUCell(3, 4, bias=0), TypeError, "GRUCell: bias must be a bool"),
    (lambda: nn.LSTM(3, 4, device="cuda"), RuntimeError, "CPU only"),
    (lambda: nn.RNNCell(3, 4, dtype=tl.int64), TypeError, "floating-point"),
])
def test_recurrent_constructor_arguments_are_checked(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_recurrent_layers_accept_device_cpu_and_dtype():
    for m in (nn.RNN(3, 4, device="cpu"), nn.LSTM(3, 4, device="cpu", dtype=tl.float64),
              nn.GRU(3, 4, device="cpu"), nn.LSTMCell(3, 4, device="cpu"),
              nn.GRUCell(3, 4, device="cpu", dtype=tl.float64), nn.RNNCell(3, 4, device="cpu")):
        assert all(p.dtype in (tl.float32, tl.float64) for p in m.parameters())
    assert nn.LSTM(3, 4, dtype=tl.float64).weight_ih_l0.dtype == tl.float64


def test_cell_base_class_and_star_import(torch):
    assert all(isinstance(c(2, 3), nn.RNNCellBase) for c in (nn.RNNCell, nn.LSTMCell, nn.GRUCell))
    namespace = {}
    exec("from nn import *", namespace)
    assert {"RNNCellBase", "RNNBase", "LSTM", "GELU", "Linear"} <= set(namespace)
    assert repr(nn.RNNCell(3, 4, nonlinearity="relu")) == repr(
        torch.nn.RNNCell(3, 4, nonlinearity="relu"))


def test_batchnorm_loads_a_state_dict_without_num_batches_tracked(torch):
    theirs = torch.nn.BatchNorm1d(3)
    theirs.train()
    theirs(torch.randn(8, 3))
    sd = {k: v.numpy() for k, v in theirs.state_dict().items() if k != "num_batches_tracked"}
    ours = nn.Sequential(nn.BatchNorm1d(3))
    ours[0].num_batches_tracked.data[...] = 7
    result = ours.load_state_dict({"0." + k: v for k, v in sd.items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_allclose(ours[0].running_mean.data, sd["running_mean"])
    assert int(ours[0].num_batches_tracked.item()) == 7   # kept, as PyTorch keeps it
    # Anything else missing is still an error.
    with pytest.raises(RuntimeError, match='Missing key.*"0.running_var"'):
        ours.load_state_dict({"0." + k: v for k, v in sd.items() if k != "running_var"})
