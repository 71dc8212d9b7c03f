"""Epoch replay: a saved network as it was after each epoch of its training (epoch 0: as initialised).

The trainer keeps every epoch's weights beside the model (``cnnlib.network.snapshots``); a replay turns them into one
numpy reader per epoch (``cnnlib.network.reader.ModelProbe``), so moving between epochs costs a reading, not a load::

    replay = Replay.of(ModelProbe(model), load_snapshots(path))   # None snapshots: no replay (an older model)
    replay.read(2, image)              ModelReading of the network after epoch 2
    replay.test_accuracies[2]          its test accuracy, as the model's JSON card lists it
    replay.filter_history()            (epochs + 1, F, kh, kw): conv1's filters as they formed
    keras_state(model, weights)        a Keras copy with an epoch's weights and a (28, 28, 1) input (cnnlib.lessons.why.explain)

The last state is the saved model itself (its float32 weights), not its float16 snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnlib.network.reader import ModelProbe, ModelReading, chain_layers
from cnnlib.network.snapshots import EpochSnapshots

FILTERS_SHOWN = 8  # conv1 filters per epoch in the replay's small multiples


@dataclass(frozen=True, repr=False)
class Replay:
    """One reader per state of the network (``probes[e]``: after epoch e) and each state's test accuracy."""

    probes: tuple[ModelProbe, ...]
    test_accuracies: tuple[float, ...]

    def __repr__(self) -> str:
        return f"Replay({self.epochs} epochs, test accuracy {[round(a, 4) for a in self.test_accuracies]})"

    @classmethod
    def of(cls, probe: ModelProbe, snapshots: EpochSnapshots) -> Replay:
        """The replay of ``probe``'s network through ``snapshots``; UnreadableModel when they belong to another."""
        earlier = tuple(probe.with_weights(weights) for weights in snapshots.weights[:-1])
        return cls(earlier + (probe,), tuple(snapshots.test_accuracies))

    @property
    def epochs(self) -> int:
        """How many epochs were trained: the states are 0..epochs."""
        return len(self.probes) - 1

    def read(self, epoch: int, image: np.ndarray) -> ModelReading:
        """The network's reading of ``image`` after ``epoch``."""
        return self.probes[epoch].read(image)

    def filter_history(self, count: int = FILTERS_SHOWN) -> np.ndarray | None:
        """(epochs + 1, F, kh, kw): the first ``count`` conv1 filters after each epoch; None without a conv1."""
        kernels = [probe.first_layer_filters() for probe in self.probes]
        if kernels[0] is None:
            return None
        return np.stack([np.moveaxis(kernel[:, :, 0, :count], -1, 0) for kernel in kernels])


def card_accuracies(metadata: dict) -> list[float] | None:
    """The per-epoch test accuracies a model's JSON card lists (epoch 0 first), or None."""
    accuracies = metadata.get("epoch_test_accuracies")
    return [float(value) for value in accuracies] if isinstance(accuracies, list) else None


def keras_state(model, weights: list[np.ndarray] | None = None):
    """``model`` as ``cnnlib.lessons.why.explain`` reads it: a (28, 28, 1) input and, when given, an earlier epoch's ``weights``
    (a copy: the cached model keeps its own). UnreadableModel when the network is not one chain of layers."""
    import keras

    chain_layers(model)  # a branching network is refused before anything is copied
    flat_input = tuple(model.input_shape) == (None, 28, 28)
    if weights is None and not flat_input:
        return model
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights() if weights is None else weights)
    if not flat_input:
        return copy
    return keras.Sequential([keras.Input(shape=(28, 28, 1)), keras.layers.Reshape((28, 28)), *chain_layers(copy)])
