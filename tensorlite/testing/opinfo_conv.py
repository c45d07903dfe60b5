"""OpInfo entries for convolution (conv2d, conv_transpose2d)."""
from __future__ import annotations

import numpy as np

from ..ops import conv as C
from .opinfo import OpInfo, SampleInput, _st, register


def _np_conv2d(x, w, stride=1, padding=0, dilation=1, groups=1):
    """Direct-loop reference: y[n,o,i,j] = sum_{c,u,v} x_pad[n, g*Cg + c, i*s + u*d, j*s + v*d] w[o,c,u,v]."""
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    dh, dw = (dilation, dilation) if isinstance(dilation, int) else dilation
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((n, o, ho, wo))
    og = o // groups
    for oc in range(o):
        gi = oc // og
        for u in range(kh):
            for v in range(kw):
                patch = xp[:, gi * cg:(gi + 1) * cg, u * dh:u * dh + sh * (ho - 1) + 1:sh,
                           v * dw:v * dw + sw * (wo - 1) + 1:sw]
                y[:, oc] += np.einsum("nchw,c->nhw", patch, w[oc, :, u, v])
    return y


def conv_samples(transpose: bool = False):
    def build():
        st, ts = _st()

        @st.composite
        def draw(d):
            groups = d(st.sampled_from([1, 1, 2, 3]))
            cg = d(st.integers(1, 2))
            og = d(st.integers(1, 2))
            kh, kw = d(st.integers(1, 3)), d(st.integers(1, 3))
            stride = (d(st.integers(1, 2)), d(st.integers(1, 2)))
            dilation = (d(st.integers(1, 2)), d(st.integers(1, 2)))
            padding = (d(st.integers(0, kh + 1)), d(st.integers(0, kw + 1)))
            eff = (dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)
            h = d(st.integers(max(1, eff[0] - 2 * padding[0]), eff[0] + 3))
            w_ = d(st.integers(max(1, eff[1] - 2 * padding[1]), eff[1] + 3))
            n = d(st.integers(1, 2))
            if transpose:
                # x is shaped like the output of the conv2d this transposes.
                ho = (h + 2 * padding[0] - eff[0]) // stride[0] + 1
                wo = (w_ + 2 * padding[1] - eff[1]) // stride[1] + 1
                if min((ho - 1) * stride[0] - 2 * padding[0] + eff[0],
                       (wo - 1) * stride[1] - 2 * padding[1] + eff[1]) < 1:
                    padding = (0, 0)
                x = d(ts.float_arrays((n, groups * og, ho, wo)))
                wt = d(ts.float_arrays((groups * og, cg, kh, kw)))
                # output_padding may reach max(stride, dilation) - 1, past the stride.
                out_pad = tuple(d(st.integers(0, max(stride[k], dilation[k]) - 1))
                                for k in range(2))
                return SampleInput((x, wt), {"stride": stride, "padding": padding,
                                             "output_padding": out_pad,
                                             "dilation": dilation, "groups": groups})
            x = d(ts.float_arrays((n, groups * cg, h, w_)))
            wt = d(ts.float_arrays((groups * og, cg, kh, kw)))
            b = d(ts.float_arrays((groups * og,)))
            return SampleInput((x, wt, b), {"stride": stride, "padding": padding,
                                            "dilation": dilation, "groups": groups})
        return draw()
    return build


def _np_conv_transpose2d(x, w, stride, padding, dilation, groups, output_padding=(0, 0)):
    # The adjoint of conv2d: <convT(x), z> = <x, conv(z)> for all z; build it column by column.
    # output_padding adds rows/columns at the end; conv(z) over the larger map is then cut
    # back to x's extent.
    n, c_in, h, wd = x.shape
    sh, sw = stride
    ph, pw = padding
    dh, dw = dilation
    kh, kw = w.shape[2:]
    ho = (h - 1) * sh - 2 * ph + dh * (kh - 1) + 1 + output_padding[0]
    wo = (wd - 1) * sw - 2 * pw + dw * (kw - 1) + 1 + output_padding[1]
    c_out = w.shape[1] * groups
    out = np.zeros((n, c_out, ho, wo))
    for idx in np.ndindex(c_out, ho, wo):
        e = np.zeros((1, c_out, ho, wo))
        e[(0,) + idx] = 1
        col = _np_conv2d(e, w, stride, padding, dilation, groups)[:, :, :h, :wd]
        out[(slice(None),) + idx] = np.einsum("nchw,chw->n", x, col[0])
    return out


register(OpInfo("conv2d", lambda x, w, b, **kw: C.conv2d(x, w, b, **kw),
                lambda x, w, b, **kw: _np_conv2d(x, w, **kw) + b[None, :, None, None],
                conv_samples(), (C.Conv2d, C.ConvTranspose, C.ConvWeight),
                lambda t, x, w, b, **kw: t.nn.functional.conv2d(x, w, b, **kw),
                fast_mode_above=150))
def _conv_transpose_out_of_comparison(case) -> bool:
    x, w = case.args[0], case.args[1]
    # PyTorch 2.13 fails inside (IndexError from select()) on an empty batch with zero
    # output channels; the empty result tensorlite returns is the right one.
    if x.shape[0] == 0 and 0 in w.shape:
        return True
    # A non-finite input cell whose every output lands in the cropped border (padding)
    # contributes no term to the weight gradient; PyTorch still multiplies it by the zero
    # gradient of the cropped cells (inf * 0 = NaN) in some geometries (dilated, grouped),
    # tensorlite in others. Measured: a 1e0-scale input with one inf under groups=3,
    # dilation (1, 2), padding 3 gives PyTorch NaN for that group's kernel, ours finite.
    pad = case.kwargs.get("padding", 0)
    with np.errstate(invalid="ignore"):
        return bool(np.any(pad)) and not bool(np.isfinite(x).all())


register(OpInfo("conv_transpose2d", lambda x, w, **kw: C.conv_transpose2d(x, w, **kw),
                _np_conv_transpose2d, conv_samples(transpose=True),
                (C.ConvTranspose, C.Conv2d, C.ConvWeight),
                lambda t, x, w, **kw: t.nn.functional.conv_transpose2d(x, w, **kw),
                fast_mode_above=150,
                fuzz_skip=_conv_transpose_out_of_comparison))
