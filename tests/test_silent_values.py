"""Issue 17 section 1: values and gradients that were silently wrong, each pinned against
PyTorch in float64 (or, where PyTorch itself is wrong, against an independent float64
computation). Every test here failed before its fix."""
import numpy as np
import pytest

import nn.functional as F
import tensorlite as tl

INF, NAN = float("inf"), float("nan")


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _np(t):
    """A tensorlite or torch tensor (or None) as a float64 ndarray."""
    if t is None:
        return None
    if hasattr(t, "detach"):
        t = t.detach()
    return np.asarray(t.numpy(), dtype=np.float64)


def _run(lib, fn, values, upstream=None):
    """fn(lib, *float64 leaves) -> (output array, gradients for a given upstream grad)."""
    xs = [lib.tensor(v, dtype=lib.float64, requires_grad=True) for v in values]
    out = fn(lib, *xs)
    g = np.ones(out.shape) if upstream is None else np.asarray(upstream, np.float64)
    grads = lib.autograd.grad(out, xs, lib.tensor(g, dtype=lib.float64), allow_unused=True)
    return _np(out), [_np(x) for x in grads]


def _equal(got, want):
    """Equal values, NaN where NaN, and the same sign on every zero and infinity."""
    np.testing.assert_array_equal(got, want)
    m = ~np.isnan(want)  # a NaN's sign bit is not a value
    np.testing.assert_array_equal(np.signbit(got[m]), np.signbit(want[m]))


def _same(torch, fn, *values, upstream=None):
    """tensorlite == PyTorch in value and gradients, bit for bit."""
    out, grads = _run(tl, fn, values, upstream)
    want, want_grads = _run(torch, fn, values, upstream)
    _equal(out, want)
    for g, w in zip(grads, want_grads):
        assert (g is None) == (w is None)
        if g is not None:
            _equal(g, w)
    return out, grads


# -- b) remainder: the forward value does not depend on requires_grad ---------------------
def test_remainder_value_is_the_same_with_and_without_requires_grad():
    a = [1e15, 5.3, 3.0, -3.0, -0.0]
    b = [0.7, 0.1, INF, INF, 0.5]
    plain = tl.tensor(a, dtype=tl.float64) % tl.tensor(b, dtype=tl.float64)
    graded = tl.tensor(a, dtype=tl.float64, requires_grad=True) % tl.tensor(b, dtype=tl.float64)
    np.testing.assert_array_equal(_np(graded), _np(plain))
    np.testing.assert_array_equal(_np(graded), np.remainder(a, b))


def test_remainder_matches_pytorch_in_value_and_both_gradients(torch):
    out, (ga, gb) = _same(torch, lambda lib, a, b: a % b, [1e15, 5.3, 3.0, -3.0, 2.5],
                          [0.7, 0.1, INF, INF, -0.7], upstream=[1.0, 2.0, -1.0, 0.5, 3.0])
    np.testing.assert_array_equal(out[:4], [np.fmod(1e15, 0.7), np.fmod(5.3, 0.1), 3.0, INF])
    np.testing.assert_array_equal(ga, [1.0, 2.0, -1.0, 0.5, 3.0])
    assert gb[0] == -np.floor_divide(1e15, 0.7) and gb[2] == 0.0  # -g * floor(a / b)


# -- d) pow with a number exponent: PyTorch's sqrt/rsqrt/square/cube/reciprocal shortcuts --
EDGES = [-INF, -4.0, -0.0, 0.0, INF, 2.5, -1.5]


@pytest.mark.parametrize("e", [0.5, -0.5, 1.5, -1.5, 2, 3, -1, -2, 0.25, 0])
def test_pow_number_exponent_values_and_gradient_at_the_edges_match_pytorch(torch, e):
    out, (g,) = _run(tl, lambda lib, x: x ** e, [EDGES])
    want, (wg,) = _run(torch, lambda lib, x: x ** e, [EDGES])
    _equal(out, want)
    _equal(g, wg)


def test_pow_of_minus_inf_to_minus_half_is_nan_and_the_sqrt_gradient_there_is_nan():
    x = tl.tensor([-INF, -0.0], dtype=tl.float64, requires_grad=True)
    assert np.isnan(_np(x ** -0.5)[0]) and _np(x ** -0.5)[1] == -INF  # rsqrt(-0.) = -inf
    (g,) = tl.autograd.grad((x ** 0.5).sum(), (x,))
    assert np.isnan(_np(g)[0]) and _np(g)[1] == -INF  # 0.5 * rsqrt(x), as PyTorch


def test_pow_tensor_exponent_keeps_c_pow_at_minus_inf(torch):
    # PyTorch takes C's pow for a tensor exponent: (-inf) ** 0.5 = inf there
    _same(torch, lambda lib, x, e: x ** e, [-INF, -0.0, 4.0], [0.5, -0.5, 0.5])


# -- d) cross_entropy: an ignored row of NaN/+inf/all -inf logits has a NaN gradient -------
CE_ROWS = [[NAN, 1.0], [-INF, -INF], [INF, 1.0], [-INF, 1.0], [0.5, 2.0], [1.0, 3.0]]


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_cross_entropy_ignored_rows_propagate_nan_in_the_gradient_as_pytorch(
        torch, create_graph, reduction, label_smoothing):
    target = [-100, -100, -100, -100, 1, -100]

    def grad(lib):
        x = lib.tensor(CE_ROWS, dtype=lib.float64, requires_grad=True)
        ce = F.cross_entropy if lib is tl else lib.nn.functional.cross_entropy
        loss = ce(x, lib.tensor(target), reduction=reduction, label_smoothing=label_smoothing)
        (g,) = lib.autograd.grad(loss, (x,), lib.ones(loss.shape, dtype=lib.float64),
                                 create_graph=create_graph and lib is tl)
        return _np(g)
    got, want = grad(tl), grad(torch)
    # rows 0-2 are NaN (log_softmax NaN), row 3 (one finite logit) and row 5 stay 0
    assert np.isnan(want[:3]).all() and not np.isnan(want[3:]).any()
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=0)


# -- d) var/std with no degrees of freedom left (n <= correction): PyTorch's gradient ------
def test_var_of_one_element_with_correction_2_has_gradient_minus_zero_as_pytorch(torch):
    out, (g,) = _same(torch, lambda lib, x: x.var(dim=0, correction=2), [3.0])
    assert np.isnan(out) and g[0] == 0.0 and np.signbit(g[0])  # (2 / -1) * 1 * 0 = -0.


@pytest.mark.parametrize("fn", ["var", "std"])
@pytest.mark.parametrize("case", [((2,), None, 2), ((3,), None, 3), ((2,), 0, 2), ((2,), 0, 3),
                                  ((2, 3), 1, 3), ((1, 3), 0, 2), ((1,), None, 1)])
def test_var_and_std_without_degrees_of_freedom_match_pytorch(torch, fn, case):
    shape, dim, correction = case
    x = (np.arange(int(np.prod(shape)), dtype=np.float64) * 1.5 + 1).reshape(shape)
    kw = {} if dim is None else {"dim": dim}
    _same(torch, lambda lib, t: getattr(t, fn)(correction=correction, **kw), x)


# -- d) fill_ with a 0-d tensor that requires grad is recorded ---------------------------
@pytest.mark.parametrize("base", ["plain", "non_leaf", "float32"])
def test_fill_with_a_tensor_value_gives_the_value_a_gradient_as_pytorch(torch, base):
    def run(lib):
        b = lib.tensor(2.0, dtype=lib.float64, requires_grad=True)
        x = lib.ones(3, dtype=lib.float64, requires_grad=True)
        y = {"plain": lib.zeros(3, dtype=lib.float64), "non_leaf": x * 2,
             "float32": lib.zeros(3, dtype=lib.float32)}[base]
        y.fill_(b)
        w = lib.tensor([1.0, 2.0, 3.0], dtype=y.dtype)
        gb, gx = lib.autograd.grad((y * w).sum(), (b, x), allow_unused=True)
        return _np(y), _np(gb), _np(gx)
    got, want = run(tl), run(torch)
    for g, w in zip(got, want):
        assert (g is None) == (w is None)
        if w is not None:
            _equal(g, w)
    assert got[1] == 6.0


# -- c) max pooling: PyTorch's winner in every window ------------------------------------
# PyTorch's CPU loop starts from -inf at the window's first cell inside the input and takes
# a value that is greater than the best so far or NaN: ties go to the first maximum, NaNs
# to the last NaN, an all -inf window to its first cell inside the input (never padding).
# These pin the semantics of every max-pool path (the fused kernels, including the 2x2
# stride-2 and 3x3 specialisations, the gather path for dilation/return_indices, adaptive).
def _pool_both(torch, fn, x, upstream_seed=0, **kw):
    """(tensorlite, torch) results: (values, indices or None, input gradient) with a random
    upstream gradient."""
    out = []
    for lib in (tl, torch):
        xt = lib.tensor(x, dtype=lib.float64, requires_grad=True)
        f = fn(lib)
        r = f(xt, **kw)
        y, idx = r if isinstance(r, tuple) else (r, None)
        g = np.random.default_rng(upstream_seed).standard_normal(tuple(y.shape))
        (gx,) = lib.autograd.grad(y, (xt,), lib.tensor(g, dtype=lib.float64))
        out.append((_np(y), None if idx is None else np.asarray(idx.numpy()), _np(gx)))
    return out


def _max_pool(lib):
    return F.max_pool2d if lib is tl else lib.nn.functional.max_pool2d


def _adaptive_max_pool(lib):
    return F.adaptive_max_pool2d if lib is tl else lib.nn.functional.adaptive_max_pool2d


def _assert_pool_same(got, want):
    (y, i, g), (wy, wi, wg) = got, want
    _equal(y, wy)
    if wi is not None and i is not None:
        np.testing.assert_array_equal(i, wi)
    _equal(g, wg)


@pytest.mark.parametrize("return_indices", [False, True])
def test_max_pool_minus_inf_windows_with_padding_pick_the_first_input_cell(torch,
                                                                           return_indices):
    x = [[[[-INF, 1.0], [-INF, -INF]]]]
    got, want = _pool_both(torch, _max_pool, x, kernel_size=2, padding=1,
                           return_indices=return_indices)
    _assert_pool_same(got, want)
    if return_indices:
        np.testing.assert_array_equal(got[1].ravel(), [0, 1, 2, 3])  # the case
    got_ones = _pool_both(torch, _max_pool, x, kernel_size=2, padding=1)[0]
    assert np.count_nonzero(got_ones[2]) == 4  # every window's gradient reaches the input


def test_max_pool_dilated_over_minus_inf_matches_pytorch(torch):
    x = np.full((1, 1, 3, 3), -INF)
    x[0, 0, 1, 1] = 1.0
    for return_indices in (False, True):
        got, want = _pool_both(torch, _max_pool, x, kernel_size=2, stride=1, padding=1,
                               dilation=2, return_indices=return_indices)
        _assert_pool_same(got, want)
    # with a unit upstream gradient: PyTorch's [1, 2, 0, 2, 4, 0, 0, 0, 0]
    xt = tl.tensor(x, dtype=tl.float64, requires_grad=True)
    F.max_pool2d(xt, 2, stride=1, padding=1, dilation=2).sum().backward()
    np.testing.assert_array_equal(_np(xt.grad).ravel(), [1, 2, 0, 2, 4, 0, 0, 0, 0])


# windows: 2x2 stride 2 (its own kernel), 3x3 (unrolled), 2x3 with padding (the general
# loop), and dilation / return_indices (the gather path)
POOL_GEOMETRIES = [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1),
                   dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1)),
                   dict(kernel_size=2, stride=1, dilation=2),
                   dict(kernel_size=3, stride=2, padding=1, return_indices=True),
                   dict(kernel_size=2, padding=1, ceil_mode=True, return_indices=True)]


@pytest.mark.parametrize("geometry", POOL_GEOMETRIES)
@pytest.mark.parametrize("case", ["nans", "ties", "minus_inf", "mixed"])
def test_max_pool_winner_with_nans_ties_and_minus_inf_matches_pytorch(torch, geometry, case):
    rng = np.random.default_rng(len(case))
    shape = (2, 3, 6, 6)
    if case == "nans":  # several NaNs per window: the last one wins
        x = np.where(rng.random(shape) < 0.5, NAN, rng.standard_normal(shape))
    elif case == "ties":  # few distinct values: the first maximum wins
        x = rng.integers(-1, 2, shape).astype(np.float64)
    elif case == "minus_inf":
        x = np.where(rng.random(shape) < 0.8, -INF, rng.standard_normal(shape))
    else:
        x = rng.choice([-INF, NAN, INF, 1.0, 1.0, -0.0, 0.0], size=shape)
    got, want = _pool_both(torch, _max_pool, x, **geometry)
    _assert_pool_same(got, want)


def test_max_pool_several_nans_the_last_nan_takes_the_gradient_as_pytorch(torch):
    x = [[[[1.0, NAN], [NAN, 2.0]]]]
    for ri in (False, True):
        got, want = _pool_both(torch, _max_pool, x, kernel_size=2, return_indices=ri)
        _assert_pool_same(got, want)
    _, idx = F.max_pool2d(tl.tensor(x), 2, return_indices=True)
    assert idx.numpy().ravel().tolist() == [2]  # PyTorch 2.13 picks the last NaN


@pytest.mark.parametrize("case", ["nans", "ties", "minus_inf"])
@pytest.mark.parametrize("output_size", [1, (2, 3), 4])
def test_adaptive_max_pool_winner_matches_pytorch(torch, case, output_size):
    rng = np.random.default_rng(3)
    shape = (2, 2, 5, 7)
    x = {"nans": np.where(rng.random(shape) < 0.5, NAN, rng.standard_normal(shape)),
         "ties": rng.integers(-1, 2, shape).astype(np.float64),
         "minus_inf": np.where(rng.random(shape) < 0.9, -INF, 0.0)}[case]
    got, want = _pool_both(torch, _adaptive_max_pool, x, output_size=output_size,
                           return_indices=True)
    _assert_pool_same(got, want)


def test_max_pool_window_wholly_in_the_padding_is_refused():
    # PyTorch 2.13 returns out-of-range indices here (and corrupts the heap in backward)
    x = tl.tensor(np.ones((1, 1, 1, 3)))
    with pytest.raises(ValueError, match="max_pool2d: .*covers no input cell"):
        F.max_pool2d(x, (2, 2), (2, 3), (1, 1), (2, 1))


# -- a) a view taken before an in-place change of its base sees the change's history -------
def test_view_taken_before_an_inplace_change_of_its_base_gets_the_full_gradient(torch):
    def run(lib):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        b = lib.tensor(10.0, dtype=lib.float64, requires_grad=True)
        y = x * 1
        v = y[:]
        y.mul_(b)
        return [_np(g) for g in lib.autograd.grad((v * v).sum(), (x, b), allow_unused=True)]
    got, want = run(tl), run(torch)
    np.testing.assert_array_equal(got[0], [200.0, 400.0])  # was [20, 40]
    assert got[1] == 100.0                                 # was None
    for g, w in zip(got, want):
        _equal(g, w)


VIEWS = {
    "slice": lambda y: y[1:, ::2],
    "transpose": lambda y: y.t(),
    "row": lambda y: y[1],
    "element": lambda y: y[0, 1],
    "flat_strided": lambda y: y.reshape(-1)[::3],
    "view_of_view": lambda y: y.t()[1:][:, :1],
    "expanded": lambda y: y[:1].expand(3, 3),
    "diagonal": lambda y: y.diagonal(),
    "unsqueezed": lambda y: y.unsqueeze(0).permute(2, 0, 1),
}


@pytest.mark.parametrize("view", sorted(VIEWS))
@pytest.mark.parametrize("change", ["mul_", "add_", "setitem", "copy_"])
def test_views_after_every_kind_of_inplace_change_match_pytorch(torch, view, change):
    x0 = np.arange(9.0).reshape(3, 3) / 4 - 1
    w = np.random.default_rng(1).standard_normal(tuple(VIEWS[view](tl.tensor(x0)).shape))

    def run(lib):
        x = lib.tensor(x0, dtype=lib.float64, requires_grad=True)
        b = lib.tensor(1.5, dtype=lib.float64, requires_grad=True)
        y = x * 1
        v = VIEWS[view](y)
        if change == "mul_":
            y.mul_(b)
        elif change == "add_":
            y.add_(x * b)
        elif change == "setitem":
            y[1:, 1] = b * 3
        else:
            y.copy_(x.flip(0) * b)
        out = (v * v * lib.tensor(w, dtype=lib.float64)).sum()
        return _np(out), [_np(g) for g in lib.autograd.grad(out, (x, b), allow_unused=True)]
    (out, grads), (want, want_grads) = run(tl), run(torch)
    np.testing.assert_allclose(out, want, rtol=1e-13)
    for g, wg in zip(grads, want_grads):
        np.testing.assert_allclose(g, wg, rtol=1e-12, atol=1e-14)


def test_a_stale_view_as_the_root_of_backward_is_rebased(torch):
    def run(lib):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        b = lib.tensor(10.0, dtype=lib.float64, requires_grad=True)
        y = x * 1
        v = y[1]
        y.mul_(b)
        return [_np(g) for g in lib.autograd.grad(v, (x, b))]
    for g, w in zip(run(tl), run(torch)):
        _equal(g, w)


def test_view_rebased_after_a_no_grad_change_keeps_its_gradient_to_the_base():
    x = tl.tensor([1.0, 2.0], dtype=tl.float64, requires_grad=True)
    y = x * 1
    v = y[1:]
    with tl.no_grad():
        y.mul_(3)  # untracked: the view still depends on x through y, with slope 1
    (g,) = tl.autograd.grad((v * v).sum(), (x,))
    np.testing.assert_array_equal(_np(g), [0.0, 12.0])


def test_view_made_under_no_grad_refuses_a_base_changed_in_place_as_pytorch():
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    b = tl.tensor(10.0, requires_grad=True)
    y = x * 1
    with tl.no_grad():
        v = y[:]
    y.mul_(b)
    with pytest.raises(RuntimeError, match="created under no_grad.*modified in place"):
        (v * v).sum()


def test_inplace_write_into_a_view_of_a_graph_tensor_is_refused_clearly():
    # PyTorch rewrites the base's history here (CopySlices); tensorlite refuses, naming the op,
    # rather than give the base a gradient that misses the write.
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    b = tl.tensor(10.0, requires_grad=True)
    y = x * 1
    with pytest.raises(RuntimeError, match="mul_: in-place write into a view"):
        y[:1].mul_(b)


# -- e) BatchNorm on a channels-last layout with odd strides: PyTorch 2.13 is the wrong one --
def _batch_norm_reference(x, w, b, eps, g):
    """Training-mode batch norm and its gradients in float64 numpy, from the formulas:
    y = (x - mean) / sqrt(var + eps) * w + b over (N, H, W) per channel; with
    xh = the normalised input and gh = g * w:
    dx = (gh - mean(gh) - xh * mean(gh * xh)) / sqrt(var + eps), dw = sum(g * xh), db = sum(g)."""
    ax = (0,) + tuple(range(2, x.ndim))
    shape = [1, -1] + [1] * (x.ndim - 2)
    mean, var = x.mean(ax, keepdims=True), x.var(ax, keepdims=True)
    xh = (x - mean) / np.sqrt(var + eps)
    gh = g * w.reshape(shape)
    dx = (gh - gh.mean(ax, keepdims=True) - xh * (gh * xh).mean(ax, keepdims=True)) \
        / np.sqrt(var + eps)
    return xh * w.reshape(shape) + b.reshape(shape), dx, (g * xh).sum(ax), g.sum(ax)


# (shape, storage order): the input is a permuted view of contiguous storage. Both are
# channels-last (C has stride 1) with a non-canonical stride on a size-1 dim, e.g. (2, 3, 1, 4)
# with strides (12, 1, 1, 3) instead of (12, 1, 12, 3); PyTorch 2.13's CPU batch_norm
# backward then returns wrong gradients for input, weight and bias (its forward is right).
ODD_CHANNELS_LAST = [((2, 3, 1, 4), (0, 3, 1, 2)), ((1, 3, 2, 2), (2, 3, 1, 0))]


@pytest.mark.parametrize("shape, storage", ODD_CHANNELS_LAST)
def test_batch_norm_on_odd_channels_last_strides_matches_the_float64_formula(shape, storage):
    rng = np.random.default_rng(0)
    x, g = rng.standard_normal(shape), rng.standard_normal(shape)
    w, b = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    back = tuple(int(i) for i in np.argsort(storage))
    xt = tl.tensor(np.ascontiguousarray(x.transpose(storage))).permute(*back)
    assert not xt.numpy().flags.c_contiguous and xt.numpy().strides[1] == 8  # C has stride 1
    xt = xt.detach().requires_grad_()
    wt = tl.tensor(w, requires_grad=True)
    bt = tl.tensor(b, requires_grad=True)
    y = F.batch_norm(xt, None, None, wt, bt, training=True, eps=1e-5)
    got = [_np(y)] + [_np(t) for t in tl.autograd.grad(y, (xt, wt, bt), tl.tensor(g))]
    for a, want in zip(got, _batch_norm_reference(x, w, b, 1e-5, g)):
        np.testing.assert_allclose(a, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape, storage", ODD_CHANNELS_LAST)
def test_pytorch_2_13_batch_norm_backward_is_wrong_on_odd_channels_last_strides(torch, shape,
                                                                                storage):
    """Documents the PyTorch bug the test above guards against (so a parity test against
    PyTorch must not be written for this layout). If a PyTorch release fixes it, this test
    fails there: delete it then."""
    if not torch.__version__.startswith("2.13"):
        pytest.skip("the bug was observed in PyTorch 2.13")
    rng = np.random.default_rng(0)
    x, g = rng.standard_normal(shape), rng.standard_normal(shape)
    w, b = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    back = tuple(int(i) for i in np.argsort(storage))
    xt = torch.tensor(np.ascontiguousarray(x.transpose(storage))).permute(*back)
    assert xt.is_contiguous(memory_format=torch.channels_last) and not xt.is_contiguous()
    xt.requires_grad_()
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    y = torch.nn.functional.batch_norm(xt, None, None, wt, bt, training=True, eps=1e-5)
    ref = _batch_norm_reference(x, w, b, 1e-5, g)
    np.testing.assert_allclose(_np(y), ref[0], rtol=1e-10, atol=1e-12)  # forward right
    grads = torch.autograd.grad(y, (xt, wt, bt), torch.tensor(g))
    for a, want in zip(grads, ref[1:]):
        assert not np.allclose(_np(a), want, rtol=1e-3, atol=1e-3)  # backward wrong


# -- d) grouped conv2d of an unbatched input keeps a NaN weight inside its group ------------
@pytest.mark.parametrize("groups, k, padding", [(2, 1, 0), (2, 3, 1), (4, 3, 1), (3, 2, 0)])
def test_grouped_conv2d_unbatched_nan_weight_stays_in_its_group(torch, groups, k, padding):
    rng = np.random.default_rng(groups + k)
    c_in, c_out = 2 * groups, 2 * groups
    w = rng.standard_normal((c_out, c_in // groups, k, k))
    w[0, 0, 0, 0] = NAN  # group 0 only (output channels 0 and 1)
    x = rng.standard_normal((c_in, 5, 5))

    def fn(lib, xt, wt):
        conv = F.conv2d if lib is tl else lib.nn.functional.conv2d
        return conv(xt, wt, groups=groups, padding=padding)
    out, (gx, gw) = _run(tl, fn, [x, w], upstream=rng.standard_normal(fn(tl, tl.tensor(x),
                                                                          tl.tensor(w)).shape))
    assert np.isnan(out[0]).any() and not np.isnan(out[2:]).any()  # other groups untouched
    assert not np.isnan(gx[c_in // groups:]).any() and not np.isnan(gw[2:]).any()
    want, (wgx, wgw) = _run(torch, fn, [x, w], upstream=rng.standard_normal(out.shape))
    assert (np.isnan(want) == np.isnan(out)).all()


# -- found by the differential fuzzer (tests/test_fuzz_torch.py) ---------------------------
@pytest.mark.parametrize("name", ["smooth_l1_loss", "huber_loss"])
def test_smooth_l1_and_huber_gradients_at_infinite_and_nan_differences_match_pytorch(torch,
                                                                                    name):
    # d = -inf - -inf is NaN (gradient NaN); 0.82 - inf is -inf (gradient -1, not NaN)
    x, t = [-INF, 0.82, NAN, 3.0, 0.1], [-INF, INF, 1.0, 1.0, 0.3]

    def fn(lib, a, b):
        f = getattr(F if lib is tl else lib.nn.functional, name)
        return f(a, b.detach(), reduction="sum")
    out, (gx, _) = _same(torch, fn, x, t)
    np.testing.assert_array_equal(gx[[1, 3]], [-1.0, 1.0])


@pytest.mark.parametrize("value", [1e308, 1e-310, -3.0])
def test_two_norm_of_one_element_is_its_absolute_value_as_pytorch(torch, value):
    # squaring first gave inf for 1e308 and 0 for the subnormal 1e-310
    out, _ = _same(torch, lambda lib, x: lib.linalg.vector_norm(x, 2, dim=1), [[value], [2.0]])
    np.testing.assert_array_equal(out, [abs(value), 2.0])
    a = F.cosine_similarity(tl.tensor([0.82], dtype=tl.float64),
                            tl.tensor([1e308], dtype=tl.float64), dim=0)
    assert _np(a) == 1.0  # was NaN


def test_conv_transpose2d_refuses_fewer_input_channels_than_groups():
    x = tl.tensor(np.zeros((2, 0, 1, 2)))
    w = tl.tensor(np.zeros((0, 2, 1, 1)))
    with pytest.raises(ValueError, match="conv_transpose2d: groups=3 must divide the input "
                                         "channels \\(0\\) and be at most their number"):
        F.conv_transpose2d(x, w, groups=3)


def test_div_gradient_of_the_divisor_does_not_overflow_in_between(torch):
    out, (ga, gb) = _same(torch, lambda lib, a, b: a / b, [1e308, 3.0], [2.09240422, 0.5],
                          upstream=[-3.0, 2.0])
    assert np.isfinite(gb[0])  # -g * (a / b) / b = 6.9e307; -g * a / (b * b) overflowed


@pytest.mark.parametrize("pool", ["max_pool2d", "avg_pool2d", "max_pool2d_indices"])
@pytest.mark.parametrize("shape", [(1, 1, 0, 1), (2, 0, 3, 3), (0, 3, 3)])
def test_pooling_refuses_empty_channel_or_spatial_dims_as_pytorch(torch, pool, shape):
    kw = {"return_indices": True} if pool == "max_pool2d_indices" else {}
    name = pool.replace("_indices", "")
    with pytest.raises(Exception):
        getattr(torch.nn.functional, name)(torch.zeros(shape), (2, 1), **kw)
    with pytest.raises(ValueError, match=f"{name}: expected non-zero channel and spatial"):
        getattr(F, name)(tl.zeros(shape), (2, 1), **kw)


def test_pooling_of_an_empty_batch_is_allowed_as_pytorch():
    assert F.max_pool2d(tl.zeros((0, 2, 4, 4)), 2).shape == (0, 2, 2, 2)


def test_conv_refuses_weights_without_output_channels_as_pytorch(torch):
    with pytest.raises(ValueError, match="conv2d: the weight \\(0, 1, 1, 1\\) has 0 output "
                                         "channels, fewer than groups=1"):
        F.conv2d(tl.zeros((0, 1, 1, 1)), tl.zeros((0, 1, 1, 1)))
    with pytest.raises(ValueError, match="conv_transpose2d: the weight \\(1, 0, 1, 1\\) has no "
                                         "output channels"):
        F.conv_transpose2d(tl.zeros((1, 1, 1, 1)), tl.zeros((1, 0, 1, 1)))
