"""The Draw a digit page: AppTest for its logic (MNIST sample input, controls, models), Chromium for a drawn digit."""

from pathlib import Path

import numpy as np
import pytest
from conftest import APP_PATH, open_app_page, separate_tabs, wait_until_idle
from streamlit.testing.v1 import AppTest
from test_pages import browser_trouble, page_trouble

from cnnlib.mnist.data import load_mnist
from cnnlib.store import saved as saved_models
from cnnlib.text import t

TINY_MODEL = "draw_test_tiny"
SEVEN = [(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]  # a "7" as fractions of the canvas


@pytest.fixture(scope="module")
def tiny_model(models_dir: Path) -> saved_models.SavedModel:
    """A small network trained for one epoch on 600 offline digits (a few seconds), saved where the app looks."""
    from cnnlib.mnist.data import load_mnist
    from cnnlib.network.architecture import Hyperparameters, build_model, one_hot

    data = load_mnist("offline")
    model = build_model(Hyperparameters(epochs=1, conv1_filters=8, conv2_filters=8, dense_units=32))
    model.fit(data.x_train[:600, :, :, None] / 255.0, one_hot(data.y_train[:600]), epochs=1, batch_size=50, verbose=0)
    return saved_models.save_model(model, TINY_MODEL, {"test_accuracy": 0.5, "data_source": "offline"}, models_dir)


def draw_page(models_folder: Path, monkeypatch) -> AppTest:
    """The app switched to the Draw page, reading models from ``models_folder``, with an MNIST sample as input."""
    monkeypatch.setenv(saved_models.MODELS_DIR_ENV, str(models_folder))
    at = AppTest.from_file(APP_PATH, default_timeout=60).run()
    at.switch_page("pages/draw_digit.py").run()
    assert not page_trouble(at), page_trouble(at)
    at.segmented_control(key="draw_source").set_value("sample").run()
    assert not page_trouble(at), page_trouble(at)
    return at


def markdown_text(at: AppTest) -> str:
    """All Markdown on the page, joined."""
    return "\n".join(element.value for element in at.markdown)


def test_sample_digit_goes_through_conv_and_pool_with_no_model(tmp_path, monkeypatch):
    at = draw_page(tmp_path, monkeypatch)
    text = markdown_text(at)
    assert "`(1, 28, 28, 1)` ⊛ `(3, 3, 1, 5)` → `(1, 14, 14, 5)` → swapaxes → `(5, 14, 14, 1)`" in text
    assert "`(1, 14, 14, 5)` → max-pool → `(1, 7, 7, 5)` → swapaxes → `(5, 7, 7, 1)`" in text
    assert len(at.get("plotly_chart")) == 1  # the filters
    assert len(at.get("image")) == 3  # the 28x28 digit, the conv maps and the pooled maps, each one picture
    assert "No trained model yet" in at.info[0].value
    assert at.get("page_link")[0].proto.page.endswith("train")  # the hint links to the Train page
    assert not at.error


def test_an_empty_canvas_keeps_the_panels_and_says_to_draw(tmp_path, monkeypatch):
    at = draw_page(tmp_path, monkeypatch)
    at.segmented_control(key="draw_source").set_value("draw").run()  # nothing drawn yet
    assert not page_trouble(at), page_trouble(at)
    assert [header.value for header in at.header] == [t(f"draw.{part}.header") for part in ("digit", "conv", "pool",
                                                                                          "model")]
    assert at.info[0].value == t("draw.digit.empty") and not at.get("image")  # the places wait for a digit


def test_conv_controls_change_the_shapes(tmp_path, monkeypatch):
    at = draw_page(tmp_path, monkeypatch)
    at.slider(key="draw_filter_count").set_value(8)
    at.select_slider(key="draw_kernel_size").set_value(5)
    at.slider(key="draw_conv_stride").set_value(1)
    at.radio(key="draw_conv_padding").set_value("VALID").run()
    chain = "`(1, 28, 28, 1)` ⊛ `(5, 5, 1, 8)` → `(1, 24, 24, 8)` → swapaxes → `(8, 24, 24, 1)`"
    assert chain in markdown_text(at)
    seed = at.number_input(key="draw_seed").value
    at.button(key="draw_new_filters").click().run()
    assert not page_trouble(at) and at.number_input(key="draw_seed").value == seed + 1


def test_settings_survive_while_there_is_no_digit(tmp_path, monkeypatch):
    at = draw_page(tmp_path, monkeypatch)
    at.slider(key="draw_conv_stride").set_value(1).run()
    at.segmented_control(key="draw_source").set_value("upload").run()  # no file: no conv controls
    assert not at.get("plotly_chart")
    at.segmented_control(key="draw_source").set_value("sample").run()
    assert at.slider(key="draw_conv_stride").value == 1


def test_trained_model_predicts_and_lends_its_filters(tiny_model, monkeypatch):
    at = draw_page(tiny_model.path.parent, monkeypatch)
    at.selectbox(key="draw_model").set_value(TINY_MODEL).run()
    assert not page_trouble(at) and not at.error
    assert any(header.value.startswith("Prediction: ") for header in at.subheader)
    text = markdown_text(at)
    for layer in ("conv1", "pool1", "conv2", "pool2", "flatten", "dense1", "dense2", "logits"):
        assert f"**{layer}**" in text
    assert "**conv2** `(1, 14, 14, 8)`" in text
    at.radio(key="draw_filter_source").set_value("trained").run()
    assert any(f"of the model **{TINY_MODEL}**" in caption.value for caption in at.caption)


def test_damaged_model_file_shows_an_error_not_a_traceback(tmp_path, monkeypatch):
    (tmp_path / "broken.keras").write_bytes(b"definitely not a zip archive")
    at = draw_page(tmp_path, monkeypatch)
    assert not page_trouble(at), page_trouble(at)
    assert "broken.keras could not be loaded" in at.error[0].value
    assert len(at.get("plotly_chart")) == 1 and len(at.get("image")) == 3  # the tutorial's steps still show


@pytest.mark.page_bug
@pytest.mark.parametrize("failure", ["refusal", "bug"])
def test_a_refusal_is_its_sentence_and_a_bug_a_reference_with_the_rest_of_the_page_kept(failure, tmp_path,
                                                                                         monkeypatch, caplog):
    from cnnlib.errors import Refusal
    from cnnlib.lessons.draw import steps as draw_steps

    def conv(*args):
        if failure == "refusal":
            raise Refusal("draw.error.filter_does_not_fit", size=9, height=7, width=7)
        raise ValueError("operands could not be broadcast together with shapes (1,28,28,1) (9,9,1,5)")

    at = draw_page(tmp_path, monkeypatch)
    monkeypatch.setattr(draw_steps, "tutorial_conv", conv)
    at.run()
    [error] = at.error
    if failure == "refusal":
        assert error.value == "With VALID padding a 9x9 filter does not fit a 7x7 input: choose SAME padding or a " \
                              "smaller size." and not caplog.records
    else:
        assert page_trouble(at) == [error.value] and "broadcast" not in error.value
        assert any("broadcast" in str(record.exc_info[1]) for record in caplog.records)  # the server's log has it
    assert [header.value for header in at.header] == [t(f"draw.{part}.header") for part in ("digit", "conv", "model")]
    assert len(at.get("image")) == 1 and "No trained model yet" in at.info[0].value  # the digit, the hint


def test_drawn_pixels_go_through_with_the_recipe_pictures_made_only_when_opened(tmp_path, monkeypatch):
    from PIL import Image, ImageDraw

    canvas = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    ImageDraw.Draw(canvas).line([(70, 56), (210, 56), (126, 238)], fill=(255, 255, 255, 255), width=18)
    monkeypatch.setenv(saved_models.MODELS_DIR_ENV, str(tmp_path))
    at = AppTest.from_file(APP_PATH, default_timeout=60).run()
    at.switch_page("pages/draw_digit.py").run()
    at.session_state["draw_pixels"] = np.asarray(canvas)  # what the canvas's last stroke left
    at.run()
    assert not page_trouble(at), page_trouble(at)
    assert "of 784 pixels hold ink" in markdown_text(at) and len(at.get("plotly_chart")) == 1
    assert [expander.label for expander in at.expander] == ["How your picture became 28x28 (MNIST's own recipe)"]
    assert len(at.get("image")) == 3  # the digit, the conv and pooled maps; the recipe is closed: not made


def draw_stroke(page, points) -> None:
    """Drag the mouse through ``points`` (fractions of the canvas) on the drawing canvas, in small steps."""
    canvas = page.locator("canvas.digit-canvas")
    canvas.wait_for()
    box = canvas.bounding_box()
    xy = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*xy[0])
    page.mouse.down()
    for x, y in xy[1:]:
        page.mouse.move(x, y, steps=12)
    page.mouse.up()


@pytest.mark.browser
def test_drawn_digit_shows_preview_feature_maps_and_prediction(page, app_url, tiny_model):
    open_app_page(page, app_url, "draw_digit")
    draw_stroke(page, SEVEN)
    page.get_by_text("Prediction:").wait_for(timeout=60_000)  # the first stroke also loads TensorFlow
    wait_until_idle(page, timeout_ms=60_000)
    page.locator(".st-key-draw_mnist_view").get_by_text("28x28, draw").wait_for()
    conv_maps = page.locator(".st-key-draw_conv_maps")
    conv_maps.locator("img").wait_for()  # the feature maps, one picture
    conv_maps.get_by_text("Inspect values").click()  # their chart, whose hover gives each value
    conv_maps.get_by_text("feature map 4").wait_for()
    assert conv_maps.get_by_text("feature map 5").count() == 0
    assert not browser_trouble(page), browser_trouble(page)
    assert np.isfinite(float(page.get_by_text("with probability").inner_text().split()[2].rstrip("%.")))


INK_JS = """canvas => {  // how many of the canvas's pixels hold ink
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let ink = 0; for (let i = 0; i < pixels.length; i += 4) { if (pixels[i] > 128) ink++; } return ink; }"""


def ink_sentence(page) -> str:
    """The preview's "N of 784 pixels hold ink" sentence, once the page is idle."""
    wait_until_idle(page)
    return page.get_by_text("pixels hold ink").inner_text().split(". ")[-1]


@pytest.mark.browser
def test_the_canvas_is_sharp_on_a_dense_screen_and_sends_the_plain_screens_picture(browser, page, app_url):
    """On a screen of two pixels per CSS pixel the canvas holds 560x560 pixels in its 280x280 box (a pixel for each
    of the screen's), and the digit the page reads from it is the one a plain screen's canvas gives."""
    open_app_page(page, app_url, "draw_digit")
    draw_stroke(page, SEVEN)
    page.get_by_text("28x28, draw").wait_for(timeout=60_000)
    assert page.locator("canvas.digit-canvas").evaluate("canvas => canvas.width") == 280
    with separate_tabs(browser, 1, device_scale_factor=2) as [dense]:
        open_app_page(dense, app_url, "draw_digit")
        draw_stroke(dense, SEVEN)
        dense.get_by_text("28x28, draw").wait_for(timeout=60_000)
        canvas = dense.locator("canvas.digit-canvas")
        assert canvas.evaluate("canvas => [canvas.width, canvas.height]") == [560, 560]
        assert canvas.bounding_box()["width"] == 280
        assert canvas.evaluate(INK_JS) > 4 * 100  # its ink drawn at the screen's density
        assert ink_sentence(dense) == ink_sentence(page)
        assert not browser_trouble(dense), browser_trouble(dense)


@pytest.mark.browser
def test_the_drawing_survives_another_input_and_another_page(page, app_url):
    sidebar = page.locator('[data-testid="stSidebarNav"]')
    open_app_page(page, app_url, "draw_digit")
    draw_stroke(page, SEVEN)
    page.get_by_text("28x28, draw").wait_for(timeout=60_000)
    drawn = ink_sentence(page)
    page.get_by_text("MNIST sample", exact=True).click()
    assert ink_sentence(page) != drawn  # the sample is shown instead
    page.get_by_text("Draw", exact=True).first.click()
    page.get_by_text("28x28, draw").wait_for()
    assert ink_sentence(page) == drawn
    sidebar.get_by_text("Home", exact=True).click()
    wait_until_idle(page)
    sidebar.get_by_text("Draw a digit", exact=True).click()
    page.get_by_text("28x28, draw").wait_for()
    assert ink_sentence(page) == drawn
    assert page.locator("canvas.digit-canvas").evaluate(INK_JS) > 100  # the canvas drew its strokes again
    draw_stroke(page, [(0.2, 0.8), (0.8, 0.8)])
    page.wait_for_function(f"() => !document.body.innerText.includes({drawn!r})")
    page.locator('button[data-action="undo"]').click()  # back to the drawing it came back with
    page.wait_for_function(f"() => document.body.innerText.includes({drawn!r})")
    page.locator('button[data-action="clear"]').click()  # the bin
    page.get_by_text(t("draw.digit.empty")).wait_for()
    assert page.locator("canvas.digit-canvas").evaluate(INK_JS) == 0
    assert not browser_trouble(page), browser_trouble(page)


def test_image_grid_tiles_every_map_in_one_heatmap_with_its_index_and_title():
    from cnnlib.figures.grids import image_grid

    maps = np.arange(5 * 2 * 3, dtype=np.float32).reshape(5, 2, 3)  # 5 maps of 2x3
    figure = image_grid(maps, [f"map {m}" for m in range(5)], columns=4, tile_px=40)
    heatmap = figure.data[0]
    z, index = np.asarray(heatmap.z, dtype=np.float64), np.asarray(heatmap.customdata)
    assert len(figure.data) == 1 and [a.text for a in figure.layout.annotations] == [f"map {m}" for m in range(5)]
    band, gap = 2, 1  # at 40 / (3 + 1) = 10 screen pixels per map pixel: a 20-pixel title band, a 10-pixel gap
    assert z.shape == (2 * (band + 2), 4 * (3 + gap) - gap)
    top = band + 2 + band  # map 4 starts the second row
    np.testing.assert_array_equal(z[top:top + 2, 0:3], maps[4])
    assert (index[top:top + 2, 0:3] == 4).all() and np.isnan(z[:, 3]).all()
    assert figure.layout.width == 4 * 40 - 10  # columns start every 40 pixels; no gap after the last


def plotted(figure) -> dict:
    """A figure as the browser gets it (its JSON), less the template, which validation fills in its own way."""
    import json

    import plotly.io

    spec = json.loads(plotly.io.to_json(figure.to_dict(), validate=False))
    spec["layout"].pop("template", None)
    return spec


def draw_figures() -> dict:
    """Every kind of figure the Draw page shows, for one random digit and a small trained-looking reading."""
    from cnnlib.network import layers as network_layers
    from cnnlib.network import ops
    from cnnlib.network import reader
    from cnnlib.lessons.draw import steps as draw_steps
    from cnnlib.lessons.draw import figures

    rng = np.random.default_rng(0)
    image = rng.random((28, 28), dtype=np.float32)
    steps = draw_steps.tutorial_steps(image, draw_steps.random_filters())
    reading = reader.ModelReading({"conv1": rng.random((28, 28, 32), dtype=np.float32),
                                     "dense1": rng.random(256, dtype=np.float32), "logits": rng.random(10)},
                                    ops.softmax(rng.random(10)), {"conv1": "conv", "dense1": "dense",
                                                                       "logits": "logits"})
    return {"digit": figures.digit_figure(image, "draw"), "filters": figures.filter_grid_figure(steps.filters),
            "conv": figures.map_grid_figure(steps.conv_maps, "conv"),
            "pool": figures.map_grid_figure(steps.pool_maps, "pool"),
            "probabilities": figures.probability_figure(reading.probabilities),
            **{name: figures.layer_figure(reading, name) for name in reading.activations}}


@pytest.mark.parametrize("name", ["digit", "filters", "conv", "pool", "probabilities", "conv1", "dense1", "logits"])
def test_unvalidated_figures_are_what_plotly_validation_makes_of_them(name):
    import plotly.graph_objects as go

    figure = draw_figures()[name]
    assert plotted(figure) == plotted(go.Figure(figure.to_dict())), "a key or value plotly would change or refuse"


def test_mosaic_tiles_maps_under_their_titles_with_their_numbers_for_hover():
    from cnnlib.lessons.draw.figures import map_grid_figure

    maps = np.arange(10 * 2 * 3, dtype=np.float32).reshape(10, 2, 3)  # 10 maps of 2x3, 8 to a row
    figure = map_grid_figure(maps, "conv")
    heatmap = figure.data[0]
    z, numbers = np.asarray(heatmap.z, dtype=np.float64), np.asarray(heatmap.customdata)
    band, gap = 1, 1  # at 120 / (3 + 1) = 30 screen pixels per map pixel: a 20-pixel title band, a 4-pixel gap
    assert z.shape == (2 * (band + 2), 8 * (3 + gap) - gap)
    top, left = band + 2 + band, 1 * (3 + gap)  # map 9: second row, second column
    np.testing.assert_array_equal(z[top:top + 2, left:left + 3], maps[9])
    assert (numbers[top:top + 2, left:left + 3] == 9).all() and np.isnan(z[:, 3]).all() and np.isnan(z[:band]).all()
    assert [a.text for a in figure.layout.annotations] == [f"feature map {m}" for m in range(10)]
    assert figure.layout.annotations[9].x == left + 1 and heatmap.hovertemplate.startswith("feature map %{customdata}")
    assert figure.layout.width == 8 * 120 - 30  # columns start every 120 pixels; no gap after the last


def test_filters_share_one_symmetric_scale_and_layers_pick_their_figure():
    from cnnlib.lessons.draw import figures

    filters = np.zeros((3, 3, 1, 2), np.float32)
    filters[0, 0, 0, 1] = -4.0
    heatmap = figures.filter_grid_figure(filters).data[0]
    assert (heatmap.zmin, heatmap.zmax) == (-4.0, 4.0)
    made = draw_figures()
    assert made["conv1"].data[0].type == "heatmap" and made["dense1"].data[0].type == "bar"
    colors = made["logits"].data[0].marker.color  # the predicted digit's logit in red
    assert colors.count(figures.WINNER_COLOR) == 1 and len(colors) == 10
    assert made["dense1"].data[0].marker.color == figures.BAR_COLOR  # one colour for all, no red
    reading = features_reading_with({"flat": "flatten", "drop": "dropout"})
    assert figures.layer_figure(reading, "flat") is None and figures.layer_figure(reading, "drop") is None


def features_reading_with(kinds: dict[str, str]):
    """A reading whose layers all hold 10 numbers, of the given kinds."""
    from cnnlib.network import layers as network_layers
    from cnnlib.network import ops
    from cnnlib.network import reader
    from cnnlib.lessons.draw import steps as draw_steps

    return reader.ModelReading({name: np.zeros(10) for name in kinds}, np.full(10, 0.1), kinds)


def test_step_pictures_are_square_dark_ink_on_white():
    from cnnlib.lessons.draw.figures import step_picture

    bar = np.ones((4, 2), np.float32)  # white ink, 4 high and 2 wide
    picture = step_picture(bar, size=8)
    assert picture.shape == (8, 8)
    np.testing.assert_array_equal(picture[:, 2:6], 0.0)  # ink, centred, is black
    np.testing.assert_array_equal(picture[:, [0, 1, 6, 7]], 1.0)  # the padding is white


def keras_bytes(model, folder: Path) -> bytes:
    """``model`` as the ``.keras`` file a learner would upload."""
    path = folder / "upload.keras"
    model.save(path)
    return path.read_bytes()


def every_kind_model():
    """One network with every layer kind the Draw page reads, from a flat (28, 28) input to softmax."""
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input(shape=(28, 28)), layers.Rescaling(2.0, offset=-1.0), layers.Reshape((28, 28, 1)),
        layers.Conv2D(3, (5, 3), strides=(2, 1), padding="same", activation="tanh"), layers.BatchNormalization(),
        layers.ReLU(), layers.AveragePooling2D(2), layers.Conv2D(4, 3, activation="sigmoid"),
        layers.MaxPooling2D(2, padding="same"), layers.Activation("relu"), layers.Dropout(0.2),
        layers.GlobalAveragePooling2D(), layers.Dense(10, activation="softmax")])


@pytest.mark.parametrize("kind", ["conv 5x3 stride (2, 1) same sigmoid", "average pool 3 same", "batch norm",
                                  "global max", "activation layers", "rescaling", "reshape from (28, 28)",
                                  "flat (28, 28) input, dense softmax", "dropout"])
def test_an_uploaded_model_of_each_layer_kind_is_kept_and_read(kind, tmp_path):
    from test_features import keras_layers_by_kind

    from cnnlib.network import layers as network_layers

    from cnnlib.network import ops

    from cnnlib.network import reader

    from cnnlib.lessons.draw import steps as draw_steps
    from cnnlib.store.exchange import accept_upload

    model = keras_layers_by_kind()[kind]()
    kept = accept_upload(keras_bytes(model, tmp_path), f"{kind}.keras", tmp_path)
    reading = reader.ModelProbe(saved_models.load_model(kept)).read(np.ones((28, 28), np.float32) / 2)
    assert reading.probabilities.shape == (10,) and reading.probabilities.sum() == pytest.approx(1.0, abs=1e-5)


def upload_model(at: AppTest, name: str, data: bytes) -> AppTest:
    """Upload ``data`` as ``name`` through the Draw page's model uploader."""
    return at.file_uploader(key="draw_model_upload").upload(name, data).run()


def test_a_model_uploaded_on_the_draw_page_is_chosen_and_read_layer_by_layer(tmp_path, monkeypatch):
    at = draw_page(tmp_path / "models", monkeypatch)
    upload_model(at, "my net (1).keras", keras_bytes(every_kind_model(), tmp_path))
    assert not page_trouble(at) and not at.error
    assert at.selectbox(key="draw_model").value == "my-net-1"
    assert (tmp_path / "models" / "my-net-1.keras").is_file()
    text = markdown_text(at)
    assert "one probability per digit: the layer applies softmax itself" in text
    assert "5x3 filters, stride 2x1, SAME padding, plus bias, then tanh" in text
    assert any(header.value.startswith("Prediction: ") for header in at.subheader)
    assert any("No epoch replay for this model" in caption.value for caption in at.caption)


def test_refused_uploads_on_the_draw_page_are_one_sentence(tmp_path, monkeypatch):
    import keras

    from cnnlib.store.exchange import MAX_MODEL_UPLOAD_BYTES

    at = draw_page(tmp_path / "models", monkeypatch)
    norm = keras.Sequential([keras.Input(shape=(28, 28, 1)), keras.layers.LayerNormalization(name="ln"),
                             keras.layers.Flatten(), keras.layers.Dense(10)])
    refusals = {"norm.keras": (keras_bytes(norm, tmp_path), "ln (LayerNormalization)"),
                "notes.keras": (b"not a model at all", "is not a Keras model"),
                "huge.keras": (b"0" * (MAX_MODEL_UPLOAD_BYTES + 1), "huge.keras")}
    for name, (data, named) in refusals.items():
        upload_model(at, name, data)
        assert not page_trouble(at), name
        assert len(at.error) == 1 and named in at.error[0].value and "Traceback" not in at.error[0].value, name
    assert not list((tmp_path / "models").glob("*.keras"))


def test_a_model_the_draw_page_cannot_follow_is_named_in_a_sentence(tmp_path, monkeypatch):
    import keras

    from cnnlib.network import layers as network_layers

    from cnnlib.network import ops

    from cnnlib.network import reader

    from cnnlib.lessons.draw import steps as draw_steps

    dilated = keras.Sequential([keras.Input(shape=(28, 28, 1)), keras.layers.Conv2D(2, 3, dilation_rate=2,
                                                                                     name="wide"),
                                keras.layers.Flatten(), keras.layers.Dense(10)])
    at = upload_model(draw_page(tmp_path / "models", monkeypatch), "dilated.keras", keras_bytes(dilated, tmp_path))
    assert not page_trouble(at), page_trouble(at)
    with pytest.raises(network_layers.UnreadableModel) as refused:
        reader.ModelProbe(dilated)
    assert [error.value for error in at.error] == [str(refused.value)]
    assert "cannot read: wide (Conv2D). It reads Conv2D" in at.error[0].value


def replayable_model(folder: Path) -> saved_models.SavedModel:
    """The tutorial's network, small, saved with 4 states (epochs 0..3) of made-up weights and accuracies."""
    from cnnlib.network.architecture import Hyperparameters, build_model
    from cnnlib.network.snapshots import EpochSnapshots, save_snapshots

    model = build_model(Hyperparameters(conv1_filters=4, conv2_filters=4, dense_units=8))
    rng = np.random.default_rng(0)
    states = [[rng.normal(0, 0.3, w.shape).astype(np.float32) for w in model.get_weights()] for _ in range(3)]
    accuracies = [0.1, 0.5, 0.8, 0.9]
    saved = saved_models.save_model(model, "replayed", {"epoch_test_accuracies": accuracies}, folder)
    save_snapshots(saved.path, EpochSnapshots(states + [model.get_weights()], accuracies))
    return saved


def test_the_epoch_slider_replays_the_network_epoch_by_epoch(tmp_path, monkeypatch):
    replayable_model(tmp_path)
    at = draw_page(tmp_path, monkeypatch)
    slider = at.select_slider(key="draw_epoch")
    assert slider.value == 3 and slider.options == ["epoch 0 (10.0%)", "epoch 1 (50.0%)", "epoch 2 (80.0%)",
                                                      "epoch 3 (90.0%)"]
    answers = {}
    for epoch in (3, 0, 1):
        at.select_slider(key="draw_epoch").set_value(epoch).run()
        assert not page_trouble(at), page_trouble(at)
        assert any(caption.value.startswith(f"Epoch {epoch} of 3:") for caption in at.caption)
        answers[epoch] = [chart.proto.spec for chart in at.get("plotly_chart")] + [str(image.proto)
                                                                                   for image in at.get("image")]
    assert answers[0] != answers[3] and answers[1] != answers[0]  # maps, filters and probabilities follow


@pytest.mark.browser
def test_the_epoch_slider_moves_the_network_back_in_chromium(page, app_url, models_dir):
    """An MNIST sample and a replayable model: the slider's Home key shows the network as initialised."""
    replayable_model(models_dir)
    open_app_page(page, app_url, "draw_digit")
    page.get_by_text("MNIST sample", exact=True).click()
    wait_until_idle(page, timeout_ms=60_000)
    page.locator(".st-key-draw_model").wait_for(timeout=60_000)  # the newest model, the replayable one, is chosen
    page.get_by_text("Epoch 3 of 3:").wait_for(timeout=60_000)
    page.locator('.st-key-draw_epoch input[type="range"]').press("Home")
    page.get_by_text("Epoch 0 of 3:").wait_for(timeout=30_000)
    wait_until_idle(page)
    assert page.locator(".st-key-draw_epoch_filters .js-plotly-plot").count() == 1
    assert not browser_trouble(page), browser_trouble(page)


def test_a_sample_comes_from_the_training_or_the_test_digits_with_its_index_kept_in_range(tmp_path, monkeypatch):
    from pages.parts.state import DIGIT

    at = draw_page(tmp_path, monkeypatch)
    at.number_input(key="draw_sample_index").set_value(3999).run()
    at.segmented_control(key="draw_sample_split").set_value("test").run()  # the offline subset: 1,000 test digits
    assert not page_trouble(at) and at.number_input(key="draw_sample_index").value == 999
    data = load_mnist("offline")
    assert np.array_equal(at.session_state[DIGIT], data.x_test[999] / np.float32(255))
    assert at.number_input(key="draw_sample_index").label == "Index into x_test (0 to 999)"
