"""gradcheck / gradgradcheck against torch.autograd.gradcheck's signature and behaviour."""
import numpy as np
import pytest

import tensorlite as tl
from tensorlite.testing import GradcheckError, gradcheck, gradgradcheck


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _x(values=(0.5, -1.0, 2.0, 1.5)):
    return tl.tensor(np.array(values), dtype=tl.float64, requires_grad=True)


class Cube(tl.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x._data ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x * x


class OffsetCube(Cube):
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        # right derivative plus a grad_output-independent term at element 2
        return g * 3 * x * x + tl.tensor(np.array([0.0, 0.0, 0.5, 0.0]))


class NoisyCube(Cube):
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x * x + tl.tensor(np.random.randn(*x.shape) * 1e-9)


class SquaresGradOutput(Cube):
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * g * 3 * x * x  # right for one-hot grad_outputs only


class WrongTwice(tl.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return 2 * x._data

    @staticmethod
    def backward(ctx, g):
        return g * 3.0  # should be 2


class Square(tl.autograd.Function):
    """First derivative right; its backward uses WrongTwice, so the second is wrong."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x._data ** 2

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * WrongTwice.apply(x)


@pytest.mark.parametrize("kw", [dict(nondet_tol=0.0), dict(check_undefined_grad=True),
                                dict(check_grad_dtypes=True), dict(check_backward_ad=True),
                                dict(masked=None), dict(check_batched_grad=False),
                                dict(check_forward_ad=False)])
def test_torch_keywords_are_accepted(kw, torch):
    x = _x()
    assert gradcheck(lambda a: a * a, x, **kw)
    assert torch.autograd.gradcheck(lambda a: a * a, torch.tensor(x.numpy(), requires_grad=True),
                                    **kw)


@pytest.mark.parametrize("kw", [dict(check_batched_grad=True), dict(check_forward_ad=True),
                                dict(check_batched_forward_grad=True), dict(masked=True),
                                dict(check_backward_ad=False)])
def test_unsupported_torch_keywords_are_refused_not_ignored(kw):
    with pytest.raises(NotImplementedError, match=next(iter(kw))):
        gradcheck(lambda a: a * a, _x(), **kw)


@pytest.mark.parametrize("kw", [dict(check_fwd_over_rev=True), dict(check_rev_over_rev=False),
                                dict(check_batched_grad=True)])
def test_gradgradcheck_refuses_unsupported_keywords(kw):
    with pytest.raises(NotImplementedError, match=next(iter(kw))):
        gradgradcheck(lambda a: a * a * a, _x(), **kw)


def test_an_output_that_does_not_require_grad_is_skipped_whatever_its_position(torch):
    # The constant output came first: its numerical block used to be paired with the
    # analytical block of the next output (a broadcast error).
    fn = lambda a: (tl.zeros(2, dtype=tl.float64), a * a, a.argmax())  # noqa: E731
    assert gradcheck(fn, _x())
    assert gradcheck(fn, _x(), fast_mode=True)
    assert gradgradcheck(fn, _x())
    tx = torch.tensor(_x().numpy(), requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda a: (torch.zeros(2, dtype=torch.float64), a * a, a.argmax()), tx)


def test_no_differentiable_output_needs_a_zero_numerical_gradient(torch):
    x = _x()
    # as torch: a constant passes, a detached function of the input fails
    assert gradcheck(lambda a: tl.zeros(2, dtype=tl.float64), x)
    with pytest.raises(GradcheckError, match="no output requires grad.*input 0"):
        gradcheck(lambda a: a.detach() * 2, x)
    assert gradcheck(lambda a: a.detach() * 2, x, raise_exception=False) is False
    assert gradcheck(lambda a: a.detach() * 2, x, fast_mode=True, raise_exception=False) is False
    tx = torch.tensor(x.numpy(), requires_grad=True)
    assert torch.autograd.gradcheck(lambda a: a.detach() * 2, tx, raise_exception=False) is False


def test_single_tensor_mixed_arguments_and_inputs_without_grad():
    x, y = _x(), _x((1.0, 2.0, 3.0, 4.0))
    y.requires_grad = False
    assert gradcheck(lambda a: a * a, x)
    assert gradcheck(lambda a, s, b: a * s * b, (x, 2.5, y))
    assert gradcheck(lambda a, b: a * b, [x, y])
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(lambda b: b * 2, (y,))


def test_float32_inputs_are_refused_even_without_raise_exception():
    x = tl.randn(3, requires_grad=True)
    with pytest.raises(ValueError, match="input 0 is float32.*float64"):
        gradcheck(lambda a: a * a, x, raise_exception=False)


def test_wrong_backward_names_input_and_worst_element():
    with pytest.raises(GradcheckError, match=r"OffsetCube.apply.*input 0: worst element "
                                             r"d out\[0\] / d in\[2\]: numerical 0 vs "
                                             r"analytical 0\.5"):
        gradcheck(OffsetCube.apply, _x())
    with pytest.raises(GradcheckError, match="fast_mode.*input 0"):
        gradcheck(OffsetCube.apply, _x(), fast_mode=True)
    assert gradcheck(OffsetCube.apply, _x(), raise_exception=False) is False


def test_backward_not_linear_in_grad_output_is_caught_with_its_element():
    with pytest.raises(GradcheckError, match=r"not linear in grad_output for input 0: at "
                                             r"element \[\d\]"):
        gradcheck(SquaresGradOutput.apply, _x())


def test_wrong_second_derivative_is_caught_by_gradgradcheck_only():
    assert gradcheck(Square.apply, _x())
    with pytest.raises(GradcheckError, match=r"backward of Square.apply.*input 0.*numerical"):
        gradgradcheck(Square.apply, _x())
    with pytest.raises(GradcheckError, match="fast_mode"):
        gradgradcheck(Square.apply, _x(), fast_mode=True)
    assert gradgradcheck(Square.apply, _x(), raise_exception=False) is False


def test_nondeterministic_backward_is_caught_unless_within_nondet_tol():
    with pytest.raises(GradcheckError, match=r"not reproducible for input 0.*nondet_tol=0"):
        gradcheck(NoisyCube.apply, _x())
    assert gradcheck(NoisyCube.apply, _x(), nondet_tol=1e-6)


def test_gradcheck_leaves_inputs_untouched_even_when_fn_raises():
    base = tl.tensor(np.arange(1.0, 5.0), dtype=tl.float64)
    x = base.expand(3, 4)  # read-only, stride-0 storage
    x.requires_grad = True
    data = x._data
    assert gradcheck(lambda a: a * a, x)
    assert gradcheck(lambda a: a * a, x, fast_mode=True)
    assert x._data is data and x.grad is None
    np.testing.assert_array_equal(base.numpy(), [1, 2, 3, 4])

    y = _x()
    before = y.numpy().copy()

    def explodes(a):
        if a._data[0] != before[0]:
            raise FloatingPointError("domain")
        return a * a
    with pytest.raises(FloatingPointError):
        gradcheck(explodes, y)
    np.testing.assert_array_equal(y.numpy(), before)
    assert y.grad is None


def test_gradgradcheck_with_given_random_or_noncontiguous_grad_outputs(torch):
    x = _x()
    go = tl.tensor(np.array([0.3, -0.7, 1.1, 0.2]), dtype=tl.float64, requires_grad=True)
    assert gradgradcheck(lambda a: a * a * a, x, go)
    assert gradgradcheck(lambda a: a * a * a, x, (go.detach(),))
    assert gradgradcheck(lambda a: a * a * a, x, gen_non_contig_grad_outputs=True)
    tx = torch.tensor(x.numpy(), requires_grad=True)
    assert torch.autograd.gradgradcheck(lambda a: a * a * a, tx,
                                        torch.tensor(go.numpy(), requires_grad=True))
    with pytest.raises(ValueError, match=r"got 2 grad_outputs for 1 outputs"):
        gradgradcheck(lambda a: a * a * a, x, (go, go))
    with pytest.raises(ValueError, match=r"grad_outputs\[0\] must be a Tensor of shape \(4,\)"):
        gradgradcheck(lambda a: a * a * a, x, tl.ones(3, dtype=tl.float64))


def test_float_arrays_stay_in_range_away_from_kinks_and_distinct():
    from hypothesis import given, settings, strategies as st
    from tensorlite.testing import strategies as ts

    # avoid=(lo,) used to push samples below lo (out of an op's domain), and unique
    # spreading past hi.
    @settings(max_examples=60, derandomize=True, deadline=None)
    @given(st.data())
    def check(data):
        lo, hi, avoid = data.draw(st.sampled_from([(0.0, 1.0, (0.0, 1.0)), (0.0, 1.0, (0.0,)),
                                                   (-3.0, 3.0, (-3.0, 0.0))]))
        unique = data.draw(st.booleans())
        shape = data.draw(st.sampled_from([(), (1,), (4, 4, 4)]))
        v = np.asarray(data.draw(ts.float_arrays(shape, lo, hi, avoid, unique=unique))).ravel()
        assert v.min() >= lo and v.max() <= hi
        for p in avoid:
            assert np.all(np.abs(v - p) >= 0.05 - 1e-12)
        if unique and v.size > 1:
            assert np.diff(np.sort(v)).min() >= 1e-3 - 1e-12
    check()
