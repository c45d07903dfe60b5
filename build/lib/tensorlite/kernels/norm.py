"""Batch normalisation, fused: statistics, normalisation and the affine map in one kernel;
the whole backward in another.

Layout: the input is viewed as x (N, C, L) (L = H*W for BatchNorm2d, L for (N, C, L), 1
for (N, C)). Two loop orders:

* planes (L > 1): one channel at a time. Its N*L values (128 KB for (32, 64, 32, 32)
  float32) stay in the L2 cache between the passes of that channel: the mean pass reads
  them from memory, the variance pass (two-pass: exact, no cancellation) and the output
  pass from the cache. Reductions run with ``fastmath={"reassoc", "contract"}`` so LLVM
  may split the sum over vector lanes (the order of a sum changes, not its terms: float64
  stays exact to rounding, and no NaN/inf rule is relaxed).
* rows (L == 1, BatchNorm1d on (N, C)): a channel's values are C apart, so the loops run
  over rows with one accumulator per channel, vectorised across channels.

Statistics accumulate in float64 for both dtypes; mean and 1/sqrt(var + eps) are kept in
float64 for the backward. Work is split over channels between threads at run time
(``_threads.parallel_chunks``).

Training, per channel (m = N*L values, xhat = (x - mean) * rstd, the lecture's
normalise-then-scale-and-shift):

    y  = weight * xhat + bias
    gb = sum(g),  gw = sum(g * xhat)
    gx = weight * rstd * (g - gb / m - xhat * gw / m)

Evaluation: y = x * scale + shift with scale = weight * rstd, shift = bias - mean * scale
from the running statistics; gx = g * scale, gw and gb as above.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ._threads import num_threads, parallel_chunks

_FAST = {"reassoc", "contract"}
# Below this many values one thread does it all: the kernels pass ~3 values per ns, so
# 512k values are ~0.2 ms of work, ten times what handing out pieces costs.
_SERIAL_ELEMENTS = 1 << 19


def _as3(x: np.ndarray) -> np.ndarray:
    """The kernels' view: (N, C, L) for the planes kernels, (N, C) for the rows kernels."""
    x = np.ascontiguousarray(x)
    n, c = x.shape[0], x.shape[1]
    return x.reshape(n, c) if x.size == n * c else x.reshape(n, c, -1)


def _kernel(x3: np.ndarray, planes, rows):
    return rows if x3.ndim == 2 else planes


def _split(x3: np.ndarray, body) -> None:
    c = x3.shape[1]
    threads = 1 if x3.size < _SERIAL_ELEMENTS else num_threads(c)
    # Pieces of at least ~64k values: smaller ones cost more to hand out than they take.
    min_piece = max(1, (1 << 16) // max(1, x3.size // max(c, 1)))
    parallel_chunks(c, threads, body, min_piece)


def train_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> tuple:
    """(y like x, mean (C,) float64, var (C,) float64 biased, rstd (C,) float64) of x
    (N, C, ...) float32/64 normalised per channel with the batch statistics; weight, bias
    (C,) of x's dtype."""
    x3 = _as3(x)
    c = x3.shape[1]
    y = np.empty(x.shape, x.dtype)  # owns its memory (a reshaped view would be copied later)
    y3 = y.reshape(x3.shape)
    mean = np.empty(c)
    var = np.empty(c)
    rstd = np.empty(c)
    kernel = _kernel(x3, _train_forward_planes, _train_forward_rows)
    w, b = np.ascontiguousarray(weight), np.ascontiguousarray(bias)
    eps = float(eps)
    _split(x3, lambda t, first, stop: kernel(x3, w, b, y3, mean, var, rstd, eps, first, stop))
    return y, mean, var, rstd


def train_backward(x: np.ndarray, g: np.ndarray, weight: np.ndarray, mean: np.ndarray,
                   rstd: np.ndarray, need_x: bool) -> tuple:
    """(gx like x or None, gw (C,), gb (C,)) of the training-mode forward, from its input x,
    the output gradient g (like x), weight (C,) and the saved float64 mean and rstd."""
    x3, g3 = _as3(x), _as3(g)
    c = x3.shape[1]
    gx = np.empty(x.shape, x3.dtype) if need_x else np.empty(0, x3.dtype)
    gx3 = gx.reshape(x3.shape) if need_x else gx[:0].reshape((0,) * x3.ndim)
    gw = np.empty(c, x3.dtype)
    gb = np.empty(c, x3.dtype)
    kernel = _kernel(x3, _train_backward_planes, _train_backward_rows)
    w = np.ascontiguousarray(weight)
    _split(x3, lambda t, first, stop: kernel(x3, g3, w, mean, rstd, gx3, gw, gb, need_x,
                                             first, stop))
    return (gx if need_x else None), gw, gb


def eval_forward(x: np.ndarray, scale: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """y = x * scale + shift per channel; x (N, C, ...), scale and shift (C,) of x's dtype."""
    x3 = _as3(x)
    y = np.empty(x.shape, x.dtype)
    y3 = y.reshape(x3.shape)
    kernel = _kernel(x3, _affine_planes, _affine_rows)
    s, h = np.ascontiguousarray(scale), np.ascontiguousarray(shift)
    _split(x3, lambda t, first, stop: kernel(x3, s, h, y3, first, stop))
    return y


def eval_backward(x: np.ndarray, g: np.ndarray, scale: np.ndarray, mean: np.ndarray,
                  rstd: np.ndarray, need_x: bool) -> tuple:
    """(gx = g * scale or None, gw = sum(g * (x - mean) * rstd), gb = sum(g)) per channel;
    scale (C,) of x's dtype, mean and rstd (C,) float64."""
    x3, g3 = _as3(x), _as3(g)
    c = x3.shape[1]
    gx = np.empty(x.shape, x3.dtype) if need_x else np.empty(0, x3.dtype)
    gx3 = gx.reshape(x3.shape) if need_x else gx[:0].reshape((0,) * x3.ndim)
    gw = np.empty(c, x3.dtype)
    gb = np.empty(c, x3.dtype)
    kernel = _kernel(x3, _eval_backward_planes, _eval_backward_rows)
    s = np.ascontiguousarray(scale)
    _split(x3, lambda t, first, stop: kernel(x3, g3, s, mean, rstd, gx3, gw, gb, need_x,
                                             first, stop))
    return (gx if need_x else None), gw, gb


# ----------------------------------------------------------------------------- kernels
# x, g, y, gx: (N, C, L) float32/64, C-contiguous ((N, C) for the rows kernels);
# per-channel arrays (C,). Each kernel
# handles channels first:stop. A two-element array of x's dtype converts float64
# coefficients to that dtype (numba has no dtype-generic scalar cast).


@njit(cache=True, error_model="numpy", nogil=True, fastmath=_FAST)
def _train_forward_planes(x, w, b, y, mean, var, rstd, eps, first, stop):
    """Batch statistics and y = w * (x - mean) * rstd + b for channels first:stop."""
    n, _, l = x.shape
    m = n * l
    coef = np.empty(2, dtype=x.dtype)
    for c in range(first, stop):
        s = 0.0
        for i in range(n):
            xr = x[i, c]
            for j in range(l):
                s += xr[j]
        mu = s / m
        q = 0.0
        for i in range(n):
            xr = x[i, c]
            for j in range(l):
                d = xr[j] - mu
                q += d * d
        v = q / m
        r = 1.0 / np.sqrt(v + eps)
        mean[c] = mu
        var[c] = v
        rstd[c] = r
        coef[0] = w[c] * r
        coef[1] = b[c] - mu * (w[c] * r)
        a = coef[0]
        h = coef[1]
        for i in range(n):
            xr = x[i, c]
            yr = y[i, c]
            for j in range(l):
                yr[j] = xr[j] * a + h


@njit(cache=True, error_model="numpy", nogil=True)
def _train_forward_rows(x, w, b, y, mean, var, rstd, eps, first, stop):
    """_train_forward_planes for L == 1: accumulators across channels first:stop."""
    n = x.shape[0]
    k = stop - first
    acc = np.zeros(k)
    for i in range(n):
        xr = x[i][first:stop]
        for j in range(k):
            acc[j] += xr[j]
    for j in range(k):
        acc[j] /= n
    q = np.zeros(k)
    for i in range(n):
        xr = x[i][first:stop]
        for j in range(k):
            d = xr[j] - acc[j]
            q[j] += d * d
    a = np.empty(k, dtype=x.dtype)
    h = np.empty(k, dtype=x.dtype)
    for j in range(k):
        v = q[j] / n
        r = 1.0 / np.sqrt(v + eps)
        c = first + j
        mean[c] = acc[j]
        var[c] = v
        rstd[c] = r
        a[j] = w[c] * r
        h[j] = b[c] - acc[j] * (w[c] * r)
    for i in range(n):
        xr = x[i][first:stop]
        yr = y[i][first:stop]
        for j in range(k):
            yr[j] = xr[j] * a[j] + h[j]


@njit(cache=True, error_model="numpy", nogil=True, fastmath=_FAST)
def _train_backward_planes(x, g, w, mean, rstd, gx, gw, gb, need_x, first, stop):
    """gb = sum(g), gw = sum(g * xhat), gx = w*rstd*(g - gb/m - xhat*gw/m) per channel."""
    n, _, l = x.shape
    m = n * l
    coef = np.empty(3, dtype=x.dtype)
    for c in range(first, stop):
        mu = mean[c]
        sg = 0.0
        sgx = 0.0
        for i in range(n):
            xr = x[i, c]
            gr = g[i, c]
            for j in range(l):
                sg += gr[j]
                sgx += gr[j] * (xr[j] - mu)
        r = rstd[c]
        gb[c] = sg
        gw[c] = sgx * r
        if need_x:
            # gx = k*g + bx*x + c0 with k = w*rstd, bx = -k*rstd^2*sgx/m,
            # c0 = -k*sg/m - mean*bx: one multiply-add chain per element.
            k = w[c] * r
            bx = -k * r * r * sgx / m
            coef[0] = k
            coef[1] = bx
            coef[2] = -k * sg / m - mu * bx
            a0 = coef[0]
            a1 = coef[1]
            a2 = coef[2]
            for i in range(n):
                xr = x[i, c]
                gr = g[i, c]
                gxr = gx[i, c]
                for j in range(l):
                    gxr[j] = a0 * gr[j] + a1 * xr[j] + a2


@njit(cache=True, error_model="numpy", nogil=True)
def _train_backward_rows(x, g, w, mean, rstd, gx, gw, gb, need_x, first, stop):
    """_train_backward_planes for L == 1."""
    n = x.shape[0]
    k = stop - first
    sg = np.zeros(k)
    sgx = np.zeros(k)
    mu = mean[first:stop]
    for i in range(n):
        xr = x[i][first:stop]
        gr = g[i][first:stop]
        for j in range(k):
            sg[j] += gr[j]
            sgx[j] += gr[j] * (xr[j] - mu[j])
    a0 = np.empty(k, dtype=x.dtype)
    a1 = np.empty(k, dtype=x.dtype)
    a2 = np.empty(k, dtype=x.dtype)
    for j in range(k):
        c = first + j
        r = rstd[c]
        gb[c] = sg[j]
        gw[c] = sgx[j] * r
        kk = w[c] * r
        bx = -kk * r * r * sgx[j] / n
        a0[j] = kk
        a1[j] = bx
        a2[j] = -kk * sg[j] / n - mu[j] * bx
    if need_x:
        for i in range(n):
            xr = x[i][first:stop]
            gr = g[i][first:stop]
            gxr = gx[i][first:stop]
            for j in range(k):
                gxr[j] = a0[j] * gr[j] + a1[j] * xr[j] + a2[j]


@njit(cache=True, error_model="numpy", nogil=True)
def _affine_planes(x, scale, shift, y, first, stop):
    """y = x * scale[c] + shift[c] for channels first:stop."""
    n, _, l = x.shape
    for c in range(first, stop):
        a = scale[c]
        h = shift[c]
        for i in range(n):
            xr = x[i, c]
            yr = y[i, c]
            for j in range(l):
                yr[j] = xr[j] * a + h


@njit(cache=True, error_model="numpy", nogil=True)
def _affine_rows(x, scale, shift, y, first, stop):
    """_affine_planes for L == 1."""
    a = scale[first:stop]
    h = shift[first:stop]
    for i in range(x.shape[0]):
        xr = x[i][first:stop]
        yr = y[i][first:stop]
        for j in range(stop - first):
            yr[j] = xr[j] * a[j] + h[j]


@njit(cache=True, error_model="numpy", nogil=True, fastmath=_FAST)
def _eval_backward_planes(x, g, scale, mean, rstd, gx, gw, gb, need_x, first, stop):
    """gx = g * scale[c], gw = sum(g * (x - mean) * rstd), gb = sum(g) per channel."""
    n, _, l = x.shape
    for c in range(first, stop):
        mu = mean[c]
        a = scale[c]
        sg = 0.0
        sgx = 0.0
        for i in range(n):
            xr = x[i, c]
            gr = g[i, c]
            for j in range(l):
                sg += gr[j]
                sgx += gr[j] * (xr[j] - mu)
            if need_x:
                gxr = gx[i, c]
                for j in range(l):
                    gxr[j] = gr[j] * a
        gb[c] = sg
        gw[c] = sgx * rstd[c]


@njit(cache=True, error_model="numpy", nogil=True)
def _eval_backward_rows(x, g, scale, mean, rstd, gx, gw, gb, need_x, first, stop):
    """_eval_backward_planes for L == 1."""
    k = stop - first
    sg = np.zeros(k)
    sgx = np.zeros(k)
    mu = mean[first:stop]
    a = scale[first:stop]
    for i in range(x.shape[0]):
        xr = x[i][first:stop]
        gr = g[i][first:stop]
        for j in range(k):
            sg[j] += gr[j]
            sgx[j] += gr[j] * (xr[j] - mu[j])
        if need_x:
            gxr = gx[i][first:stop]
            for j in range(k):
                gxr[j] = gr[j] * a[j]
    for j in range(k):
        gb[first + j] = sg[j]
        gw[first + j] = sgx[j] * rstd[first + j]
