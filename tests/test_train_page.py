"""The Train page in AppTest: its logic (a run to the end, presets); Chromium drives a real run in
tests/test_classroom_browser.py."""

import time

import pytest
from conftest import APP_PATH
from streamlit.testing.v1 import AppTest

from cnnlib.store.saved import list_models, save_model
from cnnlib.training.config import PRESETS, Preset
from cnnlib.training.runs import shutdown_all

FAKE_RUN_TIMEOUT_S = 60


@pytest.fixture
def train_page(tmp_path, monkeypatch):
    """The Train page in AppTest, saving into a temporary folder; every run it starts ends with the test. No trainer
    is kept ready (tests/test_runs.py covers that): one would only take the CPU from the run a test starts."""
    monkeypatch.setenv("CNN_EXPLORER_MODELS_DIR", str(tmp_path))
    monkeypatch.setenv("CNN_EXPLORER_TRAINER_READY", "0")
    at = AppTest.from_file(APP_PATH, default_timeout=60).run()
    at.switch_page("pages/train.py").run()
    assert not at.exception
    yield at
    shutdown_all()


def test_presets_set_every_hyperparameter(train_page):
    at = train_page
    at.button(key="train_preset_tutorial").click().run()
    assert at.number_input(key="train_epochs").value == 50
    assert at.select_slider(key="train_learning_rate").value == 0.01
    assert at.select_slider(key="train_batch_size").value == 100
    assert at.radio(key="train_init").value == "tutorial" and at.radio(key="train_lr_decay").value == "none"
    assert highlighted_presets(at) == ["tutorial"]  # the button in use stands out, not always the default's
    at.button(key="train_preset_fast").click().run()
    fast = PRESETS[Preset.FAST]
    assert at.radio(key="train_init").value == "he" and at.select_slider(key="train_learning_rate").value == (
        fast.learning_rate) != 0.01
    at.number_input(key="train_epochs").set_value(3).run()
    assert highlighted_presets(at) == []  # a changed recipe is no preset's any more


def test_the_recipe_offers_redrawn_and_augmented_training_digits_with_previews(train_page):
    at = train_page
    charts = lambda: {chart.key for chart in at.get("plotly_chart") if "preview" in (chart.key or "")}  # noqa: E731
    assert at.slider(key="train_drawn_share").value == 0.5 and at.toggle(key="train_augment").value is False
    assert charts() == {"train_drawn_share_preview"}  # the default recipe shows half its digits redrawn
    assert any("redrawn with chance 0.5" in caption.value for caption in at.caption)
    at.toggle(key="train_augment").set_value(True).run()
    at.slider(key="train_drawn_share").set_value(0.0).run()
    assert not at.exception and charts() == {"train_augment_preview"}
    at.button(key="train_preset_best").click().run()
    assert at.toggle(key="train_augment").value is True and at.slider(key="train_drawn_share").value == 0.0
    smoothing = PRESETS[Preset.BEST].label_smoothing
    assert at.select_slider(key="train_label_smoothing").value == smoothing and highlighted_presets(at) == ["best"]


def highlighted_presets(at) -> list[str]:
    """The presets whose buttons are drawn as primary."""
    return [preset for preset in Preset if at.button(key=f"train_preset_{preset}").proto.type == "primary"]


def test_a_run_finishes_and_shows_test_accuracy_and_its_model(train_page, fake_server, tmp_path):
    """The page's part of a run, played by the fake trainer; the real trainer's run through the page is the browser
    test below and tests/test_classroom_browser.py."""
    from cnnlib.network.architecture import Hyperparameters, build_model

    save_model(build_model(Hyperparameters(conv1_filters=8, conv2_filters=16, dense_units=64)), "older", {}, tmp_path)
    at = train_page.run()
    assert at.selectbox(key="train_model_choice").value == "older"
    at.button(key="train_start").click().run()
    assert not at.exception
    assert at.button(key="train_start").disabled and not at.button(key="train_stop").disabled
    deadline = time.monotonic() + FAKE_RUN_TIMEOUT_S
    while not any(metric.label.startswith("Test accuracy") for metric in at.metric):
        assert time.monotonic() < deadline, [error.value for error in at.error]
        time.sleep(1)
        at.run()  # the live fragment ticks once per run here
    assert not at.exception and not at.error
    accuracy = next(metric for metric in at.metric if metric.label.startswith("Test accuracy"))
    assert accuracy.value.endswith("%")
    assert at.get("echarts_chart") and at.get("plotly_chart")  # cost curve; misclassified digits
    new_models = [model.name for model in list_models(tmp_path) if model.name != "older"]
    assert new_models, "the run saved no model"
    assert at.selectbox(key="train_model_choice").value == new_models[0]  # Saved models shows the new one
    assert not at.button(key="train_start").disabled


def test_choices_survive_a_visit_to_another_page(train_page):
    at = train_page
    at.number_input(key="train_epochs").set_value(7).run()
    at.switch_page("pages/home.py").run()
    at.switch_page("pages/train.py").run()
    assert at.number_input(key="train_epochs").value == 7
