"""Draw a digit: the tutorial's section 2.2 (conv, swapaxes, max-pool) on your own digit, then a trained network."""

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from cnnlib.errors import Refusal
from cnnlib.lessons.draw import figures
from cnnlib.lessons.draw import steps as draw_steps
from cnnlib.lessons.draw import words as digit_text
from cnnlib.mnist import preprocess
from cnnlib.mnist.preprocess import CANVAS_SIDE
from cnnlib.mnist.strokes import PEN_WIDTH
from cnnlib.network import reader
from cnnlib.store.saved import SavedModel, list_models
from cnnlib.text import t
from pages import cached_mnist, ensure_app_navigation, workspace_folders
from pages.parts.errors import explained_errors
from pages.parts.models import chosen_model, model_probe, replayed_reading
from pages.parts.saved_models import model_upload, say
from pages.parts.state import CHOSEN_MODEL, DIGIT, init_page

ensure_app_navigation()

PADDINGS, KERNEL_SIZES = ["SAME", "VALID"], [1, 2, 3, 4, 5, 7]
SOURCES, FILTER_SOURCES = ["draw", "sample", "upload"], ["random", "trained"]
DEFAULTS = {"draw_source": "draw", "draw_stroke_width": PEN_WIDTH, "draw_sample_index": 0,
            "draw_filter_source": "random",
            "draw_filter_count": draw_steps.TUTORIAL_FILTERS, "draw_kernel_size": draw_steps.TUTORIAL_KERNEL,
            "draw_conv_stride": draw_steps.TUTORIAL_CONV_STRIDE, "draw_conv_padding": draw_steps.TUTORIAL_CONV_PADDING,
            "draw_seed": 0, "draw_pool_size": draw_steps.TUTORIAL_POOL_SIZE,
            "draw_pool_stride": draw_steps.TUTORIAL_POOL_STRIDE, "draw_pool_padding": draw_steps.TUTORIAL_POOL_PADDING}
Probe = reader.ModelProbe | Refusal | None  # the chosen model's reader, why it cannot be read, or no model
init_page(DEFAULTS)


def canvas_input() -> preprocess.PreparedDigit | None:
    """The canvas, white ink on black like MNIST; None until something is drawn. A drawing outlives a visit elsewhere:
    its strokes come back as ``initial_drawing`` (fixed while the canvas shows, or it would reload on every stroke)
    and its pixels are kept (a restored canvas sends nothing until the next stroke)."""
    st.slider(t("draw.canvas.stroke_width"), 5, 40, key="draw_stroke_width")
    if "draw_canvas" not in st.session_state:  # the canvas mounts (first visit, other input or page before)
        st.session_state["draw_canvas_restored"] = st.session_state.get("draw_strokes")
    result = st_canvas(stroke_width=st.session_state["draw_stroke_width"], stroke_color="#FFFFFF", key="draw_canvas",
                       background_color="#000000", height=CANVAS_SIDE, width=CANVAS_SIDE, drawing_mode="freedraw",
                       initial_drawing=st.session_state["draw_canvas_restored"], return_image_data=True)
    with explained_errors():  # a picture refused unread: its sentence, and the last drawing kept
        if (png := result.image_bytes) is not None:  # its PNG, decoded from base64 on each access: once
            st.session_state["draw_pixels"] = preprocess.canvas_pixels(png)
            st.session_state["draw_strokes"] = result.json_data
    st.caption(t("draw.canvas.caption", size=CANVAS_SIDE))
    pixels = st.session_state.get("draw_pixels")
    return None if pixels is None else preprocess.prepare_digit(pixels)


def sample_input() -> tuple[np.ndarray, str]:
    """An MNIST training digit by index, (28, 28) in [0, 1], and its description: index and label."""
    data = cached_mnist()
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    index = left.number_input(t("draw.sample.index", last=len(data.x_train) - 1), 0, len(data.x_train) - 1,
                              key="draw_sample_index")
    right.button(t("draw.sample.random"), key="draw_random_sample", icon=":material/casino:", on_click=lambda: (
        st.session_state.update(draw_sample_index=int(np.random.default_rng().integers(len(data.x_train))))))
    st.caption(digit_text.sample_caption(len(data.x_train), data.description))
    return data.x_train[index] / np.float32(255), t("draw.description.sample", index=index, label=data.y_train[index])


@explained_errors()
def upload_input() -> preprocess.PreparedDigit | None:
    """A photo or scan of a digit (dark on light is fine); None until one is uploaded or when it cannot be read."""
    upload = st.file_uploader(t("draw.upload.label"), type=["png", "jpg", "jpeg"], key="draw_upload")
    prepared = None if upload is None else preprocess.uploaded_image_to_mnist(upload.getvalue())
    if upload is not None and prepared is None:
        st.warning(t("draw.upload.blank"))
    return prepared


@explained_errors()
def conv_panel(image: np.ndarray, probe: Probe) -> draw_steps.TutorialSteps | None:
    """Section 2.2's convolution: the filters and where they come from, the feature maps after swapaxes, the shapes."""
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
    st.plotly_chart(figures.map_grid_figure(steps.conv_maps, "conv"), key="draw_conv_maps", width="content")
    st.caption(digit_text.conv_maps_caption(steps))
    return steps


@explained_errors()
def pool_panel(steps: draw_steps.TutorialSteps) -> None:
    """Section 2.2's max-pool of the feature maps: smaller and blurrier, the strongest response in each window."""
    st.header(t("draw.pool.header"))
    columns = st.columns(3)
    size = columns[0].slider(t("draw.pool.window"), 1, 4, key="draw_pool_size")
    stride = columns[1].slider(t("draw.pool.stride"), 1, 4, key="draw_pool_stride")
    padding = columns[2].radio(t("draw.pool.padding"), PADDINGS, key="draw_pool_padding", horizontal=True)
    steps = steps.pooled(size, stride, padding)
    st.markdown(digit_text.pool_text(steps, size, stride, padding))
    st.plotly_chart(figures.map_grid_figure(steps.pool_maps, "pool"), key="draw_pool_maps", width="content")
    st.caption(digit_text.pool_maps_caption(steps, size))


@explained_errors()
def model_panel(image: np.ndarray, models: list[SavedModel], chosen: SavedModel | None, probe: Probe) -> None:
    """A trained network on this digit: choose the model (or bring your own), replay its training, see its answer
    and every layer's output."""
    st.header(t("draw.model.header"))
    say("draw_models_notice")
    model_upload("draw_model_upload", "draw_models_notice", CHOSEN_MODEL)
    if not models:
        st.info(t("draw.model.none"), icon=":material/info:")
        st.page_link("pages/train.py", label=t("draw.model.train_link"), icon=":material/model_training:")
        return
    labels = {model.key: digit_text.model_label(model) for model in models}
    st.session_state["draw_model"] = chosen.key  # the chooser shows the shared choice (its own state ends off-page)
    st.selectbox(t("draw.model.chooser"), list(labels), format_func=labels.get, key="draw_model",
                 on_change=lambda: st.session_state.update({CHOSEN_MODEL: st.session_state["draw_model"]}))
    if isinstance(probe, Refusal):
        st.error(str(probe))
        return
    reading = replayed_reading("draw_epoch", chosen, probe, image)
    left, right = st.columns([1, 2])
    left.subheader(digit_text.prediction_title(reading))
    left.markdown(digit_text.probability_text(reading))
    right.plotly_chart(figures.probability_figure(reading.probabilities), key="draw_probabilities")
    st.caption(t("draw.model.layers_caption"))
    for name in reading.activations:
        st.markdown(digit_text.layer_text(reading, name))
        if (figure := figures.layer_figure(reading, name)) is not None:
            st.plotly_chart(figure, key=f"draw_layer_{name}")


def digit_panel() -> np.ndarray | None:
    """Where the digit comes from (drawn, an MNIST sample or an uploaded picture) on the left; on the right, once
    there is one, the digit as MNIST and the network see it: 28x28 numbers in [0, 1] in the tutorial's Greys."""
    st.header(t("draw.digit.header"))
    input_column, view_column = st.columns(2, gap="large")
    with input_column:
        source = st.segmented_control(t("draw.digit.input"), SOURCES, key="draw_source", label_visibility="collapsed",
                                      format_func=lambda name: t(f"draw.source.{name}")) or "draw"
        prepared = canvas_input() if source == "draw" else upload_input() if source == "upload" else None
        image, description = sample_input() if source == "sample" else (
            getattr(prepared, "image", None), t(f"draw.description.{source}"))
    if image is None:
        view_column.info(t("draw.digit.empty"), icon=":material/draw:")
        return None
    view_column.subheader(t("draw.view.header"))
    view_column.plotly_chart(figures.digit_figure(image, description), key="draw_mnist_view")
    view_column.markdown(digit_text.mnist_view_text(image))
    if prepared is not None:
        recipe = view_column.expander(t("draw.view.recipe"), key="draw_recipe", on_change="rerun")
        if recipe.open:  # its three pictures are made only while someone looks at them
            pictures, captions = figures.preparation_pictures(prepared), digit_text.preparation_captions(prepared)
            for column, picture, caption in zip(recipe.columns(3), pictures, captions):
                column.image(picture, width=figures.STEP_PX, caption=caption)
    return image


st.title(t("draw.title"))
st.markdown(t("draw.intro"))
with explained_errors():
    st.session_state[DIGIT] = image = digit_panel()  # float32 (28, 28) or None; Why this answer? reads it too
    if image is not None:
        models = list_models(*workspace_folders())
        chosen = chosen_model(models)
        with st.spinner(t("draw.model.loading")):  # after the canvas, so that it shows while TensorFlow first loads
            probe = None if chosen is None else model_probe(str(chosen.path), chosen.modified)
        steps = conv_panel(image, probe)
        if steps is not None:
            pool_panel(steps)
        model_panel(image, models, chosen, probe)
