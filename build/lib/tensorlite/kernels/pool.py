"""2-D pooling over (N, C, H, W) arrays: max, average and adaptive average, with gradients.

PyTorch's semantics throughout (ceil_mode=False): output size Ho = (H + 2*ph - kh)//sh + 1;
max pooling treats padding as -inf and breaks ties by the first maximum in row-major
window order, while a NaN counts as a maximum (a later NaN replaces an earlier maximum,
as torch's CPU kernel does); average pooling counts the padding (count_include_pad=True):
    divisor = (min(h0 + kh, H + ph) - h0) * (min(w0 + kw, W + pw) - w0),  h0 = oh*sh - ph;
adaptive average pooling uses the windows [floor(i*H/Ho), ceil((i+1)*H/Ho)).

Max pooling returns, besides y, the position of each maximum as its flat offset i*kw + j
inside the kh x kw window (uint8 when the window has at most 256 cells, a quarter of
an int32 index's memory traffic; int32 otherwise); the backward scatters gy there.

Every (n, c) plane is independent: each kernel is a serial function over a range of
planes, run directly for small inputs and, above ``_SERIAL_ELEMENTS`` cells, on one chunk
of planes per thread (``_threads.parallel_chunks``; the kernels release the GIL). A
backward never has two threads writing one plane, so its scatter-adds need no atomics.
Padding is done by copying each plane into a bordered scratch plane, which keeps the window loops free of bounds tests (with clipped
bounds the max-pool loop ran 4x slower). The public functions take normalised arguments
(pairs of ints, padding <= kernel/2, outputs of at least one cell) checked by the op layer.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ._threads import num_threads, parallel_chunks

# Below this many cells a second thread costs more than it saves: besides the launch
# (~20 us) and the sync, waking an idle worker is slow on a shared 2-vCPU machine (see
# conv.py's _SERIAL_MACS); LeNet-5's pools (301k and 102k cells) and the 1M-cell benchmark
# pool run faster serially.
_SERIAL_ELEMENTS = 2_000_000


def _out_size(n: int, k: int, s: int, p: int) -> int:
    return (n + 2 * p - k) // s + 1


def _launch(serial, planes: int, cells: int, *args) -> None:
    """serial(first, stop, *args) over all planes, one chunk per thread when it pays."""
    threads = 1 if cells < _SERIAL_ELEMENTS else num_threads(planes)
    parallel_chunks(planes, threads, lambda t, first, stop: serial(first, stop, *args))


def max_pool2d_forward(x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple) -> tuple:
    """(y (N, C, Ho, Wo), argmax (N, C, Ho, Wo) uint8/int32) of x (N, C, H, W) float32/64."""
    x = np.ascontiguousarray(x)
    n, c, h, w = x.shape
    kh, kw = int(kernel[0]), int(kernel[1])
    ho = _out_size(h, kh, stride[0], padding[0])
    wo = _out_size(w, kw, stride[1], padding[1])
    y = np.empty((n, c, ho, wo), dtype=x.dtype)
    argmax = np.empty((n, c, ho, wo), dtype=np.uint8 if kh * kw <= 256 else np.int32)
    _launch(_max_forward_planes, n * c, x.size,
            x.reshape(n * c, h, w), y.reshape(n * c, ho, wo), argmax.reshape(n * c, ho, wo),
            kh, kw, int(stride[0]), int(stride[1]), int(padding[0]), int(padding[1]))
    return y, argmax


def max_pool2d_backward(gy: np.ndarray, argmax: np.ndarray, input_hw: tuple, kernel: tuple,
                        stride: tuple, padding: tuple) -> np.ndarray:
    """gx (N, C, H, W): gy (N, C, Ho, Wo) added at each window's maximum (windows may overlap)."""
    gy = np.ascontiguousarray(gy)
    argmax = np.ascontiguousarray(argmax)
    n, c, ho, wo = gy.shape
    h, w = int(input_hw[0]), int(input_hw[1])
    gx = np.empty((n, c, h, w), dtype=gy.dtype)
    _launch(_max_backward_planes, n * c, gx.size,
            gy.reshape(n * c, ho, wo), argmax.reshape(n * c, ho, wo), gx.reshape(n * c, h, w),
            int(kernel[0]), int(kernel[1]), int(stride[0]), int(stride[1]), int(padding[0]),
            int(padding[1]))
    return gx


def avg_pool2d_forward(x: np.ndarray, kernel: tuple, stride: tuple,
                       padding: tuple) -> np.ndarray:
    """y (N, C, Ho, Wo): window means of x (N, C, H, W) float32/64, padding counted as zeros."""
    x = np.ascontiguousarray(x)
    n, c, h, w = x.shape
    ho = _out_size(h, kernel[0], stride[0], padding[0])
    wo = _out_size(w, kernel[1], stride[1], padding[1])
    y = np.empty((n, c, ho, wo), dtype=x.dtype)
    _launch(_avg_forward_planes, n * c, x.size,
            x.reshape(n * c, h, w), y.reshape(n * c, ho, wo), int(kernel[0]), int(kernel[1]),
            int(stride[0]), int(stride[1]), int(padding[0]), int(padding[1]))
    return y


def avg_pool2d_backward(gy: np.ndarray, input_hw: tuple, kernel: tuple, stride: tuple,
                        padding: tuple) -> np.ndarray:
    """gx (N, C, H, W): gy (N, C, Ho, Wo) / divisor spread over each window's cells."""
    gy = np.ascontiguousarray(gy)
    n, c, ho, wo = gy.shape
    h, w = int(input_hw[0]), int(input_hw[1])
    gx = np.empty((n, c, h, w), dtype=gy.dtype)
    _launch(_avg_backward_planes, n * c, gx.size,
            gy.reshape(n * c, ho, wo), gx.reshape(n * c, h, w), int(kernel[0]),
            int(kernel[1]), int(stride[0]), int(stride[1]), int(padding[0]), int(padding[1]))
    return gx


def adaptive_avg_pool2d_forward(x: np.ndarray, out_hw: tuple) -> np.ndarray:
    """y (N, C, Ho, Wo): means of x (N, C, H, W) float32/64 over PyTorch's adaptive windows."""
    x = np.ascontiguousarray(x)
    n, c, h, w = x.shape
    ho, wo = int(out_hw[0]), int(out_hw[1])
    y = np.empty((n, c, ho, wo), dtype=x.dtype)
    _launch(_adaptive_forward_planes, n * c, x.size,
            x.reshape(n * c, h, w), y.reshape(n * c, ho, wo))
    return y


def adaptive_avg_pool2d_backward(gy: np.ndarray, input_hw: tuple) -> np.ndarray:
    """gx (N, C, H, W): gy (N, C, Ho, Wo) / window size spread over each adaptive window."""
    gy = np.ascontiguousarray(gy)
    n, c, ho, wo = gy.shape
    h, w = int(input_hw[0]), int(input_hw[1])
    gx = np.empty((n, c, h, w), dtype=gy.dtype)
    _launch(_adaptive_backward_planes, n * c, gx.size,
            gy.reshape(n * c, ho, wo), gx.reshape(n * c, h, w))
    return gx


# ----------------------------------------------------------------------------- kernels
# Each family: a serial function over planes [first, stop) of (P, H, W) arrays (P = N*C,
# C-contiguous) that runs the per-plane steps below.
#
# Why the max-pool forward loops look like this (issue 18: it ran 9-14x slower on an AVX2
# CPU than on an AVX-512 one). LLVM vectorises only innermost loops, and runs the vector
# loop only above a trip count that depends on the target: a loop over one output row
# (14 cells in LeNet, 16 in the benchmark) took its vector path on Zen 5 but stayed scalar
# on Zen 3 (24 cells needed), where the max/argmax selects became branches that random
# data mispredicts (~13 ns per cell). So the window is walked by its cells (i, j) outside,
# and the innermost loop runs over every position q of the whole flattened plane: "does
# cell (i, j) of the window that starts at q beat the best so far" (2x2 stride 2: one pass
# over the column pairs of every row). Positions whose window runs off the end of a row or
# is not on the stride grid are computed and thrown away (up to sh*sw times the work, all
# of it in L1 and in vector registers), then a short pass picks the grid positions.
# Inside the long loops:
# - reads go through slices taken outside the loop (``src = xf[off:off + n]``) and are
#   indexed by the loop variable alone: numba's negative-index wraparound on ``xf[q + off]``
#   with a run-time ``off`` turned every load into a gather;
# - results go to a different array than the one read (ping-pong buffers): storing back a
#   value just loaded from the same place lets LLVM make the store conditional, a masked
#   store, which AMD CPUs execute very slowly;
# - the NaN rule is one more lane of the select mask, ``(v > best) | (v != v)``, not a branch.
# The backward kernels scatter each window's gradient at its argmax (no data-dependent
# branch, same speed on both ISAs; see _max_backward_2x2); average pooling has no
# data-dependent branch and keeps its per-window loops (see there). docs/cpus.md has the
# measurements.
# ``benchmarks/vectorisation.py`` (and tests/kernels/test_vectorisation.py) check the IR.


@njit(cache=True, error_model="numpy")
def _bordered(planes, fill, ph, pw):
    """Scratch (H + 2ph, W + 2pw), planes' dtype, its border = fill; (0, 0) without padding."""
    if ph == 0 and pw == 0:
        return np.empty((0, 0), dtype=planes.dtype)
    buf = np.empty((planes.shape[1] + 2 * ph, planes.shape[2] + 2 * pw), dtype=planes.dtype)
    flat = buf.reshape(-1)
    for i in range(flat.shape[0]):
        flat[i] = fill
    return buf


@njit(cache=True, error_model="numpy")
def _padded(plane, buf, ph, pw):
    """plane (H, W) itself without padding, else buf from ``_bordered`` with plane in its middle."""
    if ph == 0 and pw == 0:
        return plane
    for i in range(plane.shape[0]):
        # Loops: a 2-D slice assignment here cost ~5 s of compile time.
        src = plane[i]
        dst = buf[ph + i]
        for j in range(plane.shape[1]):
            dst[pw + j] = src[j]
    return buf


@njit(cache=True, error_model="numpy")
def _zero(plane):
    """plane (H, W) = 0 (loops compile much faster than a slice assignment; a flat loop
    over plane.reshape(-1) measured 1.3x slower)."""
    zero = plane.dtype.type(0.0)
    for i in range(plane.shape[0]):
        row = plane[i]
        for j in range(plane.shape[1]):
            row[j] = zero


@njit(cache=True, error_model="numpy")
def _positions(hp, wp, kh, kw):
    """Flat positions of a (hp, wp) plane whose kh x kw window lies inside it, and beyond."""
    return (hp - kh) * wp + (wp - kw) + 1


# -- max pooling, forward


@njit(cache=True, error_model="numpy")
def _max_step(src, b_in, w_in, b_out, w_out, code):
    """Window cell ``code`` at every position: (b, w)_out = (src, code) where src beats b_in,
    else (b_in, w_in). src, b (n,) float32/64, w (n,) int32. Strict '>' keeps the first of
    equal maxima; a NaN always wins, so the last NaN is kept (torch's CPU kernel)."""
    for q in range(src.shape[0]):
        v = src[q]
        b = b_in[q]
        w = w_in[q]
        take = (v > b) | (v != v)
        b_out[q] = v if take else b
        w_out[q] = code if take else w


@njit(cache=True, error_model="numpy")
def _max_windows(xf, wp, n, kh, kw, b0, w0, b1, w1):
    """Max and its window offset i*kw + j of the kh x kw window at each of n positions of
    the flattened plane xf (row length wp), cells in row-major order. Returns 0 if the
    result is in (b0, w0), 1 if in (b1, w1)."""
    src = xf[:n]
    for q in range(n):
        b0[q] = src[q]
        w0[q] = 0
    cur = 0
    for i in range(kh):
        for j in range(kw):
            if i == 0 and j == 0:
                continue
            s = xf[i * wp + j:i * wp + j + n]
            code = np.int32(i * kw + j)
            if cur == 0:
                _max_step(s, b0[:n], w0[:n], b1[:n], w1[:n], code)
            else:
                _max_step(s, b1[:n], w1[:n], b0[:n], w0[:n], code)
            cur = 1 - cur
    return cur


@njit(cache=True, error_model="numpy")
def _max_pick(best, where, row_step, col_step, yp, ap, kw, sh, sw, ph, pw):
    """yp, ap (Ho, Wo) from the window at best[oh*row_step + ow*col_step]. A window whose
    maximum is -inf (all padding and -inf) points at its first cell inside the input, as
    torch's does."""
    ho, wo = yp.shape
    ninf = best.dtype.type(-np.inf)
    for oh in range(ho):
        b = best[oh * row_step:]
        w = where[oh * row_step:]
        yr = yp[oh]
        ar = ap[oh]
        i_first = max(0, ph - oh * sh) * kw
        for ow in range(wo):
            v = b[ow * col_step]
            first = i_first + max(0, pw - ow * sw)
            yr[ow] = v
            ar[ow] = first if v == ninf else w[ow * col_step]


@njit(cache=True, error_model="numpy")
def _max_pairs(xf, wp, n, best, where):
    """2x2 windows at stride 2 over the flattened plane xf (row length wp, even): best/where
    (n,) for the windows starting at columns 0, 2, 4, ... of every row (the odd rows' are
    not used)."""
    r0 = xf[:2 * n]
    r1 = xf[wp:wp + 2 * n]
    for k in range(n):
        b = r0[2 * k]
        w = np.int32(0)
        v = r0[2 * k + 1]
        t = (v > b) | (v != v)
        b = v if t else b
        w = np.int32(1) if t else w
        v = r1[2 * k]
        t = (v > b) | (v != v)
        b = v if t else b
        w = np.int32(2) if t else w
        v = r1[2 * k + 1]
        t = (v > b) | (v != v)
        best[k] = v if t else b
        where[k] = np.int32(3) if t else w


@njit(cache=True, error_model="numpy", nogil=True)
def _max_forward_planes(first, stop, x, y, argmax, kh, kw, sh, sw, ph, pw):
    """x (P, H, W) float32/64 -> y, argmax (P, Ho, Wo) for planes [first, stop)."""
    h, w = x.shape[1], x.shape[2]
    ho, wo = y.shape[1], y.shape[2]
    if kh == 2 and kw == 2 and sh == 2 and sw == 2 and ph == 0 and pw == 0 and w % 2 == 0:
        # The common case: one pass over the pairs of columns of every row but the last.
        n = (h - 1) * (w // 2)
        best = np.empty(n, dtype=x.dtype)
        where = np.empty(n, dtype=np.int32)
        for p in range(first, stop):
            _max_pairs(x[p].reshape(-1), w, n, best, where)
            _max_pick(best, where, w, 1, y[p], argmax[p], 2, 2, 2, 0, 0)
        return
    buf = _bordered(x, -np.inf, ph, pw)  # max pooling pads with -inf
    hp, wp = h + 2 * ph, w + 2 * pw
    n = _positions(hp, wp, kh, kw)
    b0 = np.empty(n, dtype=x.dtype)
    b1 = np.empty(n, dtype=x.dtype)
    w0 = np.empty(n, dtype=np.int32)
    w1 = np.empty(n, dtype=np.int32)
    for p in range(first, stop):
        xf = _padded(x[p], buf, ph, pw).reshape(-1)
        if _max_windows(xf, wp, n, kh, kw, b0, w0, b1, w1) == 0:
            _max_pick(b0, w0, sh * wp, sw, y[p], argmax[p], kw, sh, sw, ph, pw)
        else:
            _max_pick(b1, w1, sh * wp, sw, y[p], argmax[p], kw, sh, sw, ph, pw)


# -- max pooling, backward


@njit(cache=True, error_model="numpy")
def _max_backward_2x2(gyp, ap, gxp):
    """gxp (H, W) from 2x2 windows at stride 2 without padding: zeroed, then each window's
    gradient written at its maximum, row a >> 1 and column a & 1 of the window. No branch
    (the offset is arithmetic), but a scatter, which AVX2 cannot vectorise: a dense form
    (every cell a select of its window's gradient) measured 1.3-1.6x slower on AVX2 and
    AVX-512 alike, for (32, 32, 32, 32) and LeNet's (64, 6, 28, 28)."""
    _zero(gxp)
    ho, wo = gyp.shape
    for oh in range(ho):
        gr = gyp[oh]
        ar = ap[oh]
        for ow in range(wo):
            a = np.int64(ar[ow])
            gxp[2 * oh + (a >> 1), 2 * ow + (a & 1)] = gr[ow]


@njit(cache=True, error_model="numpy", nogil=True)
def _max_backward_planes(first, stop, gy, argmax, gx, kh, kw, sh, sw, ph, pw):
    """gx (P, H, W) = gy (P, Ho, Wo) float32/64 summed at the argmax cells, planes [first, stop)."""
    h, w = gx.shape[1], gx.shape[2]
    ho, wo = gy.shape[1], gy.shape[2]
    if kh == 2 and kw == 2 and sh == 2 and sw == 2 and ph == 0 and pw == 0:
        for p in range(first, stop):
            _max_backward_2x2(gy[p], argmax[p], gx[p])
        return
    # Any other window: each window's gradient added at its maximum, a scatter. Its
    # branches only guard against impossible offsets (always taken, so always predicted);
    # a dense vectorised form (every window cell, every position, a select) measured 2x
    # slower for 3x3 windows at stride 2 on AVX2 and AVX-512 alike. The scatter is the
    # same work on any ISA (the backward took 0.5 ms on both targets, (32, 32, 32, 32)).
    di = np.empty(kh * kw, dtype=np.int64)  # window offset -> (row, column), looked up
    dj = np.empty(kh * kw, dtype=np.int64)
    for i in range(kh):
        for j in range(kw):
            di[i * kw + j] = i - ph
            dj[i * kw + j] = j - pw
    cells = kh * kw
    for p in range(first, stop):
        gyp = gy[p]
        ap = argmax[p]
        gxp = gx[p]
        _zero(gxp)
        for oh in range(ho):
            for ow in range(wo):
                a = np.int64(ap[oh, ow])
                if a < cells:  # always true for an argmax from the forward
                    ih = oh * sh + di[a]
                    iw = ow * sw + dj[a]
                    if 0 <= ih < h and 0 <= iw < w:  # likewise; guards the write
                        gxp[ih, iw] += gyp[oh, ow]


# -- average pooling: per-window sums in torch's order. No data-dependent branch to
# remove here; the flat form of the max kernels (every window cell a pass over the plane)
# measured the same on AVX-512 and 1.1-1.35x slower on AVX2, so these stay per window.


@njit(cache=True, error_model="numpy")
def _avg_forward_plane(xp, yp, h, w, kh, kw, sh, sw, ph, pw):
    """One plane: xp (h + 2ph, w + 2pw), padded with zeros -> yp (Ho, Wo) window means.

    The divisor counts the padding (count_include_pad) but not a window's overhang past it.
    """
    ho, wo = yp.shape
    for oh in range(ho):
        h0 = oh * sh - ph
        rows = min(h0 + kh, h + ph) - h0
        for ow in range(wo):
            w0 = ow * sw - pw
            s = xp.dtype.type(0.0)
            for i in range(kh):
                row = xp[oh * sh + i]
                for j in range(kw):
                    s += row[ow * sw + j]
            # Divided in the array's dtype, as torch does: float32 results match bit for bit.
            yp[oh, ow] = s / xp.dtype.type(rows * (min(w0 + kw, w + pw) - w0))


@njit(cache=True, error_model="numpy", nogil=True)
def _avg_forward_planes(first, stop, x, y, kh, kw, sh, sw, ph, pw):
    """x (P, H, W) float32/64 -> y (P, Ho, Wo) for planes [first, stop)."""
    h, w = x.shape[1], x.shape[2]
    buf = _bordered(x, 0.0, ph, pw)
    for p in range(first, stop):
        xp = _padded(x[p], buf, ph, pw)
        # Literal common window sizes, unrolled by LLVM (see _max_forward_planes).
        if kh == 2 and kw == 2:
            _avg_forward_plane(xp, y[p], h, w, 2, 2, sh, sw, ph, pw)
        elif kh == 3 and kw == 3:
            _avg_forward_plane(xp, y[p], h, w, 3, 3, sh, sw, ph, pw)
        else:
            _avg_forward_plane(xp, y[p], h, w, kh, kw, sh, sw, ph, pw)



@njit(cache=True, error_model="numpy")
def _avg_backward_plane(gyp, gxp, h, w, kh, kw, sh, sw, ph, pw):
    """One plane: gxp (h + 2ph, w + 2pw), zeroed here, += gy / divisor over each window."""
    ho, wo = gyp.shape
    _zero(gxp)
    for oh in range(ho):
        h0 = oh * sh - ph
        rows = min(h0 + kh, h + ph) - h0
        for ow in range(wo):
            w0 = ow * sw - pw
            g = gyp[oh, ow] / gyp.dtype.type(rows * (min(w0 + kw, w + pw) - w0))
            for i in range(kh):
                row = gxp[oh * sh + i]
                for j in range(kw):
                    row[ow * sw + j] += g


@njit(cache=True, error_model="numpy", nogil=True)
def _avg_backward_planes(first, stop, gy, gx, kh, kw, sh, sw, ph, pw):
    """gx (P, H, W) from gy (P, Ho, Wo) float32/64 for planes [first, stop)."""
    h, w = gx.shape[1], gx.shape[2]
    buf = _bordered(gx, 0.0, ph, pw)
    for p in range(first, stop):
        # Without padding accumulate in place, else in the padded frame and keep its middle.
        gxp = gx[p] if ph == 0 and pw == 0 else buf
        # Literal common window sizes, unrolled by LLVM (see _max_forward_planes).
        if kh == 2 and kw == 2:
            _avg_backward_plane(gy[p], gxp, h, w, 2, 2, sh, sw, ph, pw)
        elif kh == 3 and kw == 3:
            _avg_backward_plane(gy[p], gxp, h, w, 3, 3, sh, sw, ph, pw)
        else:
            _avg_backward_plane(gy[p], gxp, h, w, kh, kw, sh, sw, ph, pw)
        if ph != 0 or pw != 0:
            gxp = gx[p]
            for i in range(h):
                src = buf[ph + i]
                dst = gxp[i]
                for j in range(w):
                    dst[j] = src[pw + j]


@njit(cache=True, error_model="numpy")
def _adaptive_window(i, n_in, n_out):
    """[start, end) of output cell i: [floor(i*n_in/n_out), ceil((i+1)*n_in/n_out))."""
    return (i * n_in) // n_out, ((i + 1) * n_in + n_out - 1) // n_out


@njit(cache=True, error_model="numpy", nogil=True)
def _adaptive_forward_planes(first, stop, x, y):
    """y (P, Ho, Wo) = adaptive-window means of x (P, H, W) float32/64; planes [first, stop)."""
    h, w = x.shape[1], x.shape[2]
    ho, wo = y.shape[1], y.shape[2]
    for p in range(first, stop):
        xp = x[p]
        yp = y[p]
        for oh in range(ho):
            hs, he = _adaptive_window(oh, h, ho)
            for ow in range(wo):
                ws, we = _adaptive_window(ow, w, wo)
                s = x.dtype.type(0.0)
                for ih in range(hs, he):
                    row = xp[ih]
                    for iw in range(ws, we):
                        s += row[iw]
                yp[oh, ow] = s / x.dtype.type((he - hs) * (we - ws))



@njit(cache=True, error_model="numpy", nogil=True)
def _adaptive_backward_planes(first, stop, gy, gx):
    """gx (P, H, W) = gy (P, Ho, Wo) float32/64 / window size spread over the adaptive
    windows (overlapping windows add up), planes [first, stop)."""
    h, w = gx.shape[1], gx.shape[2]
    ho, wo = gy.shape[1], gy.shape[2]
    for p in range(first, stop):
        gyp = gy[p]
        gxp = gx[p]
        _zero(gxp)
        for oh in range(ho):
            hs, he = _adaptive_window(oh, h, ho)
            for ow in range(wo):
                ws, we = _adaptive_window(ow, w, wo)
                g = gyp[oh, ow] / gy.dtype.type((he - hs) * (we - ws))
                for ih in range(hs, he):
                    row = gxp[ih]
                    for iw in range(ws, we):
                        row[iw] += g
