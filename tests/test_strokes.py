"""Digits redrawn as pen strokes (cnnlib.mnist.strokes): the thinning, the pen, and what training digits become."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from cnnlib.mnist.preprocess import centre_of_mass
from cnnlib.mnist.strokes import PEN_WIDTH, centre_lines, painted, redrawn


def ring(side: int = 40, outer: int = 16, inner: int = 9) -> np.ndarray:
    """A thick ring: ink between two circles around the image's centre."""
    rows, columns = np.indices((side, side)) - side // 2
    distance = np.hypot(rows, columns)
    return (distance <= outer) & (distance >= inner)


def is_enclosed(lines: np.ndarray, point: tuple[int, int]) -> bool:
    """Whether the background at ``point`` is cut off from the image's corner by ``lines``."""
    picture = Image.fromarray(lines.astype(np.uint8) * 255)
    ImageDraw.floodfill(picture, (0, 0), 128)
    return picture.getpixel((point[1], point[0])) == 0


def test_a_thick_bar_thins_to_a_one_pixel_line_along_its_middle():
    bar = np.zeros((1, 20, 60), bool)
    bar[0, 6:13, 5:55] = True  # 7 rows thick, centred on row 9
    lines = centre_lines(bar)[0]
    assert lines.sum(axis=0).max() == 1  # never more than one pixel across
    assert set(np.nonzero(lines)[0]) == {9}
    assert lines[9, 10:50].all()  # it runs along the bar, shortened only near the ends


def test_a_ring_thins_to_a_closed_loop_keeping_its_hole():
    lines = centre_lines(ring()[np.newaxis])[0]
    assert is_enclosed(lines, (20, 20))
    radii = np.hypot(*(np.nonzero(lines) - np.array([[20], [20]])))
    assert 10 < radii.min() and radii.max() < 15  # between the ring's edges


def test_thinning_leaves_each_image_of_a_batch_as_it_would_alone():
    images = np.stack([ring(), np.zeros((40, 40), bool), ring(outer=12, inner=4)])
    together = centre_lines(images)
    for image, lines in zip(images, together):
        np.testing.assert_array_equal(centre_lines(image[np.newaxis])[0], lines)
    assert not together[1].any()


@pytest.mark.parametrize("radius", [1.0, 2.5, 3.6])
def test_the_pen_paints_every_pixel_within_its_radius_of_a_line(radius):
    dot = np.zeros((1, 1, 1), bool)
    dot[0, 0, 0] = True
    reach = int(radius)  # the image grows by this on each side
    rows, columns = np.indices((2 * reach + 1, 2 * reach + 1)) - reach
    np.testing.assert_array_equal(painted(dot, radius)[0], np.hypot(rows, columns) <= radius)


def scanned_one(width: int) -> np.ndarray:
    """A scanned "1": a vertical bar ``width`` pixels wide and 20 tall, as MNIST images are, (1, 28, 28, 1)."""
    digit = np.zeros((1, 28, 28, 1), np.float32)
    digit[0, 4:24, 14 - width // 2:14 - width // 2 + width] = 1.0
    return digit


def test_a_thick_scanned_stroke_becomes_as_thin_as_the_canvas_pen():
    one = redrawn(scanned_one(width=5))[0, :, :, 0]
    widths = one[8:20].sum(axis=1)  # ink across each middle row
    # 18 of the canvas's 280 pixels on a digit fitted to 20 of 28: about 1.3-2 pixels, whatever the scan's width
    assert 1.2 < widths.mean() < 2.3
    np.testing.assert_allclose(redrawn(scanned_one(width=3)), redrawn(scanned_one(width=5)), atol=0.35)


def test_a_redrawn_zero_keeps_its_hole_and_mnist_placement():
    zero = np.zeros((1, 28, 28, 1), np.float32)
    zero[0, 4:24, 4:24, 0] = ring(side=20, outer=10, inner=5)
    drawn = redrawn(zero)[0, :, :, 0]
    assert drawn.max() == pytest.approx(1.0, abs=0.05) and drawn.min() >= 0
    assert drawn[14, 14] == 0 and is_enclosed(drawn > 0.5, (14, 14))
    row, column = centre_of_mass(drawn)
    assert abs(row - 14) <= 0.5 and abs(column - 14) <= 0.5  # centred by mass, as the app centres drawings


def test_redrawing_keeps_shape_and_order_and_leaves_blank_digits_blank():
    digits = np.concatenate([scanned_one(5), np.zeros((1, 28, 28, 1), np.float32), scanned_one(3)])
    drawn = redrawn(digits)
    assert drawn.shape == digits.shape and drawn.dtype == np.float32
    assert not drawn[1].any() and drawn[0].any() and drawn[2].any()
    np.testing.assert_array_equal(drawn[2], redrawn(digits[2:])[0])


def test_a_wider_pen_paints_more_ink():
    thin, wide = (redrawn(scanned_one(5), pen_width=width).sum() for width in (10, PEN_WIDTH * 2))
    assert wide > 1.5 * thin
