"""Why this answer? page speed: each cnnlib.lessons.why.explain computation on one digit, as the page calls it.

Before every call it runs ``keras.backend.clear_session()`` as Streamlit does after every script run: that empties
TensorFlow's kernel cache, so every call pays for its kernels again (``--no-clear-session`` to skip). Digits are
the offline subset's test digits; the model is the tutorial's network at its default sizes (untrained: the same
layers cost the same), or ``--model``. Targets (issue 12, 2 CPU cores): occlusion at the default setting <= 200 ms,
saliency and Grad-CAM <= 60 ms each, knockout ranking <= 200 ms.

Usage: python bench/explain_speed.py [--calls 30] [--model path/to/model.keras] [--no-clear-session]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from cnnlib import explain  # noqa: E402
from cnnlib.mnist.data import load_mnist  # noqa: E402

TARGETS_MS = {"occlusion (patch 6, stride 2)": 200, "saliency": 60, "Grad-CAM": 60, "knockout ranking (conv2)": 200}


def computations(model) -> dict[str, Callable[[np.ndarray], object]]:
    """Every computation the page runs on a digit, by name."""
    return {
        "occlusion (patch 6, stride 2)": lambda image: explain.occlusion(model, image),
        "saliency": lambda image: explain.saliency_map(model, image),
        "SmoothGrad (16 samples)": lambda image: explain.saliency_map(model, image, smooth=16),
        "Grad-CAM": lambda image: explain.gradcam_map(model, image),
        "knockout ranking (conv1)": lambda image: explain.knockout_ranking(model, image, "conv1"),
        "knockout ranking (conv2)": lambda image: explain.knockout_ranking(model, image, "conv2"),
        "nudge (epsilon 0.1, to the next digit)": lambda image: explain.nudge_towards(
            model, image, (int(np.argmax(explain.probabilities(model, image))) + 1) % 10, 0.1),
    }


def load(model_path: str | None):
    """The model to time, and a few words saying which it is."""
    if model_path:
        from cnnlib.store.saved import load_model

        return load_model(model_path), f"saved model {model_path}"
    from cnnlib.network.architecture import build_model

    return build_model(), "the tutorial's network, default sizes (32/64 filters, 256 units), untrained"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--model", default=None)
    parser.add_argument("--no-clear-session", action="store_true")
    args = parser.parse_args()

    import keras

    model, model_text = load(args.model)
    digits = load_mnist("offline").x_test[:args.calls].astype(np.float32) / 255.0
    print(f"{model_text}; {os.cpu_count()} CPU cores; clear_session before each call: {not args.no_clear_session}")
    for name, compute in computations(model).items():
        compute(digits[0])  # Keras builds each layer's call once per process
        milliseconds = []
        for image in digits:
            if not args.no_clear_session:
                keras.backend.clear_session()  # what Streamlit does after every script run
            start = time.perf_counter()
            compute(image)
            milliseconds.append((time.perf_counter() - start) * 1000)
        median = statistics.median(milliseconds)
        verdict = f"target {TARGETS_MS[name]} ms: {'met' if median <= TARGETS_MS[name] else 'MISSED'}" \
            if name in TARGETS_MS else ""
        print(f"{name:<40} median {median:7.1f} ms   min {min(milliseconds):7.1f} ms   {verdict}")


if __name__ == "__main__":
    main()
