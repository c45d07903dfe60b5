"""Augmentation: identities, exact inverse cases, determinism under a seed, kinds in = out."""
import numpy as np
import pytest

import tensorlite as tl
from tensorlite.data import transforms as T


@pytest.fixture
def img():
    return np.random.default_rng(0).random((2, 9, 9)).astype(np.float32)


# ---------------------------------------------------------------- affine: exact cases

@pytest.mark.parametrize("size", [5, 8, 9])
@pytest.mark.parametrize("quarter_turns", [-1, 1, 2, 3, 4])
def test_rotation_by_multiples_of_90_degrees_is_np_rot90_exactly(size, quarter_turns):
    # Counter-clockwise as displayed (row 0 on top), about the centre: numpy's rot90.
    x = np.random.default_rng(size).random((3, size, size))
    out = T.affine(x, 90 * quarter_turns)
    np.testing.assert_array_equal(out, np.rot90(x, quarter_turns, axes=(1, 2)))


def test_identity_parameters_return_the_image_exactly(img):
    np.testing.assert_array_equal(T.affine(img), img)
    np.testing.assert_array_equal(T.affine(img, 0.0, (0, 0), 1.0), img)
    np.testing.assert_array_equal(T.RandomRotation(0)(img), img)
    np.testing.assert_array_equal(T.RandomScaling((1.0, 1.0))(img), img)
    np.testing.assert_array_equal(T.RandomTranslation(0)(img), img)
    np.testing.assert_array_equal(T.RandomAffine()(img), img)


def test_whole_pixel_shift_moves_pixels_and_fills_zeros(img):
    out = T.affine(img, translate=(2, 1))                # 2 right, 1 down
    np.testing.assert_array_equal(out[:, 1:, 2:], img[:, :-1, :-2])
    assert np.all(out[:, 0, :] == 0) and np.all(out[:, :, :2] == 0)


def test_shift_out_and_back_restores_what_stayed_inside(img):
    back = T.affine(T.affine(img, translate=(2, -1)), translate=(-2, 1))
    np.testing.assert_array_equal(back[:, 1:, :-2], img[:, 1:, :-2])


def test_half_pixel_shift_averages_neighbours(img):
    out = T.affine(img, translate=(0.5, 0))
    np.testing.assert_allclose(out[:, :, 1:], (img[:, :, 1:] + img[:, :, :-1]) / 2, rtol=1e-6)


def test_scaling_keeps_the_centre_pixel_and_zooms(img):
    out = T.affine(img, scale=2.0)
    assert out[0, 4, 4] == img[0, 4, 4]                  # centre of a 9x9 image
    np.testing.assert_allclose(out[0, 4, 6], img[0, 4, 5], rtol=1e-6)   # 2 px out <- 1 px


def test_a_small_rotation_changes_the_image_but_keeps_the_centre(img):
    out = T.affine(img, 10.0)
    assert out[0, 4, 4] == img[0, 4, 4] and not np.allclose(out, img)


def test_affine_rejects_bad_arguments(img):
    with pytest.raises(ValueError, match="scale must be positive"):
        T.affine(img, scale=0)
    with pytest.raises(TypeError, match=r"pair \(dx, dy\)"):
        T.affine(img, translate=3)
    with pytest.raises(ValueError, match=r"\(C, H, W\) or \(H, W\)"):
        T.affine(np.zeros((2, 1, 4, 4)))


@pytest.mark.parametrize("params", [dict(angle=33.0), dict(scale=0.7),
                                    dict(translate=(0.5, -1.25)),
                                    dict(angle=-20.0, translate=(1.5, 0.5), scale=0.8)])
def test_interpolating_an_integer_image_rounds_back_to_its_dtype(params):
    # uint8 pixels stay uint8 (torchvision's rule): each output is the float result
    # rounded to the nearest integer, and a fill outside the dtype's range is clipped
    # (every case here reads some pixels from outside the image).
    x = np.random.default_rng(1).integers(0, 256, (3, 9, 9)).astype(np.uint8)
    out = T.affine(x, **params)
    assert out.dtype == np.uint8 and out.shape == x.shape
    np.testing.assert_array_equal(out, np.rint(T.affine(x.astype(np.float64), **params)))
    assert T.affine(x, fill=300.0, **params).max() == 255
    assert T.affine(x.astype(np.int16), fill=-7.0, **params).min() == -7
    np.testing.assert_array_equal(T.affine(x, 90), np.rot90(x, 1, axes=(1, 2)))
    mask = np.zeros((9, 9), bool)
    mask[2:5, 3:7] = True
    assert T.affine(mask, 90).dtype == np.bool_
    np.testing.assert_array_equal(T.affine(mask, 90), np.rot90(mask))


AUGMENTATIONS = [lambda: T.RandomRotation(30), lambda: T.RandomScaling((0.8, 1.2)),
                 lambda: T.RandomAffine(10, (0.1, 0.1), (0.9, 1.1)),
                 lambda: T.RandomCrop(9, padding=2), lambda: T.RandomTranslation(2),
                 lambda: T.RandomHorizontalFlip(p=1.0)]


@pytest.mark.parametrize("make", AUGMENTATIONS)
@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.float32, np.float64])
def test_augmentations_keep_dtype_and_shape_on_chw_and_hw_images(make, dtype):
    x = (np.random.default_rng(2).random((2, 9, 9)) * 200).astype(dtype)
    for image in (x, x[0]):
        out = make()(image)
        assert out.dtype == image.dtype and out.shape == image.shape
        t = make()(tl.tensor(image))
        assert isinstance(t, tl.Tensor) and t.dtype == tl.tensor(image).dtype


@pytest.mark.parametrize("make", AUGMENTATIONS)
def test_an_hw_image_is_augmented_as_the_one_channel_of_a_chw_image(make):
    # The documented (H, W) layout is (1, H, W) without its channel: same draw, same result.
    x = np.random.default_rng(3).random((9, 9))
    tl.manual_seed(5)
    flat = make()(x)
    tl.manual_seed(5)
    chw = make()(x[None])
    np.testing.assert_array_equal(flat, chw[0])


# ---------------------------------------------------------------- the random transforms

def test_flip_twice_is_the_identity_and_flips_columns(img):
    flip = T.RandomHorizontalFlip(p=1.0)
    np.testing.assert_array_equal(flip(img), img[:, :, ::-1])
    np.testing.assert_array_equal(flip(flip(img)), img)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0.0)(img), img)


def test_random_crop_without_padding_at_full_size_is_the_identity(img):
    np.testing.assert_array_equal(T.RandomCrop(9)(img), img)


def test_random_crop_with_padding_is_a_shifted_window_of_the_padded_image(img):
    padded = np.pad(img, ((0, 0), (2, 2), (2, 2)))
    crop = T.RandomCrop(9, padding=2)
    for _ in range(20):
        out = crop(img)
        hits = [(i, j) for i in range(5) for j in range(5)
                if np.array_equal(out, padded[:, i:i + 9, j:j + 9])]
        assert hits, "the crop is not a window of the zero-padded image"


def test_random_translation_is_a_whole_pixel_shift_within_the_bound(img):
    t = T.RandomTranslation(2)
    for _ in range(20):
        out = t(img)
        found = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                 if np.array_equal(out, T.affine(img, translate=(dx, dy)))]
        assert found


def test_translation_as_a_fraction_of_the_size():
    x = np.ones((1, 20, 20))
    t = T.RandomTranslation(0.1)                        # up to 2 pixels
    outs = [t(x) for _ in range(50)]
    empty_cols = [int((o == 0).all(axis=(0, 1)).sum()) for o in outs]
    empty_rows = [int((o == 0).all(axis=(0, 2)).sum()) for o in outs]
    assert max(empty_cols) == 2 and max(empty_rows) == 2


def test_random_transforms_are_reproducible_under_manual_seed(img):
    aug = T.Compose([T.RandomAffine(15, (0.1, 0.1), (0.9, 1.1)), T.RandomCrop(7, padding=1),
                     T.RandomHorizontalFlip(), T.RandomTranslation(1), T.RandomRotation(5),
                     T.RandomScaling((0.8, 1.2))])
    tl.manual_seed(3)
    a = aug(img)
    tl.manual_seed(3)
    b = aug(img)
    assert a.shape == (2, 7, 7)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, aug(img))


def test_transforms_return_the_kind_and_layout_they_get(img):
    for t in (T.RandomRotation(10), T.RandomCrop(9, padding=1), T.RandomHorizontalFlip(),
              T.RandomTranslation(1), T.Normalize(0.5, 0.25)):
        out = t(tl.from_numpy(img))
        assert isinstance(out, tl.Tensor) and out.shape == (2, 9, 9) and out.dtype == tl.float32
        out2d = t(img[0])
        assert isinstance(out2d, np.ndarray) and out2d.shape == (9, 9)
    assert T.RandomRotation(10)(img.astype(np.float64)).dtype == np.float64


def test_normalize_per_channel_and_errors(img):
    out = T.Normalize([0.5, 0.1], [0.25, 2.0])(img)
    np.testing.assert_allclose(out[0], (img[0] - 0.5) / 0.25, rtol=1e-6)
    np.testing.assert_allclose(out[1], (img[1] - 0.1) / 2.0, rtol=1e-6)
    with pytest.raises(ValueError, match="3 values but the image"):
        T.Normalize([0, 0, 0], [1, 1, 1])(img)
    with pytest.raises(ValueError, match="std must be positive"):
        T.Normalize(0.0, 0.0)


def test_to_tensor_scales_bytes_and_adds_a_channel():
    x = np.array([[0, 255], [51, 102]], np.uint8)
    t = T.ToTensor()(x)
    assert isinstance(t, tl.Tensor) and t.shape == (1, 2, 2) and t.dtype == tl.float32
    np.testing.assert_allclose(t.numpy()[0], [[0, 1], [0.2, 0.4]], rtol=1e-6)


def test_constructors_reject_bad_arguments(img):
    with pytest.raises(ValueError, match="larger than the padded image"):
        T.RandomCrop(12)(img)
    with pytest.raises(ValueError, match="scale"):
        T.RandomAffine(scale=(0, 1))
    with pytest.raises(ValueError, match="lo <= hi"):
        T.RandomRotation((10, -10))
    with pytest.raises(ValueError, match="p must be in"):
        T.RandomHorizontalFlip(1.5)
    with pytest.raises(ValueError, match="fraction"):
        T.RandomTranslation(1.5)
    with pytest.raises(TypeError, match="not callable"):
        T.Compose([3])
