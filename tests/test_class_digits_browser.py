"""The class's digits in Chromium: two learners each draw a digit and add it with its label; the teacher opens the
board with the key and downloads exactly those digits, with their labels, as an MNIST file."""

import numpy as np
import pytest
from conftest import keyed_button, open_app_page, running_app, separate_tabs, wait_until_idle
from test_draw_page import SEVEN, draw_stroke
from test_pages import browser_trouble

from cnnlib.classroom.digits import class_digits

KEY = "the-teachers-own-key"
ONE = [(0.5, 0.15), (0.5, 0.85)]


@pytest.fixture(scope="module")
def classroom_with_teacher(tmp_path_factory):
    """A server in classroom mode with a teacher key, and its models folder."""
    models = tmp_path_factory.mktemp("class-digits-models")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CNN_EXPLORER_CLASSROOM", "1")
        patch.setenv("CNN_EXPLORER_TEACHER_KEY", KEY)
        with running_app(models, tmp_path_factory.mktemp("class-digits-server") / "streamlit.log") as server:
            yield server.url, models


@pytest.fixture
def tabs(browser):
    """Two learners and the teacher, each in a browser context of their own."""
    with separate_tabs(browser, 3, accept_downloads=True) as pages:
        yield pages


def add_drawn_digit(page, url: str, stroke, label: int) -> None:
    """Open the Draw page, draw ``stroke``, say it is ``label`` and add it to the class's digits."""
    open_app_page(page, url, "draw_digit")
    draw_stroke(page, stroke)
    page.locator(".st-key-draw_class_add").wait_for()
    wait_until_idle(page)
    page.locator(".st-key-draw_class_label").get_by_role("radio", name=str(label), exact=True).click()
    wait_until_idle(page)
    keyed_button(page, "draw_class_add").click()
    page.get_by_text(f"Added as a {label}.").wait_for()


@pytest.mark.browser
def test_two_learners_add_digits_and_the_teacher_downloads_exactly_those(classroom_with_teacher, tabs, monkeypatch):
    url, models = classroom_with_teacher
    ann, ben, teacher = tabs
    open_app_page(teacher, url, f"teacher?teacher={KEY}")  # the server's first visitor: its pages are not app.py's yet
    teacher.get_by_text("No class digits yet").wait_for()
    add_drawn_digit(ann, url, SEVEN, 7)
    add_drawn_digit(ben, url, ONE, 1)
    teacher.reload()  # the key stayed in the address
    wait_until_idle(teacher)
    teacher.get_by_role("tab", name="7 (1)").wait_for()
    assert "2" in teacher.locator('[data-testid="stMetric"]').nth(1).inner_text()  # class digits
    with teacher.expect_download() as download:
        keyed_button(teacher, "teacher_download").click()
    with np.load(download.value.path()) as npz:
        x_test, y_test = npz["x_test"], npz["y_test"]
    monkeypatch.setenv("CNN_EXPLORER_CLASSROOM", "1")
    stored = class_digits(models)  # what the two learners' workspaces hold
    assert sorted(y_test.tolist()) == [1, 7] and x_test.dtype == np.uint8 and x_test.shape == (2, 28, 28)
    downloaded = sorted((int(label), image.tobytes()) for label, image in zip(y_test, x_test))
    assert downloaded == sorted((int(label), image.tobytes()) for label, image in zip(stored.labels, stored.images))
    assert len(set(stored.owners)) == 2
    for page in tabs:
        assert not browser_trouble(page), browser_trouble(page)
