"""Replay latency: the Draw page's server work when the learner moves the epoch slider.

A slider move reruns the page on the digit it already holds: preparing the digit, its figure, the tutorial's conv
and max-pool, then the replay (its caption, conv1's filters as they formed up to that epoch) and the network's
reading after that epoch with every layer's figure, each made into Streamlit's messages as ``bench/draw_latency.py``
does (its sections are reused). Between moves: ``keras.backend.clear_session()`` and ``gc.collect()``, as Streamlit
does after every run. The replay is built once, as the page caches it; each move reads the epoch shown from the
snapshot file (the page keeps one epoch's weights in memory, not all of them), and that read is in the timing.

Usage: python bench/replay_latency.py [--moves 200] [--epochs 10] [--pause-ms 50]
It trains nothing: the tutorial's network at its default sizes with ``--epochs`` + 1 random states saved as
snapshots in a temporary folder (the same sizes and cost as a real run's).
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import streamlit as st  # noqa: E402

import draw_latency as draw  # noqa: E402
from cnnlib.network import reader  # noqa: E402
from cnnlib.store import saved as saved_models  # noqa: E402
from cnnlib.network import replay  # noqa: E402
from cnnlib.lessons.draw import figures  # noqa: E402
from cnnlib.network.snapshots import EpochSnapshots, load_snapshots, save_snapshots  # noqa: E402
from cnnlib.text import t  # noqa: E402

BUDGET_MS = 100.0


def saved_replay(folder: str, epochs: int) -> tuple[replay.Replay, list[saved_models.SavedModel]]:
    """The tutorial's network saved with ``epochs`` + 1 random snapshot states, read back as the page reads it."""
    from cnnlib.network.architecture import build_model

    model = build_model()
    rng = np.random.default_rng(0)
    states = [[rng.normal(0, 0.1, weight.shape).astype(np.float32) for weight in model.get_weights()]
              for _ in range(epochs + 1)]
    saved = saved_models.save_model(model, "replayed", {"epoch_test_accuracies": [0.1] * (epochs + 1)}, folder)
    save_snapshots(saved.path, EpochSnapshots(states, [0.1 + 0.08 * epoch for epoch in range(epochs + 1)]))
    probe = reader.ModelProbe(saved_models.load_model(saved.path))
    return replay.Replay.of(probe, load_snapshots(saved.path)), saved_models.list_models(folder)


def one_move(pixels: np.ndarray, found: replay.Replay, models: list, epoch: int, timer: draw.Timer) -> None:
    """Everything the page's server work does after the slider moves to ``epoch``, in the page's order."""
    image = draw.digit_section(pixels, timer)
    draw.tutorial_sections(image, 0, timer)
    st.caption(t("draw.replay.caption", epoch=epoch, epochs=found.epochs, accuracy=found.accuracy(epoch)))
    history = found.filter_history()
    st.plotly_chart(figures.filter_history_figure(history, found.kept, epoch), key="draw_epoch_filters")
    st.caption(t("draw.replay.filters_caption", count=history.shape[1]))
    timer.lap("4. replay filters figure, text")
    st.session_state["draw_epoch"] = epoch  # the slider's value, which the page's reading follows
    draw.model_section(image, models, timer)
    timer.stroke_done()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--pause-ms", type=float, default=50.0)
    args = parser.parse_args()
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").disabled = True  # "bare mode"

    import keras

    with tempfile.TemporaryDirectory(prefix="replay_latency_") as folder:
        started = time.perf_counter()
        found, models = saved_replay(folder, args.epochs)
        built_ms = (time.perf_counter() - started) * 1000
        pixels = draw.canvas_pixels(draw.stroke_pngs(1)[0])
        one_move(pixels, found, models, 0, draw.Timer())  # warm-up: first calls import and build lazily
        timer, load_before = draw.Timer(), os.getloadavg()[0]
        for move in range(args.moves):
            keras.backend.clear_session()  # what Streamlit does after every script run
            gc.collect()
            time.sleep(args.pause_ms / 1000)
            timer.stroke_starts()
            one_move(pixels, found, models, move % (args.epochs + 1), timer)
    print(f"Draw page server work per epoch-slider move over {args.moves} moves; the tutorial's network, "
          f"{args.epochs} epochs; replay built once in {built_ms:.0f} ms (save, load, snapshots, readers); "
          f"load average before/after: {load_before:.1f}/{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for name, milliseconds in sorted(timer.parts.items(), key=lambda item: item[0] == draw.TOTAL):
        print(draw.summary(name, milliseconds))
    total = statistics.median(timer.parts[draw.TOTAL])
    print(f"budget {BUDGET_MS:.0f} ms median: {'met' if total <= BUDGET_MS else 'MISSED'}")


if __name__ == "__main__":
    main()
