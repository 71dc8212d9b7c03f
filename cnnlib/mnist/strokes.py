"""MNIST digits redrawn as a learner draws them: each digit's ink thinned to its centre line, painted again with the
Draw page's round pen, and made 28x28 by the app's own MNIST recipe (``cnnlib.mnist.preprocess``).

    redrawn(x_train)        (N, 28, 28, 1) float32 0..1 -> the same digits as pen strokes, same shape and range
    centre_lines(ink)       (N, H, W) bool -> one-pixel lines (Zhang and Suen's thinning, 1984)

A scanned pen stroke swells, blots and closes small loops; a stroke drawn with the mouse is even and thinner. A model
that learned only from scans read 97.1% of test digits redrawn on the canvas against 98.6% of the scans (issue 11);
training on a share of digits redrawn this way closes that gap (``Hyperparameters.drawn_share``).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import cache

import numpy as np
from PIL import Image

from cnnlib.mnist.preprocess import CANVAS_SIDE, DIGIT_BOX, MNIST_SIZE, centre_by_mass, fit_to_box, ink_box

PEN_WIDTH = 18  # the canvas's default stroke width, in canvas pixels
WORK_SCALE = 4  # centre lines are found at 4x MNIST's size: finer than 28x28, far cheaper than the canvas's 280
CHUNK = 512  # digits redrawn at a time, two chunks at once (NumPy releases the GIL)
# Where each of Zhang and Suen's neighbours p2..p9 (clockwise from the one above) sits in a 3x3 neighbourhood's code:
# bits 0-2 the row above (left, middle, right), 3-5 the pixel's own row, 6-8 the row below; bit 4 is the pixel.
NEIGHBOUR_BITS = (1, 2, 5, 8, 7, 6, 3, 0)
CENTRE_BIT = 4


@cache
def _removable(step: int) -> np.ndarray:
    """For each of the 512 codes of a 3x3 neighbourhood, whether Zhang and Suen's sub-step ``step`` (0 or 1) removes
    its centre: ink with 2-6 ink neighbours, one background-to-ink turn around it, and a south-east (step 0) or
    north-west (step 1) boundary."""
    table = np.zeros(512, np.uint8)
    for code in range(512):
        p2, p3, p4, p5, p6, p7, p8, p9 = ((code >> bit) & 1 for bit in NEIGHBOUR_BITS)
        ring = (p2, p3, p4, p5, p6, p7, p8, p9, p2)
        turns = sum(1 for a, b in zip(ring, ring[1:]) if (a, b) == (0, 1))
        boundary = not (p2 and p4 and p6) and not (p4 and p6 and p8) if step == 0 else \
            not (p2 and p4 and p8) and not (p2 and p6 and p8)
        table[code] = (code >> CENTRE_BIT) & 1 and 2 <= sum(ring[:8]) <= 6 and turns == 1 and boundary
    return table


def _neighbourhoods(image: np.ndarray) -> np.ndarray:
    """The 9-bit code of every inner pixel's 3x3 neighbourhood in ``(N, H, W)`` 0/1 images (the border stays 0)."""
    rows = np.zeros(image.shape, np.uint16)
    rows[:, :, 1:-1] = image[:, :, :-2] | image[:, :, 1:-1] << 1 | image[:, :, 2:] << 2
    code = np.zeros(image.shape, np.uint16)
    code[:, 1:-1] = rows[:, :-2] | rows[:, 1:-1] << 3 | rows[:, 2:] << 6
    return code


def centre_lines(ink: np.ndarray) -> np.ndarray:
    """Boolean images ``(N, H, W)`` thinned to one-pixel lines that keep each shape's loops and branches."""
    image = np.pad(np.asarray(ink, bool), ((0, 0), (1, 1), (1, 1))).astype(np.uint16)
    active = np.arange(len(image))  # only images that still change are thinned further
    while len(active):
        part = image[active]
        changed = np.zeros(len(active), bool)
        for step in (0, 1):
            remove = _removable(step)[_neighbourhoods(part)]
            changed |= remove.any(axis=(1, 2))
            part &= 1 - remove
        image[active] = part
        active = active[changed]
    return image[:, 1:-1, 1:-1].astype(bool)


def ink_windows(ink: np.ndarray) -> np.ndarray:
    """Each image's ink cut out in one square window for all, with a background margin: ``(N, S, S)``."""
    count, height, width = ink.shape
    rows, columns = ink.any(axis=2), ink.any(axis=1)
    top, left = rows.argmax(axis=1), columns.argmax(axis=1)
    bottom, right = height - rows[:, ::-1].argmax(axis=1), width - columns[:, ::-1].argmax(axis=1)
    side = int(max((bottom - top).max(), (right - left).max())) + 2
    padded = np.pad(ink, ((0, 0), (1, side), (1, side)))
    window_rows = (top[:, None] + np.arange(side))[:, :, None]
    window_columns = (left[:, None] + np.arange(side))[:, None, :]
    return padded[np.arange(count)[:, None, None], window_rows, window_columns]


def painted(lines: np.ndarray, radius: float) -> np.ndarray:
    """One-pixel lines painted with a round pen of ``radius`` pixels: every pixel that close to a line is ink. The
    images grow by ``int(radius)`` pixels on each side, so no ink is cut off."""
    reach = int(radius)
    margin = ((0, 0), (reach, reach), (reach, reach))
    lines = np.pad(lines.view(np.uint8), margin)
    rows = {0: lines}  # rows[w]: ink within w pixels along the row, built one pixel wider at a time
    for width in range(1, reach + 1):
        rows[width] = rows[width - 1].copy()
        rows[width][:, :, width:] |= lines[:, :, :-width]
        rows[width][:, :, :-width] |= lines[:, :, width:]
    ink = np.zeros_like(lines)
    for dy in range(-reach, reach + 1):
        row = rows[int(np.sqrt(radius * radius - dy * dy))]
        ink[:, max(dy, 0):ink.shape[1] + min(dy, 0)] |= row[:, max(-dy, 0):row.shape[1] - max(dy, 0)]
    return ink.view(bool)


def _redraw_chunk(images: np.ndarray, pen_width: float) -> np.ndarray:
    """``(n, 28, 28)`` float32 digits -> the same digits redrawn: enlarge, threshold, thin, paint, prepare. A digit
    whose ink thins away to nothing (a 2x2 dot does) is kept as it was."""
    side = MNIST_SIZE * WORK_SCALE
    big = np.stack([np.asarray(Image.fromarray(image).resize((side, side), Image.Resampling.BILINEAR))
                    for image in images])
    ink = big >= 0.5 * big.max(axis=(1, 2), keepdims=True)
    strokes = painted(centre_lines(ink_windows(ink)), pen_width * WORK_SCALE * MNIST_SIZE / CANVAS_SIDE / 2)
    out = images.copy()
    for index, stroke in enumerate(strokes.astype(np.float32)):
        if stroke.any():
            top, left, bottom, right = ink_box(stroke)
            out[index] = centre_by_mass(fit_to_box(stroke[top:bottom, left:right], DIGIT_BOX))
    return out


def redrawn(images: np.ndarray, pen_width: float = PEN_WIDTH) -> np.ndarray:
    """Digits ``(N, 28, 28, 1)`` float32 in 0..1 redrawn with a pen ``pen_width`` canvas pixels wide, same shape.

    A digit it cannot redraw is kept as it was: a blank one, or one whose ink thins away (``kept_count`` counts
    them). About 0.5 ms a digit here (3,667 in 2 s on two cores).
    """
    flat = np.asarray(images, np.float32).reshape(-1, MNIST_SIZE, MNIST_SIZE)
    out = np.zeros_like(flat)
    inked = np.flatnonzero(flat.max(axis=(1, 2)) > 0)
    chunks = [inked[start:start + CHUNK] for start in range(0, len(inked), CHUNK)]
    with ThreadPoolExecutor(2) as pool:
        for chunk, result in zip(chunks, pool.map(lambda part: _redraw_chunk(flat[part], pen_width), chunks)):
            out[chunk] = result
    return out.reshape(np.shape(images))


def kept_count(images: np.ndarray, drawn: np.ndarray) -> int:
    """How many of ``images`` ``redrawn`` gave back as they were, not as pen strokes: blank, or thinned away."""
    unchanged = np.asarray(images, np.float32) == np.asarray(drawn, np.float32)
    return int(np.count_nonzero(unchanged.reshape(len(unchanged), -1).all(axis=1)))
