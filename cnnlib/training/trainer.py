"""How a run trains: the data split, the Keras fit and its progress callback, the evaluation and the saved model.

    model, summary = train(TrainConfig(data_source="offline"), emit=print)

``train`` emits the events listed in ``cnnlib.training.progress`` (plain dicts of numbers and names) and returns the
trained model with a summary (test accuracy, epochs, seconds, images/s, data source, model path). Beside the model it
saves the weights and test accuracy after every epoch (``cnnlib.network.snapshots``); the JSON card lists those accuracies.
With augmentation on, ``fit`` trains the network inside ``cnnlib.network.architecture.training_model``; the network alone is saved.
With ``drawn_share`` above 0, the training digits are first redrawn as pen strokes (``cnnlib.mnist.strokes``, about 0.5 ms a
digit) and ``training_batches`` shows each digit redrawn with that chance, afresh every epoch.

A trainer kept ready (``python -m cnnlib.train --serve``) calls ``prepare`` before its run is asked for: it loads the
data, redraws its training digits and traces a network's training, validation and prediction steps on blank digits
of the run's shapes (about 0.6 s of the first batch here). A run that asks for that recipe and data trains that very
network, given the starting values a network built for the run would have, so its results are the same; any other
run builds its own.

Each batch's own cost: in Keras 3, ``logs["loss"]`` after batch k is the epoch's running mean
``mean_k = (n_1 cost_1 + ... + n_k cost_k) / N_k``, so ``cost_k = (mean_k N_k - mean_{k-1} N_{k-1}) / n_k``.
Example: running means 2.0, 1.5, 1.0 after batches of 100 mean the batches cost 2.0, 1.0 and 0.0.

TensorFlow is imported only inside the functions that train, so the page can import this module cheaply.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone

import numpy as np

from cnnlib.mnist.data import MnistData, load_mnist
from cnnlib.network.architecture import build_model, one_hot, training_model
from cnnlib.store.saved import SavedModel, save_model
from cnnlib.network.snapshots import TEST_BATCH, EpochSnapshots, save_snapshots, snapshot_callback
from cnnlib.mnist.strokes import redrawn
from cnnlib.training.config import Hyperparameters, TrainConfig
from cnnlib.training.progress import Event

Emit = Callable[[dict], None]

STARTING_VALUES_ONLY = ("seed", "init")  # hyperparameters that change a network's starting values, not its steps
VALIDATION_SHARE = 1 / 12  # TF1's input_data held out the first 5,000 of 60,000 training digits for validation
MAX_MISCLASSIFIED_SENT = 500


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


def steps_per_epoch(train_count: int, batch_size: int) -> int:
    """Batches in one pass over ``train_count`` digits, the last one partial: 3,667 in batches of 64 make 58."""
    return -(-train_count // batch_size)


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


def redrawn_training_digits(x_train: np.ndarray, hp: Hyperparameters, emit: Emit) -> np.ndarray | None:
    """The training digits redrawn as pen strokes when ``hp`` shows a share of them so (announced first), else None."""
    if not hp.drawn_share:
        return None
    emit({"event": Event.REDRAWING, "count": len(x_train)})
    return redrawn(x_train)


def training_batches(x_train: np.ndarray, y_train: np.ndarray, drawn: np.ndarray | None, hp: Hyperparameters):
    """The batches ``fit`` trains on, a ``tf.data.Dataset`` of (digits, one-hot targets): shuffled afresh every epoch,
    and with ``drawn`` each digit shown redrawn with probability ``hp.drawn_share``, drawn afresh every epoch (seeded
    by ``hp.seed``)."""
    import tensorflow as tf

    images, targets = tf.constant(x_train), tf.constant(one_hot(y_train))
    redrawings = images if drawn is None else tf.constant(drawn)  # no second copy of the digits when none are redrawn
    order = tf.data.Dataset.range(len(x_train)).shuffle(len(x_train), seed=hp.seed, reshuffle_each_iteration=True)
    coins = tf.data.Dataset.random(seed=hp.seed, rerandomize_each_iteration=True).map(
        lambda coin: tf.cast(coin % 2**24, tf.float32) / 2**24 < hp.drawn_share)
    pairs = tf.data.Dataset.zip(order, coins).batch(hp.batch_size)

    def batch(indices, redraw):
        shown = tf.where(redraw[:, None, None, None], tf.gather(redrawings, indices), tf.gather(images, indices))
        return shown, tf.gather(targets, indices)

    return pairs.map(batch, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


# Progress while fitting -------------------------------------------------------------------------------------------

def own_batch_cost(mean: float, seen: int, previous_mean: float, previous_seen: int) -> float:
    """One batch's own cost from Keras's running means before and after it; (1.5, 200, 2.0, 100) -> 1.0."""
    return (mean * seen - previous_mean * previous_seen) / (seen - previous_seen)


class BatchRecorder:
    """Turns Keras's running means into each batch's own cost, emits batch and epoch events, and relays Stop."""

    def __init__(self, emit: Emit, stop_requested: threading.Event, train_count: int, batch_size: int) -> None:
        self.emit, self.stop_requested = emit, stop_requested
        self.train_count, self.batch_size = train_count, batch_size
        self.training_started = self.epoch_started = self.last_batch_end = time.perf_counter()
        self.epoch_number, self.previous_mean, self.seen = 0, 0.0, 0
        self.stopped, self.epochs_done, self.images_total, self.train_seconds = False, 0, 0, 0.0

    def train_begin(self) -> None:
        """The clock of every event's ``t`` starts here."""
        self.training_started = time.perf_counter()

    def epoch_begin(self, epoch: int) -> None:
        """A new epoch: Keras's running mean starts again."""
        self.epoch_started = self.last_batch_end = time.perf_counter()
        self.epoch_number, self.previous_mean, self.seen = epoch + 1, 0.0, 0

    def batch_end(self, batch: int, mean: float) -> bool:
        """Emit this batch's own cost; True when training should stop now (Stop was asked for)."""
        self.last_batch_end = time.perf_counter()
        seen = min((batch + 1) * self.batch_size, self.train_count)
        cost = own_batch_cost(mean, seen, self.previous_mean, self.seen)
        self.previous_mean, self.seen = mean, seen
        self.emit({"event": Event.BATCH, "epoch": self.epoch_number, "batch": batch + 1, "cost": cost,
                   "t": self.last_batch_end - self.training_started})
        if self.stop_requested.is_set() and not self.stopped:
            self.stopped = True
            self.emit({"event": Event.STOPPED, "epoch": self.epoch_number, "batch": batch + 1})
            return True
        return False

    def epoch_end(self, epoch: int, logs: dict) -> None:
        """Emit the epoch's mean cost, validation accuracy and speed (training batches only, no validation)."""
        seconds = self.last_batch_end - self.epoch_started
        self.epochs_done = epoch + 1
        self.images_total += self.seen
        self.train_seconds += seconds
        self.emit({"event": Event.EPOCH, "epoch": epoch + 1, "cost": logs.get("loss"),
                   "accuracy": logs.get("accuracy"), "val_cost": logs.get("val_loss"),
                   "val_accuracy": logs.get("val_accuracy"), "seconds": seconds,
                   "images_per_second": self.seen / seconds if seconds > 0 else None,
                   "t": time.perf_counter() - self.training_started})

    @property
    def images_per_second(self) -> float | None:
        """Training speed over every epoch so far."""
        return round(self.images_total / self.train_seconds, 1) if self.train_seconds else None


def keras_callback(recorder: BatchRecorder):
    """A Keras callback that hands every hook to ``recorder`` and stops training when it says so."""
    import keras

    class ProgressCallback(keras.callbacks.Callback):
        """Reports each batch and epoch; checks Stop after every batch."""

        def on_train_begin(self, logs=None) -> None:
            recorder.train_begin()

        def on_epoch_begin(self, epoch: int, logs=None) -> None:
            recorder.epoch_begin(epoch)

        def on_train_batch_end(self, batch: int, logs=None) -> None:
            if recorder.batch_end(batch, float(logs["loss"])):
                self.model.stop_training = True

        def on_epoch_end(self, epoch: int, logs=None) -> None:
            recorder.epoch_end(epoch, logs or {})

    return ProgressCallback()


# Device, evaluation, saving ---------------------------------------------------------------------------------------

def training_strategy():
    """(strategy, device): MirroredStrategy over several GPUs, one GPU, or the CPU; ``device`` says which, as data."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        tf.config.experimental.set_memory_growth(gpu, True)  # leave the rest to the Draw page and others
    if not gpus:
        threads = tf.config.threading.get_intra_op_parallelism_threads() or len(os.sched_getaffinity(0))
        return tf.distribute.get_strategy(), {"kind": "cpu", "threads": threads}
    name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
    if len(gpus) == 1:
        return tf.distribute.get_strategy(), {"kind": "gpu", "name": name}
    return tf.distribute.MirroredStrategy(), {"kind": "gpus", "name": name, "count": len(gpus)}


def evaluate(model, x_test: np.ndarray, y_test: np.ndarray) -> dict:
    """Test accuracy with dropout off, the 10x10 confusion matrix (rows true, columns predicted), the mistakes."""
    logits = model.predict(x_test, batch_size=TEST_BATCH, verbose=0)  # (N, 10); predict runs with training=False
    predicted = np.argmax(logits, axis=1)
    confusion = np.bincount(y_test * 10 + predicted, minlength=100).reshape(10, 10)
    wrong = np.flatnonzero(predicted != y_test)
    return {"event": Event.EVALUATED, "test_accuracy": float(np.mean(predicted == y_test)),
            "confusion": confusion.tolist(), "misclassified_count": int(len(wrong)),
            "misclassified": [[int(i), int(y_test[i]), int(predicted[i])] for i in wrong[:MAX_MISCLASSIFIED_SENT]]}


def save(model, config: TrainConfig, summary: dict, data: MnistData, snapshots: EpochSnapshots) -> SavedModel:
    """Save the model and its JSON card (hyperparameters, data, accuracy, date) atomically, then its epochs' weights."""
    path = config.output_path()
    card = {"hyperparameters": config.hp.to_dict(), "data_source": data.source,
            "data_description": data.description, "train_limit": config.train_limit,
            "test_accuracy": summary["test_accuracy"], "epoch_test_accuracies": snapshots.test_accuracies,
            "epochs_completed": summary["epochs"],
            "stopped_early": summary["stopped_early"], "device": summary["device"],
            "seconds": summary["seconds"], "images_per_second": summary["images_per_second"],
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    saved = save_model(model, path.stem, card, directory=path.parent)
    save_snapshots(saved.path, snapshots)
    return saved


# A network made ready before its run ------------------------------------------------------------------------------

@dataclass(frozen=True, repr=False)
class ReadyNetwork:
    """What ``prepare`` made for the run it expects: that run's data, and a network with its steps already traced."""

    config: TrainConfig
    data: MnistData
    drawn: np.ndarray | None  # its training digits redrawn as pen strokes, when its recipe shows some so
    steps_per_epoch: int
    model: object  # the network (keras.Sequential), as build_model makes it
    trainee: object  # what fit trains: the network, or the network inside the augmentation

    def __repr__(self) -> str:
        return f"ReadyNetwork({self.data!r}, {self.steps_per_epoch} steps an epoch)"

    def holds_data_of(self, config: TrainConfig) -> bool:
        """Whether ``config`` asks for the digits loaded here."""
        return (config.data_source, config.npz_path) == (self.config.data_source, self.config.npz_path)

    def holds_drawn_of(self, config: TrainConfig, train_count: int) -> bool:
        """Whether a run of ``config`` on its first ``train_count`` training digits can show the digits redrawn here
        (any share above 0: the share only decides how often each is shown)."""
        return (self.drawn is not None and bool(config.hp.drawn_share) and self.holds_data_of(config)
                and len(self.drawn) == train_count)

    def serves(self, hp: Hyperparameters, steps: int) -> bool:
        """Whether training ``hp`` for ``steps`` batches an epoch runs the steps traced here (only seeds differ)."""
        neutral = {name: getattr(self.config.hp, name) for name in STARTING_VALUES_ONLY}
        return steps == self.steps_per_epoch and replace(hp, **neutral) == self.config.hp

    def start_from(self, trainee) -> tuple:
        """``(network, trainee)`` from here, set to the starting values of ``trainee``, a network built for the run
        (weights, seed generators' states, an untouched Adam)."""
        trainee.optimizer.build(trainee.trainable_variables)
        for mine, theirs in zip(self.trainee.variables + self.trainee.optimizer.variables,
                                trainee.variables + trainee.optimizer.variables, strict=True):
            mine.assign(theirs)
        return self.model, self.trainee


def blank_digits(count: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` black digits labelled 0: the shapes a step is traced for, at no cost to compute."""
    return np.zeros((count, 28, 28, 1), np.float32), np.zeros(count, np.int64)


def prepare(config: TrainConfig) -> ReadyNetwork:
    """Load ``config``'s data and trace a network's steps for it on blank digits: full and last batches, validation,
    test predictions (the last, partial batch makes Keras trace a step for any batch size)."""
    data = load_mnist(config.data_source, config.npz_path)
    arrays = split_training_data(data, config.train_limit)
    hp = config.hp
    strategy, _ = training_strategy()
    steps = steps_per_epoch(len(arrays.x_train), hp.batch_size)
    drawn = redrawn_training_digits(arrays.x_train, hp, emit=lambda event: None)
    with strategy.scope():
        model = build_model(hp, steps_per_epoch=steps)
        trainee = training_model(model, hp)
    blank_x, blank_y = blank_digits(2 * hp.batch_size + len(arrays.x_train) % hp.batch_size)
    blank_x_val, blank_y_val = blank_digits(len(arrays.x_val))
    trainee.fit(training_batches(blank_x, blank_y, None if drawn is None else blank_x, hp), epochs=1,
                validation_data=(blank_x_val, one_hot(blank_y_val)), shuffle=False, verbose=0)
    for network in {id(model): model, id(trainee): trainee}.values():
        network.predict(blank_digits(len(arrays.x_test))[0], batch_size=TEST_BATCH, verbose=0)
    return ReadyNetwork(config, data, drawn, steps, model, trainee)


# Training --------------------------------------------------------------------------------------------------------

def fit(hp: Hyperparameters, arrays: TrainingData, emit: Emit, stop_requested: threading.Event, source: str,
        ready: ReadyNetwork | None = None, drawn: np.ndarray | None = None):
    """Build the model on the best device (or start the ready one from its values), emit ``started``, fit with
    progress and epoch snapshots; ``drawn``: the training digits redrawn as pen strokes, when ``hp`` shows some.

    Returns ``(model, recorder, device, snapshots)``; ``model`` is the network alone, without augmentation.
    """
    strategy, device = training_strategy()
    steps = steps_per_epoch(len(arrays.x_train), hp.batch_size)
    with strategy.scope():
        model = build_model(hp, steps_per_epoch=steps)
        trainee = training_model(model, hp)
    if ready is not None and ready.serves(hp, steps):
        model, trainee = ready.start_from(trainee)
    emit({"event": Event.STARTED, "device": device, "data_source": source, "train_count": len(arrays.x_train),
          "validation_count": len(arrays.x_val), "test_count": len(arrays.x_test), "epochs": hp.epochs,
          "batch_size": hp.batch_size, "steps_per_epoch": steps, "hyperparameters": hp.to_dict()})
    recorder = BatchRecorder(emit, stop_requested, len(arrays.x_train), hp.batch_size)
    snapshots = snapshot_callback(arrays.x_test, arrays.y_test)
    trainee.fit(training_batches(arrays.x_train, arrays.y_train, drawn, hp), epochs=hp.epochs,
                validation_data=(arrays.x_val, one_hot(arrays.y_val)), shuffle=False, verbose=0,  # shuffled above
                callbacks=[keras_callback(recorder), snapshots])
    return model, recorder, device, snapshots.snapshots


def train(config: TrainConfig, emit: Emit, stop_requested: threading.Event | None = None,
          ready: ReadyNetwork | None = None):
    """Load data (or take the ready network's), train, evaluate and save; emit events on the way; return ``(model,
    summary)``."""
    started = time.perf_counter()
    data = ready.data if ready is not None and ready.holds_data_of(config) else load_mnist(config.data_source,
                                                                                          config.npz_path)
    arrays = split_training_data(data, config.train_limit)
    drawn = ready.drawn if ready is not None and ready.holds_drawn_of(config, len(arrays.x_train)) else \
        redrawn_training_digits(arrays.x_train, config.hp, emit)
    model, recorder, device, snapshots = fit(config.hp, arrays, emit, stop_requested or threading.Event(),
                                             data.source, ready, drawn)
    emit({"event": Event.EVALUATING})
    evaluation = evaluate(model, arrays.x_test, arrays.y_test)
    emit(evaluation)
    summary = {"test_accuracy": evaluation["test_accuracy"], "epochs": recorder.epochs_done,
               "seconds": round(time.perf_counter() - started, 2), "images_per_second": recorder.images_per_second,
               "data_source": data.source, "model_path": None, "stopped_early": recorder.stopped,
               "device": device, "train_count": len(arrays.x_train)}
    emit({"event": Event.SAVING})
    saved = save(model, config, summary, data, snapshots)
    summary["model_path"] = str(saved.path)
    emit({"event": Event.SAVED, "model_name": saved.name, "model_path": str(saved.path)})
    emit({"event": Event.FINISHED, "summary": summary})
    return model, summary
