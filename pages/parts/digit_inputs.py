"""Where the Draw page's digit comes from: the canvas, an MNIST sample, or an uploaded picture.

The canvas is drawn by the page's fragment (``drawn_digit``), so a stroke reruns only what it changes; the page's
own run reads the drawing the canvas last sent (``kept_drawing``).
"""

import numpy as np
import streamlit as st

from cnnlib.lessons.draw import words as digit_text
from cnnlib.mnist import preprocess
from cnnlib.mnist.canvas import MAX_PEN, read_canvas_message
from cnnlib.mnist.preprocess import CANVAS_SIDE
from cnnlib.text import t
from pages import cached_mnist
from pages.parts.digit_canvas import digit_canvas
from pages.parts.errors import explained_errors

SPLITS = ("train", "test")  # an MNIST sample from the training digits or the test digits


def canvas_input() -> preprocess.PreparedDigit | None:
    """The canvas, white ink on black like MNIST; None until something is drawn. A drawing outlives a visit elsewhere:
    its strokes are drawn again when the canvas mounts (fixed while it shows, or every stroke would resend them) and
    its pixels are kept (a canvas drawn again sends nothing until the next stroke). Each message is read once."""
    st.slider(t("draw.canvas.stroke_width"), 5, MAX_PEN, key="draw_stroke_width")
    if "draw_canvas" not in st.session_state:  # the canvas mounts (first visit, other input or page before)
        st.session_state["draw_canvas_restored"] = st.session_state.get("draw_strokes", [])
    message = digit_canvas("draw_canvas", st.session_state["draw_stroke_width"],
                           st.session_state["draw_canvas_restored"])
    with explained_errors():  # a message refused unread: its sentence, and the last drawing kept
        if message is not None and message != st.session_state.get("draw_message"):  # a stroke, an Undo, a Clear
            st.session_state["draw_message"] = message
            drawing = read_canvas_message(message)
            st.session_state["draw_pixels"], st.session_state["draw_strokes"] = drawing.pixels, drawing.strokes
    st.caption(t("draw.canvas.caption", size=CANVAS_SIDE))
    return kept_drawing()


def kept_drawing() -> preprocess.PreparedDigit | None:
    """The last drawing the canvas sent, prepared as MNIST's digits were; None before the first stroke."""
    pixels = st.session_state.get("draw_pixels")
    return None if pixels is None else preprocess.prepare_digit(pixels)


def sample_input() -> tuple[np.ndarray, str]:
    """An MNIST digit by index, from the training or the test digits, (28, 28) in [0, 1], and its description."""
    data = cached_mnist()
    split = st.segmented_control(t("draw.sample.split"), SPLITS, key="draw_sample_split",
                                 format_func=lambda name: t(f"draw.sample.{name}")) or "train"
    images, labels = (data.x_train, data.y_train) if split == "train" else (data.x_test, data.y_test)
    st.session_state["draw_sample_index"] = min(st.session_state["draw_sample_index"], len(images) - 1)
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    index = left.number_input(t(f"draw.sample.index_{split}", last=len(images) - 1), 0, len(images) - 1,
                              key="draw_sample_index")
    right.button(t("draw.sample.random"), key="draw_random_sample", icon=":material/casino:", on_click=lambda: (
        st.session_state.update(draw_sample_index=int(np.random.default_rng().integers(len(images))))))
    st.caption(digit_text.sample_caption(len(data.x_train), data.description))
    return images[index] / np.float32(255), t(f"draw.description.sample_{split}", index=index, label=labels[index])


@explained_errors()
def upload_input() -> preprocess.PreparedDigit | None:
    """A photo or scan of a digit (dark on light is fine); None until one is uploaded or when it cannot be read."""
    upload = st.file_uploader(t("draw.upload.label"), type=["png", "jpg", "jpeg"], key="draw_upload")
    prepared = None if upload is None else preprocess.uploaded_image_to_mnist(upload.getvalue())
    if upload is not None and prepared is None:
        st.warning(t("draw.upload.blank"))
    return prepared
