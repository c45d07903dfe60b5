"""conv2d kernels against a plain numpy reference (always) and PyTorch (when installed).

PyTorch's conv2d is the specification: cross-correlation, zero padding,
Ho = (H + 2*ph - dh*(kh-1) - 1)//sh + 1, and its autograd gradients for input and weight.
Every configuration runs through the serial path and through the parallel path with one
and with several images per GEMM, so each code path meets each edge case.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

from tensorlite.kernels import conv as K

# (N, C, O, H, W, kernel, stride, padding, dilation, groups)
CONFIGS = {
    "basic": (2, 3, 4, 5, 6, (3, 3), (1, 1), (1, 1), (1, 1), 1),
    "stride2": (2, 3, 4, 7, 8, (3, 3), (2, 2), (1, 1), (1, 1), 1),
    "non_square_everything": (3, 4, 6, 7, 9, (3, 2), (2, 3), (3, 1), (2, 1), 2),
    "padding_beyond_half_kernel": (2, 2, 3, 5, 4, (3, 3), (1, 1), (2, 3), (1, 1), 1),
    "dilation": (2, 3, 2, 9, 8, (3, 3), (1, 1), (2, 2), (2, 3), 1),
    "grouped": (2, 6, 4, 5, 5, (3, 3), (1, 1), (1, 1), (1, 1), 2),
    "depthwise": (2, 4, 4, 6, 6, (3, 3), (1, 1), (1, 1), (1, 1), 4),
    "depthwise_multiplier_strided": (2, 3, 6, 5, 5, (3, 3), (2, 1), (1, 1), (1, 1), 3),
    "kernel_1x1": (2, 5, 3, 4, 6, (1, 1), (1, 1), (0, 0), (1, 1), 1),
    "kernel_1x1_strided_padded_grouped": (2, 4, 8, 5, 6, (1, 1), (2, 1), (1, 0), (1, 1), 4),
    "kernel_as_large_as_padded_input": (2, 3, 4, 5, 6, (7, 8), (1, 1), (1, 1), (1, 1), 1),
    "kernel_larger_than_input": (1, 2, 3, 3, 3, (5, 5), (1, 1), (2, 2), (1, 1), 1),
    "batch_1": (1, 3, 4, 6, 5, (3, 3), (1, 1), (1, 1), (1, 1), 1),
    "stride_beyond_kernel": (2, 2, 3, 9, 10, (2, 2), (3, 4), (0, 0), (1, 1), 1),
    "last_rows_unused": (3, 2, 2, 8, 8, (3, 3), (3, 3), (0, 0), (1, 1), 1),
    "odd_batch": (5, 3, 4, 6, 7, (3, 3), (1, 2), (1, 1), (1, 1), 1),
    # stride 1 with output size == input size takes the whole-row copy path of im2col
    "same_size_dilated": (2, 3, 2, 6, 7, (3, 3), (1, 1), (2, 2), (2, 2), 1),
    "same_size_kernel_wider_than_input": (2, 2, 3, 4, 2, (3, 5), (1, 1), (1, 2), (1, 1), 1),
    # stride 1, no width padding, output narrower than the input: the "wide" column layout
    "valid_5x5_as_in_lenet": (3, 6, 4, 14, 14, (5, 5), (1, 1), (0, 0), (1, 1), 1),
    "valid_width_padded_rows_dilated_grouped": (3, 4, 6, 7, 9, (3, 2), (1, 1), (2, 0), (2, 3), 2),
    "valid_kernel_spanning_the_width": (2, 2, 3, 5, 4, (2, 4), (1, 1), (1, 0), (1, 1), 1),
    "valid_rows_entirely_in_padding": (2, 2, 2, 3, 6, (2, 3), (1, 1), (4, 0), (1, 1), 1),
}

# How the kernels split the work: (_SERIAL_MACS, _TARGET_COLUMNS).
PLANS = {
    "serial": (10**18, 2048),
    "parallel_one_image_per_gemm": (0, 1),
    "parallel_batched_gemm": (0, 10**9),
}


def _sizes(cfg):
    n, c, o, h, w, k, s, p, d, g = cfg
    ho = (h + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    wo = (w + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    return ho, wo


def _arrays(cfg, dtype=np.float64, seed=0):
    n, c, o, h, w, k, s, p, d, g = cfg
    ho, wo = _sizes(cfg)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    wt = rng.standard_normal((o, c // g) + k).astype(dtype)
    gy = rng.standard_normal((n, o, ho, wo)).astype(dtype)
    return x, wt, gy


def _ours(cfg, x, w, gy):
    n, c, o, h, wd, k, s, p, d, g = cfg
    return (K.conv2d_forward(x, w, s, p, d, g),
            K.conv2d_backward_input(gy, w, (h, wd), s, p, d, g),
            K.conv2d_backward_weight(x, gy, k, s, p, d, g))


# ------------------------------------------------------------------ numpy reference
# One kernel offset (i, j) at a time: the input window it sees is a strided slice of the
# padded input, and the three functions are each one einsum over that slice.

def _windows(cfg):
    n, c, o, h, w, k, s, p, d, g = cfg
    ho, wo = _sizes(cfg)
    for i in range(k[0]):
        for j in range(k[1]):
            yield i, j, (slice(None), slice(None),
                         slice(i * d[0], i * d[0] + s[0] * (ho - 1) + 1, s[0]),
                         slice(j * d[1], j * d[1] + s[1] * (wo - 1) + 1, s[1]))


def ref_forward(cfg, x, w):
    n, c, o, h, wd, k, s, p, d, g = cfg
    ho, wo = _sizes(cfg)
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    cg, og = c // g, o // g
    y = np.zeros((n, o, ho, wo))
    for i, j, win in _windows(cfg):
        xs = xp[win]
        for gi in range(g):
            y[:, gi * og:(gi + 1) * og] += np.einsum(
                "nchw,oc->nohw", xs[:, gi * cg:(gi + 1) * cg], w[gi * og:(gi + 1) * og, :, i, j])
    return y


def ref_backward_input(cfg, gy, w):
    n, c, o, h, wd, k, s, p, d, g = cfg
    cg, og = c // g, o // g
    gxp = np.zeros((n, c, h + 2 * p[0], wd + 2 * p[1]))
    for i, j, win in _windows(cfg):
        gxs = gxp[win]  # a view: += below writes into gxp
        for gi in range(g):
            gxs[:, gi * cg:(gi + 1) * cg] += np.einsum(
                "nohw,oc->nchw", gy[:, gi * og:(gi + 1) * og], w[gi * og:(gi + 1) * og, :, i, j])
    return gxp[:, :, p[0]:p[0] + h, p[1]:p[1] + wd]


def ref_backward_weight(cfg, x, gy):
    n, c, o, h, wd, k, s, p, d, g = cfg
    cg, og = c // g, o // g
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    gw = np.zeros((o, cg) + k)
    for i, j, win in _windows(cfg):
        xs = xp[win]
        for gi in range(g):
            gw[gi * og:(gi + 1) * og, :, i, j] = np.einsum(
                "nohw,nchw->oc", gy[:, gi * og:(gi + 1) * og], xs[:, gi * cg:(gi + 1) * cg])
    return gw


# ------------------------------------------------------------------ tests


@pytest.fixture(params=list(PLANS), ids=list(PLANS))
def plan(request, monkeypatch):
    serial_macs, columns = PLANS[request.param]
    monkeypatch.setattr(K, "_SERIAL_MACS", serial_macs)
    monkeypatch.setattr(K, "_TARGET_COLUMNS", columns)
    return request.param


@pytest.mark.parametrize("name", list(CONFIGS))
def test_all_three_match_numpy_reference_in_float64(name, plan):
    cfg = CONFIGS[name]
    x, w, gy = _arrays(cfg)
    y, gx, gw = _ours(cfg, x, w, gy)
    np.testing.assert_allclose(y, ref_forward(cfg, x, w), rtol=0, atol=1e-10)
    np.testing.assert_allclose(gx, ref_backward_input(cfg, gy, w), rtol=0, atol=1e-10)
    np.testing.assert_allclose(gw, ref_backward_weight(cfg, x, gy), rtol=0, atol=1e-10)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_all_three_match_torch_in_float64(name, plan):
    torch = pytest.importorskip("torch")
    cfg = CONFIGS[name]
    n, c, o, h, wd, k, s, p, d, g = cfg
    x, w, gy = _arrays(cfg)
    xt = torch.from_numpy(x).requires_grad_(True)
    wt = torch.from_numpy(w).requires_grad_(True)
    yt = torch.nn.functional.conv2d(xt, wt, None, s, p, d, g)
    gxt, gwt = torch.autograd.grad(yt, (xt, wt), torch.from_numpy(gy))
    y, gx, gw = _ours(cfg, x, w, gy)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(gx, gxt.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(gw, gwt.numpy(), rtol=0, atol=1e-10)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_gradients_are_the_adjoints_of_forward(name):
    # <conv(x, w), gy> = <x, backward_input(gy, w)> = <w, backward_weight(x, gy)>
    cfg = CONFIGS[name]
    x, w, gy = _arrays(cfg)
    y, gx, gw = _ours(cfg, x, w, gy)
    inner = np.vdot(y, gy)
    assert np.vdot(x, gx) == pytest.approx(inner, rel=1e-12, abs=1e-12)
    assert np.vdot(w, gw) == pytest.approx(inner, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("name", ["basic", "non_square_everything", "depthwise", "odd_batch"])
def test_float32_agrees_with_float64(name, plan):
    cfg = CONFIGS[name]
    x, w, gy = _arrays(cfg)
    ours32 = _ours(cfg, *(a.astype(np.float32) for a in (x, w, gy)))
    for got, want in zip(ours32, _ours(cfg, x, w, gy)):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_outputs_have_documented_shapes_and_dtype():
    cfg = CONFIGS["non_square_everything"]
    n, c, o, h, wd, k, s, p, d, g = cfg
    x, w, gy = _arrays(cfg)
    y, gx, gw = _ours(cfg, x, w, gy)
    assert y.shape == (n, o) + _sizes(cfg) and y.dtype == np.float64
    assert gx.shape == x.shape and gw.shape == w.shape


def test_inputs_are_not_modified(plan):
    cfg = CONFIGS["grouped"]
    x, w, gy = _arrays(cfg)
    copies = [a.copy() for a in (x, w, gy)]
    _ours(cfg, x, w, gy)
    for a, b in zip((x, w, gy), copies):
        np.testing.assert_array_equal(a, b)


def test_non_contiguous_inputs_give_the_same_result():
    cfg = CONFIGS["basic"]
    x, w, gy = _arrays(cfg)
    # Fortran-ordered copies hold the same values in another memory order.
    strided = _ours(cfg, *(np.asfortranarray(a) for a in (x, w, gy)))
    for got, want in zip(strided, _ours(cfg, x, w, gy)):
        np.testing.assert_array_equal(got, want)


_PURE_PYTHON_SCRIPT = r"""
import numpy as np
from tensorlite.kernels import conv as K
out = {}
for tag, serial_macs, columns in (("serial", 10**18, 2048), ("parallel", 0, 10**9)):
    K._SERIAL_MACS, K._TARGET_COLUMNS = serial_macs, columns
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4, 5, 6))
    w = rng.standard_normal((6, 2, 3, 2))
    gy = rng.standard_normal((3, 6, 4, 2))
    args = ((2, 3), (2, 1), (1, 2), 2)
    out[tag + "_y"] = K.conv2d_forward(x, w, *args)
    out[tag + "_gx"] = K.conv2d_backward_input(gy, w, (5, 6), *args)
    out[tag + "_gw"] = K.conv2d_backward_weight(x, gy, (3, 2), *args)
np.savez(OUT, **out)
"""


def test_kernels_run_as_plain_python_with_jit_disabled(tmp_path):
    # NUMBA_DISABLE_JIT=1 runs the kernels as plain Python with numpy's np.dot: the same
    # source must still run and give the same numbers (this is how one debugs a kernel).
    cfg = (3, 4, 6, 5, 6, (3, 2), (2, 3), (2, 1), (1, 2), 2)
    assert _sizes(cfg) == (4, 2)
    out = tmp_path / "out.npz"
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, NUMBA_DISABLE_JIT="1",
               PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    subprocess.run([sys.executable, "-c", f"OUT = {str(out)!r}\n" + _PURE_PYTHON_SCRIPT],
                   env=env, check=True, timeout=120)
    got = np.load(out)
    x, w, gy = _arrays(cfg)
    for tag in ("serial", "parallel"):
        np.testing.assert_allclose(got[tag + "_y"], ref_forward(cfg, x, w), rtol=0, atol=1e-10)
        np.testing.assert_allclose(got[tag + "_gx"], ref_backward_input(cfg, gy, w),
                                   rtol=0, atol=1e-10)
        np.testing.assert_allclose(got[tag + "_gw"], ref_backward_weight(cfg, x, gy),
                                   rtol=0, atol=1e-10)
