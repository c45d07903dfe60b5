"""Augmentation: shapes, determinism under a seed, identities and exact inverse cases."""
import numpy as np
import pytest

import tensorlite as tl
from tensorlite.data import transforms as T


@pytest.fixture
def img():
    return np.random.default_rng(0).random((1, 9, 9)).astype(np.float32)


def test_identity_parameters_give_the_same_image(img):
    np.testing.assert_allclose(T.affine(img, 0, (0, 0), 1.0), img, atol=1e-6)


def test_rotation_by_90_degrees_is_exact(img):
    # Counter-clockwise rotation about the centre: the same as numpy's rot90 on (H, W).
    np.testing.assert_allclose(T.affine(img, 90), np.rot90(img, 1, axes=(1, 2)), atol=1e-6)


def test_integer_translation_shifts_pixels_and_fills_zeros(img):
    out = T.affine(img, translate=(2, 1))
    np.testing.assert_allclose(out[:, 1:, 2:], img[:, :-1, :-2], atol=1e-6)
    assert np.all(out[:, 0, :] == 0) and np.all(out[:, :, :2] == 0)


def test_scaling_up_then_down_keeps_the_centre(img):
    out = T.affine(img, scale=2.0)
    assert out[0, 4, 4] == pytest.approx(img[0, 4, 4], abs=1e-6)


def test_random_transforms_are_reproducible_under_manual_seed(img):
    aug = T.Compose([T.RandomAffine(15, (0.1, 0.1), (0.9, 1.1)), T.RandomCrop(7, padding=1),
                     T.RandomHorizontalFlip()])
    tl.manual_seed(3)
    a = aug(img)
    tl.manual_seed(3)
    b = aug(img)
    assert a.shape == (1, 7, 7)
    np.testing.assert_array_equal(a, b)


def test_flip_twice_is_identity_and_crop_without_padding_of_full_size_is_identity(img):
    flip = T.RandomHorizontalFlip(p=1.0)
    np.testing.assert_array_equal(flip(flip(img)), img)
    np.testing.assert_array_equal(T.RandomCrop(9)(img), img)


def test_transforms_accept_tensors_and_2d_images(img):
    out = T.RandomRotation(10)(tl.tensor(img))
    assert isinstance(out, tl.Tensor) and out.shape == (1, 9, 9)
    assert T.RandomTranslation(0.2)(img[0]).shape == (9, 9)


def test_normalize_and_bad_arguments(img):
    np.testing.assert_allclose(T.Normalize(0.5, 0.25)(img), (img - 0.5) / 0.25, rtol=1e-6)
    with pytest.raises(ValueError):
        T.RandomCrop(12)(img)
    with pytest.raises(ValueError):
        T.RandomAffine(scale=(0, 1))
