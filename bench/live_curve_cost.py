"""What the live cost curve costs the learner's machine: with a run training and the Train page open in headless
Chromium (offline subset, classroom mode, the kept-ready trainer), the browser's main thread (Chrome's own task
timer, ``Performance.getMetrics`` TaskDuration), all of Chromium's CPU (its processes in /proc) and the trainer's CPU,
each per second over ``--windows`` windows of ``--seconds`` seconds, after ``--settle`` seconds of the run. The page
refreshes the curve once a second by itself; nothing is clicked meanwhile. A self-learner's browser shares the cores
with the trainer, so what the page costs the browser is taken from training.

Usage: python bench/live_curve_cost.py [--windows 2] [--seconds 15] [--settle 8]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from first_cost import CHROMIUM_ARGS, IDLE_APP, classroom_server, is_trainer, processes, wait_until_trainer_idle


def cpu_seconds(server_pid: int) -> tuple[float, float]:
    """CPU seconds used so far by Chromium's processes and by the server's trainers."""
    chromium = trainer = 0.0
    for _, parent, seconds, command in processes():
        if b"chromium" in command:
            chromium += seconds
        elif is_trainer(parent, command, server_pid):
            trainer += seconds
    return chromium, trainer


def start_a_long_run(page) -> None:
    """100 epochs, so the run outlasts the windows; Start."""
    epochs = page.locator(".st-key-train_epochs input")
    epochs.fill("100")
    epochs.press("Enter")
    page.wait_for_timeout(500)
    page.wait_for_selector(IDLE_APP)
    page.locator(".st-key-train_start button:visible").click()


def measure(page, server_pid: int, seconds: float) -> tuple[float, float, float]:
    """Main thread, Chromium and trainer milliseconds per second over the next ``seconds``."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")

    def main_thread() -> float:
        return next(metric["value"] for metric in cdp.send("Performance.getMetrics")["metrics"]
                    if metric["name"] == "TaskDuration")

    busy, (chromium, trainer) = main_thread(), cpu_seconds(server_pid)
    time.sleep(seconds)
    later, (chromium_later, trainer_later) = main_thread(), cpu_seconds(server_pid)
    return tuple(1000 * (b - a) / seconds for a, b in ((busy, later), (chromium, chromium_later),
                                                        (trainer, trainer_later)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--windows", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--settle", type=float, default=8.0)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as models, classroom_server(models) as (url, server_pid), \
            sync_playwright() as playwright:
        chromium = os.environ.get("CNN_EXPLORER_CHROMIUM", "/usr/bin/chromium")
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.goto(f"{url}/train")
        page.wait_for_selector(IDLE_APP, timeout=120_000)
        wait_until_trainer_idle(server_pid)
        start_a_long_run(page)
        time.sleep(args.settle)
        for window in range(1, args.windows + 1):
            main_thread, chromium, trainer = measure(page, server_pid, args.seconds)
            print(f"window {window}: browser main thread {main_thread:.0f} ms/s, Chromium CPU {chromium:.0f} ms/s, "
                  f"trainer CPU {trainer:.0f} ms/s")
        page.locator(".st-key-train_stop button:visible").click()
        page.locator(".st-key-train_start button:visible:enabled").wait_for(timeout=300_000)
        browser.close()


if __name__ == "__main__":
    main()
