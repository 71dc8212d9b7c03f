"""The home page: AppTest for its logic, Chromium for what a person sees."""

import pytest
from conftest import APP_PATH, ROOT, open_app_page, running_app
from streamlit.testing.v1 import AppTest
from test_pages import browser_trouble, page_trouble


def test_home_page_shows_data_panel_without_errors():
    at = AppTest.from_file(APP_PATH, default_timeout=60).run()
    assert not page_trouble(at), page_trouble(at)
    assert at.title[0].value == "CNN Explorer"
    assert any("Offline subset" in markdown.value for markdown in at.markdown)
    assert len(at.get("plotly_chart")) == 3


def test_home_page_does_not_import_tensorflow():
    import subprocess
    import sys

    code = ("import sys; from streamlit.testing.v1 import AppTest; AppTest.from_file('app.py', default_timeout=60).run();"
            "print('tensorflow' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip().splitlines()[-1] == "False"


@pytest.mark.browser
def test_home_page_shows_digit_grid_in_chromium(page, app_url):
    open_app_page(page, app_url)
    grid = page.locator(".stPlotlyChart").first
    grid.wait_for()
    assert grid.locator("text=label").count() >= 10
    assert not browser_trouble(page), browser_trouble(page)


@pytest.mark.browser
def test_a_page_url_opened_first_on_a_new_server_gets_the_apps_navigation(page, models_dir, tmp_path):
    # Before any session runs app.py, Streamlit would serve pages/ as a legacy multipage app (raw file names).
    with running_app(models_dir, tmp_path / "streamlit.log") as server:
        open_app_page(page, server.url, "toy_convolution")
        page.get_by_role("heading", name="Toy convolution", level=1).wait_for()
        navigation = page.locator('[data-testid="stSidebarNav"]').inner_text()
        assert "Draw a digit" in navigation and "draw digit" not in navigation
        assert page.url.split("?")[0].endswith("/toy_convolution")  # the query keeps the language (?lang=en)
        assert page.get_by_role("dialog").count() == 0  # no "Page not found"
