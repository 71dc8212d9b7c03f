"""The Train page's "Design the network" panel: in AppTest a learner adds a layer, changes a setting, makes an
impossible design (its sentence, Start off), mends it and starts the run, which carries the design; in Chromium a
layer added in the designer is trained for one epoch on the offline subset and the model is saved with it."""

import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from conftest import keyed_button, open_app_page, running_app, wait_until_idle
from streamlit.testing.v1 import AppTest
from test_pages import browser_trouble
from test_train_page import train_page  # noqa: F401 - the fixture: the Train page in AppTest

from cnnlib.network.design import design_text, parse_design, traced_design, tutorial_design
from cnnlib.store.saved import list_models
from cnnlib.training.config import PRESETS, Preset

FAST = PRESETS[Preset.FAST]
RUN_TIMEOUT_MS = 240_000


def layers(at: AppTest) -> str:
    """The design the recipe holds ("" while it is the tutorial's network of the chosen sizes)."""
    return at.session_state["train_layers"]


def drawn(at: AppTest, key: str) -> bool:
    """Whether the button ``key`` is on the page."""
    return any(button.key == key for button in at.button)


def metric(at: AppTest, label: str) -> str:
    return next(item.value for item in at.metric if item.label == label)


@pytest.fixture
def designer(train_page) -> AppTest:
    """The Train page with the designer's toggle on (its rows are drawn only then)."""
    assert not drawn(train_page, "train_design_add")  # closed at first
    return train_page.toggle(key="train_design_open").set_value(True).run()


def test_a_design_is_edited_refused_mended_and_trained(designer, fake_server):
    at = designer
    assert layers(at) == "" and at.button(key="train_design_back").disabled
    assert metric(at, "Parameters") == f"{traced_design(tutorial_design(FAST)).parameters:,}"

    at.selectbox(key="train_design_kind").set_value("bn").run()  # a batch normalisation after conv1
    at.selectbox(key="train_design_position").set_value(1).run()
    at.button(key="train_design_add").click().run()
    tutorial = design_text(tutorial_design(FAST)).split(",")
    assert layers(at) == ",".join([tutorial[0], "bn", *tutorial[1:]])
    assert at.slider(key="train_keep_prob").disabled and at.select_slider(key="train_conv1_filters").disabled
    assert at.button(key="train_preset_fast").proto.type == "secondary"  # no preset has this network
    assert "**bn1**  \nbatch normalisation" in [markdown.value for markdown in at.markdown]  # its row

    at.number_input(key="train_design_0_filters").set_value(8).run()
    assert layers(at).startswith("conv:8:5,bn,pool:2:2:same,")
    assert metric(at, "Parameters") == f"{traced_design(parse_design(layers(at))).parameters:,}"
    assert 'layers.BatchNormalization(momentum=0.9, name="bn1")' in at.code[0].value  # the code to take home follows

    at.selectbox(key="train_design_kind").set_value("conv").run()  # a convolution after the dense layers
    at.button(key="train_design_add").click().run()
    sentence = "conv3 needs a map of height x width x channels, but after dense1 the digit is a row of 256 value(s)."
    assert [error.value for error in at.error] == [sentence] and not at.metric
    assert at.button(key="train_start").disabled and at.button(key="train_start").help == sentence
    assert any(caption.value == f"Start waits for a network that can be built: {sentence}" for caption in at.caption)
    assert layers(at).startswith("conv:8:5,bn,") and layers(at).endswith(",conv:16:3")  # nothing was lost

    at.button(key="train_design_9_remove").click().run()
    at.button(key="train_design_1_down").click().run()  # bn after pool1 now
    assert not at.error and not at.button(key="train_start").disabled
    designed = "conv:8:5,pool:2:2:same,bn,conv:64:5,pool:2:2:same,dense:256,dropout:0,dense:256,dropout:0"
    assert layers(at) == designed

    at.button(key="train_start").click().run()
    assert not at.exception
    [run] = fake_server.runs()
    assert run.config.hp.layers == designed
    deadline = time.monotonic() + 60
    while not run.state.finished:
        assert time.monotonic() < deadline
        time.sleep(0.5)


def test_a_preset_and_back_bring_the_tutorials_network_back(designer):
    at = designer
    at.button(key="train_design_7_remove").click().run()
    assert layers(at) == design_text(tutorial_design(FAST)[:7])
    at.button(key="train_design_back").click().run()
    assert layers(at) == "" and not at.slider(key="train_keep_prob").disabled
    at.button(key="train_design_0_remove").click().run()
    at.button(key="train_preset_tutorial").click().run()  # the preset's own network, with its sizes
    assert layers(at) == "" and at.number_input(key="train_design_0_kernel").value == 3
    at.select_slider(key="train_conv1_filters").set_value(16).run()  # the sizes shape the tutorial's network
    assert layers(at) == "" and at.number_input(key="train_design_0_filters").value == 16
    at.number_input(key="train_design_2_filters").set_value(32).run()
    at.number_input(key="train_design_2_filters").set_value(64).run()  # back to the tutorial's sizes: no design
    assert layers(at) == ""


def test_the_design_survives_a_visit_to_another_page(designer):
    at = designer
    at.button(key="train_design_add").click().run()  # a conv at the end: impossible, and kept
    kept = layers(at)
    at.switch_page("pages/home.py").run()
    at.switch_page("pages/train.py").run()
    assert layers(at) == kept and at.error and at.button(key="train_start").disabled
    at.toggle(key="train_design_open").set_value(False).run()  # closed, its sentence still shows and Start waits
    assert at.error and at.button(key="train_start").disabled and not drawn(at, "train_design_add")


@pytest.fixture(scope="module")
def quiet_server(tmp_path_factory):
    """The app with no trainer kept ready (the run below starts its own), and its models folder."""
    models = tmp_path_factory.mktemp("designer-models")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CNN_EXPLORER_TRAINER_READY", "0")
        with running_app(models, tmp_path_factory.mktemp("designer-server") / "streamlit.log") as server:
            yield server.url, models


def set_number(page, key: str, value: int) -> None:
    """Type ``value`` into the number input ``key`` and let the page rerun."""
    field = page.locator(f".st-key-{key} input")
    field.fill(str(value))
    field.press("Enter")
    wait_until_idle(page)


def choose(page, key: str, option: str) -> None:
    """Choose ``option`` in the select box ``key`` (opened again if a rerun or an opening expander closed it)."""
    box, choice = page.locator(f".st-key-{key} input"), page.get_by_role("option", name=option, exact=True)
    box.wait_for()
    for _ in range(3):
        box.click()
        try:
            choice.click(timeout=5_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    wait_until_idle(page)
    assert option in page.locator(f".st-key-{key}").inner_text() + box.input_value()


@pytest.mark.browser
def test_a_layer_added_in_the_designer_is_trained_and_saved(quiet_server, page):
    url, models = quiet_server
    open_app_page(page, url, "train")
    set_number(page, "train_epochs", 1)
    set_number(page, "train_limit", 1200)
    page.get_by_text("Design the network", exact=True).click()
    choose(page, "train_design_kind", "fully connected")
    keyed_button(page, "train_design_add").click()
    wait_until_idle(page)
    page.get_by_text("dense3", exact=True).wait_for()
    page.get_by_text("Start waits", exact=False).wait_for(state="detached")
    keyed_button(page, "train_start").click()
    page.locator('[data-testid="stMetricLabel"]').get_by_text("Test accuracy").wait_for(timeout=RUN_TIMEOUT_MS)
    wait_until_idle(page)
    [model] = list_models(models)
    assert model.metadata["hyperparameters"]["layers"].endswith(",dropout:0,dense:64")
    page.get_by_text("Network of one's own design", exact=False).wait_for()
    assert not browser_trouble(page), browser_trouble(page)
