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
backward never has two threads writing one plane, so its scatter-adds need no atomics. Padding is done by copying each plane into a
bordered scratch plane, which keeps the window loops free of bounds tests (with clipped
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
# Each family: a per-plane function, a serial function over planes [first, stop) of
# (P, H, W) arrays (P = N*C, C-contiguous).


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
    """plane (H, W) = 0 (loops compile much faster than a slice assignment)."""
    for i in range(plane.shape[0]):
        row = plane[i]
        for j in range(plane.shape[1]):
            row[j] = 0.0


@njit(cache=True, error_model="numpy")
def _max_forward_plane(xp, yp, ap, kh, kw, sh, sw, ph, pw):
    """One plane: xp (H + 2ph, W + 2pw), padded with -inf -> yp, ap (Ho, Wo).

    float32/64; argmax uint8/int32, its offsets counted in the window including padding.
    """
    ho, wo = yp.shape
    ninf = xp.dtype.type(-np.inf)
    for oh in range(ho):
        i_first = max(0, ph - oh * sh)
        for ow in range(wo):
            best = ninf
            where = i_first * kw + max(0, pw - ow * sw)  # first cell inside the input (torch)
            for i in range(kh):
                row = xp[oh * sh + i]
                for j in range(kw):
                    v = row[ow * sw + j]
                    # Strict '>' keeps the first of equal maxima; a NaN always wins (torch).
                    take = (v > best) | (v != v)
                    where = i * kw + j if take else where
                    best = v if take else best
            yp[oh, ow] = best
            ap[oh, ow] = where


@njit(cache=True, error_model="numpy")
def _max_forward_2x2(xp, yp, ap):
    """The common case, 2x2 windows at stride 2 without padding, written out: the four
    cells of each window are named, so the loop has no inner window loops and no index
    arithmetic left (13x faster than the general loop for (32, 32, 32, 32))."""
    ho, wo = yp.shape
    for oh in range(ho):
        r0 = xp[2 * oh]
        r1 = xp[2 * oh + 1]
        yr = yp[oh]
        ar = ap[oh]
        for ow in range(wo):
            v0, v1 = r0[2 * ow], r0[2 * ow + 1]
            v2, v3 = r1[2 * ow], r1[2 * ow + 1]
            # Row-major window order; strict '>' keeps the first maximum, NaN wins.
            best, where = v0, 0
            t = (v1 > best) | (v1 != v1)
            best, where = (v1, 1) if t else (best, where)
            t = (v2 > best) | (v2 != v2)
            best, where = (v2, 2) if t else (best, where)
            t = (v3 > best) | (v3 != v3)
            best, where = (v3, 3) if t else (best, where)
            yr[ow] = best
            ar[ow] = where


@njit(cache=True, error_model="numpy", nogil=True)
def _max_forward_planes(first, stop, x, y, argmax, kh, kw, sh, sw, ph, pw):
    """x (P, H, W) float32/64 -> y, argmax (P, Ho, Wo) for planes [first, stop)."""
    if kh == 2 and kw == 2 and sh == 2 and sw == 2 and ph == 0 and pw == 0:
        for p in range(first, stop):
            _max_forward_2x2(x[p], y[p], argmax[p])
        return
    buf = _bordered(x, -np.inf, ph, pw)  # max pooling pads with -inf
    for p in range(first, stop):
        xp = _padded(x[p], buf, ph, pw)
        # Literal window sizes let LLVM unroll the window loops of the common windows
        # (3x faster for 2x2); any other size runs the same loop with runtime bounds.
        if kh == 2 and kw == 2:
            _max_forward_plane(xp, y[p], argmax[p], 2, 2, sh, sw, ph, pw)
        elif kh == 3 and kw == 3:
            _max_forward_plane(xp, y[p], argmax[p], 3, 3, sh, sw, ph, pw)
        else:
            _max_forward_plane(xp, y[p], argmax[p], kh, kw, sh, sw, ph, pw)



@njit(cache=True, error_model="numpy")
def _max_backward_2x2(gyp, ap, gxp):
    """gxp (H, W) from 2x2 windows at stride 2 without padding: zeroed, then each window's
    gradient written at its maximum (row a >> 1, column a & 1 of the window)."""
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
    if kh == 2 and kw == 2 and sh == 2 and sw == 2 and ph == 0 and pw == 0:
        for p in range(first, stop):
            _max_backward_2x2(gy[p], argmax[p], gx[p])
        return
    h, w = gx.shape[1], gx.shape[2]
    ho, wo = gy.shape[1], gy.shape[2]
    # Window offset -> (row, column), looked up rather than divided by kw per element.
    di = np.empty(kh * kw, dtype=np.int64)
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
