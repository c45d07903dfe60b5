"""More elementwise math (reciprocal ... cosh, rounding, atan2, hypot, logaddexp, fmod, lerp,
nan_to_num, isinf, isclose, equal, in-place variants): edge values, dtypes, gradients and
errors compared with PyTorch in float64. The generic checks (gradcheck, gradgradcheck,
random inputs vs PyTorch) come from the OpInfo entries in tensorlite/testing/opinfo_math.py."""
import numpy as np
import pytest

import tensorlite as tl

INF, NAN = float("inf"), float("nan")


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _dt(lib, name):
    return getattr(lib, name)


def _run(lib, fn, values, dtype="float64", grad=True, seed=None):
    """fn(*tensors) in ``lib`` (tl or torch): (output array, output dtype name, grads)."""
    xs = [lib.tensor(v, dtype=_dt(lib, dtype), requires_grad=grad) for v in values]
    out = fn(lib, *xs)
    if lib is tl:
        data, dname = out.data, str(out.dtype)
    else:
        data, dname = out.detach().numpy(), str(out.dtype).replace("torch.", "")
    grads = []
    if grad and out.requires_grad:
        g = np.ones(data.shape) if seed is None else np.asarray(seed, np.float64)
        gs = lib.autograd.grad(out, xs, lib.tensor(g, dtype=_dt(lib, dtype)), allow_unused=True)
        grads = [None if x is None else np.asarray(x.data if lib is tl else x.numpy())
                 for x in gs]
    return np.asarray(data), dname, grads


def _same(torch, fn, *values, dtype="float64", grad=True, seed=None, rtol=1e-13, atol=0.0):
    out, dname, grads = _run(tl, fn, values, dtype, grad, seed)
    out_t, dname_t, grads_t = _run(torch, fn, values, dtype, grad, seed)
    assert dname == dname_t
    np.testing.assert_allclose(out, out_t, rtol=rtol, atol=atol)
    assert out.shape == out_t.shape
    assert len(grads) == len(grads_t)
    for g, gt in zip(grads, grads_t):
        if gt is None:
            assert g is None or not np.any(g)
            continue
        np.testing.assert_allclose(g, gt, rtol=rtol, atol=atol)
    return out, grads


UNARY = ["reciprocal", "rsqrt", "log1p", "expm1", "log2", "log10", "tan", "asin", "acos",
         "atan", "sinh", "cosh", "floor", "ceil", "trunc", "round", "frac", "nan_to_num"]
EDGES = [NAN, INF, -INF, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -2.5, 1e-300, 700.0, -700.0,
         1e20]


# ---------------------------------------------------------------------------------------
# unary ops: edge values, gradients, dtypes
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", UNARY)
def test_unary_values_and_gradients_at_the_edges_match_pytorch(torch, name):
    _same(torch, lambda lib, x: getattr(lib, name)(x), EDGES)
    _same(torch, lambda lib, x: getattr(x, name)(), EDGES)


@pytest.mark.parametrize("name", UNARY)
def test_unary_float32_matches_pytorch(torch, name):
    vals = [0.1, 0.7, 1.3, -0.4, 2.9, 1e-3]
    _same(torch, lambda lib, x: getattr(lib, name)(x), vals, dtype="float32", grad=False,
          rtol=3e-7)


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_unary_on_integer_and_bool_tensors_as_pytorch(torch, name, dtype):
    vals = [True, False] if dtype == "bool" else [1, -2, 0, 3]
    t = torch.tensor(vals, dtype=getattr(torch, dtype))
    x = tl.tensor(vals, dtype=getattr(tl, dtype) if dtype != "bool" else tl.bool)
    try:
        want = getattr(torch, name)(t)
    except (NotImplementedError, RuntimeError):
        with pytest.raises(TypeError, match=name):
            getattr(tl, name)(x)
        return
    got = getattr(tl, name)(x)
    assert str(got.dtype) == str(want.dtype).replace("torch.", "")
    np.testing.assert_allclose(got.data, want.numpy(), rtol=1e-6)
    assert not got.requires_grad


@pytest.mark.parametrize("name", UNARY)
def test_unary_on_empty_and_0d_tensors(torch, name):
    _same(torch, lambda lib, x: getattr(lib, name)(x), np.zeros((0, 3)))
    _same(torch, lambda lib, x: getattr(lib, name)(x), 0.3)


@pytest.mark.parametrize("name", ["reciprocal", "rsqrt", "log1p", "expm1", "log2", "log10",
                                  "tan", "asin", "acos", "atan", "sinh", "cosh", "frac"])
def test_unary_second_derivatives_match_pytorch(torch, name):
    vals = [0.3, -0.45, 0.8, 0.05]

    def second(lib):
        x = lib.tensor(vals, dtype=lib.float64, requires_grad=True)
        (g,) = lib.autograd.grad(getattr(lib, name)(x).sum(), x, create_graph=True)
        if not g.requires_grad:  # frac's gradient is the constant 1
            return np.zeros(len(vals))
        (gg,) = lib.autograd.grad(g.sum(), x, allow_unused=True)
        if gg is None:
            return np.zeros(len(vals))
        return np.asarray(gg.data if lib is tl else gg.numpy())

    np.testing.assert_allclose(second(tl), second(torch), rtol=1e-12)


def test_aliases_are_the_same_ops():
    x = tl.tensor([0.25, -0.5], dtype=tl.float64)
    np.testing.assert_array_equal(tl.arcsin(x).data, tl.asin(x).data)
    np.testing.assert_array_equal(x.arccos().data, x.acos().data)
    np.testing.assert_array_equal(x.arctan().data, tl.atan(x).data)
    np.testing.assert_array_equal(tl.fix(x * 5).data, [1.0, -2.0])
    np.testing.assert_array_equal(x.arctan2(x).data, tl.atan2(x, x).data)


def test_unary_ops_refuse_non_tensors():
    for name in UNARY:
        with pytest.raises(TypeError, match=name):
            getattr(tl, name)([1.0, 2.0])


# ---------------------------------------------------------------------------------------
# rounding
# ---------------------------------------------------------------------------------------
def test_round_is_half_to_even_and_floor_ceil_trunc_keep_signed_zero(torch):
    vals = [0.5, 1.5, 2.5, -0.5, -1.5, -0.2, 0.2, -2.7, 2.7]
    for name in ("round", "floor", "ceil", "trunc", "frac"):
        out, (g,) = _same(torch, lambda lib, x: getattr(lib, name)(x), vals)
        want = getattr(torch, name)(torch.tensor(vals, dtype=torch.float64)).numpy()
        np.testing.assert_array_equal(np.signbit(out), np.signbit(want))
        np.testing.assert_array_equal(g, np.ones(len(vals)) if name == "frac"
                                      else np.zeros(len(vals)))


@pytest.mark.parametrize("decimals", [0, 1, 2, 3, -1, -2, 5, 17, 300, 400, -400])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_round_decimals_matches_pytorch(torch, decimals, dtype):
    vals = [1.005, 2.675, 0.125, -0.125, 15.0, 25.0, -35.0, 1234.5678, 1e300, 1e-5, NAN, INF,
            -INF, 0.0]
    if dtype == "float32":
        vals = vals[:8] + [3e38, 1e-5, NAN, INF]
    _same(torch, lambda lib, x: lib.round(x, decimals=decimals), vals, dtype=dtype,
          rtol=0 if dtype == "float64" else 1e-7)
    _same(torch, lambda lib, x: x.round(decimals=decimals), vals[:4], dtype=dtype, rtol=1e-7)


def test_round_decimals_checks_its_argument():
    x = tl.tensor([1.25])
    for bad in (1.5, True, "1", None):
        with pytest.raises(TypeError, match="round: decimals"):
            tl.round(x, decimals=bad)
    with pytest.raises(TypeError):
        tl.round(x, 1)  # keyword-only, as PyTorch
    with pytest.raises(TypeError, match="round: decimals=1 is not implemented for integer"):
        tl.round(tl.tensor([1, 2]), decimals=1)


def test_rounding_an_integer_tensor_returns_a_copy_of_its_dtype(torch):
    for name in ("floor", "ceil", "trunc", "round"):
        x = tl.tensor([1, -2, 3], dtype=tl.int32)
        y = getattr(tl, name)(x)
        assert y.dtype == tl.int32 and y.data is not x.data
        y.data[0] = 99
        assert x.data[0] == 1
        assert str(getattr(torch, name)(torch.tensor([1], dtype=torch.int32)).dtype) == \
            "torch.int32"


def test_rounding_refuses_bool_and_frac_refuses_integers():
    for name in ("floor", "ceil", "trunc", "round", "frac"):
        with pytest.raises(TypeError, match=f"{name}: .*bool"):
            getattr(tl, name)(tl.tensor([True]))
    with pytest.raises(TypeError, match="frac: only floating-point tensors"):
        tl.frac(tl.tensor([1, 2]))


# ---------------------------------------------------------------------------------------
# atan2, hypot, logaddexp
# ---------------------------------------------------------------------------------------
A_EDGE = [0.0, 0.0, -0.0, -0.0, 1.0, -1.0, INF, -INF, INF, 0.0, 1e-200, 1e-170, 3.0, NAN, 2.0]
B_EDGE = [0.0, -0.0, 0.0, -0.0, INF, -INF, INF, 1.0, -INF, -1.0, 1e-200, 0.0, 4.0, 1.0, NAN]


@pytest.mark.parametrize("name", ["atan2", "hypot", "logaddexp", "fmod"])
def test_binary_values_and_gradients_at_the_edges_match_pytorch(torch, name):
    out, _ = _same(torch, lambda lib, a, b: getattr(lib, name)(a, b), A_EDGE, B_EDGE)
    if name == "atan2":
        want = np.arctan2(A_EDGE, B_EDGE)
        np.testing.assert_array_equal(np.signbit(out), np.signbit(want))  # the signed zeros


def test_atan2_gradient_at_the_origin_is_zero_and_its_second_gradient_nan_as_pytorch(torch):
    def grads(lib):
        a = lib.tensor([0.0, 1e-200, 3.0], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([0.0, 1e-200, 4.0], dtype=lib.float64, requires_grad=True)
        ga, gb = lib.autograd.grad(lib.atan2(a, b).sum(), (a, b), create_graph=True)
        gga, ggb = lib.autograd.grad((ga + gb).sum(), (a, b))
        to = (lambda t: t.data) if lib is tl else (lambda t: t.detach().numpy())
        return [to(t) for t in (ga, gb, gga, ggb)]

    for got, want in zip(grads(tl), grads(torch)):
        np.testing.assert_allclose(got, want, rtol=1e-13)
    assert grads(tl)[0][0] == 0.0


def test_atan2_quadrants_and_broadcasting_match_pytorch(torch):
    a = np.array([[1.0], [-1.0], [0.0]])
    b = np.array([1.0, -1.0, 0.0, -0.0, 2.0])
    _same(torch, lambda lib, a, b: lib.atan2(a, b), a, b)
    _same(torch, lambda lib, a, b: a.atan2(b), a, b)


@pytest.mark.parametrize("name", ["atan2", "hypot", "logaddexp", "fmod"])
def test_binary_dtype_promotion_matches_pytorch(torch, name):
    cases = [("float32", [1.5, 2.0], "float64", [2.0, 3.0]),
             ("int64", [1, 2], "float32", [2.0, 3.0]),
             ("float32", [1.5, 2.0], "float64", 2.0),   # 0-d float64 does not widen
             ("int64", [3, -7], "int64", [2, 2]),
             ("int32", [3, -7], "int64", 2),
             ("bool", [True, False], "int64", [1, 2]),
             ("bool", [True, False], "bool", [True, True])]
    for da, va, db, vb in cases:
        ta = torch.tensor(va, dtype=getattr(torch, da))
        tb = torch.tensor(vb, dtype=getattr(torch, db))
        xa = tl.tensor(va, dtype=getattr(tl, da) if da != "bool" else tl.bool)
        xb = tl.tensor(vb, dtype=getattr(tl, db) if db != "bool" else tl.bool)
        try:
            want = getattr(torch, name)(ta, tb)
        except (NotImplementedError, RuntimeError):
            with pytest.raises(TypeError, match=name):
                getattr(tl, name)(xa, xb)
            continue
        got = getattr(tl, name)(xa, xb)
        assert str(got.dtype) == str(want.dtype).replace("torch.", ""), (da, db)
        np.testing.assert_allclose(got.data, want.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", ["atan2", "hypot", "logaddexp"])
def test_binary_ops_take_tensors_only_and_check_shapes(name):
    x = tl.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match=f"{name}: other must be a Tensor"):
        getattr(tl, name)(x, 2.0)
    with pytest.raises(TypeError, match=f"{name}: input must be a Tensor"):
        getattr(tl, name)(2.0, x)
    with pytest.raises(ValueError, match=rf"{name}: shapes \(2,\), \(3,\) cannot be broadcast"):
        getattr(tl, name)(x, tl.ones(3))


def test_binary_ops_gradients_reduce_over_broadcast_dims(torch):
    a = np.linspace(-2, 2, 6).reshape(2, 3)
    b = np.array([[0.7], [-1.3]])
    for name in ("atan2", "hypot", "logaddexp", "fmod"):
        _same(torch, lambda lib, a, b: getattr(lib, name)(a, b), a, b,
              seed=np.arange(6.0).reshape(2, 3))


# ---------------------------------------------------------------------------------------
# fmod
# ---------------------------------------------------------------------------------------
def test_fmod_takes_the_sign_of_the_dividend_and_its_divisor_gradient_is_minus_trunc(torch):
    a = [5.5, -5.5, 5.5, -5.5, 3.0, 1e300, 0.1]
    b = [2.0, 2.0, -2.0, -2.0, 0.0, 3.0, 0.01]
    _, (ga, gb) = _same(torch, lambda lib, a, b: lib.fmod(a, b), a, b)
    np.testing.assert_array_equal(ga, np.ones(len(a)))
    _same(torch, lambda lib, a: lib.fmod(a, 1.5), a)
    _same(torch, lambda lib, a: a.fmod(-0.3), a)


def test_fmod_of_integers_matches_pytorch_and_refuses_zero_divisors(torch):
    a, b = [7, -7, 7, -7, 0], [3, 3, -3, -3, 5]
    want = torch.fmod(torch.tensor(a), torch.tensor(b))
    got = tl.fmod(tl.tensor(a), tl.tensor(b))
    assert got.dtype == tl.int64
    np.testing.assert_array_equal(got.data, want.numpy())
    np.testing.assert_array_equal(tl.fmod(tl.tensor(a), 2).data, torch.fmod(torch.tensor(a), 2))
    f = tl.fmod(tl.tensor(a), 2.5)  # a float number makes the result float32, as PyTorch
    assert f.dtype == tl.float32
    np.testing.assert_allclose(f.data, torch.fmod(torch.tensor(a), 2.5).numpy())
    with pytest.raises(ZeroDivisionError, match="fmod: integer division by zero"):
        tl.fmod(tl.tensor(a), tl.tensor([1, 1, 0, 1, 1]))
    with pytest.raises(ZeroDivisionError, match="fmod"):
        tl.fmod(tl.tensor(a), 0)
    with pytest.raises(TypeError, match="fmod: input must be a Tensor"):
        tl.fmod(2.0, tl.tensor([1.0]))
    with pytest.raises(TypeError, match="fmod: unsupported operand"):
        tl.fmod(tl.tensor([1.0]), "2")


# ---------------------------------------------------------------------------------------
# lerp
# ---------------------------------------------------------------------------------------
def test_lerp_gradients_including_weight_match_pytorch(torch):
    s = [1.0, 2.0, 3.0, -1.0]
    e = [4.0, -1.0, 3.0, INF]
    w = [0.3, 0.7, 2.0, -0.6]
    _same(torch, lambda lib, s, e, w: lib.lerp(s, e, w), s, e, w)
    _same(torch, lambda lib, s, e, w: s.lerp(e, w), s[:3], e[:3], w[:3])


@pytest.mark.parametrize("weight", [0.0, 0.3, 0.49999, 0.5, 0.9, 1.0, -0.7, 1.5, NAN, 1, True])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_lerp_with_a_number_weight_matches_pytorch(torch, weight, dtype):
    s = [0.1, 1e16, -3.3, 0.0, 7.0]
    e = [0.7, 1.0, 7.1, -0.0, 7.0]
    # PyTorch's CPU kernel fuses the multiply-add (one rounding, ours two): where the
    # result cancels (-3.3 + 0.3 * 10.4) the last bit of the operands' scale may differ.
    _same(torch, lambda lib, s, e: lib.lerp(s, e, weight), s, e, dtype=dtype,
          rtol=1e-15 if dtype == "float64" else 1e-7,
          atol=1e-14 if dtype == "float64" else 1e-6)


def test_lerp_is_exact_at_its_ends():
    s = tl.tensor([0.1, -3.3, 1e16], dtype=tl.float64)
    e = tl.tensor([0.7, 7.1, 1.0], dtype=tl.float64)
    np.testing.assert_array_equal(tl.lerp(s, e, 0.0).data, s.data)
    np.testing.assert_array_equal(tl.lerp(s, e, 1.0).data, e.data)
    np.testing.assert_array_equal(tl.lerp(s, e, tl.tensor([0.0, 1.0, 1.0],
                                                          dtype=tl.float64)).data,
                                  [0.1, 7.1, 1.0])


def test_lerp_broadcasts_its_three_arguments(torch):
    s = np.array([1.0, 2.0])
    e = np.ones((3, 2))
    w = np.array([[0.3], [0.6], [0.9]])
    _same(torch, lambda lib, s, e, w: lib.lerp(s, e, w), s, e, w,
          seed=np.arange(6.0).reshape(3, 2))


def test_lerp_dtype_rules_as_pytorch(torch):
    f32, f64 = tl.tensor([1.0, 2.0]), tl.tensor([1.0, 2.0], dtype=tl.float64)
    with pytest.raises(TypeError, match="lerp: expected dtype float32 for end"):
        tl.lerp(f32, f64, 0.5)
    with pytest.raises(TypeError, match="lerp: expected dtype float64 for weight"):
        tl.lerp(f64, f64, tl.tensor([0.5, 0.2]))
    with pytest.raises(TypeError, match="lerp: only floating-point"):
        tl.lerp(tl.tensor([1, 2]), tl.tensor([1, 2]), 0.5)
    with pytest.raises(TypeError, match="lerp: weight must be a number or a Tensor"):
        tl.lerp(f32, f32, "0.5")
    with pytest.raises(TypeError, match="lerp: end must be a Tensor"):
        tl.lerp(f32, 1.0, 0.5)
    with pytest.raises(ValueError, match="lerp: shapes"):
        tl.lerp(f32, tl.ones(3), 0.5)
    # A 0-d weight tensor of another dtype is converted, as in PyTorch.
    got = tl.lerp(f64, f64 * 3, tl.tensor(0.25))
    want = torch.lerp(torch.tensor([1.0, 2.0], dtype=torch.float64),
                      torch.tensor([3.0, 6.0], dtype=torch.float64), torch.tensor(0.25))
    assert got.dtype == tl.float64
    np.testing.assert_allclose(got.data, want.numpy(), rtol=1e-15)


# ---------------------------------------------------------------------------------------
# nan_to_num
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [{}, {"nan": 1.5}, {"posinf": 2.0, "neginf": -3.0},
                                    {"nan": -1, "posinf": 1e300, "neginf": -1e300}])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_nan_to_num_matches_pytorch(torch, kwargs, dtype):
    vals = [NAN, INF, -INF, 1.0, -0.0]
    _same(torch, lambda lib, x: lib.nan_to_num(x, **kwargs), vals, dtype=dtype, rtol=0)
    _same(torch, lambda lib, x: x.nan_to_num(**kwargs), vals, dtype=dtype, rtol=0)


def test_nan_to_num_gradient_is_zero_at_non_finite_inputs_and_keeps_nan_gradients(torch):
    vals = [NAN, INF, -INF, 1.0]
    _, (g,) = _same(torch, lambda lib, x: lib.nan_to_num(x), vals, seed=[2.0, 2.0, 2.0, NAN])
    np.testing.assert_array_equal(g[:3], [0.0, 0.0, 0.0])


def test_nan_to_num_of_integers_is_a_copy_and_arguments_are_checked(torch):
    x = tl.tensor([1, 2])
    y = tl.nan_to_num(x, nan=3.5)
    assert y.dtype == tl.int64 and y.data is not x.data
    np.testing.assert_array_equal(y.data, [1, 2])
    for bad in ("a", [1.0], True):
        with pytest.raises(TypeError, match="nan_to_num: nan must be a number"):
            tl.nan_to_num(tl.tensor([1.0]), nan=bad)
    with pytest.raises(TypeError, match="nan_to_num: posinf"):
        tl.nan_to_num(tl.tensor([1.0]), posinf="inf")


# ---------------------------------------------------------------------------------------
# isinf / isposinf / isneginf
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["isinf", "isposinf", "isneginf"])
def test_isinf_family_matches_pytorch(torch, name):
    for vals, dt in [([INF, -INF, NAN, 0.0, 1e308], "float64"), ([INF, -INF, 1.0], "float32"),
                     ([1, 2], "int64"), ([True, False], "bool"), (INF, "float64"),
                     (np.zeros((0, 2)), "float64")]:
        t = torch.tensor(vals, dtype=getattr(torch, dt))
        x = tl.tensor(vals, dtype=tl.bool if dt == "bool" else getattr(tl, dt))
        got, want = getattr(tl, name)(x), getattr(torch, name)(t)
        assert got.dtype == tl.bool and got.shape == tuple(want.shape)
        np.testing.assert_array_equal(got.data, want.numpy())
        np.testing.assert_array_equal(getattr(x, name)().data, want.numpy())
    with pytest.raises(TypeError, match=f"{name}: input must be a Tensor"):
        getattr(tl, name)([1.0])


def test_isinf_of_a_tensor_that_requires_grad_is_a_plain_bool_tensor():
    x = tl.tensor([1.0, INF], requires_grad=True)
    y = tl.isinf(x)
    assert not y.requires_grad and y.grad_fn is None


# ---------------------------------------------------------------------------------------
# isclose / allclose / equal
# ---------------------------------------------------------------------------------------
ISCLOSE_A = [1.0, 1e-8, INF, INF, -INF, NAN, NAN, 0.0, 100.0, 1e-9, 1.0]
ISCLOSE_B = [1.00001, 0.0, INF, -INF, -INF, NAN, 1.0, 1e-8, 100.001, -1e-9, 0.99999]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kwargs", [{}, {"equal_nan": True}, {"rtol": 0.0, "atol": 0.0},
                                    {"rtol": 1e-3}, {"atol": 1e-2, "rtol": 0}])
def test_isclose_matches_pytorch(torch, dtype, kwargs):
    t = torch.isclose(torch.tensor(ISCLOSE_A, dtype=getattr(torch, dtype)),
                      torch.tensor(ISCLOSE_B, dtype=getattr(torch, dtype)), **kwargs)
    a = tl.tensor(ISCLOSE_A, dtype=getattr(tl, dtype))
    b = tl.tensor(ISCLOSE_B, dtype=getattr(tl, dtype))
    got = tl.isclose(a, b, **kwargs)
    assert got.dtype == tl.bool
    np.testing.assert_array_equal(got.data, t.numpy())
    np.testing.assert_array_equal(a.isclose(b, **kwargs).data, t.numpy())
    for k in range(len(ISCLOSE_A)):
        ta = torch.tensor(ISCLOSE_A[k:k + 1], dtype=getattr(torch, dtype))
        tb = torch.tensor(ISCLOSE_B[k:k + 1], dtype=getattr(torch, dtype))
        assert tl.allclose(a[k:k + 1], b[k:k + 1], **kwargs) is torch.allclose(ta, tb, **kwargs)
    assert a.allclose(b, **kwargs) is torch.allclose(torch.tensor(ISCLOSE_A, dtype=getattr(
        torch, dtype)), torch.tensor(ISCLOSE_B, dtype=getattr(torch, dtype)), **kwargs)


def test_isclose_of_integers_and_bools_matches_pytorch(torch):
    for a, b, kw in [([1, -2, 3, 100], [2, -1, 3, 101], {"rtol": 0.5, "atol": 0.0}),
                     ([1, -2, 3, 100], [2, -1, 3, 101], {}),
                     ([1, 5], [1, 6], {"atol": 1.0, "rtol": 0.0}),
                     ([-2 ** 63], [2 ** 63 - 1], {}),
                     # compared in float32, as PyTorch: 2**24 + 1 rounds to 2**24
                     ([2 ** 24 + 1, 2 ** 40 + 1], [2 ** 24, 2 ** 40], {"rtol": 0.0,
                                                                       "atol": 0.5})]:
        want = torch.isclose(torch.tensor(a), torch.tensor(b), **kw)
        np.testing.assert_array_equal(tl.isclose(tl.tensor(a), tl.tensor(b), **kw).data,
                                      want.numpy())
    want = torch.isclose(torch.tensor([True, False]), torch.tensor([True, True]))
    np.testing.assert_array_equal(tl.isclose(tl.tensor([True, False]),
                                             tl.tensor([True, True])).data, want.numpy())


def test_isclose_broadcasts_and_checks_its_arguments(torch):
    a = tl.ones(2, 3, dtype=tl.float64)
    b = tl.tensor([1.0, 1.1, 1.0 + 1e-9], dtype=tl.float64)
    want = torch.isclose(torch.ones(2, 3, dtype=torch.float64),
                         torch.tensor([1.0, 1.1, 1.0 + 1e-9], dtype=torch.float64))
    np.testing.assert_array_equal(tl.isclose(a, b).data, want.numpy())
    assert tl.allclose(tl.ones(2, 2), tl.ones(2)) is True
    with pytest.raises(TypeError, match="isclose: input and other must have the same dtype"):
        tl.isclose(tl.ones(2), tl.ones(2, dtype=tl.float64))
    with pytest.raises(TypeError, match="allclose: input and other must have the same dtype"):
        tl.allclose(tl.ones(2), tl.ones(2, dtype=tl.float64))
    with pytest.raises(ValueError, match="isclose: rtol must be greater than or equal to zero"):
        tl.isclose(a, a, rtol=-1)
    with pytest.raises(ValueError, match="isclose: atol must be greater"):
        tl.isclose(a, a, atol=NAN)
    with pytest.raises(TypeError, match="isclose: rtol must be a number"):
        tl.isclose(a, a, rtol="1e-3")
    with pytest.raises(TypeError, match="isclose: other must be a Tensor"):
        tl.isclose(a, 1.0)
    with pytest.raises(ValueError, match=r"allclose: shapes \(2, 3\), \(4,\) cannot be broadcast"):
        tl.allclose(a, tl.ones(4, dtype=tl.float64))


def test_equal_matches_pytorch(torch):
    cases = [(np.array([1.5, 2.5]), np.array([1.5, 2.5])),
             (np.array([1.5, 2.5]), np.array([1.5, 2.0])),
             (np.array([1.0, NAN]), np.array([1.0, NAN])),
             (np.ones((2, 2)), np.ones(2)),
             (np.ones(0), np.ones((0, 1))),
             (np.ones(0), np.ones(0)),
             (np.array(3.0), np.array([3.0])),
             (np.array([1, 2]), np.array([1.0, 2.0])),
             (np.array([True, False]), np.array([1, 0])),
             (np.array([0.1], np.float32), np.array([0.1]))]
    for a, b in cases:
        want = torch.equal(torch.from_numpy(a), torch.from_numpy(b))
        got = tl.equal(tl.from_numpy(a), tl.from_numpy(b))
        assert got is want, (a, b)
        assert tl.from_numpy(a).equal(tl.from_numpy(b)) is want
    x = tl.tensor([1.0, NAN])
    assert tl.equal(x, x) is False  # as PyTorch: the same tensor with a NaN is not equal
    with pytest.raises(TypeError, match="equal: other must be a Tensor"):
        tl.equal(x, 1.0)


# ---------------------------------------------------------------------------------------
# in-place variants
# ---------------------------------------------------------------------------------------
INPLACE = [("exp_", ()), ("log_", ()), ("sqrt_", ()), ("abs_", ()), ("neg_", ()),
           ("tanh_", ()), ("sigmoid_", ()), ("relu_", ()), ("floor_", ()), ("round_", ()),
           ("reciprocal_", ()), ("pow_", (3,)), ("pow_", (0.5,))]


@pytest.mark.parametrize("name,args", INPLACE)
def test_inplace_values_versions_and_gradients_match_pytorch(torch, name, args):
    vals = [0.3, 1.7, 2.5, 4.0]

    def run(lib):
        a = lib.tensor(vals, dtype=lib.float64, requires_grad=True)
        y = a * 2
        v0 = y._version if lib is torch else y._version_count
        same = getattr(y, name)(*args)
        assert same is y
        assert (y._version if lib is torch else y._version_count) == v0 + 1
        (y * y).sum().backward()
        to = (lambda t: t.data) if lib is tl else (lambda t: t.detach().numpy())
        return to(y), to(a.grad)

    for got, want in zip(run(tl), run(torch)):
        # atol: tanh_'s gradient 1 - y*y cancels near y = 1 (1e-6 from 1 - 1e-16 * 2)
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


def test_round_inplace_takes_decimals(torch):
    x = tl.tensor([1.26, -3.14159], dtype=tl.float64)
    x.round_(decimals=2)
    want = torch.tensor([1.26, -3.14159], dtype=torch.float64).round_(decimals=2)
    np.testing.assert_array_equal(x.data, want.numpy())


@pytest.mark.parametrize("name,args", INPLACE)
def test_inplace_on_a_leaf_that_requires_grad_is_refused(name, args):
    a = tl.tensor([0.5, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=f"{name}: a leaf tensor that requires grad"):
        getattr(a, name)(*args)
    np.testing.assert_array_equal(a.data, np.array([0.5, 2.0], np.float32))
    with tl.no_grad():
        getattr(a, name)(*args)  # allowed without recording, as in PyTorch
    assert a.grad_fn is None


def test_inplace_that_needs_a_float_result_refuses_integer_tensors(torch):
    for name, args in [("exp_", ()), ("log_", ()), ("sqrt_", ()), ("tanh_", ()),
                       ("sigmoid_", ()), ("reciprocal_", ()), ("pow_", (0.5,))]:
        x = tl.tensor([1, 2])
        with pytest.raises(TypeError, match=f"{name}: result dtype float32 cannot be written"):
            getattr(x, name)(*args)
        np.testing.assert_array_equal(x.data, [1, 2])  # nothing written
        with pytest.raises(RuntimeError):
            getattr(torch.tensor([1, 2]), name)(*args)
    for name, args in [("floor_", ()), ("round_", ()), ("abs_", ()), ("neg_", ()),
                       ("relu_", ()), ("pow_", (2,))]:
        x = tl.tensor([-1, 2])
        t = getattr(torch.tensor([-1, 2]), name)(*args)
        getattr(x, name)(*args)
        assert x.dtype == tl.int64
        np.testing.assert_array_equal(x.data, t.numpy())


def test_inplace_detects_a_saved_input_modified_later(torch):
    a = tl.tensor([0.5, 2.0], dtype=tl.float64, requires_grad=True)
    y = a * 1
    z = y * y  # saves y
    y.exp_()
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.sum().backward()


def test_inplace_through_a_view_writes_the_base():
    x = tl.tensor([[0.5, 2.0], [4.0, 9.0]], dtype=tl.float64)
    x[1].sqrt_()
    np.testing.assert_array_equal(x.data, [[0.5, 2.0], [2.0, 3.0]])
    x[:, 0].reciprocal_()
    np.testing.assert_array_equal(x.data, [[2.0, 2.0], [0.5, 3.0]])


@pytest.mark.parametrize("name", ["isclose", "allclose"])
@pytest.mark.parametrize("equal_nan", [1, None, "yes"])
def test_isclose_equal_nan_must_be_a_bool(torch, name, equal_nan):
    # A truthy non-bool must not silently decide how NaNs compare.
    a = [1.0, NAN]
    with pytest.raises(TypeError):
        getattr(torch, name)(torch.tensor(a), torch.tensor(a), equal_nan=equal_nan)
    with pytest.raises(TypeError, match=f"{name}: equal_nan"):
        getattr(tl, name)(tl.tensor(a), tl.tensor(a), equal_nan=equal_nan)
