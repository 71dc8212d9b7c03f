"""Progress while fitting: each batch's own cost from Keras's running means, batch and epoch events, Stop.

Each batch's own cost: in Keras 3, ``logs["loss"]`` after batch k is the epoch's running mean
``mean_k = (n_1 cost_1 + ... + n_k cost_k) / N_k``, so ``cost_k = (mean_k N_k - mean_{k-1} N_{k-1}) / n_k``.
Example: running means 2.0, 1.5, 1.0 after batches of 100 mean the batches cost 2.0, 1.0 and 0.0.
"""

from __future__ import annotations

import threading
import time

from cnnlib.training.digits import Emit
from cnnlib.training.progress import Event


def own_batch_cost(mean: float, seen: int, previous_mean: float, previous_seen: int) -> float:
    """One batch's own cost from Keras's running means before and after it; (1.5, 200, 2.0, 100) -> 1.0."""
    return (mean * seen - previous_mean * previous_seen) / (seen - previous_seen)


class BatchRecorder:
    """Turns Keras's running means into each batch's own cost, emits batch and epoch events, and relays Stop."""

    def __init__(self, emit: Emit, stop_requested: threading.Event, train_count: int, batch_size: int,
                 validation_count: int = 0) -> None:
        self.emit, self.stop_requested = emit, stop_requested
        self.train_count, self.batch_size, self.validation_count = train_count, batch_size, validation_count
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

    def validation_begin(self) -> None:
        """Keras tests the validation digits after this epoch's last batch: say so, with how many."""
        self.emit({"event": Event.VALIDATING, "epoch": self.epoch_number, "count": self.validation_count})

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

        def on_test_begin(self, logs=None) -> None:  # within fit: the validation after each epoch
            recorder.validation_begin()

        def on_epoch_end(self, epoch: int, logs=None) -> None:
            recorder.epoch_end(epoch, logs or {})

    return ProgressCallback()
