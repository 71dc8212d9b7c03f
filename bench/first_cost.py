"""A curve that moves at once: seconds from the click on Start to the first batch's cost drawn on the Train page,
in headless Chromium, on the offline subset (issue 11, item 5; target 1.5 s; issue 22: 0.5 s). Prints each run and
the median. The page is watched at each of its frames, from inside it: the time is taken once a frame showing the
cost has been drawn (the frame after the one whose check first saw the curve's description count a batch).

Each run is a new learner (classroom mode, a browser context of its own, so no earlier run is on the page), who reads
the page before pressing Start: the run waits until the trainer the server keeps ready is idle (TensorFlow imported,
a step traced), then clicks. ``--cold`` starts the server with ``CNN_EXPLORER_TRAINER_READY=0``:
each run then starts its trainer on the click, as before. ``--ray`` points the server at a Ray cluster started here
first with this machine's cores (``cnnlib.training.cluster.cluster_in_this_process``; one machine, and the report says
so): the trainer kept ready is then a Ray actor, and the run waits until that actor is idle. Wall seconds depend on
what else the machine runs, so the bench also prints the trainer's own CPU seconds from the click to the first cost,
and the load average.

Usage: python bench/first_cost.py [--runs 3] [--cold] [--ray]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cold_start import CHROMIUM_ARGS, ROOT, free_port, wait_for_health

FIRST_COST_SHOWN_JS = """() => /\\d/.test(document.querySelector('.st-key-train_cost_curve [aria-label]:not(button)')
    ?.getAttribute('aria-label'))"""  # the live curve's description counts its batches (tests/conftest.py reads it)
PAINTED_JS = """shown => new Promise((resolve, reject) => {
    const check = () => requestAnimationFrame(shown() ? resolve : check);
    requestAnimationFrame(check);
    setTimeout(() => reject(new Error('no first cost within 300 s')), 300000);
})"""  # resolves at the frame after the one that first showed it, so that frame has been drawn
IDLE_APP = '[data-testid="stApp"][data-test-script-state="notRunning"]'
ACTOR_TITLE = b"ray::TrainerActor"
IDLE_CPU_S = 0.05  # CPU seconds a second below which the trainer counts as idle


def process_stat(pid: int | str) -> tuple[int, float]:
    """Process ``pid``'s parent and the CPU seconds it has used so far, user and system (its children's not
    included), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def is_trainer(parent: int, command: bytes, server_pid: int) -> bool:
    """Whether a process is one of the server's trainers: a child running the CLI, or a Ray trainer actor (Ray names
    an actor's worker process after its class)."""
    return (parent == server_pid and b"cnnlib.train" in command) or command.startswith(ACTOR_TITLE)


def processes() -> Iterator[tuple[int, int, float, bytes]]:
    """Every process on this machine: its id, its parent, the CPU seconds it has used so far and its command line."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():  # /proc/self and the kernel's own files
            continue
        try:
            parent, seconds = process_stat(entry.name)
            command = (entry / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        yield int(entry.name), parent, seconds, command


def trainers(server_pid: int) -> dict[int, float]:
    """CPU seconds used so far by each trainer process of the server, by process id."""
    return {pid: seconds for pid, parent, seconds, command in processes() if is_trainer(parent, command, server_pid)}


def wait_until_trainer_idle(server_pid: int, quiet_s: int = 3, timeout_s: float = 300) -> None:
    """Wait until the trainer kept ready has used under ``IDLE_CPU_S`` a second for ``quiet_s`` seconds (its warm-up
    is over; a Ray actor's own threads keep a trickle going)."""
    deadline, seen, quiet = time.monotonic() + timeout_s, None, 0
    while time.monotonic() < deadline and quiet < quiet_s:
        time.sleep(1.0)
        now = trainers(server_pid)
        idle = bool(now) and seen is not None and now.keys() == seen.keys() and all(
            now[pid] - seen[pid] < IDLE_CPU_S for pid in now)
        quiet, seen = quiet + 1 if idle else 0, now
    if quiet < quiet_s:
        raise TimeoutError("the trainer kept ready never went idle")


def one_run(browser, url: str, server_pid: int, cold: bool) -> tuple[float, float]:
    """(wall seconds, trainer CPU seconds) from the click on Start to the first cost on the page."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(f"{url}/train")
    page.wait_for_selector(IDLE_APP, timeout=120_000)
    if not cold:
        wait_until_trainer_idle(server_pid)
    before = trainers(server_pid)
    start = page.locator(".st-key-train_start button:visible")
    clicked = time.perf_counter()
    start.click()
    page.evaluate(f"({PAINTED_JS})({FIRST_COST_SHOWN_JS})")
    wall = time.perf_counter() - clicked
    cpu = sum(seconds - before.get(pid, 0.0) for pid, seconds in trainers(server_pid).items())
    page.wait_for_selector(IDLE_APP, timeout=60_000)  # the page redraws once the first cost is in
    page.locator(".st-key-train_stop button:visible").click()
    page.locator(".st-key-train_start button:visible:enabled").wait_for(timeout=300_000)  # stopped, tested, saved
    context.close()
    return wall, cpu


@contextmanager
def classroom_server(models: str | Path, trainer_ready: bool = True, settings: dict | None = None):
    """``streamlit run app.py`` in classroom mode on the offline subset, models in ``models``, with the README's
    classroom settings (no file watcher) and ``settings`` in its environment: yields (url, pid)."""
    port = free_port()
    env = {**os.environ, "CNN_EXPLORER_DATA": "offline", "CNN_EXPLORER_MODELS_DIR": str(models),
           "CNN_EXPLORER_CLASSROOM": "1", "CNN_EXPLORER_TRAINER_READY": "1" if trainer_ready else "0",
           "TF_CPP_MIN_LOG_LEVEL": "2", **(settings or {})}
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                               "--server.port", str(port), "--server.address", "127.0.0.1",
                               "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_health(url)
        yield url, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextmanager
def trainings_where(on_ray: bool):
    """The server's settings for where it trains: nothing (child processes), or a Ray cluster of this machine's cores
    started here, its address and token."""
    if not on_ray:
        yield {}
        return
    sys.path.insert(0, str(ROOT))
    from cnnlib.training.cluster import cluster_in_this_process

    with cluster_in_this_process(os.cpu_count()):
        import ray

        yield {"CNN_EXPLORER_RAY_ADDRESS": ray.get_runtime_context().gcs_address,
               "RAY_AUTH_TOKEN": os.environ["RAY_AUTH_TOKEN"], "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}


def main() -> None:
    """Start a server, time ``--runs`` Starts in Chromium, print each and the median."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cold", action="store_true", help="no trainer kept ready")
    parser.add_argument("--ray", action="store_true", help="train on a Ray cluster started here first")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    results = []
    with trainings_where(args.ray) as settings, \
            classroom_server(tempfile.mkdtemp(prefix="first-cost-models-"), not args.cold, settings) as (url, pid), \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=os.environ.get("CNN_EXPLORER_CHROMIUM",
                                                                            "/usr/bin/chromium"), args=CHROMIUM_ARGS)
        for number in range(1, args.runs + 1):
            results.append(one_run(browser, url, pid, args.cold))
            print(f"run {number}: first cost {results[-1][0]:.2f} s after Start "
                  f"(trainer CPU {results[-1][1]:.2f} s; load average {os.getloadavg()[0]:.1f})", flush=True)
        browser.close()
    mode = ("cold trainer" if args.cold else "trainer kept ready") + (
        ", on a Ray cluster of this one machine" if args.ray else ", a child process of the server")
    print(f"median ({mode}, {args.runs} runs, {os.cpu_count()} CPUs): "
          f"{statistics.median(wall for wall, _ in results):.2f} s from Start to the first cost; "
          f"trainer CPU {statistics.median(cpu for _, cpu in results):.2f} s")


if __name__ == "__main__":
    main()
