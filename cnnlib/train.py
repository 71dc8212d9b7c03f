"""Train the tutorial's network: the trainer process and its command line.

    python -m cnnlib.train --epochs 3 --data offline --train-limit 1000

prints one line per epoch and, last, one JSON line (test_accuracy, epochs, seconds, images_per_second,
data_source, model_path). With ``--events`` it prints one JSON event per line instead and stops when it reads
``stop`` (or end of file) on stdin: that is how the Train page runs it, as a child process, so that training
never shares the Streamlit server's process (Streamlit calls ``keras.backend.clear_session()`` after every rerun).
``cnnlib/progress.py`` is the server side that starts it and turns its events into a progress snapshot.

Events, in order: ``started`` (device, data sizes, steps per epoch), ``batch`` (each batch's own cost),
``epoch`` (mean cost, validation accuracy, images/s), maybe ``stopped`` (the answer to Stop), ``evaluating``,
``evaluated`` (test accuracy with dropout off, confusion matrix, misclassified test digits), ``saving``,
``saved``, ``finished`` (the summary); or, at any point, ``failed`` (one line saying why).

Each batch's own cost: in Keras 3, ``logs["loss"]`` after batch k is the epoch's running mean
``mean_k = (n_1 cost_1 + ... + n_k cost_k) / N_k``, so ``cost_k = (mean_k N_k - mean_{k-1} N_{k-1}) / n_k``.
Example: running means 2.0, 1.5, 1.0 after batches of 100 mean the batches cost 2.0, 1.0 and 0.0.

TensorFlow is imported only inside the functions that train, so the page can import this module cheaply.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from cnnlib.data import SOURCES, MnistData, load_mnist
from cnnlib.model import TUTORIAL, Hyperparameters, build_model
from cnnlib.models_store import MODEL_SUFFIX, check_name

Emit = Callable[[dict], None]

FAST_AND_STABLE = Hyperparameters(epochs=10, batch_size=50, learning_rate=1e-3, keep_prob=0.75, init="he",
                                  lr_decay="cosine")
PRESETS = {"As in the tutorial": TUTORIAL, "Fast and stable": FAST_AND_STABLE}
VALIDATION_SHARE = 1 / 12  # TF1's input_data held out the first 5,000 of 60,000 training digits for validation
MAX_MISCLASSIFIED_SENT = 500
EVENT_FLUSH_INTERVAL_S = 0.1


@dataclass(frozen=True)
class TrainConfig:
    """One training run: hyperparameters, where the digits come from, how many, and where the model goes."""

    hp: Hyperparameters = field(default_factory=lambda: FAST_AND_STABLE)
    data_source: str = "auto"
    npz_path: str | None = None
    train_limit: int | None = None  # the first N training digits (validation included); None: all
    model_name: str | None = None  # None: a name from the recipe and the time
    models_directory: str | None = None  # None: cnnlib.models_store.models_dir()

    def to_args(self) -> list[str]:
        """The command-line arguments that reproduce this config."""
        hp = self.hp
        args = ["--epochs", str(hp.epochs), "--batch-size", str(hp.batch_size),
                "--learning-rate", repr(hp.learning_rate), "--keep-prob", repr(hp.keep_prob), "--init", hp.init,
                "--seed", str(hp.seed), "--conv1-filters", str(hp.conv1_filters),
                "--conv2-filters", str(hp.conv2_filters), "--dense-units", str(hp.dense_units),
                "--lr-decay", hp.lr_decay, "--data", self.data_source]
        if self.npz_path:
            args += ["--npz", self.npz_path]
        if self.train_limit:
            args += ["--train-limit", str(self.train_limit)]
        if self.model_name or self.models_directory:
            args += ["--out", str(self.output_path())]
        return args

    def output_path(self) -> Path:
        """Where the model will be saved: ``<models dir>/<name>.keras``."""
        from cnnlib.models_store import models_dir

        directory = Path(self.models_directory) if self.models_directory else models_dir()
        return directory / f"{self.model_name or default_model_name(self.hp)}{MODEL_SUFFIX}"


def default_model_name(hp: Hyperparameters) -> str:
    """A readable, unique-enough name, e.g. ``he-lr0.001-keep0.75-20261128-153012``."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return f"{hp.init}-lr{hp.learning_rate:g}-keep{hp.keep_prob:g}-{stamp}"


# Data ------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True, repr=False)
class TrainingData:
    """Model-ready arrays: images ``(N, 28, 28, 1)`` float32 in 0..1 (the tutorial's scaling), labels ``(N,)``."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def __repr__(self) -> str:
        return f"TrainingData({len(self.x_train)} train, {len(self.x_val)} validation, {len(self.x_test)} test)"


def to_model_input(images: np.ndarray) -> np.ndarray:
    """``(N, 28, 28)`` uint8 0..255 -> ``(N, 28, 28, 1)`` float32 0..1."""
    return (np.asarray(images, dtype=np.float32) / 255.0)[..., np.newaxis]


def validation_count(training_digits: int) -> int:
    """How many of ``training_digits`` are held out for validation: 5,000 of 60,000, 333 of 4,000."""
    return max(1, round(training_digits * VALIDATION_SHARE))


def split_training_data(data: MnistData, train_limit: int | None = None) -> TrainingData:
    """The first ``train_limit`` training digits; their first twelfth is held out for validation, as in TF1."""
    count = len(data.x_train) if not train_limit else min(train_limit, len(data.x_train))
    validation = validation_count(count)
    images, labels = data.x_train[:count], data.y_train[:count]
    return TrainingData(to_model_input(images[validation:]), labels[validation:],
                        to_model_input(images[:validation]), labels[:validation],
                        to_model_input(data.x_test), data.y_test)


# Each batch's own cost ------------------------------------------------------------------------------------------

def own_batch_cost(mean: float, seen: int, previous_mean: float, previous_seen: int) -> float:
    """One batch's own cost from Keras's running means before and after it; (1.5, 200, 2.0, 100) -> 1.0."""
    return (mean * seen - previous_mean * previous_seen) / (seen - previous_seen)


# Device ----------------------------------------------------------------------------------------------------------

def training_strategy():
    """(strategy, description): MirroredStrategy over several GPUs, one GPU, or the CPU with its thread count."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        tf.config.experimental.set_memory_growth(gpu, True)  # leave the rest to the Draw page and others
    if not gpus:
        threads = tf.config.threading.get_intra_op_parallelism_threads() or len(os.sched_getaffinity(0))
        return tf.distribute.get_strategy(), f"CPU ({threads} threads)"
    name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
    if len(gpus) == 1:
        return tf.distribute.get_strategy(), f"GPU ({name})"
    return tf.distribute.MirroredStrategy(), f"{len(gpus)} GPUs ({name}), MirroredStrategy"


# Training --------------------------------------------------------------------------------------------------------

def make_progress_callback(emit: Emit, stop_requested: threading.Event, train_count: int, batch_size: int):
    """A Keras callback that emits each batch's own cost and each epoch's summary, and stops when asked."""
    import keras

    class ProgressCallback(keras.callbacks.Callback):
        """Turns Keras's running means into per-batch costs; checks Stop after every batch."""

        def __init__(self) -> None:
            super().__init__()
            self.training_started = self.epoch_started = self.last_batch_end = time.perf_counter()
            self.epoch_number, self.previous_mean, self.seen = 0, 0.0, 0
            self.stopped, self.images_total, self.train_seconds = False, 0, 0.0

        def on_train_begin(self, logs=None) -> None:
            self.training_started = time.perf_counter()

        def on_epoch_begin(self, epoch: int, logs=None) -> None:
            self.epoch_started = self.last_batch_end = time.perf_counter()
            self.epoch_number, self.previous_mean, self.seen = epoch + 1, 0.0, 0

        def on_train_batch_end(self, batch: int, logs=None) -> None:
            self.last_batch_end = time.perf_counter()
            seen = min((batch + 1) * batch_size, train_count)
            mean = float(logs["loss"])
            cost = own_batch_cost(mean, seen, self.previous_mean, self.seen)
            self.previous_mean, self.seen = mean, seen
            emit({"event": "batch", "epoch": self.epoch_number, "batch": batch + 1, "cost": cost,
                  "t": self.last_batch_end - self.training_started})
            if stop_requested.is_set() and not self.stopped:
                self.stopped = self.model.stop_training = True
                emit({"event": "stopped", "epoch": self.epoch_number, "batch": batch + 1})

        def on_epoch_end(self, epoch: int, logs=None) -> None:
            logs = logs or {}
            seconds = self.last_batch_end - self.epoch_started
            self.images_total += self.seen
            self.train_seconds += seconds
            emit({"event": "epoch", "epoch": epoch + 1, "cost": logs.get("loss"),
                  "accuracy": logs.get("accuracy"), "val_cost": logs.get("val_loss"),
                  "val_accuracy": logs.get("val_accuracy"), "seconds": seconds,
                  "images_per_second": self.seen / seconds if seconds > 0 else None})

    return ProgressCallback()


def evaluate(model, x_test: np.ndarray, y_test: np.ndarray) -> dict:
    """Test accuracy with dropout off, the 10x10 confusion matrix (rows true, columns predicted), the mistakes."""
    logits = model.predict(x_test, batch_size=1000, verbose=0)  # (N, 10); predict runs with training=False
    predicted = np.argmax(logits, axis=1)
    confusion = np.bincount(y_test * 10 + predicted, minlength=100).reshape(10, 10)
    wrong = np.flatnonzero(predicted != y_test)
    return {"event": "evaluated", "test_accuracy": float(np.mean(predicted == y_test)),
            "confusion": confusion.tolist(), "misclassified_count": int(len(wrong)),
            "misclassified": [[int(i), int(y_test[i]), int(predicted[i])] for i in wrong[:MAX_MISCLASSIFIED_SENT]]}


def train(config: TrainConfig, emit: Emit, stop_requested: threading.Event | None = None):
    """Load data, train, evaluate and save; emit events on the way; return ``(model, summary)``."""
    stop_requested = stop_requested or threading.Event()
    started = time.perf_counter()
    data = load_mnist(config.data_source, config.npz_path)
    arrays = split_training_data(data, config.train_limit)
    strategy, device = training_strategy()
    hp = config.hp
    steps = -(-len(arrays.x_train) // hp.batch_size)
    with strategy.scope():
        model = build_model(hp, steps_per_epoch=steps)
    emit({"event": "started", "device": device, "data_source": data.source, "data_description": data.description,
          "notes": list(data.notes), "train_count": len(arrays.x_train), "validation_count": len(arrays.x_val),
          "test_count": len(arrays.x_test), "epochs": hp.epochs, "batch_size": hp.batch_size, "steps_per_epoch": steps,
          "hyperparameters": hp.to_dict()})
    callback = make_progress_callback(emit, stop_requested, len(arrays.x_train), hp.batch_size)
    history = model.fit(arrays.x_train, arrays.y_train, batch_size=hp.batch_size, epochs=hp.epochs,
                        validation_data=(arrays.x_val, arrays.y_val), shuffle=True, verbose=0, callbacks=[callback])
    emit({"event": "evaluating"})
    evaluation = evaluate(model, arrays.x_test, arrays.y_test)
    emit(evaluation)
    epochs_done = len(history.history.get("loss", []))
    summary = {"test_accuracy": evaluation["test_accuracy"], "epochs": epochs_done,
               "seconds": round(time.perf_counter() - started, 2),
               "images_per_second": round(callback.images_total / callback.train_seconds, 1)
               if callback.train_seconds else None,
               "data_source": data.source, "model_path": None, "stopped_early": callback.stopped, "device": device,
               "train_count": len(arrays.x_train)}
    emit({"event": "saving"})
    saved = _save(model, config, summary, data)
    summary["model_path"] = str(saved.path)
    emit({"event": "saved", "model_name": saved.name, "model_path": str(saved.path)})
    emit({"event": "finished", "summary": summary})
    return model, summary


def _save(model, config: TrainConfig, summary: dict, data: MnistData):
    """Save the model and its JSON (hyperparameters, data, accuracy, date) atomically; return the SavedModel."""
    from cnnlib.models_store import save_model

    path = config.output_path()
    metadata = {"hyperparameters": config.hp.to_dict(), "data_source": data.source,
                "data_description": data.description, "train_limit": config.train_limit,
                "test_accuracy": summary["test_accuracy"], "epochs_completed": summary["epochs"],
                "stopped_early": summary["stopped_early"], "device": summary["device"],
                "seconds": summary["seconds"], "images_per_second": summary["images_per_second"],
                "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    return save_model(model, path.stem, metadata, directory=path.parent)


# Output: JSON events for the page, or lines for a person -----------------------------------------------------------

class JsonLinesEmitter:
    """Writes each event as one JSON line; batch events are flushed at most every 0.1 s, the rest at once."""

    def __init__(self, stream) -> None:
        self.stream, self.last_flush = stream, 0.0

    def __call__(self, event: dict) -> None:
        self.stream.write(json.dumps(event) + "\n")
        now = time.monotonic()
        if event["event"] != "batch" or now - self.last_flush >= EVENT_FLUSH_INTERVAL_S:
            self.stream.flush()
            self.last_flush = now


def print_for_a_person(event: dict) -> None:
    """One line per epoch (and a few others) for the command line; the summary JSON is printed by ``main``."""
    kind = event["event"]
    if kind == "started":
        print(f"Training on {event['device']}: {event['train_count']:,} digits, {event['validation_count']:,} for "
              f"validation, {event['test_count']:,} for test ({event['data_source']}); "
              f"{event['steps_per_epoch']} batches of {event['batch_size']} per epoch.", flush=True)
    elif kind == "epoch":
        rate = f"{event['images_per_second']:,.0f} images/s" if event["images_per_second"] else ""
        print(f"epoch {event['epoch']:>3}  cost {event['cost']:.4f}  validation accuracy "
              f"{event['val_accuracy']:.4f}  {event['seconds']:.1f} s  {rate}", flush=True)
    elif kind == "stopped":
        print(f"Stopped after batch {event['batch']} of epoch {event['epoch']}.", flush=True)


def listen_for_stop(stream, stop_requested: threading.Event) -> None:
    """Set ``stop_requested`` when ``stop`` arrives on ``stream`` or the stream ends (the page went away)."""
    for line in stream:
        if line.strip() == "stop":
            break
    stop_requested.set()


# Command line -----------------------------------------------------------------------------------------------------

class OneLineArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit code 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The CLI's arguments; defaults are the "Fast and stable" preset."""
    fast = FAST_AND_STABLE
    parser = OneLineArgumentParser(prog="python -m cnnlib.train",
                                   description="Train the tutorial's CNN on MNIST and save it for the Draw page.")
    parser.add_argument("--epochs", type=int, default=fast.epochs,
                        help="passes over the training digits (tutorial: 50)")
    parser.add_argument("--batch-size", type=int, default=fast.batch_size, help="digits per step (tutorial: 100)")
    parser.add_argument("--learning-rate", type=float, default=fast.learning_rate, help="Adam's step (tutorial: 0.01)")
    parser.add_argument("--lr-decay", choices=("none", "cosine"), default=fast.lr_decay,
                        help="none keeps the rate (tutorial); cosine lowers it to 0 by the last batch")
    parser.add_argument("--keep-prob", type=float, default=fast.keep_prob,
                        help="dropout keep probability (tutorial: 0.75)")
    parser.add_argument("--init", choices=("tutorial", "he"), default=fast.init,
                        help="conv initialisation: tutorial = N(0, 1), he = He-normal with zero biases")
    parser.add_argument("--conv1-filters", type=int, default=fast.conv1_filters)
    parser.add_argument("--conv2-filters", type=int, default=fast.conv2_filters)
    parser.add_argument("--dense-units", type=int, default=fast.dense_units)
    parser.add_argument("--seed", type=int, default=fast.seed)
    parser.add_argument("--data", choices=SOURCES, default="auto", help="where MNIST comes from")
    parser.add_argument("--npz", help="an MNIST .npz file (with --data npz)")
    parser.add_argument("--train-limit", type=int, help="train on the first N training digits only")
    parser.add_argument("--out", help="where to save the model, a .keras path (default: models dir, auto name)")
    parser.add_argument("--events", action="store_true", help="print JSON events and read 'stop' on stdin (the page)")
    return parser


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """A TrainConfig from parsed arguments; ValueError with one sentence when a value is out of range."""
    checks = [(args.epochs >= 1, "--epochs must be at least 1"),
              (args.batch_size >= 1, "--batch-size must be at least 1"),
              (0 < args.learning_rate <= 1, "--learning-rate must be in (0, 1]"),
              (0 < args.keep_prob <= 1, "--keep-prob must be in (0, 1]"),
              (min(args.conv1_filters, args.conv2_filters, args.dense_units) >= 1, "layer sizes must be at least 1"),
              (args.train_limit is None or args.train_limit >= 2, "--train-limit must be at least 2"),
              (args.data != "npz" or args.npz or os.environ.get("CNN_EXPLORER_MNIST_NPZ"),
               "--data npz needs --npz PATH (or CNN_EXPLORER_MNIST_NPZ)"),
              (not args.npz or Path(args.npz).is_file(), f"--npz {args.npz}: no such file"),
              (not args.out or args.out.endswith(MODEL_SUFFIX), "--out must end in .keras")]
    for ok, reason in checks:
        if not ok:
            raise ValueError(reason)
    hp = Hyperparameters(epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
                         keep_prob=args.keep_prob, conv1_filters=args.conv1_filters,
                         conv2_filters=args.conv2_filters, dense_units=args.dense_units, init=args.init, seed=args.seed,
                         lr_decay=args.lr_decay)
    config = TrainConfig(hp=hp, data_source=args.data, npz_path=args.npz, train_limit=args.train_limit)
    if args.out:
        out = Path(args.out)
        config = replace(config, model_name=check_name(out.stem), models_directory=str(out.parent))
    return config


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; 0 on success, 1 when training failed, 2 for bad arguments."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
    except ValueError as error:
        parser.error(str(error))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    stop_requested = threading.Event()
    if args.events:
        emit: Emit = JsonLinesEmitter(sys.stdout)
        threading.Thread(target=listen_for_stop, args=(sys.stdin, stop_requested), daemon=True).start()
    else:
        emit = print_for_a_person
        signal.signal(signal.SIGINT, lambda *_: stop_requested.set())  # Ctrl-C: finish the batch, save, report
    try:
        _, summary = train(config, emit, stop_requested)
    except Exception as error:  # noqa: BLE001 - whatever broke, the page and the shell get one line
        message = f"{type(error).__name__}: {error}".strip().splitlines()[0]
        if args.events:
            emit({"event": "failed", "message": message})
        print(f"Training failed: {message}", file=sys.stderr, flush=True)
        return 1
    if not args.events:
        print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
