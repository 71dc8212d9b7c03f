"""Draw page latency: the server's work for one stroke, through the page's own calls.

A stroke reaches the server as the canvas's message (its PNG and strokes) and reruns only the page's fragment. Timed
from there: the message checked and its PNG decoded to 280x280 RGBA (``cnnlib.mnist.canvas``, as the page does),
preparing the digit, and every place the fragment redraws, through the page's own ``pages.parts.digit_answers``: its
sentences and pictures built by cnnlib and made into Streamlit's messages by Streamlit's own ``st.image`` /
``st.markdown`` / ``st.expander`` (run bare here: the same messages, with no browser to send them to), the conv and
pool, and the trained model's reading (the page's own cached reader and epoch replay, ``pages.parts.models``). Between strokes it calls
``keras.backend.clear_session()`` and ``gc.collect()`` as Streamlit does after every run, and pauses ``--pause-ms``.
Not timed: the widgets, which a stroke does not change, Streamlit starting the script, and the recipe pictures,
made only while their expander is open (it opens closed). Other processes stretch every part: the first line
gives the load average.

Usage: python bench/draw_latency.py [--strokes 200] [--model path/to/model.keras] [--no-clear-session] [--pause-ms 50]
Without --model it uses the newest model in the models folder, else the tutorial's architecture untrained (same
layers, same cost) saved in a temporary folder; the model's folder is the one listed.
"""

from __future__ import annotations

import argparse
import atexit
import base64
import gc
import io
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import streamlit as st  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from cnnlib.lessons.draw import steps as draw_steps  # noqa: E402
from cnnlib.mnist import preprocess  # noqa: E402
from cnnlib.mnist.canvas import read_canvas_message  # noqa: E402
from cnnlib.mnist.preprocess import CANVAS_SIDE  # noqa: E402
from cnnlib.store import saved as saved_models  # noqa: E402
from cnnlib.text import t  # noqa: E402
from pages import current_workspace  # noqa: E402
from pages.parts.digit_answers import Conv, Pool, digit_view, reading_view, tutorial_maps  # noqa: E402
from pages.parts.models import model_probe, replayed_reader  # noqa: E402

BUDGET_MS = 25.0
TOTAL = "total (server work per stroke)"


def stroke_messages(count: int, seed: int = 0) -> list[dict]:
    """``count`` messages as the canvas sends them (its PNG in base64 and its strokes), each a white random
    three-segment stroke."""
    rng = np.random.default_rng(seed)
    messages = []
    for _ in range(count):
        canvas = Image.new("RGBA", (CANVAS_SIDE, CANVAS_SIDE), (0, 0, 0, 255))
        points = [tuple(point) for point in rng.integers(30, 250, size=(4, 2))]
        ImageDraw.Draw(canvas).line(points, fill=(255, 255, 255, 255), width=18, joint="curve")
        png = io.BytesIO()
        canvas.save(png, format="PNG")
        strokes = [{"w": 18, "p": [int(value) for point in points for value in point]}]
        messages.append({"png": base64.b64encode(png.getvalue()).decode(), "strokes": strokes})
    return messages


def models_folder(model_path: str | None) -> str:
    """Make the model's folder the models folder (``CNN_EXPLORER_MODELS_DIR``), so that the page's listing reads real
    files; without a model the tutorial's architecture, untrained, is saved in a temporary folder first. Returns a
    few words on the model."""
    if model_path is None:
        newest = saved_models.list_models()
        model_path = str(newest[0].path) if newest else None
    text = f"saved model {model_path}"
    if model_path is None:
        from cnnlib.network.architecture import build_model

        folder = tempfile.mkdtemp(prefix="draw_latency_")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        model_path = str(saved_models.save_model(build_model(), "untrained", {"test_accuracy": 0.1}, folder).path)
        text = "untrained tutorial architecture (32/64 filters, 256 units)"
    os.environ[saved_models.MODELS_DIR_ENV] = str(Path(model_path).parent)
    return text


class Timer:
    """Milliseconds per named part of one stroke, and per stroke in total."""

    def __init__(self) -> None:
        self.parts: dict[str, list[float]] = defaultdict(list)
        self.stroke_starts()

    def lap(self, name: str) -> None:
        """The time since the previous lap counts towards ``name``."""
        now = time.perf_counter()
        self.parts[name].append((now - self.last) * 1000)
        self.last = now

    def stroke_starts(self) -> None:
        """A stroke's value arrives now."""
        self.last = self.start = time.perf_counter()

    def stroke_done(self) -> None:
        """The stroke's work is done: its total."""
        self.parts[TOTAL].append((time.perf_counter() - self.start) * 1000)


def digit_section(pixels: np.ndarray, timer: Timer) -> np.ndarray:
    """Section 1, as the page's fragment (``drawn_digit``): the prepared digit, its picture and text, and the
    expander of preparation pictures, closed as it opens (its pictures are made only while it is open)."""
    prepared = preprocess.prepare_digit(pixels)
    timer.lap("1. preprocess")
    st.caption(t("draw.canvas.caption", size=CANVAS_SIDE))
    digit_view(st.container(), prepared.image, t("draw.description.draw"), prepared)
    timer.lap("1. digit picture, text")
    return prepared.image


def tutorial_sections(image: np.ndarray, seed: int, timer: Timer) -> None:
    """Sections 2 and 3's pictures, as the fragment redraws them with the tutorial's settings (their controls,
    filters and sentences are drawn by the page's own runs, not by a stroke)."""
    filters = draw_steps.random_filters(draw_steps.TUTORIAL_FILTERS, draw_steps.TUTORIAL_KERNEL, seed)
    conv = Conv(filters, draw_steps.TUTORIAL_CONV_STRIDE, draw_steps.TUTORIAL_CONV_PADDING, st.container())
    pool = Pool(draw_steps.TUTORIAL_POOL_SIZE, draw_steps.TUTORIAL_POOL_STRIDE, draw_steps.TUTORIAL_POOL_PADDING,
                st.container())
    tutorial_maps(image, conv, pool)
    timer.lap("2-3. conv and max-pool, their pictures")


def model_section(image: np.ndarray, read, timer: Timer) -> None:
    """Section 4's answer, as the fragment redraws it: the reading (at the replayed epoch, for a model with epoch
    snapshots), the prediction, the probabilities and every layer (the first open, the others closed)."""
    reading = read(image)
    timer.lap("4. model reading")
    reading_view(st.container(), reading)
    timer.lap("4. model pictures, text")


def newest_reader(models: list[saved_models.SavedModel]):
    """The newest model's reading of a digit, as the page's ``model_panel`` prepares it (its cached reader, and the
    epoch slider for a model with epoch snapshots)."""
    chosen = models[0]
    return replayed_reader("draw_epoch", chosen, model_probe(str(chosen.path), chosen.modified))


def one_stroke(message: dict, seed: int, read, timer: Timer) -> None:
    """Everything the page's fragment does on the server after one stroke, in the page's order."""
    pixels = read_canvas_message(message).pixels
    timer.lap("0. canvas message to RGBA")
    image = digit_section(pixels, timer)
    tutorial_sections(image, seed, timer)
    model_section(image, read, timer)
    timer.stroke_done()


def percentile(values: list[float], fraction: float) -> float:
    """The ``fraction`` quantile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def summary(name: str, milliseconds: list[float]) -> str:
    """One aligned line: median and p95 in ms."""
    return f"{name:<34} median {statistics.median(milliseconds):7.2f} ms   p95 {percentile(milliseconds, 0.95):7.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes", type=int, default=200)
    parser.add_argument("--model", default=None)
    parser.add_argument("--no-clear-session", action="store_true")
    parser.add_argument("--pause-ms", type=float, default=50.0)
    args = parser.parse_args()
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").disabled = True  # "bare mode"

    import keras

    model_text = models_folder(args.model)
    strokes = stroke_messages(args.strokes + 1)
    workspace = current_workspace()
    read = newest_reader(saved_models.list_models(workspace.models_dir, workspace.shared_dir))
    one_stroke(strokes[0], 0, read, Timer())  # warm-up: first calls import and build lazily
    timer, load_before = Timer(), os.getloadavg()[0]  # other processes' load stretches every part
    for index, message in enumerate(strokes[1:]):
        if not args.no_clear_session:
            keras.backend.clear_session()  # what Streamlit does after every script run
            gc.collect()
        time.sleep(args.pause_ms / 1000)
        timer.stroke_starts()
        one_stroke(message, index, read, timer)
    print(f"Draw page server work per stroke over {args.strokes} strokes; model: {model_text}; "
          f"clear_session between strokes: {not args.no_clear_session}; "
          f"load average before/after: {load_before:.1f}/{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for name, milliseconds in sorted(timer.parts.items(), key=lambda item: item[0] == TOTAL):
        print(summary(name, milliseconds))
    total = statistics.median(timer.parts[TOTAL])
    print(f"budget {BUDGET_MS:.0f} ms median: {'met' if total <= BUDGET_MS else 'MISSED'}")


if __name__ == "__main__":
    main()
