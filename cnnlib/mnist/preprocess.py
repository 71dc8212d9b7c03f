"""A drawn or photographed digit made into an MNIST image, the way MNIST itself was made.

MNIST's recipe (LeCun et al.): take the digit's bounding box, scale it to fit a 20x20 box keeping its aspect
ratio (anti-aliased, so edges become grey), then place it in a 28x28 field so that its centre of mass sits at the
field's centre. The result is white ink (1.0) on black (0.0), as ``x_train / 255``.

    canvas (280, 280, 4) uint8 -> ink (280, 280) -> crop (h, w) -> fit 20x20 -> centre by mass -> (28, 28) float32

Pictures arrive as bytes (the canvas's PNG, an uploaded photo) and are checked before PIL decodes them: their size in
bytes, then their width and height as their header declares them (``cnnlib.server.pictures`` sets PIL's own limit
for the whole server).
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from cnnlib.errors import Refusal
from cnnlib.server.blas import one_thread
from cnnlib.server.pictures import MAX_PICTURE_PIXELS

MNIST_SIZE = 28
CANVAS_SIDE = 280  # the Draw page's canvas: MNIST's 28x28 at ten times the size
DIGIT_BOX = 20  # MNIST fits each digit into 20x20, leaving a 4-pixel margin for centring by mass
CENTRE = MNIST_SIZE // 2  # 14: where MNIST's own digits have their centre of mass (mean 13.98, 14.01 over 500)
INK_THRESHOLD = 0.2  # ink fraction that counts as ink: the bounding box, the count (ignores faint halos, grain)
MIN_CONTRAST = 0.15  # an image whose ink is fainter than this is treated as blank
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_UPLOAD_MEGAPIXELS = MAX_PICTURE_PIXELS // 1_000_000  # photos above are refused before decoding
WORKING_SIDE = 1024  # big photos are shrunk to this before finding the digit (the result is 28x28 anyway)
MAX_CANVAS_BYTES = 512 * 1024  # the canvas's 280x280 RGBA PNG: 5-20 KB drawn, 314 KB even stored uncompressed
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_HEADER = struct.Struct(">I4sII")  # the first chunk's length and type, then the picture's width and height
PIXEL_DTYPES = ("uint8", "bool", "float16", "float32", "float64")  # 0..255, or 0..1
UNREADABLE = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError)  # PIL's ways to fail on bad bytes


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
    pixels = checked_pixels(pixels)
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


def checked_pixels(pixels: np.ndarray) -> np.ndarray:
    """``pixels`` as an array, refused before any copy is made unless it is one picture ``(H, W)`` or ``(H, W, C)``
    with 1, 3 or 4 channels, of at most ``WORKING_SIDE`` squared pixels, holding 0..255 (uint8) or 0..1."""
    pixels = np.asarray(pixels)
    channels = pixels.shape[2] if pixels.ndim == 3 else 1
    if pixels.ndim not in (2, 3) or min(pixels.shape[:2]) < 1 or channels not in (1, 3, 4):
        raise Refusal("draw.error.image_shape", shape=pixels.shape)
    if pixels.shape[0] * pixels.shape[1] > WORKING_SIDE**2:
        raise Refusal("draw.error.image_pixels", height=pixels.shape[0], width=pixels.shape[1], side=WORKING_SIDE)
    if pixels.dtype.name not in PIXEL_DTYPES:
        raise Refusal("draw.error.image_dtype", dtype=pixels.dtype.name)
    return pixels


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


def canvas_pixels(png: bytes) -> np.ndarray:
    """The Draw page's canvas as ``(280, 280, 4)`` uint8 RGBA from the PNG it sends; its bytes are checked before
    PIL decodes them: at most ``MAX_CANVAS_BYTES``, PNG's signature, and the canvas's own size in the header (it
    sends its picture at 280x280 whatever the screen's pixel ratio). Refusal for any other bytes."""
    if len(png) > MAX_CANVAS_BYTES:
        raise Refusal("draw.error.canvas_bytes", kilobytes=len(png) / 1024, limit=MAX_CANVAS_BYTES // 1024)
    width, height = canvas_png_size(png)
    if (width, height) != (CANVAS_SIDE, CANVAS_SIDE):
        raise Refusal("draw.error.canvas_size", width=width, height=height, side=CANVAS_SIDE)
    with opened_picture(png, "draw.error.canvas_unreadable", formats=["PNG"]) as picture:
        return np.asarray(picture.convert("RGBA"))


def canvas_png_size(data: bytes) -> tuple[int, int]:
    """``(width, height)`` as a PNG's header (its IHDR chunk) declares them, read without decoding anything;
    Refusal, worded for the canvas, for bytes that are not a PNG."""
    if not data.startswith(PNG_SIGNATURE):
        raise Refusal("draw.error.canvas_not_png")
    if len(data) < len(PNG_SIGNATURE) + PNG_HEADER.size:
        raise Refusal("draw.error.canvas_unreadable")
    length, kind, width, height = PNG_HEADER.unpack_from(data, len(PNG_SIGNATURE))
    if (length, kind) != (13, b"IHDR"):  # PNG's first chunk is always IHDR, 13 bytes long
        raise Refusal("draw.error.canvas_unreadable")
    return width, height


@contextmanager
def opened_picture(data: bytes, unreadable: str, formats: list[str] | None = None) -> Iterator[Image.Image]:
    """``data`` opened by PIL (its header read, nothing decoded yet) for the block; bytes that PIL cannot read (in
    the block too) end in the Refusal ``unreadable``, a picture over PIL's limit for the server in another one."""
    try:
        with Image.open(io.BytesIO(data), formats=formats) as picture:
            yield picture
    except Refusal:
        raise
    except Image.DecompressionBombError as error:
        raise Refusal("draw.error.too_many_pixels", limit=MAX_UPLOAD_MEGAPIXELS) from error
    except UNREADABLE as error:
        raise Refusal(unreadable) from error


def uploaded_image_to_mnist(data: bytes) -> PreparedDigit | None:
    """A PNG or JPEG file's bytes through MNIST's recipe; Refusal for a file that is not one or is too big."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise Refusal("draw.error.upload_size", megabytes=len(data) / 1e6, limit=MAX_UPLOAD_BYTES // 2**20)
    with opened_picture(data, "draw.error.upload_unreadable") as picture:
        if picture.width * picture.height > MAX_PICTURE_PIXELS:
            raise Refusal("draw.error.upload_pixels", width=picture.width, height=picture.height,
                          limit=MAX_UPLOAD_MEGAPIXELS)
        picture = ImageOps.exif_transpose(picture)  # phone photos store their rotation in EXIF
        picture.thumbnail((WORKING_SIDE, WORKING_SIDE))
        pixels = np.asarray(picture.convert("RGBA"))
    return prepare_digit(pixels)
