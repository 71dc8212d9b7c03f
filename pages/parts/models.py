"""The model the Draw and Why pages read: which one is chosen, its cached readers, its epoch replay, the epoch slider.

Every cache is keyed by the file's path and modification time, so a model saved again under the same name is read
again. The caches are server-wide and bounded together in bytes (``MODEL_CACHE``, ``CNN_EXPLORER_MODEL_CACHE_MB``,
default 512 MB; ``cnnlib.server.cache``): a model and each reader count their float32 weights, a replay the one epoch
it read last and its filter history (it reads the epoch shown from disk, never every epoch). They keep a failure as
its ``Refusal``, which is worded when shown: a Korean learner reads it in Korean even if an English one met it
first. Anything else a model does to these readers is a bug: not cached, it reaches the page's ``explained_errors``.
"""

from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import streamlit as st

from cnnlib.errors import Refusal
from cnnlib.lessons.draw import figures
from cnnlib.lessons.draw.words import replay_caption
from cnnlib.network import reader, replay
from cnnlib.network.snapshots import load_snapshots
from cnnlib.server.cache import ByteCache, cached_in
from cnnlib.server.limits import model_cache_bytes
from cnnlib.store.saved import SavedModel, load_model, selected_model
from cnnlib.text import t
from pages import workspace_folders
from pages.parts.state import CHOSEN_MODEL

MODEL_CACHE = ByteCache(model_cache_bytes())
KERAS_OBJECT_BYTES = 2**20  # a Keras model's layers, variables and graph beside its weights (a guess, on the safe side)
REFUSAL_BYTES = 2**10


def weights_bytes(model) -> int:
    """A Keras model's weights as float32, counted without copying them."""
    return 4 * sum(int(np.prod(weight.shape)) for weight in model.weights)


def keras_bytes(found) -> int:
    """What a cached Keras model (or the refusal kept instead) holds."""
    return REFUSAL_BYTES if isinstance(found, Refusal) else weights_bytes(found) + KERAS_OBJECT_BYTES


def probe_bytes(found) -> int:
    """What a cached reader (or the refusal kept instead) holds: its own float32 copy of the weights."""
    return REFUSAL_BYTES if isinstance(found, Refusal) else weights_bytes(found.model)


def replay_bytes(found) -> int:
    """What a cached replay (or None, or a refusal) holds: the epoch it read last and its filter history."""
    return found.nbytes if isinstance(found, replay.Replay) else REFUSAL_BYTES


def chosen_model(models: list[SavedModel]) -> SavedModel | None:
    """The model the learner chose (``CHOSEN_MODEL``) while it is still among ``models``, else the workspace's
    selected one (``selected.txt``, else the newest), else None."""
    wanted = st.session_state.get(CHOSEN_MODEL)
    return next((model for model in models if model.key == wanted), None) or selected_model(*workspace_folders())


@cached_in(MODEL_CACHE, keras_bytes)
def _cached_model(path: str, modified: float):
    """A saved model, or the Refusal saying why it cannot be loaded, once per file version."""
    try:
        return load_model(path)
    except Refusal as refusal:
        return refusal


def saved_keras_model(model: SavedModel):
    """A saved model as Keras loaded it (kept with the readers above), or the Refusal saying why it cannot be."""
    return _cached_model(str(model.path), model.modified)


@cached_in(MODEL_CACHE, probe_bytes)
def model_probe(path: str, modified: float) -> reader.ModelProbe | Refusal:
    """A saved model's all-layers reader, or why it cannot be read, once per file version."""
    model = _cached_model(path, modified)
    try:
        return model if isinstance(model, Refusal) else reader.ModelProbe(model)
    except Refusal as refusal:
        return refusal


@cached_in(MODEL_CACHE, replay_bytes)
def model_replay(path: str, modified: float) -> replay.Replay | Refusal | None:
    """A model's epoch replay; None when it has no snapshots (or cannot be read at all)."""
    probe, snapshots = model_probe(path, modified), load_snapshots(Path(path))
    if isinstance(probe, Refusal) or snapshots is None or snapshots.epochs < 1:
        return None
    try:
        return replay.Replay.of(probe, snapshots)
    except Refusal as refusal:
        return refusal


@cached_in(MODEL_CACHE, keras_bytes)
def explained_model(path: str, modified: float, epoch: int | None):
    """The model as ``cnnlib.explain`` reads it after ``epoch`` (None or the last: as saved), or why it cannot be;
    an earlier epoch's weights are read from disk, that epoch's alone."""
    model = _cached_model(path, modified)
    snapshots = load_snapshots(Path(path)) if epoch is not None else None
    weights = snapshots.weights_after(epoch) if snapshots is not None and epoch in snapshots.kept[:-1] else None
    try:
        return model if isinstance(model, Refusal) else replay.keras_state(model, weights)
    except Refusal as refusal:
        return refusal


def epoch_slider(key: str, chosen: SavedModel, where=st) -> tuple[int, replay.Replay] | None:
    """The replay slider for ``chosen`` (key ``key``, the last epoch at first), offering the epochs its training kept,
    and the replay it moves through; None after saying why there is none."""
    found = model_replay(str(chosen.path), chosen.modified)
    if not isinstance(found, replay.Replay):
        where.caption(t("draw.replay.none") if found is None else str(found))
        return None
    if st.session_state.get(key) not in found.kept:
        st.session_state[key] = found.epochs
    epoch = where.select_slider(t("draw.replay.slider"), list(found.kept), key=key,
                                format_func=lambda e: t("draw.replay.option", epoch=e, accuracy=found.accuracy(e)))
    where.caption(replay_caption(epoch, found.epochs, found.accuracy(epoch), found.tested))
    return epoch, found


def replayed_reader(key: str, chosen: SavedModel,
                    probe: reader.ModelProbe) -> Callable[[np.ndarray], reader.ModelReading]:
    """The epoch slider (when ``chosen`` can be replayed) and conv1's filters as they formed up to that epoch (one row
    per kept epoch); returns how the network then reads a digit (without a replay: the saved network)."""
    replayed = epoch_slider(key, chosen)
    if replayed is None:
        return probe.read
    epoch, found = replayed
    if (history := found.filter_history()) is not None:
        with st.expander(t("draw.replay.filters_header"), expanded=True):
            st.plotly_chart(figures.filter_history_figure(history, found.kept, epoch), key=f"{key}_filters")
            st.caption(t("draw.replay.filters_caption", count=history.shape[1]))
    return partial(found.read, epoch)
