"""Draw a digit: the tutorial's section 2.2 (conv, swapaxes, max-pool) on your own digit, then a trained network."""

from datetime import datetime

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from cnnlib import features, preprocess
from cnnlib.data import MnistData, load_mnist
from cnnlib.features import ModelProbe, ModelReading, TutorialSteps, shape_text
from cnnlib.models_store import SavedModel, list_models, load_model, selected_model
from cnnlib.figures.digit import draw_filter_grid, draw_map_grid, draw_probability_bars, draw_unit_bars
from cnnlib.figures.grids import image_grid
from pages import ensure_app_navigation

ensure_app_navigation()

CANVAS_PX = 280
FULL_MNIST_TRAIN = 60_000
SOURCES = ("Draw", "MNIST sample", "Upload a picture")
RANDOM_FILTERS, TRAINED_FILTERS = "Random N(0, 1)", "Trained conv1"
PADDING_OPTIONS = ["SAME", "VALID"]
STEP_PX = 112  # display size of each preprocessing step's picture
MAP_COLUMNS, MAP_TILE_PX = 8, 120  # filters, feature maps and pooled maps share these, so filter f sits above map f
LAYER_COLUMNS, LAYER_TILE_PX = 16, 44  # a trained layer's 32 or 64 maps

DEFAULTS = {
    "draw_source": "Draw",
    "draw_stroke_width": 18,
    "draw_sample_index": 0,
    "draw_filter_source": RANDOM_FILTERS,
    "draw_filter_count": features.TUTORIAL_FILTERS,
    "draw_kernel_size": features.TUTORIAL_KERNEL,
    "draw_conv_stride": features.TUTORIAL_CONV_STRIDE,
    "draw_conv_padding": features.TUTORIAL_CONV_PADDING,
    "draw_seed": 0,
    "draw_pool_size": features.TUTORIAL_POOL_SIZE,
    "draw_pool_stride": features.TUTORIAL_POOL_STRIDE,
    "draw_pool_padding": features.TUTORIAL_POOL_PADDING,
}


def init_state(models: list[SavedModel]) -> None:
    """Every session_state key of this page, set once; the chosen model falls back when its file is gone.

    Re-assigning a key keeps its value through runs where its widget is hidden (no digit yet, another input):
    Streamlit drops the state of widgets that a run does not draw.
    """
    for key, value in DEFAULTS.items():
        st.session_state[key] = st.session_state.get(key, value)
    current = st.session_state.get("draw_model")
    if current not in [model.name for model in models]:
        chosen = selected_model()
        current = chosen.name if chosen else None
    st.session_state["draw_model"] = current


@st.cache_resource(show_spinner="Loading MNIST…")
def mnist() -> MnistData:
    """MNIST from the active source, loaded once per server."""
    return load_mnist()


@st.cache_resource(show_spinner="Loading the model…", max_entries=4)
def model_probe(path: str, modified: float) -> ModelProbe | str:
    """A saved model's all-layers reader, or the sentence saying why it cannot be read; once per file version
    (``modified`` keys the cache), so a broken file is not reloaded on every stroke either."""
    try:
        return ModelProbe(load_model(path))
    except ValueError as error:
        return str(error)


def chosen_model(models: list[SavedModel]) -> SavedModel | None:
    """The model picked in the Trained model section (newest by default), or None when there is none."""
    return next((model for model in models if model.name == st.session_state["draw_model"]), None)


def probe_or_error(model: SavedModel | None) -> ModelProbe | str | None:
    """The loaded model's probe, the sentence saying why it cannot be loaded, or None without a model."""
    return None if model is None else model_probe(str(model.path), model.modified)


def random_sample() -> None:
    """Button callback: jump to a random MNIST training digit."""
    st.session_state["draw_sample_index"] = int(np.random.default_rng().integers(len(mnist().x_train)))


def new_random_filters() -> None:
    """Button callback: the next seed, hence fresh filters that the seed box can bring back."""
    st.session_state["draw_seed"] += 1


def canvas_input() -> preprocess.PreparedDigit | None:
    """The drawing canvas, white ink on black like MNIST; None until something is drawn.

    The drawing outlives a visit to another input or page: its strokes come back as the canvas's ``initial_drawing``
    (fixed while the canvas stays on screen, or the canvas would reload on every stroke), and its pixels are
    kept, because a canvas that is just restored sends nothing until the next stroke.
    """
    st.slider("Stroke width (pixels)", 5, 40, key="draw_stroke_width")
    if "draw_canvas" not in st.session_state:  # the canvas mounts (first visit, other input or page before)
        st.session_state["draw_canvas_restored"] = st.session_state.get("draw_strokes")
    restored = st.session_state["draw_canvas_restored"]
    result = st_canvas(stroke_width=st.session_state["draw_stroke_width"], stroke_color="#FFFFFF",
                       background_color="#000000", height=CANVAS_PX, width=CANVAS_PX, drawing_mode="freedraw",
                       initial_drawing=restored, return_image_data=True, key="draw_canvas")
    if result.image_data is not None:
        st.session_state["draw_strokes"], st.session_state["draw_pixels"] = result.json_data, result.image_data
    st.caption(f"Canvas {CANVAS_PX}x{CANVAS_PX} pixels, white ink on black like MNIST; the toolbar above it can "
               "undo or clear.")
    pixels = st.session_state.get("draw_pixels")
    return None if pixels is None else preprocess.prepare_digit(pixels)


def sample_input() -> tuple[np.ndarray, str]:
    """An MNIST training digit by index: (28, 28) in [0, 1] and its label text."""
    data = mnist()
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    index = left.number_input(f"Index into x_train (0 to {len(data.x_train) - 1:,})", 0, len(data.x_train) - 1,
                              key="draw_sample_index")
    right.button("Random", key="draw_random_sample", on_click=random_sample, icon=":material/casino:")
    tutorial_note = ("The tutorial's `mnist.train.images[0]` is `x_train[5000]` here: TensorFlow 1's reader set the "
                     "first 5,000 training digits aside for validation. " if len(data.x_train) == FULL_MNIST_TRAIN
                     else "")
    st.caption(tutorial_note + data.description)
    return data.x_train[index].astype(np.float32) / 255.0, f"x_train[{index}], label {data.y_train[index]}"


def upload_input() -> preprocess.PreparedDigit | None:
    """A photo or scan of a digit (dark on light is fine); None until one is uploaded or when it cannot be read."""
    upload = st.file_uploader("A PNG or JPEG picture of one digit", type=["png", "jpg", "jpeg"], key="draw_upload")
    if upload is None:
        return None
    try:
        prepared = preprocess.uploaded_image_to_mnist(upload.getvalue())
    except ValueError as error:
        st.error(str(error))
        return None
    if prepared is None:
        st.warning("No digit found in this picture: it looks blank (too little contrast).")
    return prepared


def input_panel() -> tuple[np.ndarray | None, preprocess.PreparedDigit | None, str]:
    """Where the digit comes from; returns the (28, 28) image (or None), its preparation steps and a description."""
    source = st.segmented_control("Input", SOURCES, key="draw_source", label_visibility="collapsed") or "Draw"
    if source == "MNIST sample":
        image, description = sample_input()
        return image, None, description
    prepared = canvas_input() if source == "Draw" else upload_input()
    return (None if prepared is None else prepared.image), prepared, source.lower()


def step_picture(image: np.ndarray) -> np.ndarray:
    """A 0..1 white-on-black image padded square and shown STEP_PX wide with square pixels, dark ink on white."""
    height, width = image.shape
    side = max(height, width)
    square = np.zeros((side, side), np.float32)
    square[(side - height) // 2:(side - height) // 2 + height, (side - width) // 2:(side - width) // 2 + width] = image
    nearest = np.arange(STEP_PX) * side // STEP_PX
    return 1.0 - np.clip(square[np.ix_(nearest, nearest)], 0.0, 1.0)


def preparation_steps(prepared: preprocess.PreparedDigit) -> None:
    """MNIST's recipe on this drawing: the ink and its box, scaled to fit 20x20, centred by mass in 28x28."""
    top, left, bottom, right = prepared.box
    row, column = preprocess.centre_of_mass(prepared.image)
    columns = st.columns(3)
    columns[0].image(step_picture(prepared.ink[top:bottom, left:right]), width=STEP_PX,
                     caption=f"1. Crop to the ink: {bottom - top}x{right - left} pixels")
    columns[1].image(step_picture(prepared.fitted), width=STEP_PX,
                     caption="2. Fit in 20x20, keeping the shape: {}x{}".format(*prepared.fitted.shape))
    columns[2].image(step_picture(prepared.image), width=STEP_PX,
                     caption=f"3. Centre of mass to (14, 14) in 28x28: now ({row:.1f}, {column:.1f})")


def mnist_view_panel(image: np.ndarray, prepared: preprocess.PreparedDigit | None, description: str) -> None:
    """The digit as MNIST and the network see it: 28x28 numbers in [0, 1], drawn with the tutorial's Greys."""
    st.subheader("As MNIST sees it")
    st.plotly_chart(image_grid(image[None], [f"28x28, {description}"], columns=1, zmin=0, zmax=1, tile_px=280),
                    key="draw_mnist_view")
    st.markdown(f"Shape {shape_text((1, 28, 28, 1))}: one image, 28 rows, 28 columns, 1 channel, as in "
                "`img.reshape(-1, 28, 28, 1)`. Each number is how much ink the pixel holds, from 0 (white "
                f"here, as in `cmap='Greys'`) to 1 (black). {np.count_nonzero(image > 0.05)} of 784 pixels "
                "hold ink.")
    if prepared is not None:
        with st.expander("How your picture became 28x28 (MNIST's own recipe)", expanded=False):
            preparation_steps(prepared)


def conv_controls(probe: ModelProbe | str | None) -> tuple[np.ndarray, str]:
    """Filter choices; returns the filters (k, k, 1, F) and a sentence saying where they came from."""
    trained = probe.first_layer_filters() if isinstance(probe, ModelProbe) else None
    if trained is not None:
        st.radio("Filter weights", [RANDOM_FILTERS, TRAINED_FILTERS], key="draw_filter_source", horizontal=True)
    use_trained = trained is not None and st.session_state["draw_filter_source"] == TRAINED_FILTERS
    columns = st.columns(6, vertical_alignment="bottom")
    count = columns[0].slider("Number of filters", 1, 8, key="draw_filter_count")
    kernel = columns[1].select_slider("Kernel size", [1, 2, 3, 4, 5, 7], key="draw_kernel_size",
                                      disabled=use_trained)
    columns[2].slider("Stride", 1, 4, key="draw_conv_stride")
    columns[3].radio("Padding", PADDING_OPTIONS, key="draw_conv_padding", horizontal=True)
    seed = columns[4].number_input("Seed", 0, 2**31 - 1, key="draw_seed", disabled=use_trained)
    columns[5].button("New random filters", key="draw_new_filters", on_click=new_random_filters,
                      disabled=use_trained, icon=":material/refresh:")
    if use_trained:
        count = min(count, trained.shape[3])
        return trained[:, :, :, :count], (f"The first {count} of conv1's {trained.shape[3]} trained 3x3 filters "
                                          f"of the model **{st.session_state['draw_model']}**, without its bias "
                                          "and ReLU as in the tutorial's section 2.2 (section 4 shows conv1 whole).")
    return features.random_filters(count, kernel, seed), (
        f"`tf.random_normal([{kernel}, {kernel}, 1, {count}], stddev=1)` with seed {seed}: random numbers, "
        "so the maps show random mixtures of edges; a trained network learns its filters.")


def conv_panel(image: np.ndarray, probe: ModelProbe | str | None) -> TutorialSteps | None:
    """Section 2.2's convolution: the filters, the feature maps after swapaxes, and the shapes on the way."""
    st.header("2. Convolution")
    filters, origin = conv_controls(probe)
    st.caption(origin)
    try:
        steps = features.tutorial_conv(image, filters, st.session_state["draw_conv_stride"],
                                       st.session_state["draw_conv_padding"])
    except ValueError as error:
        st.error(str(error))
        return None
    stride, padding = st.session_state["draw_conv_stride"], st.session_state["draw_conv_padding"]
    st.markdown(f"`conv2d = tf.nn.conv2d(img, W1, strides=[1, {stride}, {stride}, 1], padding='{padding}')`  \n"
                f"{steps.conv_shapes()}")
    st.plotly_chart(draw_filter_grid(steps.filters, MAP_COLUMNS, MAP_TILE_PX), key="draw_filters", width="content")
    st.caption(f"The filters {shape_text(steps.filters.shape)}, each above its feature map: red weights add ink, "
               "blue ones subtract it.")
    maps = steps.conv_maps
    st.plotly_chart(draw_map_grid(maps, "feature map", MAP_COLUMNS, MAP_TILE_PX), key="draw_conv_maps", width="content")
    st.caption(f"After `np.swapaxes(conv2d_img, 0, 3)`: {len(maps)} pictures of {maps.shape[1]}x{maps.shape[2]}, "
               "one per filter. Dark means a large sum: where the filter's pattern matches your strokes.")
    return steps


def pool_panel(steps: TutorialSteps) -> None:
    """Section 2.2's max-pool of the feature maps: smaller and blurrier, the strongest response in each window."""
    st.header("3. Max-pool")
    columns = st.columns(3)
    size = columns[0].slider("Window", 1, 4, key="draw_pool_size")
    stride = columns[1].slider("Stride", 1, 4, key="draw_pool_stride")
    padding = columns[2].radio("Padding", PADDING_OPTIONS, key="draw_pool_padding", horizontal=True)
    try:
        steps = steps.pooled(size, stride, padding)
    except ValueError as error:
        st.error(str(error))
        return
    st.markdown(f"`pool = tf.nn.max_pool(conv2d, ksize=[1, {size}, {size}, 1], strides=[1, {stride}, {stride}, 1], "
                f"padding='{padding}')`  \n{steps.pool_shapes()}")
    maps = steps.pool_maps
    st.plotly_chart(draw_map_grid(maps, "pooled map", MAP_COLUMNS, MAP_TILE_PX), key="draw_pool_maps", width="content")
    st.caption(f"Each {size}x{size} window keeps only its largest number, so the maps shrink to "
               f"{maps.shape[1]}x{maps.shape[2]} and look blurrier, while the strongest responses survive.")


def model_label(model: SavedModel) -> str:
    """A model's name with its test accuracy and when it was saved, for the model chooser."""
    accuracy = model.metadata.get("test_accuracy")
    accuracy_text = f", test accuracy {accuracy:.1%}" if isinstance(accuracy, (int, float)) else ""
    saved = datetime.fromtimestamp(model.modified).strftime("%Y-%m-%d %H:%M")
    return f"{model.name} ({saved}{accuracy_text})"


def prediction_view(reading: ModelReading) -> None:
    """The answer in words, and all ten probabilities."""
    left, right = st.columns([1, 2])
    left.subheader(f"Prediction: {reading.prediction}")
    left.markdown(f"with probability **{reading.confidence:.1%}** (softmax of the logits).")
    right.plotly_chart(draw_probability_bars(reading.probabilities), key="draw_probabilities")


LAYER_NOTES = {
    "conv": "3x3 filters, plus bias, then ReLU (negative sums become 0, white)",
    "pool": "2x2 max-pool, stride 2",
    "flatten": "pool2's maps read out as one row of numbers, for the dense layers",
    "dropout": "switched off when predicting: its output equals its input",
    "dense": "every unit sums all the previous layer's numbers, then ReLU",
    "logits": "one score per digit; softmax turns them into the probabilities above",
}


def layer_view(name: str, values: np.ndarray, prediction: int) -> None:
    """One layer's output: maps as a mosaic, vectors as bars (the predicted logit in red), pass-throughs as a line."""
    kind = next((prefix for prefix in LAYER_NOTES if name.startswith(prefix)), None)
    note = f": {LAYER_NOTES[kind]}" if kind else ""
    st.markdown(f"**{name}** {shape_text((1, *values.shape))}{note}.")
    if kind in ("flatten", "dropout"):
        return
    if values.ndim == 3:
        st.plotly_chart(image_grid(np.moveaxis(values, -1, 0), columns=LAYER_COLUMNS, tile_px=LAYER_TILE_PX,
                                   hover_name="map"), key=f"draw_layer_{name}")
    elif values.ndim == 1:
        highlight = prediction if kind == "logits" else None
        st.plotly_chart(draw_unit_bars(values, highlight), key=f"draw_layer_{name}")


def model_panel(image: np.ndarray, models: list[SavedModel], probe: ModelProbe | str | None) -> None:
    """A trained network on this digit: choose the model, see its answer and every layer's output."""
    st.header("4. What a trained network sees")
    if not models:
        st.info("No trained model yet. Train the tutorial's network first (about a minute); it is saved and then "
                "appears here with its prediction for your digit.", icon=":material/info:")
        st.page_link("pages/train.py", label="Go to the Train page", icon=":material/model_training:")
        return
    labels = {model.name: model_label(model) for model in models}
    st.selectbox("Model (newest first)", list(labels), format_func=labels.get, key="draw_model")
    if isinstance(probe, str):
        st.error(probe)
        return
    reading = probe.read(image)
    prediction_view(reading)
    st.caption("Every layer's output for your digit, from the input to the logits (hover for map and unit numbers).")
    for name, values in reading.activations.items():
        layer_view(name, values, reading.prediction)


def intro_panel() -> None:
    """What this page shows, in the tutorial's terms."""
    st.title("Draw a digit")
    st.markdown("Draw a digit (or pick one from MNIST, or upload a photo) and watch the tutorial's section 2.2 "
                "happen to it: a convolution with random filters, `np.swapaxes` to show each feature map as its "
                "own picture, and a max-pool. Then see what a trained network makes of it, layer by layer.")


def digit_panel() -> tuple[np.ndarray | None, preprocess.PreparedDigit | None, str]:
    """The input on the left and, once there is a digit, the 28x28 image MNIST would make of it on the right."""
    st.header("1. Your digit")
    input_column, view_column = st.columns(2, gap="large")
    with input_column:
        image, prepared, description = input_panel()
    with view_column:
        if image is None:
            st.info("Draw a digit on the black canvas, choose an MNIST sample or upload a picture of one digit to "
                    "see it as MNIST sees it, then follow it through the tutorial's convolution and max-pool.",
                    icon=":material/draw:")
        else:
            mnist_view_panel(image, prepared, description)
    return image, prepared, description


models = list_models()
init_state(models)
intro_panel()
image, prepared, description = digit_panel()
if image is not None:
    probe = probe_or_error(chosen_model(models))  # after the canvas, so it shows while TensorFlow first loads
    steps = conv_panel(image, probe)
    if steps is not None:
        pool_panel(steps)
    model_panel(image, models, probe)
