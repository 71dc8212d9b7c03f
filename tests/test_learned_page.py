"""The "What did it learn?" page: AppTest with a small saved model: the ten ideal pictures on request with where
each score lies, a channel's ideal picture and favourite test digits, the map of the test digits, and the learner's
digit as a star with its nearest test digits once the Draw page has one."""

import numpy as np
import pytest
from conftest import APP_PATH, keyed_button, open_app_page, wait_until_idle
from streamlit.testing.v1 import AppTest
from test_draw_page import SEVEN, draw_stroke
from test_pages import browser_trouble, page_trouble

from cnnlib import explain
from cnnlib.lessons.learned import views
from cnnlib.lessons.learned.ideal import ScoreRange
from cnnlib.store import saved as saved_models
from cnnlib.store.saved import save_model
from cnnlib.text import t
from pages.parts.state import DIGIT

PAGE = "pages/learned.py"


def learned_page(models_folder, monkeypatch, digit: np.ndarray | None = None) -> AppTest:
    """The app switched to the page, reading models from ``models_folder``, with ``digit`` as the Draw page's."""
    monkeypatch.setenv(saved_models.MODELS_DIR_ENV, str(models_folder))
    at = AppTest.from_file(APP_PATH, default_timeout=120)
    at.session_state[DIGIT] = digit
    at.run()
    at.switch_page(PAGE).run()
    assert not page_trouble(at), page_trouble(at)
    return at


def test_without_a_model_the_page_links_to_the_train_page(tmp_path, monkeypatch):
    at = learned_page(tmp_path, monkeypatch)
    assert at.title[0].value == t("learned.title") and at.info[0].value == t("learned.empty.model")
    assert at.get("page_link")[0].proto.page.endswith("train")


def test_a_model_shows_its_ideal_digits_a_channels_favourites_and_where_a_digit_lies(
        tmp_path, monkeypatch, small_trained_model, offline_mnist):
    save_model(small_trained_model, "small", {"test_accuracy": 0.93}, tmp_path)
    at = learned_page(tmp_path, monkeypatch)
    assert [chart.proto.id for chart in at.get("plotly_chart")] and at.info[0].value == t("learned.map.no_digit")
    images = offline_mnist.x_test[:1000] / np.float32(255)
    favourites = explain.top_examples(small_trained_model, "conv2", 0, images, 9)
    assert at.selectbox(key="learned_layer").value == "conv2"
    assert any(t("learned.channel.favourites", count=9, layer="conv2", channel=0, total=1000) == element.value
               for element in at.markdown) and len(favourites) == 9
    at.button(key="learned_find").click().run()
    assert not page_trouble(at), page_trouble(at)
    ranges = [line for element in at.markdown for line in element.value.splitlines() if line.startswith("- **")]
    assert len(ranges) == 10 and ranges[7].startswith("- **7**: score ")
    seven = offline_mnist.x_test[offline_mnist.y_test == 7][0] / np.float32(255)
    at.session_state[DIGIT] = seven
    at.run()
    nearest = explain.nearest(small_trained_model, seven, images, 9)
    assert at.markdown[-1].value == t("learned.nearest.header", count=9) and np.sum(offline_mnist.y_test[nearest] == 7) >= 7


def test_the_gallery_and_map_words_say_where_a_score_lies():
    found = ScoreRange(7, 14.2, 3.1, 9.0, 12.0, 0.98)
    assert views.gallery_titles([found]) == ["7: 14.2"]
    assert views.gallery_caption(found) == ("**7**: score 14.2; the real test 7s score from 3.1 to 12.0 (median 9.0), "
                                            "and 98% of them score lower.")
    figure = views.map_figure(np.zeros((3, 2)), np.array([0, 1, 1]), np.array([0.5, 0.5]))
    assert [trace.name for trace in figure.data][-1] == "your digit" and len(figure.data) == 11


@pytest.mark.browser
def test_a_drawn_digit_lies_on_the_map_among_its_nearest_in_chromium(app_url, page, models_dir, small_trained_model):
    """Draw a 7, open What did it learn?: the ideal pictures on request, a channel's favourites, the map with a star."""
    save_model(small_trained_model, "learned_small", {}, models_dir)
    open_app_page(page, app_url, "draw_digit")
    draw_stroke(page, SEVEN)
    wait_until_idle(page)
    page.get_by_role("link", name=t("common.nav.learned")).click()
    wait_until_idle(page, timeout_ms=90_000)
    keyed_button(page, "learned_find").click()
    wait_until_idle(page, timeout_ms=90_000)
    for key in ("learned_pictures", "learned_ideal", "learned_favourites", "learned_map", "learned_nearest"):
        assert page.locator(f".st-key-{key} .js-plotly-plot").count() == 1, key
    stars = page.locator(".st-key-learned_map .js-plotly-plot").evaluate(
        "plot => plot._fullData.filter(trace => trace.marker && trace.marker.symbol === 'star').length")
    assert stars == 1 and not browser_trouble(page), browser_trouble(page)
