"""Does the app's trainer train as fast as a plain ``model.fit``? One A/B run on the same model, data and batch.

    python bench/train_throughput.py                     # active data, Fast and stable's batch size
    python bench/train_throughput.py --data offline --epochs 8 --batch-size 100

A, "plain fit": ``build_model(hp).fit(...)`` in a fresh Python process (as the trainer gets), no callbacks but
an epoch timer.
B, "app trainer": the page's way: ``RunRegistry().submit(...)`` starts ``python -m cnnlib.train --events`` as a
child process, while a thread here reads ``run.snapshot()`` once a second and draws the cost curve, as the page's
fragment does. Both are timed per epoch over the training batches only (first batch to last; no validation);
the first epoch (graph tracing) is left out and the median of the rest is compared. ``--rounds`` A/B pairs
alternate so that other work on the machine falls on both alike. Target: ratio >= 0.95.
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

from cnnlib.data import load_mnist  # noqa: E402
from cnnlib.model import Hyperparameters, build_model  # noqa: E402
from cnnlib.figures.training import train_cost_curve  # noqa: E402
from cnnlib.progress import CHANCE_COST, RunRegistry, smoothed  # noqa: E402
from cnnlib.train import FAST_AND_STABLE, TrainConfig, split_training_data  # noqa: E402

PAGE_REFRESH_S = 1.0


def plain_fit_in_child(config: TrainConfig) -> list[float]:
    """``plain_fit`` in a fresh Python process, so that neither side runs in a process that already trained."""
    result = subprocess.run([sys.executable, __file__, "--plain-child", json.dumps(asdict(config))],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def plain_fit(config: TrainConfig) -> list[float]:
    """Images/s of each epoch of a plain ``model.fit`` (training batches only)."""
    import keras

    arrays = split_training_data(load_mnist(config.data_source, config.npz_path), config.train_limit)
    epoch_seconds: list[float] = []

    class EpochTimer(keras.callbacks.Callback):
        """Only epoch hooks, so Keras keeps dispatching batch hooks asynchronously as in a callback-free fit."""

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            epoch_seconds.append(time.perf_counter() - self.started)

    model = build_model(config.hp, steps_per_epoch=-(-len(arrays.x_train) // config.hp.batch_size))
    model.fit(arrays.x_train, arrays.y_train, batch_size=config.hp.batch_size, epochs=config.hp.epochs,
              shuffle=True, verbose=0, callbacks=[EpochTimer()])
    return [len(arrays.x_train) / seconds for seconds in epoch_seconds]


def app_trainer(config: TrainConfig) -> list[float]:
    """Images/s of each epoch of the page's trainer, its progress read and drawn once a second meanwhile."""
    run = RunRegistry(max_running=1).submit(config, "bench")
    finished = threading.Event()

    def read_like_the_page() -> None:
        while not finished.is_set():
            progress = run.snapshot()
            if progress.batch_costs:
                train_cost_curve(progress.batch_positions, progress.batch_costs, smoothed(progress.batch_costs),
                                 progress.epoch_positions, progress.epoch_costs, progress.val_accuracies,
                                 CHANCE_COST).to_json()
            time.sleep(PAGE_REFRESH_S)

    reader = threading.Thread(target=read_like_the_page, daemon=True)
    reader.start()
    run.wait()
    finished.set()
    reader.join()
    progress = run.snapshot()
    if progress.state != "done":
        raise SystemExit(f"The trainer failed: {progress.message}")
    return [progress.train_count / seconds for seconds in progress.epoch_seconds]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="auto", help="auto, offline, keras or npz (as the CLI)")
    parser.add_argument("--npz", help="an MNIST .npz file, with --data npz")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=FAST_AND_STABLE.batch_size)
    parser.add_argument("--train-limit", type=int)
    parser.add_argument("--rounds", type=int, default=2, help="A/B pairs, alternated, to even out a busy machine")
    parser.add_argument("--plain-child", help=argparse.SUPPRESS)  # internal: run plain_fit on this JSON config
    args = parser.parse_args()
    if args.plain_child:
        fields = json.loads(args.plain_child)
        print(json.dumps(plain_fit(TrainConfig(**{**fields, "hp": Hyperparameters(**fields["hp"])}))))
        return
    hp = replace(FAST_AND_STABLE, epochs=args.epochs, batch_size=args.batch_size)
    with tempfile.TemporaryDirectory() as models:
        config = TrainConfig(hp=hp, data_source=args.data, npz_path=args.npz, train_limit=args.train_limit,
                             model_name="bench", models_directory=models)
        plain, app = [], []
        for _ in range(args.rounds):
            plain += plain_fit_in_child(config)[1:]
            app += app_trainer(config)[1:]
    plain_rate, app_rate = statistics.median(plain), statistics.median(app)
    print(f"data {args.data}, batch {hp.batch_size}, {args.rounds} x (plain, app) of {hp.epochs} epochs; "
          "first epoch of each left out; medians of the rest")
    print(f"plain model.fit : {plain_rate:8,.0f} images/s   per epoch: {', '.join(f'{r:,.0f}' for r in plain)}")
    print(f"app trainer     : {app_rate:8,.0f} images/s   per epoch: {', '.join(f'{r:,.0f}' for r in app)}")
    print(f"ratio app / plain: {app_rate / plain_rate:.3f}   (target >= 0.95)")


if __name__ == "__main__":
    main()
