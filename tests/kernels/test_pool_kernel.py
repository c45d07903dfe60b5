"""Pooling kernels against plain-loop numpy references (always) and PyTorch (when installed).

PyTorch's semantics are the specification: padding is -inf for max and counted for
average pooling, the first maximum of a window wins a tie, a NaN counts as a maximum.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

from tensorlite.kernels import pool as K

# (shape, kernel, stride, padding): overlapping windows, padding, non-square, no-overlap.
CASES = [
    ((2, 3, 7, 9), (3, 3), (2, 2), (1, 1)),
    ((2, 3, 7, 9), (3, 2), (1, 2), (1, 0)),
    ((1, 2, 8, 8), (2, 2), (2, 2), (0, 0)),
    ((2, 2, 5, 6), (4, 3), (1, 1), (2, 1)),
    ((1, 1, 6, 5), (1, 1), (1, 1), (0, 0)),
    ((1, 2, 9, 11), (5, 4), (3, 2), (2, 2)),
]
IDS = [f"{s}-k{k}-s{st}-p{p}" for s, k, st, p in CASES]


def _out(n, k, s, p):
    return (n + 2 * p - k) // s + 1


def _ref_max_pool(x, k, s, p):
    """Value and window offset of each window's maximum, by torch's rules, in plain loops."""
    n, c, h, w = x.shape
    ho, wo = _out(h, k[0], s[0], p[0]), _out(w, k[1], s[1], p[1])
    y = np.empty((n, c, ho, wo), x.dtype)
    where = np.empty((n, c, ho, wo), np.int64)
    for b in range(n):
        for ch in range(c):
            for oh in range(ho):
                for ow in range(wo):
                    best, arg = -np.inf, None
                    for i in range(k[0]):
                        for j in range(k[1]):
                            ih, iw = oh * s[0] - p[0] + i, ow * s[1] - p[1] + j
                            if not (0 <= ih < h and 0 <= iw < w):
                                continue  # padding: -inf, never a maximum
                            v = x[b, ch, ih, iw]
                            if arg is None:
                                arg = i * k[1] + j  # the first cell inside the input
                            if v > best or np.isnan(v):
                                best, arg = v, i * k[1] + j
                    y[b, ch, oh, ow] = best
                    where[b, ch, oh, ow] = arg
    return y, where


def _ref_max_pool_backward(gy, where, hw, k, s, p):
    n, c, ho, wo = gy.shape
    gx = np.zeros((n, c) + tuple(hw), gy.dtype)
    for b in range(n):
        for ch in range(c):
            for oh in range(ho):
                for ow in range(wo):
                    a = where[b, ch, oh, ow]
                    gx[b, ch, oh * s[0] - p[0] + a // k[1], ow * s[1] - p[1] + a % k[1]] += \
                        gy[b, ch, oh, ow]
    return gx


def _avg_divisors(hw, k, s, p):
    """count_include_pad divisor of every output cell, as PyTorch computes it."""
    h, w = hw
    ho, wo = _out(h, k[0], s[0], p[0]), _out(w, k[1], s[1], p[1])
    d = np.empty((ho, wo))
    for oh in range(ho):
        for ow in range(wo):
            h0, w0 = oh * s[0] - p[0], ow * s[1] - p[1]
            d[oh, ow] = (min(h0 + k[0], h + p[0]) - h0) * (min(w0 + k[1], w + p[1]) - w0)
    return d


def _ref_avg_pool(x, k, s, p):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    ho, wo = _out(h, k[0], s[0], p[0]), _out(w, k[1], s[1], p[1])
    y = np.empty((n, c, ho, wo), x.dtype)
    for oh in range(ho):
        for ow in range(wo):
            y[:, :, oh, ow] = xp[:, :, oh * s[0]:oh * s[0] + k[0],
                                 ow * s[1]:ow * s[1] + k[1]].sum(axis=(2, 3))
    return y / _avg_divisors((h, w), k, s, p)


def _ref_avg_pool_backward(gy, hw, k, s, p):
    n, c, ho, wo = gy.shape
    share = gy / _avg_divisors(hw, k, s, p)
    gxp = np.zeros((n, c, hw[0] + 2 * p[0], hw[1] + 2 * p[1]), gy.dtype)
    for oh in range(ho):
        for ow in range(wo):
            gxp[:, :, oh * s[0]:oh * s[0] + k[0], ow * s[1]:ow * s[1] + k[1]] += \
                share[:, :, oh, ow, None, None]
    return gxp[:, :, p[0]:p[0] + hw[0], p[1]:p[1] + hw[1]]


def _adaptive_windows(n_in, n_out):
    return [(i * n_in // n_out, -(-(i + 1) * n_in // n_out)) for i in range(n_out)]


def _ref_adaptive(x, out_hw):
    n, c, h, w = x.shape
    y = np.empty((n, c) + tuple(out_hw), x.dtype)
    for oh, (hs, he) in enumerate(_adaptive_windows(h, out_hw[0])):
        for ow, (ws, we) in enumerate(_adaptive_windows(w, out_hw[1])):
            y[:, :, oh, ow] = x[:, :, hs:he, ws:we].mean(axis=(2, 3))
    return y


def _ref_adaptive_backward(gy, hw):
    n, c, ho, wo = gy.shape
    gx = np.zeros((n, c) + tuple(hw), gy.dtype)
    for oh, (hs, he) in enumerate(_adaptive_windows(hw[0], ho)):
        for ow, (ws, we) in enumerate(_adaptive_windows(hw[1], wo)):
            gx[:, :, hs:he, ws:we] += gy[:, :, oh, ow, None, None] / ((he - hs) * (we - ws))
    return gx


def _random(shape, dtype=np.float64, seed=0, ties=False):
    rng = np.random.default_rng(seed)
    if ties:  # few distinct values: many windows hold equal maxima
        return rng.integers(-2, 2, shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


# ----------------------------------------------------------------------------- max pooling


@pytest.mark.parametrize("ties", [False, True], ids=["random", "ties"])
@pytest.mark.parametrize("shape,k,s,p", CASES, ids=IDS)
def test_max_pool_forward_matches_reference(shape, k, s, p, ties):
    x = _random(shape, ties=ties)
    y, argmax = K.max_pool2d_forward(x, k, s, p)
    y_ref, where_ref = _ref_max_pool(x, k, s, p)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(argmax, where_ref)


@pytest.mark.parametrize("shape,k,s,p", CASES, ids=IDS)
def test_max_pool_backward_accumulates_overlapping_windows(shape, k, s, p):
    x = _random(shape, ties=True)
    y, argmax = K.max_pool2d_forward(x, k, s, p)
    gy = _random(y.shape, seed=1)
    gx = K.max_pool2d_backward(gy, argmax, shape[2:], k, s, p)
    _, where = _ref_max_pool(x, k, s, p)
    np.testing.assert_allclose(gx, _ref_max_pool_backward(gy, where, shape[2:], k, s, p),
                               rtol=0, atol=1e-14)
    assert gx.sum() == pytest.approx(gy.sum())  # every gy lands somewhere in the input


def test_max_pool_tie_goes_to_first_cell():
    x = np.zeros((1, 1, 2, 2))
    y, argmax = K.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0))
    assert argmax[0, 0, 0, 0] == 0 and y[0, 0, 0, 0] == 0.0


def test_max_pool_nan_wins_and_last_nan_is_recorded():
    x = np.array([[[[1.0, np.nan], [np.nan, 5.0]]]])
    y, argmax = K.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0))
    assert np.isnan(y[0, 0, 0, 0])
    assert argmax[0, 0, 0, 0] == 2  # torch's CPU kernel: a later NaN replaces an earlier one


def test_max_pool_all_minus_inf_window_points_inside_the_input():
    x = np.full((1, 1, 3, 3), -np.inf)
    y, argmax = K.max_pool2d_forward(x, (3, 3), (1, 1), (1, 1))
    assert np.all(y == -np.inf)
    # Output (0, 0)'s window starts in the padding; its first input cell is offset 1*3+1.
    assert argmax[0, 0, 0, 0] == 4
    gx = K.max_pool2d_backward(np.ones(y.shape), argmax, (3, 3), (3, 3), (1, 1), (1, 1))
    assert gx.sum() == y.size


def test_max_pool_argmax_dtype_follows_window_size():
    x = _random((1, 1, 20, 20))
    assert K.max_pool2d_forward(x, (16, 16), (1, 1), (0, 0))[1].dtype == np.uint8
    y, argmax = K.max_pool2d_forward(x, (17, 17), (1, 1), (0, 0))
    assert argmax.dtype == np.int32
    np.testing.assert_array_equal(argmax, _ref_max_pool(x, (17, 17), (1, 1), (0, 0))[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool_keeps_dtype(dtype):
    x = _random((2, 2, 6, 6), dtype)
    y, argmax = K.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0))
    assert y.dtype == dtype
    assert K.max_pool2d_backward(y, argmax, (6, 6), (2, 2), (2, 2), (0, 0)).dtype == dtype


def test_max_pool_threaded_path_matches_reference(monkeypatch):
    # Above the serial threshold the planes are split over threads.
    monkeypatch.setattr(K, "_SERIAL_ELEMENTS", 1000)
    x = _random((4, 8, 40, 40), ties=True)
    assert x.size >= K._SERIAL_ELEMENTS
    k, s, p = (3, 3), (2, 2), (1, 1)
    y, argmax = K.max_pool2d_forward(x, k, s, p)
    y_ref, where = _ref_max_pool(x[:, :2], k, s, p)  # the loops are slow: spot-check 2 channels
    np.testing.assert_array_equal(y[:, :2], y_ref)
    np.testing.assert_array_equal(argmax[:, :2], where)
    gy = _random(y.shape, seed=1)
    gx = K.max_pool2d_backward(gy, argmax, (40, 40), k, s, p)
    np.testing.assert_allclose(gx[:, :2], _ref_max_pool_backward(gy[:, :2], where, (40, 40),
                                                                 k, s, p), atol=1e-14)


# ----------------------------------------------------------------------------- average pooling


@pytest.mark.parametrize("shape,k,s,p", CASES, ids=IDS)
def test_avg_pool_matches_reference(shape, k, s, p):
    x = _random(shape)
    y = K.avg_pool2d_forward(x, k, s, p)
    np.testing.assert_allclose(y, _ref_avg_pool(x, k, s, p), rtol=1e-13, atol=1e-14)
    gy = _random(y.shape, seed=1)
    gx = K.avg_pool2d_backward(gy, shape[2:], k, s, p)
    np.testing.assert_allclose(gx, _ref_avg_pool_backward(gy, shape[2:], k, s, p),
                               rtol=1e-13, atol=1e-14)


def test_avg_pool_counts_padding_in_divisor():
    x = np.ones((1, 1, 2, 2))
    y = K.avg_pool2d_forward(x, (2, 2), (1, 1), (1, 1))
    # The corner window holds one input cell and three padding cells.
    assert y[0, 0, 0, 0] == pytest.approx(0.25)
    assert y[0, 0, 1, 1] == pytest.approx(1.0)


def test_avg_pool_threaded_path_matches_reference(monkeypatch):
    monkeypatch.setattr(K, "_SERIAL_ELEMENTS", 1000)
    x = _random((4, 8, 40, 40))
    for k, s, p in [((2, 2), (2, 2), (0, 0)), ((3, 3), (2, 2), (1, 1)), ((4, 5), (3, 2), (1, 2))]:
        y = K.avg_pool2d_forward(x, k, s, p)
        np.testing.assert_allclose(y, _ref_avg_pool(x, k, s, p), rtol=1e-13, atol=1e-14)
        gy = _random(y.shape, seed=1)
        np.testing.assert_allclose(K.avg_pool2d_backward(gy, (40, 40), k, s, p),
                                   _ref_avg_pool_backward(gy, (40, 40), k, s, p),
                                   rtol=1e-13, atol=1e-14)


# ----------------------------------------------------------------------------- adaptive average

ADAPTIVE = [((2, 3, 7, 9), (3, 4)), ((1, 2, 10, 10), (3, 3)), ((1, 1, 5, 5), (5, 5)),
            ((1, 2, 4, 4), (7, 6)), ((2, 2, 9, 7), (1, 1)), ((4, 8, 40, 40), (6, 6))]


@pytest.mark.parametrize("shape,out", ADAPTIVE, ids=[f"{s}->{o}" for s, o in ADAPTIVE])
def test_adaptive_avg_pool_matches_reference(shape, out):
    x = _random(shape)
    y = K.adaptive_avg_pool2d_forward(x, out)
    np.testing.assert_allclose(y, _ref_adaptive(x, out), rtol=1e-13, atol=1e-14)
    gy = _random(y.shape, seed=1)
    np.testing.assert_allclose(K.adaptive_avg_pool2d_backward(gy, shape[2:]),
                               _ref_adaptive_backward(gy, shape[2:]), rtol=1e-13, atol=1e-14)


# ----------------------------------------------------------------------------- PyTorch


@pytest.mark.parametrize("shape,k,s,p", CASES, ids=IDS)
def test_pools_match_pytorch(shape, k, s, p):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = _random(shape, ties=True)
    xt = torch.tensor(x, requires_grad=True)
    yt, idx = F.max_pool2d(xt, k, s, p, return_indices=True)
    gy = _random(tuple(yt.shape), seed=1)
    yt.backward(torch.tensor(gy))
    y, argmax = K.max_pool2d_forward(x, k, s, p)
    np.testing.assert_array_equal(y, yt.detach().numpy())
    # torch's index is the flat position in the input plane: same cell as our window offset.
    oh = np.arange(y.shape[2])[:, None] * s[0] - p[0] + argmax // k[1]
    ow = np.arange(y.shape[3])[None, :] * s[1] - p[1] + argmax % k[1]
    np.testing.assert_array_equal(oh * shape[3] + ow, idx.numpy())
    gx = K.max_pool2d_backward(gy, argmax, shape[2:], k, s, p)
    np.testing.assert_allclose(gx, xt.grad.numpy(), rtol=1e-10, atol=1e-12)

    xt.grad = None
    x = _random(shape)
    xt = torch.tensor(x, requires_grad=True)
    yt = F.avg_pool2d(xt, k, s, p)
    yt.backward(torch.tensor(gy))
    np.testing.assert_allclose(K.avg_pool2d_forward(x, k, s, p), yt.detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(K.avg_pool2d_backward(gy, shape[2:], k, s, p),
                               xt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_max_pool_nan_matches_pytorch():
    torch = pytest.importorskip("torch")
    x = _random((1, 2, 6, 6))
    x[0, 0, 1, 1] = x[0, 1, 2, 3] = x[0, 1, 3, 3] = np.nan
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.max_pool2d(xt, 3, 1, 1)
    yt.backward(torch.ones_like(yt))
    y, argmax = K.max_pool2d_forward(x, (3, 3), (1, 1), (1, 1))
    np.testing.assert_array_equal(y, yt.detach().numpy())  # NaNs in the same places
    gx = K.max_pool2d_backward(np.ones(y.shape), argmax, (6, 6), (3, 3), (1, 1), (1, 1))
    np.testing.assert_array_equal(gx, xt.grad.numpy())


@pytest.mark.parametrize("shape,out", ADAPTIVE, ids=[f"{s}->{o}" for s, o in ADAPTIVE])
def test_adaptive_avg_pool_matches_pytorch(shape, out):
    torch = pytest.importorskip("torch")
    x = _random(shape)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.adaptive_avg_pool2d(xt, out)
    gy = _random(tuple(yt.shape), seed=1)
    yt.backward(torch.tensor(gy))
    np.testing.assert_allclose(K.adaptive_avg_pool2d_forward(x, out), yt.detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(K.adaptive_avg_pool2d_backward(gy, shape[2:]), xt.grad.numpy(),
                               rtol=1e-10, atol=1e-12)


def test_float32_matches_pytorch():
    torch = pytest.importorskip("torch")
    x = _random((2, 4, 12, 12), np.float32)
    xt = torch.tensor(x)
    y, _ = K.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0))
    np.testing.assert_array_equal(y, torch.nn.functional.max_pool2d(xt, 2).numpy())
    # Same summation order and a float32 division, as torch: equal bit for bit.
    np.testing.assert_array_equal(K.avg_pool2d_forward(x, (3, 3), (2, 2), (1, 1)),
                                  torch.nn.functional.avg_pool2d(xt, 3, 2, 1).numpy())


# ----------------------------------------------------------------------------- without the JIT

_NO_JIT_SCRIPT = """
import numpy as np
from tensorlite.kernels import pool as K
rng = np.random.default_rng(0)
for dtype in (np.float32, np.float64):
    x = rng.integers(-2, 2, (2, 2, 7, 6)).astype(dtype)
    y, a = K.max_pool2d_forward(x, (3, 2), (2, 1), (1, 1))
    gx = K.max_pool2d_backward(np.ones_like(y), a, (7, 6), (3, 2), (2, 1), (1, 1))
    ya = K.avg_pool2d_forward(x, (3, 3), (2, 2), (1, 1))
    ga = K.avg_pool2d_backward(np.ones_like(ya), (7, 6), (3, 3), (2, 2), (1, 1))
    yd = K.adaptive_avg_pool2d_forward(x, (3, 4))
    gd = K.adaptive_avg_pool2d_backward(np.ones_like(yd), (7, 6))
    np.save(f"{OUT}/{np.dtype(dtype).name}.npy", np.concatenate(
        [v.ravel().astype(np.float64) for v in (y, a, gx, ya, ga, yd, gd)]))
"""


def test_kernels_run_without_jit(tmp_path):
    """NUMBA_DISABLE_JIT=1 runs the same functions as plain Python: same results."""
    script = f"OUT = {str(tmp_path)!r}\n" + _NO_JIT_SCRIPT
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=120)
    out_jit = tmp_path / "jit"
    out_jit.mkdir()
    exec(compile(f"OUT = {str(out_jit)!r}\n" + _NO_JIT_SCRIPT, "<jit>", "exec"), {})
    for name in ("float32", "float64"):
        np.testing.assert_allclose(np.load(tmp_path / f"{name}.npy"),
                                   np.load(out_jit / f"{name}.npy"), rtol=1e-6)
