"""The home page: AppTest for its logic, Chromium for what a person sees."""

import pytest
from conftest import APP_PATH, ROOT, open_app_page
from streamlit.testing.v1 import AppTest


def test_home_page_shows_data_panel_without_errors():
    at = AppTest.from_file(APP_PATH, default_timeout=60).run()
    assert not at.exception
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
    assert page.locator('[data-testid="stException"]').count() == 0
