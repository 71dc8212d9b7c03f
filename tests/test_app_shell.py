"""What app.py sets up for every page: the learner's language and, in classroom mode, their workspace id."""

import pytest
from conftest import APP_PATH
from streamlit.testing.v1 import AppTest

from cnnlib.text import choose_language
from cnnlib.store.workspace import is_workspace_id


def opened(query: dict | None = None) -> AppTest:
    """The home page opened with these URL query parameters."""
    at = AppTest.from_file(APP_PATH, default_timeout=60)
    for name, value in (query or {}).items():
        at.query_params[name] = value
    return at.run()


@pytest.mark.parametrize(("url", "server", "browser", "expected"), [
    (None, None, "ko-KR", "ko"), (None, None, "en-US", "en"), (None, None, None, "en"),
    (None, "ko", "en-US", "ko"), ("en", "ko", "ko-KR", "en"), ("fr", None, "ko", "ko"), (None, "xx", None, "en"),
])
def test_the_language_is_url_then_server_then_browser(url, server, browser, expected):
    assert choose_language(url, server, browser) == expected


def test_the_language_goes_into_the_url_and_stays_across_pages(monkeypatch):
    monkeypatch.setenv("CNN_EXPLORER_LANG", "ko")
    at = opened()
    assert at.query_params["lang"] == "ko" and at.title[0].value == "CNN 탐색기"
    assert at.sidebar.radio(key="app_language_switch").value == "ko"
    at.switch_page("pages/toy_convolution.py").run()
    assert at.query_params["lang"] == "ko"


def test_switching_the_language_relabels_the_page():
    at = opened({"lang": "ko"})
    assert at.header[0].value == "데이터"
    at.sidebar.radio(key="app_language_switch").set_value("en").run()
    assert at.header[0].value == "The data"  # the URL's ?lang=en is checked in Chromium (tests/test_language_browser.py)


def test_without_classroom_mode_there_is_no_learner_id(monkeypatch):
    monkeypatch.delenv("CNN_EXPLORER_CLASSROOM", raising=False)
    at = opened()
    assert "learner" not in at.query_params and not at.sidebar.caption


def test_classroom_mode_gives_a_new_learner_an_id_in_the_url_and_keeps_it(monkeypatch):
    monkeypatch.setenv("CNN_EXPLORER_CLASSROOM", "1")
    at = opened()
    learner = at.query_params["learner"]
    assert is_workspace_id(learner) and learner in at.sidebar.caption[0].value
    at.switch_page("pages/toy_convolution.py").run()
    assert at.query_params["learner"] == learner


def test_classroom_mode_keeps_a_bookmarked_id_and_replaces_a_forged_one(monkeypatch):
    monkeypatch.setenv("CNN_EXPLORER_CLASSROOM", "1")
    assert opened({"learner": "abcdefghjkmn"}).query_params["learner"] == "abcdefghjkmn"
    forged = opened({"learner": "../../etc/passwd"}).query_params["learner"]
    assert forged != "../../etc/passwd" and is_workspace_id(forged)
