"""Fused recurrent kernels vs PyTorch: multi-layer LSTM / GRU / RNN fwd+bwd, float32.

    python benchmarks/kernel_rnn.py            # the 2-layer LSTM target plus GRU and RNN
    python benchmarks/kernel_rnn.py --detail   # also one layer's forward / backward alone

Ours is what the op layer does per layer: the input projection for all steps as one numpy
GEMM, the kernel's forward, the kernel's backward, then the gradients of the input,
W_ih and the biases by GEMMs and sums. Theirs is torch.nn.LSTM/GRU/RNN with the input
requiring grad, so both compute the same gradients. Interleaved rounds, medians.
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks._harness import compare, print_table, try_torch  # noqa: E402
from tensorlite.kernels import rnn as K  # noqa: E402

T, B, I, H = 35, 20, 200, 200
GATES = {"lstm": 4, "gru": 3, "rnn": 1}


def _layers(kind: str, layers: int, rng) -> list[dict]:
    g = GATES[kind] * H
    k = 1.0 / np.sqrt(H)
    out = []
    for layer in range(layers):
        def u(*shape):
            return rng.uniform(-k, k, shape).astype(np.float32)
        out.append({"w_ih": u(g, I if layer == 0 else H), "w_hh": u(g, H),
                    "b_ih": u(g), "b_hh": u(g)})
    return out


def ours_step(kind: str, params: list[dict], x: np.ndarray):
    """Forward and backward of the stacked layers (the loss: sum of output and final states)."""
    t_len, batch, _ = x.shape
    h0 = np.zeros((batch, H), np.float32)
    inp, saved = x, []
    for p in params:
        xw = np.dot(inp.reshape(t_len * batch, -1), p["w_ih"].T).reshape(t_len, batch, -1)
        xw += p["b_ih"]
        if kind == "lstm":
            xw += p["b_hh"]
            hs, cs, gates = K.lstm_forward(xw, p["w_hh"], h0, h0)
            state = (cs, gates)
        elif kind == "gru":
            hs, state = K.gru_forward(xw, p["w_hh"], p["b_hh"], h0)
        else:
            xw += p["b_hh"]
            hs = K.rnn_forward(xw, p["w_hh"], h0, "tanh")
            state = None
        saved.append((inp, hs, state))
        inp = hs
    g_out = np.ones((t_len, batch, H), np.float32)
    g_last = np.ones((batch, H), np.float32)
    grads = []
    for p, (inp, hs, state) in zip(params[::-1], saved[::-1]):
        if kind == "lstm":
            g_xw, g_w_hh, _, _ = K.lstm_backward(g_out, g_last, g_last, p["w_hh"], h0, h0,
                                                 hs, *state)
        elif kind == "gru":
            g_xw, g_w_hh, _, _ = K.gru_backward(g_out, g_last, p["w_hh"], p["b_hh"], h0, hs,
                                                state)
        else:
            g_xw, g_w_hh, _ = K.rnn_backward(g_out, g_last, p["w_hh"], h0, hs, "tanh")
        g2 = g_xw.reshape(t_len * batch, -1)
        g_w_ih = np.dot(g2.T, inp.reshape(t_len * batch, -1))
        g_b = g2.sum(axis=0)
        g_out = np.dot(g2, p["w_ih"]).reshape(t_len, batch, -1)
        grads.append((g_w_ih, g_w_hh, g_b))
    return g_out, grads


def _torch_module(torch, kind: str, params: list[dict]):
    cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[kind]
    m = cls(I, H, num_layers=len(params))
    names = {"w_ih": "weight_ih", "w_hh": "weight_hh", "b_ih": "bias_ih", "b_hh": "bias_hh"}
    with torch.no_grad():
        for layer, p in enumerate(params):
            for name, a in p.items():
                getattr(m, f"{names[name]}_l{layer}").copy_(torch.from_numpy(a))
    return m


def workloads(layers: int = 2) -> list:
    torch = try_torch()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((T, B, I)).astype(np.float32)
    out = []
    for kind in ("lstm", "gru", "rnn"):
        params = _layers(kind, layers, rng)

        def ours(kind=kind, params=params):
            ours_step(kind, params, x)
        theirs = None
        if torch is not None:
            m = _torch_module(torch, kind, params)
            tx = torch.from_numpy(x).requires_grad_(True)

            def theirs(m=m, tx=tx, kind=kind):
                tx.grad = None
                m.zero_grad(set_to_none=True)
                y, hn = m(tx)
                if kind == "lstm":
                    hn = hn[0] + hn[1]
                (y.sum() + hn.sum()).backward()
        out.append((f"{kind} {layers} layers T{T} B{B} in{I} hid{H} fwd+bwd", ours, theirs, 5))
    return out


def detail_workloads() -> list:
    """One LSTM layer's recurrence alone: our forward / backward kernel vs torch's layer."""
    torch = try_torch()
    rng = np.random.default_rng(1)
    p = _layers("lstm", 1, rng)[0]
    xw = rng.standard_normal((T, B, 4 * H)).astype(np.float32)
    h0 = np.zeros((B, H), np.float32)
    hs, cs, gates = K.lstm_forward(xw, p["w_hh"], h0, h0)
    g = np.ones_like(hs)

    def fwd():
        K.lstm_forward(xw, p["w_hh"], h0, h0)

    def bwd():
        K.lstm_backward(g, h0, h0, p["w_hh"], h0, h0, hs, cs, gates)
    t_fwd = None
    if torch is not None:
        m = _torch_module(torch, "lstm", [p])
        tx = torch.from_numpy(rng.standard_normal((T, B, I)).astype(np.float32))

        def t_fwd():
            with torch.no_grad():
                m(tx)
    return [("lstm 1 layer recurrence forward (torch: whole layer fwd)", fwd, t_fwd, 10),
            ("lstm 1 layer recurrence backward (no torch)", bwd, None, 10)]


def run(detail: bool = False) -> list[dict]:
    rows = []
    for name, ours, theirs, number in workloads() + (detail_workloads() if detail else []):
        r = compare(ours, theirs, number=number)
        r["name"] = name
        rows.append(r)
    return rows


if __name__ == "__main__":
    print_table(run(detail="--detail" in sys.argv))
