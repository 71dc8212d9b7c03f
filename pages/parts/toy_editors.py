"""The Toy convolution page's editors: the image's and the filters' numbers, one grid per channel, and the settings
of the convolution and the max-pool. Session-state keys ``toy_<setting>``, ``toy_image_start`` / ``_latest``,
``toy_filters_start`` / ``_latest`` and ``toy_editor_version`` (pages/toy_convolution.py: tutorial_state)."""

import itertools

import numpy as np
import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from cnnlib.lessons.toy import convolution as toy
from cnnlib.lessons.toy import lesson as toy_lesson
from cnnlib.text import t

EDITOR_CELL_PX = 44  # an editor cell's width
HELPED = ("image_channels", "filter_count")  # number inputs with a help sentence (toy.setting.<name>_help)


def _number_inputs(container: DeltaGenerator, *names: str) -> list[int]:
    """Number inputs side by side, setting ``name`` from 1 to its limit, keyed ``toy_<name>``."""
    return [column.number_input(t(f"toy.setting.{name}"), 1, toy_lesson.SETTING_LIMITS[name], key=f"toy_{name}",
                                help=t(f"toy.setting.{name}_help") if name in HELPED else None)
            for column, name in zip(container.columns(len(names)), names)]


def _grid_editor(place: DeltaGenerator, grid: np.ndarray, key: str, label: str, row_numbers: bool = True) -> np.ndarray:
    """An editable 2-D grid of numbers in ``place``; empty cells come back as NaN."""
    frame = pd.DataFrame(grid).rename(index=str, columns=str)
    place.caption(label)
    edited = place.data_editor(frame, key=key, num_rows="fixed", width="content", hide_index=not row_numbers,
                            column_config={column: st.column_config.NumberColumn(format="plain", width=EDITOR_CELL_PX)
                                           for column in frame.columns})
    return edited.to_numpy(dtype=np.float64, na_value=np.nan)


def _start_values(name: str, shape: tuple[int, ...]) -> np.ndarray:
    """What the ``name`` editors start from: unchanged, or after a size change the latest edits cut or grown."""
    state = st.session_state
    if state[f"toy_{name}_start"].shape != shape:
        state[f"toy_{name}_start"] = toy.resized(state[f"toy_{name}_latest"], shape)
        state.toy_editor_version += 1
    return state[f"toy_{name}_start"]


def image_panel() -> np.ndarray:
    """Image size and numbers, one editor per channel; returns the image (1, H, W, C)."""
    st.subheader(t("toy.editor.image"))
    height, width, channels = _number_inputs(st, "image_height", "image_width", "image_channels")
    start, version = _start_values("image", (1, height, width, channels)), st.session_state.toy_editor_version
    image = np.stack([_grid_editor(st, start[0, :, :, c], f"toy_image_editor_{version}_{c}",
                                   t("toy.editor.image_channel", channel=c)) for c in range(channels)], axis=-1)
    st.session_state.toy_image_latest = image[np.newaxis]  # (1, H, W, C)
    return st.session_state.toy_image_latest


def filters_panel(channels: int) -> np.ndarray:
    """Filter size, count and weights, one editor per (filter, input channel); returns filters (kh, kw, C, F)."""
    st.subheader(t("toy.editor.filters"))
    height, width, count = _number_inputs(st, "filter_height", "filter_width", "filter_count")
    start, version = _start_values("filters", (height, width, channels, count)), st.session_state.toy_editor_version
    filters = np.zeros(start.shape)
    for (f, column), c in itertools.product(enumerate(st.columns(count)), range(channels)):
        filters[:, :, c, f] = _grid_editor(column, start[:, :, c, f], f"toy_filter_editor_{version}_{f}_{c}",
                                           t("toy.editor.filter_channel", filter=f, channel=c), row_numbers=False)
    st.session_state.toy_filters_latest = filters
    return filters


def operations_panel() -> None:
    """Strides and padding of the conv; size, strides and padding of the max-pool (read back from session state)."""
    numbers = {"conv": ("conv_stride_rows", "conv_stride_cols"),
               "pool": ("pool_height", "pool_width", "pool_stride_rows", "pool_stride_cols")}
    for column, (operation, names) in zip(st.columns(2), numbers.items()):
        column.subheader(t(f"toy.operation.{operation}"))
        _number_inputs(column, *names)
        column.radio(t(f"toy.setting.{operation}_padding"), toy.PADDINGS, key=f"toy_{operation}_padding",
                     horizontal=True, help=t(f"toy.setting.{operation}_padding_help"))


def editors_panel() -> tuple[np.ndarray, np.ndarray, dict]:
    """Image and filters side by side above the conv's and pool's settings, in one box; returns the image
    (1, H, W, C), the filters (kh, kw, C, F) and every setting as its widget holds it."""
    chosen = {name: st.session_state[f"toy_{name}"] for name in toy_lesson.tutorial_settings()}
    with st.container(border=True):
        image_column, filters_column = st.columns(toy_lesson.editor_widths(chosen, EDITOR_CELL_PX))
        with image_column:
            image = image_panel()
        with filters_column:
            filters = filters_panel(image.shape[3])
        operations_panel()
    return image, filters, chosen
