"""Toy convolution: the tutorial's 3x3 image through a conv and a max-pool, one multiply-and-sum at a time.
No TensorFlow here unless the learner asks for the "TensorFlow agrees" check: this page must open fast."""

import itertools
import time

import numpy as np
import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from cnnlib.lessons.toy import convolution as toy

from cnnlib.lessons.toy import lesson as toy_lesson

from cnnlib.lessons.toy import words as toy_text
from cnnlib.lessons.toy.figures import conv_step_figure, maps_figure, pool_step_figure
from cnnlib.text import t
from pages import ensure_app_navigation

ensure_app_navigation()

PLAY_SECONDS, EDITOR_CELL_PX = 1.2, 44  # one step per tick while playing; an editor cell's width
CHART = dict(width="content", config={"displayModeBar": False})
HELPED = ("image_channels", "filter_count")  # number inputs with a help sentence (toy.setting.<name>_help)
STAGES = {"conv": (conv_step_figure, toy_text.conv_step_text), "pool": (pool_step_figure, toy_text.pool_step_text)}
ICONS = dict(first="first_page", previous="chevron_left", play="play_arrow", pause="pause", next="chevron_right",
             last="last_page")  # stepper button label -> its Material icon


def tutorial_state() -> dict:
    """Every session-state key of this page with the tutorial's example: settings, playback, each tensor's editors'
    values (``_start``: what they start from, ``_latest``: on the last run) and a new version that renews them."""
    tensors = {"image": toy.TUTORIAL_IMAGE, "filters": toy.TUTORIAL_FILTERS}  # (1, H, W, C), (kh, kw, C, F)
    version = st.session_state.get("toy_editor_version", -1) + 1  # a resize renews the editors too
    return {**{f"toy_{name}": value for name, value in toy_lesson.tutorial_settings().items()},
            **{f"toy_{name}_{when}": tensor.copy() for name, tensor in tensors.items() for when in ("start", "latest")},
            "toy_playback": toy_lesson.Playback(), "toy_editor_version": version}


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


def shapes_panel(lesson: toy_lesson.Lesson) -> None:
    """The NHWC shape at each stage, and what each axis means."""
    st.header(t("toy.shapes.header"))
    st.markdown(toy_text.shapes_flow(lesson))
    st.markdown(toy_text.shapes_table(lesson))
    st.caption(t("toy.shapes.caption"))


def stage_panel(key: str, trace: toy.Trace) -> None:
    """The convolution or the max-pool: a stepper through its steps (figure, arithmetic, words), then its maps."""
    step_figure, explain = STAGES[key]
    count, playing = len(trace.steps), st.session_state.toy_playback.playing == key
    st.header(t(f"toy.stage.{key}.header"))

    @st.fragment(run_every=PLAY_SECONDS if playing else None)
    def stepper() -> None:
        state = st.session_state
        playback = state.toy_playback = state.toy_playback.tick(key, count, time.monotonic(), PLAY_SECONDS)
        if (playback.playing == key) != playing:
            st.rerun()  # Play or Pause was clicked, or the last step came: the page starts or stops the ticking
        index = playback.shown(key, count)
        columns = st.columns([1, 1, 1, 1, 1, 3])
        for column, (button, (label, after, disabled)) in zip(columns, playback.buttons(key, count).items()):
            column.button(t(f"toy.stepper.{label}"), key=f"toy_{key}_step_{button}", on_click=st.session_state.update,
                          args=({"toy_playback": after},), disabled=disabled, icon=f":material/{ICONS[label]}:")
        columns[5].markdown(toy_text.step_position(index, count, trace.steps[index]))
        st.markdown(f"### {trace.steps[index].expression}")
        st.markdown(explain(trace, trace.steps[index]))
        st.plotly_chart(step_figure(trace, index), key=f"toy_{key}_step_figure", **CHART)

    stepper()
    st.markdown(t(f"toy.stage.{key}.result", shape=trace.output.shape))
    st.plotly_chart(maps_figure(trace.output, toy_text.map_titles(trace.output.shape[3], key)),
                    key=f"toy_{key}_result", **CHART)


def padding_panel(lesson: toy_lesson.Lesson) -> None:
    """Where does SAME padding go? The rule on the current numbers, and why max-pool keeps negative numbers."""
    st.header(t("toy.padding.header"))
    st.markdown(t("toy.padding.rule"))
    for block in toy_text.padding_rules(lesson):
        st.markdown(block)
    if (pool := lesson.pool) is None:
        return
    st.markdown(t("toy.padding.why_negative"))
    if not (changed := toy.padding_would_have_won(pool)):
        st.markdown(t("toy.padding.no_change"))
        return
    st.markdown(toy_text.zero_padding_changes(changed))
    if toy_lesson.is_tutorial_pool(pool):
        st.info(t("toy.padding.tutorial_puzzle"), icon=":material/lightbulb:")
    first = pool.steps.index(changed[0])
    st.plotly_chart(pool_step_figure(pool, first), key="toy_padding_example", **CHART)
    st.caption(t("toy.padding.example_caption", number=first + 1, expression=changed[0].expression))


def tensorflow_panel(lesson: toy_lesson.Lesson) -> None:
    """TensorFlow agrees (✓ or the gap, TensorFlow loaded only when asked), then the same as TensorFlow 2 code."""
    st.header(t("toy.tensorflow.header"))
    if not st.toggle(t("toy.tensorflow.toggle"), key="toy_tf_check"):
        st.caption(t("toy.tensorflow.off"))
    elif lesson.pool is None:
        st.info(t("toy.tensorflow.fix_pool_first"))
    else:
        with st.spinner(t("toy.tensorflow.running")):
            agreements = toy_lesson.tensorflow_agreements(lesson)
        for name, theirs, agreement in agreements:
            (st.success if agreement.same else st.error)(toy_text.agreement_text(name, agreement, theirs.shape))
            if not agreement.same:
                st.plotly_chart(maps_figure(theirs, toy_text.map_titles(theirs.shape[3], "tensorflow", name)),
                                key=f"toy_tf_{name}", width="content")
    st.header(t("toy.code.header"))
    if lesson.pool is None:
        st.info(t("toy.tensorflow.fix_pool_first"))
    else:
        st.caption(t("toy.code.caption"))
        st.code(toy.tensorflow_code(lesson.image, lesson.filters, **lesson.options), language="python")


for state_key, value in tutorial_state().items():
    st.session_state.setdefault(state_key, value)
st.title(t("toy.title"))
st.markdown(t("toy.intro"))
st.button(t("toy.restore"), key="toy_restore", on_click=lambda: st.session_state.update(tutorial_state()),
          icon=":material/restart_alt:")
chosen = {name: st.session_state[f"toy_{name}"] for name in toy_lesson.tutorial_settings()}  # read back from widgets
with st.container(border=True):
    image_column, filters_column = st.columns(toy_lesson.editor_widths(chosen, EDITOR_CELL_PX))
    with image_column:
        image = image_panel()
    with filters_column:
        filters = filters_panel(image.shape[3])
    operations_panel()
lesson = toy_lesson.lesson_for(image, filters, chosen)
if lesson.error:
    st.error(lesson.error, icon=":material/error:")
shapes_panel(lesson)
if lesson.conv is not None:
    stage_panel("conv", lesson.conv)
    if lesson.pool is not None:
        stage_panel("pool", lesson.pool)
    padding_panel(lesson)
    tensorflow_panel(lesson)
