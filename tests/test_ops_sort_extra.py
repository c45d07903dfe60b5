"""Edge cases of prod, scans, norm and the sorting ops, compared with PyTorch (float64):
zeros in prod/cumprod (first and second derivatives), ties and NaN in the sorts, empty and
0-d inputs, negative dims, dtype rules, named tuples, and clear errors for bad input."""
import numpy as np
import pytest

import tensorlite as tl

NAN = float("nan")
INF = float("inf")


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _pair(torch, value, dtype="float64", requires_grad=None):
    a = np.asarray(value, dtype=dtype)
    grad = a.dtype.kind == "f" if requires_grad is None else requires_grad
    return tl.tensor(a, requires_grad=grad), torch.tensor(a, requires_grad=grad)


def _np(t):
    return t._data if isinstance(t, tl.Tensor) else t.detach().numpy()


def _same(ours, theirs, exact_dtype=True):
    np.testing.assert_allclose(_np(ours), _np(theirs), rtol=1e-12, atol=1e-12)
    assert tuple(ours.shape) == tuple(theirs.shape)
    if exact_dtype:
        assert str(ours.dtype).replace("tl.", "") == str(theirs.dtype).replace("torch.", "")


def _check(torch, fn_ours, fn_torch, value, seed=0, second=True):
    """Forward, first gradient and (with create_graph) second gradient against PyTorch,
    for a random output gradient and a random direction for the second one."""
    x, xt = _pair(torch, value)
    out, out_t = fn_ours(x), fn_torch(xt)
    _same(out, out_t)
    rng = np.random.default_rng(seed)
    g = rng.standard_normal(out.shape)
    (gx,) = tl.autograd.grad(out, [x], tl.tensor(g), create_graph=second)
    (gxt,) = torch.autograd.grad(out_t, xt, torch.tensor(g), create_graph=second)
    np.testing.assert_allclose(gx._data, gxt.detach().numpy(), rtol=1e-10, atol=1e-12)
    if second and gxt.requires_grad:
        v = rng.standard_normal(gx.shape)
        (ggx,) = tl.autograd.grad((gx * tl.tensor(v)).sum(), [x], allow_unused=True)
        (ggxt,) = torch.autograd.grad((gxt * torch.tensor(v)).sum(), xt, allow_unused=True)
        if ggxt is None:
            assert ggx is None or not np.any(ggx._data)
        else:
            np.testing.assert_allclose(ggx._data, ggxt.numpy(force=True), rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------------------
# prod
# ---------------------------------------------------------------------------------------
PROD_INPUTS = {
    "no_zero": [[1.5, -2.0, 0.5], [3.0, 0.25, -1.0]],
    "one_zero": [[1.5, 0.0, 0.5], [3.0, 0.25, -1.0]],
    "two_zeros_one_row": [[0.0, 2.0, 0.0], [3.0, 0.25, -1.0]],
    "zero_in_each_row": [[0.0, 2.0, 1.5], [3.0, 0.0, -1.0]],
    "all_zeros": [[0.0, 0.0], [0.0, 0.0]],
}


@pytest.mark.parametrize("name", PROD_INPUTS)
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
def test_prod_values_and_gradients_with_zeros(torch, name, dim):
    value = PROD_INPUTS[name]
    if dim is None:
        _check(torch, lambda x: x.prod(), lambda x: x.prod(), value)
    else:
        for keepdim in (False, True):
            _check(torch, lambda x: x.prod(dim, keepdim), lambda x: x.prod(dim, keepdim), value)


def test_prod_gradient_with_one_zero_is_the_product_of_the_others():
    x = tl.tensor([2.0, 0.0, 3.0, -1.0], dtype=tl.float64, requires_grad=True)
    x.prod().backward()
    np.testing.assert_array_equal(x.grad._data, [0.0, -6.0, 0.0, 0.0])


def test_prod_of_0d_empty_and_single_element(torch):
    for value in [2.5, np.zeros((0, 3)), [[4.0]]]:
        x, xt = _pair(torch, value)
        _same(x.prod(), xt.prod())
    x, xt = _pair(torch, np.zeros((0, 3)))
    _same(x.prod(0), xt.prod(0))
    _same(x.prod(1), xt.prod(1))
    _check(torch, lambda x: x.prod(0), lambda x: x.prod(0), 2.5)
    _check(torch, lambda x: x.prod(-1, True), lambda x: x.prod(-1, True), 2.5)


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_prod_cumsum_cumprod_of_integers_give_int64(torch, dtype):
    value = [[1, 2, 3], [0, 1, 1]]
    x, xt = _pair(torch, value, dtype)
    _same(x.prod(), xt.prod())
    _same(x.prod(1), xt.prod(1))
    _same(x.cumsum(1), xt.cumsum(1))
    _same(x.cumprod(0), xt.cumprod(0))
    _same(tl.cumsum(x, 0, dtype=tl.float64), torch.cumsum(xt, 0, dtype=torch.float64))
    _same(tl.prod(x, dtype=tl.float64), torch.prod(xt, dtype=torch.float64))


def test_prod_bad_arguments_are_refused():
    x = tl.ones(2, 3)
    with pytest.raises(IndexError, match="prod"):
        x.prod(2)
    with pytest.raises(TypeError, match="prod"):
        x.prod((0, 1))  # PyTorch's prod takes one int dim
    with pytest.raises(TypeError, match="prod"):
        x.prod(keepdim=True)
    with pytest.raises(TypeError, match="prod"):
        x.prod(1.0)


# ---------------------------------------------------------------------------------------
# cumsum / cumprod / logcumsumexp
# ---------------------------------------------------------------------------------------
CUMPROD_INPUTS = {
    "no_zero": [[1.5, -2.0, 0.5, 2.0], [3.0, 0.25, -1.0, 1.5]],
    "one_zero": [[1.5, 0.0, 0.5, 2.0], [3.0, 0.25, -1.0, 0.0]],
    "two_zeros": [[0.0, 2.0, 0.0, 3.0], [3.0, 0.0, -1.0, 0.0]],
    "leading_zero": [[0.0, 2.0, 0.5, 3.0], [0.0, 1.0, 2.0, -1.5]],
    "all_zeros": [[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]],
}


@pytest.mark.parametrize("name", CUMPROD_INPUTS)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumprod_values_and_gradients_with_zeros(torch, name, dim):
    _check(torch, lambda x: x.cumprod(dim), lambda x: x.cumprod(dim), CUMPROD_INPUTS[name])


def test_cumprod_first_gradient_without_create_graph_with_zeros(torch):
    # The O(n) array path (no graph recorded) against PyTorch's.
    value = [[2.0, 0.0, 3.0, 0.0, 5.0], [1.5, -2.0, 0.0, 4.0, 0.5]]
    x, xt = _pair(torch, value)
    g = np.random.default_rng(3).standard_normal((2, 5))
    x.cumprod(1).backward(tl.tensor(g))
    xt.cumprod(1).backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad._data, xt.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dim", [0, 1, -2])
def test_cumsum_values_and_gradients(torch, dim):
    _check(torch, lambda x: x.cumsum(dim), lambda x: x.cumsum(dim), [[1.0, 2.0], [3.5, -4.0]])


def test_scans_of_0d_and_empty(torch):
    for op in ("cumsum", "cumprod", "logcumsumexp"):
        _check(torch, lambda x: getattr(x, op)(0), lambda x: getattr(x, op)(0), 1.5)
        for dim in (0, 1):
            x, xt = _pair(torch, np.zeros((0, 3)))
            _same(getattr(x, op)(dim), getattr(xt, op)(dim))


def test_scans_refuse_bad_dims_and_require_dim():
    x = tl.ones(2, 3)
    for op in (tl.cumsum, tl.cumprod, tl.logcumsumexp, tl.cummax, tl.cummin):
        with pytest.raises(IndexError, match=op.__name__):
            op(x, 2)
        with pytest.raises(TypeError):
            op(x)
    with pytest.raises(TypeError, match="logcumsumexp"):
        tl.logcumsumexp(tl.tensor([1, 2]), 0)


@pytest.mark.parametrize("value", [
    [[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]],
    [[800.0, 801.0, 799.0], [-800.0, -805.0, -790.0]],   # far beyond exp's range
])
def test_logcumsumexp_values_and_gradients(torch, value):
    for dim in (0, 1, -1):
        _check(torch, lambda x: x.logcumsumexp(dim), lambda x: x.logcumsumexp(dim), value)


def test_logcumsumexp_with_infinities_and_nan(torch):
    for value in ([-INF, -INF, 1.0], [INF, 1.0, 2.0], [NAN, 1.0], [1.0, -INF, 2.0]):
        x, xt = _pair(torch, value)
        _same(x.logcumsumexp(0), xt.logcumsumexp(0))


# ---------------------------------------------------------------------------------------
# cummax / cummin
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["cummax", "cummin"])
@pytest.mark.parametrize("value", [
    [1.0, 3.0, 2.0, 3.0, 0.0, 5.0, 5.0],
    [1.0, 3.0, NAN, 5.0, NAN, 0.0],
    [2.0, 2.0, 2.0],
    [0.0, -0.0, 0.0],
])
def test_cummax_cummin_values_indices_and_gradients_match_pytorch(torch, op, value):
    x, xt = _pair(torch, value)
    r, rt = getattr(x, op)(0), getattr(xt, op)(0)
    _same(r.values, rt.values)
    np.testing.assert_array_equal(np.signbit(r.values._data), np.signbit(rt.values.detach()))
    _same(r.indices, rt.indices)
    assert not r.indices.requires_grad
    g = np.arange(1.0, len(value) + 1)
    r.values.backward(tl.tensor(g))
    rt.values.backward(torch.tensor(g))
    np.testing.assert_array_equal(x.grad._data, xt.grad.numpy())


def test_cummax_of_2d_negative_dim_int_and_bool(torch):
    value = [[1, 5, 2, 5], [7, 0, 7, 9]]
    for dtype in ("int64", "bool"):
        x, xt = _pair(torch, value, dtype)
        for op in ("cummax", "cummin"):
            r, rt = getattr(x, op)(-1), getattr(xt, op)(-1)
            _same(r.values, rt.values)
            _same(r.indices, rt.indices)
    x, xt = _pair(torch, 3.0)
    _same(x.cummax(0).values, xt.cummax(0).values)
    _same(x.cummax(0).indices, xt.cummax(0).indices)


# ---------------------------------------------------------------------------------------
# norm
# ---------------------------------------------------------------------------------------
NORM_X = [[1.0, -2.0, 0.0], [3.0, 0.5, -0.25]]


@pytest.mark.parametrize("p", ["fro", 2, 1, INF, -INF, 0.5, 3, 1.5, -1.0, 4])
@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1), -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_norm_values_and_gradients_match_pytorch(torch, p, dim, keepdim):
    value = [[1.0, -2.0, 0.7], [3.0, 0.5, -0.25]]
    _check(torch, lambda x: x.norm(p, dim, keepdim), lambda x: x.norm(p, dim, keepdim), value,
           second=p not in (INF, -INF))


@pytest.mark.parametrize("p", [2, "fro", 1, INF, 3, 1.5])
def test_norm_gradient_at_the_zero_vector_matches_pytorch(torch, p):
    x, xt = _pair(torch, [[0.0, 0.0, 0.0], [1.0, 0.0, -2.0]])
    tl.norm(x, p, 1).sum().backward()
    torch.norm(xt, p, 1).sum().backward()
    np.testing.assert_allclose(x.grad._data, xt.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert not np.isnan(x.grad._data).any()


@pytest.mark.parametrize("p", [3, 4, 2.5])
def test_norm_second_gradient_at_the_zero_vector_matches_pytorch(torch, p):
    value = [[0.0, 0.0, 0.0], [1.0, 0.0, -2.0]]
    _check(torch, lambda x: x.norm(p, 1), lambda x: x.norm(p, 1), value)
    _check(torch, lambda x: x.norm(p, (0, -1), True), lambda x: x.norm(p, (0, -1), True), value)


def test_norm_p2_gradient_is_zero_at_zero():
    x = tl.zeros(3, dtype=tl.float64, requires_grad=True)
    x.norm().backward()
    np.testing.assert_array_equal(x.grad._data, [0.0, 0.0, 0.0])


def test_norm_with_zeros_in_the_input(torch):
    for p in [2, 1, INF, -INF, 0, 0.5, 3, -1.0]:
        x, xt = _pair(torch, NORM_X)
        _same(tl.norm(x, p), torch.norm(xt, p))
        _same(tl.norm(x, p, 1), torch.norm(xt, p, 1))


def test_norm_p0_counts_and_has_no_gradient(torch):
    x, xt = _pair(torch, NORM_X)
    _same(x.norm(0), xt.norm(0))
    (x.norm(0) + x.sum()).backward()
    (xt.norm(0) + xt.sum()).backward()
    np.testing.assert_array_equal(x.grad._data, xt.grad.numpy())


def test_norm_of_empty_0d_and_dtype(torch):
    x, xt = _pair(torch, np.zeros((0, 3)))
    for p in (2, 1, 0):
        _same(x.norm(p), xt.norm(p))
    _same(x.norm(INF, 1), xt.norm(INF, 1))
    with pytest.raises(RuntimeError, match="norm"):
        x.norm(INF)
    with pytest.raises(RuntimeError, match="norm"):
        x.norm(-1.0, 0)
    _check(torch, lambda x: x.norm(), lambda x: x.norm(), -2.5)
    x, xt = _pair(torch, NORM_X, "float32")
    _same(tl.norm(x, dtype=tl.float64), torch.norm(xt, dtype=torch.float64))
    assert tl.norm(x).dtype == tl.float32


def test_norm_bad_arguments_are_refused():
    x = tl.ones(2, 3, dtype=tl.float64)
    with pytest.raises(TypeError, match="norm"):
        tl.norm(tl.tensor([1, 2]))
    with pytest.raises(NotImplementedError, match="nuc"):
        x.norm("nuc")
    with pytest.raises(ValueError, match="norm"):
        x.norm("abc")
    with pytest.raises(ValueError, match="norm"):
        tl.ones(2, 2, 2).norm("fro", (0, 1, 2))
    with pytest.raises(TypeError, match="norm"):
        x.norm([2])
    with pytest.raises(TypeError, match="norm"):
        x.norm(dtype=tl.float32)  # narrowing, as PyTorch refuses
    with pytest.raises(ValueError, match="norm"):
        x.norm(2, (0, 0))
    with pytest.raises(IndexError, match="norm"):
        x.norm(2, 2)


# ---------------------------------------------------------------------------------------
# sort / argsort / msort
# ---------------------------------------------------------------------------------------
TIES = [3.0, 1.0, 3.0, NAN, 1.0, 2.0, 3.0, -0.0, 0.0, NAN]


@pytest.mark.parametrize("descending", [False, True])
def test_sort_ties_and_nan_in_pytorchs_stable_order(torch, descending):
    x, xt = _pair(torch, TIES)
    r = x.sort(descending=descending)
    rt = xt.sort(descending=descending, stable=True)
    _same(r.values, rt.values)
    _same(r.indices, rt.indices)
    _same(tl.argsort(x, descending=descending), torch.argsort(xt, descending=descending,
                                                              stable=True))
    g = np.arange(1.0, len(TIES) + 1)
    r.values.backward(tl.tensor(g))
    rt.values.backward(torch.tensor(g))
    np.testing.assert_array_equal(x.grad._data, xt.grad.numpy())


@pytest.mark.parametrize("dim", [0, 1, -1, -2])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_2d_with_ties_along_each_dim(torch, dim, descending):
    value = [[2.0, 1.0, 2.0, 0.0], [1.0, 1.0, 3.0, 1.0], [2.0, 0.0, 2.0, 5.0]]
    x, xt = _pair(torch, value)
    r = tl.sort(x, dim, descending, stable=True)
    rt = torch.sort(xt, dim=dim, descending=descending, stable=True)
    _same(r.values, rt.values)
    _same(r.indices, rt.indices)
    _check(torch, lambda x: x.sort(dim, descending).values,
           lambda x: x.sort(dim=dim, descending=descending, stable=True).values, value)
    _same(x.argsort(dim, descending), xt.argsort(dim=dim, descending=descending, stable=True))


def test_sort_returns_a_named_tuple_like_pytorch():
    x = tl.tensor([3.0, 1.0, 2.0])
    values, indices = x.sort()
    r = x.sort()
    assert r.values is r[0] and r.indices is r[1]
    np.testing.assert_array_equal(values._data, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(indices._data, [1, 2, 0])
    assert indices.dtype == tl.int64 and not indices.requires_grad
    assert len(r) == 2 and r._fields == ("values", "indices")


def test_sort_of_0d_empty_int_and_bool(torch):
    for value, dtype in [(2.0, "float64"), (np.zeros((0, 3)), "float64"),
                         ([3, 1, 2, 1], "int64"), ([True, False, True], "bool")]:
        x, xt = _pair(torch, value, dtype)
        for dim in ((0, -1) if x.ndim < 2 else (0, 1)):
            r, rt = x.sort(dim), xt.sort(dim=dim, stable=True)
            _same(r.values, rt.values)
            _same(r.indices, rt.indices)
            r, rt = x.sort(dim, True), xt.sort(dim=dim, descending=True, stable=True)
            _same(r.values, rt.values)
            _same(r.indices, rt.indices)
    x = tl.tensor(2.0, requires_grad=True)
    v = x.sort().values
    assert v is not x
    v.backward()
    assert x.grad.item() == 1.0


def test_sort_bad_arguments_are_refused():
    x = tl.ones(2, 3)
    with pytest.raises(IndexError, match="sort"):
        x.sort(2)
    with pytest.raises(TypeError, match="sort"):
        x.sort(0, "yes")
    with pytest.raises(TypeError, match="argsort"):
        x.argsort(1.0)


def test_msort(torch):
    x, xt = _pair(torch, [[3.0, 1.0], [2.0, 0.0], [5.0, -1.0]])
    _same(tl.msort(x), torch.msort(xt))
    _same(x.msort(), xt.msort())
    x, xt = _pair(torch, 3.0)
    _same(tl.msort(x), torch.msort(xt))


# ---------------------------------------------------------------------------------------
# topk / kthvalue / median
# ---------------------------------------------------------------------------------------
DISTINCT = [[0.3, -1.2, 2.5, 0.9, -0.4], [1.1, 0.2, -2.0, 3.3, 0.7]]


@pytest.mark.parametrize("k", [0, 1, 3, 5])
@pytest.mark.parametrize("largest", [True, False])
def test_topk_values_indices_and_gradient(torch, k, largest):
    x, xt = _pair(torch, DISTINCT)
    r, rt = x.topk(k, largest=largest), xt.topk(k, largest=largest)
    _same(r.values, rt.values)
    _same(r.indices, rt.indices)
    r, rt = tl.topk(x, min(k, 2), 0, largest), torch.topk(xt, min(k, 2), 0, largest)
    _same(r.values, rt.values)
    _same(r.indices, rt.indices)
    if k:
        _check(torch, lambda x: x.topk(k, -1, largest).values,
               lambda x: x.topk(k, -1, largest).values, DISTINCT)


def test_topk_treats_nan_as_largest(torch):
    x, xt = _pair(torch, [1.0, NAN, 3.0, -1.0])
    for largest in (True, False):
        r, rt = x.topk(2, largest=largest), xt.topk(2, largest=largest)
        _same(r.values, rt.values)
        _same(r.indices, rt.indices)


def test_topk_bad_k_and_0d(torch):
    x = tl.ones(2, 3)
    for k in (4, -1):
        with pytest.raises(RuntimeError, match="topk: k"):
            x.topk(k)
    with pytest.raises(TypeError, match="topk"):
        x.topk(1.5)
    with pytest.raises(IndexError, match="topk"):
        x.topk(1, 2)
    x, xt = _pair(torch, 2.0)
    for k in (0, 1):
        r, rt = x.topk(k), xt.topk(k)
        _same(r.values, rt.values)
        _same(r.indices, rt.indices)
    with pytest.raises(RuntimeError, match="topk"):
        x.topk(2)


@pytest.mark.parametrize("k", [1, 2, 5])
@pytest.mark.parametrize("keepdim", [False, True])
def test_kthvalue_values_indices_and_gradient(torch, k, keepdim):
    x, xt = _pair(torch, DISTINCT)
    r, rt = x.kthvalue(k, keepdim=keepdim), xt.kthvalue(k, keepdim=keepdim)
    _same(r.values, rt.values)
    _same(r.indices, rt.indices)
    r, rt = tl.kthvalue(x, min(k, 2), 0, keepdim), torch.kthvalue(xt, min(k, 2), 0, keepdim)
    _same(r.values, rt.values)
    _same(r.indices, rt.indices)
    _check(torch, lambda x: x.kthvalue(k, 1, keepdim).values,
           lambda x: x.kthvalue(k, 1, keepdim).values, DISTINCT)


def test_kthvalue_nan_and_bad_k(torch):
    x, xt = _pair(torch, [1.0, NAN, 3.0, -1.0])
    for k in (1, 3, 4):
        _same(x.kthvalue(k).values, xt.kthvalue(k).values)
        _same(x.kthvalue(k).indices, xt.kthvalue(k).indices)
    for k in (0, 5):
        with pytest.raises(RuntimeError, match="kthvalue: k"):
            x.kthvalue(k)
    with pytest.raises(RuntimeError, match="kthvalue"):
        tl.zeros(0).kthvalue(1)
    x, xt = _pair(torch, np.zeros((3, 0)))
    _same(x.kthvalue(1, 0).values, xt.kthvalue(1, 0).values)
    x, xt = _pair(torch, 2.0)
    _same(x.kthvalue(1).values, xt.kthvalue(1).values)


@pytest.mark.parametrize("value", [
    [3.0, 1.0, 2.0, 4.0],                 # even count: the lower of the two middle values
    [3.0, 1.0, 2.0],
    [2.0, 1.0, 2.0, 2.0, 5.0],            # ties: the gradient is shared among them
    [[1.0, 2.0], [2.0, 0.0]],
    [1.0, NAN, 3.0],
    [NAN, 1.0, NAN],
    7.0,
])
def test_median_of_all_elements_and_its_gradient(torch, value):
    x, xt = _pair(torch, value)
    m, mt = x.median(), xt.median()
    _same(m, mt)
    m.backward()
    mt.backward()
    np.testing.assert_array_equal(x.grad._data, xt.grad.numpy())


def test_median_of_empty_is_nan(torch):
    x, xt = _pair(torch, np.zeros(0))
    _same(tl.median(x), torch.median(xt))


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_median_along_a_dim(torch, dim, keepdim):
    x, xt = _pair(torch, DISTINCT)
    r, rt = x.median(dim, keepdim), xt.median(dim, keepdim)
    _same(r.values, rt.values)
    _same(r.indices, rt.indices)
    _check(torch, lambda x: x.median(dim, keepdim).values,
           lambda x: x.median(dim, keepdim).values, DISTINCT)


def test_median_along_a_dim_with_nan_and_edge_shapes(torch):
    x, xt = _pair(torch, [[1.0, NAN, NAN, 0.0], [2.0, 1.0, 3.0, 0.5]])
    r, rt = x.median(1), xt.median(1)
    _same(r.values, rt.values)
    _same(r.indices, rt.indices)
    x, xt = _pair(torch, np.zeros((0, 3)))
    _same(x.median(1).values, xt.median(1).values)
    with pytest.raises(RuntimeError, match="median"):
        x.median(0)
    x, xt = _pair(torch, 2.0)
    _same(x.median(0).values, xt.median(0).values)
    _same(x.median(0).indices, xt.median(0).indices)
    x, xt = _pair(torch, [5, 1, 3, 2], "int64")
    _same(x.median(), xt.median())
    _same(x.median(0).values, xt.median(0).values)
    with pytest.raises(TypeError, match="median"):
        tl.tensor([True, False]).median()


# ---------------------------------------------------------------------------------------
# aminmax / count_nonzero
# ---------------------------------------------------------------------------------------
def test_aminmax_values_and_tied_gradients(torch):
    value = [[1.0, 3.0, 0.0], [0.0, 3.0, 2.0]]
    for kw in ({}, {"dim": 1}, {"dim": -2, "keepdim": True}, {"keepdim": True}):
        x, xt = _pair(torch, value)
        r, rt = x.aminmax(**kw), xt.aminmax(**kw)
        _same(r.min, rt.min)
        _same(r.max, rt.max)
        (r.min.sum() + 2 * r.max.sum()).backward()
        (rt.min.sum() + 2 * rt.max.sum()).backward()
        np.testing.assert_array_equal(x.grad._data, xt.grad.numpy())
        lo, hi = tl.aminmax(x, **kw)
        assert lo is not None and hi is not None


def test_aminmax_edge_cases(torch):
    for value, dtype in [([True, False], "bool"), (2.0, "float64"), ([1.0, NAN], "float64"),
                         ([[4, 2], [7, 9]], "int64")]:
        x, xt = _pair(torch, value, dtype)
        r, rt = tl.aminmax(x), torch.aminmax(xt)
        _same(r.min, rt.min)
        _same(r.max, rt.max)
    x, xt = _pair(torch, np.zeros((0, 3)))
    _same(x.aminmax(dim=1).min, xt.aminmax(dim=1).min)
    with pytest.raises(RuntimeError, match="aminmax"):
        x.aminmax()
    with pytest.raises(RuntimeError, match="aminmax"):
        x.aminmax(dim=0)
    with pytest.raises(TypeError):
        x.aminmax(1)  # dim is keyword-only, as in PyTorch


def test_count_nonzero(torch):
    x, xt = _pair(torch, [[0.0, 1.0, NAN], [2.0, 0.0, -0.0]])
    for dim in (None, 0, 1, -1, (0, 1), [0], ()):
        kw = {} if dim is None else {"dim": dim}
        _same(tl.count_nonzero(x, **kw), torch.count_nonzero(xt, **kw))
    _same(x.count_nonzero(0), xt.count_nonzero(0))
    x, xt = _pair(torch, 3.0)
    _same(x.count_nonzero(), xt.count_nonzero())
    _same(x.count_nonzero(0), xt.count_nonzero(0))
    x, xt = _pair(torch, np.zeros((0, 2)))
    _same(x.count_nonzero(0), xt.count_nonzero(0))
    with pytest.raises(ValueError, match="count_nonzero"):
        tl.count_nonzero(tl.ones(2, 2), (0, 0))
    with pytest.raises(IndexError, match="count_nonzero"):
        tl.count_nonzero(tl.ones(2, 2), 2)


# ---------------------------------------------------------------------------------------
# nonzero / unique / masked_select
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [[[0.0, 1.0], [2.0, 0.0]], [NAN, 0.0, -0.0, 3.0], 3.0, 0.0,
                                   np.zeros((0, 3)), [[[1, 0], [0, 1]]]])
def test_nonzero(torch, value):
    x, xt = _pair(torch, value, requires_grad=False)
    _same(tl.nonzero(x), torch.nonzero(xt))
    ours, theirs = x.nonzero(as_tuple=True), xt.nonzero(as_tuple=True)
    assert isinstance(ours, tuple) and len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        _same(o, t)


@pytest.mark.parametrize("value,dtype", [
    ([3.0, 1.0, NAN, 3.0, NAN, 2.0, -0.0, 0.0], "float64"),
    ([[3, 1], [3, 2], [0, 1]], "int64"),
    ([True, False, True], "bool"),
    (4.0, "float64"),
    (np.zeros(0), "float64"),
])
def test_unique_flat(torch, value, dtype):
    x, xt = _pair(torch, value, dtype, requires_grad=False)
    _same(tl.unique(x), torch.unique(xt))
    ours = x.unique(True, True, True)
    theirs = torch.unique(xt, True, True, True)
    for o, t in zip(ours, theirs):
        _same(o, t)
    _same(x.unique(return_counts=True)[1], xt.unique(return_counts=True)[1])


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_unique_along_a_dim(torch, dim):
    x, xt = _pair(torch, [[1, 2, 1], [1, 2, 1], [0, 5, 0], [1, 2, 1]], "int64")
    ours = tl.unique(x, return_inverse=True, return_counts=True, dim=dim)
    theirs = torch.unique(xt, return_inverse=True, return_counts=True, dim=dim)
    for o, t in zip(ours, theirs):
        _same(o, t)
    # (NaN rows are left out: PyTorch orders them by a comparison that NaN breaks.)
    x, xt = _pair(torch, [[0.0, 1.0], [-0.0, 1.0], [2.0, -1.0], [0.0, 1.0]], requires_grad=False)
    ours = tl.unique(x, return_counts=True, dim=0)
    theirs = torch.unique(xt, return_counts=True, dim=0)
    for o, t in zip(ours, theirs):
        _same(o, t)


def test_unique_edge_cases(torch):
    x, xt = _pair(torch, np.zeros((0, 3)), requires_grad=False)
    ours = tl.unique(x, return_inverse=True, return_counts=True, dim=0)
    theirs = torch.unique(xt, return_inverse=True, return_counts=True, dim=0)
    for o, t in zip(ours, theirs):
        _same(o, t)
    with pytest.raises(RuntimeError, match="unique"):
        tl.unique(x, dim=1)
    with pytest.raises(IndexError, match="unique"):
        tl.unique(tl.ones(2, 2), dim=2)


def test_masked_select_broadcasting_and_gradient(torch):
    x, xt = _pair(torch, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    for mask in ([True, False, True], [[True], [False]], [[[True, False, True]], [[False] * 3]],
                 True, [[False] * 3] * 2):
        m = np.asarray(mask)
        x.grad = None
        xt.grad = None
        out, out_t = x.masked_select(tl.tensor(m)), xt.masked_select(torch.tensor(m))
        _same(out, out_t)
        g = np.arange(1.0, out.shape[0] + 1)
        out.backward(tl.tensor(g))
        out_t.backward(torch.tensor(g))
        np.testing.assert_array_equal(x.grad._data, xt.grad.numpy())
    x, xt = _pair(torch, 2.0)
    _same(tl.masked_select(x, tl.tensor(True)), torch.masked_select(xt, torch.tensor(True)))


def test_masked_select_bad_masks_are_refused():
    x = tl.ones(2, 3)
    with pytest.raises(TypeError, match="masked_select"):
        x.masked_select(tl.tensor([1, 0, 1]))
    with pytest.raises(TypeError, match="masked_select"):
        x.masked_select([True, False, True])
    with pytest.raises(ValueError, match="masked_select"):
        x.masked_select(tl.tensor([True, False]))


def test_errors_leave_inputs_untouched():
    x = tl.tensor([[3.0, 1.0], [2.0, 0.0]], requires_grad=True)
    before = x._data.copy()
    for bad in (lambda: x.topk(3), lambda: x.kthvalue(0), lambda: x.sort(5),
                lambda: x.cumsum(3), lambda: x.norm("abc"), lambda: x.prod(4)):
        with pytest.raises((RuntimeError, IndexError, ValueError, TypeError)):
            bad()
    np.testing.assert_array_equal(x._data, before)
    assert x.grad is None and x._version[0] == 0


# ---------------------------------------------------------------------------------------
# Hostile arguments: each refused with the op's name (as PyTorch refuses them), or, where
# PyTorch accepts them, the same result.
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["prod", "norm", "count_nonzero", "aminmax", "msort"])
@pytest.mark.parametrize("bad", [None, [1.0, 2.0], np.ones(2), 3.0])
def test_reductions_refuse_a_non_tensor_input_by_name(torch, name, bad):
    with pytest.raises((TypeError, AttributeError)):  # torch.norm: AttributeError
        getattr(torch, name)(bad)
    with pytest.raises(TypeError, match=name):
        getattr(tl, name)(bad)


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.prod(x, 0, None),
    lambda lib, x: lib.norm(x, 2, 0, "yes"),
    lambda lib, x: lib.aminmax(x, dim=0, keepdim="yes"),
    lambda lib, x: lib.kthvalue(x, 1, 0, None),
    lambda lib, x: lib.kthvalue(x, 1, 0, 1),
    lambda lib, x: lib.median(x, 0, None),
    lambda lib, x: lib.median(x, 0, 1),
])
def test_keepdim_must_be_a_bool(torch, call):
    x, xt = _pair(torch, [[3.0, 1.0], [2.0, 0.0]])
    with pytest.raises(TypeError):
        call(torch, xt)
    with pytest.raises(TypeError, match="keepdim"):
        call(tl, x)


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.unique(x, sorted="x"),
    lambda lib, x: lib.unique(x, return_inverse=None),
    lambda lib, x: lib.unique(x, return_counts=1),
    lambda lib, x: lib.nonzero(x, as_tuple=None),
])
def test_flag_arguments_must_be_bools(torch, call):
    x, xt = _pair(torch, [3, 1, 3, 0], "int64")
    with pytest.raises(TypeError):
        call(torch, xt)
    with pytest.raises(TypeError, match="unique|nonzero"):
        call(tl, x)


@pytest.mark.parametrize("dim", [1, -2, 1.0, True, (0,), "a"])
def test_aminmax_checks_dim_on_a_0d_tensor(torch, dim):
    x, xt = _pair(torch, 2.5)
    with pytest.raises((IndexError, TypeError)):
        torch.aminmax(xt, dim=dim)
    with pytest.raises((IndexError, TypeError), match="aminmax"):
        tl.aminmax(x, dim=dim)
    # 0 and -1 are the 0-d tensor's one dim
    _same(tl.aminmax(x, dim=-1).max, torch.aminmax(xt, dim=-1).max)


@pytest.mark.parametrize("p", ["fro", "nuc"])
def test_norm_matrix_p_with_a_float_dim_is_refused_by_name(p):
    with pytest.raises(TypeError, match="norm"):
        tl.norm(tl.ones(2, 3), p, 1.0)


def test_sort_stable_none_and_topk_tensor_k_as_pytorch(torch):
    x, xt = _pair(torch, [[3.0, 1.0, 3.0], [2.0, 0.0, -1.0]])
    for ours, theirs in zip(tl.sort(x, stable=None), torch.sort(xt, stable=None)):
        _same(ours, theirs)
    with pytest.raises(TypeError):  # argsort's stable is a plain bool in PyTorch
        torch.argsort(xt, stable=None)
    with pytest.raises(TypeError, match="argsort"):
        tl.argsort(x, stable=None)
    for ours, theirs in zip(tl.topk(x, tl.tensor(2)), torch.topk(xt, torch.tensor(2))):
        _same(ours, theirs)
    for ours, theirs in zip(tl.kthvalue(x, tl.tensor(2)), torch.kthvalue(xt, torch.tensor(2))):
        _same(ours, theirs)
    with pytest.raises(TypeError, match="topk"):
        tl.topk(x, tl.tensor(2.0))
