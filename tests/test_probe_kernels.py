"""Kernel-backed ops probed against PyTorch (float64, outputs, gradients and gradients of
gradients) and against the hostile-input rule: clear errors naming the op, never a crash
inside a numba kernel, never a silent wrong answer."""
import itertools

import numpy as np
import pytest

import nn.functional as F
import tensorlite as tl

TOL = dict(rtol=1e-6, atol=1e-6)


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _compare_to_second_order(torch, ours, theirs, arrays, wrt, seed=0):
    """Run ours/theirs on the same float64 arrays; compare the output, the gradients of
    <y, g> with respect to the arrays at ``wrt``, and the gradients of <grads, v> (double
    backward) with respect to those arrays and to g (for an op linear in its input, the
    part that is not zero)."""
    rng = np.random.default_rng(seed)
    to = [tl.tensor(a, requires_grad=i in wrt) for i, a in enumerate(arrays)]
    tt = [torch.tensor(a, requires_grad=i in wrt) for i, a in enumerate(arrays)]
    yo, yt = ours(*to), theirs(*tt)
    np.testing.assert_allclose(yo.numpy(), yt.detach().numpy(), **TOL)
    g = rng.standard_normal(tuple(yt.shape))
    g_o, g_t = tl.tensor(g, requires_grad=True), torch.tensor(g, requires_grad=True)
    go = tl.autograd.grad(yo, [to[i] for i in wrt], g_o, create_graph=True)
    gt = torch.autograd.grad(yt, [tt[i] for i in wrt], g_t, create_graph=True)
    for a, b in zip(go, gt):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), **TOL)
    vs = [rng.standard_normal(tuple(b.shape)) for b in gt]
    so = sum((a * tl.tensor(v)).sum() for a, v in zip(go, vs))
    st = sum((b * torch.tensor(v)).sum() for b, v in zip(gt, vs))
    shapes = [arrays[i].shape for i in wrt] + [g.shape]
    g2o = tl.autograd.grad(so, [to[i] for i in wrt] + [g_o], allow_unused=True)
    g2t = torch.autograd.grad(st, [tt[i] for i in wrt] + [g_t], allow_unused=True)
    for shape, a, b in zip(shapes, g2o, g2t):
        want = np.zeros(shape) if b is None else b.numpy()
        got = np.zeros(shape) if a is None else a.numpy()
        np.testing.assert_allclose(got, want, **TOL)


# ---------------------------------------------------------------------------------------
# cross_entropy: differentiable twice, as in PyTorch (it used to raise once_differentiable)
# ---------------------------------------------------------------------------------------
CE_SHAPES = [((5, 4), (5,)), ((3, 4, 2, 3), (3, 2, 3)), ((4,), ())]


@pytest.mark.parametrize("shapes, reduction, ignore_index, label_smoothing", [
    (s, r, ii, ls) for s, r, ii, ls in itertools.product(
        CE_SHAPES, ["mean", "sum", "none"], [-100, 1], [0.0, 0.3])])
def test_cross_entropy_double_backward_matches_pytorch(torch, shapes, reduction, ignore_index,
                                                       label_smoothing):
    xs, ts = shapes
    rng = np.random.default_rng(1)
    k = xs[1] if len(xs) > 1 else xs[0]
    x, t = rng.standard_normal(xs), rng.integers(0, k, ts)
    t.reshape(-1)[0] = 1  # one ignored target when ignore_index=1
    kw = dict(ignore_index=ignore_index, reduction=reduction, label_smoothing=label_smoothing)
    _compare_to_second_order(
        torch, lambda x, t: F.cross_entropy(x, t, **kw),
        lambda x, t: torch.nn.functional.cross_entropy(x, t, **kw), [x, t], wrt=[0])


def test_cross_entropy_double_backward_with_every_target_ignored_is_zero_as_in_pytorch(torch):
    # The mean over no targets is 0/0 = NaN; its NaN incoming gradient must not leak into
    # the second derivative of the ignored rows.
    x = np.random.default_rng(2).standard_normal((3, 4))
    t = np.full(3, -100)
    _compare_to_second_order(torch, lambda x, t: F.cross_entropy(x, t),
                             lambda x, t: torch.nn.functional.cross_entropy(x, t), [x, t], [0])


def test_cross_entropy_double_backward_with_minus_inf_logits(torch):
    x = np.log(np.array([[0.5, 0.5, 0.0], [0.0, 1.0, 0.0]]))
    _compare_to_second_order(torch, lambda x, t: F.cross_entropy(x, t),
                             lambda x, t: torch.nn.functional.cross_entropy(x, t),
                             [x, np.array([0, 1])], [0])


def test_cross_entropy_hessian_vector_product_by_hand():
    # d/dx <grad_x CE, v> = H v with H = diag(p) - p p^T for one row (p = softmax(x)).
    x = tl.tensor([[0.5, -1.0, 2.0]], dtype=tl.float64, requires_grad=True)
    v = np.array([[1.0, 2.0, -1.0]])
    (g,) = tl.autograd.grad(F.cross_entropy(x, tl.tensor([2])), x, create_graph=True)
    (hv,) = tl.autograd.grad((g * tl.tensor(v)).sum(), x)
    p = np.exp(x.numpy()[0]) / np.exp(x.numpy()[0]).sum()
    np.testing.assert_allclose(hv.numpy()[0], (np.diag(p) - np.outer(p, p)) @ v[0], atol=1e-12)


def test_cross_entropy_first_order_still_uses_the_fused_kernel_in_float32():
    # Without create_graph the backward is the kernel's (float32 stays float32, no graph).
    x = tl.tensor(np.random.default_rng(3).standard_normal((4, 5)), dtype=tl.float32,
                  requires_grad=True)
    (g,) = tl.autograd.grad(F.cross_entropy(x, tl.tensor([0, 1, 2, 4])), x)
    assert g.dtype == tl.float32 and not g.requires_grad
    p = np.exp(x.numpy().astype(np.float64))
    p /= p.sum(1, keepdims=True)
    p[np.arange(4), [0, 1, 2, 4]] -= 1
    np.testing.assert_allclose(g.numpy(), p / 4, atol=1e-6)


# ---------------------------------------------------------------------------------------
# Indices and targets are read by the backward: changing them in place afterwards must not
# change (or crash) the gradient of the forward that was computed.
# ---------------------------------------------------------------------------------------
def test_cross_entropy_target_changed_in_place_after_forward_keeps_the_gradient():
    x0 = np.random.default_rng(4).standard_normal((2, 3))
    x = tl.tensor(x0, requires_grad=True)
    t = tl.tensor(np.array([0, 1]))
    loss = F.cross_entropy(x, t)
    t[0] = 2  # was read by the kernel's backward through a view of t
    loss.backward()
    ref = tl.tensor(x0, requires_grad=True)
    F.cross_entropy(ref, tl.tensor(np.array([0, 1]))).backward()
    np.testing.assert_allclose(x.grad.numpy(), ref.grad.numpy(), atol=1e-15)


def test_embedding_indices_changed_in_place_after_forward_keep_the_gradient():
    w = tl.tensor(np.random.default_rng(5).standard_normal((6, 2)), requires_grad=True)
    idx = tl.tensor(np.array([1, 2, 1]))
    y = F.embedding(idx, w)
    idx[0] = 5
    y.backward(tl.ones(3, 2, dtype=tl.float64))
    want = np.zeros((6, 2))
    want[1] = 2.0  # row 1 was looked up twice, row 2 once; row 5 never
    want[2] = 1.0
    np.testing.assert_array_equal(w.grad.numpy(), want)


# ---------------------------------------------------------------------------------------
# softmax / log_softmax at infinities
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("row", [[np.inf, 0.0, 1.0], [-np.inf, -np.inf, -np.inf],
                                 [-np.inf, 0.0, 1.0], [1e4, 0.0, -1e4], [np.nan, 0.0, 1.0]])
@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_rows_with_infinities_match_pytorch(torch, row, fn):
    # A +inf logit makes the whole row NaN in PyTorch (x - max is NaN at it); we used to
    # shift by 0 instead and return [nan, 0, 0] / [nan, -inf, -inf].
    x = np.array([row])
    got = getattr(F, fn)(tl.tensor(x), 1).numpy()
    want = getattr(torch.nn.functional, fn)(torch.tensor(x), 1).numpy()
    np.testing.assert_allclose(got, want, **TOL)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))


# ---------------------------------------------------------------------------------------
# Geometry that does not fit the kernels' index arithmetic is refused, before numba runs
# ---------------------------------------------------------------------------------------
X = np.random.default_rng(6).standard_normal((1, 1, 3, 3))


@pytest.mark.parametrize("call, match", [
    (lambda: F.conv2d(tl.tensor(X), tl.ones(1, 1, 2, 2, dtype=tl.float64), stride=2 ** 63),
     r"conv2d: stride must be at most 2147483647"),
    (lambda: F.conv2d(tl.tensor(X), tl.ones(1, 1, 2, 2, dtype=tl.float64), dilation=2 ** 62),
     r"conv2d: dilation must be at most"),
    (lambda: F.conv2d(tl.tensor(X), tl.ones(1, 1, 2, 2, dtype=tl.float64), padding=2 ** 40),
     r"conv2d: padding must be at most"),
    (lambda: F.conv_transpose2d(tl.tensor(X), tl.ones(1, 1, 2, 2, dtype=tl.float64),
                                stride=2 ** 62), r"conv_transpose2d: stride must be at most"),
    (lambda: F.max_pool2d(tl.tensor(X), 2, stride=2 ** 63), r"max_pool2d: stride must be at most"),
    (lambda: F.avg_pool2d(tl.tensor(X), 2, stride=2 ** 63, ceil_mode=True),
     r"avg_pool2d: stride must be at most"),
    (lambda: F.adaptive_avg_pool2d(tl.tensor(X), 2 ** 31),
     r"adaptive_avg_pool2d: output_size must be at most"),
    (lambda: F.cross_entropy(tl.zeros(1, 3), tl.tensor([0]), ignore_index=2 ** 70),
     r"cross_entropy: ignore_index must fit in int64"),
])
def test_huge_geometry_is_refused_with_the_op_name(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_large_but_valid_stride_still_works(torch):
    w = np.arange(4.0).reshape(1, 1, 2, 2)
    got = F.conv2d(tl.tensor(X), tl.tensor(w), stride=2 ** 31 - 1).numpy()
    want = torch.nn.functional.conv2d(torch.tensor(X), torch.tensor(w), stride=2 ** 31 - 1)
    np.testing.assert_allclose(got, want.numpy(), atol=1e-12)


def test_nll_loss_target_dtype_error_does_not_offer_probabilities():
    with pytest.raises(TypeError, match=r"nll_loss: target must be an integer tensor of class "
                                        r"indices, got dtype float32"):
        F.nll_loss(tl.zeros(3, 4), tl.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(TypeError, match=r"cross_entropy: .* \(or float probabilities"):
        F.cross_entropy(tl.zeros(3, 4), tl.tensor([True, False, True]))


# ---------------------------------------------------------------------------------------
# Pooling: an empty stride sequence is PyTorch's default (the kernel size)
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", ["max_pool2d", "avg_pool2d"])
@pytest.mark.parametrize("stride", [[], (), None])
def test_pool_empty_stride_means_the_kernel_size(torch, fn, stride):
    x = np.random.default_rng(7).standard_normal((2, 3, 7, 6))
    _compare_to_second_order(torch, lambda x: getattr(F, fn)(x, 3, stride, 1),
                             lambda x: getattr(torch.nn.functional, fn)(x, 3, stride, 1), [x], [0])


# ---------------------------------------------------------------------------------------
# Parity sweeps (no discrepancy found; kept so that none creeps in)
# ---------------------------------------------------------------------------------------
CONV_GRID = list(itertools.product([1, (2, 1)], [0, (2, 0)], [1, (1, 2)], [1, 2]))


@pytest.mark.parametrize("stride, padding, dilation, groups", CONV_GRID)
def test_conv2d_geometry_grid_second_order_matches_pytorch(torch, stride, padding, dilation,
                                                           groups):
    rng = np.random.default_rng(8)
    x, w = rng.standard_normal((2, 4, 7, 8)), rng.standard_normal((6, 4 // groups, 3, 2))
    b = rng.standard_normal(6)
    args = (stride, padding, dilation, groups)
    _compare_to_second_order(torch, lambda x, w, b: F.conv2d(x, w, b, *args),
                             lambda x, w, b: torch.nn.functional.conv2d(x, w, b, *args),
                             [x, w, b], [0, 1, 2])


@pytest.mark.parametrize("stride, padding, output_padding, groups, dilation", [
    (2, 1, 1, 2, 1), ((3, 1), (2, 0), (1, 0), 1, (1, 3)), (1, 0, 1, 2, 2), (2, (0, 1), 0, 1, 2)])
def test_conv_transpose2d_second_order_matches_pytorch(torch, stride, padding, output_padding,
                                                       groups, dilation):
    rng = np.random.default_rng(9)
    x, w = rng.standard_normal((2, 4, 5, 4)), rng.standard_normal((4, 6 // groups, 3, 2))
    args = (None, stride, padding, output_padding, groups, dilation)
    _compare_to_second_order(torch, lambda x, w: F.conv_transpose2d(x, w, *args),
                             lambda x, w: torch.nn.functional.conv_transpose2d(x, w, *args),
                             [x, w], [0, 1])


def test_conv2d_unbatched_noncontiguous_same_padding_matches_pytorch(torch):
    rng = np.random.default_rng(10)
    x, w = rng.standard_normal((6, 3, 5)), rng.standard_normal((2, 4, 3, 3))

    def ours(x, w):
        return F.conv2d(x.permute(1, 2, 0), w.transpose(2, 3)[:, 1:], padding="same")

    def theirs(x, w):
        return torch.nn.functional.conv2d(x.permute(1, 2, 0), w.transpose(2, 3)[:, 1:],
                                          padding="same")
    _compare_to_second_order(torch, ours, theirs, [x, w], [0, 1])


@pytest.mark.parametrize("kernel, stride, padding, ceil_mode", [
    (3, 2, 1, True), ((3, 2), (2, 3), (1, 0), True), (2, 1, 1, False), ((1, 4), None, 0, True)])
def test_pooling_second_order_matches_pytorch(torch, kernel, stride, padding, ceil_mode):
    x = np.random.default_rng(11).standard_normal((2, 3, 7, 8))
    for fn in ("max_pool2d", "avg_pool2d"):
        _compare_to_second_order(
            torch, lambda x: getattr(F, fn)(x, kernel, stride, padding, ceil_mode=ceil_mode),
            lambda x: getattr(torch.nn.functional, fn)(x, kernel, stride, padding,
                                                       ceil_mode=ceil_mode), [x], [0])


def test_max_pool_nan_and_ties_match_pytorch(torch):
    x = np.array([[[[1.0, 1.0, 2.0, 2.0], [1.0, np.nan, 2.0, 2.0],
                    [0.0, 3.0, 3.0, 0.0], [3.0, 0.0, -np.inf, 3.0]]]])
    _compare_to_second_order(torch, lambda x: F.max_pool2d(x, 2, 1, 1),
                             lambda x: torch.nn.functional.max_pool2d(x, 2, 1, 1), [x], [0])


@pytest.mark.parametrize("in_hw, out", [((7, 9), (3, 4)), ((3, 3), (5, 7)), ((4, 6), (None, 4))])
def test_adaptive_avg_pool_non_dividing_sizes_match_pytorch(torch, in_hw, out):
    x = np.random.default_rng(12).standard_normal((2, 3) + in_hw)
    _compare_to_second_order(torch, lambda x: F.adaptive_avg_pool2d(x, out),
                             lambda x: torch.nn.functional.adaptive_avg_pool2d(x, out), [x], [0])


@pytest.mark.parametrize("idx", [np.array([1, 2, 1, 1, 9]), np.array([[0, 3], [3, 3]]),
                                 np.array(5), np.array([1, 2, 1], np.int32)])
@pytest.mark.parametrize("padding_idx", [None, 1, -1])
def test_embedding_matches_pytorch(torch, idx, padding_idx):
    w = np.random.default_rng(13).standard_normal((10, 4))
    _compare_to_second_order(
        torch, lambda w, i: F.embedding(i, w, padding_idx),
        lambda w, i: torch.nn.functional.embedding(i, w, padding_idx), [w, idx], [0])


def test_embedding_of_an_empty_index_tensor_is_empty_and_its_gradient_zero(torch):
    # (torch's own double backward fails on empty indices, so first order only)
    w = np.random.default_rng(14).standard_normal((10, 4))
    wo, wt = tl.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    yo = F.embedding(tl.tensor(np.zeros((2, 0), np.int64)), wo)
    yt = torch.nn.functional.embedding(torch.zeros((2, 0), dtype=torch.int64), wt)
    assert yo.shape == tuple(yt.shape) == (2, 0, 4)
    yo.sum().backward()
    yt.sum().backward()
    np.testing.assert_array_equal(wo.grad.numpy(), wt.grad.numpy())


# ---------------------------------------------------------------------------------------
# The lecture's worked examples, by hand
# ---------------------------------------------------------------------------------------
def test_lecture_max_pool_2x2_example_and_its_gradient():
    x = tl.tensor([[[[1.0, 3.0, 2.0, 1.0],
                     [4.0, 2.0, 1.0, 0.0],
                     [1.0, 1.0, 5.0, 6.0],
                     [0.0, 2.0, 7.0, 8.0]]]], dtype=tl.float64, requires_grad=True)
    y = F.max_pool2d(x, 2)
    np.testing.assert_array_equal(y.numpy()[0, 0], [[4.0, 2.0], [2.0, 8.0]])
    y.backward(tl.tensor([[[[10.0, 20.0], [30.0, 40.0]]]], dtype=tl.float64))
    # each window's gradient goes to its maximum; the tie (2, 2) in the bottom-left window
    # goes to the first one in row-major order
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[0, 0, 20, 0],
                                                         [10, 0, 0, 0],
                                                         [0, 0, 0, 0],
                                                         [0, 30, 0, 40]])


def test_lecture_convolution_gradient_by_hand():
    # y = x (3x3) cross-correlated with k (2x2); dL/dk[m, n] = sum_ij g[i, j] x[i+m, j+n].
    x = tl.tensor([[[[1.0, 2.0, 0.0], [0.0, 1.0, 3.0], [2.0, 1.0, 0.0]]]], dtype=tl.float64,
                  requires_grad=True)
    k = tl.tensor([[[[1.0, 0.0], [2.0, -1.0]]]], dtype=tl.float64, requires_grad=True)
    y = F.conv2d(x, k)
    g = np.array([[1.0, 0.0], [0.0, 2.0]])
    y.backward(tl.tensor(g[None, None]))
    np.testing.assert_array_equal(k.grad.numpy()[0, 0], [[1 + 2 * 1, 2 + 2 * 3],
                                                         [0 + 2 * 1, 1 + 2 * 0]])
    # dL/dx[p, q] = sum_ij g[i, j] k[p-i, q-j] (the full convolution of g with k)
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[1, 0, 0], [2, 1, 0], [0, 4, -2]])
