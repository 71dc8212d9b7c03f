"""MNIST's recipe on drawings: crop to the ink, fit 20x20 keeping the shape, centre by mass in 28x28."""

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from cnnlib.mnist.data import load_mnist
from cnnlib.mnist.preprocess import (CENTRE, DIGIT_BOX, MAX_UPLOAD_BYTES, canvas_to_mnist, centre_of_mass, prepare_digit,
                               uploaded_image_to_mnist)

SEVEN = [(0, 0), (90, 0), (35, 140)]  # a "7" as a polyline, in canvas pixels from its top-left corner
FOUR = [(60, 0), (0, 90), (90, 90), (60, 90), (60, 0), (60, 150)]


def stroke_canvas(points, offset=(0, 0), scale=1.0, width=18, size=(280, 280), ink=(255, 255, 255, 255),
                  background=(0, 0, 0, 255)) -> np.ndarray:
    """An RGBA canvas ``(H, W, 4)`` uint8 with one polyline drawn on it, like st_canvas's image_data."""
    canvas = Image.new("RGBA", (size[1], size[0]), background)
    shifted = [(offset[0] + x * scale, offset[1] + y * scale) for x, y in points]
    ImageDraw.Draw(canvas).line(shifted, fill=ink, width=max(1, round(width * scale)), joint="curve")
    return np.asarray(canvas)


def test_result_is_28x28_float32_in_unit_range_with_full_ink():
    image = canvas_to_mnist(stroke_canvas(SEVEN, offset=(40, 40)))
    assert image.shape == (28, 28) and image.dtype == np.float32
    assert image.min() == 0.0 and image.max() == pytest.approx(1.0, abs=0.02)


@pytest.mark.parametrize("blank", [np.zeros((280, 280, 4), np.uint8),  # transparent, as before any stroke
                                   np.dstack([np.zeros((280, 280, 3), np.uint8), np.full((280, 280), 255, np.uint8)]),
                                   np.full((50, 70, 3), 240, np.uint8)])  # plain paper
def test_blank_canvas_gives_none(blank):
    assert canvas_to_mnist(blank) is None


def test_same_stroke_in_a_corner_and_in_the_middle_gives_the_same_digit():
    corner = canvas_to_mnist(stroke_canvas(SEVEN, offset=(12, 12)))
    middle = canvas_to_mnist(stroke_canvas(SEVEN, offset=(100, 70)))
    assert np.abs(corner - middle).max() < 0.05


def test_small_and_large_strokes_give_nearly_the_same_digit():
    large = canvas_to_mnist(stroke_canvas(FOUR, offset=(60, 40)))
    small = canvas_to_mnist(stroke_canvas(FOUR, offset=(20, 30), scale=0.5))
    assert np.abs(large - small).mean() < 0.03
    assert np.corrcoef(large.ravel(), small.ravel())[0, 1] > 0.95


@pytest.mark.parametrize("points", [SEVEN, FOUR, [(0, 0), (0, 150)], [(0, 0), (150, 0), (150, 20)]])
def test_digit_fits_20x20_and_its_centre_of_mass_is_at_the_centre(points):
    prepared = prepare_digit(stroke_canvas(points, offset=(30, 50)))
    assert max(prepared.fitted.shape) == DIGIT_BOX
    row, column = centre_of_mass(prepared.image)
    assert abs(row - CENTRE) <= 0.5 and abs(column - CENTRE) <= 0.5


def test_centre_matches_mnist_own_digits():
    images = load_mnist("offline").x_train[:300].astype(np.float32)
    mean_row, mean_column = np.mean([centre_of_mass(image) for image in images], axis=0)
    assert abs(mean_row - CENTRE) < 0.1 and abs(mean_column - CENTRE) < 0.1


def test_mnist_digits_come_back_unchanged():
    """MNIST itself was made this way, so most of its digits pass through the recipe untouched."""
    images = load_mnist("offline").x_train[:100]
    same = [np.corrcoef(canvas_to_mnist(image).ravel(), image.ravel())[0, 1] > 0.99 for image in images]
    assert np.mean(same) > 0.9


def test_dark_ink_on_light_paper_is_inverted():
    white_on_black = canvas_to_mnist(stroke_canvas(SEVEN, offset=(40, 40)))
    black_on_white = canvas_to_mnist(stroke_canvas(SEVEN, offset=(40, 40), ink=(0, 0, 0, 255),
                                                   background=(255, 255, 255, 255)))
    black_on_transparent = canvas_to_mnist(stroke_canvas(SEVEN, offset=(40, 40), ink=(0, 0, 0, 255),
                                                         background=(0, 0, 0, 0)))
    np.testing.assert_allclose(black_on_white, white_on_black, atol=1e-5)
    np.testing.assert_allclose(black_on_transparent, white_on_black, atol=1e-5)


def test_any_canvas_size_and_rgb_or_grey_input():
    rgba = stroke_canvas(SEVEN, offset=(10, 10), scale=0.6, size=(120, 400))
    wide = canvas_to_mnist(rgba)
    assert wide.shape == (28, 28)
    np.testing.assert_allclose(canvas_to_mnist(rgba[:, :, :3]), wide, atol=1e-5)
    np.testing.assert_allclose(canvas_to_mnist(rgba[:, :, 0]), wide, atol=1e-5)


def _png(pixels: np.ndarray, format: str = "PNG") -> bytes:
    """An image file's bytes."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=format)
    return buffer.getvalue()


def test_uploaded_photo_of_a_digit_on_grey_paper():
    rng = np.random.default_rng(0)
    photo = stroke_canvas(SEVEN, offset=(60, 50), ink=(50, 45, 40, 255), background=(190, 185, 180, 255))[:, :, :3]
    noisy = np.clip(photo + rng.normal(0, 8, photo.shape), 0, 255).astype(np.uint8)
    clean = canvas_to_mnist(stroke_canvas(SEVEN, offset=(60, 50)))
    prepared = uploaded_image_to_mnist(_png(noisy, "JPEG"))
    assert np.corrcoef(prepared.image.ravel(), clean.ravel())[0, 1] > 0.95


def test_upload_errors_are_plain_sentences():
    with pytest.raises(ValueError, match="not a picture"):
        uploaded_image_to_mnist(b"%PDF-1.4 this is not an image")
    with pytest.raises(ValueError, match="MB"):
        uploaded_image_to_mnist(b"\x89PNG" + bytes(MAX_UPLOAD_BYTES))
    huge = io.BytesIO()
    Image.new("1", (8000, 6000)).save(huge, format="PNG")  # 48 megapixels in a few kilobytes
    with pytest.raises(ValueError, match="too many"):
        uploaded_image_to_mnist(huge.getvalue())
    assert uploaded_image_to_mnist(_png(np.full((40, 40, 3), 255, np.uint8))) is None


def test_ink_is_counted_with_the_one_threshold_the_bounding_box_uses():
    from cnnlib.mnist.preprocess import INK_THRESHOLD, ink_box, ink_pixels

    image = np.zeros((28, 28), np.float32)
    image[3, 4:9] = [INK_THRESHOLD - 0.01, INK_THRESHOLD, 0.5, 1.0, 0.05]
    assert ink_pixels(image) == 3
    assert ink_box(image) == (3, 5, 4, 8)
