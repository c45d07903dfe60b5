"""adaptive_max_pool2d: PyTorch's adaptive windows, first-maximum gradient, indices."""
import numpy as np
import pytest

import nn
import nn.functional as F
import tensorlite as tl
from tensorlite.testing import gradcheck, gradgradcheck


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _distinct(shape, seed):
    # distinct values keep the maximum of every window away from a tie, so finite
    # differences see one winner
    rng = np.random.default_rng(seed)
    return rng.permutation(int(np.prod(shape))).reshape(shape) / 7.0 + rng.standard_normal(1)


def _windows_reference(x, ho, wo):
    n, c, h, w = x.shape
    out = np.empty((n, c, ho, wo))
    for i in range(ho):
        for j in range(wo):
            r0, r1 = (i * h) // ho, -(-((i + 1) * h) // ho)
            c0, c1 = (j * w) // wo, -(-((j + 1) * w) // wo)
            out[:, :, i, j] = x[:, :, r0:r1, c0:c1].max(axis=(2, 3))
    return out


@pytest.mark.parametrize("hw,out", [((7, 5), (3, 2)), ((6, 6), (4, 4)), ((5, 9), (5, 9)),
                                    ((4, 4), (1, 1)), ((3, 5), (6, 7))])
def test_matches_the_window_definition_and_gradchecks(hw, out):
    x = _distinct((2, 3) + hw, 0)
    t = tl.tensor(x, requires_grad=True)
    np.testing.assert_allclose(F.adaptive_max_pool2d(t, out).numpy(),
                               _windows_reference(x, *out))
    assert gradcheck(lambda a: F.adaptive_max_pool2d(a, out), (t,))
    assert gradgradcheck(lambda a: F.adaptive_max_pool2d(a, out), (t,))


def test_parity_with_torch_values_indices_and_gradients(torch):
    rng = np.random.default_rng(1)
    x = np.round(rng.standard_normal((2, 3, 9, 7)), 1)   # ties: the first maximum wins
    x[0, 0, 0, 0] = np.nan
    for size in [(4, 3), 5, (None, 2), (2, None)]:
        ours = nn.AdaptiveMaxPool2d(size, return_indices=True)
        theirs = torch.nn.AdaptiveMaxPool2d(size, return_indices=True)
        t = tl.tensor(x, requires_grad=True)
        tt = torch.tensor(x, requires_grad=True)
        (y, i), (yt, it) = ours(t), theirs(tt)
        np.testing.assert_array_equal(i.numpy(), it.numpy())
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), equal_nan=True)
        g = rng.standard_normal(y.shape)
        y.backward(tl.tensor(g))
        yt.backward(torch.tensor(g))
        np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy())


def test_unbatched_input_and_repr(torch):
    x = _distinct((2, 5, 6), 2)
    y = nn.AdaptiveMaxPool2d((2, 3))(tl.tensor(x))
    yt = torch.nn.functional.adaptive_max_pool2d(torch.tensor(x), (2, 3))
    np.testing.assert_allclose(y.numpy(), yt.numpy())
    assert repr(nn.AdaptiveMaxPool2d(3)) == "AdaptiveMaxPool2d(output_size=3)"


@pytest.mark.parametrize("bad,err,match", [
    (lambda x: F.adaptive_max_pool2d(x[0, 0], 2), ValueError, "3-D .* or 4-D"),
    (lambda x: F.adaptive_max_pool2d(x, (2, 2, 2)), TypeError, "output_size"),
    (lambda x: F.adaptive_max_pool2d(x, 0), ValueError, "output_size"),
    (lambda x: F.adaptive_max_pool2d(x[:, :, :0], 2), ValueError, "non-zero spatial"),
    (lambda x: F.adaptive_max_pool2d(x, 2, return_indices="yes"), TypeError, "return_indices"),
])
def test_bad_arguments_are_named(bad, err, match):
    x = tl.randn(1, 2, 4, 4)
    with pytest.raises(err, match=match):
        bad(x)
