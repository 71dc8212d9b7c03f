"""A class on one server (issue 10, item 7): N learners draw on the Draw page at once while one of them trains.

Each learner is a browser context of its own in one headless Chromium (async Playwright), in classroom mode, all reading
the teacher's model from ``<models>/shared/`` (the app's default preset trained on the offline subset by the CLI, unless
``--teacher-model`` names one), so every stroke runs the whole network. Each draws an MNIST test digit as one mouse
stroke every 2 s for ``--seconds`` (60), and undoes it. Measured per stroke: from mouse-up to the end of the run that
shows the updated ``Prediction: D`` (the page idle again with it; not the first run to end after mouse-up, which may be
the Undo's), waited for inside the page as its content changes: asking the page every few ms from here cost the browsers
it measures (and Playwright's driver) work no learner's browser does. Errors: no run within 10 s, no prediction within
10 s, an exception box, a JavaScript error. Learner 0 also trains on the Train page meanwhile; its images/s is compared
with the same training alone on the same server, before the load. The browsers, the server and the trainer share the
machine's CPUs, so the numbers are what one machine serves with its own browsers on it. A stroke with no answer within
10 s counts as slower than any answer in the percentiles. The CPU time each kind of process used meanwhile (read from
/proc: the Chromium processes, Playwright's driver, the server, its trainer, this bench, the rest) says what the class's
pace would need: the browsers' share is what the learners' own machines would pay, the server's how many learners it
serves with their browsers on their own machines.

Usage: python bench/classroom_load.py [--learners 10] [--seconds 60] [--teacher-model PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from cold_start import CHROMIUM_ARGS, ROOT
from drawn_digits import MOUSE_STEP, digit_strokes, train_default_model
from first_cost import IDLE_APP, classroom_server, is_trainer, processes

sys.path.insert(0, str(ROOT))
from cnnlib.mnist.data import load_offline  # noqa: E402
from cnnlib.store.saved import list_models  # noqa: E402
from cnnlib.store.workspace import workspace  # noqa: E402

RERUN_TIMEOUT_S, DRAW_EVERY_S, TRAIN_ALONE_S = 10.0, 2.0, 30.0
CPU_GROUPS = ("browsers", "driver", "server", "trainer", "bench", "other")  # what the machine's CPU time went to
MARKS_JS = """() => {
    window.marks = {up: [], sent: [], done: []};
    document.addEventListener('pointerup', event => {
        if (event.composedPath()[0].tagName === 'CANVAS') window.marks.up.push(performance.now());
    }, true);
    const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function (...message) {
        window.marks.sent.push(performance.now());
        return send.apply(this, message);
    };
    const app = document.querySelector('[data-testid="stApp"]');
    new MutationObserver(() => {
        if (app.getAttribute('data-test-script-state') === 'notRunning') window.marks.done.push(performance.now());
    }).observe(app, {attributes: true, childList: true, characterData: true, subtree: true});
    window.rerunAfter = (count) => {
        const up = window.marks.up[count - 1];
        const sent = window.marks.sent.find(time => time > up);
        const done = window.marks.done.filter(time => sent !== undefined && time > sent);
        return done.length ? Math.max(...done) - up : null;
    };
}"""  # the canvas's mouse-up times, the page's messages to the server and the times the page changed while no run was
# on, in its own clock: a run ends with the state going back to notRunning, or, when the browser is so busy that React
# draws a whole short run in one go, with its content changing while the state stays notRunning
SENT_AFTER_JS = """(count) => window.marks.sent.some(time => time > window.marks.up[count - 1])"""
ANSWER_JS = """([count, timeoutMs]) => new Promise(resolve => {
    const app = document.querySelector('[data-testid="stApp"]');
    const answer = () => {
        const latency = window.rerunAfter(count);
        const idle = app.getAttribute('data-test-script-state') === 'notRunning';
        return latency !== null && idle && app.textContent.includes('Prediction:') ? latency : null;
    };
    const finish = (latency) => { observer.disconnect(); clearTimeout(timer); resolve(latency); };
    const observer = new MutationObserver(() => { const latency = answer(); if (latency !== null) finish(latency); });
    const timer = setTimeout(() => finish(answer()), timeoutMs);
    observer.observe(app, {attributes: true, childList: true, characterData: true, subtree: true});
    const now = answer();
    if (now !== null) finish(now);
})"""  # the latest run end since the canvas sent stroke ``count`` (as the pen lifts; a run ending before is an Undo's),
# once the page is idle with a prediction, or null after ``timeoutMs``: waited for in the page, as its content changes,
# so that the bench's waiting costs the browsers it measures nothing between changes
RERUN_AFTER_JS = """(count) => window.rerunAfter(count)"""


def strokes(count: int) -> list[list[tuple[int, int]]]:
    """``count`` MNIST test digits as one mouse stroke each (the longest path of each, a point every ``MOUSE_STEP``
    canvas pixels, as a hand moves: a digit takes about half a second to draw)."""
    paths = [max(digit_strokes(digit), key=len) for digit in load_offline().x_test[:count]]
    return [path[::MOUSE_STEP] + path[-1:] for path in paths]


async def stroke(page, path: list[tuple[int, int]]) -> None:
    """Drag the mouse along ``path`` on the canvas."""
    box = await page.locator("canvas.digit-canvas").bounding_box()
    await page.mouse.move(box["x"] + path[0][0], box["y"] + path[0][1])
    await page.mouse.down()
    for x, y in path[1:]:
        await page.mouse.move(box["x"] + x, box["y"] + y)
    await page.mouse.up()


async def one_digit(page, path, strokes_done: int) -> tuple[float | None, str | None]:
    """Draw one digit and wait for its prediction: (seconds from mouse-up to the end of the run that showed it, the
    error if any). The answer is the page idle again with ``Prediction: D`` in it."""
    await stroke(page, path)
    latency = await page.evaluate(ANSWER_JS, [strokes_done + 1, RERUN_TIMEOUT_S * 1000])
    if latency is None:
        ran = await page.evaluate(RERUN_AFTER_JS, strokes_done + 1) is not None
        return None, "no prediction within 10 s" if ran else await unanswered(page, strokes_done + 1)
    if await page.locator('[data-testid="stException"]').count():
        return latency / 1000, "exception box"
    return latency / 1000, None


async def unanswered(page, count: int) -> str:
    """Why stroke ``count`` got no run: its message never left the browser, or it left and no run followed."""
    sent = await page.evaluate(SENT_AFTER_JS, count)
    return "no rerun within 10 s: " + ("its message was sent, no run followed" if sent else "no message was sent")


async def open_draw_page(context, url: str, learner_id: str, path) -> object:
    """A learner's Draw page, its first stroke drawn (that loads the model; not measured) and undone."""
    page = await context.new_page()
    page.set_default_timeout(120_000)
    await page.goto(f"{url}/draw_digit?learner={learner_id}")
    await page.wait_for_selector(IDLE_APP)
    await page.locator("canvas.digit-canvas").wait_for()
    await page.evaluate(MARKS_JS)
    await stroke(page, path)
    await page.get_by_text("Prediction:").wait_for()
    await undo(page)
    return page


async def new_learner(browser, url: str, number: int, found: dict) -> tuple[object, str]:
    """A browser context of its own and the workspace id the app gave it; its JavaScript errors go into ``found``."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    context.on("page", lambda page: page.on("pageerror", lambda error: found["errors"].append(
        f"learner {number}: {error}")))
    found["contexts"].append(context)
    home = await context.new_page()
    await home.goto(url)
    await home.wait_for_selector(IDLE_APP)
    learner_id = home.url.split("learner=")[1].split("&")[0]
    await home.close()
    return context, learner_id


async def undo(page, wait: bool = True) -> None:
    """Clear the stroke with the canvas's Undo, as a learner would before the next digit (and wait for that rerun)."""
    await page.locator('button[data-action="undo"]').click()
    if wait:
        await page.wait_for_timeout(300)
        await page.wait_for_selector(IDLE_APP, timeout=30_000)


async def learner(browser, url: str, number: int, paths, start_at: float, stop_at: float, found: dict,
                  who: tuple | None = None) -> None:
    """One learner (``who``: their context and id, else a new one) drawing every 2 s from ``start_at`` until
    ``stop_at``; the latencies and errors go into ``found``."""
    context, learner_id = who or await new_learner(browser, url, number, found)
    page = await open_draw_page(context, url, learner_id, paths[number % len(paths)])
    print(f"learner {number} ready {start_at - time.monotonic():+.0f} s before the class starts", flush=True)
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    done = 1
    while time.monotonic() < stop_at:
        began = time.monotonic()
        latency, error = await one_digit(page, paths[(number + done) % len(paths)], done)
        done += 1
        found["latencies"].append(math.inf if latency is None else latency)  # unanswered: slower than any answer
        found["errors"] += [f"learner {number}: {error}"] if error else []
        await undo(page, wait=False)  # a stroke during its rerun restarts the run: the learner does not wait
        await asyncio.sleep(max(0.0, DRAW_EVERY_S - (time.monotonic() - began)))


async def train_for(context, learner_id: str, url: str, seconds: float, models: Path) -> float | None:
    """The learner trains (default preset, offline subset) for ``seconds``, then stops; the run's images/s (None
    when it saved no model: stopped before its first epoch ended)."""
    folder = workspace(learner_id, models).models_dir
    before = {model.name for model in list_models(folder)}
    page = await context.new_page()
    page.set_default_timeout(120_000)
    await page.goto(f"{url}/train?learner={learner_id}")
    await page.wait_for_selector(IDLE_APP)
    await page.locator(".st-key-train_epochs input").fill("100")
    await page.locator(".st-key-train_epochs input").press("Enter")
    await page.wait_for_timeout(500)
    await page.wait_for_selector(IDLE_APP)
    await page.locator(".st-key-train_start button:visible").click()
    await asyncio.sleep(seconds)
    await page.wait_for_selector(IDLE_APP)
    await page.locator(".st-key-train_stop button:visible").click()
    await page.locator(".st-key-train_start button:visible:enabled").wait_for(timeout=300_000)
    await page.close()
    saved = [model for model in list_models(folder) if model.name not in before]
    return saved[0].metadata.get("images_per_second") if saved else None


def group_of(pid: int, parent: int, command: bytes, server_pid: int) -> str:
    """What a process is, of ``CPU_GROUPS``: the server, its trainer, a Chromium process, Playwright's driver, this
    bench, or anything else on the machine."""
    if pid == server_pid:
        return "server"
    if is_trainer(parent, command, server_pid):
        return "trainer"
    if b"chromium" in command:
        return "browsers"
    if b"run-driver" in command:
        return "driver"
    return "bench" if pid == os.getpid() else "other"


def cpu_by_process(server_pid: int) -> dict[int, tuple[str, float]]:
    """Each process on this machine: what it is (``group_of``) and the CPU seconds it has used so far."""
    return {pid: (group_of(pid, parent, command, server_pid), seconds)
            for pid, parent, seconds, command in processes()}


async def class_cpu(server_pid: int, start_at: float, stop_at: float) -> dict[str, float]:
    """The CPU seconds each group of processes used while the class draws (a process that ended meanwhile is not
    counted; one that started, all of it)."""
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    before = cpu_by_process(server_pid)
    await asyncio.sleep(max(0.0, stop_at - time.monotonic()))
    totals = dict.fromkeys(CPU_GROUPS, 0.0)
    for pid, (group, seconds) in cpu_by_process(server_pid).items():
        totals[group] += seconds - before.get(pid, (group, 0.0))[1]
    return totals


async def measure(url: str, pid: int, models: Path, learners: int, seconds: float) -> dict:
    """Learner 0 trains alone; then all ``learners`` draw while learner 0 trains again; what was found (``pid``: the
    server's process, whose CPU time is read)."""
    from playwright.async_api import async_playwright

    paths, found = strokes(max(learners, 20)), {"latencies": [], "errors": [], "contexts": []}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=os.environ.get("CNN_EXPLORER_CHROMIUM", "/usr/bin/chromium"), args=CHROMIUM_ARGS)
        first = await new_learner(browser, url, 0, found)
        found["alone"] = await train_for(*first, url, TRAIN_ALONE_S, models)
        start_at = time.monotonic() + 60 + 3 * learners  # every learner's page is open and its model read by then
        drawing = [learner(browser, url, number, paths, start_at + number * DRAW_EVERY_S / learners,
                           start_at + seconds, found, first if number == 0 else None) for number in range(learners)]
        *_, found["cpu"], found["loaded"] = await asyncio.gather(
            *drawing, class_cpu(pid, start_at, start_at + seconds), train_after(*first, url, start_at, seconds, models))
        for context in found["contexts"]:
            await context.close()
        await browser.close()
    return found


async def train_after(context, learner_id: str, url: str, start_at: float, seconds: float, models: Path):
    """Learner 0's training during the load: from when the drawing starts until it ends."""
    await asyncio.sleep(max(0.0, start_at - time.monotonic() - 5))  # its trainer starts as the strokes begin
    return await train_for(context, learner_id, url, seconds, models)


def seconds_text(value: float) -> str:
    """A latency as the report prints it: an unanswered stroke's infinity as "none within 10 s"."""
    return f"{value:.2f} s" if math.isfinite(value) else f"none within {RERUN_TIMEOUT_S:.0f} s"


def latency_report(found: dict, learners: int, seconds: float) -> None:
    """Print the strokes' median, 95th percentile and slowest (unanswered strokes count as slower than any answer),
    and the errors."""
    unanswered = sum(not math.isfinite(latency) for latency in found["latencies"])
    latencies = sorted(found["latencies"]) or [math.nan]
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
    print(f"{learners} learners drawing every {DRAW_EVERY_S:.0f} s for {seconds:.0f} s on {os.cpu_count()} CPUs "
          f"(the browsers on the same machine): {len(found['latencies'])} strokes of the "
          f"{learners * seconds / DRAW_EVERY_S:.0f} the pace asks for, {unanswered} unanswered")
    print(f"mouse-up to updated prediction: p50 {seconds_text(statistics.median(latencies))}, "
          f"p95 {seconds_text(p95)}, max {seconds_text(latencies[-1])}")
    print(f"errors: {len(found['errors'])}" + "".join(f"\n  {error}" for error in found["errors"][:20]))


def cpu_report(found: dict, learners: int, seconds: float) -> None:
    """Print where the machine's CPU time went while the class drew, per stroke (with its undo), and how many cores
    the class's pace (one digit every ``DRAW_EVERY_S`` per learner) would need."""
    cpu, strokes_drawn = found["cpu"], max(1, len(found["latencies"]))
    per_stroke = {group: cpu[group] / strokes_drawn for group in CPU_GROUPS}
    print(f"CPU while drawing, of {seconds * os.cpu_count():.0f} CPU-seconds: " + ", ".join(
        f"{group} {cpu[group]:.1f} s ({per_stroke[group] * 1000:.0f} ms a stroke)" for group in CPU_GROUPS))
    pace = learners / DRAW_EVERY_S  # strokes a second at the class's pace
    print(f"at the class's pace ({pace:.0f} strokes a second): the browsers alone would need "
          f"{per_stroke['browsers'] * pace:.1f} cores, Playwright's driver {per_stroke['driver'] * pace:.1f}, "
          f"the server {per_stroke['server'] * pace:.1f}")
    if per_stroke["server"]:  # nothing drawn, nothing to scale
        print(f"with the browsers on the learners' own machines one core serves about "
              f"{DRAW_EVERY_S / per_stroke['server']:.0f} learners drawing every {DRAW_EVERY_S:.0f} s")


def report(found: dict, learners: int, seconds: float) -> None:
    """Print the latencies, the errors, where the CPU time went and the trainer's speed."""
    latency_report(found, learners, seconds)
    cpu_report(found, learners, seconds)
    alone, loaded = found["alone"], found["loaded"]
    ratio = f" ({loaded / alone:.0%} of alone)" if alone and loaded else ""
    print(f"trainer images/s: {alone} alone, {loaded} while the class draws{ratio}")


def main() -> None:
    """Start a classroom server with a teacher's model in shared/, run the class, print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--teacher-model", type=Path, help="a .keras file for shared/ (default: train one)")
    args = parser.parse_args()
    models = Path(tempfile.mkdtemp(prefix="classroom-models-"))
    (models / "shared").mkdir()
    teacher = args.teacher_model or train_default_model(models, seed=0)
    shutil.copy(teacher, models / "shared" / "teacher.keras")
    with classroom_server(models) as (url, pid):
        report(asyncio.run(measure(url, pid, models, args.learners, args.seconds)), args.learners, args.seconds)


if __name__ == "__main__":
    main()
