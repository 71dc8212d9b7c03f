"""Classroom mode in Chromium: two learners on one server, each in a browser context of their own. One trains for
real: the live cost curve grows by itself, a reload finds the run live, its Stop tests and saves what was learned;
the other never sees that run or its model."""

import pytest
from conftest import COST_CURVE_BATCHES_JS, keyed_button, open_app_page, running_app, separate_tabs, wait_until_idle
from test_pages import browser_trouble

from cnnlib.store.saved import list_models
from cnnlib.store.workspace import workspace

RUN_TIMEOUT_MS = 180_000
MARK_CHART_JS = "() => { document.querySelector('.st-key-train_cost_curve canvas').dataset.marked = '1'; }"
WATCH_THE_PAGE_END_JS = """() => {
    const end = [...document.querySelectorAll('[data-testid="stElementContainer"]')].pop();
    window.pageEndWentStale = false;
    new MutationObserver(() => { window.pageEndWentStale ||= end.dataset.stale === 'true'; })
        .observe(end, {attributes: true, attributeFilter: ['data-stale']});
}"""  # the page's last element (Saved models) goes stale while a rerun of the whole page has not yet redrawn it


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    """A server in classroom mode, and its models folder."""
    models = tmp_path_factory.mktemp("classroom-models")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CNN_EXPLORER_CLASSROOM", "1")
        with running_app(models, tmp_path_factory.mktemp("classroom-server") / "streamlit.log") as server:
            yield server.url, models


@pytest.fixture
def learners(browser):
    """Two learners: a tab each, in browser contexts of their own (no shared cookies or storage)."""
    with separate_tabs(browser, 2) as tabs:
        yield tabs


def learner_id(tab) -> str:
    """The workspace id in the tab's address."""
    return tab.url.split("learner=")[1].split("&")[0]


@pytest.mark.browser
def test_two_learners_each_keep_their_own_run_and_models(classroom, learners):
    url, models = classroom
    first, second = learners
    for tab in learners:
        open_app_page(tab, url, "train")
    assert learner_id(first) != learner_id(second)
    first.evaluate(WATCH_THE_PAGE_END_JS)
    keyed_button(first, "train_start").click()
    first.wait_for_function(COST_CURVE_BATCHES_JS, timeout=RUN_TIMEOUT_MS)  # the trainer has trained its first batches
    drawn = first.evaluate(COST_CURVE_BATCHES_JS)
    assert first.evaluate("() => window.pageEndWentStale") is False  # Start redrew the run's panel, not the page
    first.evaluate(MARK_CHART_JS)
    first.wait_for_timeout(3000)  # no clicks: the fragment refreshes the chart by itself
    assert first.evaluate(COST_CURVE_BATCHES_JS) > drawn > 0
    assert first.locator(".st-key-train_cost_curve canvas[data-marked]").count() == 1  # updated in place, not rebuilt
    wait_until_idle(second)
    assert keyed_button(second, "train_stop").is_disabled() and second.evaluate(COST_CURVE_BATCHES_JS) == 0

    first.reload()  # the run is the learner's, not the browser session's: a reload finds it live
    first.wait_for_function(COST_CURVE_BATCHES_JS, timeout=60_000)
    keyed_button(first, "train_stop").click()
    first.get_by_text("Stopped by you", exact=False).wait_for(timeout=RUN_TIMEOUT_MS)
    first.get_by_text("Test accuracy", exact=False).first.wait_for()  # what was learned was tested, then saved
    wait_until_idle(first)
    saved = list_models(workspace(learner_id(first), models).models_dir)
    chooser = first.locator(".st-key-train_model_choice")  # Saved models shows the new model as chosen
    assert len(saved) == 1 and saved[0].name in chooser.inner_html()
    second.reload()
    wait_until_idle(second)
    assert not list_models(workspace(learner_id(second), models).models_dir)
    assert saved[0].name not in second.content()
    for tab in learners:
        assert not browser_trouble(tab), browser_trouble(tab)
