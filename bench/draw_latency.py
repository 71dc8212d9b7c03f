"""Draw page latency: the server's work after one stroke, through the same cnnlib calls the page makes.

Per stroke: canvas_to_mnist on a 280x280 RGBA canvas, the tutorial's conv and max-pool (5 random 3x3 filters),
every layer's activations of a trained-size model and the softmax (``ModelProbe.read``: numpy with the model's
weights). Between strokes it calls ``keras.backend.clear_session()`` as Streamlit does after every script run
(``--no-clear-session`` to skip) and pauses ``--pause-ms`` (a stroke takes longer than that). For comparison it
times the same reading through one eager call of a multi-output Keras model (the reason ``ModelProbe`` uses
numpy), and building the page's figures, which is page work outside the 25 ms budget.

Usage: python bench/draw_latency.py [--strokes 200] [--model path/to/model.keras] [--no-clear-session] [--pause-ms 50]
Without --model it uses the newest model in the models folder, else the tutorial's architecture untrained
(same layers, same cost).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from cnnlib import features, models_store  # noqa: E402
from cnnlib.preprocess import canvas_to_mnist  # noqa: E402

BUDGET_MS = 25.0


def stroke_canvases(count: int, seed: int = 0) -> list[np.ndarray]:
    """``count`` different 280x280 RGBA canvases, each a white random three-segment stroke on black."""
    rng = np.random.default_rng(seed)
    canvases = []
    for _ in range(count):
        canvas = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
        points = [tuple(point) for point in rng.integers(30, 250, size=(4, 2))]
        ImageDraw.Draw(canvas).line(points, fill=(255, 255, 255, 255), width=18, joint="curve")
        canvases.append(np.asarray(canvas))
    return canvases


def load_probe(model_path: str | None) -> tuple[features.ModelProbe, str]:
    """The probe the page would use, and a few words on which model it wraps."""
    if model_path is None:
        newest = models_store.list_models()
        model_path = str(newest[0].path) if newest else None
    if model_path is not None:
        return features.ModelProbe(models_store.load_model(model_path)), f"saved model {model_path}"
    from cnnlib.model import build_model

    return features.ModelProbe(build_model()), "untrained tutorial architecture (32/64 filters, 256 units)"


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

    import keras

    probe, model_text = load_probe(args.model)
    every_layer = keras.Model(probe.model.inputs[0], [layer.output for layer in probe.model.layers])
    canvases = stroke_canvases(args.strokes)
    probe.read(np.zeros((28, 28), np.float32))
    every_layer(np.zeros((1, 28, 28, 1), np.float32), training=False)  # warm-up: Keras builds its call once
    timings: dict[str, list[float]] = {"preprocess": [], "conv + pool (section 2.2)": [], "activations + softmax": [],
                                       "total (server work per stroke)": [], "for comparison: eager Keras call": []}
    for index, canvas in enumerate(canvases):
        if not args.no_clear_session:
            keras.backend.clear_session()  # what Streamlit does after every script run
        time.sleep(args.pause_ms / 1000)
        start = time.perf_counter()
        image = canvas_to_mnist(canvas)
        prepared = time.perf_counter()
        steps = features.tutorial_steps(image, features.random_filters(seed=index))
        convolved = time.perf_counter()
        probe.read(image)
        done = time.perf_counter()
        [np.asarray(output) for output in every_layer(image.reshape(1, 28, 28, 1), training=False)]
        keras_done = time.perf_counter()
        for name, seconds in zip(timings, (prepared - start, convolved - prepared, done - convolved, done - start,
                                           keras_done - done)):
            timings[name].append(seconds * 1000)

    figure_ms = time_figures(image, steps, probe.read(image))
    print(f"Draw page latency over {args.strokes} strokes; model: {model_text}; "
          f"clear_session between strokes: {not args.no_clear_session}; {probe!r}")
    for name, milliseconds in timings.items():
        print(summary(name, milliseconds))
    total = statistics.median(timings["total (server work per stroke)"])
    print(f"budget {BUDGET_MS:.0f} ms median: {'met' if total < BUDGET_MS else 'MISSED'}")
    print(summary("page figures (outside the budget)", figure_ms))


def time_figures(image: np.ndarray, steps: features.TutorialSteps, reading: features.ModelReading,
                 repeats: int = 5) -> list[float]:
    """Milliseconds to build every plotly figure the page shows for one digit (page work, not cnnlib's)."""
    from cnnlib.figures.digit import draw_filter_grid, draw_map_grid, draw_probability_bars, draw_unit_bars
    from cnnlib.figures.grids import image_grid

    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        image_grid(image[None], ["28x28"], columns=1, zmin=0, zmax=1, tile_px=280)
        draw_filter_grid(steps.filters)
        draw_map_grid(steps.conv_maps, "feature map")
        draw_map_grid(steps.pool_maps, "pooled map")
        draw_probability_bars(reading.probabilities)
        for name, values in reading.activations.items():
            if values.ndim == 3:
                image_grid(np.moveaxis(values, -1, 0), columns=16, tile_px=44)
            elif not name.startswith(("flatten", "dropout")):  # the page shows these as one line of text
                draw_unit_bars(values)
        timings.append((time.perf_counter() - start) * 1000)
    return timings


if __name__ == "__main__":
    main()
