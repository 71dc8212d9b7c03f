"""A drawn or photographed digit made into an MNIST image, the way MNIST itself was made.

MNIST's recipe (LeCun et al.): take the digit's bounding box, scale it to fit a 20x20 box keeping its aspect
ratio (anti-aliased, so edges become grey), then place it in a 28x28 field so that its centre of mass sits at the
field's centre. The result is white ink (1.0) on black (0.0), as ``x_train / 255``.

    canvas (280, 280, 4) uint8 -> ink (280, 280) -> crop (h, w) -> fit 20x20 -> centre by mass -> (28, 28) float32
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from cnnlib.server.blas import one_thread
from cnnlib.errors import Refusal

MNIST_SIZE = 28
DIGIT_BOX = 20  # MNIST fits each digit into 20x20, leaving a 4-pixel margin for centring by mass
CENTRE = MNIST_SIZE // 2  # 14: where MNIST's own digits have their centre of mass (mean 13.98, 14.01 over 500)
INK_THRESHOLD = 0.2  # ink fraction that counts as ink: the bounding box, the count (ignores faint halos, grain)
MIN_CONTRAST = 0.15  # an image whose ink is fainter than this is treated as blank
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_UPLOAD_MEGAPIXELS = 40  # refuse decompression bombs before decoding them
WORKING_SIDE = 1024  # big photos are shrunk to this before finding the digit (the result is 28x28 anyway)


@dataclass(frozen=True, repr=False)
class PreparedDigit:
    """Each step of MNIST's recipe, for showing a learner how their drawing became 28x28."""

    ink: np.ndarray  # (H, W) float32 0..1, white ink on black, at the input's size
    box: tuple[int, int, int, int]  # (top, left, bottom, right) of the ink, bottom/right exclusive
    fitted: np.ndarray  # (h, w) float32, the crop scaled so its longer side is 20
    image: np.ndarray  # (28, 28) float32 0..1, centred by mass

    def __repr__(self) -> str:
        return f"PreparedDigit(box={self.box}, fitted={self.fitted.shape}, image={self.image.shape})"


def canvas_to_mnist(rgba: np.ndarray) -> np.ndarray | None:
    """A canvas image ``(H, W, 4)`` (or RGB, or grey) as MNIST's ``(28, 28)`` float32 in [0, 1]; None when blank."""
    prepared = prepare_digit(rgba)
    return None if prepared is None else prepared.image


def prepare_digit(pixels: np.ndarray) -> PreparedDigit | None:
    """MNIST's recipe, step by step, on any image; None when there is no ink."""
    with one_thread():
        ink = ink_image(pixels)
    if ink is None:
        return None
    box = ink_box(ink)
    top, left, bottom, right = box
    fitted = fit_to_box(ink[top:bottom, left:right], DIGIT_BOX)
    return PreparedDigit(ink, box, fitted, centre_by_mass(fitted))


def ink_image(pixels: np.ndarray) -> np.ndarray | None:
    """How much ink each pixel holds, 0..1, whatever the input's colours; None when there is none.

    Transparent pixels are background. On an opaque image the border decides: a light border (paper) means dark
    ink, which is inverted. The background level plus three times its noise is subtracted and the strongest ink
    scaled to 1.
    """
    pixels = np.asarray(pixels)
    if pixels.ndim not in (2, 3) or min(pixels.shape[:2]) < 1:
        raise Refusal("draw.error.image_shape", shape=pixels.shape)
    scale = 255.0 if pixels.dtype == np.uint8 else 1.0
    pixels = pixels.astype(np.float32) / scale
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    grey = pixels[:, :, :3] @ np.array([0.299, 0.587, 0.114], np.float32) if pixels.shape[2] >= 3 else pixels[:, :, 0]
    alpha = pixels[:, :, 3] if pixels.shape[2] == 4 else np.ones_like(grey)
    if np.median(_border(alpha)) < 0.5:  # transparent background: the ink is whatever is painted
        painted = alpha > 0.5
        light_ink = not painted.any() or np.mean(grey[painted]) >= 0.5
        ink = alpha * (grey if light_ink else 1.0 - grey)
    else:
        ink = alpha * grey  # composite over black
        if np.median(_border(ink)) > 0.5:  # light background: dark ink on paper
            ink = 1.0 - ink
    border = _border(ink)
    level = np.median(border)
    noise = 1.4826 * np.median(np.abs(border - level))  # the border's spread (MAD): paper grain, sensor noise
    ink = np.clip(ink - (level + 3 * noise), 0.0, None)
    strongest = float(ink.max())
    if strongest < MIN_CONTRAST:
        return None
    return (ink / strongest).astype(np.float32)


def _border(values: np.ndarray) -> np.ndarray:
    """The outermost ring of pixels of a 2-D array."""
    return np.concatenate([values[0], values[-1], values[:, 0], values[:, -1]])


def ink_pixels(image: np.ndarray) -> int:
    """How many pixels hold at least ``INK_THRESHOLD`` ink. Example: full MNIST's ``x_train[0] / 255`` (a 5) has 134."""
    return int(np.count_nonzero(np.asarray(image) >= INK_THRESHOLD))


def ink_box(ink: np.ndarray) -> tuple[int, int, int, int]:
    """The bounding box ``(top, left, bottom, right)`` of the pixels holding at least ``INK_THRESHOLD`` ink."""
    rows = np.flatnonzero((ink >= INK_THRESHOLD).any(axis=1))
    columns = np.flatnonzero((ink >= INK_THRESHOLD).any(axis=0))
    return int(rows[0]), int(columns[0]), int(rows[-1]) + 1, int(columns[-1]) + 1


def fit_to_box(crop: np.ndarray, side: int) -> np.ndarray:
    """Scale ``crop`` so its longer side is ``side``, keeping the aspect ratio, anti-aliased (Lanczos)."""
    height, width = crop.shape
    factor = side / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))  # PIL wants (width, height)
    scaled = Image.fromarray(crop.astype(np.float32)).resize(size, Image.Resampling.LANCZOS)
    return np.clip(np.asarray(scaled, dtype=np.float32), 0.0, 1.0)


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """The ink-weighted mean (row, column) of a 2-D image."""
    total = float(image.sum())
    rows, columns = np.indices(image.shape)
    return float((rows * image).sum() / total), float((columns * image).sum() / total)


def centre_by_mass(digit: np.ndarray) -> np.ndarray:
    """Paste ``digit`` into a black 28x28 field with its centre of mass at pixel (14, 14), as in MNIST."""
    row, column = centre_of_mass(digit)
    top, left = round(CENTRE - row), round(CENTRE - column)  # whole-pixel shift: no extra blur
    field = np.zeros((MNIST_SIZE, MNIST_SIZE), np.float32)
    height, width = digit.shape
    rows = slice(max(top, 0), min(top + height, MNIST_SIZE))
    columns = slice(max(left, 0), min(left + width, MNIST_SIZE))
    field[rows, columns] = digit[rows.start - top:rows.stop - top, columns.start - left:columns.stop - left]
    return field


def uploaded_image_to_mnist(data: bytes) -> PreparedDigit | None:
    """A PNG or JPEG file's bytes through MNIST's recipe; Refusal for a file that is not one or is too big."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise Refusal("draw.error.upload_size", megabytes=len(data) / 1e6, limit=MAX_UPLOAD_BYTES // 2**20)
    try:
        with Image.open(io.BytesIO(data)) as picture:
            if picture.width * picture.height > MAX_UPLOAD_MEGAPIXELS * 1_000_000:
                raise Refusal("draw.error.upload_pixels", width=picture.width, height=picture.height,
                                   limit=MAX_UPLOAD_MEGAPIXELS)
            picture = ImageOps.exif_transpose(picture)  # phone photos store their rotation in EXIF
            picture.thumbnail((WORKING_SIDE, WORKING_SIDE))
            pixels = np.asarray(picture.convert("RGBA"))
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as error:
        raise Refusal("draw.error.upload_unreadable") from error
    return prepare_digit(pixels)
