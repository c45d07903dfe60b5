"""Edge cases of the elementwise, comparison and reduction ops, compared with PyTorch
(float64) where it applies: zero std, 0 ** 0, NaN, 0-d tensors, empty reductions,
dtype promotion of 0-d tensors and Python numbers, integer operators, clear errors."""
import warnings

import numpy as np
import pytest

import tensorlite as tl
from tensorlite.ops import compare
from tensorlite.testing import gradgradcheck

NAN = float("nan")


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _grads(lib, fn, *values, dtype=None):
    """Output and gradients of fn(*inputs).sum() for float64 inputs, in tensorlite or torch."""
    if lib is tl:
        xs = [tl.tensor(v, dtype=tl.float64, requires_grad=True) for v in values]
    else:
        xs = [lib.tensor(v, dtype=lib.float64, requires_grad=True) for v in values]
    out = fn(*xs)
    out.sum().backward()
    data = out._data if lib is tl else out.detach().numpy()
    return np.asarray(data), [np.asarray(x.grad._data if lib is tl else x.grad.numpy())
                              for x in xs]


def _assert_same(torch, fn_ours, fn_torch, *values):
    out, grads = _grads(tl, fn_ours, *values)
    out_t, grads_t = _grads(torch, fn_torch, *values)
    np.testing.assert_allclose(out, out_t, rtol=1e-12, atol=1e-12)
    for g, gt in zip(grads, grads_t):
        np.testing.assert_allclose(g, gt, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------------------
# 1. std/var of a constant slice
# ---------------------------------------------------------------------------------------
ROWS = [[1.0, 1.0, 1.0], [1.0, 2.0, 3.0]]


@pytest.mark.parametrize("op", ["std", "var"])
def test_std_and_var_gradient_is_zero_on_a_constant_row(torch, op):
    _assert_same(torch, lambda a: getattr(a, op)(1), lambda a: getattr(a, op)(1), ROWS)
    _, (g,) = _grads(tl, lambda a: getattr(a, op)(1), ROWS)
    np.testing.assert_array_equal(g[0], [0.0, 0.0, 0.0])


def test_std_of_a_constant_tensor_has_zero_gradient_without_dim(torch):
    _assert_same(torch, lambda a: a.std(), lambda a: a.std(), [2.0, 2.0, 2.0])


def test_std_second_gradient_on_a_constant_row_matches_pytorch(torch):
    a = tl.tensor(ROWS, dtype=tl.float64, requires_grad=True)
    (g,) = tl.autograd.grad(a.std(1).sum(), [a], create_graph=True)
    (gg,) = tl.autograd.grad(g.sum(), [a])
    at = torch.tensor(ROWS, dtype=torch.float64, requires_grad=True)
    (gt,) = torch.autograd.grad(at.std(1).sum(), at, create_graph=True)
    (ggt,) = torch.autograd.grad(gt.sum(), at)
    np.testing.assert_allclose(gg._data, ggt.numpy(), atol=1e-12)
    assert np.isfinite(gg._data).all()


def test_std_gradgradcheck_passes_away_from_zero():
    a = tl.tensor([[0.3, -1.2, 2.0], [1.0, 1.5, -0.5]], dtype=tl.float64, requires_grad=True)
    assert gradgradcheck(lambda x: x.std(1), [a])


# ---------------------------------------------------------------------------------------
# 2. pow at base 0
# ---------------------------------------------------------------------------------------
def test_pow_with_exponent_zero_has_zero_gradient_at_zero(torch):
    _assert_same(torch, lambda x: x ** 0, lambda x: x ** 0, [0.0, 2.0, -1.0])


def test_pow_with_tensor_exponents_at_zero_matches_pytorch(torch):
    # x ** arange(4) at x = 0: 0^0 = 1 with gradient 0, 0^1 with gradient 1, then 0.
    x = tl.zeros(4, dtype=tl.float64, requires_grad=True)
    (x ** tl.arange(4)).sum().backward()
    xt = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    (xt ** torch.arange(4)).sum().backward()
    np.testing.assert_array_equal(x.grad._data, xt.grad.numpy())
    np.testing.assert_array_equal(x.grad._data, [0.0, 1.0, 0.0, 0.0])


BASES = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2.0, -1.0, -1.0]
EXPONENTS = [0.0, 1.0, 2.0, 0.5, -1.0, -0.5, 0.0, -0.5, 2.0, 0.5]


def test_pow_gradients_for_base_and_exponent_match_pytorch(torch):
    # d/db a^b = a^b log a is 0 where a == 0 and b >= 0, -inf where a == 0 and b < 0.
    _assert_same(torch, lambda a, b: a ** b, lambda a, b: a ** b, BASES, EXPONENTS)


def test_pow_at_zero_gives_no_numpy_warning():
    x = tl.tensor([0.0, -1.0], dtype=tl.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = x ** tl.tensor([-1.0, 0.5], dtype=tl.float64)
        y.sum().backward()
    assert y._data[0] == np.inf and np.isnan(y._data[1])


def test_pow_second_gradient_is_finite_at_zero():
    a = tl.tensor([0.0, 0.0, 2.0], dtype=tl.float64, requires_grad=True)
    b = tl.tensor([0.0, 1.0, 0.0], dtype=tl.float64, requires_grad=True)
    ga, gb = tl.autograd.grad((a ** b).sum(), [a, b], create_graph=True)
    gga, ggb = tl.autograd.grad((ga + gb).sum(), [a, b])
    # At (a, b) = (2, 0): d/da (b a^(b-1) + a^b log a) = a^(b-1) = 0.5 and
    # d/db (b a^(b-1) + a^b log a) = a^(b-1) + a^b log(a)^2; at a = 0 the masked
    # branches contribute 0.
    np.testing.assert_allclose(gga._data, [0.0, 0.0, 0.5], rtol=1e-12)
    np.testing.assert_allclose(ggb._data, [0.0, 1.0, 0.5 + np.log(2.0) ** 2], rtol=1e-12)


# ---------------------------------------------------------------------------------------
# 3. 0-d results hold arrays
# ---------------------------------------------------------------------------------------
ZERO_D_OPS = {
    "eq": lambda x: x == 2, "ne": lambda x: x != 2, "lt": lambda x: x < 2,
    "le": lambda x: x <= 2, "gt": lambda x: x > 2, "ge": lambda x: x >= 2,
    "logical_not": lambda x: tl.ops.logical_not(x), "logical_and": lambda x: tl.ops.logical_and(
        x, x), "logical_or": lambda x: tl.ops.logical_or(x, x), "isnan": lambda x: x.isnan(),
    "isfinite": lambda x: x.isfinite(), "any": lambda x: x.any(), "all": lambda x: x.all(),
    "sign": lambda x: x.sign(), "abs": lambda x: x.abs(), "relu": lambda x: x.relu(),
    "clamp": lambda x: x.clamp(0, 1), "max": lambda x: x.max(), "sum": lambda x: x.sum(),
    "std": lambda x: tl.tensor([1.0, 2.0]).std(), "where": lambda x: tl.where(x > 0, x, 1.0),
    "bitwise_not": lambda x: compare.bitwise_not(x.long()),
    "bitwise_and": lambda x: compare.bitwise_and(x.long(), 3),
}


@pytest.mark.parametrize("name", ZERO_D_OPS)
def test_ops_on_0d_tensors_hold_an_ndarray(name):
    out = ZERO_D_OPS[name](tl.tensor(2.0))
    assert type(out._data) is np.ndarray and out.shape == ()


def test_0d_comparison_result_can_be_filled_and_used_as_a_mask():
    m = tl.tensor(1.5) > 0
    assert m.fill_(False).item() is False
    assert tl.ones(3)[tl.tensor(1.5) > 0].shape == (1, 3)
    assert tl.tensor(-2.0).sign().mul_(2).item() == -2.0


def test_max_over_dim_0_of_a_0d_tensor_is_a_new_tensor(torch):
    x = tl.tensor(5.0, dtype=tl.float64, requires_grad=True)
    values, indices = x.max(0)
    assert values is not x and values.item() == 5.0 and indices.item() == 0
    values.backward()
    assert x.grad.item() == 1.0


@pytest.mark.parametrize("values, dtype", [([-3, 0, 4], "int64"), ([True, False], "bool")])
def test_sign_keeps_integer_and_bool_dtypes_as_pytorch(torch, values, dtype):
    got, want = tl.tensor(values).sign(), torch.tensor(values).sign()
    assert got.tolist() == want.tolist() and str(got.dtype) == _dtype_name(want.dtype) == dtype


def test_sign_is_differentiable_with_zero_gradient(torch):
    _assert_same(torch, lambda x: x.sign() * x, lambda x: x.sign() * x, [-2.0, 0.0, 3.0])


@pytest.mark.parametrize("op", ["var", "std"])
def test_var_and_std_refuse_integer_input_naming_the_op(op):
    with pytest.raises(TypeError, match=f"{op}: input must be a floating-point tensor"):
        getattr(tl.tensor([1, 2, 3]), op)()


def test_0d_full_reductions_of_bools_hold_an_ndarray():
    m = tl.tensor([True, False])
    assert type(m.any()._data) is np.ndarray and m.any().item() is True
    assert type(m.all()._data) is np.ndarray and m.all().item() is False


# ---------------------------------------------------------------------------------------
# 4. ~ & | ^ on integers are bitwise; floats are refused
# ---------------------------------------------------------------------------------------
def test_bitwise_functions_on_integers_match_pytorch(torch):
    a, b = [5, 6, -3, 0], [3, 3, 12, 7]
    ta, tb = torch.tensor(a), torch.tensor(b)
    ia, ib = tl.tensor(a), tl.tensor(b)
    np.testing.assert_array_equal(compare.bitwise_not(ia)._data, (~ta).numpy())
    np.testing.assert_array_equal(compare.bitwise_and(ia, ib)._data, (ta & tb).numpy())
    np.testing.assert_array_equal(compare.bitwise_or(ia, ib)._data, (ta | tb).numpy())
    np.testing.assert_array_equal(compare.bitwise_xor(ia, ib)._data, (ta ^ tb).numpy())
    assert compare.bitwise_and(ia, ib).dtype == tl.int64


def test_bitwise_functions_on_bools_are_logical():
    a, b = tl.tensor([True, True, False]), tl.tensor([True, False, False])
    assert compare.bitwise_not(a).tolist() == [False, False, True]
    assert compare.bitwise_and(a, b).tolist() == [True, False, False]
    assert compare.bitwise_or(a, b).tolist() == [True, True, False]
    assert compare.bitwise_xor(a, b).tolist() == [False, True, False]
    assert compare.bitwise_and(a, True).dtype == tl.bool_


def test_bitwise_functions_promote_bool_with_int_as_pytorch(torch):
    got = compare.bitwise_and(tl.tensor([True, False]), tl.tensor([3, 3], dtype=tl.int32))
    want = torch.tensor([True, False]) & torch.tensor([3, 3], dtype=torch.int32)
    assert got.tolist() == want.tolist() and str(got.dtype) == "int32"
    assert compare.bitwise_and(tl.tensor([3]), True).tolist() == [1]


@pytest.mark.parametrize("fn", [lambda: compare.bitwise_not(tl.tensor([1.5])),
                                lambda: compare.bitwise_and(tl.tensor([1.5]), tl.tensor([1])),
                                lambda: compare.bitwise_or(tl.tensor([1]), 1.5)])
def test_bitwise_functions_refuse_floats_naming_the_op(fn):
    with pytest.raises(TypeError, match="bitwise_(not|and|or): only integer and bool"):
        fn()


def test_logical_functions_stay_logical_on_integers(torch):
    a, b = [5, 0, 2], [3, 3, 0]
    assert tl.ops.logical_not(tl.tensor(a)).tolist() == torch.logical_not(
        torch.tensor(a)).tolist()
    assert tl.ops.logical_and(tl.tensor(a), tl.tensor(b)).tolist() == torch.logical_and(
        torch.tensor(a), torch.tensor(b)).tolist()
    assert tl.ops.logical_or(tl.tensor(a), tl.tensor(b)).tolist() == torch.logical_or(
        torch.tensor(a), torch.tensor(b)).tolist()


# These four need tensor.py's operators mapped to the bitwise_* functions.
def test_invert_operator_on_integers_is_bitwise():
    assert (~tl.tensor([5])).tolist() == [-6]
    assert (~tl.tensor([True, False])).tolist() == [False, True]


def test_and_or_xor_operators_on_integers_are_bitwise():
    assert (tl.tensor([6]) & tl.tensor([3])).tolist() == [2]
    assert (tl.tensor([6]) | 3).tolist() == [7]
    assert (tl.tensor([6]) ^ tl.tensor([3])).tolist() == [5]
    assert (3 & tl.tensor([6])).tolist() == [2]


def test_and_operator_on_bool_masks_stays_a_mask():
    x = tl.tensor([-1.0, 0.5, 2.0])
    m = (x > 0) & (x < 1)
    assert m.dtype == tl.bool_ and m.tolist() == [False, True, False]


def test_operators_refuse_float_tensors():
    with pytest.raises(TypeError, match="bitwise_not"):
        ~tl.tensor([1.5])
    with pytest.raises(TypeError, match="bitwise_and"):
        tl.tensor([1.5]) & tl.tensor([1.0])


# ---------------------------------------------------------------------------------------
# 5. dtype promotion: 0-d tensors and numbers rank below tensors with dims
# ---------------------------------------------------------------------------------------
def _dtype_name(d):
    return str(d).replace("torch.", "")


PROMOTIONS = [
    ("f32 * 0-d f64", lambda t: t.ones(3) * t.tensor(2.0, dtype=t.float64)),
    ("int * 0-d f64", lambda t: t.tensor([1, 2]) * t.tensor(2.0, dtype=t.float64)),
    ("int32 * 0-d int64", lambda t: t.tensor([1, 2], dtype=t.int32) * t.tensor(2)),
    ("bool * 0-d int32", lambda t: t.tensor([True]) * t.tensor(2, dtype=t.int32)),
    ("bool * 0-d f64", lambda t: t.tensor([True]) * t.tensor(2.0, dtype=t.float64)),
    ("0-d f64 * 0-d f32", lambda t: t.tensor(1.0, dtype=t.float64) * t.tensor(2.0)),
    ("0-d int * 2.5", lambda t: t.tensor(1) * 2.5),
    ("0-d f64 * 2.5", lambda t: t.tensor(1.0, dtype=t.float64) * 2.5),
    ("int32 * 2", lambda t: t.tensor([1, 2], dtype=t.int32) * 2),
    ("bool * 2", lambda t: t.tensor([True]) * 2),
    ("bool * 2.5", lambda t: t.tensor([True]) * 2.5),
    ("0-d f64 + f32 (reflected)", lambda t: t.tensor(2.0, dtype=t.float64) + t.ones(2)),
    ("int / 0-d f64", lambda t: t.tensor([1]) / t.tensor(2.0, dtype=t.float64)),
    ("maximum int, 0-d f64", lambda t: t.maximum(t.tensor([1]), t.tensor(1.5, dtype=t.float64))),
    ("pow f32 ** 0-d f64", lambda t: t.ones(2) ** t.tensor(2.0, dtype=t.float64)),
    ("where 1.0 / 0.0", lambda t: t.where(t.tensor([True, False]), 1.0, 0.0)),
    ("where 1 / 0", lambda t: t.where(t.tensor([True, False]), 1, 0)),
    ("where 1 / 0.5", lambda t: t.where(t.tensor([True, False]), 1, 0.5)),
    ("where True / 2", lambda t: t.where(t.tensor([True, False]), True, 2)),
    ("where f32 / 0-d f64", lambda t: t.where(t.tensor([True, False]), t.ones(2),
                                              t.tensor(3.0, dtype=t.float64))),
    ("where int / 1.5", lambda t: t.where(t.tensor([True, False]), t.tensor([1, 2]), 1.5)),
    ("clamp int to floats", lambda t: t.tensor([1, 2, 3]).clamp(0.5, 2.5)),
    ("clamp int to ints", lambda t: t.tensor([1, 2, 3]).clamp(0, 2)),
    ("clamp f64 to ints", lambda t: t.tensor([1.0, 3.0], dtype=t.float64).clamp(0, 2)),
    ("clamp int to 0-d f64", lambda t: t.tensor([1, 2, 3]).clamp(t.tensor(0.5, dtype=t.float64))),
    ("clamp f32 to 0-d f64", lambda t: t.tensor([1.0, 3.0]).clamp(max=t.tensor(
        2.0, dtype=t.float64))),
    ("f32 == 0-d f64", lambda t: t.tensor([0.1]) == t.tensor(0.1, dtype=t.float64)),
]


@pytest.mark.parametrize("expr", [p[1] for p in PROMOTIONS], ids=[p[0] for p in PROMOTIONS])
def test_dtype_promotion_matches_pytorch(torch, expr):
    got, want = expr(tl), expr(torch)
    assert _dtype_name(got.dtype) == _dtype_name(want.dtype)
    np.testing.assert_allclose(got._data, want.numpy())


def test_0d_float64_does_not_widen_a_float32_tensor_or_its_gradient():
    x = tl.ones(3, requires_grad=True)
    s = tl.tensor(2.0, dtype=tl.float64, requires_grad=True)
    y = x * s
    assert y.dtype == tl.float32
    y.sum().backward()
    assert x.grad.dtype == tl.float32 and s.grad.dtype == tl.float64
    assert s.grad.item() == 3.0


# ---------------------------------------------------------------------------------------
# 6. dim=() reduces every dim (PyTorch 2.x), except any/all
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["sum", "mean", "amax", "amin", "var", "std"])
@pytest.mark.parametrize("dim", [(), []])
@pytest.mark.parametrize("keepdim", [False, True])
def test_empty_dim_list_reduces_every_dim_as_pytorch(torch, op, dim, keepdim):
    a = np.array([[0.5, -1.0, 2.0], [3.0, 0.25, -2.0]])
    got = getattr(tl.tensor(a, dtype=tl.float64), op)(dim=dim, keepdim=keepdim)
    want = getattr(torch.tensor(a), op)(dim=dim, keepdim=keepdim)
    assert got.shape == tuple(want.shape)
    np.testing.assert_allclose(got._data, want.numpy(), rtol=1e-12)


@pytest.mark.parametrize("op", ["sum", "mean", "amax", "amin", "var", "std"])
def test_empty_dim_list_gradient_is_that_of_the_full_reduction(torch, op):
    # Compared with PyTorch's dim=None: its var/std backward with dim=[] gives inf (the
    # forward reduces every dim, the backward does not), which is not copied.
    _assert_same(torch, lambda a: getattr(a, op)(dim=[]), lambda a: getattr(a, op)(),
                 [[0.5, -1.0], [3.0, 0.25]])


def test_logsumexp_with_empty_dim_reduces_every_dim(torch):
    a = np.array([[0.5, -1.0, 2.0], [3.0, 0.25, -2.0]])
    got = tl.tensor(a, dtype=tl.float64).logsumexp(dim=(), keepdim=True)
    want = torch.tensor(a).logsumexp(dim=(), keepdim=True)  # keepdim=False fails in torch
    np.testing.assert_allclose(got._data, want.numpy(), rtol=1e-12)
    assert tl.tensor(a).logsumexp(dim=()).shape == ()


@pytest.mark.parametrize("op", ["any", "all"])
def test_any_and_all_with_empty_dim_list_are_identity_as_pytorch(torch, op):
    a = np.array([[True, False], [False, False]])
    got = getattr(tl.tensor(a), op)(dim=())
    want = getattr(torch.tensor(a), op)(dim=())
    assert got.tolist() == want.tolist()


# ---------------------------------------------------------------------------------------
# 7. empty inputs to max/min/argmax/argmin with a dim
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_and_min_over_a_nonempty_dim_of_an_empty_tensor_are_empty(torch, op, keepdim):
    got = getattr(tl.zeros(0, 3), op)(1, keepdim=keepdim)
    want = getattr(torch.zeros(0, 3), op)(1, keepdim=keepdim)
    assert got.values.shape == tuple(want.values.shape)
    assert got.indices.shape == tuple(want.indices.shape) and got.indices.dtype == tl.int64


@pytest.mark.parametrize("op", ["argmax", "argmin"])
def test_argmax_over_a_nonempty_dim_of_an_empty_tensor_is_empty(torch, op):
    got = getattr(tl.zeros(0, 3), op)(1)
    assert got.shape == tuple(getattr(torch.zeros(0, 3), op)(1).shape) == (0,)


def test_max_over_an_empty_tensor_backward_gives_an_empty_gradient():
    x = tl.zeros(0, 3, requires_grad=True)
    x.max(1).values.sum().backward()
    assert x.grad.shape == (0, 3)


@pytest.mark.parametrize("op", ["max", "min", "argmax", "argmin", "amax", "amin"])
def test_reducing_a_dim_of_size_zero_is_an_error_naming_the_op(op):
    with pytest.raises(RuntimeError, match=f"{op}: cannot reduce over dim 0 of size 0"):
        getattr(tl.zeros(0, 3), op)(0)


@pytest.mark.parametrize("op", ["max", "min", "argmax", "argmin"])
def test_reducing_an_empty_tensor_without_dim_is_an_error_naming_the_op(op):
    with pytest.raises(RuntimeError, match=f"{op}: cannot reduce an empty tensor"):
        getattr(tl.zeros(0, 3), op)()


# ---------------------------------------------------------------------------------------
# 8. NaN
# ---------------------------------------------------------------------------------------
NAN_CASES = {
    # max()/min() over everything route the gradient to the NaN elements
    "max all, two NaN": (lambda x: x.max(), [1.0, NAN, 3.0, NAN]),
    "min all, one NaN": (lambda x: x.min(), [1.0, NAN, 3.0]),
    # amax has no winner in a NaN slice: NaN gradient there, as PyTorch
    "amax dim": (lambda x: x.reshape(2, 2).amax(1), [1.0, NAN, 3.0, 2.0]),
    "max dim": (lambda x: x.reshape(2, 2).max(1).values, [NAN, 1.0, 3.0, 2.0]),
    "relu": (lambda x: x.relu(), [NAN, -1.0, 2.0, 0.0]),
    "abs": (lambda x: x.abs(), [NAN, 0.0, -1.0]),
    "sign": (lambda x: x.sign(), [NAN, 0.0, -1.0, 2.0]),
    "clamp": (lambda x: x.clamp(0.0, 1.0), [NAN, -1.0, 2.0, 0.5, 0.0, 1.0]),
}


@pytest.mark.parametrize("case", NAN_CASES)
def test_nan_values_and_gradients_match_pytorch(torch, case):
    fn, values = NAN_CASES[case]
    out, (g,) = _grads(tl, fn, values)
    out_t, (gt,) = _grads(torch, fn, values)
    np.testing.assert_array_equal(out, out_t)
    np.testing.assert_array_equal(g, gt)


@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_maximum_and_minimum_with_nan_give_both_inputs_the_gradient(torch, op):
    a, b = [NAN, 1.0, NAN, 2.0, 3.0], [1.0, NAN, NAN, 2.0, 1.0]
    _assert_same(torch, getattr(tl, op), getattr(torch, op), a, b)


def test_relu_with_nan_on_a_large_array_passes_the_gradient(torch):
    # A large contiguous input and gradient take the numba kernel path of relu's backward.
    values = np.tile([NAN, -1.0, 2.0, 0.0], 2048)
    seed = np.linspace(1.0, 2.0, values.size)
    x = tl.tensor(values, dtype=tl.float64, requires_grad=True)
    x.relu().backward(tl.tensor(seed, dtype=tl.float64))
    xt = torch.tensor(values, requires_grad=True)
    xt.relu().backward(torch.tensor(seed))
    np.testing.assert_array_equal(x.grad._data, xt.grad.numpy())


# ---------------------------------------------------------------------------------------
# 9. clamp with tensor bounds, and clear errors
# ---------------------------------------------------------------------------------------
def test_clamp_with_tensor_bounds_matches_pytorch_values_and_gradients(torch):
    x = [[-2.0, 0.0, 0.5, 3.0], [1.0, -1.0, 2.0, 0.25]]
    lo = [[-1.0], [0.5]]
    hi = [0.0, 1.0, 2.0, -5.0]  # the last column has min > max: the output is max
    _assert_same(torch, lambda a, b, c: a.clamp(b, c), lambda a, b, c: a.clamp(b, c), x, lo, hi)


def test_clamp_with_only_a_tensor_min_or_max_matches_pytorch(torch):
    x, b = [-2.0, 0.0, 0.5, 3.0], [0.0, 0.5, 0.0, 1.0]  # ties at x == bound
    _assert_same(torch, lambda a, c: a.clamp(min=c), lambda a, c: a.clamp(min=c), x, b)
    _assert_same(torch, lambda a, c: a.clamp(max=c), lambda a, c: a.clamp(max=c), x, b)


def test_clamp_with_tensor_bounds_broadcasts_the_input_up():
    x = tl.tensor(0.5, dtype=tl.float64, requires_grad=True)
    lo = tl.tensor([0.0, 1.0], dtype=tl.float64, requires_grad=True)
    y = tl.clamp(x, lo)
    y.sum().backward()
    assert y.tolist() == [0.5, 1.0] and x.grad.item() == 1.0 and lo.grad.tolist() == [0, 1]


def test_clamp_with_tensor_bounds_gradgradcheck():
    x = tl.tensor([[-2.0, 0.3, 3.0]], dtype=tl.float64, requires_grad=True)
    lo = tl.tensor([[-1.0], [0.5]], dtype=tl.float64, requires_grad=True)
    hi = tl.tensor(2.0, dtype=tl.float64, requires_grad=True)
    assert gradgradcheck(lambda a, b, c: (a.clamp(b, c) ** 2), [x, lo, hi])


@pytest.mark.parametrize("kwargs, match", [
    ({"min": "a"}, "clamp: min must be a number, a Tensor or None, got str"),
    ({"max": [1.0]}, "clamp: max must be a number, a Tensor or None, got list"),
])
def test_clamp_refuses_other_bounds_naming_clamp(kwargs, match):
    with pytest.raises(TypeError, match=match):
        tl.ones(2).clamp(**kwargs)


def test_clamp_refuses_bounds_of_shapes_that_do_not_broadcast():
    with pytest.raises(ValueError, match="clamp: shapes"):
        tl.ones(3).clamp(tl.zeros(2))


def test_integer_out_of_range_for_the_tensor_dtype_is_an_error_naming_the_op():
    x = tl.tensor([1], dtype=tl.int32)
    with pytest.raises(OverflowError, match="add: the integer 1099511627776 does not fit in"):
        x + 2 ** 40
    with pytest.raises(OverflowError, match="gt: the integer"):
        x > 2 ** 40
    with pytest.raises(OverflowError, match="clamp: the integer"):
        x.clamp(0, 2 ** 40)
    with pytest.raises(OverflowError, match="mul: the integer"):
        tl.tensor([1]) * 2 ** 70


def test_integer_in_range_keeps_the_integer_dtype(torch):
    got = tl.tensor([1], dtype=tl.int32) + 2 ** 30
    want = torch.tensor([1], dtype=torch.int32) + 2 ** 30
    assert got.tolist() == want.tolist() and str(got.dtype) == "int32"


def test_float_too_large_for_float32_becomes_inf_silently(torch):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = tl.ones(2) + 1e300
    assert got.dtype == tl.float32 and got.tolist() == (torch.ones(2) + 1e300).tolist()


@pytest.mark.parametrize("expr", [lambda: tl.tensor([1.0, 0.0, -1.0]) / 0,
                                  lambda: tl.tensor([0.0, 2.0]) ** -1.0,
                                  lambda: tl.tensor([-1.0]) ** 0.5])
def test_division_and_pow_by_zero_give_inf_or_nan_without_warnings(torch, expr):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = expr()
    assert not np.isfinite(out._data).all()


def test_division_by_zero_matches_pytorch_values_and_gradients(torch):
    _assert_same(torch, lambda a, b: a / b, lambda a, b: a / b, [1.0, 0.0, -1.0], [0.0, 0.0, 2.0])


def test_reductions_accept_numpys_axis_and_keepdims_as_pytorch(torch):
    x = np.arange(12.0).reshape(3, 4)
    t, tt = tl.tensor(x), torch.tensor(x)
    for name in ("sum", "mean", "amax", "amin", "std", "var", "logsumexp", "prod", "argmax"):
        got = getattr(t, name)(axis=1, keepdims=True)
        want = getattr(tt, name)(axis=1, keepdims=True)
        np.testing.assert_allclose(got.numpy(), want.numpy(), err_msg=name)
    np.testing.assert_allclose(tl.sum(t, axis=0).numpy(), x.sum(0))
    np.testing.assert_allclose(t.max(axis=0).values.numpy(), x.max(0))
    with pytest.raises(TypeError, match="sum: got both dim= and its alias axis="):
        t.sum(dim=0, axis=1)
