"""Fused recurrent layers: one direction of one RNN / LSTM / GRU layer per autograd node.

The input projections of all time steps are one BLAS product (x W_ih^T + b); the
recurrence, forward and backward through time, runs in the kernels of
``tensorlite/kernels/rnn.py``; the gradients of x, W_ih and the biases are again single
BLAS products. Gate order and parameter layout are PyTorch's, so weights load by name.

The lecture's equations, per time step:
    RNN:  h_t = tanh(b + U h_{t-1} + W x_t)               (U = W_hh, W = W_ih)
    LSTM: i, f, o = sigmoid(...), g = tanh(...)            (input, forget, output gates)
          c_t = f * c_{t-1} + i * g,  h_t = o * tanh(c_t)  (cell state, output)
    GRU:  r, z = sigmoid(...), n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
          h_t = (1 - z) * n + z * h_{t-1}
The usual backward runs the fused kernel on plain arrays. Under ``create_graph=True``
(gradients of gradients, as PyTorch allows for its recurrent layers) the layer is instead
recomputed step by step with ordinary differentiable ops and differentiated with
``autograd.grad``, so the gradient it returns is itself recorded.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from .. import autograd
from ..autograd import Function, is_grad_enabled
from ..kernels import rnn as K
from ..tensor import Tensor, _make


def _c(a: np.ndarray) -> np.ndarray:
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


def _project(x: np.ndarray, w_ih: np.ndarray, bias: Optional[np.ndarray]) -> np.ndarray:
    """xw (T, B, G) = x W_ih^T (+ bias): all time steps in one BLAS product."""
    t, b, i = x.shape
    xw = np.dot(x.reshape(t * b, i), w_ih.T)
    if bias is not None:
        xw += bias
    return xw.reshape(t, b, w_ih.shape[0])  # explicit: -1 is ambiguous for a batch of 0


def _input_grads(ctx, g_xw: np.ndarray, x: np.ndarray, w_ih: np.ndarray) -> tuple:
    """Gradients of x, W_ih and the summed bias from g_xw (T, B, G): BLAS products."""
    t, b, g = g_xw.shape
    flat = g_xw.reshape(t * b, g)
    need = ctx.needs_input_grad
    gx = np.dot(flat, w_ih).reshape(x.shape) if need[0] else None
    gw = np.dot(flat.T, x.reshape(t * b, x.shape[-1])) if need[1] else None
    gb = flat.sum(axis=0) if (need[3] or need[4]) else None
    return gx, gw, gb


def _t(a: Optional[np.ndarray]) -> Optional[Tensor]:
    return None if a is None else _make(a, False, None, 0, None)


def _last(reverse: bool) -> int:
    return 0 if reverse else -1


def _unrolled(kind: str, x: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Optional[Tensor],
              b_hh: Optional[Tensor], h: Tensor, c: Optional[Tensor], nonlinearity: str,
              reverse: bool) -> tuple:
    """The layer as ordinary ops, one time step after another: what the fused kernels
    compute, in a form the engine can differentiate twice. Same equations (module
    docstring), PyTorch's gate order."""
    from .linalg import matmul
    from .shape import stack
    xw = matmul(x, w_ih.transpose(0, 1))                       # (T, B, G)
    if b_ih is not None:
        xw = xw + (b_ih if kind == "gru" else b_ih + b_hh)
    w_hh_t = w_hh.transpose(0, 1)
    steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    outs = [None] * x.shape[0]
    for t in steps:
        hw = matmul(h, w_hh_t)
        if kind == "lstm":
            i, f, g, o = (xw[t] + hw).chunk(4, 1)
            c = f.sigmoid() * c + i.sigmoid() * g.tanh()         # cell state
            h = o.sigmoid() * c.tanh()
        elif kind == "gru":
            if b_hh is not None:
                hw = hw + b_hh
            xr, xz, xn = xw[t].chunk(3, 1)
            hr, hz, hn = hw.chunk(3, 1)
            r, z = (xr + hr).sigmoid(), (xz + hz).sigmoid()
            h = (1 - z) * (xn + r * hn).tanh() + z * h
        else:
            a = xw[t] + hw
            h = a.tanh() if nonlinearity == "tanh" else a.relu()
        outs[t] = h
    return (stack(outs), h, c) if kind == "lstm" else (stack(outs), h)


def _recorded_backward(ctx, kind: str, grads: tuple, nonlinearity: str = "tanh") -> tuple:
    """Gradients of the layer's inputs as recorded ops (``create_graph=True``): the layer is
    recomputed by ``_unrolled`` from the saved inputs and differentiated by the engine."""
    inputs = ctx.saved_tensors
    need = ctx.needs_input_grad
    wrt = [k for k, t in enumerate(inputs) if t is not None and need[k]]
    if not wrt:
        return (None,) * len(need)
    c0 = inputs[6] if kind == "lstm" else None
    outs = _unrolled(kind, *inputs[:6], c0, nonlinearity, ctx.reverse)
    got = autograd.grad(outs, [inputs[k] for k in wrt], grads, create_graph=True,
                        allow_unused=True)
    result = [None] * len(need)
    for k, g in zip(wrt, got):
        result[k] = g if g is not None else _t(np.zeros(inputs[k].shape, inputs[k].dtype))
    return tuple(result)


class LSTMLayer(Function):
    @staticmethod
    def forward(ctx, x, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse):
        bias = None if b_ih is None else b_ih._data + b_hh._data
        xw = _project(_c(x._data), w_ih._data, bias)
        hs, cs, gates = K.lstm_forward(xw, _c(w_hh._data), _c(h0._data), _c(c0._data), reverse)
        ctx.saved = (x._data, w_ih._data, w_hh._data, h0._data, c0._data, hs, cs, gates)
        ctx.save_for_backward(x, w_ih, w_hh, b_ih, b_hh, h0, c0)   # for a recorded backward
        ctx.reverse = reverse
        last = _last(reverse)
        return hs, hs[last].copy(), cs[last].copy()

    @staticmethod
    def backward(ctx, g_hs, g_hn, g_cn):
        if is_grad_enabled():
            return _recorded_backward(ctx, "lstm", (g_hs, g_hn, g_cn))
        x, w_ih, w_hh, h0, c0, hs, cs, gates = ctx.saved
        g_xw, g_whh, g_h0, g_c0 = K.lstm_backward(_c(g_hs._data), _c(g_hn._data), _c(g_cn._data),
                                                  w_hh, h0, c0, hs, cs, gates, ctx.reverse)
        gx, gw, gb = _input_grads(ctx, g_xw, x, w_ih)
        return _t(gx), _t(gw), _t(g_whh), _t(gb), _t(gb), _t(g_h0), _t(g_c0)


class GRULayer(Function):
    @staticmethod
    def forward(ctx, x, w_ih, w_hh, b_ih, b_hh, h0, reverse):
        xw = _project(_c(x._data), w_ih._data, None if b_ih is None else b_ih._data)
        b = np.zeros(w_hh._data.shape[0], x._data.dtype) if b_hh is None else b_hh._data
        hs, saved = K.gru_forward(xw, _c(w_hh._data), b, _c(h0._data), reverse)
        ctx.saved = (x._data, w_ih._data, w_hh._data, b, h0._data, hs, saved)
        ctx.save_for_backward(x, w_ih, w_hh, b_ih, b_hh, h0)
        ctx.reverse = reverse
        return hs, hs[_last(reverse)].copy()

    @staticmethod
    def backward(ctx, g_hs, g_hn):
        if is_grad_enabled():
            return _recorded_backward(ctx, "gru", (g_hs, g_hn))
        x, w_ih, w_hh, b, h0, hs, saved = ctx.saved
        g_xw, g_whh, g_bhh, g_h0 = K.gru_backward(_c(g_hs._data), _c(g_hn._data), w_hh, b, h0,
                                                  hs, saved, ctx.reverse)
        gx, gw, gb = _input_grads(ctx, g_xw, x, w_ih)
        return _t(gx), _t(gw), _t(g_whh), _t(gb), _t(g_bhh), _t(g_h0)


class RNNLayer(Function):
    @staticmethod
    def forward(ctx, x, w_ih, w_hh, b_ih, b_hh, h0, nonlinearity, reverse):
        bias = None if b_ih is None else b_ih._data + b_hh._data
        xw = _project(_c(x._data), w_ih._data, bias)
        hs = K.rnn_forward(xw, _c(w_hh._data), _c(h0._data), nonlinearity, reverse)
        ctx.saved = (x._data, w_ih._data, w_hh._data, h0._data, hs)
        ctx.save_for_backward(x, w_ih, w_hh, b_ih, b_hh, h0)
        ctx.args = (nonlinearity, reverse)
        ctx.reverse = reverse
        return hs, hs[_last(reverse)].copy()

    @staticmethod
    def backward(ctx, g_hs, g_hn):
        if is_grad_enabled():
            return _recorded_backward(ctx, "rnn", (g_hs, g_hn), ctx.args[0])
        x, w_ih, w_hh, h0, hs = ctx.saved
        nonlinearity, reverse = ctx.args
        g_xw, g_whh, g_h0 = K.rnn_backward(_c(g_hs._data), _c(g_hn._data), w_hh, h0, hs,
                                           nonlinearity, reverse)
        gx, gw, gb = _input_grads(ctx, g_xw, x, w_ih)
        return _t(gx), _t(gw), _t(g_whh), _t(gb), _t(gb), _t(g_h0)


def lstm_layer(x: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Optional[Tensor],
               b_hh: Optional[Tensor], h0: Tensor, c0: Tensor, reverse: bool = False) -> tuple:
    """One LSTM layer direction over x (T, B, I): (outputs (T, B, H), h_n, c_n)."""
    return LSTMLayer.apply(x, w_ih, w_hh, b_ih, b_hh, h0, c0, bool(reverse))


def gru_layer(x: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Optional[Tensor],
              b_hh: Optional[Tensor], h0: Tensor, reverse: bool = False) -> tuple:
    """One GRU layer direction over x (T, B, I): (outputs (T, B, H), h_n)."""
    return GRULayer.apply(x, w_ih, w_hh, b_ih, b_hh, h0, bool(reverse))


def rnn_layer(x: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Optional[Tensor],
              b_hh: Optional[Tensor], h0: Tensor, nonlinearity: str = "tanh",
              reverse: bool = False) -> tuple:
    """One Elman RNN layer direction over x (T, B, I): (outputs (T, B, H), h_n)."""
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"rnn: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    return RNNLayer.apply(x, w_ih, w_hh, b_ih, b_hh, h0, nonlinearity, bool(reverse))
