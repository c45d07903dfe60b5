"""Fused recurrent layers: one direction of one LSTM / GRU / Elman-RNN layer per call.

The caller (the op layer) has already multiplied the whole input sequence by W_ih in one
BLAS product, ``xw = x @ W_ih^T + b_ih`` (plus ``b_hh`` where it is plain additive), and
turns ``g_xw`` back into gradients of x, W_ih and the biases with BLAS. What is left is the
recurrence, which cannot be batched over time: per step one (B, H) x (H, G) product with
W_hh and the gate arithmetic. Gate order and equations are PyTorch's (nn.LSTM / nn.GRU /
nn.RNN).

Design (measured on 2 cores with benchmarks/kernel_rnn.py and prototypes; the per-step
products dominate):
- The time loop runs in Python and each step's product is numpy's BLAS in the transposed
  orientation ``W_hh @ h^T`` -> (G, B): for B = 20, H = 200 that took 75 us against 92 us
  for ``h @ W_hh^T`` (OpenBLAS threads an (800 x 200) x (200 x 20) product poorly when the
  20 is its row count), and 82 us against 104 us for the backward's ``W_hh^T g^T``.
  Staying on numpy's BLAS, which the caller's products also use, keeps one thread pool.
- Rejected: the whole loop inside numba with ``np.dot`` (scipy's BLAS, a second thread pool
  spinning against numpy's: backward 4x slower); two threads each doing half of the hidden
  units with single-threaded BLAS per step (a ``prange`` per step: forward 2.2x slower).
- The gate arithmetic of one step is one small serial numba kernel, which also reads the
  (G, B) product transposed into the batch-major outputs (~20 us forward, ~12 us backward).
- PyPI's llvmlite has no SVML, so ``np.tanh`` / ``np.exp`` in a numba loop are scalar libm
  calls. For float32 the kernels use ``_tanh_f32``, a rational approximation (max error
  3.5e-7) that LLVM vectorises, and sigmoid(x) = tanh(x/2)/2 + 1/2. float64 stays exact
  (np.tanh, np.exp): it is what the gradient checks by finite differences use.
- Nothing is allocated per step: outputs and the scratch product are allocated once.

Layouts: time-major, ``xw`` (T, B, G) with G = 4H (LSTM), 3H (GRU) or H (RNN); states
(B, H); W_hh (G, H) as PyTorch stores it; all float32 or float64, C-contiguous, one dtype
per call. ``reverse=True`` runs the recurrence from t = T-1 down to 0 (the backward
direction of a bidirectional layer) without the caller flipping and copying the sequence;
outputs stay indexed by input position, and the backward takes the forward's ``reverse``.
"""
from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.extending import overload

# ----------------------------------------------------------------------------- activations

# tanh(x) ~ x * P(x^2) / Q(x^2) on |x| <= _TANH_CLIP, coefficients fitted for this module
# (least squares reweighted towards minimax). Past the clip float32's tanh is within the
# same error of +-1, and the clip keeps |result| < 1, so 1 - tanh^2 stays >= 0.
_TANH_CLIP = 7.9
_P1, _P2, _P3, _P4 = 1.345017500e-01, 3.578439399e-03, 2.201314473e-05, 1.541192518e-08
_Q1, _Q2, _Q3, _Q4 = 4.678350375e-01, 2.619019710e-02, 3.422704091e-04, 8.592658426e-07


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def _tanh_f32(x):
    """tanh of a float32 scalar, max error 3.5e-7, vectorisable; NaN stays NaN."""
    f = np.float32
    clip = f(_TANH_CLIP)
    # A NaN fails both comparisons and passes through.
    x = clip if x > clip else x
    x = -clip if x < -clip else x
    s = x * x
    p = f(1.0) + s * (f(_P1) + s * (f(_P2) + s * (f(_P3) + s * f(_P4))))
    q = f(1.0) + s * (f(_Q1) + s * (f(_Q2) + s * (f(_Q3) + s * f(_Q4))))
    return x * p / q


def _tanh(x):
    """tanh(x): exact for float64 (and in pure Python), ``_tanh_f32`` in float32 kernels."""
    return np.tanh(x)


def _sigmoid(x):
    """1 / (1 + e^-x): exact for float64 (and in pure Python); float32 kernels use
    tanh(x/2)/2 + 1/2 with ``_tanh_f32``."""
    return 1.0 / (1.0 + np.exp(-x))


# The kernels call _tanh / _sigmoid; numba's typing picks the implementation per dtype when
# a kernel compiles (nothing compiles at import).
@overload(_tanh)
def _tanh_typed(x):
    if x == types.float32:
        return lambda x: _tanh_f32(x)
    return lambda x: np.tanh(x)


@overload(_sigmoid)
def _sigmoid_typed(x):
    if x == types.float32:
        return lambda x: np.float32(0.5) * _tanh_f32(np.float32(0.5) * x) + np.float32(0.5)
    return lambda x: 1.0 / (1.0 + np.exp(-x))


# ----------------------------------------------------------------------------- LSTM


def lstm_forward(xw: np.ndarray, w_hh: np.ndarray, h0: np.ndarray, c0: np.ndarray,
                 reverse: bool = False) -> tuple:
    """One LSTM layer direction: (hs (T, B, H), cs (T, B, H), gates (T, B, 4H)).

    xw (T, B, 4H) = x W_ih^T + b_ih + b_hh, gates in PyTorch's order i, f, g, o;
    w_hh (4H, H); h0, c0 (B, H). ``gates`` keeps the activated i, f, g, o for backward.
    """
    t_len, batch, g4 = xw.shape
    hs = np.empty((t_len, batch, g4 // 4), dtype=xw.dtype)
    cs = np.empty_like(hs)
    gates = np.empty_like(xw)
    z = np.empty((g4, batch), dtype=xw.dtype)  # W_hh h_{t-1}, transposed (see module doc)
    h_prev, c_prev = h0, c0
    for t in _steps(t_len, reverse):
        np.dot(w_hh, h_prev.T, out=z)
        _lstm_cell(xw[t], z, c_prev, gates[t], hs[t], cs[t])
        h_prev, c_prev = hs[t], cs[t]
    return hs, cs, gates


def lstm_backward(g_hs: np.ndarray, g_hn: np.ndarray, g_cn: np.ndarray, w_hh: np.ndarray,
                  h0: np.ndarray, c0: np.ndarray, hs: np.ndarray, cs: np.ndarray,
                  gates: np.ndarray, reverse: bool = False) -> tuple:
    """Gradients (g_xw (T, B, 4H), g_w_hh (4H, H), g_h0 (B, H), g_c0 (B, H)).

    g_hs (T, B, H) is the gradient of the output sequence, g_hn / g_cn (B, H) those of the
    final states; the rest are ``lstm_forward``'s inputs and outputs.
    """
    t_len = hs.shape[0]
    g_xw = np.empty_like(gates)
    w_t = np.ascontiguousarray(w_hh.T)  # (H, 4H): the transposed product reads it by rows
    # (H, B): W_hh^T g_{t+1}, the recurrent part of dL/dh_t. A copy, never a view: with B = 1
    # g_hn.T is already contiguous, and the loop writes into this array.
    dh = g_hn.T.copy()
    dc = g_cn.copy()  # dL/dc_t, carried backwards in place
    steps = _steps(t_len, reverse)
    for k in range(t_len - 1, -1, -1):
        t = steps[k]
        c_prev = cs[steps[k - 1]] if k > 0 else c0
        _lstm_cell_backward(g_hs[t], dh, dc, c_prev, cs[t], gates[t], g_xw[t])
        np.dot(w_t, g_xw[t].T, out=dh)
    return g_xw, _w_hh_grad(g_xw, hs, h0, reverse), np.ascontiguousarray(dh.T), dc


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def _lstm_cell(xw, z, c_prev, gates, h, c):
    """One step. xw, gates (B, 4H); z (4H, B) = W_hh h_prev^T; c_prev, h, c (B, H); float32/64."""
    batch, g4 = xw.shape
    hidden = g4 // 4
    for b in range(batch):
        a = gates[b]
        _add_column(a, xw[b], z[:, b])
        # The lecture's LSTM: i, f, o = sigmoid(.), g = tanh(.), c_t = f*c_{t-1} + i*g,
        # h_t = o*tanh(c_t).
        _sigmoid_inplace(a[:2 * hidden])
        _tanh_inplace(a[2 * hidden:3 * hidden])
        _sigmoid_inplace(a[3 * hidden:])
        i, f, g, o = a[:hidden], a[hidden:2 * hidden], a[2 * hidden:3 * hidden], a[3 * hidden:]
        cp = c_prev[b]
        cb = c[b]
        hb = h[b]
        for j in range(hidden):
            cb[j] = f[j] * cp[j] + i[j] * g[j]
        for j in range(hidden):
            hb[j] = o[j] * _tanh(cb[j])


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def _lstm_cell_backward(g_h, dh, dc, c_prev, c, gates, g_xw):
    """One step back. g_h, dc, c_prev, c (B, H); dh (H, B) = W_hh^T g_{t+1}^T;
    gates, g_xw (B, 4H). Updates dc to dL/dc_{t-1} in place."""
    batch, g4 = gates.shape
    hidden = g4 // 4
    one = gates.dtype.type(1.0)
    for b in range(batch):
        a = gates[b]
        out = g_xw[b]
        ig, fg, gg, og = a[:hidden], a[hidden:2 * hidden], a[2 * hidden:3 * hidden], a[3 * hidden:]
        di, df, dg, do = (out[:hidden], out[hidden:2 * hidden], out[2 * hidden:3 * hidden],
                          out[3 * hidden:])
        # dL/dh_t staged in the o slot: read transposed once, then the main loop is contiguous.
        _add_column(do, g_h[b], dh[:, b])
        cp = c_prev[b]
        cb = c[b]
        dcb = dc[b]
        for j in range(hidden):
            i = ig[j]
            f = fg[j]
            g = gg[j]
            o = og[j]
            tc = _tanh(cb[j])
            d_h = do[j]
            d_c = dcb[j] + d_h * o * (one - tc * tc)
            di[j] = d_c * g * i * (one - i)
            df[j] = d_c * cp[j] * f * (one - f)
            dg[j] = d_c * i * (one - g * g)
            do[j] = d_h * tc * o * (one - o)
            dcb[j] = d_c * f


# ----------------------------------------------------------------------------- GRU


def gru_forward(xw: np.ndarray, w_hh: np.ndarray, b_hh: np.ndarray, h0: np.ndarray,
                reverse: bool = False) -> tuple:
    """One GRU layer direction: (hs (T, B, H), saved (T, B, 4H)).

    xw (T, B, 3H) = x W_ih^T + b_ih, gates in PyTorch's order r, z, n; w_hh (3H, H);
    b_hh (3H,) stays separate because b_hn is multiplied by r; h0 (B, H). ``saved`` keeps
    r, z, n and W_hn h_{t-1} + b_hn for backward.
    """
    t_len, batch, g3 = xw.shape
    hs = np.empty((t_len, batch, g3 // 3), dtype=xw.dtype)
    saved = np.empty((t_len, batch, 4 * (g3 // 3)), dtype=xw.dtype)
    z = np.empty((g3, batch), dtype=xw.dtype)  # W_hh h_{t-1}, transposed
    h_prev = h0
    for t in _steps(t_len, reverse):
        np.dot(w_hh, h_prev.T, out=z)
        _gru_cell(xw[t], z, b_hh, h_prev, saved[t], hs[t])
        h_prev = hs[t]
    return hs, saved


def gru_backward(g_hs: np.ndarray, g_hn: np.ndarray, w_hh: np.ndarray, b_hh: np.ndarray,
                 h0: np.ndarray, hs: np.ndarray, saved: np.ndarray,
                 reverse: bool = False) -> tuple:
    """Gradients (g_xw (T, B, 3H), g_w_hh (3H, H), g_b_hh (3H,), g_h0 (B, H)).

    g_hs (T, B, H) is the gradient of the output sequence, g_hn (B, H) that of the final
    state; the rest are ``gru_forward``'s inputs and outputs.
    """
    t_len, batch, hidden = hs.shape
    g_xw = np.empty((t_len, batch, 3 * hidden), dtype=hs.dtype)
    # Gradient of the hidden-side pre-activations W_hh h + b_hh: equal to g_xw for r and
    # z, r times it for n.
    g_hh = np.empty_like(g_xw)
    w_t = np.ascontiguousarray(w_hh.T)
    dh = g_hn.copy()  # (B, H): the part of dL/dh_t that does not go through W_hh
    dr = np.zeros((hidden, batch), dtype=hs.dtype)  # (H, B): W_hh^T g_hh[t+1]
    steps = _steps(t_len, reverse)
    for k in range(t_len - 1, -1, -1):
        t = steps[k]
        h_prev = hs[steps[k - 1]] if k > 0 else h0
        _gru_cell_backward(g_hs[t], dh, dr, h_prev, saved[t], g_xw[t], g_hh[t])
        np.dot(w_t, g_hh[t].T, out=dr)
    dh += dr.T
    return (g_xw, _w_hh_grad(g_hh, hs, h0, reverse), g_hh.reshape(-1, 3 * hidden).sum(axis=0),
            dh)


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def _gru_cell(xw, z, b_hh, h_prev, saved, h):
    """One step. xw (B, 3H); z (3H, B) = W_hh h_prev^T; b_hh (3H,); h_prev, h (B, H);
    saved (B, 4H) receives r, z, n, W_hn h_prev + b_hn."""
    batch, g3 = xw.shape
    hidden = g3 // 3
    one = xw.dtype.type(1.0)
    for b in range(batch):
        s = saved[b]
        x = xw[b]
        zb = z[:, b]
        rz = s[:2 * hidden]
        r, u, n, hn = s[:hidden], s[hidden:2 * hidden], s[2 * hidden:3 * hidden], s[3 * hidden:]
        _add_column(rz, x[:2 * hidden], zb[:2 * hidden])
        _add_column(hn, b_hh[2 * hidden:], zb[2 * hidden:])
        # PyTorch's GRU: r = sigmoid(x_r + W_hr h + b_hr), z = sigmoid(x_z + W_hz h + b_hz),
        # n = tanh(x_n + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h.
        bz = b_hh[:2 * hidden]
        for j in range(2 * hidden):
            rz[j] = _sigmoid(rz[j] + bz[j])
        xn = x[2 * hidden:]
        for j in range(hidden):
            n[j] = _tanh(xn[j] + r[j] * hn[j])
        hp = h_prev[b]
        hb = h[b]
        for j in range(hidden):
            hb[j] = (one - u[j]) * n[j] + u[j] * hp[j]


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def _gru_cell_backward(g_h, dh, dr, h_prev, saved, g_xw, g_hh):
    """One step back. g_h, h_prev (B, H); dh (B, H) in/out, the direct part of dL/dh;
    dr (H, B) = W_hh^T g_hh[t+1]^T; saved (B, 4H); g_xw, g_hh (B, 3H)."""
    batch, g4 = saved.shape
    hidden = g4 // 4
    one = saved.dtype.type(1.0)
    for b in range(batch):
        s = saved[b]
        r, u, n, hn = s[:hidden], s[hidden:2 * hidden], s[2 * hidden:3 * hidden], s[3 * hidden:]
        gx = g_xw[b]
        gg = g_hh[b]
        dxr, dxz, dxn = gx[:hidden], gx[hidden:2 * hidden], gx[2 * hidden:]
        dhr, dhz, dhn = gg[:hidden], gg[hidden:2 * hidden], gg[2 * hidden:]
        d = dh[b]
        # dL/dh_t = direct part + g_h + W_hh^T part, read transposed once.
        _accumulate_column(d, g_h[b], dr[:, b])
        hp = h_prev[b]
        for j in range(hidden):
            d_h = d[j]
            d_n = d_h * (one - u[j]) * (one - n[j] * n[j])
            d_z = d_h * (hp[j] - n[j]) * u[j] * (one - u[j])
            d_r = d_n * hn[j] * r[j] * (one - r[j])
            dxr[j] = d_r
            dxz[j] = d_z
            dxn[j] = d_n
            dhr[j] = d_r
            dhz[j] = d_z
            dhn[j] = d_n * r[j]
            d[j] = d_h * u[j]


# ----------------------------------------------------------------------------- RNN


def rnn_forward(xw: np.ndarray, w_hh: np.ndarray, h0: np.ndarray, nonlinearity: str,
                reverse: bool = False) -> np.ndarray:
    """One Elman RNN layer direction: hs (T, B, H).

    xw (T, B, H) = x W_ih^T + b_ih + b_hh; w_hh (H, H); h0 (B, H); nonlinearity 'tanh' or
    'relu'.
    """
    t_len, batch, hidden = xw.shape
    hs = np.empty_like(xw)
    z = np.empty((hidden, batch), dtype=xw.dtype)  # W_hh h_{t-1}, transposed
    relu = nonlinearity == "relu"
    h_prev = h0
    for t in _steps(t_len, reverse):
        np.dot(w_hh, h_prev.T, out=z)
        _rnn_cell(xw[t], z, hs[t], relu)
        h_prev = hs[t]
    return hs


def rnn_backward(g_hs: np.ndarray, g_hn: np.ndarray, w_hh: np.ndarray, h0: np.ndarray,
                 hs: np.ndarray, nonlinearity: str, reverse: bool = False) -> tuple:
    """Gradients (g_xw (T, B, H), g_w_hh (H, H), g_h0 (B, H)) of ``rnn_forward``."""
    t_len = hs.shape[0]
    g_xw = np.empty_like(hs)
    w_t = np.ascontiguousarray(w_hh.T)
    dr = g_hn.T.copy()  # (H, B): W_hh^T g_xw[t+1]; a copy, as in lstm_backward
    relu = nonlinearity == "relu"
    steps = _steps(t_len, reverse)
    for k in range(t_len - 1, -1, -1):
        t = steps[k]
        _rnn_cell_backward(g_hs[t], dr, hs[t], g_xw[t], relu)
        np.dot(w_t, g_xw[t].T, out=dr)
    return g_xw, _w_hh_grad(g_xw, hs, h0, reverse), np.ascontiguousarray(dr.T)


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def _rnn_cell(xw, z, h, relu):
    """One step. xw, h (B, H); z (H, B) = W_hh h_prev^T."""
    batch, hidden = xw.shape
    zero = xw.dtype.type(0.0)
    for b in range(batch):
        hb = h[b]
        _add_column(hb, xw[b], z[:, b])
        # The lecture's recurrence h_t = tanh(b + U h_{t-1} + W C(w_t)) (b, W C(w_t) in xw).
        if relu:
            for j in range(hidden):
                v = hb[j]
                hb[j] = zero if v < zero else v  # NaN passes through, as in torch
        else:
            _tanh_inplace(hb)


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def _rnn_cell_backward(g_h, dr, h, g_xw, relu):
    """One step back. g_h, h, g_xw (B, H); dr (H, B) = W_hh^T g_xw[t+1]^T."""
    batch, hidden = h.shape
    one = h.dtype.type(1.0)
    zero = h.dtype.type(0.0)
    for b in range(batch):
        hb = h[b]
        out = g_xw[b]
        _add_column(out, g_h[b], dr[:, b])
        if relu:
            for j in range(hidden):
                out[j] = out[j] if hb[j] > zero else zero
        else:
            for j in range(hidden):
                out[j] *= one - hb[j] * hb[j]


# ----------------------------------------------------------------------------- helpers
# Loops run over views starting at 0: indexing a row at ``3 * hidden + j`` made LLVM keep
# numba's negative-index wraparound and gave up vectorising (4x slower, measured).


@njit(cache=True, error_model="numpy")
def _add_column(out, row, column):
    """out = row + column, all (N,); column is strided (a column of a transposed product)."""
    for j in range(out.shape[0]):
        out[j] = row[j] + column[j]


@njit(cache=True, error_model="numpy")
def _accumulate_column(out, row, column):
    """out += row + column, all (N,); column is strided."""
    for j in range(out.shape[0]):
        out[j] += row[j] + column[j]


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def _sigmoid_inplace(a):
    for j in range(a.shape[0]):
        a[j] = _sigmoid(a[j])


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def _tanh_inplace(a):
    for j in range(a.shape[0]):
        a[j] = _tanh(a[j])


# ----------------------------------------------------------------------------- shared


def _steps(t_len: int, reverse: bool) -> range:
    """Time indices in the order the recurrence visits them."""
    return range(t_len - 1, -1, -1) if reverse else range(t_len)


def _w_hh_grad(g: np.ndarray, hs: np.ndarray, h0: np.ndarray, reverse: bool) -> np.ndarray:
    """sum_t g[t]^T h_prev(t): (G, H) from g (T, B, G), hs (T, B, H), h0 (B, H); two GEMMs."""
    t_len, _, hidden = hs.shape
    gdim = g.shape[2]
    first = t_len - 1 if reverse else 0  # the step whose previous state is h0
    grad = np.dot(g[first].T, h0) if t_len else np.zeros((gdim, hidden), dtype=g.dtype)
    if t_len > 1:
        # Step t's previous state is hs[t-1] (hs[t+1] when reversed): shifted contiguous views.
        g_rest = g[:-1] if reverse else g[1:]
        h_rest = hs[1:] if reverse else hs[:-1]
        grad += np.dot(g_rest.reshape(-1, gdim).T, h_rest.reshape(-1, hidden))
    return grad
