"""Fused, numerically stable cross-entropy, softmax and log_softmax over 2-D (M, K) rows.

Cross-entropy forward, per row i: m = max_k x_ik, s_i = sum_k exp(x_ik - m), lse_i = m + log s_i
and
    loss_i = (1 - eps) * (lse_i - x_i,t) + eps * (lse_i - mean_k x_ik),
the label-smoothed negative log-likelihood (eps = label_smoothing, t = target), evaluated
as log s_i - (x_i,t - m) (and log s_i - mean_k (x_ik - m)): subtracting m from each logit
first keeps the digits that m + log s_i, rounded to the logits' precision, would lose when
the logits are large. Backward recomputes softmax_ik = exp(x_ik - m) / s_i from the saved
(m, s) instead of storing an (M, K) array:
    dloss_i/dx_ik = softmax_ik - (1 - eps) * [k == t] - eps / K.
Rows whose target is ``ignore_index`` contribute 0 and get a zero gradient. Reductions
('mean' / 'sum') and class weights belong to the op layer.

Design (measured in benchmarks/kernel_misc.py): the pass that takes a row's max brings
it from memory, the following passes find it in the cache. Rows are split into one chunk
per thread (Python threads; the kernels release the GIL) above ``_SERIAL_ELEMENTS`` logits, run serially below. The
exponential is our own (``_exp_prepare``): numba's ``np.exp`` in a loop is a scalar libm
call here (PyPI's llvmlite has no SVML) and made the cross-entropy 3x slower than numpy's
SIMD exp. The softmax and log_softmax kernels are kept because they beat the numpy
expression (max, subtract, exp, sum, log: five passes and temporaries) 2-4x from (64, 10)
to (700, 10000).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ._threads import num_threads, parallel_chunks

# Below this many logits a second thread costs more (launch ~20 us + sync) than it saves.
_SERIAL_ELEMENTS = 100_000
# Independent running maxima in _row_max. On rows of 10000 float32: 64 lanes 0.15 ns per
# element, 32 lanes 0.64, 16 lanes 0.40, 128 lanes 0.12 but 3x slower on rows of 64.
_LANES = 64


def _launch(serial, x: np.ndarray, *args) -> None:
    """serial(first, stop, bits, x, *args) over x's M rows, one chunk per thread when it pays.

    bits: one scratch row per thread for ``_exp_prepare``, an integer as wide as x's dtype.
    """
    m, k = x.shape
    threads = 1 if m * k < _SERIAL_ELEMENTS else num_threads(m)
    bits = np.empty((threads, k), dtype=np.int32 if x.dtype == np.float32 else np.int64)
    parallel_chunks(m, threads, lambda t, first, stop: serial(first, stop, bits[t], x, *args))


def cross_entropy_forward(logits: np.ndarray, target: np.ndarray, ignore_index: int,
                          label_smoothing: float) -> tuple:
    """(loss_per_row (M,), stats (2, M)) of logits (M, K) float32/64 and target (M,) int64.

    stats holds each row's shift m (its max) and s = sum_k exp(x_k - m), what the backward
    needs; ``logsumexp(stats)`` is m + log s. Targets other than ``ignore_index`` must lie
    in [0, K) (checked by the op layer).
    """
    logits = np.ascontiguousarray(logits)
    target = np.ascontiguousarray(target, dtype=np.int64)
    loss = np.empty(logits.shape[0], dtype=logits.dtype)
    stats = np.empty((2, logits.shape[0]), dtype=logits.dtype)
    _launch(_ce_forward_rows, logits, target, int(ignore_index),
            float(label_smoothing), loss, stats[0], stats[1])
    return loss, stats


def logsumexp(stats: np.ndarray) -> np.ndarray:
    """Each row's log sum_k exp(x_k) from cross_entropy_forward's stats."""
    with np.errstate(divide="ignore"):
        return stats[0] + np.log(stats[1])


def cross_entropy_backward(logits: np.ndarray, target: np.ndarray, stats: np.ndarray,
                           grad_rows: np.ndarray, ignore_index: int,
                           label_smoothing: float) -> np.ndarray:
    """grad_logits (M, K) = grad_rows[:, None] * (softmax - (1-eps)*onehot(target) - eps/K).

    ``stats`` is the forward's second output; ignored rows get zeros.
    """
    logits = np.ascontiguousarray(logits)
    target = np.ascontiguousarray(target, dtype=np.int64)
    stats = np.ascontiguousarray(stats, dtype=logits.dtype)
    grad_rows = np.ascontiguousarray(grad_rows, dtype=logits.dtype)
    grad = np.empty_like(logits)
    _launch(_ce_backward_rows, logits, target, stats[0], stats[1], grad_rows,
            int(ignore_index), float(label_smoothing), grad)
    return grad


def log_softmax_forward(x: np.ndarray) -> np.ndarray:
    """log_softmax of x (M, K) float32/64 over its last axis, numerically stable."""
    x = np.ascontiguousarray(x)
    y = np.empty_like(x)
    _launch(_softmax_rows, x, y, True)
    return y


def softmax_forward(x: np.ndarray) -> np.ndarray:
    """softmax of x (M, K) float32/64 over its last axis, numerically stable."""
    x = np.ascontiguousarray(x)
    y = np.empty_like(x)
    _launch(_softmax_rows, x, y, False)
    return y


# ----------------------------------------------------------------------------- kernels
# Each kernel: a serial function over rows [first, stop) of C-contiguous (M, K) arrays that
# releases the GIL, so that ``_launch`` can run one chunk of rows per thread.


@njit(cache=True, error_model="numpy")
def _row_max(row, acc):
    """max of row (K,) float32/64 ignoring NaNs (-inf if none); acc (_LANES,) scratch.

    Skipping NaNs is safe for the callers: a NaN reaches their result through its exponential.
    """
    # A single running max is one long dependency chain that LLVM cannot turn into a
    # vector reduction (the select carries no fast-math flags). _LANES independent lanes,
    # a compile-time constant, become a few vector max operations per block instead.
    k = row.shape[0]
    acc[:] = -np.inf
    blocks = k // _LANES
    for b in range(blocks):
        base = b * _LANES
        for j in range(_LANES):
            v = row[base + j]
            a = acc[j]
            acc[j] = v if v > a else a
    w = _LANES
    while w > 1:  # fold the lanes in halves: log2(_LANES) vector steps
        w //= 2
        for j in range(w):
            a = acc[j]
            v = acc[j + w]
            acc[j] = v if v > a else a
    best = acc[0]
    for i in range(blocks * _LANES, k):
        best = row[i] if row[i] > best else best
    return best


@njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _row_sum(row):
    """sum of row (K,) float32/64; reassociated so it vectorises (not bit-reproducible)."""
    s = 0.0
    for i in range(row.shape[0]):
        s += row[i]
    return s


@njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _row_sum_shifted(row, shift):
    """sum_k (row[k] - shift), (K,) float32/64, reassociated so it vectorises."""
    s = row.dtype.type(0.0)
    for i in range(row.shape[0]):
        s += row[i] - shift
    return s


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def _exp_prepare(src, shift, mant, bits):
    """exp(src - shift) = mant * bits.view(src.dtype), elementwise, for src - shift <= 0.

    src, mant (K,) float32/64; bits (K,) int32/int64 (the integer of the same width).
    Cody-Waite: z = n*ln2 + r with |r| <= ln2/2, e^r by its Taylor polynomial (degree 7
    in float32, 12 in float64: truncation below half an ulp) and 2^n written as exponent
    bits, read back through the float view: two plain loops that LLVM vectorises.
    z below -87 (float32) or -708 (float64), where e^z leaves the normal range, gives 0;
    NaN stays NaN.
    """
    log2e = 1.4426950408889634
    ln2_hi = 0.693145751953125  # 15 significant bits: n * ln2_hi is exact
    ln2_lo = 1.4286068203094173e-06
    c2, c3, c4, c5, c6 = 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720
    c7, c8, c9, c10 = 1.0 / 5040, 1.0 / 40320, 1.0 / 362880, 1.0 / 3628800
    c11, c12 = 1.0 / 39916800, 1.0 / 479001600
    if src.itemsize == 4:
        # float32 arithmetic throughout (Python float constants would promote to float64).
        f = np.float32
        lo = f(-87.0)  # 2^n stays a normal float32
        l2e, h, l, s = f(log2e), f(ln2_hi), f(ln2_lo), f(shift)
        for i in range(src.shape[0]):
            z = src[i] - s
            zc = z if z >= lo else lo  # also maps NaN to lo: n stays in range
            n = np.floor(zc * l2e + f(0.5))
            r = (zc - n * h) - n * l
            p = f(1.0) + r * (f(1.0) + r * (f(c2) + r * (f(c3) + r * (f(c4) + r * (
                f(c5) + r * (f(c6) + r * f(c7)))))))
            mant[i] = p if z >= lo else (f(0.0) if z < lo else z)
            bits[i] = (np.int32(n) + np.int32(127)) << np.int32(23)
    else:
        lo = -708.0
        for i in range(src.shape[0]):
            z = src[i] - shift
            zc = z if z >= lo else lo
            n = np.floor(zc * log2e + 0.5)
            r = (zc - n * ln2_hi) - n * ln2_lo
            p = 1.0 + r * (1.0 + r * (c2 + r * (c3 + r * (c4 + r * (c5 + r * (c6 + r * (
                c7 + r * (c8 + r * (c9 + r * (c10 + r * (c11 + r * c12)))))))))))
            mant[i] = p if z >= lo else (0.0 if z < lo else z)
            bits[i] = (np.int64(n) + 1023) << 52


@njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _sum_scaled(mant, scale):
    """sum_k mant[k] * scale[k] (the exponentials of ``_exp_prepare``); (K,) float32/64."""
    s = mant.dtype.type(0.0)
    for i in range(mant.shape[0]):
        s += mant[i] * scale[i]
    return s


@njit(cache=True, error_model="numpy", nogil=True)
def _ce_forward_rows(first, stop, bits, x, target, ignore_index, eps, loss, shifts, sums):
    """x (M, K) float32/64, target (M,) int64 -> loss, shifts, sums (M,); bits (K,) scratch."""
    k = x.shape[1]
    acc = np.empty(_LANES, dtype=x.dtype)
    mant = np.empty(k, dtype=x.dtype)
    scale = bits.view(x.dtype)
    for i in range(first, stop):
        row = x[i]
        m = _row_max(row, acc)
        # A row of -inf has no finite shift; with 0 its sum is 0, its lse -inf and its loss
        # NaN, as in torch. A +inf logit makes x - m NaN, hence lse NaN, also as in torch.
        shift = m if m != -np.inf else x.dtype.type(0.0)
        _exp_prepare(row, shift, mant, bits)
        s = _sum_scaled(mant, scale)
        shifts[i] = shift
        sums[i] = s
        t = target[i]
        if t == ignore_index:
            loss[i] = 0.0
            continue
        log_s = np.log(s)
        nll = log_s - (row[t] - shift)
        if eps != 0.0:
            # Label smoothing: the cross-entropy with the uniform distribution is
            # lse - mean_k x_k = log s - mean_k (x_k - m).
            nll = (1.0 - eps) * nll + eps * (log_s - _row_sum_shifted(row, shift) / k)
        loss[i] = nll



@njit(cache=True, error_model="numpy", fastmath={"contract"}, nogil=True)
def _ce_backward_rows(first, stop, bits, x, target, shifts, sums, grad_rows, ignore_index, eps,
                      grad):
    """x, grad (M, K) float32/64; target (M,) int64; shifts, sums, grad_rows (M,); bits (K,)
    scratch."""
    k = x.shape[1]
    scale = bits.view(x.dtype)
    one_minus_eps = x.dtype.type(1.0 - eps)
    smooth = x.dtype.type(eps / k)
    for i in range(first, stop):
        out = grad[i]
        t = target[i]
        if t == ignore_index:
            out[:] = 0.0
            continue
        g = grad_rows[i]
        gs = g * smooth
        gp = g / sums[i]  # softmax = exp(x - m) / s
        _exp_prepare(x[i], shifts[i], out, bits)  # exp(x - m), as mantissa (in out) and scale
        for j in range(k):
            out[j] = gp * (out[j] * scale[j]) - gs
        out[t] -= g * one_minus_eps



@njit(cache=True, error_model="numpy", nogil=True)
def _softmax_rows(first, stop, bits, x, y, log):
    """y = log_softmax(x) if log else softmax(x), rows of (M, K) float32/64; bits (K,) scratch."""
    k = x.shape[1]
    acc = np.empty(_LANES, dtype=x.dtype)
    scale = bits.view(x.dtype)
    for i in range(first, stop):
        row = x[i]
        out = y[i]
        m = _row_max(row, acc)
        shift = m if m != -np.inf else x.dtype.type(0.0)  # as in _ce_forward_rows
        _exp_prepare(row, shift, out, bits)
        if log:
            lse = shift + np.log(_sum_scaled(out, scale))
            for j in range(k):
                out[j] = row[j] - lse
        else:
            for j in range(k):
                out[j] *= scale[j]
            inv = 1.0 / _row_sum(out)
            for j in range(k):
                out[j] *= inv
