"""Toy convolution: the tutorial's 3x3 image through a conv and a max-pool, one multiply-and-sum at a time.
No TensorFlow here unless the learner asks for the "TensorFlow agrees" check: this page must open fast."""

import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from cnnlib import toy
from cnnlib.figures.toy import toy_conv_step_figure, toy_maps_figure, toy_pool_step_figure
from pages import ensure_app_navigation

ensure_app_navigation()

PLAY_SECONDS = 1.2  # one step per tick while playing
EDITOR_CELL_PX = 44
SETTINGS = {  # widget key -> the tutorial's value
    "toy_image_height": 3, "toy_image_width": 3, "toy_image_channels": 1,
    "toy_filter_height": 2, "toy_filter_width": 2, "toy_filter_count": 3,
    "toy_conv_stride_rows": 1, "toy_conv_stride_cols": 1, "toy_conv_padding": toy.TUTORIAL_CONV_PADDING,
    "toy_pool_height": 2, "toy_pool_width": 2, "toy_pool_stride_rows": 1, "toy_pool_stride_cols": 1,
    "toy_pool_padding": toy.TUTORIAL_POOL_PADDING,
}
AXES = {  # tensor -> what each NHWC axis means
    "image": ("images", "height", "width", "channels"),
    "filters": ("filter height", "filter width", "input channels", "filters"),
    "conv output": ("images", "height", "width", "channels (one per filter)"),
    "pooled": ("images", "height", "width", "channels"),
}


def tutorial_state() -> dict:
    """Every session-state key of this page with the tutorial's example."""
    return {**SETTINGS,
            "toy_image_start": toy.TUTORIAL_IMAGE.copy(),  # (1, H, W, C): what the image editors start from
            "toy_filters_start": toy.TUTORIAL_FILTERS.copy(),  # (kh, kw, C, F)
            "toy_image_latest": toy.TUTORIAL_IMAGE.copy(),  # the editors' values on the last run
            "toy_filters_latest": toy.TUTORIAL_FILTERS.copy(),
            "toy_conv_step": 0, "toy_pool_step": 0, "toy_playing": None, "toy_last_tick": 0.0}


def init_state() -> None:
    """Create every session-state key once; ``toy_editor_version`` renews the editors after a resize or restore."""
    for key, value in tutorial_state().items():
        st.session_state.setdefault(key, value)
    st.session_state.setdefault("toy_editor_version", 0)


def restore_tutorial() -> None:
    """Button callback: back to the tutorial's numbers and settings, with fresh editors."""
    st.session_state.update(tutorial_state())
    st.session_state.toy_editor_version += 1


def intro_panel() -> None:
    """What this page shows, and the restore button."""
    st.title("Toy convolution")
    st.markdown(
        "The tutorial's first lesson, live. A 3x3 image holding 1..9 meets three 2x2 filters (all 1s, all 10s, "
        "all −1s): each filter slides over the image and, at every stop, **multiplies the numbers under it by its "
        "weights and adds them up**. That makes one feature map per filter. Then a 2x2 **max-pool** slides over "
        "each feature map and keeps the largest number in every window. Step through every single multiply-and-sum "
        "below, change any number or setting, and check the result against TensorFlow."
    )
    st.button("Restore the tutorial's example", key="toy_restore", on_click=restore_tutorial,
              icon=":material/restart_alt:")


def _grid_editor(grid: np.ndarray, key: str, label: str, row_numbers: bool = True) -> np.ndarray:
    """An editable 2-D grid of numbers; empty cells come back as NaN."""
    frame = pd.DataFrame(grid, index=[str(i) for i in range(grid.shape[0])],
                         columns=[str(j) for j in range(grid.shape[1])])
    st.caption(label)
    edited = st.data_editor(frame, key=key, num_rows="fixed", width="content", hide_index=not row_numbers,
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


def editor_widths() -> list[int]:
    """Relative widths of the image and filters columns, so that a 9-wide image or four filters fit their editors."""
    state = st.session_state
    image = (state.toy_image_width + 1) * EDITOR_CELL_PX
    filters = state.toy_filter_count * (state.toy_filter_width * EDITOR_CELL_PX + 16)
    return [max(image, 3 * 110), max(filters, 3 * 110)]  # 110 px: room for three size inputs


def image_panel() -> np.ndarray:
    """Image size and numbers, one editor per channel; returns the image (1, H, W, C)."""
    st.subheader("The image")
    sizes = st.columns(3)
    height = sizes[0].number_input("height", 1, 9, key="toy_image_height")
    width = sizes[1].number_input("width", 1, 9, key="toy_image_width")
    channels = sizes[2].number_input("channels", 1, 3, key="toy_image_channels",
                                     help="1 for grey, 3 for red/green/blue. Every filter needs as many channels.")
    start = _start_values("image", (1, height, width, channels))
    version = st.session_state.toy_editor_version
    image = np.stack([_grid_editor(start[0, :, :, c], f"toy_image_editor_{version}_{c}", f"channel {c}")
                      for c in range(channels)], axis=-1)[np.newaxis]  # (1, H, W, C)
    st.session_state.toy_image_latest = image
    return image


def filters_panel(channels: int) -> np.ndarray:
    """Filter size, count and weights, one editor per (filter, input channel); returns filters (kh, kw, C, F)."""
    st.subheader("The filters")
    sizes = st.columns(3)
    height = sizes[0].number_input("filter height", 1, 4, key="toy_filter_height")
    width = sizes[1].number_input("filter width", 1, 4, key="toy_filter_width")
    count = sizes[2].number_input("filters", 1, 4, key="toy_filter_count",
                                  help="Each filter makes one feature map (one output channel).")
    start = _start_values("filters", (height, width, channels, count))
    version = st.session_state.toy_editor_version
    columns = st.columns(count)
    filters = np.zeros(start.shape)
    for f in range(count):
        with columns[f]:
            for c in range(channels):
                filters[:, :, c, f] = _grid_editor(start[:, :, c, f], f"toy_filter_editor_{version}_{f}_{c}",
                                                   f"filter {f}, channel {c}", row_numbers=False)
    st.session_state.toy_filters_latest = filters
    return filters


def operations_panel() -> None:
    """Strides and padding of the conv, size, strides and padding of the max-pool (read back from session state)."""
    conv, pool = st.columns(2)
    with conv:
        st.subheader("Convolution")
        rows, cols = st.columns(2)
        rows.number_input("stride down (rows)", 1, 3, key="toy_conv_stride_rows")
        cols.number_input("stride across (columns)", 1, 3, key="toy_conv_stride_cols")
        st.radio("padding", toy.PADDINGS, key="toy_conv_padding", horizontal=True,
                 help="VALID: no padding, the filter stays inside the image. SAME: pad with zeros so that "
                      "output size = ceil(input size / stride).")
    with pool:
        st.subheader("Max-pool")
        size_rows, size_cols, stride_rows, stride_cols = st.columns(4)
        size_rows.number_input("window height", 1, 4, key="toy_pool_height")
        size_cols.number_input("window width", 1, 4, key="toy_pool_width")
        stride_rows.number_input("stride down", 1, 3, key="toy_pool_stride_rows")
        stride_cols.number_input("stride across", 1, 3, key="toy_pool_stride_cols")
        st.radio("padding", toy.PADDINGS, key="toy_pool_padding", horizontal=True,
                 help="SAME pads so that output size = ceil(input size / stride); padded cells never win.")


def settings() -> dict:
    """The current conv and pool settings, in the argument names ``cnnlib.toy`` uses."""
    state = st.session_state
    return dict(conv_strides=(state.toy_conv_stride_rows, state.toy_conv_stride_cols),
                conv_padding=state.toy_conv_padding,
                pool_size=(state.toy_pool_height, state.toy_pool_width),
                pool_strides=(state.toy_pool_stride_rows, state.toy_pool_stride_cols),
                pool_padding=state.toy_pool_padding)


def shapes_panel(image: np.ndarray, filters: np.ndarray, conv: toy.Trace | None, pool: toy.Trace | None) -> None:
    """The NHWC shape at each stage, and what each axis means."""
    st.header("Shapes (NHWC)")
    tensors = {"image": image.shape, "filters": filters.shape}
    flow = f"image `{image.shape}` ⊛ filters `{filters.shape}`"
    if conv is not None:
        tensors["conv output"] = conv.output.shape
        flow += f" → conv output `{conv.output.shape}`"
    if pool is not None:
        tensors["pooled"] = pool.output.shape
        flow += f" → max-pool {pool.kernel[0]}x{pool.kernel[1]} → pooled `{pool.output.shape}`"
    st.markdown(flow)
    header = "| axis | " + " | ".join(tensors) + " |\n|---|" + "---|" * len(tensors) + "\n"
    rows = [f"| {axis} | " + " | ".join(f"{AXES[name][axis]}: **{shape[axis]}**" for name, shape in tensors.items())
            + " |" for axis in range(4)]
    st.markdown(header + "\n".join(rows))
    st.caption("TensorFlow keeps images as NHWC: N images, H rows, W columns, C channels. Filters are "
               "(height, width, input channels, number of filters). The conv output has one channel per filter.")


def _set_step(name: str, index: int) -> None:
    """Button callback: go to step ``index`` and stop playing."""
    st.session_state[f"toy_{name}_step"] = index
    st.session_state.toy_playing = None


def _toggle_play(name: str, count: int) -> None:
    """Button callback: start playing ``name`` (from the start if at the end), or pause it."""
    state = st.session_state
    if state.toy_playing == name:
        state.toy_playing = None
        return
    if state[f"toy_{name}_step"] >= count - 1:
        state[f"toy_{name}_step"] = 0
    state.toy_playing, state.toy_last_tick = name, time.monotonic()


def _advance_if_due(name: str, count: int) -> None:
    """While ``name`` plays, one step forward per tick, never past the last step."""
    state = st.session_state
    if state.toy_playing != name:
        return
    now = time.monotonic()
    if now - state.toy_last_tick >= PLAY_SECONDS * 0.8:  # a full-page rerun between ticks must not add a step
        state[f"toy_{name}_step"] = min(state[f"toy_{name}_step"] + 1, count - 1)
        state.toy_last_tick = now


def stepper_panel(name: str, trace: toy.Trace, figure: Callable[[toy.Trace, int], go.Figure],
                  explain: Callable[[toy.Trace, toy.Step], str]) -> None:
    """Step k of N with First/Previous/Play/Next/Last, the step's figure and its arithmetic in numbers and words."""
    key, count = f"toy_{name}_step", len(trace.steps)
    st.session_state[key] = min(st.session_state[key], count - 1)
    playing = st.session_state.toy_playing == name

    @st.fragment(run_every=PLAY_SECONDS if playing else None)
    def stepper() -> None:
        if (st.session_state.toy_playing == name) != playing:
            st.rerun()  # Play/Pause was clicked in here: rerun the page so the fragment starts or stops ticking
        _advance_if_due(name, count)
        index = st.session_state[key]
        step = trace.steps[index]
        buttons = st.columns([1, 1, 1, 1, 1, 3])
        buttons[0].button("First", key=f"{key}_first", on_click=_set_step, args=(name, 0),
                          disabled=index == 0, icon=":material/first_page:")
        buttons[1].button("Previous", key=f"{key}_previous", on_click=_set_step, args=(name, index - 1),
                          disabled=index == 0, icon=":material/chevron_left:")
        buttons[2].button("Pause" if st.session_state.toy_playing == name else "Play", key=f"{key}_play",
                          on_click=_toggle_play, args=(name, count), disabled=count == 1,
                          icon=":material/pause:" if st.session_state.toy_playing == name else ":material/play_arrow:")
        buttons[3].button("Next", key=f"{key}_next", on_click=_set_step, args=(name, index + 1),
                          disabled=index == count - 1, icon=":material/chevron_right:")
        buttons[4].button("Last", key=f"{key}_last", on_click=_set_step, args=(name, count - 1),
                          disabled=index == count - 1, icon=":material/last_page:")
        buttons[5].markdown(f"**Step {index + 1} of {count}**: output row {step.row}, column {step.col}, "
                            f"channel {step.channel}")
        st.markdown(f"### {step.expression}")
        st.markdown(explain(trace, step))
        st.plotly_chart(figure(trace, index), key=f"{key}_figure", width="content",
                        config={"displayModeBar": False})
        if st.session_state.toy_playing == name and index == count - 1:
            st.session_state.toy_playing = None
            st.rerun()  # the whole page, so the fragment stops ticking

    stepper()


def explain_conv_step(trace: toy.Trace, step: toy.ConvStep) -> str:
    """The conv step in words: where the window is, what is multiplied, what padding adds."""
    kh, kw = trace.kernel
    channels = trace.input.shape[3]
    words = (f"The {kh}x{kw} window's top-left corner is on row {step.top}, column {step.left} of the "
             f"{'padded ' if trace.padding_mask.any() else ''}input (orange box). Multiply each of its "
             f"{len(step.cells)} numbers{f' ({channels} channels)' if channels > 1 else ''} by the weight of "
             f"filter {step.channel} on top of it, and add the {len(step.cells)} products: "
             f"**{toy.format_number(step.total)}** goes to row {step.row}, column {step.col} of feature map "
             f"{step.channel}.")
    padded = sum(step.padded)
    if padded:
        words += (f" {padded} of the cells are padding (grey): in a convolution padding is **0**, so they add "
                  "nothing.")
    return words


def explain_pool_step(trace: toy.Trace, step: toy.PoolStep) -> str:
    """The pool step in words: the candidates, the winner, and why padding is not one of them."""
    kh, kw = trace.kernel
    winner = toy.format_number(step.total)
    words = (f"The {kh}x{kw} window's top-left corner is on row {step.top}, column {step.left} of feature map "
             f"{step.channel} (orange box). The largest real number in it, **{winner}** (green box), goes to row "
             f"{step.row}, column {step.col} of pooled map {step.channel}.")
    padded = sum(step.padded)
    if padded:
        words += (f" {padded} of the window's cells are padding (grey, \"ignored\"): max-pool padding is never the "
                  "maximum (TensorFlow treats it as −∞), so only the real numbers compete.")
        if step.total < 0:
            words += f" Had the padding been 0, the answer would have been 0 instead of {winner}."
    return words


STAGES = {  # stepper key: (header, step figure, step explanation, result sentence with the shape, map name)
    "conv": ("Step 1: convolution", toy_conv_step_figure, explain_conv_step,
             "conv output `{}`, one feature map per filter", "feature map"),
    "pool": ("Step 2: max-pool", toy_pool_step_figure, explain_pool_step, "pooled output `{}`", "pooled map"),
}


def stage_panel(key: str, trace: toy.Trace) -> None:
    """One step of the lesson (the convolution or the max-pool): every step, then all of its output maps."""
    header, step_figure, explain, result, map_name = STAGES[key]
    st.header(header)
    stepper_panel(key, trace, step_figure, explain)
    st.markdown(f"**Result**: {result.format(trace.output.shape)}.")
    st.plotly_chart(toy_maps_figure(trace.output, map_name), key=f"toy_{key}_result", width="content",
                    config={"displayModeBar": False})


def padding_panel(conv: toy.Trace, pool: toy.Trace | None) -> None:
    """Where does SAME padding go? The rule on the current numbers, and why max-pool keeps negative numbers."""
    st.header("Where does SAME padding go?")
    st.markdown(
        "TensorFlow's rule, per axis: `out = ceil(in / stride)`, `pad_total = max((out − 1) × stride + k − in, 0)`, "
        "`pad_before = pad_total // 2`, `pad_after = pad_total − pad_before`. So padding is split as evenly as "
        "possible and **the odd extra cell goes to the bottom and to the right**. VALID never pads: "
        "`out = (in − k) // stride + 1`."
    )
    for title, trace in (("Convolution", conv), ("Max-pool", pool)):
        if trace is None:
            continue
        st.markdown(f"**{title}** ({trace.padding[0].padding}):")
        st.markdown("\n".join(f"- {axis.explain(name)}" for axis, name in zip(trace.padding, ("height", "width"))))
    if pool is None:
        return
    st.markdown("**Why the max-pool keeps negative numbers.** The conv pads with zeros, but max-pool pads with "
                "cells that can never win (as if they were −∞). A window that hangs over the edge picks the largest "
                "*real* number in it.")
    changed = toy.padding_would_have_won(pool)
    if not changed:
        st.markdown("With the current numbers no window touches padding *and* holds only negative numbers, so "
                    "zero padding would give the same result here. Restore the tutorial's example to see the "
                    "difference.")
        return
    lines = [f"- pooled map {step.channel}, row {step.row}, column {step.col}: `{step.expression}`; "
             "with zero padding it would be 0" for step in changed]
    st.markdown("With the current numbers, zero padding would have changed these cells:\n" + "\n".join(lines))
    if _is_tutorial_pool(pool):
        st.info("This is the tutorial's puzzle. The −1 filter makes feature map 2 all negative: −12, −16, −24, "
                "−28. SAME pooling (2x2, stride 1) on a 2x2 map adds one row at the bottom and one column at the "
                "right (pad_total 1: 0 before, 1 after). The window at the top left holds no padding and keeps "
                "−12; the windows that hang over the edge keep −16, −24 and −28, because padding never wins. Had "
                "the padding been zeros, the pooled map would be [[−12, 0], [0, 0]].", icon=":material/lightbulb:")
    first = pool.steps.index(changed[0])
    st.plotly_chart(toy_pool_step_figure(pool, first), key="toy_padding_example", width="content",
                    config={"displayModeBar": False})
    st.caption(f"Step {first + 1} of the max-pool: `{changed[0].expression}`.")


def _is_tutorial_pool(pool: toy.Trace) -> bool:
    """Whether ``pool`` is the tutorial's max-pool of its conv output."""
    expected = toy.max_pool(toy.conv2d(toy.TUTORIAL_IMAGE, toy.TUTORIAL_FILTERS).output, toy.TUTORIAL_POOL_SIZE,
                            toy.TUTORIAL_POOL_STRIDES, toy.TUTORIAL_POOL_PADDING)
    return pool.output.shape == expected.output.shape and np.array_equal(pool.output, expected.output)


def tensorflow_panel(image: np.ndarray, filters: np.ndarray, options: dict, conv: toy.Trace,
                     pool: toy.Trace | None) -> None:
    """TensorFlow agrees: run tf.nn.conv2d and tf.nn.max_pool2d on the same numbers when asked, show ✓ or the gap."""
    st.header("TensorFlow agrees")
    if not st.toggle("Check every change with TensorFlow (loads TensorFlow, a few seconds the first time)",
                     key="toy_tf_check"):
        st.caption("This page computes everything in plain numpy. Switch the check on to compare with "
                   "`tf.nn.conv2d` and `tf.nn.max_pool2d` (float32, as in the tutorial).")
        return
    if pool is None:
        st.info("Fix the max-pool settings first: TensorFlow would refuse them too.")
        return
    with st.spinner("Running TensorFlow…"):
        tf_conv, tf_pool = toy.tensorflow_outputs(image, filters, **options)
    for name, ours, theirs in (("tf.nn.conv2d", conv.output, tf_conv), ("tf.nn.max_pool2d", pool.output, tf_pool)):
        gap = float(np.max(np.abs(ours - theirs)))
        if ours.shape == theirs.shape and np.allclose(ours, theirs, rtol=1e-5, atol=1e-4):
            detail = "exactly" if gap == 0 else f"up to float32 rounding (largest difference {gap:.2g})"
            st.success(f"✓ `{name}` gives the same {theirs.shape} numbers, {detail}.")
        else:
            st.error(f"`{name}` differs: largest difference {gap:.4g}. TensorFlow's numbers:")
            st.plotly_chart(toy_maps_figure(theirs, f"{name} map"), key=f"toy_tf_{name}", width="content")


def code_panel(image: np.ndarray, filters: np.ndarray, options: dict) -> None:
    """The same computation as TensorFlow 2 code, ready to copy."""
    st.header("The same in TensorFlow 2")
    st.caption("Copy this into Python with TensorFlow installed; it prints both results map by map.")
    st.code(toy.tensorflow_code(image, filters, **options), language="python")


init_state()
intro_panel()
with st.container(border=True):
    image_column, filters_column = st.columns(editor_widths())
    with image_column:
        image = image_panel()
    with filters_column:
        filters = filters_panel(image.shape[3])
    operations_panel()
options = settings()
conv = pool = None
try:
    conv = toy.conv2d(image, filters, options["conv_strides"], options["conv_padding"])
    pool = toy.max_pool(conv.output, options["pool_size"], options["pool_strides"], options["pool_padding"])
except ValueError as error:
    st.error(str(error), icon=":material/error:")
shapes_panel(image, filters, conv, pool)
if conv is not None:
    stage_panel("conv", conv)
    if pool is not None:
        stage_panel("pool", pool)
    padding_panel(conv, pool)
    tensorflow_panel(image, filters, options, conv, pool)
    code_panel(image, filters, options)
