"""Does the app's trainer train as fast as a plain ``model.fit``? A/B pairs on the same model, images and batch.

    python bench/train_throughput.py                          # active data, the default preset's batch size
    python bench/train_throughput.py --data offline --epochs 6 --rounds 3
    python bench/train_throughput.py --data npz --npz /path/mnist.npz --epochs 3 --rounds 2

Both sides train, each in a fresh Python process, the same model (the default preset with ``--batch-size`` and
``--epochs``) on the same images: the trainer's own split, whose first twelfth is held out as validation data, which
both sides evaluate after every epoch.

A, "plain fit": ``build_model(hp).fit(x, y, validation_data=...)`` with one callback that only reads the clock at
each epoch's end (no batch hooks, so Keras dispatches batches as in a callback-free fit).
B, "app trainer": the page's way: ``RunRegistry().submit(...)`` starts ``python -m cnnlib.train --events`` as a
child process, while a thread here reads ``run.snapshot()`` once a second and builds the cost chart as the page's
fragment sends it.

The same window is timed on both: from the end of epoch 1 (start-up and graph tracing left out) to the end of the
last epoch, each read by a clock call in ``on_epoch_end`` (the trainer's ``epoch`` events carry it as ``t``).
Images/s = training images x (epochs - 1) / window. ``--rounds`` A/B pairs alternate so that other work on the
machine falls on both alike; the medians, their ratio and the median of each round's ratio are printed.
Target: ratio >= 0.95.

Last, how close training comes to the machine's limit: the network's FLOPs per training image (forward multiply-adds
of its conv and dense layers x 2, and x 3 for forward plus backward) x the app's images/s, over the CPU's float32
peak measured in the same run by the best of a few large matmuls (``--matmul 4096``: 2 x 4096^3 FLOPs each).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from cnnlib.mnist.data import load_mnist  # noqa: E402
from cnnlib.training.cost_charts import cost_curve_chart  # noqa: E402
from cnnlib.network.architecture import build_model, one_hot  # noqa: E402
from cnnlib.training.config import DEFAULT_PRESET, PRESETS, Hyperparameters, TrainConfig  # noqa: E402
from cnnlib.training.runs import RunRegistry  # noqa: E402
from cnnlib.training.trainer import split_training_data  # noqa: E402

PAGE_REFRESH_S = 1.0


def images_per_second(epoch_ends: list[float], train_count: int) -> float:
    """Training images per second from the end of the first epoch to the end of the last."""
    return train_count * (len(epoch_ends) - 1) / (epoch_ends[-1] - epoch_ends[0])


def plain_fit_in_child(config: TrainConfig) -> tuple[list[float], int]:
    """``plain_fit`` in a fresh Python process, so that neither side runs in a process that already trained."""
    result = subprocess.run([sys.executable, __file__, "--plain-child", json.dumps(asdict(config))],
                            capture_output=True, text=True, check=True)
    ends, count = json.loads(result.stdout.strip().splitlines()[-1])
    return ends, count


def plain_fit(config: TrainConfig) -> tuple[list[float], int]:
    """Seconds since training began at each epoch's end of a plain ``model.fit``, and the training images."""
    import keras

    arrays = split_training_data(load_mnist(config.data_source, config.npz_path), config.train_limit)
    epoch_ends: list[float] = []

    class EpochClock(keras.callbacks.Callback):
        """Epoch hooks only, so Keras keeps dispatching batch hooks asynchronously as in a callback-free fit."""

        def on_train_begin(self, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            epoch_ends.append(time.perf_counter() - self.started)

    hp = config.hp
    model = build_model(hp, steps_per_epoch=-(-len(arrays.x_train) // hp.batch_size))
    model.fit(arrays.x_train, one_hot(arrays.y_train), batch_size=hp.batch_size, epochs=hp.epochs,
              validation_data=(arrays.x_val, one_hot(arrays.y_val)), shuffle=True, verbose=0, callbacks=[EpochClock()])
    return epoch_ends, len(arrays.x_train)


def sent_chart(chart: dict) -> tuple[str, list[bytes]]:
    """The chart as Streamlit's ``st.echarts_chart`` sends it to the browser: each dataset as Arrow bytes, the rest
    as JSON."""
    from streamlit import dataframe_util

    tables = [dataframe_util.convert_anything_to_arrow_bytes(dataset["source"]) for dataset in chart["dataset"]]
    return json.dumps({key: value for key, value in chart.items() if key != "dataset"}), tables


def app_trainer(config: TrainConfig) -> tuple[list[float], int]:
    """Seconds since training began at each epoch's end of the page's trainer, its progress drawn once a second."""
    registry = RunRegistry(max_running=1)
    run = registry.submit(config)
    finished = threading.Event()

    def read_like_the_page() -> None:
        while not finished.is_set():
            progress = run.snapshot()
            if progress.batch_costs:
                sent_chart(cost_curve_chart(progress))
            time.sleep(PAGE_REFRESH_S)

    reader = threading.Thread(target=read_like_the_page, daemon=True)
    reader.start()
    try:
        run.wait()
    finally:
        finished.set()
        reader.join()
        registry.shutdown()
    progress = run.snapshot()
    if progress.state != "done":
        raise SystemExit(f"The trainer failed: {progress.message or progress.ending}")
    return progress.epoch_times, progress.train_count


def training_flops_per_image(hp: Hyperparameters) -> float:
    """FLOPs to train on one image: 2 per multiply-add of conv1, conv2 and the three dense layers, x 3 for backward."""
    k, c1, c2, units = hp.kernel_size, hp.conv1_filters, hp.conv2_filters, hp.dense_units
    multiply_adds = (28 * 28 * k * k * c1 + 14 * 14 * k * k * c1 * c2 + 7 * 7 * c2 * units + units * units
                     + units * 10)
    return 3 * 2 * multiply_adds


def matmul_peak_flops(side: int, repeats: int = 5) -> float:
    """The CPU's float32 FLOP/s: the best of ``repeats`` ``side`` x ``side`` matmuls with TensorFlow."""
    import tensorflow as tf

    a = tf.random.normal((side, side), dtype=tf.float32)
    best = float("inf")
    for _ in range(repeats + 1):  # the first one warms up
        started = time.perf_counter()
        tf.linalg.matmul(a, a).numpy()
        best = min(best, time.perf_counter() - started)
    return 2 * side**3 / best


def parse_arguments() -> argparse.Namespace:
    """The bench's options."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="auto", help="auto, offline, keras or npz (as the CLI)")
    parser.add_argument("--npz", help="an MNIST .npz file, with --data npz")
    parser.add_argument("--epochs", type=int, default=6, help="per side and round; the first is not timed")
    parser.add_argument("--batch-size", type=int, default=PRESETS[DEFAULT_PRESET].batch_size)
    parser.add_argument("--train-limit", type=int)
    parser.add_argument("--rounds", type=int, default=2, help="A/B pairs, alternated, to even out a busy machine")
    parser.add_argument("--matmul", type=int, default=4096, help="side of the square matmul that measures the peak")
    parser.add_argument("--plain-child", help=argparse.SUPPRESS)  # internal: run plain_fit on this JSON config
    return parser.parse_args()


def main() -> None:
    args = parse_arguments()
    if args.plain_child:
        fields = json.loads(args.plain_child)
        print(json.dumps(plain_fit(TrainConfig(**{**fields, "hp": Hyperparameters(**fields["hp"])}))))
        return
    hp = replace(PRESETS[DEFAULT_PRESET], epochs=max(2, args.epochs), batch_size=args.batch_size)
    plain, app = [], []
    with tempfile.TemporaryDirectory() as models:
        config = TrainConfig(hp=hp, data_source=args.data, npz_path=args.npz, train_limit=args.train_limit,
                             model_name="bench", models_directory=models)
        for round_number in range(1, args.rounds + 1):
            plain.append(images_per_second(*plain_fit_in_child(config)))
            app.append(images_per_second(*app_trainer(config)))
            print(f"round {round_number}: plain model.fit {plain[-1]:,.0f} images/s, app trainer {app[-1]:,.0f} "
                  f"images/s, ratio {app[-1] / plain[-1]:.3f}", flush=True)
    plain_rate, app_rate = statistics.median(plain), statistics.median(app)
    print(f"data {args.data}, batch {hp.batch_size}, {args.rounds} x (plain, app) of {hp.epochs} epochs; timed from "
          "the end of epoch 1 to the end of the last, validation included on both sides")
    print(f"plain model.fit : {plain_rate:8,.0f} images/s (median)")
    print(f"app trainer     : {app_rate:8,.0f} images/s (median)")
    print(f"ratio app / plain: {app_rate / plain_rate:.3f}   (target >= 0.95); median of the rounds' own ratios: "
          f"{statistics.median(a / p for a, p in zip(app, plain)):.3f}")
    flops, peak = training_flops_per_image(hp), matmul_peak_flops(args.matmul)
    reached = flops * app_rate
    print(f"training: {flops / 1e6:.1f} MFLOP per image x {app_rate:,.0f} images/s = {reached / 1e9:.1f} GFLOP/s; "
          f"float32 matmul peak {peak / 1e9:.1f} GFLOP/s; training reaches {reached / peak:.1%} of it")


if __name__ == "__main__":
    main()
