"""OpInfo entries for the fused recurrent layers (double backward by recomputation)."""
from __future__ import annotations

import numpy as np

from ..ops import rnn as R
from .opinfo import OpInfo, SampleInput, _st, register


def _sig(x):
    return 1 / (1 + np.exp(-x))


def np_lstm(x, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse=False):
    """The lecture's LSTM equations, one step at a time (PyTorch's gate order i, f, g, o)."""
    hs, h, c = np.empty(x.shape[:2] + (h0.shape[1],)), h0, c0
    steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    for t in steps:
        i, f, g, o = np.split(x[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh, 4, axis=1)
        c = _sig(f) * c + _sig(i) * np.tanh(g)
        h = _sig(o) * np.tanh(c)
        hs[t] = h
    return hs, h, c


def np_gru(x, w_ih, w_hh, b_ih, b_hh, h0, reverse=False):
    hs, h = np.empty(x.shape[:2] + (h0.shape[1],)), h0
    steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    for t in steps:
        xr, xz, xn = np.split(x[t] @ w_ih.T + b_ih, 3, axis=1)
        hr, hz, hn = np.split(h @ w_hh.T + b_hh, 3, axis=1)
        r, z = _sig(xr + hr), _sig(xz + hz)
        n = np.tanh(xn + r * hn)
        h = (1 - z) * n + z * h
        hs[t] = h
    return hs, h


def np_rnn(x, w_ih, w_hh, b_ih, b_hh, h0, nonlinearity="tanh", reverse=False):
    """The lecture's recurrence h_t = tanh(b + U h_{t-1} + W x_t)."""
    act = np.tanh if nonlinearity == "tanh" else (lambda v: np.maximum(v, 0))
    hs, h = np.empty(x.shape[:2] + (h0.shape[1],)), h0
    steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    for t in steps:
        h = act(x[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh)
        hs[t] = h
    return hs, h


def _relu_margin(args, reverse):
    """The smallest |pre-activation| of a relu RNN on these inputs."""
    x, w_ih, w_hh, b_ih, b_hh, h = args
    steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    margin = np.inf
    for t in steps:
        a = x[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        margin = min(margin, np.abs(a).min())
        h = np.maximum(a, 0)
    return margin


def rnn_samples(gates: int, cell_state: bool = False, nonlinearity: bool = False):
    def build():
        st, ts = _st()

        @st.composite
        def draw(d):
            t, b, i, h = (d(st.integers(1, 4)), d(st.integers(1, 3)), d(st.integers(1, 3)),
                          d(st.integers(1, 3)))
            g = gates * h
            args = [d(ts.float_arrays((t, b, i), -2, 2)), d(ts.float_arrays((g, i), -1, 1)),
                    d(ts.float_arrays((g, h), -1, 1)), d(ts.float_arrays((g,), -1, 1)),
                    d(ts.float_arrays((g,), -1, 1)), d(ts.float_arrays((b, h), -1, 1))]
            if cell_state:
                args.append(d(ts.float_arrays((b, h), -1, 1)))
            kw = {"reverse": d(st.booleans())}
            if nonlinearity:
                kw["nonlinearity"] = d(st.sampled_from(["tanh", "relu"]))
                if kw["nonlinearity"] == "relu":
                    # finite differences across relu's kink disagree with any derivative:
                    # keep every pre-activation away from 0 (drawn values can cancel exactly)
                    from hypothesis import assume
                    assume(_relu_margin(args, kw["reverse"]) > 1e-3)
            return SampleInput(tuple(args), kw)
        return draw()
    return build


register(OpInfo("lstm_layer", R.lstm_layer, np_lstm, rnn_samples(4, cell_state=True),
                (R.LSTMLayer,), None, fast_mode_above=150))
register(OpInfo("gru_layer", R.gru_layer, np_gru, rnn_samples(3), (R.GRULayer,), None,
                fast_mode_above=150))
register(OpInfo("rnn_layer", R.rnn_layer, np_rnn, rnn_samples(1, nonlinearity=True),
                (R.RNNLayer,), None, fast_mode_above=150))
