"""Epoch replay: the network's weights after some of its epochs (epoch 0: as initialised), kept beside its model.

``<name>.epochs.npz`` holds, for each kept epoch e and weight i of the model, ``e{e}_w{i}`` as float16 (half the bytes
of float32, and a learner cannot see the difference in a map), plus ``test_accuracy`` per kept epoch, measured on the
first ``REPLAY_DIGITS`` test digits (``replay_sample``): a run's time does not grow with its test set beyond the one
final evaluation (300,000 test digits tested after every epoch once held a run minutes after its last batch). The
tutorial's network at its default sizes has 920,000 weights: about 1.8 MB per kept epoch. A run keeps at most
``MAX_SNAPSHOTS`` states, chosen before it starts (``kept_epochs``): every epoch of a short run; of a long one the
untrained weights, the last epoch and evenly spread ones between (500 epochs: 0, 10, 20, …, 490, 500).

A stored file is read one epoch at a time (``StoredSnapshots.weights_after``): an npz member is read only when asked
for, so replaying a 500-epoch run never holds more than the epoch shown.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from cnnlib.store.files import write_atomically
from cnnlib.training.progress import Event

SUFFIX = ".epochs.npz"
KEY = re.compile(r"e(\d+)_w(\d+)")
TEST_BATCH = 1000  # digits a prediction over the test set takes at a time
MAX_SNAPSHOTS = 50  # weight states a run keeps at most, the untrained one included
REPLAY_DIGITS = 2000  # test digits each kept state is tested on, the first of the test set (0.1 s here)
T = TypeVar("T")


def kept_epochs(epochs: int, limit: int = MAX_SNAPSHOTS) -> tuple[int, ...]:
    """The states a run of ``epochs`` keeps: all of 0..epochs when they are at most ``limit`` (>= 2), else ``limit``
    of them evenly spread, the untrained 0 and the last among them. Example: ``kept_epochs(10, 4) == (0, 3, 7, 10)``."""
    if epochs + 1 <= limit:
        return tuple(range(epochs + 1))
    return tuple(round(index * epochs / (limit - 1)) for index in range(limit))  # steps > 1: no two alike


class OnDemand(Sequence[T]):
    """A sequence whose items are made when they are read (``item(index)``), never kept."""

    def __init__(self, length: int, item: Callable[[int], T]) -> None:
        self._length, self._item = length, item

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: int) -> T:
        if not -self._length <= index < self._length:
            raise IndexError(index)
        return self._item(index % self._length)


@dataclass(frozen=True, repr=False)
class EpochSnapshots:
    """Kept states as a run records them: ``weights[s]`` is the model's ``get_weights()`` after epoch ``kept[s]``
    (``kept_epochs`` None: every epoch 0, 1, 2, …), with each state's test accuracy."""

    weights: list[list[np.ndarray]]
    test_accuracies: list[float]
    kept_epochs: tuple[int, ...] | None = None
    tested: int = 0  # test digits each state was tested on (0: not said)

    def __repr__(self) -> str:
        return f"EpochSnapshots({len(self.weights)} states of epochs {self.kept}, test accuracy {self.test_accuracies})"

    @property
    def kept(self) -> tuple[int, ...]:
        """The epoch of each state, ascending."""
        return self.kept_epochs if self.kept_epochs is not None else tuple(range(len(self.weights)))

    @property
    def epochs(self) -> int:
        """How many epochs were trained (the last state's epoch)."""
        return self.kept[-1]


@dataclass(frozen=True, repr=False)
class StoredSnapshots:
    """A model's snapshot file, read one epoch at a time: which epochs it keeps, their test accuracies."""

    path: Path
    kept: tuple[int, ...]
    test_accuracies: list[float]
    weight_count: int  # weights per state (the model's ``get_weights()`` length)
    tested: int = 0  # test digits each state was tested on (0: a file from before replay_sample, all of them)

    def __repr__(self) -> str:
        return f"StoredSnapshots({self.path.name}: epochs {self.kept})"

    @property
    def epochs(self) -> int:
        """How many epochs were trained (the last kept state's epoch)."""
        return self.kept[-1]

    @property
    def weights(self) -> Sequence[list[np.ndarray]]:
        """Every kept state in order (``weights[s]``: after epoch ``kept[s]``), each read from disk when indexed."""
        return OnDemand(len(self.kept), lambda state: self.weights_after(self.kept[state]))

    def weights_after(self, epoch: int) -> list[np.ndarray]:
        """The float32 weights after ``epoch`` (one of ``kept``), read from disk now: that epoch's members only."""
        with np.load(self.path, allow_pickle=False) as archive:
            return [archive[f"e{epoch}_w{index}"].astype(np.float32) for index in range(self.weight_count)]

    def weight_history(self, index: int) -> list[np.ndarray]:
        """Weight ``index`` (e.g. conv1's kernel) after every kept epoch, float32, read from disk now."""
        with np.load(self.path, allow_pickle=False) as archive:
            return [archive[f"e{epoch}_w{index}"].astype(np.float32) for epoch in self.kept]


def snapshot_path(model_path: Path) -> Path:
    """Where a model's snapshots live: ``models/name.keras`` -> ``models/name.epochs.npz``."""
    return model_path.with_name(model_path.stem + SUFFIX)


def save_snapshots(model_path: Path, snapshots: EpochSnapshots) -> Path:
    """Write the snapshots beside ``model_path`` atomically, as float16; return their path."""
    arrays = {f"e{epoch}_w{index}": np.asarray(weight, np.float16)
              for epoch, weights in zip(snapshots.kept, snapshots.weights) for index, weight in enumerate(weights)}
    arrays["test_accuracy"] = np.asarray(snapshots.test_accuracies, np.float64)
    arrays["tested"] = np.asarray(snapshots.tested, np.int64)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path = snapshot_path(model_path)
    write_atomically(path, lambda temporary: temporary.write_bytes(buffer.getvalue()))
    return path


def load_snapshots(model_path: Path) -> StoredSnapshots | None:
    """A model's snapshot file, its index read (member names, test accuracies) and no weights yet; None when it has
    none (saved before replay existed) or the file is not a whole set of states."""
    path = snapshot_path(model_path)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            found = [tuple(map(int, match.groups())) for name in archive.files if (match := KEY.fullmatch(name))]
            accuracies = [float(value) for value in archive["test_accuracy"]]
            tested = int(archive["tested"]) if "tested" in archive.files else 0
    except (OSError, ValueError, KeyError):
        return None
    kept = tuple(sorted({epoch for epoch, _ in found}))
    count = 1 + max((index for _, index in found), default=-1)
    if not kept or len(found) != len(kept) * count or len(accuracies) != len(kept):
        return None
    return StoredSnapshots(path, kept, accuracies, count, tested)


def replay_sample(x_test: np.ndarray, y_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The test digits each kept state is tested on: the first ``REPLAY_DIGITS`` (all of a smaller test set)."""
    return x_test[:REPLAY_DIGITS], y_test[:REPLAY_DIGITS]


class SnapshotRecorder:
    """Records the weights and the test accuracy (on ``replay_sample``) of the states a run keeps, as its Keras
    callback hands it the model before training, after each epoch and at the end (a stopped run's last epoch is kept
    too); ``emit`` hears of each test before it runs (``replay_testing``: which epoch, on how many digits)."""

    def __init__(self, x_test: np.ndarray, y_test: np.ndarray, limit: int = MAX_SNAPSHOTS,
                 emit: Callable[[dict], None] = lambda event: None) -> None:
        (self.x_test, self.y_test), self.limit, self.emit = replay_sample(x_test, y_test), limit, emit
        self.weights: list[list[np.ndarray]] = []
        self.test_accuracies: list[float] = []
        self.kept: list[int] = []
        self._untrained: list[np.ndarray] = []
        self._wanted: set[int] = set()
        self._last = 0

    def _test_accuracy(self, model, epoch: int) -> float:
        """The share of the sample's test digits ``model`` (after ``epoch``) reads right."""
        self.emit({"event": Event.REPLAY_TESTING, "epoch": epoch, "count": len(self.y_test)})
        logits = model.predict(self.x_test, batch_size=TEST_BATCH, verbose=0)
        return float(np.mean(np.argmax(logits, axis=1) == self.y_test))

    def _record(self, model, epoch: int) -> None:
        """Keep ``model``'s weights (float16) and test accuracy as the state after ``epoch``."""
        self.weights.append([weight.astype(np.float16) for weight in model.get_weights()])
        self.test_accuracies.append(self._test_accuracy(model, epoch))
        self.kept.append(epoch)

    def begin(self, model, epochs: int) -> None:
        """Training of ``epochs`` starts: keep the untrained weights (tested at the end) and decide which to keep."""
        self._wanted = set(kept_epochs(epochs, self.limit))
        self._untrained = model.get_weights()
        self.weights.append([weight.astype(np.float16) for weight in self._untrained])
        self.kept.append(0)

    def epoch_end(self, model, epoch: int) -> None:
        """Epoch ``epoch`` (1-based) is trained: keep it if it was planned."""
        self._last = epoch
        if epoch in self._wanted:
            self._record(model, epoch)

    def end(self, model) -> None:
        """Training ended: keep its last epoch if it was not planned (a stopped run), test the untrained weights."""
        if self._last not in self.kept:
            self._record(model, self._last)
        trained = model.get_weights()
        model.set_weights(self._untrained)
        self.test_accuracies.insert(0, self._test_accuracy(model, 0))
        model.set_weights(trained)

    @property
    def snapshots(self) -> EpochSnapshots:
        """The states kept so far."""
        return EpochSnapshots(self.weights, self.test_accuracies, tuple(self.kept), len(self.y_test))


def snapshot_callback(x_test: np.ndarray, y_test: np.ndarray, epochs: int = 0, limit: int = MAX_SNAPSHOTS,
                      emit: Callable[[dict], None] = lambda event: None):
    """A Keras callback that records the weights and the test accuracy before training and after the epochs that
    ``kept_epochs(epochs, limit)`` keeps, and after the last epoch trained (``SnapshotRecorder``, telling ``emit``).

    The untrained weights are tested when training ends, not before it starts: testing first would delay the first
    batch, and the learner's first sight of the cost curve, by a prediction over the sample (0.1 s here).
    ``epochs`` 0: the planned epochs are Keras's own (``params["epochs"]``).
    """
    import keras

    recorder = SnapshotRecorder(x_test, y_test, limit, emit)

    class SnapshotCallback(keras.callbacks.Callback):
        """Fills ``self.snapshots`` as training goes; a stopped run keeps the epochs it finished."""

        def on_train_begin(self, logs=None) -> None:
            recorder.begin(self.model, epochs or self.params["epochs"])

        def on_epoch_end(self, epoch: int, logs=None) -> None:
            recorder.epoch_end(self.model, epoch + 1)

        def on_train_end(self, logs=None) -> None:
            recorder.end(self.model)

        @property
        def snapshots(self) -> EpochSnapshots:
            return recorder.snapshots

    return SnapshotCallback()
