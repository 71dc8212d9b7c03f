"""The canvas's messages (``cnnlib.mnist.canvas``): a real one is read, anything it never sends is one sentence."""

import base64
import io
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from cnnlib.errors import Refusal
from cnnlib.mnist.canvas import (MAX_PEN, MAX_PNG_CHARACTERS, MAX_POINTS, MAX_STROKES, REACH, CanvasDrawing,
                                 read_canvas_message)
from cnnlib.mnist.preprocess import CANVAS_SIDE

SEVEN = [{"w": 18, "p": [60, 60, 220, 60, 120, 240]}]


def canvas_png(strokes: list[dict], side: int = CANVAS_SIDE) -> str:
    """A black canvas with ``strokes`` in white, as the canvas sends it: a base64 PNG."""
    picture = Image.new("RGBA", (side, side), (0, 0, 0, 255))
    for stroke in strokes:
        points = list(zip(stroke["p"][::2], stroke["p"][1::2], strict=True))
        ImageDraw.Draw(picture).line(points, fill=(255, 255, 255, 255), width=int(stroke["w"]), joint="curve")
    data = io.BytesIO()
    picture.save(data, format="PNG")
    return base64.b64encode(data.getvalue()).decode()


def refusal_key(message: object) -> str:
    """The catalogue key of the sentence ``message`` is refused with."""
    with pytest.raises(Refusal) as refused:
        read_canvas_message(message)
    return refused.value.key


def test_a_drawing_is_its_pixels_and_its_strokes_as_floats():
    drawing = read_canvas_message({"png": canvas_png(SEVEN), "strokes": SEVEN})
    assert drawing.pixels.shape == (CANVAS_SIDE, CANVAS_SIDE, 4) and drawing.pixels.dtype == np.uint8
    assert drawing.pixels[60, 140, 0] == 255 and drawing.pixels[10, 10, 0] == 0
    assert drawing.strokes == [{"w": 18.0, "p": [60.0, 60.0, 220.0, 60.0, 120.0, 240.0]}]
    assert all(isinstance(value, float) for value in drawing.strokes[0]["p"])
    assert repr(drawing) == "CanvasDrawing(pixels=(280, 280, 4), strokes=1)"


def test_a_cleared_canvas_is_no_pixels_and_no_strokes():
    assert read_canvas_message({"png": None, "strokes": []}) == CanvasDrawing(None, [])


@pytest.mark.parametrize("message", [
    None, [], "png", {"png": None}, {"strokes": []}, {"png": None, "strokes": [], "more": 1},
    {"png": None, "strokes": SEVEN}, {"png": canvas_png(SEVEN), "strokes": []}, {"png": 7, "strokes": SEVEN},
    {"png": None, "strokes": {}}, {"png": None, "strokes": [[18, [1, 2]]]},
    {"png": None, "strokes": [{"w": 18}]}, {"png": None, "strokes": [{"w": 18, "p": [1, 2], "c": "red"}]},
    {"png": None, "strokes": [{"w": "18", "p": [1, 2]}]}, {"png": None, "strokes": [{"w": True, "p": [1, 2]}]},
    {"png": None, "strokes": [{"w": 18, "p": []}]}, {"png": None, "strokes": [{"w": 18, "p": [1, 2, 3]}]},
    {"png": None, "strokes": [{"w": 18, "p": [1, float("nan")]}]},
    {"png": None, "strokes": [{"w": 18, "p": [1, None]}]},
    {"png": None, "strokes": [{"w": 18, "p": [1, REACH + 1]}]}, {"png": None, "strokes": [{"w": 18, "p": "1,2"}]},
    {"png": None, "strokes": [{"w": 18, "p": 5}]}, {"png": None, "strokes": [{"w": 18, "p": {"x": 1}}]},
])
def test_a_message_the_canvas_never_sends_is_refused_unread(message):
    assert refusal_key(message) == "draw.error.canvas_message"


@pytest.mark.parametrize("strokes", [
    [{"w": 18, "p": [1, 2]}] * (MAX_STROKES + 1),
    [{"w": 18, "p": [1, 2] * (MAX_POINTS // 2 + 1)}] * 2,
    [{"w": MAX_PEN + 1, "p": [1, 2]}],
    [{"w": 0, "p": [1, 2]}],
])
def test_more_than_the_canvas_can_draw_is_refused_with_its_limits(strokes):
    assert refusal_key({"png": canvas_png(SEVEN), "strokes": strokes}) == "draw.error.canvas_strokes"


def test_the_picture_is_measured_before_it_is_decoded():
    assert refusal_key({"png": "A" * (MAX_PNG_CHARACTERS + 4), "strokes": SEVEN}) == "draw.error.canvas_bytes"
    assert refusal_key({"png": "not base64!", "strokes": SEVEN}) == "draw.error.canvas_unreadable"
    assert refusal_key({"png": base64.b64encode(b"GIF89a").decode(), "strokes": SEVEN}) == "draw.error.canvas_not_png"
    assert refusal_key({"png": canvas_png(SEVEN, side=281), "strokes": SEVEN}) == "draw.error.canvas_size"


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                    lambda children: st.lists(children, max_size=4) | st.dictionaries(
                        st.sampled_from(["png", "strokes", "w", "p", "x"]), children, max_size=3), max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_any_json_is_read_or_refused_never_an_exception(message):
    try:
        drawing = read_canvas_message(json.loads(json.dumps(message)))
    except Refusal:
        return
    assert drawing == CanvasDrawing(None, [])  # a random message can only be a cleared canvas
