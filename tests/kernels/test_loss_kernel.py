"""Fused cross-entropy, softmax and log_softmax kernels against float64 numpy references
(always) and PyTorch (when installed)."""
import os
import subprocess
import sys

import numpy as np
import pytest

from tensorlite.kernels import loss as K


def _ref_lse(x):
    x = x.astype(np.float64)
    m = x.max(axis=1, keepdims=True)
    return (m + np.log(np.exp(x - m).sum(axis=1, keepdims=True)))[:, 0]


def _ref_forward(x, target, ignore_index, eps):
    # lse - x_t written as log sum exp(x - m) - (x_t - m), so that huge equal logits give
    # log K rather than 0 (m + log K rounds to m when m is ~1e307).
    x = x.astype(np.float64)
    lse = _ref_lse(x)
    m = x.max(axis=1)
    log_s = np.log(np.exp(x - m[:, None]).sum(axis=1))
    keep = target != ignore_index
    picked = x[np.arange(len(x)), np.where(keep, target, 0)]
    loss = log_s - (picked - m)
    if eps:
        loss = (1 - eps) * loss + eps * (log_s - (x - m[:, None]).mean(axis=1))
    return np.where(keep, loss, 0.0), lse


def _ref_backward(x, target, grad_rows, ignore_index, eps):
    x = x.astype(np.float64)
    m, k = x.shape
    keep = target != ignore_index
    onehot = np.zeros((m, k))
    onehot[np.arange(m)[keep], target[keep]] = 1.0
    e = np.exp(x - x.max(axis=1, keepdims=True))   # softmax as exp(x - m) / s (see above)
    g = e / e.sum(axis=1, keepdims=True) - (1 - eps) * onehot - eps / k
    return np.where(keep[:, None], grad_rows[:, None] * g, 0.0)


def _logits(m, k, dtype=np.float64, scale=3.0, seed=0):
    return (np.random.default_rng(seed).standard_normal((m, k)) * scale).astype(dtype)


def _targets(m, k, ignore_index=-100, n_ignored=0, seed=1):
    t = np.random.default_rng(seed).integers(0, k, m).astype(np.int64)
    t[:n_ignored] = ignore_index
    return t


def _check(x, t, ignore_index, eps, rtol, atol=None):
    grad_rows = np.random.default_rng(2).standard_normal(len(x)).astype(x.dtype)
    loss, stats = K.cross_entropy_forward(x, t, ignore_index, eps)
    lse = K.logsumexp(stats)
    grad = K.cross_entropy_backward(x, t, stats, grad_rows, ignore_index, eps)
    assert loss.dtype == lse.dtype == grad.dtype == x.dtype
    ref_loss, ref_lse = _ref_forward(x, t, ignore_index, eps)
    atol = rtol if atol is None else atol
    np.testing.assert_allclose(loss, ref_loss, rtol=rtol, atol=atol)
    np.testing.assert_allclose(lse, ref_lse, rtol=rtol, atol=atol)
    np.testing.assert_allclose(grad, _ref_backward(x, t, grad_rows, ignore_index, eps),
                               rtol=rtol, atol=rtol)


# ----------------------------------------------------------------------------- cross-entropy


@pytest.mark.parametrize("eps", [0.0, 0.1, 1.0])
@pytest.mark.parametrize("shape", [(1, 1), (3, 1), (1, 7), (16, 10), (5, 333)])
def test_cross_entropy_float64_matches_reference(shape, eps):
    x = _logits(*shape)
    _check(x, _targets(*shape), -100, eps, rtol=1e-12)


@pytest.mark.parametrize("eps", [0.0, 0.2])
def test_cross_entropy_float32_matches_reference(eps):
    x = _logits(40, 100, np.float32)
    _check(x, _targets(40, 100, n_ignored=3), -100, eps, rtol=2e-5)


@pytest.mark.parametrize("ignore_index", [-100, 0, 4])
def test_ignored_rows_give_zero_loss_and_zero_gradient(ignore_index):
    x = _logits(9, 5)
    t = _targets(9, 5, ignore_index, n_ignored=4)
    loss, stats = K.cross_entropy_forward(x, t, ignore_index, 0.1)
    lse = K.logsumexp(stats)
    grad = K.cross_entropy_backward(x, t, stats, np.ones(9), ignore_index, 0.1)
    ignored = t == ignore_index
    np.testing.assert_array_equal(loss[ignored], 0.0)
    np.testing.assert_array_equal(grad[ignored], 0.0)
    assert np.all(loss[~ignored] > 0)
    _check(x, t, ignore_index, 0.1, rtol=1e-12)


def test_gradient_rows_sum_to_zero():
    # softmax sums to one, as do (1-eps)*onehot + eps/K: each row's gradient sums to zero.
    x = _logits(8, 30)
    t = _targets(8, 30)
    _, stats = K.cross_entropy_forward(x, t, -100, 0.3)
    lse = K.logsumexp(stats)
    grad = K.cross_entropy_backward(x, t, stats, np.ones(8), -100, 0.3)
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_stay_finite(dtype):
    x = _logits(6, 50, dtype, scale=1e4)
    x[1, 3] = -np.inf  # a class that can never be predicted
    x[2, :] = -3e4
    x[3, :] = np.finfo(dtype).max / 4
    t = _targets(6, 50)
    t[1] = 4
    loss, stats = K.cross_entropy_forward(x, t, -100, 0.0)
    lse = K.logsumexp(stats)
    grad = K.cross_entropy_backward(x, t, stats, np.ones(6, dtype), -100, 0.0)
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad))
    # x_t - m is exact, log s carries the error; row 3 (every logit max/4) must give log 50.
    _check(x, t, -100, 0.0, rtol=1e-12 if dtype == np.float64 else 2e-5,
           atol=4 * np.finfo(dtype).eps * 3e4)


def test_nan_logit_makes_its_row_nan_only():
    x = _logits(3, 6)
    x[1, 2] = np.nan
    t = np.array([0, 0, 0], np.int64)
    loss, stats = K.cross_entropy_forward(x, t, -100, 0.0)
    lse = K.logsumexp(stats)
    grad = K.cross_entropy_backward(x, t, stats, np.ones(3), -100, 0.0)
    assert np.isnan(loss[1]) and np.all(np.isnan(grad[1]))
    assert np.all(np.isfinite(loss[[0, 2]])) and np.all(np.isfinite(grad[[0, 2]]))


def test_row_of_minus_inf_gives_nan_as_pytorch():
    x = np.full((1, 4), -np.inf)
    loss, stats = K.cross_entropy_forward(x, np.array([1], np.int64), -100, 0.0)
    lse = K.logsumexp(stats)
    assert np.isnan(loss[0]) and lse[0] == -np.inf


def test_threaded_path_matches_reference():
    x = _logits(150, 800, scale=5.0)
    assert x.size >= K._SERIAL_ELEMENTS
    _check(x, _targets(150, 800, n_ignored=7), -100, 0.1, rtol=1e-12)


def test_non_contiguous_logits_are_accepted():
    x = _logits(10, 12)[:, ::2]
    _check(x, _targets(10, 6), -100, 0.0, rtol=1e-12)


# ----------------------------------------------------------------------------- the exponential


@pytest.mark.parametrize("dtype,ulps", [(np.float32, 2), (np.float64, 2)])
def test_exponential_is_accurate_to_ulps(dtype, ulps):
    z = np.concatenate([-np.geomspace(1e-12, 700, 20000), np.linspace(-1, 0, 5001)])
    z = z[z >= (-87 if dtype == np.float32 else -708)].astype(dtype)
    mant = np.empty_like(z)
    bits = np.empty(len(z), np.int32 if dtype == np.float32 else np.int64)
    K._exp_prepare(z, dtype(0.0), mant, bits)
    got = mant * bits.view(dtype)
    exact = np.exp(z.astype(np.longdouble))
    err = np.abs((got - exact) / exact) / np.finfo(dtype).eps
    assert err.max() <= ulps


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exponential_underflows_to_zero_and_keeps_nan(dtype):
    z = np.array([-1e4, -np.inf, np.nan, 0.0], dtype)
    mant = np.empty_like(z)
    bits = np.empty(4, np.int32 if dtype == np.float32 else np.int64)
    K._exp_prepare(z, dtype(0.0), mant, bits)
    got = mant * bits.view(dtype)
    assert got[0] == 0 and got[1] == 0 and np.isnan(got[2]) and got[3] == 1


# ----------------------------------------------------------------------------- softmax


@pytest.mark.parametrize("shape", [(1, 1), (4, 7), (3, 1000), (150, 800)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_and_log_softmax_match_reference(shape, dtype):
    x = _logits(*shape, dtype=dtype)
    x[0, 0] = -np.inf
    rtol = 1e-12 if dtype == np.float64 else 2e-5
    ref = x.astype(np.float64) - _ref_lse(x)[:, None]
    y = K.log_softmax_forward(x)
    assert y.dtype == dtype
    np.testing.assert_allclose(y, ref, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(K.softmax_forward(x), np.exp(ref), rtol=rtol, atol=rtol)


def test_softmax_rows_sum_to_one_for_huge_logits():
    x = _logits(5, 40, scale=1e5)
    np.testing.assert_allclose(K.softmax_forward(x).sum(axis=1), 1.0, rtol=1e-14)


# ----------------------------------------------------------------------------- PyTorch


@pytest.mark.parametrize("eps", [0.0, 0.25])
@pytest.mark.parametrize("ignore_index", [-100, 2])
def test_cross_entropy_matches_pytorch(ignore_index, eps):
    torch = pytest.importorskip("torch")
    x = _logits(20, 9, scale=4.0)
    t = _targets(20, 9, ignore_index, n_ignored=3)
    grad_rows = np.random.default_rng(5).standard_normal(20)
    xt = torch.tensor(x, requires_grad=True)
    lt = torch.nn.functional.cross_entropy(xt, torch.tensor(t), reduction="none",
                                           ignore_index=ignore_index, label_smoothing=eps)
    lt.backward(torch.tensor(grad_rows))
    loss, stats = K.cross_entropy_forward(x, t, ignore_index, eps)
    lse = K.logsumexp(stats)
    grad = K.cross_entropy_backward(x, t, stats, grad_rows, ignore_index, eps)
    np.testing.assert_allclose(loss, lt.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grad, xt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_float32_cross_entropy_matches_pytorch():
    torch = pytest.importorskip("torch")
    x = _logits(64, 1000, np.float32)
    t = _targets(64, 1000)
    xt = torch.tensor(x, requires_grad=True)
    lt = torch.nn.functional.cross_entropy(xt, torch.tensor(t), reduction="none")
    lt.backward(torch.ones(64))
    loss, stats = K.cross_entropy_forward(x, t, -100, 0.0)
    lse = K.logsumexp(stats)
    grad = K.cross_entropy_backward(x, t, stats, np.ones(64, np.float32), -100, 0.0)
    np.testing.assert_allclose(loss, lt.detach().numpy(), rtol=2e-6, atol=2e-6)
    np.testing.assert_allclose(grad, xt.grad.numpy(), rtol=2e-6, atol=1e-8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_and_log_softmax_match_pytorch(dtype):
    torch = pytest.importorskip("torch")
    x = _logits(30, 50, dtype, scale=10.0)
    xt = torch.tensor(x)
    tol = 1e-10 if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(K.log_softmax_forward(x), torch.log_softmax(xt, 1).numpy(),
                               rtol=tol, atol=tol)
    np.testing.assert_allclose(K.softmax_forward(x), torch.softmax(xt, 1).numpy(),
                               rtol=tol, atol=tol)


# ----------------------------------------------------------------------------- without the JIT


def test_kernels_run_without_jit():
    """NUMBA_DISABLE_JIT=1 runs the same functions as plain Python: same results."""
    script = """
import numpy as np
from tensorlite.kernels import loss as K
for dtype, tol in ((np.float32, 1e-5), (np.float64, 1e-12)):
    x = (np.random.default_rng(0).standard_normal((5, 40)) * 3).astype(dtype)
    t = np.array([1, -100, 39, 0, 7], np.int64)
    loss, stats = K.cross_entropy_forward(x, t, -100, 0.1)
    lse = K.logsumexp(stats)
    grad = K.cross_entropy_backward(x, t, stats, np.ones(5, dtype), -100, 0.1)
    x64 = x.astype(np.float64)
    ref_lse = np.log(np.exp(x64).sum(1))
    assert np.allclose(lse, ref_lse, rtol=tol), (lse, ref_lse)
    p = np.exp(x64 - ref_lse[:, None])
    assert np.allclose(K.softmax_forward(x), p, rtol=tol, atol=tol)
    assert np.allclose(K.log_softmax_forward(x), np.log(p), rtol=tol, atol=tol)
    assert np.allclose(grad.sum(1), 0, atol=tol) and np.all(grad[1] == 0) and loss[1] == 0
"""
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=120)


@pytest.mark.parametrize("scale", [1e3, 1e4, 1e5])
def test_float32_loss_and_gradient_keep_their_precision_at_large_logits(scale):
    # The loss is log s - (x_t - m): no rounding of m + log s to the logits' ulp (at 1e5 in
    # float32 that ulp is 0.008, larger than typical losses).
    rng = np.random.default_rng(1)
    x64 = scale + rng.standard_normal((16, 40)) * 3
    x = x64.astype(np.float32)
    t = rng.integers(0, 40, 16)
    for eps in (0.0, 0.1):
        loss, stats = K.cross_entropy_forward(x, t, -100, eps)
        grad = K.cross_entropy_backward(x, t, stats, np.ones(16, np.float32), -100, eps)
        ref_loss, _ = _ref_forward(x, t, -100, eps)
        ref_grad = _ref_backward(x, t, np.ones(16), -100, eps)
        np.testing.assert_allclose(loss, ref_loss, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(grad, ref_grad, rtol=1e-4, atol=1e-6)
