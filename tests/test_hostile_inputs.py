"""Hostile inputs: every bad call raises a clear error before any state changes.

The project standard (DESIGN.md, "Errors"): bad input gets an exception whose message
names the op and the offending shapes, dtypes or values, raised before anything is
modified; never a numpy/numba traceback from inside a kernel and never a silent wrong
answer. Each family below is one parametrized test: (call, exception type, regex the
message must match). The regexes name the op and the offending value on purpose.
Further tests check that a failed call left the model, optimizer or tensor unchanged,
and that the legitimate edge cases next to the refused ones (NaN inputs, empty batches)
still work.
"""
import os

import numpy as np
import pytest

import nn
import nn.functional as F
import tensorlite as tl
from tensorlite.data import DataLoader, TensorDataset

T = tl.tensor


def r(*shape):
    return tl.randn(*shape)


def _f16_batch(*shape):
    """A float16 tensor as a user gets one without any cast: a DataLoader batch of a
    TensorDataset built on float16 arrays (tl.tensor would convert, .to() refuses)."""
    (x,) = next(iter(DataLoader(TensorDataset(np.ones(shape, np.float16)),
                                batch_size=shape[0])))
    assert x.dtype == np.float16
    return x


def _check(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn()


def _ids(cases):
    return [c[0] for c in cases]


# ---------------------------------------------------------------------------------------
# Tensor creation and dtypes
# ---------------------------------------------------------------------------------------
CREATION = [
    ("ragged list", lambda: T([[1, 2], [3]]), ValueError, r"tensor: nested sequences have unequal"),
    ("ragged with dtype", lambda: T([[1.0], [2.0, 3.0]], dtype=tl.float32), ValueError,
     r"tensor: nested sequences"),
    ("string", lambda: T("abc"), TypeError, r"tensor: unsupported data of dtype <U3"),
    ("string parsed by dtype", lambda: T(["1.5"], dtype=tl.float32), TypeError,
     r"tensor: cannot convert data of dtype <U3 to float32"),
    ("None becomes NaN", lambda: T([1.0, None], dtype=tl.float32), TypeError,
     r"tensor: cannot convert data of dtype object to float32"),
    ("object array", lambda: T(np.array([1, "a"], dtype=object)), TypeError,
     r"tensor: unsupported data of dtype object"),
    ("complex data", lambda: T([1 + 2j]), TypeError, r"tensor: unsupported data of dtype complex"),
    ("complex dtype", lambda: T([1, 2], dtype=np.complex64), TypeError,
     r"tensor: unsupported dtype complex64"),
    ("imaginary part dropped", lambda: T(np.array([1j]), dtype=tl.float32), TypeError,
     r"tensor: cannot convert data of dtype complex128"),
    ("int beyond int64", lambda: T([1, 2 ** 70]), TypeError, r"tensor: an integer does not fit"),
    ("unknown dtype", lambda: T([1.0], dtype="foo"), TypeError, r"tensor: unknown dtype 'foo'"),
    ("float16 via to", lambda: r(2).to(np.float16), TypeError, r"to: unsupported dtype float16"),
    ("complex via to", lambda: r(2).to(np.complex64), TypeError, r"to: unsupported dtype complex64"),
    ("from_numpy float16", lambda: tl.from_numpy(np.zeros(2, np.float16)), TypeError,
     r"from_numpy: unsupported dtype float16"),
    ("zeros float size", lambda: tl.zeros(2.5), TypeError, r"zeros: size must be ints, got \(2\.5,\)"),
    ("zeros string size", lambda: tl.zeros("3"), TypeError, r"zeros: size must be ints, got \('3',\)"),
    ("zeros negative size", lambda: tl.zeros(-1, 2), ValueError,
     r"zeros: negative dimension in size \(-1, 2\)"),
    ("zeros complex dtype", lambda: tl.zeros(2, dtype=np.complex64), TypeError,
     r"zeros: unsupported dtype complex64"),
    ("randn int dtype", lambda: tl.randn(3, dtype=tl.int64), TypeError,
     r"randn: dtype must be floating point, got int64"),
    ("rand int dtype", lambda: tl.rand(3, dtype=tl.int64), TypeError,
     r"rand: dtype must be floating point, got int64"),
    ("randint float bound", lambda: tl.randint(0, 5.5, (3,)), TypeError,
     r"randint: high must be an int, got float 5\.5"),
    ("randperm negative", lambda: tl.randperm(-1), ValueError, r"randperm: n must be >= 0, got -1"),
    ("eye negative", lambda: tl.eye(-1), ValueError, r"eye: n must be >= 0, got -1"),
    ("eye float", lambda: tl.eye(2.5), TypeError, r"eye: n must be an int, got float 2\.5"),
    ("arange infinite", lambda: tl.arange(0, float("inf")), ValueError,
     r"arange: end must be finite, got inf"),
    ("arange NaN", lambda: tl.arange(0, float("nan")), ValueError, r"arange: end must be finite, got nan"),
    ("arange wrong sign", lambda: tl.arange(0, 10, -1), ValueError,
     r"arange: the bounds 0 -> 10 are inconsistent with the sign of step -1"),
    ("linspace negative steps", lambda: tl.linspace(0, 1, -1), ValueError,
     r"linspace: steps must be >= 0, got -1"),
    ("full string value", lambda: tl.full((2,), "a"), TypeError,
     r"full: fill_value must be a number, got str 'a'"),
]


@pytest.mark.parametrize("name, fn, exc, match", CREATION, ids=_ids(CREATION))
def test_creation_rejects_bad_data_sizes_and_dtypes(name, fn, exc, match):
    _check(fn, exc, match)


def test_creation_keeps_the_legitimate_neighbours_of_refused_calls():
    assert tl.arange(3, 0, -1).tolist() == [3, 2, 1]
    assert tl.arange(tl.tensor(3)).tolist() == [0, 1, 2]
    assert tl.arange(0, 1, 0.25).shape == (4,)
    assert tl.zeros(np.int64(2), 3).shape == (2, 3)
    assert tl.randint(0, 5, (3,), dtype=tl.float32).dtype == np.float32  # as torch allows
    assert T(np.ones(2, np.float16)).dtype == np.float32  # converted, as before
    assert T([1, 2], dtype=tl.float64).dtype == np.float64


# ---------------------------------------------------------------------------------------
# Elementwise, comparisons, in-place methods
# ---------------------------------------------------------------------------------------
ELEMENTWISE = [
    ("add non-broadcastable", lambda: r(2, 3) + r(4), ValueError,
     r"add: shapes \(2, 3\), \(4,\) cannot be broadcast"),
    ("mul non-broadcastable", lambda: r(2, 3) * r(3, 2), ValueError,
     r"mul: shapes \(2, 3\), \(3, 2\) cannot be broadcast"),
    ("sub list", lambda: r(2) - [1.0, 2.0, 3.0], ValueError, r"sub: shapes \(2,\), \(3,\)"),
    ("add string", lambda: r(2) + "a", TypeError, r"add: unsupported operand of type str"),
    ("reflected add string", lambda: "a" + r(2), TypeError, r"add: unsupported operand of type str"),
    ("add None", lambda: r(2) + None, TypeError, r"add: unsupported operand of type NoneType"),
    ("add complex", lambda: r(2) + 1j, TypeError, r"add: unsupported operand of type complex"),
    ("bool minus bool", lambda: T([True]) - T([False]), TypeError,
     r"sub: subtraction of two bool tensors"),
    ("negate bool", lambda: -T([True]), TypeError, r"neg: negation of a bool tensor"),
    ("where int condition", lambda: tl.where(T([1, 0]), r(2), r(2)), TypeError,
     r"where: condition must be a bool tensor, got dtype int64"),
    ("eq non-broadcastable", lambda: r(2) == r(3), ValueError, r"eq: shapes \(2,\), \(3,\)"),
    ("add_ grows self", lambda: r(3).add_(r(2, 3)), RuntimeError,
     r"add_: the result of shape \(2, 3\) does not fit the tensor of shape \(3,\)"),
    ("fill_ string", lambda: r(3).fill_("a"), TypeError, r"fill_: the value must be a number, got str"),
    ("fill_ 1-d tensor", lambda: r(3).fill_(r(2)), RuntimeError,
     r"fill_: the value must be a number or a 0-d tensor, got a tensor of shape \(2,\)"),
    ("copy_ wrong shape", lambda: r(3).copy_(r(2)), ValueError,
     r"copy_: value of shape \(2,\) cannot be assigned to a selection of shape \(3,\)"),
]


@pytest.mark.parametrize("name, fn, exc, match", ELEMENTWISE, ids=_ids(ELEMENTWISE))
def test_elementwise_rejects_bad_operands(name, fn, exc, match):
    _check(fn, exc, match)


def test_view_shares_memory_and_reshape_still_copies_when_it_must():
    x = tl.zeros(4)
    x.view(2, 2)[0] = 5.0
    assert x.tolist() == [5.0, 5.0, 0.0, 0.0]
    t = r(2, 3).t()
    np.testing.assert_array_equal(t.reshape(6)._data, t._data.reshape(6))
    assert r(4, 6)[:, ::2].view(12).shape == (12,)  # strided, yet viewable without a copy


def test_failed_in_place_ops_leave_the_tensor_and_its_version_unchanged():
    x = r(3)
    before, version = x._data.copy(), x._version_count
    for bad in (lambda: x.add_(r(2, 3)), lambda: x.fill_("a"), lambda: x.fill_(r(2)),
                lambda: x.copy_(r(2)), lambda: x.__setitem__(slice(0, 2), r(3)),
                lambda: x.__setitem__(5, 1.0)):
        with pytest.raises((ValueError, TypeError, RuntimeError, IndexError)):
            bad()
    np.testing.assert_array_equal(x._data, before)
    assert x._version_count == version


# ---------------------------------------------------------------------------------------
# matmul
# ---------------------------------------------------------------------------------------
MATMUL = [
    ("inner dims", lambda: r(2, 3) @ r(4, 5), ValueError,
     r"matmul: shapes \(2, 3\) and \(4, 5\) cannot be multiplied \(3 != 4\)"),
    ("0-d left", lambda: r() @ r(3), ValueError, r"matmul: both arguments need at least 1 dim, got shapes \(\)"),
    ("0-d right", lambda: r(3) @ r(), ValueError, r"matmul: .*got shapes \(3,\) and \(\)"),
    ("vector . vector", lambda: r(3) @ r(4), ValueError, r"matmul: shapes \(3,\) and \(4,\)"),
    ("vector @ matrix", lambda: r(3) @ r(4, 5), ValueError, r"matmul: shapes \(3,\) and \(4, 5\)"),
    ("matrix @ vector", lambda: r(2, 3) @ r(4), ValueError, r"matmul: shapes \(2, 3\) and \(4,\)"),
    ("batch dims", lambda: r(2, 3, 4) @ r(3, 4, 5), ValueError,
     r"matmul: shapes \(2,\), \(3,\) cannot be broadcast"),
    ("bool", lambda: T([[True]]) @ T([[True]]), TypeError, r"matmul: bool tensors"),
    ("string operand", lambda: r(2, 2) @ "a", TypeError, r"matmul: unsupported operand of type str"),
]


@pytest.mark.parametrize("name, fn, exc, match", MATMUL, ids=_ids(MATMUL))
def test_matmul_rejects_incompatible_shapes(name, fn, exc, match):
    _check(fn, exc, match)


# ---------------------------------------------------------------------------------------
# Shape ops, cat/stack
# ---------------------------------------------------------------------------------------
SHAPE = [
    ("reshape count", lambda: r(2, 3).reshape(4, 2), RuntimeError,
     r"reshape: shape \(4, 2\) is invalid for an input of shape \(2, 3\)"),
    ("view count", lambda: r(2, 3).view(5), RuntimeError, r"view: shape \(5,\) is invalid"),
    # reshape would copy here, and writes through the "view" would silently miss the input
    ("view needing a copy", lambda: r(2, 3).t().view(6), RuntimeError,
     r"view: a tensor of shape \(3, 2\) .* cannot be viewed as \(6,\) without a copy"),
    ("reshape two -1", lambda: r(6).reshape(-1, -1), RuntimeError, r"reshape: shape \(-1, -1\)"),
    ("reshape float", lambda: r(2).reshape(2.5), TypeError,
     r"reshape: sizes must be ints, got float 2\.5"),
    ("reshape string", lambda: r(2).reshape("a"), TypeError, r"reshape: sizes must be ints, got str 'a'"),
    ("transpose dim", lambda: r(2, 3).transpose(0, 5), IndexError,
     r"transpose: dim 5 is out of range for a tensor with 2 dimensions"),
    ("transpose float", lambda: r(2, 3).transpose(0.5, 1), TypeError, r"transpose: dim must be an int, got float"),
    ("permute repeated", lambda: r(2, 3).permute(0, 0), ValueError,
     r"permute: dims \(0, 0\) are not a permutation"),
    ("permute count", lambda: r(2, 3, 4).permute(0, 1), ValueError, r"permute: got 2 dims \(0, 1\)"),
    ("permute float", lambda: r(2, 3).permute(0.0, 1.0), TypeError,
     r"permute: dims must be ints, got float 0\.0"),
    ("expand", lambda: r(2, 3).expand(3, 3), RuntimeError,
     r"expand: input of shape \(2, 3\) cannot be expanded to \(3, 3\)"),
    ("flip repeated dim", lambda: r(2, 3).flip((0, 0)), ValueError, r"flip: dim \(0, 0\) repeats a dimension"),
    ("split 0", lambda: r(4).split(0), ValueError, r"split: split_size must be positive .* got 0"),
    ("split negative", lambda: r(4).split(-1), ValueError, r"split: split_size must be positive .* got -1"),
    ("chunk 0", lambda: r(4).chunk(0), ValueError, r"chunk: chunks must be >= 1, got 0"),
    ("pad float", lambda: tl.pad(r(2, 3), (1.5, 1)), TypeError, r"pad: padding must be ints, got \(1\.5, 1\)"),
    ("pad negative", lambda: tl.pad(r(2, 3), (-1, 1)), ValueError, r"pad: negative padding \(-1, 1\)"),
    ("cat empty", lambda: tl.cat([]), ValueError, r"cat: expected a non-empty sequence"),
    ("cat mismatch", lambda: tl.cat([r(2, 3), r(2, 4)], 0), ValueError,
     r"cat: tensor 1 has shape \(2, 4\), which does not match \(2, 3\) outside dim 0"),
    ("cat of a tensor", lambda: tl.cat(r(2, 3)), TypeError,
     r"cat: expected a list or tuple of Tensors, got Tensor"),
    ("cat non-tensor", lambda: tl.cat([r(2), [1.0]]), TypeError, r"cat: .*got list at position 1"),
    ("stack mismatch", lambda: tl.stack([r(2, 3), r(3, 2)]), ValueError,
     r"stack: tensor 1 has shape \(3, 2\) but tensor 0 has \(2, 3\)"),
    ("stack of lists", lambda: tl.stack([[1.0, 2.0], [3.0, 4.0]]), TypeError,
     r"stack: .*got list at position 0"),
    ("stack of a tensor", lambda: tl.stack(r(2, 3)), TypeError, r"stack: expected a list or tuple"),
    ("stack dim", lambda: tl.stack([r(2), r(2)], 3), IndexError, r"stack: dim 3 is out of range"),
]


@pytest.mark.parametrize("name, fn, exc, match", SHAPE, ids=_ids(SHAPE))
def test_shape_ops_reject_incompatible_shapes_and_non_integer_sizes(name, fn, exc, match):
    _check(fn, exc, match)


# ---------------------------------------------------------------------------------------
# Indexing
# ---------------------------------------------------------------------------------------
INDEXING = [
    ("int out of range", lambda: r(3)[5], IndexError,
     r"getitem: index 5 is out of bounds .* \(tensor of shape \(3,\)\)"),
    ("negative out of range", lambda: r(3)[-4], IndexError, r"getitem: index -4 is out of bounds"),
    ("float index", lambda: r(3)[1.5], IndexError, r"getitem: unsupported index of type float"),
    ("float tensor index", lambda: r(3)[T([1.0])], IndexError,
     r"getitem: tensors used as indices must be integer or bool, got dtype float32"),
    ("int tensor out of range", lambda: r(3)[T([0, -7])], IndexError, r"getitem: index -7 is out of bounds"),
    ("mask shape", lambda: r(3)[T([True, False])], IndexError, r"getitem: boolean index did not match"),
    ("slice step 0", lambda: r(3)[::0], ValueError, r"getitem: slice step cannot be zero"),
    ("float slice", lambda: r(3)[0.5:2], TypeError, r"getitem: slice bounds must be ints or None, got float 0\.5"),
    ("ragged list index", lambda: r(3)[[[0, 1], [2]]], IndexError, r"getitem: a list index must be rectangular"),
    ("setitem shape", lambda: r(3).__setitem__(slice(0, 2), r(3)), ValueError,
     r"setitem: value of shape \(3,\) cannot be assigned to a selection of shape \(2,\)"),
    ("setitem out of range", lambda: r(3).__setitem__(5, 1.0), IndexError, r"setitem: index 5 is out of bounds"),
    ("setitem float into int", lambda: T([1, 2]).__setitem__(0, 1.5), TypeError,
     r"setitem: cannot assign a float32 value to a int64 tensor"),
    ("setitem string", lambda: r(3).__setitem__(0, "a"), TypeError, r"setitem: unsupported operand of type str"),
    ("gather out of range", lambda: tl.gather(r(2, 3), 1, T([[0, 3]])), IndexError,
     r"gather: index contain 3, out of range \[0, 3\)"),
]


@pytest.mark.parametrize("name, fn, exc, match", INDEXING, ids=_ids(INDEXING))
def test_indexing_rejects_out_of_range_and_non_integer_indices(name, fn, exc, match):
    _check(fn, exc, match)


# ---------------------------------------------------------------------------------------
# Reductions
# ---------------------------------------------------------------------------------------
REDUCTIONS = [
    ("sum dim", lambda: r(2, 3).sum(5), IndexError, r"sum: dim 5 is out of range for a tensor with 2"),
    ("sum float dim", lambda: r(2, 3).sum(1.5), TypeError, r"sum: dim must be an int or a tuple of ints, got float 1\.5"),
    ("sum repeated dim", lambda: r(2, 3).sum((0, 0)), ValueError, r"sum: dim \(0, 0\) repeats"),
    ("mean of ints", lambda: T([1, 2]).mean(), TypeError, r"mean: input must be a floating-point tensor, got dtype int64"),
    ("max dim", lambda: r(2).max(3), IndexError, r"max: dim 3 is out of range"),
    ("max of empty", lambda: r(0).max(), RuntimeError, r"max: cannot reduce an empty tensor of shape \(0,\)"),
    ("amax of empty", lambda: tl.amax(r(0)), RuntimeError, r"amax: cannot reduce over dim 0 of size 0 \(input of shape \(0,\)\)"),
    ("amin over empty dim", lambda: tl.amin(r(2, 0), 1), RuntimeError,
     r"amin: cannot reduce over dim 1 of size 0 \(input of shape \(2, 0\)\)"),
    ("argmax dim", lambda: r(2).argmax(2), IndexError, r"argmax: dim 2 is out of range"),
    ("softmax dim", lambda: r(2).softmax(2), IndexError, r"softmax: dim 2 is out of range"),
    ("logsumexp ints", lambda: T([1]).logsumexp(0), TypeError, r"logsumexp: input must be floating point, got dtype int64"),
]


@pytest.mark.parametrize("name, fn, exc, match", REDUCTIONS, ids=_ids(REDUCTIONS))
def test_reductions_reject_bad_dims(name, fn, exc, match):
    _check(fn, exc, match)


def test_reductions_over_empty_and_nan_inputs_follow_torch():
    assert np.isnan(r(0).mean().item())
    assert tl.amax(r(2, 0), 0).shape == (0,)  # the empty dim is not reduced: fine
    assert np.isnan(T([1.0, float("nan")]).max().item())


# ---------------------------------------------------------------------------------------
# conv2d
# ---------------------------------------------------------------------------------------
def _x():
    return r(2, 3, 8, 8)


def _w():
    return r(4, 3, 3, 3)


CONV = [
    ("2-d input", lambda: F.conv2d(r(8, 8), _w()), ValueError,
     r"conv2d: expected a 4-D input \(N, C, H, W\), got shape \(8, 8\)"),
    ("5-d input", lambda: F.conv2d(r(1, 2, 3, 8, 8), _w()), ValueError, r"conv2d: .*got shape \(1, 2, 3, 8, 8\)"),
    ("3-d weight", lambda: F.conv2d(_x(), r(4, 3, 3)), ValueError, r"conv2d: expected a 4-D weight, got shape \(4, 3, 3\)"),
    ("channel mismatch", lambda: F.conv2d(_x(), r(4, 2, 3, 3)), ValueError,
     r"conv2d: input has 3 channels but weight \(4, 2, 3, 3\) expects 2 \(groups=1\)"),
    ("groups not dividing", lambda: F.conv2d(_x(), r(4, 1, 3, 3), groups=2), ValueError,
     r"conv2d: groups=2 must divide the input channels \(3\)"),
    ("groups 0", lambda: F.conv2d(_x(), _w(), groups=0), ValueError, r"conv2d: groups must be a positive int, got 0"),
    ("kernel larger than padded input", lambda: F.conv2d(r(1, 3, 2, 2), _w()), ValueError,
     r"conv2d: the padded input \(2x2\) is smaller than the dilated kernel \(3x3\)"),
    ("empty kernel", lambda: F.conv2d(_x(), r(4, 3, 0, 3)), ValueError,
     r"conv2d: the weight \(4, 3, 0, 3\) has an empty kernel"),
    ("stride 0", lambda: F.conv2d(_x(), _w(), stride=0), ValueError, r"conv2d: stride must be >= 1, got \(0, 0\)"),
    ("stride float pair", lambda: F.conv2d(_x(), _w(), stride=(1.5, 1)), TypeError,
     r"conv2d: stride must be an int or a pair of ints, got \(1\.5, 1\)"),
    ("negative padding", lambda: F.conv2d(_x(), _w(), padding=-1), ValueError,
     r"conv2d: padding must be >= 0, got \(-1, -1\)"),
    ("dilation 0", lambda: F.conv2d(_x(), _w(), dilation=0), ValueError, r"conv2d: dilation must be >= 1"),
    ("dtype mismatch", lambda: F.conv2d(_x().double(), _w()), TypeError,
     r"conv2d: expected all tensors to have the same dtype, got input float64, weight float32"),
    ("int input", lambda: F.conv2d(T(np.ones((1, 3, 8, 8), np.int64)), _w()), TypeError,
     r"conv2d: input must be floating point, got dtype int64"),
    ("float16 batch", lambda: F.conv2d(_f16_batch(1, 3, 8, 8), _f16_batch(4, 3, 3, 3)), TypeError,
     r"conv2d: input must be float32 or float64, got dtype float16"),
    ("bias shape", lambda: F.conv2d(_x(), _w(), r(3)), ValueError, r"conv2d: bias must have shape \(4,\), got \(3,\)"),
    ("bias list", lambda: F.conv2d(_x(), _w(), [0.0] * 4), TypeError, r"conv2d: bias must be a Tensor, got list"),
    ("numpy input", lambda: F.conv2d(np.ones((1, 3, 8, 8), np.float32), _w()), TypeError,
     r"conv2d: input must be a Tensor, got ndarray"),
    ("transposed: float16", lambda: F.conv_transpose2d(_f16_batch(2, 3, 8, 8), _f16_batch(3, 3, 3, 3)),
     TypeError, r"conv_transpose2d: input must be float32 or float64, got dtype float16"),
    ("transposed: channels", lambda: F.conv_transpose2d(_x(), r(4, 3, 3, 3)), ValueError,
     r"conv_transpose2d: input has 3 channels but weight \(4, 3, 3, 3\) expects 4"),
]


@pytest.mark.parametrize("name, fn, exc, match", CONV, ids=_ids(CONV))
def test_conv2d_rejects_bad_geometry_and_dtypes(name, fn, exc, match):
    _check(fn, exc, match)


def test_conv2d_propagates_nan_and_inf_like_torch():
    nan_x = T(np.full((1, 3, 4, 4), np.nan, np.float32))
    assert np.isnan(F.conv2d(nan_x, _w())._data).all()
    inf_x = T(np.full((1, 3, 4, 4), np.inf, np.float32))
    assert np.isposinf(F.conv2d(inf_x, tl.ones(1, 3, 3, 3))._data).all()
    assert np.isnan(F.conv2d(_x(), tl.full((4, 3, 3, 3), float("nan")))._data).all()


def test_conv2d_empty_batch_and_channels_give_empty_or_zero_results():
    assert F.conv2d(r(0, 3, 8, 8), _w()).shape == (0, 4, 6, 6)
    # no output channels: refused, as PyTorch ("expected weight to be at least 1 at dim 0")
    with pytest.raises(ValueError, match=r"conv2d: the weight \(0, 3, 3, 3\) has 0 output"):
        F.conv2d(_x(), r(0, 3, 3, 3))
    y = F.conv2d(r(2, 0, 8, 8), r(4, 0, 3, 3))  # a sum over no channels is 0
    assert y.shape == (2, 4, 6, 6) and not y._data.any()


# ---------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------
POOL = [
    ("max: padding > kernel/2", lambda: F.max_pool2d(_x(), 2, padding=2), ValueError,
     r"max_pool2d: padding \(2, 2\) must be at most half the kernel size \(2, 2\)"),
    ("avg: padding > kernel/2", lambda: F.avg_pool2d(_x(), 3, padding=2), ValueError,
     r"avg_pool2d: padding \(2, 2\) must be at most half the kernel size \(3, 3\)"),
    ("max: kernel 0", lambda: F.max_pool2d(_x(), 0), ValueError, r"max_pool2d: kernel_size must be >= 1, got \(0, 0\)"),
    ("avg: kernel 0", lambda: F.avg_pool2d(_x(), 0), ValueError, r"avg_pool2d: kernel_size must be >= 1"),
    ("max: stride 0", lambda: F.max_pool2d(_x(), 2, stride=0), ValueError, r"max_pool2d: stride must be >= 1"),
    ("max: kernel too big", lambda: F.max_pool2d(_x(), 9), ValueError,
     r"max_pool2d: the kernel \(9, 9\) is larger than the padded input 8x8"),
    ("max: 2-d input", lambda: F.max_pool2d(r(8, 8), 2), ValueError, r"max_pool2d: .*got shape \(8, 8\)"),
    ("max: int input", lambda: F.max_pool2d(T(np.ones((1, 1, 4, 4), np.int64)), 2), TypeError,
     r"max_pool2d: input must be floating point, got dtype int64"),
    ("max: float16", lambda: F.max_pool2d(_f16_batch(2, 3, 8, 8), 2), TypeError,
     r"max_pool2d: input must be float32 or float64, got dtype float16"),
    ("avg: float16", lambda: F.avg_pool2d(_f16_batch(2, 3, 8, 8), 2), TypeError,
     r"avg_pool2d: input must be float32 or float64, got dtype float16"),
    ("adaptive: output 0", lambda: F.adaptive_avg_pool2d(_x(), 0), ValueError,
     r"adaptive_avg_pool2d: output_size must be >= 1, got \(0, 0\)"),
    ("adaptive: 2-d input", lambda: F.adaptive_avg_pool2d(r(8, 8), 2), ValueError,
     r"adaptive_avg_pool2d: .*got shape \(8, 8\)"),
    ("adaptive: int input", lambda: F.adaptive_avg_pool2d(T(np.ones((1, 1, 4, 4), np.int64)), 2), TypeError,
     r"adaptive_avg_pool2d: input must be floating point, got dtype int64"),
    ("adaptive: float16", lambda: F.adaptive_avg_pool2d(_f16_batch(2, 3, 8, 8), 2), TypeError,
     r"adaptive_avg_pool2d: input must be float32 or float64, got dtype float16"),
    ("adaptive: empty window", lambda: F.adaptive_avg_pool2d(r(1, 1, 0, 4), 2), ValueError,
     r"adaptive_avg_pool2d: expected non-zero channel and spatial sizes, got input of shape \(1, 1, 0, 4\)"),
]


@pytest.mark.parametrize("name, fn, exc, match", POOL, ids=_ids(POOL))
def test_pooling_rejects_bad_windows_and_dtypes(name, fn, exc, match):
    _check(fn, exc, match)


def test_pooling_propagates_nan_and_handles_empty_batches():
    x = T([[[[1.0, float("nan")], [3.0, 2.0]]]])
    assert np.isnan(F.max_pool2d(x, 2)._data).all()
    assert np.isnan(F.avg_pool2d(x, 2)._data).all()
    assert np.isnan(F.adaptive_avg_pool2d(x, 1)._data).all()
    assert F.max_pool2d(r(0, 3, 8, 8), 2).shape == (0, 3, 4, 4)
    assert F.adaptive_avg_pool2d(r(0, 3, 8, 8), 2).shape == (0, 3, 2, 2)


# ---------------------------------------------------------------------------------------
# Embedding
# ---------------------------------------------------------------------------------------
def _emb_w():
    return r(10, 4)


EMBEDDING = [
    ("index = num", lambda: F.embedding(T([1, 10]), _emb_w()), IndexError,
     r"embedding: indices contain 10, out of range \[0, 10\)"),
    ("negative index", lambda: F.embedding(T([-1]), _emb_w()), IndexError, r"embedding: indices contain -1"),
    ("float indices", lambda: F.embedding(T([1.0]), _emb_w()), TypeError,
     r"embedding: indices must be an integer tensor, got dtype float32"),
    ("bool indices", lambda: F.embedding(T([True]), _emb_w()), TypeError,
     r"embedding: indices must be an integer tensor, got dtype bool"),
    ("1-d weight", lambda: F.embedding(T([1]), r(10)), ValueError, r"embedding: weight must be a 2-D Tensor .* got \(10,\)"),
    ("float16 weight", lambda: F.embedding(T([1]), _f16_batch(10, 4)), TypeError,
     r"embedding: weight must be float32 or float64, got dtype float16"),
    ("float padding_idx", lambda: F.embedding(T([1]), _emb_w(), padding_idx=1.5), TypeError,
     r"embedding: padding_idx must be an int or None, got float 1\.5"),
    ("padding_idx out of range", lambda: F.embedding(T([1]), _emb_w(), padding_idx=10), ValueError,
     r"embedding: padding_idx 10 must be within \[-10, 10\)"),
    ("layer: index out of range", lambda: nn.Embedding(5, 2)(T([5])), IndexError,
     r"embedding: indices contain 5, out of range \[0, 5\)"),
    ("layer: negative size", lambda: nn.Embedding(-1, 4), ValueError, r"Embedding: num_embeddings must be >= 0, got -1"),
    ("layer: float size", lambda: nn.Embedding(5.5, 2), TypeError, r"Embedding: num_embeddings must be an int, got float 5\.5"),
    ("one_hot negative", lambda: F.one_hot(T([-1]), 3), IndexError, r"one_hot: class values contain -1"),
]


@pytest.mark.parametrize("name, fn, exc, match", EMBEDDING, ids=_ids(EMBEDDING))
def test_embedding_validates_indices_before_the_kernel(name, fn, exc, match):
    _check(fn, exc, match)


def test_embedding_max_norm_refuses_bad_indices_before_renormalising():
    w = _emb_w()
    before = w._data.copy()
    with pytest.raises(IndexError, match=r"embedding: indices contain 11"):
        F.embedding(T([0, 11]), w, max_norm=0.1)
    np.testing.assert_array_equal(w._data, before)


# ---------------------------------------------------------------------------------------
# Losses and dropout
# ---------------------------------------------------------------------------------------
def _logits():
    return r(4, 5)


def _targets():
    return T([0, 1, 2, 3])


LOSSES = [
    ("ce: target out of range", lambda: F.cross_entropy(_logits(), T([0, 1, 2, 5])), IndexError,
     r"cross_entropy: target contains 5, out of range \[0, 5\)"),
    ("ce: negative target", lambda: F.cross_entropy(_logits(), T([0, 1, 2, -1])), IndexError,
     r"cross_entropy: target contains -1"),
    ("ce: bool target", lambda: F.cross_entropy(_logits(), T([True, False, True, True])), TypeError,
     r"cross_entropy: target must be an integer tensor .* got dtype bool"),
    ("ce: float target of wrong shape", lambda: F.cross_entropy(_logits(), T([0.0, 1.0, 2.0, 3.0])), ValueError,
     r"cross_entropy: probability targets must have the input's shape \(4, 5\), got \(4,\)"),
    ("ce: batch mismatch", lambda: F.cross_entropy(_logits(), T([0, 1, 2])), ValueError,
     r"cross_entropy: expected target of shape \(4,\) for input of shape \(4, 5\), got \(3,\)"),
    ("ce: label_smoothing < 0", lambda: F.cross_entropy(_logits(), _targets(), label_smoothing=-0.1), ValueError,
     r"cross_entropy: label_smoothing must be in \[0\.0, 1\.0\], got -0\.1"),
    ("ce: label_smoothing > 1", lambda: F.cross_entropy(_logits(), _targets(), label_smoothing=1.5), ValueError,
     r"cross_entropy: label_smoothing must be in .*got 1\.5"),
    ("ce: label_smoothing NaN", lambda: F.cross_entropy(_logits(), _targets(), label_smoothing=float("nan")),
     ValueError, r"cross_entropy: label_smoothing must be in .*got nan"),
    ("ce: label_smoothing str", lambda: F.cross_entropy(_logits(), _targets(), label_smoothing="a"), TypeError,
     r"cross_entropy: label_smoothing must be a real number, got str 'a'"),
    ("ce: float ignore_index", lambda: F.cross_entropy(_logits(), _targets(), ignore_index=1.5), TypeError,
     r"cross_entropy: ignore_index must be an int, got float 1\.5"),
    ("ce: 0-d input", lambda: F.cross_entropy(r(), T(0)), ValueError,
     r"cross_entropy: input must have at least 1 dim \(classes\), got a 0-d tensor"),
    ("ce: class weight shape", lambda: F.cross_entropy(_logits(), _targets(), weight=r(3)), ValueError,
     r"cross_entropy: weight must be a Tensor of shape \(5,\) \(one per class\), got \(3,\)"),
    ("ce: float16 logits", lambda: F.cross_entropy(_f16_batch(4, 5), _targets()), TypeError,
     r"cross_entropy: input must be float32 or float64, got dtype float16"),
    ("ce: int logits", lambda: F.cross_entropy(T([[1, 2]]), T([0])), TypeError,
     r"cross_entropy: input must be a floating-point tensor, got dtype int64"),
    ("ce: reduction", lambda: F.cross_entropy(_logits(), _targets(), reduction="avg"), ValueError,
     r"cross_entropy: reduction must be one of .* got 'avg'"),
    ("nll: target out of range", lambda: F.nll_loss(_logits(), T([0, 1, 2, 5])), IndexError,
     r"nll_loss: target contains 5, out of range \[0, 5\)"),
    ("nll: 0-d input", lambda: F.nll_loss(r(), T(0)), ValueError, r"nll_loss: input must have at least 1 dim"),
    ("nll: float target", lambda: F.nll_loss(_logits(), T([0.0, 1.0, 2.0, 3.0])), TypeError,
     r"nll_loss: target must be an integer tensor .* got dtype float32"),
    ("nll: int input", lambda: F.nll_loss(T([[1, 2]]), T([0])), TypeError,
     r"nll_loss: input must be a floating-point tensor, got dtype int64"),
    ("nll: weight shape", lambda: F.nll_loss(_logits(), _targets(), weight=r(3)), ValueError,
     r"nll_loss: weight must be a Tensor of shape \(5,\) .* got \(3,\)"),
    ("mse: non-broadcastable", lambda: F.mse_loss(r(3), r(4)), ValueError,
     r"mse_loss: shapes \(3,\), \(4,\) cannot be broadcast"),
    ("mse: string target", lambda: F.mse_loss(r(3), "abc"), TypeError, r"mse_loss: unsupported operand of type str"),
    ("bce: shape", lambda: F.binary_cross_entropy_with_logits(r(3), r(4)), ValueError,
     r"binary_cross_entropy_with_logits: target size \(4,\) must be the same as input size \(3,\)"),
    ("bce: weight shape", lambda: F.binary_cross_entropy_with_logits(r(3), r(3), weight=r(4)), ValueError,
     r"binary_cross_entropy_with_logits: shapes \(4,\), \(3,\) cannot be broadcast"),
    ("bce: pos_weight widens", lambda: F.binary_cross_entropy_with_logits(r(3), r(3), pos_weight=r(2, 3)),
     ValueError, r"binary_cross_entropy_with_logits: pos_weight of shape \(2, 3\) does not broadcast to .*\(3,\)"),
    ("dropout p < 0", lambda: F.dropout(r(3), -0.1), ValueError, r"dropout: probability must be in \[0, 1\], got -0\.1"),
    ("dropout p > 1", lambda: F.dropout(r(3), 1.5), ValueError, r"dropout: probability must be in \[0, 1\], got 1\.5"),
    ("dropout p NaN", lambda: F.dropout(r(3), float("nan")), ValueError, r"dropout: probability .* got nan"),
    ("dropout p str", lambda: F.dropout(r(3), "a"), TypeError, r"dropout: probability must be a number, got str"),
    ("Dropout layer p", lambda: nn.Dropout(1.5), ValueError, r"Dropout: probability .* got 1\.5"),
]


@pytest.mark.parametrize("name, fn, exc, match", LOSSES, ids=_ids(LOSSES))
def test_losses_reject_bad_targets_and_options(name, fn, exc, match):
    _check(fn, exc, match)


def test_losses_edge_cases_follow_torch():
    empty = T(np.zeros(0, np.int64))
    assert np.isnan(F.cross_entropy(r(0, 5), empty).item())       # mean over nothing
    assert F.cross_entropy(r(0, 5), empty, reduction="sum").item() == 0.0
    assert np.isnan(F.cross_entropy(_logits(), T([-100] * 4)).item())  # all ignored
    # an ignored target may lie outside [0, C): it is never looked up
    assert np.isfinite(F.cross_entropy(_logits(), T([0, 1, 2, 7]), ignore_index=7).item())
    assert np.isnan(F.cross_entropy(tl.full((2, 3), float("nan")), T([0, 1])).item())
    assert np.isnan(F.binary_cross_entropy_with_logits(T([float("nan")]), T([1.0])).item())


# ---------------------------------------------------------------------------------------
# Layers
# ---------------------------------------------------------------------------------------
LAYERS = [
    ("Linear in_features", lambda: nn.Linear(3, 4)(r(2, 5)), ValueError,
     r"linear: input of shape \(2, 5\) does not match weight of shape \(4, 3\)"),
    ("Linear float64 input", lambda: nn.Linear(3, 4)(r(2, 3).double()), TypeError,
     r"linear: input \(float64\), weight \(float32\)"),
    ("Linear negative size", lambda: nn.Linear(-1, 4), ValueError, r"Linear: in_features must be >= 0, got -1"),
    ("Linear float size", lambda: nn.Linear(2.5, 4), TypeError, r"Linear: in_features must be an int, got float 2\.5"),
    ("F.linear list bias", lambda: F.linear(r(2, 3), r(4, 3), [0.0] * 4), TypeError,
     r"linear: bias must be a Tensor, got list"),
    ("Conv2d channels", lambda: nn.Conv2d(4, 8, 3)(_x()), ValueError,
     r"conv2d: input has 3 channels but weight \(8, 4, 3, 3\) expects 4"),
    ("Conv2d negative channels", lambda: nn.Conv2d(-1, 8, 3), ValueError, r"Conv2d: in_channels must be >= 0, got -1"),
    ("Conv2d groups 0", lambda: nn.Conv2d(4, 8, 3, groups=0), ValueError, r"Conv2d: groups must be a positive integer, got 0"),
    ("Conv2d float groups", lambda: nn.Conv2d(4, 8, 3, groups=2.0), ValueError,
     r"Conv2d: groups must be a positive integer, got 2\.0"),
    ("BatchNorm2d channels", lambda: nn.BatchNorm2d(4)(_x()), ValueError,
     r"BatchNorm2d: expected 4 channels \(dim 1\), got input of shape \(2, 3, 8, 8\)"),
    ("BatchNorm1d batch of 1", lambda: nn.BatchNorm1d(3)(r(1, 3)), ValueError,
     r"batch_norm: expected more than 1 value per channel when training, got input of shape \(1, 3\)"),
    ("BatchNorm1d float64 input", lambda: nn.BatchNorm1d(3)(r(4, 3).double()), TypeError,
     r"batch_norm: input \(float64\) and running_mean \(float32\) must have the same dtype"),
    ("BatchNorm1d negative size", lambda: nn.BatchNorm1d(-2), ValueError, r"BatchNorm1d: num_features must be >= 0, got -2"),
    ("LayerNorm shape", lambda: nn.LayerNorm(4)(r(2, 3)), ValueError,
     r"layer_norm: input of shape \(2, 3\) does not end with normalized_shape \(4,\)"),
    ("LayerNorm float64 input", lambda: nn.LayerNorm(3)(r(2, 3).double()), TypeError,
     r"layer_norm: input \(float64\) and weight \(float32\) must have the same dtype"),
    ("LayerNorm negative shape", lambda: nn.LayerNorm(-3), ValueError, r"LayerNorm: normalized_shape entry must be >= 0, got -3"),
    ("Sequential non-module", lambda: nn.Sequential(nn.ReLU(), 3), TypeError,
     r"Sequential: cannot add child '1': int is not a Module subclass"),
    ("init: kaiming on 1-d", lambda: nn.init.kaiming_uniform_(r(3)), ValueError,
     r"kaiming_uniform_: Fan in and fan out .* \(got shape \(3,\)\)"),
    ("init: uniform a > b", lambda: nn.init.uniform_(r(3), 1.0, 0.0), ValueError, r"uniform_: expects a <= b, got a=1\.0, b=0\.0"),
    ("init: negative std", lambda: nn.init.normal_(r(3), 0.0, -1.0), ValueError, r"normal_: expects std >= 0, got std=-1\.0"),
]


@pytest.mark.parametrize("name, fn, exc, match", LAYERS, ids=_ids(LAYERS))
def test_layers_reject_wrong_sizes_and_dtypes(name, fn, exc, match):
    _check(fn, exc, match)


@pytest.mark.parametrize("bad", [lambda: r(1, 3), lambda: r(4, 3).double(),
                                 lambda: T([[1, 2, 3], [4, 5, 6]])],
                         ids=["batch of 1", "float64 input", "int input"])
def test_batchnorm_refusing_a_batch_leaves_running_stats_and_counter_unchanged(bad):
    bn = nn.BatchNorm1d(3)
    bn(r(8, 3))  # some history
    before = {k: v._data.copy() for k, v in bn.state_dict().items()}
    with pytest.raises((ValueError, TypeError), match="batch_norm"):
        bn(bad())
    for k, v in bn.state_dict().items():
        np.testing.assert_array_equal(v._data, before[k], err_msg=k)


def test_batchnorm_cumulative_average_still_counts_batches():
    bn = nn.BatchNorm1d(2, momentum=None)
    x1, x2 = r(5, 2), r(5, 2)
    bn(x1)
    bn(x2)
    assert int(bn.num_batches_tracked) == 2
    mean = (x1._data.mean(0) + x2._data.mean(0)) / 2  # momentum 1, then 1/2
    np.testing.assert_allclose(bn.running_mean._data, mean, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------------------
# Recurrent layers and cells
# ---------------------------------------------------------------------------------------
RNN = []
for _cls in ("RNN", "LSTM", "GRU"):
    _h = "h_0" if _cls == "LSTM" else "hx"

    def _hx(h, cls=_cls):
        # for LSTM the bad h_0 comes with a good c_0, so the error can only be about h_0
        return (h, r(1, 2, 5)) if cls == "LSTM" else h

    RNN += [
        (f"{_cls}: input size", lambda c=_cls: getattr(nn, c)(3, 5)(r(7, 2, 4)), ValueError,
         rf"{_cls}: input has 4 features but input_size is 3 \(input shape \(7, 2, 4\)\)"),
        (f"{_cls}: 4-d input", lambda c=_cls: getattr(nn, c)(3, 5)(r(7, 2, 3, 1)), ValueError,
         rf"{_cls}: expected a 2-D \(unbatched\) or 3-D input, got shape \(7, 2, 3, 1\)"),
        (f"{_cls}: dtype", lambda c=_cls: getattr(nn, c)(3, 5)(r(7, 2, 3).double()), TypeError,
         rf"{_cls}: input dtype float64 does not match the parameters' float32"),
        (f"{_cls}: empty sequence", lambda c=_cls: getattr(nn, c)(3, 5)(r(0, 2, 3)), ValueError,
         rf"{_cls}: expected a sequence length larger than 0, got input of shape \(0, 2, 3\)"),
        (f"{_cls}: h0 shape", lambda c=_cls, f=_hx: getattr(nn, c)(3, 5)(r(7, 2, 3), f(r(1, 3, 5))),
         ValueError, rf"{_cls}: expected {_h} of shape \(1, 2, 5\), got \(1, 3, 5\)"),
        (f"{_cls}: h0 dtype", lambda c=_cls, f=_hx: getattr(nn, c)(3, 5)(r(7, 2, 3), f(r(1, 2, 5).double())),
         TypeError, rf"{_cls}: {_h} has dtype float64 but the input and parameters are float32"),
        (f"{_cls}: h0 list", lambda c=_cls, f=_hx: getattr(nn, c)(3, 5)(r(7, 2, 3), f([0.0])),
         TypeError, rf"{_cls}: {_h} must be a Tensor, got list"),
        (f"{_cls}: batch_first mismatch",
         lambda c=_cls, f=_hx: getattr(nn, c)(3, 5, batch_first=True)(r(7, 2, 3), f(r(1, 2, 5))),
         ValueError, rf"{_cls}: expected {_h} of shape \(1, 7, 5\), got \(1, 2, 5\)"),
    ]
RNN += [
    ("LSTM: hx not a tuple", lambda: nn.LSTM(3, 5)(r(7, 2, 3), r(1, 2, 5)), TypeError,
     r"LSTM: hx must be a tuple \(h_0, c_0\)"),
    ("LSTM: c0 shape", lambda: nn.LSTM(3, 5)(r(7, 2, 3), (r(1, 2, 5), r(2, 2, 5))), ValueError,
     r"LSTM: expected c_0 of shape \(1, 2, 5\), got \(2, 2, 5\)"),
    ("RNN: negative hidden", lambda: nn.RNN(3, -5), ValueError, r"RNN: hidden_size must be a positive int, got -5"),
]
for _cls in ("RNNCell", "LSTMCell", "GRUCell"):
    _h = "h_0" if _cls == "LSTMCell" else "hx"

    def _chx(h, cls=_cls):
        return (h, r(*h.shape)) if cls == "LSTMCell" else h

    RNN += [
        (f"{_cls}: input size", lambda c=_cls: getattr(nn, c)(3, 5)(r(2, 4)), ValueError,
         rf"{_cls}: input has 4 features but input_size is 3"),
        (f"{_cls}: 3-d input", lambda c=_cls: getattr(nn, c)(3, 5)(r(1, 2, 3)), ValueError,
         rf"{_cls}: expected a 1-D or 2-D input, got shape \(1, 2, 3\)"),
        (f"{_cls}: dtype", lambda c=_cls: getattr(nn, c)(3, 5)(r(2, 3).double()), TypeError,
         rf"{_cls}: input dtype float64 does not match the parameters' float32"),
        (f"{_cls}: hidden batch", lambda c=_cls, f=_chx: getattr(nn, c)(3, 5)(r(2, 3), f(r(3, 5))),
         ValueError, rf"{_cls}: expected {_h} of shape \(2, 5\) for input of shape \(2, 3\), got \(3, 5\)"),
        (f"{_cls}: hidden size", lambda c=_cls, f=_chx: getattr(nn, c)(3, 5)(r(2, 3), f(r(2, 4))),
         ValueError, rf"{_cls}: expected {_h} of shape \(2, 5\) .* got \(2, 4\)"),
        (f"{_cls}: negative size", lambda c=_cls: getattr(nn, c)(3, -5), ValueError,
         rf"{_cls}: hidden_size must be a positive int, got -5"),
    ]
RNN += [
    # unpacking a (2, 5) tensor as (h, c) would silently use its rows as the two states
    ("LSTMCell: hx a tensor", lambda: nn.LSTMCell(3, 5)(r(2, 3), r(2, 5)), TypeError,
     r"LSTMCell: hx must be a tuple \(h_0, c_0\), got Tensor"),
]


@pytest.mark.parametrize("name, fn, exc, match", RNN, ids=_ids(RNN))
def test_recurrent_layers_reject_wrong_inputs_and_states(name, fn, exc, match):
    _check(fn, exc, match)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_recurrent_layers_accept_an_empty_batch_like_torch(cls):
    m = getattr(nn, cls)(3, 5, num_layers=2, bidirectional=True)
    x = tl.randn(4, 0, 3, requires_grad=True)
    out, _ = m(x)
    assert out.shape == (4, 0, 10)
    out.sum().backward()
    assert x.grad.shape == (4, 0, 3)
    assert not m.weight_ih_l0.grad._data.any()


# ---------------------------------------------------------------------------------------
# load_state_dict: all-or-nothing
# ---------------------------------------------------------------------------------------
def _model():
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))


def _full_state(model, value=7.0):
    sd = {k: np.full(v.shape, value, np.float32) for k, v in model.state_dict().items()}
    sd["1.num_batches_tracked"] = np.array(3)
    return sd


STATE_DICT = [
    ("shape of the last key", lambda sd: sd.__setitem__("2.bias", np.zeros(3)),
     r"size mismatch for 2\.bias: copying a param with shape \(3,\) .* current model is \(2,\)"),
    ("missing key", lambda sd: sd.pop("2.bias"), r'Missing key\(s\) in state_dict: "2\.bias"'),
    ("unexpected key", lambda sd: sd.__setitem__("3.weight", np.zeros(3)),
     r'Unexpected key\(s\) in state_dict: "3\.weight"'),
    ("string value", lambda sd: sd.__setitem__("2.bias", "ab"), r"bad value for 2\.bias: .* got str"),
    ("complex value", lambda sd: sd.__setitem__("2.bias", np.zeros(2, np.complex64)),
     r"bad value for 2\.bias: .* ndarray of dtype complex64"),
    ("fraction into an int buffer", lambda sd: sd.__setitem__("1.num_batches_tracked", np.array(2.5)),
     r"bad value for 1\.num_batches_tracked: value 2\.5 of dtype float64 cannot be stored in a int64"),
    ("NaN into an int buffer", lambda sd: sd.__setitem__("1.num_batches_tracked", np.array(np.nan)),
     r"bad value for 1\.num_batches_tracked: value nan"),
]


@pytest.mark.parametrize("name, mutate, match", STATE_DICT, ids=_ids(STATE_DICT))
def test_load_state_dict_with_one_bad_entry_changes_nothing(name, mutate, match):
    model = _model()
    before = {k: v._data.copy() for k, v in model.state_dict().items()}
    versions = {k: v._version_count for k, v in model.state_dict(keep_vars=True).items()}
    sd = _full_state(model)
    mutate(sd)
    with pytest.raises(RuntimeError, match=match):
        model.load_state_dict(sd)
    for k, v in model.state_dict(keep_vars=True).items():
        np.testing.assert_array_equal(v._data, before[k], err_msg=k)
        assert v._version_count == versions[k], k


def test_load_state_dict_still_loads_integral_floats_into_int_buffers():
    model = _model()
    sd = _full_state(model)
    sd["1.num_batches_tracked"] = np.array(4.0)
    model.load_state_dict(sd)
    assert int(model[1].num_batches_tracked) == 4
    assert (model[0].weight._data == 7.0).all()


def test_load_state_dict_size_mismatch_is_an_error_even_when_not_strict():
    m = nn.Linear(2, 2)
    before = m.weight._data.copy(), m.bias._data.copy()
    with pytest.raises(RuntimeError, match=r"size mismatch for weight"):
        m.load_state_dict({"weight": np.zeros((3, 3)), "bias": np.zeros(2)}, strict=False)
    np.testing.assert_array_equal(m.weight._data, before[0])
    np.testing.assert_array_equal(m.bias._data, before[1])


# ---------------------------------------------------------------------------------------
# Optimizers and gradient clipping
# ---------------------------------------------------------------------------------------
def _p(*shape):
    return nn.Parameter(r(*shape))


OPTIM = [
    ("SGD negative lr", lambda: tl.optim.SGD([_p(3)], lr=-1), ValueError, r"SGD: invalid learning rate -1"),
    ("SGD NaN lr", lambda: tl.optim.SGD([_p(3)], lr=float("nan")), ValueError, r"SGD: invalid learning rate nan"),
    ("SGD negative momentum", lambda: tl.optim.SGD([_p(3)], lr=0.1, momentum=-0.5), ValueError,
     r"SGD: invalid momentum -0\.5"),
    ("Adam beta1 = 1", lambda: tl.optim.Adam([_p(3)], betas=(1.0, 0.9)), ValueError,
     r"Adam: invalid beta parameter at index 0: 1\.0"),
    ("Adam negative beta2", lambda: tl.optim.Adam([_p(3)], betas=(0.9, -0.1)), ValueError,
     r"Adam: invalid beta parameter at index 1: -0\.1"),
    ("Adam one beta", lambda: tl.optim.Adam([_p(3)], betas=(0.9,)), ValueError, r"Adam: betas must be a pair .* got \(0\.9,\)"),
    ("Adam negative eps", lambda: tl.optim.Adam([_p(3)], eps=-1e-8), ValueError, r"Adam: invalid epsilon value -1e-08"),
    ("RMSprop negative alpha", lambda: tl.optim.RMSprop([_p(3)], alpha=-0.1), ValueError, r"RMSprop: invalid alpha value -0\.1"),
    ("empty parameter list", lambda: tl.optim.SGD([], lr=0.1), ValueError, r"SGD: got an empty parameter list"),
    ("empty generator", lambda: tl.optim.Adam(iter([])), ValueError, r"Adam: got an empty parameter list"),
    ("integer parameter", lambda: tl.optim.SGD([T([1, 2])], lr=0.1), TypeError,
     r"SGD: can only optimize floating-point tensors, got dtype int64 at position 0"),
    ("clip: negative max_norm", lambda: nn.utils.clip_grad_norm_([_p(3)], -1.0), ValueError,
     r"clip_grad_norm_: max_norm must be a non-negative number, got -1\.0"),
    ("clip: NaN max_norm", lambda: nn.utils.clip_grad_norm_([_p(3)], float("nan")), ValueError,
     r"clip_grad_norm_: max_norm must be a non-negative number, got nan"),
    ("clip: string norm_type", lambda: nn.utils.clip_grad_norm_([_p(3)], 1.0, "fro"), ValueError,
     r"clip_grad_norm_: norm_type must be a number, got 'fro'"),
    ("clip: negative clip_value", lambda: nn.utils.clip_grad_value_([_p(3)], -1.0), ValueError,
     r"clip_grad_value_: clip_value must be a non-negative number, got -1\.0"),
]


@pytest.mark.parametrize("name, fn, exc, match", OPTIM, ids=_ids(OPTIM))
def test_optimizers_and_clipping_reject_bad_hyperparameters(name, fn, exc, match):
    _check(fn, exc, match)


@pytest.mark.parametrize("make", [
    lambda groups: tl.optim.SGD(groups, lr=0.1, momentum=0.9),
    lambda groups: tl.optim.Adam(groups),
    lambda groups: tl.optim.RMSprop(groups, momentum=0.5, centered=True),
], ids=["SGD", "Adam", "RMSprop"])
@pytest.mark.parametrize("bad_grad, exc, match", [
    (lambda: r(3), RuntimeError, r"\.step: gradient of shape \(3,\) for a parameter of shape \(2,\)"),
    (lambda: T([1, 2]), TypeError, r"\.step: gradient of dtype int64 for a parameter of dtype float32"),
], ids=["wrong shape", "int grad"])
def test_a_step_that_raises_leaves_every_parameter_and_state_unchanged(make, bad_grad, exc, match):
    a, b = _p(3), _p(2)
    opt = make([{"params": [a]}, {"params": [b]}])
    a.grad = r(3)
    b.grad = r(2)
    opt.step()  # some state to keep
    a.grad, b.grad = r(3), bad_grad()  # the bad gradient is in the LAST group
    before = a._data.copy(), b._data.copy()
    state = {id(p): {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in st.items()}
             for p, st in opt.state.items()}
    with pytest.raises(exc, match=match):
        opt.step()
    np.testing.assert_array_equal(a._data, before[0])
    np.testing.assert_array_equal(b._data, before[1])
    for p, st in opt.state.items():
        for k, v in st.items():
            np.testing.assert_array_equal(v, state[id(p)][k], err_msg=k)


def test_refused_clipping_leaves_gradients_unchanged():
    p = _p(3)
    p.grad = T([3.0, 4.0, 0.0])
    for bad in (lambda: nn.utils.clip_grad_norm_([p], -1.0),
                lambda: nn.utils.clip_grad_value_([p], -1.0)):
        with pytest.raises(ValueError):
            bad()
    np.testing.assert_array_equal(p.grad._data, [3.0, 4.0, 0.0])
    nn.utils.clip_grad_norm_([p], 1.0, "inf")  # PyTorch's spelling of the max-norm works
    assert np.abs(p.grad._data).max() <= 1.0


# ---------------------------------------------------------------------------------------
# Serialization and data
# ---------------------------------------------------------------------------------------
def _write(path, data):
    path.write_bytes(data)
    return path


SERIAL = [
    ("save a function", lambda p: tl.save({"f": lambda: 0}, p / "a"), TypeError,
     r"save: cannot save an object of type function at obj\['f'\]"),
    ("save a set", lambda p: tl.save({1, 2}, p / "a"), TypeError, r"save: cannot save an object of type set"),
    ("save a module", lambda p: tl.save(nn.Linear(2, 2), p / "a"), TypeError,
     r"save: cannot save a whole Linear .*state_dict"),
    ("save an object array", lambda p: tl.save(np.array([None]), p / "a"), TypeError,
     r"save: the array at obj has dtype object"),
    ("load a text file", lambda p: tl.load(_write(p / "t.txt", b"hello world")), ValueError,
     r"load: .*t\.txt: not a readable tensorlite file \(not an \.npz/zip archive\)"),
    ("load an empty file", lambda p: tl.load(_write(p / "e.npz", b"")), ValueError,
     r"load: .*e\.npz: not a readable tensorlite file \(the file is empty\)"),
    ("load a truncated zip", lambda p: tl.load(_write(p / "z.npz", b"PK\x03\x04 cut")), ValueError,
     r"load: .*z\.npz is not a readable tensorlite file"),
]


@pytest.mark.parametrize("name, fn, exc, match", SERIAL, ids=_ids(SERIAL))
def test_serialization_rejects_unsupported_objects_and_foreign_files(name, fn, exc, match, tmp_path):
    _check(lambda: fn(tmp_path), exc, match)


def test_a_refused_save_keeps_the_previous_file(tmp_path):
    path = tmp_path / "ckpt.npz"
    tl.save({"epoch": 1}, path)
    with pytest.raises(TypeError, match="save: cannot save"):
        tl.save({"epoch": 2, "f": print}, path)
    assert tl.load(path) == {"epoch": 1}
    assert os.listdir(tmp_path) == ["ckpt.npz"]


DATA = [
    ("batch_size 0", lambda: DataLoader(TensorDataset(r(4, 2)), batch_size=0), ValueError,
     r"DataLoader: batch_size must be a positive int, got 0"),
    ("batch_size float", lambda: DataLoader(TensorDataset(r(4, 2)), batch_size=2.5), ValueError,
     r"DataLoader: batch_size must be a positive int, got 2\.5"),
    ("TensorDataset lengths", lambda: TensorDataset(r(10, 2), r(9)), ValueError,
     r"TensorDataset: tensors have shapes \(10, 2\), \(9,\)"),
]


@pytest.mark.parametrize("name, fn, exc, match", DATA, ids=_ids(DATA))
def test_data_rejects_bad_loader_arguments(name, fn, exc, match):
    _check(fn, exc, match)


def test_backward_refuses_an_integer_gradient_tensor_and_casts_other_floats():
    x = tl.randn(3, requires_grad=True)
    with pytest.raises(TypeError, match=r"backward: gradient must be floating point .*int64"):
        (x * 2).backward(tl.tensor([1, 2, 3]))
    assert x.grad is None
    (x * 2).backward(tl.ones(3, dtype=tl.float64))     # cast to the output's float32
    assert x.grad.dtype == tl.float32
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2, 2])
