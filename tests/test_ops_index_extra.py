"""More shape and indexing ops (masked_fill, index_select, repeat, scatter, take_along_dim,
narrow, roll, tril/triu, diag/diagonal, movedim, unflatten, broadcasting, meshgrid) and the
creation helpers (new_*, logspace, tril_indices, ...): edge cases, in-place variants, views
and bad input, compared with PyTorch in float64."""
import numpy as np
import pytest

import tensorlite as tl


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _grads(lib, fn, values):
    """fn(*inputs) and the gradients of (fn(...) * w).sum() for float64 inputs, w fixed."""
    if lib is tl:
        ts = [tl.tensor(np.asarray(v, np.float64), requires_grad=True) for v in values]
    else:
        ts = [lib.tensor(np.asarray(v, np.float64), requires_grad=True) for v in values]
    out = fn(*ts)
    w = np.random.default_rng(1).standard_normal(tuple(out.shape))
    (out * (tl.tensor(w) if lib is tl else lib.tensor(w))).sum().backward()
    data = out.data if lib is tl else out.detach().numpy()
    return np.array(data), [t.grad.numpy() if lib is not tl else t.grad.data for t in ts]


def assert_same(torch, fn_ours, fn_torch, *values):
    out, grads = _grads(tl, fn_ours, values)
    out_t, grads_t = _grads(torch, fn_torch, values)
    assert out.shape == out_t.shape
    np.testing.assert_allclose(out, out_t, rtol=1e-12, atol=1e-12)
    for g, gt in zip(grads, grads_t):
        np.testing.assert_allclose(g, gt, rtol=1e-12, atol=1e-12)


X = np.arange(12.0).reshape(3, 4) / 7 - 0.5


# -- masked_fill ---------------------------------------------------------------------------
def test_masked_fill_broadcasts_mask_and_value_gets_gradient(torch):
    mask = np.array([[True, False, True, False]] * 2)[:, None, :]  # (2, 1, 4)
    assert_same(torch, lambda x, v: x.masked_fill(tl.tensor(mask), v),
                lambda x, v: x.masked_fill(torch.tensor(mask), v), X, 2.5)
    assert tl.tensor(X).masked_fill(tl.tensor(mask), 1.0).shape == (2, 3, 4)


def test_masked_fill_value_conversion_as_pytorch(torch):
    m = np.array([True, False, True])
    for x in ([1, 2, 3], [True, False, False], [0.5, 1.5, 2.5]):
        for v in (1.7, -1.7, 2, True, float("nan")):
            if isinstance(x[0], (int, bool)) and v != v:
                continue  # NaN into an integer tensor is undefined in PyTorch
            ours = tl.tensor(x).masked_fill(tl.tensor(m), v)
            theirs = torch.tensor(x).masked_fill(torch.tensor(m), v)
            assert ours.dtype == np.dtype(str(theirs.dtype).replace("torch.", ""))
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    # a 0-d value tensor of another dtype: converted to x's, as PyTorch
    out = tl.zeros(3, dtype=tl.int64).masked_fill(tl.tensor(m), tl.tensor(1.7))
    np.testing.assert_array_equal(out.numpy(), [1, 0, 1])


@pytest.mark.parametrize("mask, value, err, msg", [
    (np.ones(3, np.uint8), 1.0, TypeError, "masked_fill: mask must be a bool tensor"),
    (np.ones(3), 1.0, TypeError, "mask must be a bool tensor, got dtype float64"),
    (np.ones(2, bool), 1.0, ValueError, r"masked_fill: shapes \(3,\), \(2,\) cannot be"),
    (np.ones(3, bool), "a", TypeError, "value must be a number or a 0-d tensor"),
])
def test_masked_fill_bad_input(mask, value, err, msg):
    with pytest.raises(err, match=msg):
        tl.zeros(3).masked_fill(tl.tensor(mask), value)
    with pytest.raises(RuntimeError, match=r"0-d tensor, got a tensor of shape \(1,\)"):
        tl.zeros(3).masked_fill(tl.tensor([True, False, True]), tl.tensor([1.0]))


def test_masked_fill_inplace_views_versions_and_errors(torch):
    x = tl.tensor(X.copy())
    v0 = x._version_count
    out = x.masked_fill_(x > 0, 0.0)
    assert out is x and x._version_count == v0 + 1
    np.testing.assert_array_equal(x.numpy(), np.where(X > 0, 0.0, X))
    # through a view: the base sees the write
    base = tl.tensor(X.copy())
    base[1].masked_fill_(tl.tensor([True, False, False, True]), 9.0)
    xt = torch.tensor(X.copy())
    xt[1].masked_fill_(torch.tensor([True, False, False, True]), 9.0)
    np.testing.assert_array_equal(base.numpy(), xt.numpy())
    # a mask that would broadcast x to a larger shape: refused, x untouched
    y = tl.tensor(X.copy())
    with pytest.raises(RuntimeError, match="masked_fill_"):
        y.masked_fill_(tl.ones(2, 3, 4, dtype=tl.bool_), 1.0)
    np.testing.assert_array_equal(y.numpy(), X)
    w = tl.tensor(X, requires_grad=True)
    with pytest.raises(RuntimeError, match="masked_fill_: a leaf tensor that requires grad"):
        w.masked_fill_(w > 0, 0.0)


def test_masked_fill_inplace_on_non_leaf_gradient_matches_pytorch(torch):
    m = X > 0.1

    def ours(x, v):
        y = x * 2
        y.masked_fill_(tl.tensor(m), v)
        return y * x

    def theirs(x, v):
        y = x * 2
        y.masked_fill_(torch.tensor(m), v)
        return y * x
    assert_same(torch, ours, theirs, X, 0.3)


# -- index_select ----------------------------------------------------------------------------
def test_index_select_repeated_indices_gradient(torch):
    idx = [3, 0, 3, 3]
    assert_same(torch, lambda x: x.index_select(1, tl.tensor(idx)),
                lambda x: x.index_select(1, torch.tensor(idx)), X)
    assert_same(torch, lambda x: tl.index_select(x, -2, tl.tensor([2, 2], dtype=tl.int32)),
                lambda x: torch.index_select(x, -2, torch.tensor([2, 2], dtype=torch.int32)), X)


def test_index_select_shapes_as_pytorch(torch):
    x, xt = tl.tensor(X), torch.tensor(X)
    for idx in ([], 1):
        a = x.index_select(1, tl.tensor(idx, dtype=tl.int64))
        b = xt.index_select(1, torch.tensor(idx, dtype=torch.int64))
        assert a.shape == tuple(b.shape)
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert tl.tensor(5.0).index_select(0, tl.tensor([0])).item() == 5.0


def test_index_select_index_changed_later_does_not_move_gradient():
    x = tl.tensor(X, requires_grad=True)
    idx = tl.tensor([0, 1])
    y = x.index_select(0, idx)
    idx.data[0] = 2
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1] * 4, [1] * 4, [0] * 4])


@pytest.mark.parametrize("idx, err, msg", [
    ([4], IndexError, "index_select: index 4 is out of range for dim 1 of size 4"),
    ([-1], IndexError, "index -1 is out of range"),
    ([1.0], TypeError, "index must be an int64 .* got dtype float"),
    ([True], TypeError, "got dtype bool"),
    ([[1]], IndexError, r"index must be a vector \(0-d or 1-D\), got shape \(1, 1\)"),
])
def test_index_select_bad_index(idx, err, msg):
    with pytest.raises(err, match=msg):
        tl.tensor(X).index_select(1, tl.tensor(idx))
    with pytest.raises(IndexError, match="index_select: dim 2 is out of range"):
        tl.tensor(X).index_select(2, tl.tensor([0]))


# -- repeat / tile / repeat_interleave ---------------------------------------------------------
def test_repeat_and_tile_match_pytorch(torch):
    for reps in [(2, 1), (1, 3), (2, 2, 2), (0, 2)]:
        assert_same(torch, lambda x: x.repeat(*reps), lambda x: x.repeat(*reps), X)
    assert_same(torch, lambda x: x.repeat((2, 1, 1)), lambda x: x.repeat((2, 1, 1)), X)
    for reps in [(2,), (), (2, 1, 3)]:
        assert_same(torch, lambda x: tl.tile(x, reps), lambda x: torch.tile(x, reps), X)
    assert_same(torch, lambda x: x.tile(3), lambda x: x.tile(3), 1.5)


def test_repeat_bad_input():
    x = tl.tensor(X)
    with pytest.raises(RuntimeError, match=r"repeat: 1 repeat counts \(2,\) for a tensor with 2"):
        x.repeat(2)
    with pytest.raises(RuntimeError, match="non-negative"):
        x.repeat(-1, 2)
    with pytest.raises(TypeError, match="repeat: sizes must be ints"):
        x.repeat(2.0, 1)
    with pytest.raises(TypeError, match="missing the repeat counts"):
        x.repeat()


def test_repeat_interleave_matches_pytorch(torch):
    cases = [((2,), {}), ((2,), {"dim": 1}), ((3,), {"dim": -2})]
    for args, kw in cases:
        assert_same(torch, lambda x: x.repeat_interleave(*args, **kw),
                    lambda x: x.repeat_interleave(*args, **kw), X)
    for reps, dim in [([1, 0, 2], 0), ([2], 1), (2, 1), ([0, 1, 2, 3], -1)]:
        assert_same(torch, lambda x: tl.repeat_interleave(x, tl.tensor(reps), dim=dim),
                    lambda x: torch.repeat_interleave(x, torch.tensor(reps), dim=dim), X)
    np.testing.assert_array_equal(tl.repeat_interleave(tl.tensor([1, 2, 0, 3])).numpy(),
                                  torch.repeat_interleave(torch.tensor([1, 2, 0, 3])).numpy())
    out = tl.tensor(X).repeat_interleave(2, dim=1, output_size=8)
    assert out.shape == (3, 8)


@pytest.mark.parametrize("reps, kw, err, msg", [
    ([1, 2], {"dim": 0}, RuntimeError, "repeats has 2 entries but the input has 3 along dim 0"),
    ([1, -2, 1], {"dim": 0}, RuntimeError, "repeats must be non-negative"),
    (-1, {"dim": 0}, RuntimeError, "repeats must be non-negative, got -1"),
    ([1.0, 2.0, 1.0], {"dim": 0}, TypeError, "repeats must be an int64 .* got dtype float"),
    ([[1, 2, 1]], {"dim": 0}, RuntimeError, "repeats must be a 0-d or 1-D tensor"),
    (2, {"dim": 1, "output_size": 5}, RuntimeError, "output_size is 5 but the repeats give 8"),
    (2.5, {"dim": 1}, TypeError, "repeat_interleave: repeats must be an int"),
])
def test_repeat_interleave_bad_input(reps, kw, err, msg):
    r = tl.tensor(reps) if isinstance(reps, list) else reps
    with pytest.raises(err, match=msg):
        tl.tensor(X).repeat_interleave(r, **kw)


# -- scatter / scatter_add ------------------------------------------------------------------
IDX = [[0, 1, 2, 0], [2, 0, 1, 1]]


def test_scatter_and_scatter_add_match_pytorch(torch):
    src = np.arange(12.0).reshape(3, 4) - 3
    for dim, idx in [(0, IDX), (1, [[3, 1], [0, 2], [1, 1]])]:
        s = src[:len(idx), :len(idx[0])]
        assert_same(torch, lambda x, v: x.scatter(dim, tl.tensor(idx), v),
                    lambda x, v: x.scatter(dim, torch.tensor(idx), v), X, s)
        assert_same(torch, lambda x, v: tl.scatter_add(x, dim, tl.tensor(idx), v),
                    lambda x, v: torch.scatter_add(x, dim, torch.tensor(idx), v), X, s)
    assert_same(torch, lambda x: tl.scatter(x, 1, tl.tensor(IDX), value=-2.0),
                lambda x: torch.scatter(x, 1, torch.tensor(IDX), value=-2.0), X[:2])
    assert_same(torch, lambda x: x.scatter(1, tl.tensor(IDX), 4.5),
                lambda x: x.scatter(1, torch.tensor(IDX), 4.5), X[:2])


def test_scatter_repeated_positions(torch):
    # scatter: one write wins (the last, as PyTorch on CPU); scatter_add: all are summed.
    idx, src = [0, 0, 0, 2], [1.0, 2.0, 3.0, 4.0]
    for op in ("scatter", "scatter_add"):
        ours = getattr(tl.zeros(3, dtype=tl.float64), op)(0, tl.tensor(idx),
                                                          tl.tensor(src, dtype=tl.float64))
        theirs = getattr(torch.zeros(3, dtype=torch.float64), op)(
            0, torch.tensor(idx), torch.tensor(src, dtype=torch.float64))
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert_same(torch, lambda x, v: x.scatter_add(0, tl.tensor([[0, 0], [0, 0]]), v),
                lambda x, v: x.scatter_add(0, torch.tensor([[0, 0], [0, 0]]), v),
                X, [[1.0, 2.0], [3.0, 4.0]])


def test_scatter_src_larger_than_index_gradient_is_zero_past_the_index(torch):
    # PyTorch cannot backpropagate this case (a shape error); the values it scatters agree.
    x = tl.tensor(X, requires_grad=True)
    src = tl.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    y = x.scatter(0, tl.tensor([[1, 2]]), src)
    yt = torch.tensor(X).scatter(0, torch.tensor([[1, 2]]), torch.arange(12.0).reshape(3, 4)
                                 .double())
    np.testing.assert_array_equal(y.numpy(), yt.numpy())
    y.sum().backward()
    want = np.zeros((3, 4))
    want[0, :2] = 1
    np.testing.assert_array_equal(src.grad.numpy(), want)
    assert tl.gradcheck(lambda a, b: a.scatter(0, tl.tensor([[1, 2]]), b),
                        (tl.tensor(X, requires_grad=True),
                         tl.tensor(np.ones((3, 4)), requires_grad=True)))


def test_scatter_inplace_variants(torch):
    x, xt = tl.tensor(X.copy()), torch.tensor(X.copy())
    v = x._version_count
    assert x.scatter_(1, tl.tensor(IDX), 7.0) is x
    x.scatter_add_(0, tl.tensor(IDX), tl.tensor(np.ones((2, 4))))
    xt.scatter_(1, torch.tensor(IDX), 7.0)
    xt.scatter_add_(0, torch.tensor(IDX), torch.ones(2, 4, dtype=torch.float64))
    np.testing.assert_array_equal(x.numpy(), xt.numpy())
    assert x._version_count == v + 2

    def ours(a, s):
        y = a * 1
        y.scatter_(0, tl.tensor(IDX), s)
        return y * a

    def theirs(a, s):
        y = a * 1
        y.scatter_(0, torch.tensor(IDX), s)
        return y * a
    assert_same(torch, ours, theirs, X, np.ones((2, 4)) * 0.5)


@pytest.mark.parametrize("dim, idx, err, msg", [
    (0, [[3, 0, 0, 0]], IndexError, "scatter_add: index 3 is out of range for dim 0 of size 3"),
    (0, [[-1, 0, 0, 0]], IndexError, "index -1 is out of range"),
    (0, [[0.0, 0, 0, 0]], TypeError, "index must be an int64 .* got dtype float"),
    (0, [0, 1], RuntimeError, r"index must have as many dims as the input \(2\)"),
    (0, [[0] * 5], RuntimeError, r"index of shape \(1, 5\) must be no larger than the input"),
    (2, [[0]], IndexError, "dim 2 is out of range"),
])
def test_scatter_bad_input_changes_nothing(dim, idx, err, msg):
    x = tl.tensor(X.copy())
    with pytest.raises(err, match=msg):
        x.scatter_add_(dim, tl.tensor(idx), tl.tensor(np.ones((1, 4))))
    with pytest.raises(err, match=msg.replace("scatter_add", "scatter")):
        x.scatter_(dim, tl.tensor(idx), tl.tensor(np.ones((1, 4))))
    np.testing.assert_array_equal(x.numpy(), X)
    assert x._version_count == 0
    with pytest.raises(RuntimeError, match=r"no larger than src \(1, 1\)"):
        x.scatter(0, tl.tensor([[0, 1]]), tl.tensor(np.ones((1, 1))))
    with pytest.raises(TypeError, match="scatter: src dtype float32 differs from the input's "
                                        "float64"):
        x.scatter(0, tl.tensor([[0, 1]]), tl.ones(1, 2))
    with pytest.raises(TypeError, match="scatter_add: src must be a Tensor"):
        x.scatter_add(0, tl.tensor([[0, 1]]), 1.0)


def test_scatter_empty_index_and_0d(torch):
    x = tl.tensor(X)
    np.testing.assert_array_equal(x.scatter(0, tl.zeros(0, 9, dtype=tl.int64), 5.0).numpy(), X)
    ours = tl.tensor(1.0).scatter(0, tl.tensor(0), 5.0)
    assert ours.shape == () and ours.item() == torch.tensor(1.0).scatter(0, torch.tensor(0),
                                                                          5.0).item()
    assert_same(torch, lambda a, s: a.scatter_add(0, tl.tensor(0), s),
                lambda a, s: a.scatter_add(0, torch.tensor(0), s), 1.5, 2.0)


def test_scatter_add_integer_tensors(torch):
    ours = tl.zeros(3, 4, dtype=tl.int64).scatter_add(0, tl.tensor(IDX), tl.ones(2, 4,
                                                                                 dtype=tl.int64))
    theirs = torch.zeros(3, 4, dtype=torch.long).scatter_add(0, torch.tensor(IDX),
                                                             torch.ones(2, 4, dtype=torch.long))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert ours.dtype == tl.int64


# -- take_along_dim ----------------------------------------------------------------------------
def test_take_along_dim_broadcasts_like_pytorch(torch):
    for idx, dim in [([[0], [2]], 0), ([[0, 1]], 1), ([[3], [1], [0]], 1), ([[1, 1, 2, 0]], 0)]:
        assert_same(torch, lambda x: tl.take_along_dim(x, tl.tensor(idx), dim),
                    lambda x: torch.take_along_dim(x, torch.tensor(idx), dim), X)
    assert_same(torch, lambda x: x.take_along_dim(tl.tensor([[5, 0], [11, 5]])),
                lambda x: x.take_along_dim(torch.tensor([[5, 0], [11, 5]])), X)
    # the usual use: values at argmax
    x = tl.tensor(X)
    i = x.argmax(1, keepdim=True)
    np.testing.assert_array_equal(tl.take_along_dim(x, i, 1).numpy(), X.max(1, keepdims=True))


def test_take_along_dim_bad_input():
    x = tl.tensor(X)
    # PyTorch reads out of bounds here (no check when the indices broadcast): an error.
    with pytest.raises(IndexError, match="take_along_dim: index 5 is out of range for dim 1"):
        tl.take_along_dim(x, tl.tensor([[5]]), 1)
    with pytest.raises(IndexError, match="index -1 is out of range"):
        tl.take_along_dim(x, tl.tensor([[-1]]), 1)
    with pytest.raises(IndexError, match="index 12 is out of range"):
        tl.take_along_dim(x, tl.tensor([12]))
    with pytest.raises(RuntimeError, match="same number of dims"):
        tl.take_along_dim(x, tl.tensor([1]), 1)
    with pytest.raises(ValueError, match="take_along_dim: shapes .* cannot be broadcast"):
        tl.take_along_dim(x, tl.tensor([[1], [1]]), 1)
    with pytest.raises(TypeError, match="indices must be an int64"):
        tl.take_along_dim(x, tl.tensor([[1.0]]), 1)


# -- narrow, roll, tril/triu ------------------------------------------------------------------
def test_narrow_is_a_view_and_matches_pytorch(torch):
    for dim, start, length in [(1, -2, 2), (0, 1, 2), (1, 4, 0), (-1, 0, 4)]:
        assert_same(torch, lambda x: x.narrow(dim, start, length),
                    lambda x: x.narrow(dim, start, length), X)
    x = tl.tensor(X.copy())
    v = tl.narrow(x, 1, tl.tensor(1), 2)
    v.mul_(0)
    assert x._version_count == 1
    np.testing.assert_array_equal(x.numpy()[:, 1:3], 0)


@pytest.mark.parametrize("args, err, msg", [
    ((1, 3, 2), RuntimeError, r"narrow: start \(3\) \+ length \(2\) exceeds the size 4"),
    ((1, 5, 0), IndexError, "narrow: start 5 is out of range for dim 1 of size 4"),
    ((1, -5, 1), IndexError, "start -5 is out of range"),
    ((1, 0, -1), RuntimeError, "length must be non-negative"),
    ((1, 1.0, 1), TypeError, "narrow: start must be an int"),
])
def test_narrow_bad_input(args, err, msg):
    with pytest.raises(err, match=msg):
        tl.tensor(X).narrow(*args)
    with pytest.raises(RuntimeError, match="narrow: cannot be applied to a 0-d tensor"):
        tl.tensor(1.0).narrow(0, 0, 1)


def test_roll_matches_pytorch(torch):
    for shifts, dims in [(1, None), (-5, None), (1, 0), ((1, 2), (0, 1)), ((1, -1), (0, 0)),
                         (-5, 1), (13, -1), (2, ())]:
        assert_same(torch, lambda x: tl.roll(x, shifts, dims),
                    lambda x: torch.roll(x, shifts, () if dims is None else dims), X)
    assert_same(torch, lambda x: x.roll(3), lambda x: x.roll(3), 2.0)
    assert tl.zeros(0, 3).roll(1, 0).shape == (0, 3)


def test_roll_bad_input():
    x = tl.tensor(X)
    with pytest.raises(RuntimeError, match=r"roll: shifts \(1, 2\) and dims \(0,\) must have"):
        x.roll((1, 2), 0)
    with pytest.raises(RuntimeError, match="roll: 2 shifts"):
        x.roll((1, 2))
    with pytest.raises(IndexError, match="roll: dim 2 is out of range"):
        x.roll(1, 2)
    with pytest.raises(TypeError, match="roll: shifts must be an int or a tuple of ints"):
        x.roll(1.5, 1)


def test_tril_triu_match_pytorch(torch):
    batch = np.arange(24.0).reshape(2, 3, 4) / 5
    for k in (-4, -1, 0, 2, 5):
        assert_same(torch, lambda x: x.tril(k), lambda x: x.tril(k), batch)
        assert_same(torch, lambda x: tl.triu(x, diagonal=k), lambda x: torch.triu(x, k), batch)
    ints = tl.tensor([[1, 2], [3, 4]])
    np.testing.assert_array_equal(ints.triu().numpy(), [[1, 2], [0, 4]])
    assert ints.triu().dtype == tl.int64
    with pytest.raises(RuntimeError, match=r"tril: input must have at least 2 dims, got shape"):
        tl.ones(3).tril()
    with pytest.raises(TypeError, match="triu: diagonal must be an int"):
        tl.ones(3, 3).triu(1.5)


# -- diag / diagonal ------------------------------------------------------------------------------
def test_diag_matches_pytorch(torch):
    for k in (-2, 0, 1, 5):
        assert_same(torch, lambda x: tl.diag(x, k), lambda x: torch.diag(x, k), X)
        assert_same(torch, lambda v: v.diag(k), lambda v: v.diag(k), [1.0, -2.0, 3.0])
    assert tl.diag(tl.zeros(0)).shape == (0, 0)
    assert tl.diag(tl.tensor([1, 2])).dtype == tl.int64
    with pytest.raises(RuntimeError, match=r"diag: input must be 1-D or 2-D, got shape \(\)"):
        tl.diag(tl.tensor(1.0))
    # a 2-D input gives a copy: writing into it leaves x alone
    x = tl.tensor(X.copy())
    tl.diag(x).zero_()
    np.testing.assert_array_equal(x.numpy(), X)


def test_diagonal_matches_pytorch(torch):
    cube = np.arange(24.0).reshape(2, 3, 4)
    for args in [(0, 0, 1), (1, 0, 1), (-1, 1, 0), (0, -1, 0), (2, 2, 1), (9, 0, 1)]:
        assert_same(torch, lambda x: x.diagonal(*args), lambda x: x.diagonal(*args), cube)
    assert_same(torch, lambda x: tl.diagonal(x, offset=-1, dim1=1, dim2=0),
                lambda x: torch.diagonal(x, offset=-1, dim1=1, dim2=0), X)
    with pytest.raises(RuntimeError, match="diagonal: dim1 and dim2 are the same dim"):
        tl.ones(2, 3).diagonal(0, 1, 1)
    with pytest.raises(IndexError, match="diagonal: dim 1 is out of range"):
        tl.ones(3).diagonal()


def test_diagonal_is_a_writable_view_sharing_the_version(torch):
    x, xt = tl.tensor(X.copy()), torch.tensor(X.copy())
    d, dt = x.diagonal(), xt.diagonal()
    d.add_(100)
    dt.add_(100)
    np.testing.assert_array_equal(x.numpy(), xt.numpy())
    assert x._version_count == 1 and d._version_count == 1
    # a saved diagonal changed in place through its base is caught at backward, as PyTorch
    for lib, err in ((tl, "modified by an in-place operation"), (torch, "modified by an")):
        w = lib.tensor(X, requires_grad=True)
        y = w * 1
        d = y.diagonal()
        z = d * d
        y.mul_(2)
        with pytest.raises(RuntimeError, match=err):
            z.sum().backward()


# -- movedim, swapaxes, unflatten, broadcasting, meshgrid -----------------------------------------
def test_movedim_swapaxes_unflatten_match_pytorch(torch):
    cube = np.arange(24.0).reshape(2, 3, 4)
    for src, dst in [(0, -1), ((0, 1), (2, 0)), ((-1,), (0,)), ((0, 1, 2), (2, 1, 0))]:
        assert_same(torch, lambda x: x.movedim(src, dst), lambda x: x.movedim(src, dst), cube)
        assert_same(torch, lambda x: tl.moveaxis(x, src, dst),
                    lambda x: torch.moveaxis(x, src, dst), cube)
    assert_same(torch, lambda x: x.swapaxes(0, 2), lambda x: x.swapaxes(0, 2), cube)
    assert_same(torch, lambda x: tl.swapdims(x, -1, 1), lambda x: torch.swapdims(x, -1, 1), cube)
    for dim, sizes in [(1, (3, 1)), (-1, (-1, 2)), (2, [2, 2]), (0, (1, 2, 1))]:
        assert_same(torch, lambda x: x.unflatten(dim, sizes), lambda x: x.unflatten(dim, sizes),
                    cube)
    with pytest.raises(RuntimeError, match="movedim: repeated dim in source"):
        tl.ones(2, 3).movedim((0, 0), (0, 1))
    with pytest.raises(RuntimeError, match="must have the same number of dims"):
        tl.ones(2, 3).movedim((0, 1), (0,))
    with pytest.raises(RuntimeError, match=r"unflatten: sizes \(3, 2\) do not multiply up to "
                                           "the size 4 of dim 2"):
        tl.ones(2, 3, 4).unflatten(-1, (3, 2))
    for bad in [(), (-1, -1)]:
        with pytest.raises(RuntimeError, match="unflatten"):
            tl.ones(2, 3, 4).unflatten(-1, bad)


def test_views_share_memory_and_version():
    x = tl.tensor(X.copy())
    for view in (x.movedim(0, 1), x.swapaxes(0, 1), x.unflatten(1, (2, 2)), x.narrow(0, 1, 1),
                 x.diagonal()):
        assert np.shares_memory(view.numpy(), x.numpy())
        assert view._version is x._version
    b = x.broadcast_to(2, 3, 4)
    assert np.shares_memory(b.numpy(), x.numpy())
    with pytest.raises(RuntimeError, match="read-only"):
        b.add_(1)


def test_broadcasting_helpers_match_pytorch(torch):
    assert tl.broadcast_shapes((3, 1), (4,)) == tuple(torch.broadcast_shapes((3, 1), (4,)))
    assert tl.broadcast_shapes(3, (4, 1)) == (4, 3)
    assert tl.broadcast_shapes() == ()
    with pytest.raises(ValueError, match=r"broadcast_shapes: shapes \(3,\), \(4,\) cannot be"):
        tl.broadcast_shapes((3,), (4,))
    with pytest.raises(TypeError, match="broadcast_shapes: each shape must be"):
        tl.broadcast_shapes((3.0,))
    a, b = tl.broadcast_tensors(tl.zeros(3, 1), tl.zeros(4, dtype=tl.int64))
    assert a.shape == b.shape == (3, 4) and b.dtype == tl.int64
    assert_same(torch, lambda x, y: sum(tl.broadcast_tensors(x, y)),
                lambda x, y: sum(torch.broadcast_tensors(x, y)), [[1.0], [2.0]], [3.0, 4.0, 5.0])
    assert_same(torch, lambda x: tl.broadcast_to(x, (2, -1, 4)),
                lambda x: torch.broadcast_to(x, (2, -1, 4)), X)
    with pytest.raises(RuntimeError, match="broadcast_to: input of shape"):
        tl.zeros(3).broadcast_to((2, 4))


def test_meshgrid_matches_pytorch(torch):
    a, b, c = [1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0, 9.0]
    for indexing in ("ij", "xy"):
        ours = lambda x, y, z: sum(g * (k + 1) for k, g in enumerate(
            tl.meshgrid(x, y, z, indexing=indexing)))
        theirs = lambda x, y, z: sum(g * (k + 1) for k, g in enumerate(
            torch.meshgrid(x, y, z, indexing=indexing)))
        assert_same(torch, ours, theirs, a, b, c)
    grids = tl.meshgrid([tl.zeros(2), tl.zeros(3)], indexing="xy")
    assert [g.shape for g in grids] == [(3, 2), (3, 2)]
    assert tl.meshgrid(tl.tensor(2.0), tl.zeros(3))[0].shape == (1, 3)
    with pytest.raises(ValueError, match="meshgrid: indexing must be 'ij' or 'xy', got 'foo'"):
        tl.meshgrid(tl.zeros(2), indexing="foo")
    with pytest.raises(RuntimeError, match=r"expected 0-d or 1-D tensors, got shape \(2, 2\)"):
        tl.meshgrid(tl.zeros(2, 2))
    with pytest.raises(TypeError, match="meshgrid: all tensors must have the same dtype"):
        tl.meshgrid(tl.zeros(2), tl.zeros(2, dtype=tl.int64))


def test_concat_aliases():
    a = tl.tensor(X)
    assert tl.concat([a, a], 1).shape == (3, 8)
    assert tl.concat([a, a], dim=0).shape == (6, 4)
    assert tl.concatenate([a, a], axis=1).shape == (3, 8)
    assert tl.concatenate([a, a], dim=1).shape == (3, 8)


# -- creation helpers ---------------------------------------------------------------------------
def _dtype_name(t):
    return str(t.dtype).replace("torch.", "")


@pytest.mark.filterwarnings("ignore:To copy construct")
def test_new_methods_match_pytorch(torch):
    x, xt = tl.zeros(2, dtype=tl.float64), torch.zeros(2, dtype=torch.float64)
    i, it = tl.zeros(2, dtype=tl.int64), torch.zeros(2, dtype=torch.long)
    cases = [
        (lambda t, T: t.new_zeros(2, 3), None), (lambda t, T: t.new_zeros((2, 3)), None),
        (lambda t, T: t.new_ones([2], dtype=T.int64), None),
        (lambda t, T: t.new_full((2,), 3), None),
        (lambda t, T: t.new_full((2,), 3.5, dtype=T.int64), None),
        (lambda t, T: t.new_tensor([1, 2]), None),
        (lambda t, T: t.new_tensor([1.5, 2.5]), None),
        (lambda t, T: t.new_empty(2, 3), "shape"),
        (lambda t, T: t.new_empty((0,)), "shape"),
        (lambda t, T: t.new_tensor(t), None),
    ]
    for fn, only in cases:
        for ours_x, theirs_x in ((x, xt), (i, it)):
            a, b = fn(ours_x, tl), fn(theirs_x, torch)
            assert a.shape == tuple(b.shape) and str(a.dtype) == _dtype_name(b)
            if only is None:
                np.testing.assert_array_equal(a.numpy(), b.numpy())
    g = x.new_zeros(3, requires_grad=True)
    assert g.requires_grad and g.is_leaf
    assert x.new_tensor([1.0], requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match="new_zeros: only floating-point tensors can require"):
        i.new_zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="new_ones: negative dimension"):
        x.new_ones(-1)
    # new_tensor copies
    src = np.ones(2)
    t = x.new_tensor(src)
    src[0] = 5
    assert t.numpy()[0] == 1


def test_type_as_cpu_is_tensor_numel(torch):
    x = tl.ones(2)
    y = x.type_as(tl.zeros(1, dtype=tl.int64))
    assert y.dtype == tl.int64
    assert x.type_as(tl.zeros(3)) is x or x.type_as(tl.zeros(3)).dtype == tl.float32
    with pytest.raises(TypeError, match="type_as: expected a Tensor"):
        x.type_as(np.zeros(1))
    assert x.cpu() is x
    assert tl.is_tensor(x) and not tl.is_tensor([1.0]) and not tl.is_tensor(np.zeros(1))
    assert tl.numel(tl.zeros(2, 3)) == torch.numel(torch.zeros(2, 3)) == 6
    assert tl.numel(tl.tensor(1.0)) == 1
    with pytest.raises(TypeError, match="numel: expected a Tensor"):
        tl.numel([1, 2])


def test_logspace_eye_and_triangle_indices_match_pytorch(torch):
    for args, kw in [((0, 2, 3), {}), ((0, 2, 3), {"base": 2}), ((-1, 1, 5), {}),
                     ((0, 2, 0), {}), ((0, 2, 3), {"dtype": "int64"}),
                     ((1.5, 3, 4), {"dtype": "float64"})]:
        tkw = {k: (getattr(torch, v) if k == "dtype" else v) for k, v in kw.items()}
        a, b = tl.logspace(*args, **kw), torch.logspace(*args, **tkw)
        assert str(a.dtype) == _dtype_name(b)
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6 if a.dtype == tl.float32
                                   else 1e-13)
    np.testing.assert_array_equal(tl.eye(2, 3).numpy(), torch.eye(2, 3).numpy())
    np.testing.assert_array_equal(tl.eye(3, 2, dtype=tl.int64).numpy(),
                                  torch.eye(3, 2, dtype=torch.long).numpy())
    for fn in ("tril_indices", "triu_indices"):
        for args in [(3, 3), (3, 4, 1), (3, 4, -1), (0, 4), (4, 2, -5), (2, 2, 7)]:
            a, b = getattr(tl, fn)(*args), getattr(torch, fn)(*args)
            assert a.dtype == tl.int64 and a.shape == tuple(b.shape)
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(ValueError, match="tril_indices: row must be >= 0, got -1"):
        tl.tril_indices(-1, 4)
    with pytest.raises(ValueError, match="logspace: steps must be >= 0"):
        tl.logspace(0, 1, -1)


@pytest.mark.parametrize("fn", [
    lambda x: x.repeat(2 ** 62, 2 ** 62), lambda x: x.tile(2 ** 62),
    lambda x: x.repeat_interleave(2 ** 62),
    lambda x: x.repeat_interleave(tl.tensor([2 ** 62, 2 ** 62]), dim=0),
    lambda x: tl.diag(x[0], 2 ** 40),
])
def test_huge_results_are_refused_naming_the_op(fn):
    with pytest.raises(RuntimeError, match=r"^(repeat|tile|repeat_interleave|diag): the result "
                                           r"of shape .* would be too large"):
        fn(tl.ones(2, 2))


def test_reshape_copy_has_its_own_version_counter(torch):
    # reshape of a transposed tensor copies; writing into the copy must not invalidate
    # saved uses of the original (PyTorch backpropagates fine here).
    for lib in (tl, torch):
        a = lib.ones(3, 4, dtype=lib.float64, requires_grad=True)
        t = (a * 1).T
        r = t.reshape(12)
        z = t * t
        r.add_(1)
        z.sum().backward()
        np.testing.assert_array_equal(np.asarray(a.grad.numpy()), np.full((3, 4), 2.0))
    x = tl.ones(3, 4)
    v = x.reshape(4, 3)       # a real view still shares the counter
    v.add_(1)
    assert x._version_count == 1


# -- probe review: hostile inputs ----------------------------------------------------------
HUGE = [("repeat", lambda x: x.repeat(10**6, 10**6)),
        ("tile", lambda x: tl.tile(x, (10**12, 1))),
        ("repeat_interleave", lambda x: tl.repeat_interleave(x, 10**12, dim=0)),
        ("repeat_interleave", lambda x: tl.repeat_interleave(
            x, tl.tensor(np.array([10**12, 1, 1])), dim=0)),
        ("new_zeros", lambda x: x.new_zeros(10**6, 10**6)),
        ("new_ones", lambda x: x.new_ones(10**12)),
        ("new_empty", lambda x: x.new_empty((10**12,))),
        ("new_full", lambda x: x.new_full((10**6, 10**6), 1.5)),
        ("zeros", lambda x: tl.zeros(10**12)),
        ("logspace", lambda x: tl.logspace(0, 2, 10**12)),
        ("tril_indices", lambda x: tl.tril_indices(10**6, 10**6)),
        ("triu_indices", lambda x: tl.triu_indices(10**6, 10**6))]


@pytest.mark.parametrize("op,fn", HUGE, ids=[f"{op}{k}" for k, (op, _) in enumerate(HUGE)])
def test_results_larger_than_memory_are_refused_naming_the_op(op, fn):
    # numpy would raise a MemoryError without the op's name (or, for zeros, hand out lazily
    # mapped pages that kill the process when touched)
    with pytest.raises(RuntimeError, match=rf"^{op}: the result of shape .* would be too large"):
        fn(tl.tensor(X))


@pytest.mark.parametrize("fill", [float("nan"), float("inf"), 10**30, -2.0**70])
def test_new_full_refuses_an_integer_fill_that_overflows_as_torch(torch, fill):
    with pytest.raises((RuntimeError, OverflowError)):
        torch.zeros(2, dtype=torch.int64).new_full((3,), fill)
    with pytest.raises(RuntimeError, match="new_full: fill_value .* cannot be converted to int64"):
        tl.zeros(2, dtype=tl.int64).new_full((3,), fill)
    # in range: truncated as PyTorch
    np.testing.assert_array_equal(tl.zeros(2, dtype=tl.int64).new_full((3,), -2.7).numpy(),
                                  torch.zeros(2, dtype=torch.int64).new_full((3,), -2.7).numpy())


def test_tri_indices_refuse_a_float_dtype_as_torch(torch):
    with pytest.raises(NotImplementedError):
        torch.tril_indices(3, 3, dtype=torch.float64)
    for fn in (tl.tril_indices, tl.triu_indices):
        with pytest.raises(TypeError, match="_indices: dtype must be an integer type"):
            fn(3, 3, dtype=tl.float64)
    np.testing.assert_array_equal(tl.tril_indices(3, 4, 1, dtype=tl.int32).numpy(),
                                  torch.tril_indices(3, 4, 1, dtype=torch.int32).numpy())
