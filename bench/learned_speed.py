"""What did it learn? speed: ten ideal pictures, a channel's favourite digits, the digit map, as a page calls them.

    python bench/learned_speed.py                          # train the default preset 1 epoch on the offline subset
    python bench/learned_speed.py --model models/x.keras --repeats 5

The model is loaded as the app loads one (``cnnlib.store.saved.load_model``); digits are the offline subset's 1,000
test digits. Before each timed call it runs ``keras.backend.clear_session()`` as Streamlit does after every script
run, so each call pays for its trace and kernels as it would on a page. The map's second time reads a cache keyed by
the model's file and modification time, as the page's ``st.cache_data`` is. Targets (issue 24, 2 CPU cores): ten
ideal pictures <= 10 s, top examples <= 1 s, the map of 1,000 digits <= 10 s the first time and instant after.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from cnnlib import explain  # noqa: E402
from cnnlib.mnist.data import load_mnist  # noqa: E402
from cnnlib.store.saved import load_model  # noqa: E402

TARGETS_S = {"ten ideal pictures (150 steps)": 10.0, "top examples (9 of 1,000)": 1.0,
             "map of 1,000 digits, first time": 10.0, "map of 1,000 digits, from the cache": 0.01}


def train_quick_model(directory: Path) -> Path:
    """The app's default preset trained 1 epoch on the offline subset by the app's CLI; the saved model's path."""
    out = directory / "learned-offline.keras"
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "cnnlib.train", "--data", "offline", "--epochs", "1", "--out",
                             str(out)], cwd=ROOT, capture_output=True, text=True, check=True)
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"default preset, 1 epoch on the offline subset: test accuracy {summary['test_accuracy']:.4f}, "
          f"{time.perf_counter() - started:.1f} s")
    return out


@functools.cache
def cached_map(path: str, modified: float) -> np.ndarray:
    """The map of the offline test digits for the model file ``path`` as it was at ``modified`` (the page's key)."""
    digits = load_mnist("offline").x_test.astype(np.float32) / 255
    return explain.projection(load_model(path), digits)


def computations(model, path: Path, digits: np.ndarray) -> dict[str, Callable[[], object]]:
    """Every computation to time, by name."""
    layer = explain.last_conv_layer(model)
    key = (str(path), path.stat().st_mtime)
    return {
        "ten ideal pictures (150 steps)": lambda: explain.class_images(model, steps=150),
        f"one channel's ideal picture ({layer})": lambda: explain.channel_image(model, layer, 0),
        "top examples (9 of 1,000)": lambda: explain.top_examples(model, layer, 0, digits, k=9),
        "nearest digits (9 of 1,000)": lambda: explain.nearest(model, digits[0], digits, k=9),
        "map of 1,000 digits, first time": lambda: (cached_map.cache_clear(), cached_map(*key)),
        "map of 1,000 digits, from the cache": lambda: cached_map(*key),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="a saved .keras model (default: train one, about 30 s)")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls of each computation (median shown)")
    args = parser.parse_args()

    import keras

    with tempfile.TemporaryDirectory() as folder:
        path = Path(args.model) if args.model else train_quick_model(Path(folder))
        model = load_model(path)
        digits = load_mnist("offline").x_test.astype(np.float32) / 255
        print(f"{os.cpu_count()} CPU cores ({len(os.sched_getaffinity(0))} usable), load average "
              f"{os.getloadavg()[0]:.1f}; model {path.name}; clear_session before each call")
        for name, compute in computations(model, path, digits).items():
            seconds = []
            for _ in range(args.repeats):
                if "from the cache" not in name:
                    keras.backend.clear_session()  # what Streamlit does after every script run
                started = time.perf_counter()
                compute()
                seconds.append(time.perf_counter() - started)
            target = TARGETS_S.get(name)
            verdict = f"target {target:g} s: {'met' if statistics.median(seconds) <= target else 'MISSED'}" \
                if target else ""
            print(f"{name:<40} median {statistics.median(seconds):8.3f} s   min {min(seconds):8.3f} s   {verdict}")


if __name__ == "__main__":
    main()
