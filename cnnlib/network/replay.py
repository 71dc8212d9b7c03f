"""Epoch replay: a saved network as it was after the epochs its training kept (epoch 0: as initialised).

The trainer keeps some epochs' weights beside the model (``cnnlib.network.snapshots``: every epoch of a short run, at
most 50 spread over a long one); a replay reads the epoch asked for from disk and turns it into a numpy reader
(``cnnlib.network.reader.ModelProbe``), keeping only the one read last::

    replay = Replay.of(ModelProbe(model), load_snapshots(path))   # None snapshots: no replay (an older model)
    replay.kept                        the epochs it can show, e.g. (0, 1, 2, 3) or (0, 10, 20, …, 500)
    replay.read(2, image)              ModelReading of the network after epoch 2
    replay.accuracy(2)                 its test accuracy, as the model's JSON card lists it
    replay.filter_history()            (kept states, F, kh, kw): conv1's filters as they formed
    keras_state(model, weights)        a Keras copy with an epoch's weights and a (28, 28, 1) input (cnnlib.lessons.why.explain)

The last state is the saved model itself (its float32 weights), not its float16 snapshot.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from cnnlib.network.reader import ModelProbe, ModelReading, chain_layers
from cnnlib.network.snapshots import OnDemand, StoredSnapshots

FILTERS_SHOWN = 8  # conv1 filters per epoch in the replay's small multiples


@dataclass(frozen=True, repr=False)
class Replay:
    """The saved network's reader (the last state), its snapshot file, and conv1's filters at each kept state
    (``filters``: (states, F, kh, kw), or None without a conv1); other states are read from disk when shown."""

    probe: ModelProbe
    snapshots: StoredSnapshots
    filters: np.ndarray | None
    _shown: dict = field(default_factory=dict, compare=False)  # {epoch: ModelProbe}: the state read last
    _lock: threading.Lock = field(default_factory=threading.Lock, compare=False)

    def __repr__(self) -> str:
        return f"Replay(epochs {self.kept}, test accuracy {[round(a, 4) for a in self.test_accuracies]})"

    @classmethod
    def of(cls, probe: ModelProbe, snapshots: StoredSnapshots) -> Replay:
        """The replay of ``probe``'s network through ``snapshots``; UnreadableModel when they belong to another
        (the untrained state is read once to check)."""
        probe.with_weights(snapshots.weights_after(snapshots.kept[0]))
        return cls(probe, snapshots, _filter_history(probe, snapshots))

    @property
    def epochs(self) -> int:
        """How many epochs were trained: the last state's epoch."""
        return self.snapshots.epochs

    @property
    def kept(self) -> tuple[int, ...]:
        """The epochs the replay can show, ascending, from 0 to ``epochs``."""
        return self.snapshots.kept

    @property
    def test_accuracies(self) -> tuple[float, ...]:
        """Each kept state's test accuracy, in the order of ``kept`` (the card's ``epoch_test_accuracies``)."""
        return tuple(self.snapshots.test_accuracies)

    @property
    def nbytes(self) -> int:
        """About what the replay holds in memory: the state read last (float32) and the filter history."""
        weights = 4 * sum(int(np.prod(weight.shape)) for weight in self.probe.model.weights)
        return weights + (0 if self.filters is None else self.filters.nbytes)

    @property
    def probes(self) -> Sequence[ModelProbe]:
        """A reader per kept state, in the order of ``kept``, each made when indexed."""
        return OnDemand(len(self.kept), lambda state: self.probe_at(self.kept[state]))

    @property
    def tested(self) -> int:
        """Test digits each state's accuracy was measured on (0: all of them, a file from before the sample)."""
        return self.snapshots.tested

    def accuracy(self, epoch: int) -> float:
        """The test accuracy after ``epoch`` (one of ``kept``)."""
        return self.test_accuracies[self.kept.index(epoch)]

    def probe_at(self, epoch: int) -> ModelProbe:
        """The network after ``epoch`` (one of ``kept``): the saved one for the last, else read from disk now (the
        state read last is kept, so the rerun of a page showing the same epoch reads nothing)."""
        if epoch == self.epochs:
            return self.probe
        with self._lock:
            if epoch in self._shown:
                return self._shown[epoch]
        probe = self.probe.with_weights(self.snapshots.weights_after(epoch))
        with self._lock:
            self._shown.clear()
            self._shown[epoch] = probe
        return probe

    def read(self, epoch: int, image: np.ndarray) -> ModelReading:
        """The network's reading of ``image`` after ``epoch``."""
        return self.probe_at(epoch).read(image)

    def filter_history(self, count: int = FILTERS_SHOWN) -> np.ndarray | None:
        """(kept states, count, kh, kw): the first ``count`` conv1 filters at each kept state; None without a conv1."""
        return None if self.filters is None else self.filters[:, :count]


def _filter_history(probe: ModelProbe, snapshots: StoredSnapshots) -> np.ndarray | None:
    """(kept states, F, kh, kw): conv1's filters at each kept state, read from disk (conv1's kernel member only), the
    last the saved model's own; None without a first conv layer that reads one channel."""
    kernel = probe.first_layer_filters()  # (kh, kw, 1, F)
    if kernel is None:
        return None
    index = [tuple(weight.shape) for weight in probe.model.weights].index(kernel.shape)
    kernels = snapshots.weight_history(index)[:-1] + [kernel]
    return np.stack([np.moveaxis(np.asarray(state, np.float32)[:, :, 0, :], -1, 0) for state in kernels])


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
