"""Epoch replay: the network's weights after each epoch (epoch 0: as initialised), kept beside its model.

``<name>.epochs.npz`` holds, for epoch e and weight i of the model, ``e{e}_w{i}`` as float16 (half the bytes of
float32, and a learner cannot see the difference in a map), plus ``test_accuracy`` per epoch. The tutorial's
network at its default sizes has 890,000 weights: about 1.8 MB per epoch.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnlib.store.files import write_atomically

SUFFIX = ".epochs.npz"
KEY = re.compile(r"e(\d+)_w(\d+)")
TEST_BATCH = 1000  # digits a prediction over the test set takes at a time


@dataclass(frozen=True, repr=False)
class EpochSnapshots:
    """Every epoch's weights (``weights[e]`` is the model's ``get_weights()`` after epoch e) and test accuracy."""

    weights: list[list[np.ndarray]]
    test_accuracies: list[float]

    def __repr__(self) -> str:
        return f"EpochSnapshots({len(self.weights)} states, test accuracy {self.test_accuracies})"

    @property
    def epochs(self) -> int:
        """How many epochs were trained (the states are epochs 0..epochs)."""
        return len(self.weights) - 1


def snapshot_path(model_path: Path) -> Path:
    """Where a model's snapshots live: ``models/name.keras`` -> ``models/name.epochs.npz``."""
    return model_path.with_name(model_path.stem + SUFFIX)


def save_snapshots(model_path: Path, snapshots: EpochSnapshots) -> Path:
    """Write the snapshots beside ``model_path`` atomically, as float16; return their path."""
    arrays = {f"e{epoch}_w{index}": np.asarray(weight, np.float16)
              for epoch, weights in enumerate(snapshots.weights) for index, weight in enumerate(weights)}
    arrays["test_accuracy"] = np.asarray(snapshots.test_accuracies, np.float64)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path = snapshot_path(model_path)
    write_atomically(path, lambda temporary: temporary.write_bytes(buffer.getvalue()))
    return path


def load_snapshots(model_path: Path) -> EpochSnapshots | None:
    """The snapshots of a model as float32 weights, or None when it has none (saved before replay existed)."""
    path = snapshot_path(model_path)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            found = {tuple(map(int, KEY.fullmatch(name).groups())): archive[name].astype(np.float32)
                     for name in archive.files if KEY.fullmatch(name)}
            accuracies = [float(value) for value in archive["test_accuracy"]]
    except (OSError, ValueError, KeyError):
        return None
    epochs = 1 + max((epoch for epoch, _ in found), default=-1)
    weights = [[found[epoch, index] for index in range(sum(e == epoch for e, _ in found))] for epoch in range(epochs)]
    return EpochSnapshots(weights, accuracies) if weights else None


def snapshot_callback(x_test: np.ndarray, y_test: np.ndarray):
    """A Keras callback that records the weights and the test accuracy before training and after every epoch.

    The untrained weights are tested when training ends, not before it starts: testing first would delay the first
    batch, and the learner's first sight of the cost curve, by a prediction over the whole test set (0.6 s here).
    """
    import keras

    class SnapshotCallback(keras.callbacks.Callback):
        """Fills ``self.snapshots`` as training goes; a stopped run keeps the epochs it finished."""

        def __init__(self) -> None:
            super().__init__()
            self.weights: list[list[np.ndarray]] = []
            self.test_accuracies: list[float] = []
            self._untrained: list[np.ndarray] = []

        def _test_accuracy(self) -> float:
            logits = self.model.predict(x_test, batch_size=TEST_BATCH, verbose=0)
            return float(np.mean(np.argmax(logits, axis=1) == y_test))

        def on_train_begin(self, logs=None) -> None:
            self._untrained = self.model.get_weights()
            self.weights.append([weight.astype(np.float16) for weight in self._untrained])

        def on_epoch_end(self, epoch: int, logs=None) -> None:
            self.weights.append([weight.astype(np.float16) for weight in self.model.get_weights()])
            self.test_accuracies.append(self._test_accuracy())

        def on_train_end(self, logs=None) -> None:
            trained = self.model.get_weights()
            self.model.set_weights(self._untrained)
            self.test_accuracies.insert(0, self._test_accuracy())
            self.model.set_weights(trained)

        @property
        def snapshots(self) -> EpochSnapshots:
            return EpochSnapshots(self.weights, self.test_accuracies)

    return SnapshotCallback()
