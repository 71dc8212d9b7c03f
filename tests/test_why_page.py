"""The Why this answer? page: AppTest with a digit in the session and a small saved model, its sentences built from
data, and Chromium with a drawn digit."""

from pathlib import Path

import numpy as np
import pytest
from conftest import APP_PATH, open_app_page, wait_until_idle
from streamlit.testing.v1 import AppTest
from test_pages import browser_trouble, page_trouble

from cnnlib.store import saved as saved_models

from cnnlib.lessons.why import words as why_text
from cnnlib.lessons.why.explain import FilterEdit, Nudge, Occlusion, patch_starts
from cnnlib.lessons.why.figures import occlusion_figure
from cnnlib.text import catalogue, t
from pages.parts.state import CHOSEN_MODEL, DIGIT

PAGE = "pages/why_answer.py"
SMALL_MODEL = "why_test_small"


def why_page(models_folder: Path, monkeypatch, digit: np.ndarray | None, chosen: str | None = None) -> AppTest:
    """The app switched to the Why page, reading models from ``models_folder``, with ``digit`` as the Draw page's."""
    monkeypatch.setenv(saved_models.MODELS_DIR_ENV, str(models_folder))
    at = AppTest.from_file(APP_PATH, default_timeout=90)
    if digit is not None:
        at.session_state[DIGIT] = digit
    if chosen is not None:
        at.session_state[CHOSEN_MODEL] = chosen
    at.run()
    at.switch_page(PAGE).run()
    assert not page_trouble(at), page_trouble(at)
    return at


def texts(elements) -> str:
    """The text of some elements (markdown, captions, info boxes), joined."""
    return "\n".join(element.value for element in elements)


@pytest.fixture
def seven(offline_mnist) -> np.ndarray:
    return (offline_mnist.x_test[offline_mnist.y_test == 7][0] / np.float32(255)).astype(np.float32)


def test_without_a_digit_the_page_links_to_the_draw_page(tmp_path, monkeypatch):
    at = why_page(tmp_path, monkeypatch, None)
    assert at.title[0].value == t("why.title")
    assert at.info[0].value == t("why.empty.digit")
    assert at.get("page_link")[0].proto.page.endswith("draw_digit")


def test_without_a_model_the_page_links_to_the_train_page(tmp_path, monkeypatch, seven):
    at = why_page(tmp_path, monkeypatch, seven)
    assert at.info[0].value == t("why.empty.model")
    assert at.get("page_link")[0].proto.page.endswith("train")


def test_every_panel_explains_the_digit_with_the_chosen_model(tmp_path, monkeypatch, seven, small_trained_model):
    saved_models.save_model(small_trained_model, SMALL_MODEL, {}, tmp_path)
    saved_models.save_model(small_trained_model, "another", {}, tmp_path)  # newer: chosen unless CHOSEN_MODEL names one
    at = why_page(tmp_path, monkeypatch, seven, chosen=SMALL_MODEL)
    assert f"**{SMALL_MODEL}**" in texts(at.markdown)
    headers = [header.value for header in at.header]
    assert headers == [t(f"why.{panel}.header") for panel in ("occlusion", "gradients", "knockout", "filter", "nudge")]
    charts = {chart.proto.id for chart in at.get("plotly_chart")}
    assert len(charts) == 11  # answer, occlusion, saliency, Grad-CAM, knockout x2, filter x2, nudge x3
    assert t("why.occlusion.caption", patch=6, stride=2, count=144, digit=7)[:40] in texts(at.caption)
    assert not at.error


def test_asking_why_not_another_digit_explains_that_digit(tmp_path, monkeypatch, seven, small_trained_model):
    saved_models.save_model(small_trained_model, SMALL_MODEL, {}, tmp_path)
    at = why_page(tmp_path, monkeypatch, seven)
    assert "reads your digit as **7**" in texts(at.markdown)
    at.segmented_control(key="why_target").set_value(3).run()
    assert not page_trouble(at), page_trouble(at)
    captions = texts(at.caption)
    assert "why not 3?" in captions and "lowers the probability of 3" in captions, captions


def test_switching_maps_off_and_changing_settings(tmp_path, monkeypatch, seven, small_trained_model):
    saved_models.save_model(small_trained_model, SMALL_MODEL, {}, tmp_path)
    at = why_page(tmp_path, monkeypatch, seven)
    at.multiselect(key="why_channels_conv1").set_value([0, 1, 2]).run()
    assert "With these maps of conv1 set to 0" in texts(at.caption)
    at.segmented_control(key="why_layer").set_value("conv2").run()
    at.slider(key="why_patch").set_value(10)
    at.slider(key="why_stride").set_value(4)
    at.toggle(key="why_smooth").set_value(True).run()
    assert not page_trouble(at), page_trouble(at)
    assert "blank 10x10 patch slides over the digit in steps of 4: 36 positions" in texts(at.caption)
    assert at.subheader[0].value == t("why.gradients.smoothgrad_title", samples=16)
    at.number_input(key="why_filter").set_value(3).run()
    at.button(key="why_filter_restore").click().run()
    feature_map = next(chart for chart in at.get("plotly_chart") if chart.proto.id.endswith("why_filter_map"))
    assert not page_trouble(at) and "Feature map 3 of conv1" in feature_map.proto.spec


def test_the_nudge_says_when_the_budget_is_too_small(tmp_path, monkeypatch, seven, small_trained_model):
    saved_models.save_model(small_trained_model, SMALL_MODEL, {}, tmp_path)
    at = why_page(tmp_path, monkeypatch, seven)
    at.segmented_control(key="why_nudge_target").set_value(2)
    at.slider(key="why_epsilon").set_value(0.0).run()
    assert at.warning[0].value.startswith("Within ε = 0.00 the network still answers")
    at.slider(key="why_epsilon").set_value(0.3).run()
    assert not page_trouble(at) and (at.success or at.warning)


def test_a_model_without_convolutions_is_explained_where_it_can_be(tmp_path, monkeypatch, seven):
    import keras

    dense = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    saved_models.save_model(dense, "dense_only", {}, tmp_path)
    at = why_page(tmp_path, monkeypatch, seven)
    infos = texts(at.info)
    for key in ("why.error.no_conv", "why.error.no_conv_knockout", "why.error.no_filters"):
        assert t(key) in infos
    assert not at.error


def test_a_damaged_model_file_is_a_sentence(tmp_path, monkeypatch, seven):
    (tmp_path / "broken.keras").write_bytes(b"not a zip")
    at = why_page(tmp_path, monkeypatch, seven)
    assert "could not be loaded" in at.error[0].value


def test_the_page_speaks_korean(tmp_path, monkeypatch, seven, small_trained_model):
    monkeypatch.setenv("CNN_EXPLORER_LANG", "ko")
    saved_models.save_model(small_trained_model, SMALL_MODEL, {}, tmp_path)
    at = why_page(tmp_path, monkeypatch, seven)
    korean = catalogue("ko")
    assert at.title[0].value == korean["why.title"]
    assert [header.value for header in at.header] == [korean[f"why.{panel}.header"] for panel in
                                                      ("occlusion", "gradients", "knockout", "filter", "nudge")]
    assert not at.error


def test_sentences_say_which_digit_and_what_happened():
    probabilities = np.array([0.02, 0.01, 0.05, 0.1, 0.02, 0.05, 0.01, 0.7, 0.02, 0.02])
    assert why_text.target_caption(probabilities, 7) == "The maps explain why it says 7."
    assert why_text.target_caption(probabilities, 3) == ("The maps explain the score of 3 (probability 10.0%): "
                                                         "why not 3?")
    assert why_text.knockout_caption("conv2", [], probabilities) == t("why.knockout.caption_none")
    assert why_text.knockout_caption("conv2", [4, 9], probabilities) == ("With these maps of conv2 set to 0, the "
                                                                         "network answers 7 (70.0%).")
    edited = FilterEdit(np.zeros((28, 28)), np.roll(probabilities, -4))  # now 3 at 70 %
    assert why_text.filter_caption(edited, probabilities) == ("With your weights the network answers 3 (70.0%); "
                                                              "with the trained ones, 7 (70.0%).")


def test_hovering_the_occlusion_map_names_the_hidden_patch_and_the_answer():
    starts = patch_starts(6, 2)
    corners = np.array([(row, column) for row in starts for column in starts])
    answers = np.tile(np.eye(10)[7], (len(corners), 1))
    answers[-1] = np.eye(10)[1]  # hiding the bottom-right patch makes it a 1
    found = Occlusion(np.full((28, 28), 0.25), corners, answers, 6, 7, np.eye(10)[7])
    heatmap = occlusion_figure(np.zeros((28, 28)), found).data[1]
    assert list(heatmap.customdata[0][0]) == [0.25, 0, 5, 0, 5, 7, 1.0]
    assert list(heatmap.customdata[27][27]) == [0.25, 22, 27, 22, 27, 1, 1.0]
    assert heatmap.hovertemplate.startswith("pixel (%{y}, %{x}): 7 loses %{customdata[0]:.1%} on average<br>rows "
                                            "%{customdata[1]}-%{customdata[2]}, columns")


def test_a_nudge_ends_in_one_of_three_sentences():
    digit = np.full((28, 28), 0.5, np.float32)
    three = np.eye(10)[3]
    moved = digit + np.float32(0.04)
    assert why_text.nudge_outcome(Nudge(digit, digit, three, 3, 0.1, 0)) == ("info", "The network already answers 3.")
    kind, sentence = why_text.nudge_outcome(Nudge(digit, moved, three, 3, 0.1, 2))
    assert kind == "success" and sentence.startswith("After 2 signed-gradient steps, with no pixel changed by more "
                                                     "than 0.04, the network answers 3 (100.0%).")
    assert why_text.nudge_outcome(Nudge(digit, moved, three, 5, 0.04, 20)) == (
        "warning", "Within ε = 0.04 the network still answers 3, not 5: raise the budget.")


@pytest.mark.browser
def test_a_drawn_digit_is_explained_in_chromium(app_url, page, models_dir, small_trained_model):
    """Draw a 7 on the Draw page, open Why this answer? from the sidebar: every panel shows for that digit."""
    saved_models.save_model(small_trained_model, SMALL_MODEL, {}, models_dir)
    open_app_page(page, app_url, "draw_digit")
    canvas = page.locator("canvas.digit-canvas").first
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 0.25 * box["width"], box["y"] + 0.2 * box["height"])
    page.mouse.down()
    for x, y in [(0.75, 0.2), (0.45, 0.85)]:
        page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=12)
    page.mouse.up()
    wait_until_idle(page)
    page.get_by_role("link", name=t("common.nav.why")).click()
    wait_until_idle(page, timeout_ms=90_000)
    page.wait_for_selector('[data-testid="stSkeleton"]', state="detached")
    main = page.locator('[data-testid="stMainBlockContainer"]')
    for panel in ("occlusion", "gradients", "knockout", "filter", "nudge"):
        assert main.get_by_text(t(f"why.{panel}.header")).is_visible()
    assert main.get_by_text(f"The model {SMALL_MODEL} reads your digit as").is_visible()
    assert page.locator('.st-key-why_occlusion .js-plotly-plot').count() == 1
    assert not browser_trouble(page), browser_trouble(page)


def test_the_epoch_slider_explains_the_network_as_it_was(tmp_path, monkeypatch, seven, small_trained_model):
    from cnnlib.network.snapshots import EpochSnapshots, save_snapshots

    saved = saved_models.save_model(small_trained_model, SMALL_MODEL, {}, tmp_path)
    zeros = [np.zeros_like(weight) for weight in small_trained_model.get_weights()]
    save_snapshots(saved.path, EpochSnapshots([zeros, small_trained_model.get_weights()], [0.1, 0.9]))
    at = why_page(tmp_path, monkeypatch, seven)
    assert at.select_slider(key="why_epoch").value == 1
    trained = texts(at.markdown)
    at.select_slider(key="why_epoch").set_value(0).run()
    assert not page_trouble(at), page_trouble(at)
    assert "Epoch 0 of 1:" in texts(at.caption) and texts(at.markdown) != trained
    assert f"The model **{SMALL_MODEL}** reads your digit as **0**, with probability 10.0%." in texts(at.markdown)
