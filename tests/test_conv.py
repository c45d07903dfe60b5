"""conv2d / conv_transpose2d: hand-picked edge cases against PyTorch, errors, the lecture's
flipped-kernel example."""
import numpy as np
import pytest

import tensorlite as tl
from tensorlite.ops.conv import conv2d, conv_transpose2d
from tensorlite.testing import gradcheck, gradgradcheck
from tensorlite.testing.opinfo_conv import _np_conv2d

EDGE_CASES = {
    # name: (x shape, w shape, kwargs)
    "depthwise_groups_equal_channels": ((2, 4, 6, 6), (4, 1, 3, 3), dict(groups=4, padding=1)),
    "dilation2_stride2": ((2, 3, 9, 8), (5, 3, 3, 3), dict(dilation=2, stride=2)),
    "padding_larger_than_half_kernel": ((1, 2, 4, 5), (3, 2, 3, 3), dict(padding=3)),
    "one_by_one_kernel": ((3, 5, 4, 4), (7, 5, 1, 1), {}),
    "batch_one": ((1, 3, 5, 5), (2, 3, 3, 3), dict(padding=1)),
    "kernel_as_large_as_padded_input": ((2, 2, 3, 4), (3, 2, 5, 6), dict(padding=1)),
    "non_square_everything": ((2, 4, 7, 5), (6, 2, 3, 2), dict(stride=(2, 1), padding=(1, 2),
                                                               dilation=(1, 2), groups=2)),
}


@pytest.mark.parametrize("name", list(EDGE_CASES))
def test_conv2d_edge_case_matches_reference_and_gradchecks(name):
    xs, ws, kw = EDGE_CASES[name]
    rng = np.random.default_rng(1)
    x = tl.tensor(rng.standard_normal(xs), requires_grad=True)
    w = tl.tensor(rng.standard_normal(ws), requires_grad=True)
    b = tl.tensor(rng.standard_normal(ws[0]), requires_grad=True)
    y = conv2d(x, w, b, **kw)
    want = _np_conv2d(x.numpy(), w.numpy(), **kw) + b.numpy()[None, :, None, None]
    np.testing.assert_allclose(y.numpy(), want, atol=1e-10)
    assert gradcheck(lambda x, w, b: conv2d(x, w, b, **kw), (x, w, b), fast_mode=True)
    assert gradgradcheck(lambda x, w: conv2d(x, w, **kw), (x, w), fast_mode=True)


@pytest.mark.parametrize("name", list(EDGE_CASES))
def test_conv2d_edge_case_matches_pytorch(name):
    torch = pytest.importorskip("torch")
    xs, ws, kw = EDGE_CASES[name]
    rng = np.random.default_rng(2)
    xa, wa, ba = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])
    x, w, b = (tl.tensor(a, requires_grad=True) for a in (xa, wa, ba))
    X, W, B = (torch.tensor(a, requires_grad=True) for a in (xa, wa, ba))
    y = conv2d(x, w, b, **kw)
    Y = torch.nn.functional.conv2d(X, W, B, **kw)
    np.testing.assert_allclose(y.numpy(), Y.detach().numpy(), atol=1e-10)
    g = rng.standard_normal(y.shape)
    ours = tl.autograd.grad(y, [x, w, b], tl.tensor(g))
    theirs = torch.autograd.grad(Y, [X, W, B], torch.tensor(g))
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.numpy(), t.numpy(), atol=1e-9)


def test_float32_agrees_with_float64():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 3, 10, 10))
    w = rng.standard_normal((8, 3, 3, 3))
    y64 = conv2d(tl.tensor(x), tl.tensor(w), padding=1).numpy()
    y32 = conv2d(tl.tensor(x, dtype=tl.float32), tl.tensor(w, dtype=tl.float32), padding=1)
    assert y32.dtype == tl.float32
    np.testing.assert_allclose(y32.numpy(), y64, rtol=1e-4, atol=1e-4)


def test_lecture_flipped_kernel_convolution_worked_example():
    # The lecture's convolution flips the kernel: (I * K)(i, j) = sum_{m,n} I(i-m, j-n) K(m, n).
    image = tl.tensor([[[[1.0, 2.0, 0.0],
                         [0.0, 1.0, 3.0],
                         [2.0, 1.0, 0.0]]]])
    kernel = tl.tensor([[[[1.0, 0.0],
                          [2.0, -1.0]]]])
    flipped = conv2d(image, kernel.flip((-2, -1)))
    # By hand, top-left output: I(0,0)K(1,1) + I(0,1)K(1,0) + I(1,0)K(0,1) + I(1,1)K(0,0)
    #                         = 1*(-1) + 2*2 + 0*0 + 1*1 = 4
    np.testing.assert_allclose(flipped.numpy()[0, 0], [[4.0, 1.0], [3.0, 5.0]])
    # Without the flip it is cross-correlation (PyTorch's convention):
    np.testing.assert_allclose(conv2d(image, kernel).numpy()[0, 0], [[0.0, 1.0], [3.0, 3.0]])


def test_conv_transpose2d_is_the_input_gradient_of_conv2d():
    rng = np.random.default_rng(4)
    x = tl.tensor(rng.standard_normal((2, 4, 7, 7)), requires_grad=True)
    w = tl.tensor(rng.standard_normal((6, 2, 3, 3)))
    y = conv2d(x, w, stride=2, padding=1, groups=2)
    g = tl.tensor(rng.standard_normal(y.shape))
    (gx,) = tl.autograd.grad(y, x, g)
    np.testing.assert_allclose(conv_transpose2d(g, w, stride=2, padding=1, groups=2).numpy(),
                               gx.numpy(), atol=1e-12)


@pytest.mark.parametrize("args, kwargs, message", [
    (((1, 3, 5, 5), (2, 4, 3, 3)), {}, r"conv2d: input has 3 channels but weight \(2, 4, 3, 3\) "
                                       r"expects 4 \(groups=1\)"),
    (((1, 4, 5, 5), (3, 2, 3, 3)), dict(groups=2), r"groups=2 must divide"),
    (((1, 1, 2, 2), (1, 1, 3, 3)), {}, r"smaller than the dilated kernel"),
    (((1, 1, 5, 5), (1, 1, 3, 3)), dict(stride=0), r"stride must be >= 1"),
    (((1, 1, 5, 5), (1, 1, 3, 3)), dict(padding=-1), r"padding must be >= 0"),
    (((5, 5), (1, 1, 3, 3)), {}, r"expected a 4-D input"),
])
def test_bad_input_raises_a_clear_error(args, kwargs, message):
    x, w = tl.zeros(*args[0]), tl.zeros(*args[1])
    with pytest.raises((ValueError, TypeError), match=message):
        conv2d(x, w, **kwargs)


def test_mixed_dtypes_are_an_error():
    with pytest.raises(TypeError, match="conv2d: expected all tensors to have the same dtype"):
        conv2d(tl.zeros(1, 1, 4, 4), tl.zeros(1, 1, 3, 3, dtype=tl.float64))


@pytest.mark.parametrize("kernel,dilation", [((3, 2), 1), ((4, 4), 1), ((2, 3), (1, 2))])
def test_same_padding_with_an_even_kernel_pads_bottom_right_as_pytorch(kernel, dilation):
    rng = np.random.default_rng(0)
    x = tl.tensor(rng.standard_normal((2, 3, 6, 5)), requires_grad=True)
    w = tl.tensor(rng.standard_normal((4, 3) + kernel), requires_grad=True)
    y = conv2d(x, w, padding="same", dilation=dilation)
    assert y.shape == (2, 4, 6, 5)
    assert gradcheck(lambda a, b: conv2d(a, b, padding="same", dilation=dilation), (x, w))
    torch = pytest.importorskip("torch")
    xt = torch.tensor(x._data, requires_grad=True)
    wt = torch.tensor(w._data, requires_grad=True)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yt = torch.nn.functional.conv2d(xt, wt, padding="same", dilation=dilation)
    np.testing.assert_allclose(y._data, yt.detach().numpy(), atol=1e-10)
    g = rng.standard_normal(y.shape)
    y.backward(tl.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad._data, xt.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(w.grad._data, wt.grad.numpy(), atol=1e-10)
