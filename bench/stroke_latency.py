"""Draw page latency as a learner feels it: one stroke, in Chromium, from mouse-up to the updated prediction.

A trained model (the tutorial's network, one epoch on the offline subset, unless ``--model`` names one) is put in the
models folder of an app started for the bench (``tests/conftest.py``'s ``running_app``). One learner opens the Draw
page and draws a "7" (not measured: it loads TensorFlow and the model). Then, ``--strokes`` times, one more stroke
(three random points) goes over the 7 and is undone with the canvas's Undo (not measured); with ``--first`` the 7 is
undone first, so each stroke is a first drawing on the empty canvas. Per stroke:

- latency: from the canvas's mouse-up to the end of the run it causes (the app's script state goes running ->
  notRunning; the prediction and every figure are in the page by then), at the browser's next frame, in the page's
  own clock; the last such end within ``SETTLE_MS`` counts, should a run start another. Split at the canvas's
  message to the server (``pages/parts/digit_canvas.js`` sends it as the pen lifts);
- main thread: Chrome's own busy time (CDP ``Performance.getMetrics``: ``TaskDuration``, of it ``ScriptDuration``)
  from mouse-down until ``SETTLE_MS`` after that run ended: drawing the stroke (until mouse-up), then the rest.

Prints the medians and 95th percentiles against the targets (issue 22: 0.25 s, 0.3 s of main thread per digit)
and the load averages before and after: the browser, the server and anything else share the machine's cores.

Usage: python bench/stroke_latency.py [--strokes 20] [--model path/to/model.keras] [--seed 0] [--first]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path[:0] = [str(TESTS), str(TESTS.parent)]

import numpy as np  # noqa: E402
from conftest import CHROMIUM_ARGS, chromium_path, open_app_page, running_app, wait_until_idle  # noqa: E402
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from test_draw_page import SEVEN, draw_stroke  # noqa: E402

TARGET_LATENCY_S, TARGET_MAIN_THREAD_S = 0.25, 0.3
ANSWER_TIMEOUT_MS = 30_000
SETTLE_MS = 600  # after a run ends: what the browser still draws (charts render a moment later) is counted
MARKS_JS = """() => {
    window.marks = {up: 0, sent: [], done: []};
    document.addEventListener('pointerup', () => { window.marks.up = performance.now(); }, true);
    const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function (...message) {
        window.marks.sent.push(performance.now());
        return send.apply(this, message);
    };
    const app = document.querySelector('[data-testid="stApp"]');
    new MutationObserver(() => {
        if (app.getAttribute('data-test-script-state') === 'notRunning')
            requestAnimationFrame(() => window.marks.done.push(performance.now()));
    }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""  # the last mouse-up, the messages to the server, and the frames at which runs ended, in the page's own clock
SINCE_UP_JS = """() => [window.marks.sent.find(time => time > window.marks.up) - window.marks.up,
    Math.max(...window.marks.done.filter(time => time > window.marks.up)) - window.marks.up]"""


def trained_model(folder: Path) -> Path:
    """The tutorial's network (the app's default architecture) fitted one epoch on the offline subset, saved."""
    from cnnlib.mnist.data import load_mnist
    from cnnlib.network.architecture import Hyperparameters, build_model, one_hot
    from cnnlib.store.saved import save_model

    data, hp = load_mnist("offline"), Hyperparameters(epochs=1)
    model = build_model(hp, steps_per_epoch=len(data.x_train) // hp.batch_size)
    model.fit(data.x_train[..., None] / np.float32(255), one_hot(data.y_train), epochs=1, batch_size=hp.batch_size,
              verbose=0)
    return save_model(model, "stroke-bench", {"data_source": "offline"}, folder).path


def busy_seconds(cdp) -> tuple[float, float]:
    """The main thread's busy time so far (Chrome's ``TaskDuration``) and, of it, running scripts, in seconds."""
    metrics = {metric["name"]: metric["value"] for metric in cdp.send("Performance.getMetrics")["metrics"]}
    return metrics["TaskDuration"], metrics["ScriptDuration"]


def one_stroke(page, cdp, points: list[tuple[float, float]]) -> dict[str, float] | None:
    """Draw ``points``, wait for the page's answer, then undo it: the stroke's seconds, by what the bench prints;
    None when no run ended within ``ANSWER_TIMEOUT_MS``."""
    task, script = busy_seconds(cdp)
    draw_stroke(page, points)
    drawing, _ = busy_seconds(cdp)
    try:
        page.wait_for_function("() => window.marks.done.some(time => time > window.marks.up)",
                               timeout=ANSWER_TIMEOUT_MS)
    except PlaywrightTimeoutError:
        return None
    page.wait_for_timeout(SETTLE_MS)
    wait_until_idle(page)
    sent, done = (milliseconds / 1000 for milliseconds in page.evaluate(SINCE_UP_JS))
    task_after, script_after = busy_seconds(cdp)
    page.locator('button[data-action="undo"]').click()
    wait_until_idle(page)
    return {"latency": done, "sent": sent, "answer": done - sent, "main": task_after - task,
            "drawing": drawing - task, "redraw": task_after - drawing, "script": script_after - script}


def summary(name: str, values: list[float], target: float) -> str:
    """One line: median and 95th percentile of ``values`` (seconds) against ``target``."""
    p95 = float(np.percentile(values, 95))
    median = statistics.median(values)
    verdict = "meets" if median <= target else "misses"
    return f"{name:<34} median {median:6.3f} s   p95 {p95:6.3f} s   target {target:.2f} s ({verdict})"


def breakdown(results: list[dict[str, float]], parts: dict[str, str]) -> str:
    """Lines giving the median of each of ``parts`` (a result's key: what it is)."""
    return "\n".join(f"  {label:<32} median {statistics.median(result[key] for result in results):6.3f} s"
                     for key, label in parts.items())


def measure(url: str, count: int, seed: int, first: bool = False) -> list[dict[str, float] | None]:
    """Open the Draw page in Chromium, draw the 7, then ``count`` measured strokes over it (``first``: the 7 undone,
    each stroke on the empty canvas, so each is a first drawing, whose answer brings the page's panels)."""
    rng = np.random.default_rng(seed)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        open_app_page(page, url, "draw_digit")
        draw_stroke(page, SEVEN)
        page.get_by_text("Prediction:").wait_for(timeout=120_000)  # the first stroke loads TensorFlow and the model
        wait_until_idle(page, timeout_ms=60_000)
        if first:
            page.locator('button[data-action="undo"]').click()
            wait_until_idle(page)
        page.evaluate(MARKS_JS)
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")
        results = [one_stroke(page, cdp, [tuple(point) for point in rng.uniform(0.15, 0.85, (3, 2))])
                   for _ in range(count)]
        browser.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes", type=int, default=20)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--first", action="store_true", help="each stroke on an empty canvas (a first drawing)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="stroke-latency-"))
    try:
        if args.model is None:
            trained_model(folder)
        else:
            shutil.copy(args.model, folder / args.model.name)
        print(f"load average before: {' '.join(f'{load:.2f}' for load in os.getloadavg())}")
        with running_app(folder, folder / "streamlit.log") as server:
            answers = measure(server.url, args.strokes, args.seed, args.first)
        results = [answer for answer in answers if answer is not None]
        print(f"{args.strokes} strokes{' on an empty canvas' if args.first else ''}, one learner, Chromium headless; "
              f"{len(answers) - len(results)} not answered within {ANSWER_TIMEOUT_MS / 1000:.0f} s")
        print(summary("mouse-up to updated prediction", [result["latency"] for result in results], TARGET_LATENCY_S))
        print(breakdown(results, {"sent": "mouse-up to the canvas sending it", "answer": "sent to the page updated"}))
        print(summary("browser main thread per stroke", [result["main"] for result in results], TARGET_MAIN_THREAD_S))
        print(breakdown(results, {"drawing": "drawing the stroke", "redraw": "after mouse-up",
                                  "script": "scripts (all of it)"}))
        print(f"load average after: {' '.join(f'{load:.2f}' for load in os.getloadavg())}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
