"""The Draw page's canvas: a component of our own (``digit_canvas.js``, Streamlit's components v2, no iframe) that
sends its drawing the moment the pen lifts. ``cnnlib.mnist.canvas`` says what it sends and checks it."""

from pathlib import Path

import streamlit as st

from cnnlib.mnist.preprocess import CANVAS_SIDE
from cnnlib.text import t

STYLE = """
.digit-canvas { display: block; max-width: 100%; height: auto; touch-action: none; cursor: crosshair;
  border-radius: 0.5rem; }
.digit-canvas-tools { display: flex; gap: 0.5rem; margin-top: 0.5rem; }
.digit-canvas-tools button { display: flex; padding: 0.25rem 0.75rem; cursor: pointer; color: inherit;
  background: transparent; border: 1px solid rgba(128, 128, 128, 0.4); border-radius: 0.5rem; }
.digit-canvas-tools button:hover { border-color: currentColor; }
.digit-canvas-tools svg { fill: currentColor; }
"""
mount = st.components.v2.component("cnn_explorer.digit_canvas", css=STYLE,
                                   js=Path(__file__).with_suffix(".js").read_text(encoding="utf-8"))


def digit_canvas(key: str, pen: int, strokes: list[dict]) -> object:
    """The canvas with ``strokes`` drawn on it when it mounts; the last message it sent (unchecked: see
    ``cnnlib.mnist.canvas``), or None before its first stroke since it mounted."""
    result = mount(key=key, default={"drawing": None}, on_drawing_change=lambda: None,
                   data={"side": CANVAS_SIDE, "pen": pen, "strokes": strokes,
                         "undo": t("draw.canvas.undo"), "clear": t("draw.canvas.clear")})
    return result.drawing
