"""The Draw page's canvas picture checked before anything decodes it (issue 20, item 2): a crafted message with a
13,000x13,000 PNG of 20 KB, bytes that are no PNG, too many bytes, a cut-off PNG or an array of the wrong shape each
get their sentence, with the server's peak memory unmoved; a real canvas picture still becomes the same digit."""

import base64
import io
import json
import os
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
from conftest import APP_PATH, ROOT
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest
from test_pages import page_trouble

from cnnlib.errors import Refusal
from cnnlib.mnist.preprocess import (CANVAS_SIDE, MAX_CANVAS_BYTES, PNG_SIGNATURE, canvas_pixels, prepare_digit,
                                     uploaded_image_to_mnist)
from cnnlib.store.saved import MODELS_DIR_ENV

BOMB_SIDE = 13_000  # 169 megapixels: 676 MB as the RGBA array the canvas's picture becomes
MAX_RISE_KB = 20 * 1024


def png_chunk(kind: bytes, body: bytes) -> bytes:
    """One PNG chunk: length, type, body, CRC."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def black_png(side: int) -> bytes:
    """A valid 1-bit black PNG of ``side`` x ``side`` pixels, made a row at a time: 13,000 rows zip to 20 KB."""
    packer, row = zlib.compressobj(9), bytes(1 + (side + 7) // 8)  # each row: filter byte 0, then packed bits
    pixels = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # width, height, 1 bit, grey, deflate, no interlace
    return PNG_SIGNATURE + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", pixels) + png_chunk(b"IEND", b"")


def drawn_canvas() -> Image.Image:
    """A "7" drawn on the black canvas as the Draw page's pen draws it."""
    canvas = Image.new("RGBA", (CANVAS_SIDE, CANVAS_SIDE), (0, 0, 0, 255))
    ImageDraw.Draw(canvas).line([(70, 56), (210, 56), (126, 238)], fill=(255, 255, 255, 255), width=18)
    return canvas


def encoded(picture: Image.Image, form: str = "PNG") -> bytes:
    """``picture`` saved as ``form``."""
    buffer = io.BytesIO()
    picture.save(buffer, format=form)
    return buffer.getvalue()


def hostile_canvas_pictures() -> dict[str, tuple[bytes, str]]:
    """What a crafted message could send as the canvas's picture, each with the refusal it must get."""
    drawing = encoded(drawn_canvas())
    text_chunk = png_chunk(b"zTXt", b"note\0\0" + zlib.compress(bytes(2**20)))  # 1 KB that unpacks to 1 MB
    return {"huge": (black_png(BOMB_SIDE), "draw.error.canvas_size"),
            "small": (black_png(28), "draw.error.canvas_size"),
            "signature": (b"GIF89a" + drawing[6:], "draw.error.canvas_not_png"),
            "jpeg": (encoded(drawn_canvas().convert("RGB"), "JPEG"), "draw.error.canvas_not_png"),
            "bytes": (drawing + bytes(MAX_CANVAS_BYTES), "draw.error.canvas_bytes"),
            "cut_in_pixels": (drawing[:len(drawing) // 2], "draw.error.canvas_unreadable"),
            "cut_in_header": (drawing[:20], "draw.error.canvas_unreadable"),
            "text_bomb": (drawing[:33] + text_chunk * 400 + drawing[33:], "draw.error.canvas_unreadable")}


HOSTILE_ARRAYS = {"huge": (np.broadcast_to(np.uint8(0), (BOMB_SIDE, BOMB_SIDE, 4)), "draw.error.image_pixels"),
                  "channels": (np.zeros((280, 280, 2), np.uint8), "draw.error.image_shape"),
                  "batch": (np.zeros((2, 280, 280, 4), np.uint8), "draw.error.image_shape"),
                  "integers": (np.zeros((280, 280, 4), np.int64), "draw.error.image_dtype"),
                  "objects": (np.zeros((280, 280, 4), object), "draw.error.image_dtype")}


@pytest.mark.parametrize("name", list(hostile_canvas_pictures()))
def test_each_hostile_canvas_picture_gets_its_refusal(name):
    data, key = hostile_canvas_pictures()[name]
    with pytest.raises(Refusal) as refused:
        canvas_pixels(data)
    assert refused.value.key == key and str(refused.value).endswith("your last drawing is kept.")


@pytest.mark.parametrize("name", list(HOSTILE_ARRAYS))
def test_each_hostile_array_is_refused_before_any_copy(name):
    pixels, key = HOSTILE_ARRAYS[name]
    with pytest.raises(Refusal) as refused:
        prepare_digit(pixels)  # "huge" is a 676 MB view of one byte: a float copy would need 2.7 GB
    assert refused.value.key == key


def test_pils_own_limit_refuses_the_huge_picture_for_the_whole_server():
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(black_png(BOMB_SIDE)))
    with pytest.raises(Refusal) as refused:
        uploaded_image_to_mnist(black_png(BOMB_SIDE))  # the photo upload meets the same wall
    assert str(refused.value) == "The picture has more than 40 megapixels; that is too many to process."


def test_a_canvas_picture_still_becomes_the_same_digit():
    canvas = drawn_canvas()
    pixels = canvas_pixels(encoded(canvas))
    assert pixels.shape == (CANVAS_SIDE, CANVAS_SIDE, 4) and pixels.dtype == np.uint8
    np.testing.assert_array_equal(prepare_digit(pixels).image, prepare_digit(np.asarray(canvas)).image)


PEAK_MEMORY_SCRIPT = """
import json, sys
sys.path.insert(0, "tests")
from test_hostile_pictures import HOSTILE_ARRAYS, hostile_canvas_pictures
from cnnlib.errors import Refusal
from cnnlib.mnist.preprocess import canvas_pixels, prepare_digit, uploaded_image_to_mnist
from peak_memory import peak_kb

def refusal(check, data):
    try:
        check(data)
    except Refusal as error:
        return error.key
    return None

pictures = hostile_canvas_pictures()
before = peak_kb()
keys = {name: refusal(canvas_pixels, data) for name, (data, _) in pictures.items()}
keys.update({"array_" + name: refusal(prepare_digit, pixels) for name, (pixels, _) in HOSTILE_ARRAYS.items()})
keys["upload_huge"] = refusal(uploaded_image_to_mnist, pictures["huge"][0])
print(json.dumps({"keys": keys, "rise_kb": peak_kb() - before}))
"""


def test_no_hostile_picture_raises_the_peak_memory():
    run = subprocess.run([sys.executable, "-c", PEAK_MEMORY_SCRIPT], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 0, run.stderr
    measured = json.loads(run.stdout)
    expected = {name: key for name, (_, key) in hostile_canvas_pictures().items()}
    expected.update({f"array_{name}": key for name, (_, key) in HOSTILE_ARRAYS.items()})
    assert measured["keys"] == {**expected, "upload_huge": "draw.error.too_many_pixels"}
    assert measured["rise_kb"] <= MAX_RISE_KB, f"peak memory rose by {measured['rise_kb'] / 1024:.1f} MB"


def fake_canvas(png: bytes):
    """A stand-in for the canvas whose message carries ``png`` (AppTest's real canvas sends nothing)."""
    return lambda *_: {"png": base64.b64encode(png).decode(), "strokes": [{"w": 18, "p": [40, 40, 200, 200]}]}


def test_a_refused_picture_is_a_sentence_and_the_last_drawing_stays(monkeypatch, tmp_path):
    monkeypatch.setenv(MODELS_DIR_ENV, str(tmp_path))
    at = AppTest.from_file(APP_PATH, default_timeout=60).run()
    at.switch_page("pages/draw_digit.py").run()  # imports the page's parts, the canvas with them, in a script run
    from pages.parts import digit_inputs

    monkeypatch.setattr(digit_inputs, "digit_canvas", fake_canvas(black_png(BOMB_SIDE)))
    drawing = np.asarray(drawn_canvas())
    learners = [{"w": 18.0, "p": [60.0, 60.0, 220.0, 220.0]}]
    at.session_state["draw_pixels"], at.session_state["draw_strokes"] = drawing, learners
    at.run()
    assert not page_trouble(at), page_trouble(at)
    assert [error.value for error in at.error] == [
        "The canvas sent a 13000x13000 picture, not its own 280x280: it was not read, and your last drawing is kept."]
    np.testing.assert_array_equal(at.session_state["draw_pixels"], drawing)
    assert at.session_state["draw_strokes"] == learners
    assert "of 784 pixels hold ink" in "\n".join(element.value for element in at.markdown)  # the digit still shows
