"""RNN / LSTM / GRU layers and cells: PyTorch parity (outputs, final states, input,
initial-state and every parameter gradient) and gradient checks."""
import numpy as np
import pytest

import tensorlite as tl
from nn.rnn import GRU, GRUCell, LSTM, LSTMCell, RNN, RNNCell
from tensorlite.testing import gradcheck, gradgradcheck


CLASSES = {"RNN": RNN, "LSTM": LSTM, "GRU": GRU}


def _torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("with_state", [False, True])
def test_matches_pytorch_two_layers(mode, batch_first, bidirectional, with_state):
    torch = _torch()
    tcls = getattr(torch.nn, mode)
    tm = tcls(5, 4, 2, batch_first=batch_first, bidirectional=bidirectional).double()
    m = CLASSES[mode](5, 4, 2, batch_first=batch_first, bidirectional=bidirectional).double()
    m.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    rng = np.random.default_rng(0)
    xa = rng.standard_normal((3, 6, 5))
    x, X = tl.tensor(xa, requires_grad=True), torch.tensor(xa, requires_grad=True)
    states, tstates = [], []
    hx = HX = None
    if with_state:
        dirs = 2 if bidirectional else 1
        shape = (2 * dirs, 3 if batch_first else 6, 4)
        for _ in range(2 if mode == "LSTM" else 1):
            a = rng.standard_normal(shape)
            states.append(tl.tensor(a, requires_grad=True))
            tstates.append(torch.tensor(a, requires_grad=True))
        hx = tuple(states) if mode == "LSTM" else states[0]
        HX = tuple(tstates) if mode == "LSTM" else tstates[0]
    out, hn = m(x, hx)
    OUT, HN = tm(X, HX)
    hns = hn if isinstance(hn, tuple) else (hn,)
    HNS = HN if isinstance(HN, tuple) else (HN,)
    np.testing.assert_allclose(out.numpy(), OUT.detach().numpy(), atol=1e-10)
    for a, b in zip(hns, HNS):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), atol=1e-10)
    loss = (out * out).sum() + sum((h * 1.5).sum() for h in hns)
    LOSS = (OUT * OUT).sum() + sum((h * 1.5).sum() for h in HNS)
    ours = tl.autograd.grad(loss, [x] + states + list(m.parameters()))
    theirs = torch.autograd.grad(LOSS, [X] + tstates + list(tm.parameters()))
    names = ["input"] + [f"state{i}" for i in range(len(states))] + \
        [n for n, _ in m.named_parameters()]
    for name, a, b in zip(names, ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-9, err_msg=name)


def test_parameter_names_and_shapes_follow_pytorch():
    m = LSTM(3, 5, num_layers=2, bidirectional=True)
    shapes = {n: p.shape for n, p in m.named_parameters()}
    assert shapes["weight_ih_l0"] == (20, 3)
    assert shapes["weight_hh_l0_reverse"] == (20, 5)
    assert shapes["weight_ih_l1"] == (20, 10)
    assert shapes["bias_hh_l1_reverse"] == (20,)
    assert len(shapes) == 16


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_layer_gradcheck_float64(mode):
    tl.manual_seed(0)
    m = CLASSES[mode](2, 3, num_layers=2, bidirectional=True).double()
    x = tl.randn(3, 2, 2, dtype=tl.float64, requires_grad=True)

    def f(x, *params):
        out, _ = m(x)
        return out
    assert gradcheck(f, (x,) + tuple(m.parameters()), fast_mode=True)


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_fused_layers_double_backward_matches_pytorch(mode):
    torch = _torch()
    # Gradients of gradients (a gradient penalty on the input and on h_0) through two
    # bidirectional layers: the recorded backward recomputes the layer step by step.
    tm = getattr(torch.nn, mode)(3, 4, num_layers=2, bidirectional=True).double()
    m = {"RNN": RNN, "LSTM": LSTM, "GRU": GRU}[mode](3, 4, num_layers=2,
                                                  bidirectional=True).double()
    m.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    rng = np.random.default_rng(3)
    x_np, h_np = rng.standard_normal((5, 2, 3)), rng.standard_normal((4, 2, 4))
    results = []
    for lib, mod in ((tl, m), (torch, tm)):
        x = lib.tensor(x_np, requires_grad=True)
        h0 = lib.tensor(h_np, requires_grad=True)
        state = (h0, lib.tensor(np.zeros((4, 2, 4)))) if mode == "LSTM" else h0
        out, _ = mod(x, state)
        loss = (out * out).sum()
        params = list(mod.parameters())
        gx, gh = (tl.autograd.grad if lib is tl else torch.autograd.grad)(
            loss, [x, h0], create_graph=True)
        ((gx * gx).sum() + (gh * gh).sum()).backward()
        results.append([x.grad, h0.grad] + [p.grad for p in params])
    for a, b in zip(*results):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-7, atol=1e-9)


def test_unbatched_input_and_errors():
    m = GRU(4, 3)
    out, h = m(tl.randn(5, 4))
    assert out.shape == (5, 3) and h.shape == (1, 3)
    with pytest.raises(ValueError, match="GRU: input has 5 features but input_size is 4"):
        m(tl.randn(2, 1, 5))
    with pytest.raises(ValueError, match=r"GRU: expected hx of shape \(1, 1, 3\)"):
        m(tl.randn(2, 1, 4), tl.zeros(2, 1, 3))


def test_dropout_between_layers_only_in_training():
    tl.manual_seed(0)
    m = LSTM(3, 4, num_layers=2, dropout=0.5)
    x = tl.randn(4, 2, 3)
    m.eval()
    a, _ = m(x)
    b, _ = m(x)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    m.train()
    c, _ = m(x)
    assert not np.allclose(a.numpy(), c.numpy())


@pytest.mark.parametrize("cell_cls, tname", [(RNNCell, "RNNCell"), (LSTMCell, "LSTMCell"),
                                             (GRUCell, "GRUCell")])
def test_cells_match_pytorch_and_support_double_backward(cell_cls, tname):
    torch = _torch()
    tc = getattr(torch.nn, tname)(3, 4).double()
    c = cell_cls(3, 4).double()
    c.load_state_dict({k: v.detach().numpy() for k, v in tc.state_dict().items()})
    rng = np.random.default_rng(1)
    xa, ha = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    x, h = tl.tensor(xa, requires_grad=True), tl.tensor(ha, requires_grad=True)
    hx = (h, h * 0.5) if cell_cls is LSTMCell else h
    HX = (torch.tensor(ha), torch.tensor(ha) * 0.5) if cell_cls is LSTMCell else torch.tensor(ha)
    out = c(x, hx)
    OUT = tc(torch.tensor(xa), HX)
    first = out[0] if isinstance(out, tuple) else out
    FIRST = OUT[0] if isinstance(OUT, tuple) else OUT
    np.testing.assert_allclose(first.numpy(), FIRST.detach().numpy(), atol=1e-12)

    def f(x, h):
        o = c(x, (h, h * 0.5) if cell_cls is LSTMCell else h)
        return o[0] if isinstance(o, tuple) else o
    assert gradcheck(f, (x, h))
    assert gradgradcheck(f, (x, h))


def test_lstm_cell_follows_the_lecture_equations():
    tl.manual_seed(0)
    cell = LSTMCell(2, 3).double()
    x, h, c = (tl.randn(1, n, dtype=tl.float64) for n in (2, 3, 3))
    pre = (x @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh).numpy()
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    i, f, g, o = sig(pre[:, :3]), sig(pre[:, 3:6]), np.tanh(pre[:, 6:9]), sig(pre[:, 9:])
    c_new = f * c.numpy() + i * g
    h_new, c_out = cell(x, (h, c))
    np.testing.assert_allclose(c_out.numpy(), c_new)
    np.testing.assert_allclose(h_new.numpy(), o * np.tanh(c_new))
