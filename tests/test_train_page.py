"""The Train page: AppTest for its logic (a tiny run to the end, presets), Chromium for the live curve."""

import time

import pytest
from conftest import APP_PATH, keyed_button, open_app_page, wait_until_idle
from streamlit.testing.v1 import AppTest

from cnnlib.store.saved import delete_model, list_models, save_model
from cnnlib.training.config import PRESETS, Preset
from cnnlib.training.runs import shutdown_all

RUN_TIMEOUT_S = 240  # a busy 2-core machine takes most of this to start TensorFlow twice


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


@pytest.fixture
def new_models_removed(page, models_dir):
    """The browser test's server saves into the shared models folder: stop its run and remove what it saved."""
    before = {model.name for model in list_models(models_dir)}
    yield before
    stop = keyed_button(page, "train_stop")
    if stop.count() and stop.is_enabled():  # the test failed while training: stop, so the trainer exits
        stop.click()
        page.get_by_text("Stopped by you", exact=False).wait_for(timeout=60_000)
    for model in list_models(models_dir):
        if model.name not in before:
            delete_model(model.name, models_dir)


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
    assert at.select_slider(key="train_label_smoothing").value == 0.0 and highlighted_presets(at) == ["best"]


def highlighted_presets(at) -> list[str]:
    """The presets whose buttons are drawn as primary."""
    return [preset for preset in Preset if at.button(key=f"train_preset_{preset}").proto.type == "primary"]


def test_a_tiny_run_finishes_and_shows_test_accuracy(train_page, tmp_path):
    from cnnlib.network.architecture import Hyperparameters, build_model

    save_model(build_model(Hyperparameters(conv1_filters=8, conv2_filters=16, dense_units=64)), "older", {}, tmp_path)
    at = train_page.run()
    assert at.selectbox(key="train_model_choice").value == "older"
    at.number_input(key="train_epochs").set_value(2)
    at.number_input(key="train_limit").set_value(300)
    at.button(key="train_start").click().run()
    assert not at.exception
    assert at.button(key="train_start").disabled and not at.button(key="train_stop").disabled
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while not any(metric.label.startswith("Test accuracy") for metric in at.metric):
        assert time.monotonic() < deadline, [error.value for error in at.error]
        time.sleep(1)
        at.run()  # the live fragment ticks once per run here
    assert not at.exception and not at.error
    accuracy = next(metric for metric in at.metric if metric.label.startswith("Test accuracy"))
    assert accuracy.value.endswith("%")
    assert at.get("plotly_chart")  # cost curve, confusion matrix, misclassified digits
    new_models = [model.name for model in list_models(tmp_path) if model.name != "older"]
    assert new_models, "the run saved no model"
    assert at.selectbox(key="train_model_choice").value == new_models[0]  # Saved models shows the new one
    assert not at.button(key="train_start").disabled


BATCH_POINTS_JS = """() => {
    for (const plot of document.querySelectorAll('.js-plotly-plot')) {
        const trace = (plot._fullData || []).find(t => (t.name || '').startsWith('each batch'));
        if (trace) return trace.x.length;
    }
    return 0;
}"""  # how many per-batch points the live cost curve holds now (0 before it appears); _fullData is plotly.js's
# decoded copy (the figure sends numpy arrays, which plot.data keeps base64-encoded)


@pytest.mark.browser
def test_live_curve_grows_while_training_then_stop(page, app_url, models_dir, new_models_removed):
    before = new_models_removed
    open_app_page(page, app_url, "train")
    keyed_button(page, "train_start").click()
    page.wait_for_function(BATCH_POINTS_JS, timeout=90_000)  # the child process has trained its first batches
    first = page.evaluate(BATCH_POINTS_JS)
    page.wait_for_timeout(3000)  # no clicks: the fragment refreshes the chart by itself
    second = page.evaluate(BATCH_POINTS_JS)
    assert second > first > 0
    keyed_button(page, "train_stop").click()
    page.get_by_text("Stopped by you", exact=False).wait_for(timeout=60_000)
    wait_until_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    saved = [model.name for model in list_models(models_dir) if model.name not in before]
    assert len(saved) == 1, "Stop should save what was learned"  # new_models_removed deletes it afterwards


def test_choices_survive_a_visit_to_another_page(train_page):
    at = train_page
    at.number_input(key="train_epochs").set_value(7).run()
    at.switch_page("pages/home.py").run()
    at.switch_page("pages/train.py").run()
    assert at.number_input(key="train_epochs").value == 7
