"""Fused LSTM / GRU / RNN layer kernels: one direction of one layer, composed with the
input-projection GEMMs the op layer does (done here in numpy), against PyTorch's layers,
a plain numpy reference with finite differences, float32 against float64, edge cases and
NUMBA_DISABLE_JIT."""
import os
import subprocess
import sys

import numpy as np
import pytest

from tensorlite.kernels import rnn as K

KINDS = ["lstm", "gru", "rnn_tanh", "rnn_relu"]
GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}


# ----------------------------------------------------------------------------- helpers


def make_case(kind, t_len=5, batch=3, inp=4, hidden=6, dtype=np.float64, seed=0):
    """Weights (PyTorch's names and shapes), input, initial states and output gradients."""
    rng = np.random.default_rng(seed)
    g = GATES[kind] * hidden
    k = 1.0 / np.sqrt(hidden)

    def u(*shape):
        return rng.uniform(-k, k, shape).astype(dtype)

    def n(*shape):
        return rng.standard_normal(shape).astype(dtype)
    return {
        "weight_ih": u(g, inp), "weight_hh": u(g, hidden), "bias_ih": u(g), "bias_hh": u(g),
        "x": n(t_len, batch, inp), "h0": n(batch, hidden), "c0": n(batch, hidden),
        "g_out": n(t_len, batch, hidden), "g_hn": n(batch, hidden), "g_cn": n(batch, hidden),
    }


def ours(kind, case, reverse=False):
    """Output, final states and every gradient: kernels plus the op layer's GEMMs in numpy."""
    x, w_ih, w_hh = case["x"], case["weight_ih"], case["weight_hh"]
    b_ih, b_hh, h0 = case["bias_ih"], case["bias_hh"], case["h0"]
    t_len, batch, inp = x.shape
    xw = (x.reshape(-1, inp) @ w_ih.T).reshape(t_len, batch, w_ih.shape[0]) + b_ih
    last = 0 if reverse else -1
    r = {}
    if kind == "lstm":
        xw += b_hh
        hs, cs, gates = K.lstm_forward(xw, w_hh, h0, case["c0"], reverse=reverse)
        r["c_n"] = cs[last] if t_len else case["c0"]
        g_xw, r["g_weight_hh"], r["g_h0"], r["g_c0"] = K.lstm_backward(
            case["g_out"], case["g_hn"], case["g_cn"], w_hh, h0, case["c0"], hs, cs, gates,
            reverse=reverse)
        r["g_bias_hh"] = g_xw.sum(axis=(0, 1))
    elif kind == "gru":
        hs, saved = K.gru_forward(xw, w_hh, b_hh, h0, reverse=reverse)
        g_xw, r["g_weight_hh"], r["g_bias_hh"], r["g_h0"] = K.gru_backward(
            case["g_out"], case["g_hn"], w_hh, b_hh, h0, hs, saved, reverse=reverse)
    else:
        act = kind.split("_")[1]
        xw += b_hh
        hs = K.rnn_forward(xw, w_hh, h0, act, reverse=reverse)
        g_xw, r["g_weight_hh"], r["g_h0"] = K.rnn_backward(
            case["g_out"], case["g_hn"], w_hh, h0, hs, act, reverse=reverse)
        r["g_bias_hh"] = g_xw.sum(axis=(0, 1))
    r["out"], r["h_n"] = hs, (hs[last] if t_len else h0)
    g2 = g_xw.reshape(t_len * batch, w_ih.shape[0])
    r["g_x"] = (g2 @ w_ih).reshape(x.shape)
    r["g_weight_ih"] = g2.T @ x.reshape(-1, inp)
    r["g_bias_ih"] = g2.sum(axis=0)
    return r


def theirs(torch, kind, case, reverse=False):
    """The same quantities from torch.nn.LSTM / GRU / RNN (one layer, float64)."""
    t_len, batch, inp = case["x"].shape
    hidden = case["weight_hh"].shape[1]
    if kind == "lstm":
        m = torch.nn.LSTM(inp, hidden)
    elif kind == "gru":
        m = torch.nn.GRU(inp, hidden)
    else:
        m = torch.nn.RNN(inp, hidden, nonlinearity=kind.split("_")[1])
    m = m.double()
    names = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    with torch.no_grad():
        for name in names:
            getattr(m, name + "_l0").copy_(torch.from_numpy(case[name]))
    x = torch.tensor(case["x"], requires_grad=True)
    h0 = torch.tensor(case["h0"][None], requires_grad=True)
    c0 = torch.tensor(case["c0"][None], requires_grad=True)
    # The reverse direction of a bidirectional layer is the forward one on the flipped input.
    xin = x.flip(0) if reverse else x
    if kind == "lstm":
        out, (hn, cn) = m(xin, (h0, c0))
    else:
        out, hn = m(xin, h0)
    if reverse:
        out = out.flip(0)
    outputs = [out, hn[0]] + ([cn[0]] if kind == "lstm" else [])
    seeds = [case["g_out"], case["g_hn"]] + ([case["g_cn"]] if kind == "lstm" else [])
    torch.autograd.backward(outputs, [torch.from_numpy(s) for s in seeds])
    r = {"out": out, "h_n": hn[0], "g_x": x.grad, "g_h0": h0.grad[0]}
    if kind == "lstm":
        r["c_n"], r["g_c0"] = cn[0], c0.grad[0]
    for name in names:
        r["g_" + name] = getattr(m, name + "_l0").grad
    return {k: v.detach().numpy() for k, v in r.items()}


def numpy_forward(kind, case, reverse=False):
    """Plain numpy reference of the layer: (out, h_n, c_n or None), PyTorch's equations."""
    x, w_ih, w_hh = case["x"], case["weight_ih"], case["weight_hh"]
    b_ih, b_hh = case["bias_ih"], case["bias_hh"]
    t_len = x.shape[0]
    hidden = w_hh.shape[1]

    def sigmoid(v):
        return 1 / (1 + np.exp(-v))
    h, c = case["h0"], case["c0"]
    out = np.empty((t_len,) + h.shape)
    for t in (range(t_len - 1, -1, -1) if reverse else range(t_len)):
        xi = x[t] @ w_ih.T + b_ih
        hh = h @ w_hh.T + b_hh
        if kind == "lstm":
            a = xi + hh
            i, f = sigmoid(a[:, :hidden]), sigmoid(a[:, hidden:2 * hidden])
            g, o = np.tanh(a[:, 2 * hidden:3 * hidden]), sigmoid(a[:, 3 * hidden:])
            c = f * c + i * g
            h = o * np.tanh(c)
        elif kind == "gru":
            r = sigmoid(xi[:, :hidden] + hh[:, :hidden])
            z = sigmoid(xi[:, hidden:2 * hidden] + hh[:, hidden:2 * hidden])
            n = np.tanh(xi[:, 2 * hidden:] + r * hh[:, 2 * hidden:])
            h = (1 - z) * n + z * h
        elif kind == "rnn_tanh":
            h = np.tanh(xi + hh)
        else:
            h = np.maximum(xi + hh, 0)
        out[t] = h
    return out, h, (c if kind == "lstm" else None)


def assert_all_close(got, want, tol, keys=None):
    for key in keys or want:
        np.testing.assert_allclose(got[key], want[key], rtol=tol, atol=tol, err_msg=key)


# ----------------------------------------------------------------------------- PyTorch


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
@pytest.mark.parametrize("kind", KINDS)
def test_layer_matches_pytorch_in_float64(kind, reverse):
    torch = pytest.importorskip("torch")
    case = make_case(kind, seed=1)
    assert_all_close(ours(kind, case, reverse), theirs(torch, kind, case, reverse), 1e-9)


@pytest.mark.parametrize("shape", [(1, 1, 2, 3), (9, 2, 5, 17)], ids=["single_step", "long"])
@pytest.mark.parametrize("kind", KINDS)
def test_other_sizes_match_pytorch(kind, shape):
    torch = pytest.importorskip("torch")
    t_len, batch, inp, hidden = shape
    case = make_case(kind, t_len, batch, inp, hidden, seed=2)
    assert_all_close(ours(kind, case), theirs(torch, kind, case), 1e-9)


# ----------------------------------------------------------------------------- numpy only


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
@pytest.mark.parametrize("kind", KINDS)
def test_forward_matches_numpy_reference(kind, reverse):
    case = make_case(kind, seed=3)
    got = ours(kind, case, reverse)
    out, h_n, c_n = numpy_forward(kind, case, reverse)
    np.testing.assert_allclose(got["out"], out, atol=1e-12)
    np.testing.assert_allclose(got["h_n"], h_n, atol=1e-12)
    if c_n is not None:
        np.testing.assert_allclose(got["c_n"], c_n, atol=1e-12)


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
@pytest.mark.parametrize("kind", KINDS)
def test_gradients_match_finite_differences_of_numpy_reference(kind, reverse):
    """Directional derivatives of L = <g_out, out> + <g_hn, h_n> (+ <g_cn, c_n>)."""
    case = make_case(kind, seed=4)
    grads = ours(kind, case, reverse)

    def loss(c):
        out, h_n, c_n = numpy_forward(kind, c, reverse)
        total = (case["g_out"] * out).sum() + (case["g_hn"] * h_n).sum()
        return total + ((case["g_cn"] * c_n).sum() if c_n is not None else 0.0)
    rng = np.random.default_rng(5)
    names = ["x", "h0", "weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    names += ["c0"] if kind == "lstm" else []
    eps = 1e-6
    for name in names:
        v = rng.standard_normal(case[name].shape)
        plus, minus = dict(case), dict(case)
        plus[name] = case[name] + eps * v
        minus[name] = case[name] - eps * v
        numeric = (loss(plus) - loss(minus)) / (2 * eps)
        analytic = (grads["g_" + name] * v).sum()
        assert analytic == pytest.approx(numeric, rel=1e-7, abs=1e-8), name


# ----------------------------------------------------------------------------- float32


@pytest.mark.parametrize("kind", KINDS)
def test_float32_agrees_with_float64(kind):
    """float32 runs the rational tanh; within 1e-5 of the exact float64 path."""
    # H = 37: the vector loops also run their remainders.
    c64 = make_case(kind, t_len=8, batch=5, inp=7, hidden=37, seed=6)
    c32 = {k: v.astype(np.float32) for k, v in c64.items()}
    r64, r32 = ours(kind, c64), ours(kind, c32)
    for key, want in r64.items():
        assert r32[key].dtype == np.float32, key
        np.testing.assert_allclose(r32[key], want, rtol=1e-5, atol=1e-5, err_msg=key)


def test_float32_tanh_is_within_4e_7_and_never_exceeds_one():
    x = np.linspace(-12, 12, 40 * 7 * 301, dtype=np.float32).reshape(40, 7, 301)
    hs = K.rnn_forward(x, np.zeros((301, 301), np.float32), np.zeros((7, 301), np.float32),
                       "tanh")
    assert np.abs(hs - np.tanh(x.astype(np.float64))).max() < 4e-7
    assert np.abs(hs).max() <= 1.0


def test_float32_sigmoid_gates_are_accurate():
    """An LSTM step from zero state: c = i*g, h = o*tanh(c) with sigmoid gates."""
    rng = np.random.default_rng(7)
    xw = (rng.standard_normal((1, 50, 4 * 64)) * 6).astype(np.float32)
    zero = np.zeros((50, 64), np.float32)
    hs, cs, gates = K.lstm_forward(xw, np.zeros((256, 64), np.float32), zero, zero)
    x = xw[0].astype(np.float64)
    want = 1 / (1 + np.exp(-x))
    want[:, 128:192] = np.tanh(x[:, 128:192])
    assert np.abs(gates[0] - want).max() < 4e-7
    assert np.abs(cs[0] - want[:, :64] * want[:, 128:192]).max() < 1e-6


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_saturating_inputs_give_limits_and_nan_propagates(dtype):
    xw = np.array([[[np.inf, -np.inf, 1e30, -1e30, 0.0, np.nan]]], dtype=dtype)
    hs = K.rnn_forward(xw, np.zeros((6, 6), dtype), np.zeros((1, 6), dtype), "tanh")
    np.testing.assert_allclose(hs[0, 0, :5], [1, -1, 1, -1, 0], atol=1e-6)
    assert np.isnan(hs[0, 0, 5])
    relu = K.rnn_forward(xw, np.zeros((6, 6), dtype), np.zeros((1, 6), dtype), "relu")
    assert np.isnan(relu[0, 0, 5])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lstm_nan_stays_in_its_batch_row(dtype):
    xw = np.zeros((3, 2, 8), dtype)
    xw[0, 1, 5] = np.nan  # the g gate of unit 1 in batch row 1 at t = 0
    w = np.full((8, 2), 0.1, dtype)
    zero = np.zeros((2, 2), dtype)
    hs, cs, _ = K.lstm_forward(xw, w, zero, zero)
    assert np.isnan(hs[0, 1, 1]) and np.isnan(cs[0, 1, 1]) and np.isfinite(hs[0, 1, 0])
    assert np.isnan(hs[1:, 1]).all() and np.isfinite(hs[:, 0]).all()


# ----------------------------------------------------------------------------- edge cases


@pytest.mark.parametrize("kind", KINDS)
def test_empty_sequence_passes_state_gradients_through(kind):
    case = make_case(kind, t_len=0, seed=8)
    r = ours(kind, case)
    assert r["out"].shape == (0, 3, 6)
    np.testing.assert_array_equal(r["g_h0"], case["g_hn"])
    np.testing.assert_array_equal(r["g_weight_hh"], 0)
    if kind == "lstm":
        np.testing.assert_array_equal(r["g_c0"], case["g_cn"])


@pytest.mark.parametrize("kind", KINDS)
def test_inputs_are_not_modified(kind):
    case = make_case(kind, batch=1, seed=9)  # B = 1: transposed states are views there
    before = {k: v.copy() for k, v in case.items()}
    ours(kind, case)
    ours(kind, case, reverse=True)
    for key, value in before.items():
        np.testing.assert_array_equal(case[key], value, err_msg=key)


# ----------------------------------------------------------------------------- without the JIT


def test_kernels_run_without_jit(tmp_path):
    """NUMBA_DISABLE_JIT=1 runs the same functions as plain Python: same results."""
    script = f"""
import sys
import numpy as np
sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
from test_rnn_kernel import KINDS, make_case, ours
res = {{}}
for kind in KINDS:
    for dtype in (np.float32, np.float64):
        case = make_case(kind, t_len=3, batch=2, inp=3, hidden=5, dtype=dtype, seed=10)
        for key, value in ours(kind, case, reverse=dtype == np.float32).items():
            res[kind + str(np.dtype(dtype)) + key] = value
np.savez({str(tmp_path / "nojit.npz")!r}, **res)
"""
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=120)
    got = np.load(tmp_path / "nojit.npz")
    for kind in KINDS:
        for dtype in (np.float32, np.float64):
            case = make_case(kind, t_len=3, batch=2, inp=3, hidden=5, dtype=dtype, seed=10)
            tol = 1e-5 if dtype == np.float32 else 1e-12  # plain Python float32 uses np.tanh
            for key, value in ours(kind, case, reverse=dtype == np.float32).items():
                np.testing.assert_allclose(got[kind + str(np.dtype(dtype)) + key], value,
                                           rtol=tol, atol=tol, err_msg=kind + key)
