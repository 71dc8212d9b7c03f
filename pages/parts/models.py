"""The model the Draw and Why pages read: which one is chosen, its cached readers, its epoch replay, the epoch slider.

Every cache is keyed by the file's path and modification time, so a model saved again under the same name is read
again; snapshots are loaded once per model version. The caches are server-wide and keep a failure as its
``Refusal``, which is worded when shown: a Korean learner reads it in Korean even if an English one met it first.
Anything else a model does to these readers is a bug: not cached, it reaches the page's ``explained_errors``.
"""

from pathlib import Path

import streamlit as st

from cnnlib.errors import Refusal
from cnnlib.lessons.draw import figures
from cnnlib.network import reader, replay
from cnnlib.network.snapshots import load_snapshots
from cnnlib.store.saved import SavedModel, load_model, selected_model
from cnnlib.text import t
from pages import workspace_folders
from pages.parts.state import CHOSEN_MODEL


def chosen_model(models: list[SavedModel]) -> SavedModel | None:
    """The model the learner chose (``CHOSEN_MODEL``) while it is still among ``models``, else the workspace's
    selected one (``selected.txt``, else the newest), else None."""
    wanted = st.session_state.get(CHOSEN_MODEL)
    return next((model for model in models if model.key == wanted), None) or selected_model(*workspace_folders())


@st.cache_resource(show_spinner=False, max_entries=4)
def _cached_model(path: str, modified: float):
    """A saved model, or the Refusal saying why it cannot be loaded, once per file version."""
    try:
        return load_model(path)
    except Refusal as refusal:
        return refusal


@st.cache_resource(show_spinner=False, max_entries=4)
def model_probe(path: str, modified: float) -> reader.ModelProbe | Refusal:
    """A saved model's all-layers reader, or why it cannot be read, once per file version."""
    model = _cached_model(path, modified)
    try:
        return model if isinstance(model, Refusal) else reader.ModelProbe(model)
    except Refusal as refusal:
        return refusal


@st.cache_resource(show_spinner=False, max_entries=4)
def model_replay(path: str, modified: float) -> replay.Replay | Refusal | None:
    """A model's epoch replay; None when it has no snapshots (or cannot be read at all)."""
    probe, snapshots = model_probe(path, modified), load_snapshots(Path(path))
    if isinstance(probe, Refusal) or snapshots is None or snapshots.epochs < 1:
        return None
    try:
        return replay.Replay.of(probe, snapshots)
    except Refusal as refusal:
        return refusal


@st.cache_resource(show_spinner=False, max_entries=4)
def explained_model(path: str, modified: float, epoch: int | None):
    """The model as ``cnnlib.explain`` reads it after ``epoch`` (None or the last: as saved), or why it cannot be."""
    model = _cached_model(path, modified)
    snapshots = load_snapshots(Path(path)) if epoch is not None else None
    weights = snapshots.weights[epoch] if snapshots is not None and epoch < snapshots.epochs else None
    try:
        return model if isinstance(model, Refusal) else replay.keras_state(model, weights)
    except Refusal as refusal:
        return refusal


def epoch_slider(key: str, chosen: SavedModel, where=st) -> tuple[int, replay.Replay] | None:
    """The replay slider for ``chosen`` (key ``key``, the last epoch at first) and the replay it moves through; None
    after saying why there is none."""
    found = model_replay(str(chosen.path), chosen.modified)
    if not isinstance(found, replay.Replay):
        where.caption(t("draw.replay.none") if found is None else str(found))
        return None
    if st.session_state.get(key) not in range(found.epochs + 1):
        st.session_state[key] = found.epochs
    epoch = where.select_slider(t("draw.replay.slider"), list(range(found.epochs + 1)), key=key,
                                format_func=lambda e: t("draw.replay.option", epoch=e,
                                                        accuracy=found.test_accuracies[e]))
    where.caption(t("draw.replay.caption", epoch=epoch, epochs=found.epochs, accuracy=found.test_accuracies[epoch]))
    return epoch, found


def replayed_reading(key: str, chosen: SavedModel, probe: reader.ModelProbe, image) -> reader.ModelReading:
    """The epoch slider (when ``chosen`` can be replayed), conv1's filters as they formed up to that epoch, and the
    network's reading of ``image`` then; without a replay, the saved network's reading."""
    replayed = epoch_slider(key, chosen)
    if replayed is None:
        return probe.read(image)
    epoch, found = replayed
    if (history := found.filter_history()) is not None:
        with st.expander(t("draw.replay.filters_header"), expanded=True):
            st.plotly_chart(figures.filter_history_figure(history, epoch), key=f"{key}_filters")
            st.caption(t("draw.replay.filters_caption", count=history.shape[1]))
    return found.read(epoch, image)
