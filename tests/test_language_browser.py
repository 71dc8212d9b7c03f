"""Korean and English in a real browser: a Korean browser opens in Korean, the switch changes the language and
keeps what the learner made."""

import pytest
from conftest import open_app_page, wait_until_idle
from test_draw_page import INK_JS, SEVEN, draw_stroke
from test_pages import browser_trouble


@pytest.fixture
def korean_page(browser):
    """A tab whose browser language is Korean (``navigator.language`` ko-KR)."""
    context = browser.new_context(locale="ko-KR", viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    yield tab
    context.close()


@pytest.mark.browser
def test_a_korean_browser_gets_korean_and_the_switch_keeps_the_drawing(korean_page, app_url):
    page = korean_page
    open_app_page(page, app_url)
    page.get_by_role("heading", name="CNN 탐색기", level=1).wait_for()
    assert "lang=ko" in page.url
    page.locator('[data-testid="stSidebarNav"]').get_by_text("숫자 그리기", exact=True).click()
    wait_until_idle(page)
    draw_stroke(page, SEVEN)
    wait_until_idle(page, timeout_ms=60_000)
    drawn = page.locator("canvas.digit-canvas").evaluate(INK_JS)  # the canvas lives in a shadow root
    assert drawn > 100
    page.locator('[data-testid="stSidebar"]').get_by_text("English", exact=True).click()
    page.get_by_role("heading", name="Draw a digit", level=1).wait_for()
    wait_until_idle(page)
    assert "lang=en" in page.url
    assert page.locator("canvas.digit-canvas").evaluate(INK_JS) == drawn
    page.get_by_text("pixels hold ink").wait_for()  # the digit is still there, now described in English
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Home", exact=True).click()
    page.get_by_role("heading", name="CNN Explorer", level=1).wait_for()
    assert "lang=en" in page.url
    assert not browser_trouble(page), browser_trouble(page)
