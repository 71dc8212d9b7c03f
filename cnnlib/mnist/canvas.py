"""What the Draw page's canvas sends, checked before anything in it is decoded or kept.

The canvas (``pages/parts/digit_canvas.js``) sends one message each time the pen lifts, a stroke is undone or
the canvas is cleared: ``{"png": <its 280x280 picture as a base64 PNG, or null once cleared>, "strokes": [{"w":
<pen width>, "p": [x0, y0, x1, y1, …]}, …]}``. The picture is what the page reads (``preprocess.canvas_pixels``
checks its bytes); the strokes are kept only to draw the picture again when the learner comes back to the page.
Anything else, and more strokes, points or a wider pen than the canvas can make, is a Refusal; the message as a
whole is bounded by the server's ``maxMessageSize`` (``.streamlit/config.toml``).
"""

from __future__ import annotations

import base64
import binascii
import math
from dataclasses import dataclass

import numpy as np

from cnnlib.errors import Refusal
from cnnlib.mnist.preprocess import CANVAS_SIDE, MAX_CANVAS_BYTES, canvas_pixels

MAX_STROKES = 200  # a digit takes 1-4 strokes; a learner scribbling for minutes stays well below
MAX_POINTS = 20_000  # (x, y) points over all strokes: the pointer reports about 60 a second
MAX_PEN = 40  # the widest pen the page's slider offers, in canvas pixels
MAX_PNG_CHARACTERS = 4 * math.ceil(MAX_CANVAS_BYTES / 3)  # base64 of the largest picture the canvas may send
REACH = 2 * CANVAS_SIDE  # a point may lie outside the canvas (the pen left it mid-stroke), not further than this


@dataclass(frozen=True, repr=False)
class CanvasDrawing:
    """One message from the canvas, checked: its picture and the strokes that drew it."""

    pixels: np.ndarray | None  # (280, 280, 4) uint8 RGBA; None when the canvas was cleared
    strokes: list[dict]  # [{"w": float, "p": [float, …]}, …] as the canvas draws them again

    def __repr__(self) -> str:
        shape = None if self.pixels is None else self.pixels.shape
        return f"CanvasDrawing(pixels={shape}, strokes={len(self.strokes)})"


def read_canvas_message(message: object) -> CanvasDrawing:
    """The canvas's ``message`` checked and its picture decoded; Refusal (its sentence) for anything it never sends."""
    if not isinstance(message, dict) or set(message) != {"png", "strokes"}:
        raise Refusal("draw.error.canvas_message")
    strokes = checked_strokes(message["strokes"])
    png = message["png"]
    if png is None and not strokes:
        return CanvasDrawing(None, [])
    if not isinstance(png, str) or not strokes:
        raise Refusal("draw.error.canvas_message")
    if len(png) > MAX_PNG_CHARACTERS:
        raise Refusal("draw.error.canvas_bytes", kilobytes=len(png) * 3 / 4 / 1024, limit=MAX_CANVAS_BYTES // 1024)
    try:
        data = base64.b64decode(png, validate=True)
    except (binascii.Error, ValueError):
        raise Refusal("draw.error.canvas_unreadable") from None
    return CanvasDrawing(canvas_pixels(data), strokes)


def checked_strokes(strokes: object) -> list[dict]:
    """The strokes as plain numbers; Refusal for a shape the canvas never sends or more than it can draw."""
    if not isinstance(strokes, list) or not all(isinstance(stroke, dict) for stroke in strokes):
        raise Refusal("draw.error.canvas_message")
    values = sum(len(points) for stroke in strokes if isinstance(points := stroke.get("p"), list))
    if len(strokes) > MAX_STROKES or values > 2 * MAX_POINTS:
        raise too_much()
    return [checked_stroke(stroke) for stroke in strokes]


def checked_stroke(stroke: dict) -> dict:
    """One stroke: a pen width in (0, MAX_PEN] and at least one (x, y) point within ``REACH`` of the canvas."""
    width, points = stroke.get("w"), stroke.get("p")
    if set(stroke) != {"w", "p"} or not is_number(width) or not isinstance(points, list):
        raise Refusal("draw.error.canvas_message")
    if not 0 < width <= MAX_PEN:
        raise too_much()
    if not points or len(points) % 2 or not all(is_number(value) and abs(value) <= REACH for value in points):
        raise Refusal("draw.error.canvas_message")
    return {"w": float(width), "p": [float(value) for value in points]}


def is_number(value: object) -> bool:
    """Whether ``value`` is a finite int or float as JSON gives them (not a bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def too_much() -> Refusal:
    """The sentence for a drawing larger than the canvas can make."""
    return Refusal("draw.error.canvas_strokes", strokes=MAX_STROKES, points=MAX_POINTS, pen=MAX_PEN)
