"""conv2d forward and both gradients: im2col -> BLAS GEMM -> col2im, parallel over images.

Design (measured in PERF-NOTES and benchmarks/kernel_conv.py): the batch is split into
one contiguous chunk of images per thread (plain threads running GIL-free kernels, see
``_threads``); each thread unfolds a few images at a time into columns (im2col),
multiplies them with the weight by ``np.dot`` (BLAS, held to one thread so the two
threads do not fight over the cores) and, for the input gradient, folds the columns back
(col2im). Images of small feature maps share one GEMM
so that it is wide enough for BLAS to run near its peak; from 16x16 up one image per
GEMM measured fastest (wider GEMMs push the columns out of the L2 cache).

Stride-1 convolutions without width padding (LeNet's 5x5 "valid" layers) use a "wide"
column layout instead: positions ``p = oh*W + ow'`` run over the full input width W, so each
kernel tap's columns are one contiguous stretch of the input plane (one long, vectorised
copy instead of Ho short rows of Wo pixels: 5x faster on 10x10 outputs). The W - Wo
columns past each output row are zero and their outputs are dropped; the GEMM does W/Wo
more work, which costs less than the short copies did.

Rejected: the per-image loop in Python with numpy's ``np.dot`` between GIL-free numba
unfold/fold kernels, which would spare a process the import of scipy.linalg (0.3-0.5 s of
the first conv call; numba's ``np.dot`` calls scipy's BLAS). The Python glue per image,
and the two threads passing the GIL back and forth, made LeNet-sized convolutions 2-4x
slower (N64 1->6 28x28 k5 forward 1.72 ms against 0.46 ms).

Layout of the columns of one group: ``cols[k, b*P + p]`` with ``k = (c*kh + i)*kw + j``
(channel in the group, kernel row, kernel column) and ``p = oh*Wo + ow`` for image ``b``
of the sub-batch, so that ``w[g].reshape(Og, K) @ cols`` is the forward product.

The public functions take normalised arguments (pairs of ints, matching dtypes,
``groups`` dividing C and O) checked by the op layer; they only make inputs
C-contiguous and pick the chunking.
"""
from __future__ import annotations

import numpy as np
from numba import njit, uintp

from ._blas import single_threaded_blas
from ._threads import num_threads, parallel_chunks

# Below this many multiply-adds a second thread costs more than it saves. Handing a chunk
# to the worker thread means waking it; on this 2-vCPU VM an idle worker wakes slowly when
# the machine is shared, and LeNet-5's convolutions (7.5M and 15M multiply-adds per batch
# of 64) ran a training step in 10.7 ms threaded against 6.9 ms serial (PyTorch ~5-7 ms,
# measured interleaved in one process). The benchmark convolutions (28M, 302M) still pay.
_SERIAL_MACS = 20_000_000
# Columns per GEMM to aim for when batching images: narrower GEMMs lose BLAS efficiency,
# wider ones push the per-thread buffers out of the cache (measured: N64 32->64 16x16
# k3 is 20% slower with 4-16 images per GEMM than with one).
_TARGET_COLUMNS = 256


def _out_size(n: int, k: int, s: int, p: int, d: int) -> int:
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def _plan(n_images: int, macs: int, columns_per_image: int) -> tuple:
    """(threads, images per GEMM) for a problem of ``macs`` multiply-adds.

    One thread means the serial path: no thread launch, and BLAS keeps its own threads,
    which it uses only for GEMMs big enough to pay (a single large image, N=1).
    """
    threads = 1 if macs < _SERIAL_MACS else num_threads(n_images)
    per_thread = -(-n_images // threads)
    batch = max(1, min(per_thread, _TARGET_COLUMNS // max(1, columns_per_image)))
    return threads, batch


def _wide(stride: tuple, padding: tuple, wo: int, wd: int) -> bool:
    """Use the wide column layout (see the module docstring)?"""
    # With wo == wd the ordinary layout already copies whole rows.
    return stride[0] == 1 and stride[1] == 1 and padding[1] == 0 and wo != wd


def conv2d_forward(x: np.ndarray, w: np.ndarray, stride: tuple, padding: tuple,
                   dilation: tuple, groups: int) -> np.ndarray:
    """Cross-correlation y (N, O, Ho, Wo) of x (N, C, H, W) with w (O, C//groups, kh, kw)."""
    # PyTorch's convention; the lecture's convolution is this with w flipped in both axes.
    x = np.ascontiguousarray(x)
    w = np.ascontiguousarray(w)
    n, _, h, wd = x.shape
    o, cg, kh, kw = w.shape
    ho = _out_size(h, kh, stride[0], padding[0], dilation[0])
    wo = _out_size(wd, kw, stride[1], padding[1], dilation[1])
    y = np.empty((n, o, ho, wo), dtype=x.dtype)
    wide = _wide(stride, padding, wo, wd)
    threads, batch = _plan(n, n * o * ho * wo * cg * kh * kw, ho * (wd if wide else wo))
    geometry = _geometry(stride, padding, dilation) + (int(groups), wide)
    if threads == 1:
        _forward_images(x, w, y, 0, n, *geometry, batch)
    else:
        with single_threaded_blas():
            parallel_chunks(n, threads, lambda t, first, stop: _forward_images(
                x, w, y, first, stop, *geometry, batch))
    return y


def conv2d_backward_input(gy: np.ndarray, w: np.ndarray, input_hw: tuple, stride: tuple,
                          padding: tuple, dilation: tuple, groups: int) -> np.ndarray:
    """Gradient gx (N, C, H, W) of conv2d w.r.t. its input, from gy (N, O, Ho, Wo) and w."""
    # The transposed convolution (the lecture's "full convolution of the error with the
    # flipped kernel"), done as the GEMM w^T @ gy followed by col2im.
    gy = np.ascontiguousarray(gy)
    w = np.ascontiguousarray(w)
    n, o, ho, wo = gy.shape
    _, cg, kh, kw = w.shape
    gx = np.empty((n, cg * groups, int(input_hw[0]), int(input_hw[1])), dtype=gy.dtype)
    wide = _wide(stride, padding, wo, gx.shape[3])
    threads, batch = _plan(n, n * o * ho * wo * cg * kh * kw, ho * (gx.shape[3] if wide else wo))
    geometry = _geometry(stride, padding, dilation) + (int(groups), wide)
    if threads == 1:
        _backward_input_images(gy, w, gx, 0, n, *geometry, batch)
    else:
        with single_threaded_blas():
            parallel_chunks(n, threads, lambda t, first, stop: _backward_input_images(
                gy, w, gx, first, stop, *geometry, batch))
    return gx


def conv2d_backward_weight(x: np.ndarray, gy: np.ndarray, kernel_hw: tuple, stride: tuple,
                           padding: tuple, dilation: tuple, groups: int) -> np.ndarray:
    """Gradient gw (O, C//groups, kh, kw) of conv2d w.r.t. its weight, from x and gy."""
    # gw = sum over images and output positions of gy times the input patch it saw.
    x = np.ascontiguousarray(x)
    gy = np.ascontiguousarray(gy)
    n, c, _, wd = x.shape
    _, o, ho, wo = gy.shape
    kh, kw = int(kernel_hw[0]), int(kernel_hw[1])
    cg = c // groups
    wide = _wide(stride, padding, wo, wd)
    threads, batch = _plan(n, n * o * ho * wo * cg * kh * kw, ho * (wd if wide else wo))
    geometry = (kh, kw) + _geometry(stride, padding, dilation) + (int(groups), wide)
    if threads == 1:
        gw = np.empty((o, cg * kh * kw), dtype=x.dtype)
        _backward_weight_images(x, gy, gw, 0, n, *geometry, batch)
    else:
        # One partial gradient per thread, summed here: no two threads write one cell.
        partial = np.empty((threads, o, cg * kh * kw), dtype=x.dtype)
        with single_threaded_blas():
            parallel_chunks(n, threads, lambda t, first, stop: _backward_weight_images(
                x, gy, partial[t], first, stop, *geometry, batch))
        gw = partial.sum(axis=0)
    return gw.reshape(o, cg, kh, kw)


def _geometry(stride: tuple, padding: tuple, dilation: tuple) -> tuple:
    # Plain ints: numpy integers would make numba compile another specialisation.
    return (int(stride[0]), int(stride[1]), int(padding[0]), int(padding[1]),
            int(dilation[0]), int(dilation[1]))


# ----------------------------------------------------------------------------- kernels
# Flat indices are cast to ``uintp``: with a signed index numba checks every access for a
# negative (wrap-around) index, which stops LLVM from vectorising the copy loops (measured
# 4x slower on LeNet's 10x10 maps). Every index below is non-negative by construction.


@njit(cache=True, error_model="numpy")
def _valid_range(n_out, n_in, s, off):
    """[lo, hi): the outputs o in [0, n_out) with input index o*s + off in [0, n_in); ints."""
    lo = -(off // s)  # ceil(-off / s)
    hi = (n_in - 1 - off) // s + 1
    lo = min(max(lo, 0), n_out)
    hi = min(max(hi, lo), n_out)
    return lo, hi


@njit(cache=True, error_model="numpy")
def _im2col(x, n, c0, cols, col0, kh, kw, ho, wo, sh, sw, ph, pw, dh, dw):
    """cols: (Cg*kh*kw, >= col0+ho*wo), x: (N, C, H, W); float32/64, C-contiguous.

    cols[(c*kh+i)*kw+j, col0 + oh*wo + ow] = x[n, c0+c, oh*sh-ph+i*dh, ow*sw-pw+j*dw], or 0
    where that pixel is in the padding.
    """
    h = x.shape[2]
    wd = x.shape[3]
    xf = x.reshape(-1)  # flat indexing measured faster than indexing row views
    cf = cols.reshape(-1)
    whole_rows = sh == 1 and sw == 1 and wo == wd
    for c in range(cols.shape[0] // (kh * kw)):
        plane = ((n * x.shape[1]) + c0 + c) * h * wd
        for i in range(kh):
            offh = i * dh - ph
            oh_lo, oh_hi = _valid_range(ho, h, sh, offh)
            for j in range(kw):
                offw = j * dw - pw
                ow_lo, ow_hi = _valid_range(wo, wd, sw, offw)
                row = ((c * kh + i) * kw + j) * cols.shape[1] + col0
                for q in range(row, row + oh_lo * wo):
                    cf[uintp(q)] = 0.0
                if whole_rows and oh_lo < oh_hi and ow_lo < ow_hi:
                    # Stride 1 and "same" width: the valid output rows read one contiguous
                    # stretch of the input plane, copied in one long (vectorised) loop.
                    # The stretch starts and ends on valid pixels, so it stays in bounds;
                    # the pixels it wraps around to land in padding columns, zeroed below.
                    shift = plane + offh * wd + offw
                    for q in range(oh_lo * wo + ow_lo, (oh_hi - 1) * wo + ow_hi):
                        cf[uintp(row + q)] = xf[uintp(shift + q)]
                    for oh in range(oh_lo, oh_hi):
                        dst = row + oh * wo
                        for ow in range(ow_lo):
                            cf[uintp(dst + ow)] = 0.0
                        for ow in range(ow_hi, wo):
                            cf[uintp(dst + ow)] = 0.0
                else:
                    for oh in range(oh_lo, oh_hi):
                        dst = row + oh * wo
                        src = plane + (oh * sh + offh) * wd + offw
                        for ow in range(ow_lo):
                            cf[uintp(dst + ow)] = 0.0
                        for ow in range(ow_lo, ow_hi):
                            cf[uintp(dst + ow)] = xf[uintp(src + ow * sw)]
                        for ow in range(ow_hi, wo):
                            cf[uintp(dst + ow)] = 0.0
                for q in range(row + oh_hi * wo, row + ho * wo):
                    cf[uintp(q)] = 0.0


@njit(cache=True, error_model="numpy")
def _col2im(cols, col0, gx, n, c0, kh, kw, ho, wo, sh, sw, ph, pw, dh, dw):
    """cols: (Cg*kh*kw, >= col0+ho*wo), gx: (N, C, H, W); float32/64, C-contiguous.

    gx[n, c0+c, oh*sh-ph+i*dh, ow*sw-pw+j*dw] += cols[(c*kh+i)*kw+j, col0 + oh*wo + ow] for
    pixels outside the padding. Overwrites some entries of cols (it is scratch).
    """
    h = gx.shape[2]
    wd = gx.shape[3]
    gf = gx.reshape(-1)
    cf = cols.reshape(-1)
    whole_rows = sh == 1 and sw == 1 and wo == wd
    for c in range(cols.shape[0] // (kh * kw)):
        plane = ((n * gx.shape[1]) + c0 + c) * h * wd
        for i in range(kh):
            offh = i * dh - ph
            oh_lo, oh_hi = _valid_range(ho, h, sh, offh)
            for j in range(kw):
                offw = j * dw - pw
                ow_lo, ow_hi = _valid_range(wo, wd, sw, offw)
                row = ((c * kh + i) * kw + j) * cols.shape[1] + col0
                if whole_rows and oh_lo < oh_hi and ow_lo < ow_hi:
                    # The mirror of _im2col's contiguous stretch: zero the entries that
                    # fall in padding columns, then add the stretch in one long loop (the
                    # wrapped-around pixels receive + 0).
                    for oh in range(oh_lo, oh_hi):
                        src = row + oh * wo
                        for ow in range(ow_lo):
                            cf[uintp(src + ow)] = 0.0
                        for ow in range(ow_hi, wo):
                            cf[uintp(src + ow)] = 0.0
                    shift = plane + offh * wd + offw
                    for q in range(oh_lo * wo + ow_lo, (oh_hi - 1) * wo + ow_hi):
                        gf[uintp(shift + q)] += cf[uintp(row + q)]
                else:
                    for oh in range(oh_lo, oh_hi):
                        src = row + oh * wo
                        dst = plane + (oh * sh + offh) * wd + offw
                        for ow in range(ow_lo, ow_hi):
                            gf[uintp(dst + ow * sw)] += cf[uintp(src + ow)]


@njit(cache=True, error_model="numpy")
def _im2col_wide(x, n, c0, cols, col0, kh, kw, ho, wo, ph, dh, dw):
    """The wide layout of _im2col for stride 1 and no width padding; W = x.shape[3].

    cols[(c*kh+i)*kw+j, col0 + oh*W + ow] = x[n, c0+c, oh-ph+i*dh, ow+j*dw] for ow < wo,
    0 for ow >= wo and for rows in the padding.
    """
    h = x.shape[2]
    wd = x.shape[3]
    xf = x.reshape(-1)
    cf = cols.reshape(-1)
    for c in range(cols.shape[0] // (kh * kw)):
        plane = ((n * x.shape[1]) + c0 + c) * h * wd
        for i in range(kh):
            offh = i * dh - ph
            oh_lo, oh_hi = _valid_range(ho, h, 1, offh)
            for j in range(kw):
                row = ((c * kh + i) * kw + j) * cols.shape[1] + col0
                for q in range(row, row + oh_lo * wd):
                    cf[uintp(q)] = 0.0
                if oh_lo < oh_hi:
                    # Stays inside the plane: the last pixel read is row oh_hi-1+offh <= h-1,
                    # column wo-1+j*dw <= W-1.
                    shift = plane + offh * wd + j * dw
                    for q in range(oh_lo * wd, (oh_hi - 1) * wd + wo):
                        cf[uintp(row + q)] = xf[uintp(shift + q)]
                    for oh in range(oh_lo, oh_hi):
                        for q in range(row + oh * wd + wo, row + (oh + 1) * wd):
                            cf[uintp(q)] = 0.0
                for q in range(row + oh_hi * wd, row + ho * wd):
                    cf[uintp(q)] = 0.0


@njit(cache=True, error_model="numpy")
def _col2im_wide(cols, col0, gx, n, c0, kh, kw, ho, wo, ph, dh, dw):
    """The inverse of _im2col_wide: gx[n, c0+c, oh-ph+i*dh, ow+j*dw] += the column entry
    for ow < wo and rows outside the padding. Overwrites the ow >= wo entries of cols."""
    h = gx.shape[2]
    wd = gx.shape[3]
    gf = gx.reshape(-1)
    cf = cols.reshape(-1)
    for c in range(cols.shape[0] // (kh * kw)):
        plane = ((n * gx.shape[1]) + c0 + c) * h * wd
        for i in range(kh):
            offh = i * dh - ph
            oh_lo, oh_hi = _valid_range(ho, h, 1, offh)
            if oh_lo >= oh_hi:
                continue
            for j in range(kw):
                row = ((c * kh + i) * kw + j) * cols.shape[1] + col0
                # Entries past each output row would land on the next row's pixels: they
                # are zero unless w held inf or nan, so zero them rather than trust that.
                for oh in range(oh_lo, oh_hi):
                    for q in range(row + oh * wd + wo, row + (oh + 1) * wd):
                        cf[uintp(q)] = 0.0
                shift = plane + offh * wd + j * dw
                for q in range(oh_lo * wd, (oh_hi - 1) * wd + wo):
                    gf[uintp(shift + q)] += cf[uintp(row + q)]


@njit(cache=True, error_model="numpy")
def _spread(src, dst, col0, ho, wo, rw):
    """dst[r, col0 + oh*rw + ow] = src[r, oh*wo + ow] for ow < wo, 0 for wo <= ow < rw."""
    for r in range(src.shape[0]):
        for oh in range(ho):
            for ow in range(wo):
                dst[r, uintp(col0 + oh * rw + ow)] = src[r, uintp(oh * wo + ow)]
            for ow in range(wo, rw):
                dst[r, uintp(col0 + oh * rw + ow)] = 0.0


@njit(cache=True, error_model="numpy")
def _gather(src, col0, dst, ho, wo, rw):
    """dst[r, oh*wo + ow] = src[r, col0 + oh*rw + ow] for ow < wo: the inverse of _spread."""
    for r in range(dst.shape[0]):
        for oh in range(ho):
            for ow in range(wo):
                dst[r, uintp(oh * wo + ow)] = src[r, uintp(col0 + oh * rw + ow)]


@njit(cache=True, error_model="numpy", nogil=True)
def _forward_images(x, w, y, first, stop, sh, sw, ph, pw, dh, dw, groups, wide, batch):
    """x: (N, C, H, W), w: (O, C//groups, kh, kw), y: (N, O, Ho, Wo); float32/64, C-contiguous.

    Writes y[first:stop], the correlation of x[first:stop] with w.
    """
    n_img = x.shape[0]
    o, cg, kh, kw = w.shape
    ho = y.shape[2]
    wo = y.shape[3]
    og = o // groups
    k = cg * kh * kw
    rw = x.shape[3] if wide else wo  # width of one output row in the columns
    p = ho * rw
    w3 = w.reshape((groups, og, k))
    y4 = y.reshape((n_img, groups, og, ho * wo))
    cols_buf = np.empty(k * batch * p, dtype=x.dtype)
    out_buf = np.empty(og * batch * p, dtype=x.dtype)
    for n0 in range(first, stop, batch):
        b = min(batch, stop - n0)
        cols = cols_buf[:k * b * p].reshape((k, b * p))
        out = out_buf[:og * b * p].reshape((og, b * p))
        for g in range(groups):
            for i in range(b):
                if wide:
                    _im2col_wide(x, n0 + i, g * cg, cols, i * p, kh, kw, ho, wo, ph, dh, dw)
                else:
                    _im2col(x, n0 + i, g * cg, cols, i * p, kh, kw, ho, wo, sh, sw, ph, pw,
                            dh, dw)
            if b == 1 and not wide:
                np.dot(w3[g], cols, y4[n0, g])
            else:
                np.dot(w3[g], cols, out)
                for i in range(b):
                    _gather(out, i * p, y4[n0 + i, g], ho, wo, rw)


@njit(cache=True, error_model="numpy", nogil=True)
def _backward_input_images(gy, w, gx, first, stop, sh, sw, ph, pw, dh, dw, groups, wide,
                           batch):
    """gy: (N, O, Ho, Wo), w: (O, C//groups, kh, kw), gx: (N, C, H, W); float32/64, C-contiguous.

    Writes gx[first:stop], the transposed convolution of gy[first:stop] with w.
    """
    n_img = gy.shape[0]
    o, cg, kh, kw = w.shape
    ho = gy.shape[2]
    wo = gy.shape[3]
    og = o // groups
    k = cg * kh * kw
    rw = gx.shape[3] if wide else wo
    p = ho * rw
    w3 = w.reshape((groups, og, k))
    gy4 = gy.reshape((n_img, groups, og, ho * wo))
    gx[first:stop] = 0.0
    cols_buf = np.empty(k * batch * p, dtype=gy.dtype)
    gyb_buf = np.empty(og * batch * p, dtype=gy.dtype)
    for n0 in range(first, stop, batch):
        b = min(batch, stop - n0)
        cols = cols_buf[:k * b * p].reshape((k, b * p))
        gyb = gyb_buf[:og * b * p].reshape((og, b * p))
        for g in range(groups):
            if b == 1 and not wide:
                np.dot(w3[g].T, gy4[n0, g], cols)
            else:
                for i in range(b):
                    _spread(gy4[n0 + i, g], gyb, i * p, ho, wo, rw)
                np.dot(w3[g].T, gyb, cols)
            for i in range(b):
                if wide:
                    _col2im_wide(cols, i * p, gx, n0 + i, g * cg, kh, kw, ho, wo, ph, dh, dw)
                else:
                    _col2im(cols, i * p, gx, n0 + i, g * cg, kh, kw, ho, wo, sh, sw, ph, pw,
                            dh, dw)


@njit(cache=True, error_model="numpy", nogil=True)
def _backward_weight_images(x, gy, gw, first, stop, kh, kw, sh, sw, ph, pw, dh, dw, groups,
                            wide, batch):
    """x: (N, C, H, W), gy: (N, O, Ho, Wo), gw: (O, C//groups*kh*kw); float32/64, C-contiguous.

    Writes gw, the weight gradient summed over images first:stop.
    """
    n_img = x.shape[0]
    o = gy.shape[1]
    ho = gy.shape[2]
    wo = gy.shape[3]
    cg = x.shape[1] // groups
    og = o // groups
    k = cg * kh * kw
    rw = x.shape[3] if wide else wo
    p = ho * rw
    gy4 = gy.reshape((n_img, groups, og, ho * wo))
    gw3 = gw.reshape((groups, og, k))
    gw[:] = 0.0
    cols_buf = np.empty(k * batch * p, dtype=x.dtype)
    gyb_buf = np.empty(og * batch * p, dtype=x.dtype)
    prod = np.empty((og, k), dtype=x.dtype)
    for n0 in range(first, stop, batch):
        b = min(batch, stop - n0)
        cols = cols_buf[:k * b * p].reshape((k, b * p))
        gyb = gyb_buf[:og * b * p].reshape((og, b * p))
        for g in range(groups):
            for i in range(b):
                if wide:
                    _im2col_wide(x, n0 + i, g * cg, cols, i * p, kh, kw, ho, wo, ph, dh, dw)
                else:
                    _im2col(x, n0 + i, g * cg, cols, i * p, kh, kw, ho, wo, sh, sw, ph, pw,
                            dh, dw)
            if b == 1 and not wide:
                np.dot(gy4[n0, g], cols.T, prod)
            else:
                for i in range(b):
                    _spread(gy4[n0 + i, g], gyb, i * p, ho, wo, rw)
                np.dot(gyb, cols.T, prod)
            gwg = gw3[g]
            for r in range(og):  # a loop: an array `+=` here costs seconds of compile time
                for q in range(k):
                    gwg[r, q] += prod[r, q]
