"""Cold start: seconds from `streamlit run app.py` to the home page's digits visible in headless Chromium.

Usage: python bench/cold_start.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_health(url: str, timeout_s: float = 60) -> float:
    """Seconds until /_stcore/health answers."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout_s:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1):
                return time.perf_counter() - start
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(url)


def one_cold_start(browser) -> tuple[float, float]:
    """(health seconds, digits-visible seconds) for one fresh server process."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        health = wait_for_health(url)
        page = browser.new_page()
        page.goto(url)
        page.locator(".stPlotlyChart").first.locator("text=label").first.wait_for(timeout=60_000)
        visible = time.perf_counter() - started
        page.close()
        return health, visible
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    """Print each run's seconds and the median."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=os.environ.get("CNN_EXPLORER_CHROMIUM", "/usr/bin/chromium"),
                                             args=CHROMIUM_ARGS)
        results = [one_cold_start(browser) for _ in range(args.runs)]
        browser.close()
    for run, (health, visible) in enumerate(results, 1):
        print(f"run {run}: health {health:.2f} s, digits visible {visible:.2f} s")
    print(f"median cold start (process start -> digits visible): {statistics.median(v for _, v in results):.2f} s")


if __name__ == "__main__":
    main()
