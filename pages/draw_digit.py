"""Draw a digit: the tutorial's section 2.2 (conv, swapaxes, max-pool) on your own digit, then a trained network.

A run of the page draws the panels' controls, sentences and filters and leaves places for the digit's pictures
(``pages.parts.digit_answers``); a stroke reruns only the canvas's fragment, which fills those places again (or says
to draw, once the canvas is empty: the panels stay).
"""

from collections.abc import Callable

import numpy as np
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from cnnlib.errors import Refusal
from cnnlib.lessons.draw import figures
from cnnlib.lessons.draw import steps as draw_steps
from cnnlib.lessons.draw import words as digit_text
from cnnlib.mnist.preprocess import MNIST_SIZE
from cnnlib.mnist.strokes import PEN_WIDTH
from cnnlib.network import reader
from cnnlib.store.saved import SavedModel, list_models
from cnnlib.text import t
from pages import ensure_app_navigation, workspace_folders
from pages.parts.class_digits import add_digit_panel
from pages.parts.class_scores import score_panel
from pages.parts.errors import explained_errors
from pages.parts.digit_answers import Answers, Conv, Pool, no_answers, show_answers
from pages.parts.digit_inputs import canvas_input, kept_drawing, sample_input, upload_input
from pages.parts.models import chosen_model, model_probe, replayed_reader
from pages.parts.saved_models import model_upload, say
from pages.parts.state import CHOSEN_MODEL, DIGIT, init_page

ensure_app_navigation()

PADDINGS, KERNEL_SIZES = ["SAME", "VALID"], [1, 2, 3, 4, 5, 7]
SOURCES, FILTER_SOURCES = ["draw", "sample", "upload"], ["random", "trained"]
DEFAULTS = {"draw_source": "draw", "draw_stroke_width": PEN_WIDTH, "draw_sample_index": 0, "draw_sample_split": "train",
            "draw_filter_source": "random",
            "draw_filter_count": draw_steps.TUTORIAL_FILTERS, "draw_kernel_size": draw_steps.TUTORIAL_KERNEL,
            "draw_conv_stride": draw_steps.TUTORIAL_CONV_STRIDE, "draw_conv_padding": draw_steps.TUTORIAL_CONV_PADDING,
            "draw_seed": 0, "draw_pool_size": draw_steps.TUTORIAL_POOL_SIZE,
            "draw_pool_stride": draw_steps.TUTORIAL_POOL_STRIDE, "draw_pool_padding": draw_steps.TUTORIAL_POOL_PADDING}
BLANK = np.zeros((MNIST_SIZE, MNIST_SIZE), np.float32)  # the panels' digit before a stroke: shapes and sentences only
Probe = reader.ModelProbe | Refusal | None  # the chosen model's reader, why it cannot be read, or no model
Reader = Callable[[np.ndarray], reader.ModelReading] | None  # how the chosen network (at its replayed epoch) reads
init_page(DEFAULTS)


@explained_errors()
def conv_panel(image: np.ndarray, probe: Probe) -> tuple[Conv, draw_steps.TutorialSteps] | None:
    """Section 2.2's convolution: the filters and where they come from, the shapes, and a place for the maps."""
    st.header(t("draw.conv.header"))
    trained = probe.first_layer_filters() if isinstance(probe, reader.ModelProbe) else None
    if trained is not None:
        st.radio(t("draw.conv.weights"), FILTER_SOURCES, format_func=lambda name: t(f"draw.conv.{name}"),
                 key="draw_filter_source", horizontal=True)
    use_trained = trained is not None and st.session_state["draw_filter_source"] == "trained"
    columns = st.columns(6, vertical_alignment="bottom")
    count = columns[0].slider(t("draw.conv.count"), 1, 8, key="draw_filter_count")
    kernel = columns[1].select_slider(t("draw.conv.kernel"), KERNEL_SIZES, key="draw_kernel_size", disabled=use_trained)
    stride = columns[2].slider(t("draw.conv.stride"), 1, 4, key="draw_conv_stride")
    padding = columns[3].radio(t("draw.conv.padding"), PADDINGS, key="draw_conv_padding", horizontal=True)
    seed = columns[4].number_input(t("draw.conv.seed"), 0, 2**31 - 1, key="draw_seed", disabled=use_trained)
    columns[5].button(t("draw.conv.new_filters"), key="draw_new_filters", disabled=use_trained,  # the next seed
                      on_click=lambda: st.session_state.update(draw_seed=seed + 1), icon=":material/refresh:")
    if use_trained:
        filters = trained[:, :, :, :count]  # the first ``count`` of conv1's filters
        st.caption(digit_text.trained_filters_text(filters.shape[3], trained.shape[3], st.session_state["draw_model"],
                                                   "x".join(map(str, trained.shape[:2]))))
    else:
        filters = draw_steps.random_filters(count, kernel, seed)
        st.caption(digit_text.random_filters_text(kernel, count, seed))
    steps = draw_steps.tutorial_conv(image, filters, stride, padding)
    st.markdown(digit_text.conv_text(steps, stride, padding))
    st.plotly_chart(figures.filter_grid_figure(steps.filters), key="draw_filters", width="content")
    st.caption(digit_text.filters_caption(steps))
    conv = Conv(filters, stride, padding, st.container())
    st.caption(digit_text.conv_maps_caption(steps))
    return conv, steps


@explained_errors()
def pool_panel(steps: draw_steps.TutorialSteps) -> Pool | None:
    """Section 2.2's max-pool of the feature maps: its window, the shapes, and a place for the pooled maps."""
    st.header(t("draw.pool.header"))
    columns = st.columns(3)
    size = columns[0].slider(t("draw.pool.window"), 1, 4, key="draw_pool_size")
    stride = columns[1].slider(t("draw.pool.stride"), 1, 4, key="draw_pool_stride")
    padding = columns[2].radio(t("draw.pool.padding"), PADDINGS, key="draw_pool_padding", horizontal=True)
    steps = steps.pooled(size, stride, padding)
    st.markdown(digit_text.pool_text(steps, size, stride, padding))
    pool = Pool(size, stride, padding, st.container())
    st.caption(digit_text.pool_maps_caption(steps, size))
    return pool


@explained_errors()
def model_panel(models: list[SavedModel], chosen: SavedModel | None, probe: Probe) -> tuple[Reader, DeltaGenerator]:
    """A trained network: choose the model (or bring your own), replay its training; how it reads a digit, and the
    place for its answer and every layer's output (None, None without a network that can read)."""
    st.header(t("draw.model.header"))
    say("draw_models_notice")
    model_upload("draw_model_upload", "draw_models_notice", CHOSEN_MODEL)
    if not models:
        st.info(t("draw.model.none"), icon=":material/info:")
        st.page_link("pages/train.py", label=t("draw.model.train_link"), icon=":material/model_training:")
        return None, None
    labels = {model.key: digit_text.model_label(model) for model in models}
    st.session_state["draw_model"] = chosen.key  # the chooser shows the shared choice (its own state ends off-page)
    st.selectbox(t("draw.model.chooser"), list(labels), format_func=labels.get, key="draw_model",
                 on_change=lambda: st.session_state.update({CHOSEN_MODEL: st.session_state["draw_model"]}))
    if isinstance(probe, Refusal):
        st.error(str(probe))
        return None, None
    score_panel(chosen, "draw_model")
    return replayed_reader("draw_epoch", chosen, probe), st.container()


def lesson_panels(image: np.ndarray, view: DeltaGenerator) -> Answers:
    """The conv, the pool and a trained network for ``image``: their controls and sentences, and where the digit's
    pictures go (its view in ``view``)."""
    models = list_models(*workspace_folders())
    chosen = chosen_model(models)
    with st.spinner(t("draw.model.loading")):  # shows while TensorFlow first loads
        probe = None if chosen is None else model_probe(str(chosen.path), chosen.modified)
    conv, steps = conv_panel(image, probe) or (None, None)
    pool = None if steps is None else pool_panel(steps)
    read, reading = model_panel(models, chosen, probe) or (None, None)
    return Answers(view, conv, pool, read, reading)


def digit_panel() -> tuple[str, DeltaGenerator, DeltaGenerator, tuple]:
    """Where the digit comes from (drawn, an MNIST sample or an uploaded picture) on the left, its view on the right:
    the source, both columns, and the digit (28x28 in [0, 1] or None) with its description and preparation."""
    st.header(t("draw.digit.header"))
    input_column, view_column = st.columns(2, gap="large")
    with input_column:
        source = st.segmented_control(t("draw.digit.input"), SOURCES, key="draw_source", label_visibility="collapsed",
                                      format_func=lambda name: t(f"draw.source.{name}")) or "draw"
        prepared = kept_drawing() if source == "draw" else upload_input() if source == "upload" else None
        image, description = sample_input() if source == "sample" else (
            getattr(prepared, "image", None), t(f"draw.description.{source}"))
    return source, input_column, view_column, (image, description, prepared)


@st.fragment
def drawn_digit(place: DeltaGenerator, answers: Answers) -> None:
    """The canvas (in ``place``) and, on each stroke, only what the drawing changes: the panels stay while the canvas
    is empty, so a first stroke (and an Undo to nothing) reruns this fragment alone."""
    with place:
        prepared = canvas_input()
    st.session_state[DIGIT] = None if prepared is None else prepared.image
    if prepared is None:
        no_answers(answers)
    else:
        show_answers(prepared.image, t("draw.description.draw"), prepared, answers)


st.title(t("draw.title"))
st.markdown(t("draw.intro"))
with explained_errors():
    source, input_column, view_column, (image, description, prepared) = digit_panel()
    st.session_state[DIGIT] = image  # float32 (28, 28) or None; Why this answer? reads it too
    if image is None and source != "draw":
        view_column.info(t("draw.digit.empty"), icon=":material/draw:")
    shown = BLANK if image is None and source == "draw" else image  # the canvas keeps its panels while empty
    answers = None if shown is None else lesson_panels(shown, view_column.container())
    if source == "draw":
        drawn_digit(input_column, answers)
        add_digit_panel(input_column)
    elif answers is not None:
        show_answers(image, description, prepared, answers)
