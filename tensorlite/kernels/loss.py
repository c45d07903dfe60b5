"""Fused, numerically stable cross-entropy over 2-D logits (M rows of K classes).

Forward, per row i: m = max_k x_ik, lse_i = m + log sum_k exp(x_ik - m) and
    loss_i = (1 - eps) * (lse_i - x_i,t) + eps * (lse_i - mean_k x_ik),
the label-smoothed negative log-likelihood (eps = label_smoothing, t = target). Backward
recomputes softmax_ik = exp(x_ik - lse_i) instead of storing an (M, K) array:
    dloss_i/dx_ik = softmax_ik - (1 - eps) * [k == t] - eps / K.
Rows whose target is ``ignore_index`` contribute 0 and get a zero gradient. Reductions
('mean' / 'sum') and class weights belong to the op layer.

Design (measured in benchmarks/kernel_misc.py): one pass brings a row from memory while
taking its max, the following passes find it in the cache. Rows are split into one chunk
per thread (``prange``) above ``_SERIAL_ELEMENTS``. The exponential is our own vectorisable
one (``_exp_prepare``): numba's ``np.exp`` in a loop is a scalar libm call here (PyPI's
llvmlite has no SVML) and ran 3x slower than numpy's SIMD exp, which would lose to PyTorch.

softmax / log_softmax kernels are deliberately absent: on rows that stay in the cache
numpy's own SIMD exp is as fast as ours, and the ops layer's numpy expression was within
noise of a numba kernel (see benchmarks/kernel_misc.py), so a kernel would only add code.
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

# Below this many logits a second thread costs more (launch ~5 us + sync) than it saves.
_SERIAL_ELEMENTS = 100_000


def _threads(m: int, k: int) -> int:
    return 1 if m * k < _SERIAL_ELEMENTS else max(1, min(numba.get_num_threads(), m))


def cross_entropy_forward(logits: np.ndarray, target: np.ndarray, ignore_index: int,
                          label_smoothing: float) -> tuple:
    """(loss_per_row (M,), lse (M,)) of logits (M, K) float32/64 and target (M,) int64.

    Targets other than ``ignore_index`` must lie in [0, K) (checked by the op layer).
    """
    logits = np.ascontiguousarray(logits)
    target = np.ascontiguousarray(target, dtype=np.int64)
    m, k = logits.shape
    loss = np.empty(m, dtype=logits.dtype)
    lse = np.empty(m, dtype=logits.dtype)
    _forward_kernel(logits, target, int(ignore_index), float(label_smoothing), loss, lse,
                    _threads(m, k))
    return loss, lse


def cross_entropy_backward(logits: np.ndarray, target: np.ndarray, lse: np.ndarray,
                           grad_rows: np.ndarray, ignore_index: int,
                           label_smoothing: float) -> np.ndarray:
    """grad_logits (M, K) = grad_rows[:, None] * (softmax - (1-eps)*onehot(target) - eps/K).

    ``lse`` is the forward's second output; ignored rows get zeros.
    """
    logits = np.ascontiguousarray(logits)
    target = np.ascontiguousarray(target, dtype=np.int64)
    lse = np.ascontiguousarray(lse, dtype=logits.dtype)
    grad_rows = np.ascontiguousarray(grad_rows, dtype=logits.dtype)
    m, k = logits.shape
    grad = np.empty_like(logits)
    _backward_kernel(logits, target, lse, grad_rows, int(ignore_index),
                     float(label_smoothing), grad, _threads(m, k))
    return grad


# ----------------------------------------------------------------------------- kernels


@njit(cache=True, error_model="numpy")
def _row_max(row, acc):
    """max of row (K,) float32/64, K >= 1, using acc (W,) as W independent running maxima.

    NaNs are skipped here; they reach the result through the exponentials instead.
    """
    # A single running max is one long dependency chain that LLVM cannot vectorise (the
    # select carries no fast-math flags); W independent lanes become vector max ops.
    k = row.shape[0]
    w = acc.shape[0]
    acc[:] = row[0]
    blocks = k // w
    for b in range(blocks):
        base = b * w
        for j in range(w):
            v = row[base + j]
            a = acc[j]
            acc[j] = v if v > a else a
    best = acc[0]
    for j in range(1, w):
        best = acc[j] if acc[j] > best else best
    for i in range(blocks * w, k):
        best = row[i] if row[i] > best else best
    return best


@njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _row_sum(row):
    """sum of row (K,) float32/64; reassociated so it vectorises (not bit-reproducible)."""
    s = 0.0
    for i in range(row.shape[0]):
        s += row[i]
    return s


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def _exp_prepare(src, shift, mant, bits):
    """exp(src - shift) = mant * bits.view(float64), elementwise; src (K,) float32/64, src <= shift.

    Cody-Waite: z = n*ln2 + r with |r| <= ln2/2, e^r by its Taylor polynomial (degree 7
    in float32, 12 in float64: truncation below half an ulp) and 2^n written as the
    exponent bits of a float64 into ``bits`` (int64), read back through a float64 view.
    z below the smallest normal result gives 0 (that is, float32's result rounds to 0 anyway;
    float64 loses only denormals); NaN stays NaN.
    """
    f32 = src.itemsize == 4
    lo = -104.0 if f32 else -708.0  # float32: e^-104 < half its smallest denormal
    log2e = 1.4426950408889634
    ln2_hi = 0.693145751953125  # 15 significant bits: n * ln2_hi is exact
    ln2_lo = 1.4286068203094173e-06
    c2, c3, c4, c5, c6 = 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720
    c7, c8, c9, c10 = 1.0 / 5040, 1.0 / 40320, 1.0 / 362880, 1.0 / 3628800
    c11, c12 = 1.0 / 39916800, 1.0 / 479001600
    # The two branches are the same loop with different polynomial lengths; each is a
    # straight loop that LLVM vectorises.
    if f32:
        # float32 arithmetic throughout (Python float constants would promote to float64).
        lo32 = np.float32(lo)
        l2e = np.float32(log2e)
        h = np.float32(ln2_hi)
        l = np.float32(ln2_lo)
        s = np.float32(shift)
        for i in range(src.shape[0]):
            z = src[i] - s
            zc = z if z >= lo32 else lo32  # also maps NaN to lo32: n stays in range
            n = np.floor(zc * l2e + np.float32(0.5))
            r = (zc - n * h) - n * l
            p = np.float32(1.0) + r * (np.float32(1.0) + r * (np.float32(c2) + r * (
                np.float32(c3) + r * (np.float32(c4) + r * (np.float32(c5) + r * (
                    np.float32(c6) + r * np.float32(c7)))))))
            mant[i] = p if z >= lo32 else (np.float32(0.0) if z < lo32 else z)
            bits[i] = (np.int64(n) + 1023) << 52
    else:
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
    """sum_k mant[k] * scale[k] (the exponentials of ``_exp_prepare``), vectorised."""
    s = 0.0
    for i in range(mant.shape[0]):
        s += mant[i] * scale[i]
    return s


@njit(cache=True, error_model="numpy")
def _forward_rows(x, target, ignore_index, eps, loss, lse, first, stop):
    """Rows [first, stop) of the forward; x (M, K) float32/64 C-contiguous, target (M,) int64."""
    k = x.shape[1]
    acc = np.empty(32, dtype=x.dtype)
    mant = np.empty(k, dtype=x.dtype)
    bits = np.empty(k, dtype=np.int64)
    scale = bits.view(np.float64)
    for i in range(first, stop):
        row = x[i]
        m = _row_max(row, acc)
        # A row of -inf (or +inf) has no finite shift; 0 keeps it NaN-free where torch is.
        shift = m if np.isfinite(m) else 0.0
        _exp_prepare(row, shift, mant, bits)
        lse_i = shift + np.log(_sum_scaled(mant, scale))
        lse[i] = lse_i
        t = target[i]
        if t == ignore_index:
            loss[i] = 0.0
            continue
        nll = lse_i - row[t]
        if eps != 0.0:
            # Label smoothing: the cross-entropy with the uniform distribution is lse - mean_k x_k.
            nll = (1.0 - eps) * nll + eps * (lse_i - _row_sum(row) / k)
        loss[i] = nll


@njit(cache=True, error_model="numpy", parallel=True)
def _forward_kernel(x, target, ignore_index, eps, loss, lse, threads):
    """x (M, K) float32/64 C-contiguous, target (M,) int64; writes loss (M,), lse (M,)."""
    m = x.shape[0]
    for c in prange(threads):
        _forward_rows(x, target, ignore_index, eps, loss, lse, c * m // threads,
                      (c + 1) * m // threads)


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def _backward_rows(x, target, lse, grad_rows, ignore_index, eps, grad, first, stop):
    """Rows [first, stop) of the backward; arrays as in ``_backward_kernel``."""
    k = x.shape[1]
    bits = np.empty(k, dtype=np.int64)
    scale = bits.view(np.float64)
    smooth = eps / k
    for i in range(first, stop):
        out = grad[i]
        t = target[i]
        if t == ignore_index:
            out[:] = 0.0
            continue
        g = grad_rows[i]
        gs = g * smooth
        _exp_prepare(x[i], lse[i], out, bits)  # softmax, as mantissa and scale
        for j in range(k):
            out[j] = g * (out[j] * scale[j]) - gs
        out[t] -= g * (1.0 - eps)


@njit(cache=True, error_model="numpy", parallel=True)
def _backward_kernel(x, target, lse, grad_rows, ignore_index, eps, grad, threads):
    """x, grad (M, K) float32/64 C-contiguous; target (M,) int64; lse, grad_rows (M,)."""
    m = x.shape[0]
    for c in prange(threads):
        _backward_rows(x, target, lse, grad_rows, ignore_index, eps, grad, c * m // threads,
                       (c + 1) * m // threads)
