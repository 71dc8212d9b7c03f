"""Shared fixtures: offline data for every test, and a real app server driven by headless Chromium.

Browser tests carry ``@pytest.mark.browser`` and use ``app_url`` + ``page``. They skip when Chromium is missing,
unless ``CNN_EXPLORER_REQUIRE_BROWSER=1`` (CI), where a missing browser fails.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APP_PATH = str(ROOT / "app.py")  # AppTest resolves relative paths against the calling file, so pass this
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SERVER_START_TIMEOUT_S = 60
FAKE_TRAINER = (sys.executable, "tests/fake_trainer.py")  # plays a scripted run fast, speaking the real protocol
IDLE_APP = '[data-testid="stApp"][data-test-script-state="notRunning"]'  # what Streamlit's own e2e tests wait for
COST_CURVE_BATCHES_JS = """() => {
    const chart = document.querySelector('.st-key-train_cost_curve [aria-label]:not(button)');
    const count = chart && /\\d+/.exec(chart.getAttribute('aria-label'));
    return count ? Number(count[0]) : 0;
}"""  # how many batches the live cost curve holds now (0 before it appears), read from the chart's own description

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CNN_EXPLORER_DATA", "offline")  # no test may need the network


def chromium_path() -> str:
    """Where Chromium is: ``$CNN_EXPLORER_CHROMIUM`` or Debian's ``/usr/bin/chromium``."""
    return os.environ.get("CNN_EXPLORER_CHROMIUM", "/usr/bin/chromium")


def _free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_health(url: str, process: subprocess.Popen, log: Path, timeout_s: float) -> None:
    """Poll ``/_stcore/health`` until the server answers; fail with its log if it dies or stays silent."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}: {log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"streamlit did not answer on {url} within {timeout_s} s")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item):
    """When a browser test fails, keep a screenshot and report what the page showed, so CI logs explain it."""
    report = yield
    page = getattr(item, "funcargs", {}).get("page")
    if report.when == "call" and report.failed and page is not None:
        screenshot = Path(tempfile.gettempdir()) / f"{item.name}.png"
        page.screenshot(path=str(screenshot))
        buttons = page.evaluate("""() => [...document.querySelectorAll('[data-testid="stMainBlockContainer"] button')]
            .filter(b => b.offsetParent).map(b => b.innerText.trim() + (b.disabled ? ' (disabled)' : ''))""")
        status = page.locator('[data-testid="stStatusWidget"], [data-testid="stConnectionStatus"]').all_inner_texts()
        report.sections.append(("page at failure", f"screenshot: {screenshot}\nbuttons: {buttons}\nstatus: {status}"))
    return report


@pytest.fixture(autouse=True)
def no_models_in_the_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point ``CNN_EXPLORER_MODELS_DIR`` at a temporary folder, so that no test saves into the project's models/."""
    monkeypatch.setenv("CNN_EXPLORER_MODELS_DIR", str(tmp_path / "models"))


class _Recorded(logging.Handler):
    """Keeps every record it is given."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def no_page_bug(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test in which a page met a bug: pages catch every exception and log it (``pages.parts.errors``), so
    ``at.exception`` stays empty; tests that make a bug on purpose say so with ``@pytest.mark.page_bug``."""
    handler, logger = _Recorded(), logging.getLogger("pages.parts.errors")
    logger.addHandler(handler)
    yield
    logger.removeHandler(handler)
    if handler.records and request.node.get_closest_marker("page_bug") is None:
        pytest.fail(f"a page logged a bug: {handler.records[0].getMessage()}", pytrace=False)


def script(monkeypatch: pytest.MonkeyPatch, **steps: object) -> None:
    """The fake trainer's script for the runs started from now on (see ``tests/fake_trainer.py``)."""
    monkeypatch.setenv("FAKE_TRAINER", json.dumps(steps))


def train_in_process(capsys: pytest.CaptureFixture, *arguments: str) -> tuple[int, str]:
    """``python -m cnnlib.train ARGUMENTS`` in this process, where TensorFlow is already imported: the exit code and
    what it printed. One test runs the real command (tests/test_train.py); the others need not start Python again."""
    from cnnlib.training.cli import main

    handler = signal.getsignal(signal.SIGINT)  # the command makes Ctrl-C finish the batch and save
    try:
        code = main(list(arguments))
    finally:
        signal.signal(signal.SIGINT, handler)
    return code, capsys.readouterr().out


@pytest.fixture
def fake_server(monkeypatch: pytest.MonkeyPatch):
    """The server's run registry replaced by a one-at-a-time registry of fake trainers, for tests of the pages and
    the run lifecycle where the trainer itself is not what is tested; every run ends with the test."""
    from cnnlib.training import runs

    registry = runs.RunRegistry(max_running=1, launcher=runs.Launcher(FAKE_TRAINER))
    monkeypatch.setattr(runs, "server_registry", lambda: registry)
    yield registry
    registry.shutdown()


@pytest.fixture(scope="session")
def offline_mnist():
    """The offline MNIST subset (``cnnlib.mnist.data.load_mnist("offline")``), loaded once."""
    from cnnlib.mnist.data import load_mnist

    return load_mnist("offline")


@pytest.fixture(scope="session")
def small_trained_model(offline_mnist):
    """The tutorial's network with smaller layers, trained 2 epochs on the offline subset (about 4 s, ~0.93): one
    for the whole session, for tests that explain or read a trained network without changing it."""
    import numpy as np

    from cnnlib.network.architecture import Hyperparameters, build_model, one_hot

    hp = Hyperparameters(conv1_filters=16, conv2_filters=32, dense_units=64, epochs=2, batch_size=50,
                         learning_rate=1e-3, lr_decay="none", seed=0)
    model = build_model(hp)
    model.fit(offline_mnist.x_train[..., None] / np.float32(255), one_hot(offline_mnist.y_train), epochs=hp.epochs,
              batch_size=hp.batch_size, verbose=0)
    return model


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The models folder the test server reads (``CNN_EXPLORER_MODELS_DIR``); tests may write models into it."""
    return tmp_path_factory.mktemp("models")


@dataclass(frozen=True)
class AppServer:
    """A running app: its URL and its server process's id."""

    url: str
    pid: int


@contextmanager
def running_app(models_dir: Path, log: Path) -> Iterator[AppServer]:
    """Run ``streamlit run app.py`` headless on a free loopback port, logging to ``log``; yield it; stop it."""
    port = _free_port()
    env = {**os.environ, "CNN_EXPLORER_MODELS_DIR": str(models_dir)}
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.address", "127.0.0.1", "--server.port", str(port),
               "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    with log.open("w") as output:  # a file, not a pipe: nobody reads a pipe, and a full one would freeze the server
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_health(url, process, log, SERVER_START_TIMEOUT_S)
        yield AppServer(url, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def app_url(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app served for the whole test session (see ``running_app``)."""
    with running_app(models_dir, tmp_path_factory.mktemp("server") / "streamlit.log") as server:
        yield server.url


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium for the whole session, driven by Playwright (never ``playwright install``)."""
    executable = chromium_path()
    if not Path(executable).exists():
        reason = f"Chromium not found at {executable} (install Debian's chromium or set CNN_EXPLORER_CHROMIUM)"
        if os.environ.get("CNN_EXPLORER_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser tab (its own Streamlit session), 1400x1000, closed after the test."""
    with separate_tabs(browser, 1) as [tab]:
        yield tab


@contextmanager
def separate_tabs(browser, count: int, **options) -> Iterator[list]:
    """``count`` tabs of 1400x1000, each in a browser context of its own (no shared cookies or storage: a learner
    each), with ``options`` for every context; closed afterwards."""
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}, **options) for _ in range(count)]
    tabs = [context.new_page() for context in contexts]
    for tab in tabs:
        tab.set_default_timeout(30_000)
    try:
        yield tabs
    finally:
        for context in contexts:
            context.close()


def open_app_page(page, app_url: str, url_path: str = "") -> None:
    """Open one page of the app by its URL path (home is ``""``); wait until its script has run and its widgets show."""
    page.goto(f"{app_url}/{url_path}")
    page.wait_for_selector(IDLE_APP)  # the state is "initial" until the first run
    page.wait_for_selector('[data-testid="stSkeleton"]', state="detached")  # widgets draw a moment after the run


def keyed_button(page, key: str):
    """The app's button with this widget key (Streamlit marks it with the class ``st-key-<key>``).

    By key, not by label: two steppers both have a "Next", and Streamlit's status widget has a "Stop" of its own.
    Visible only: a button with ``help`` is drawn twice, once hidden.
    """
    return page.locator(f".st-key-{key} button:visible")


def wait_until_idle(page, timeout_ms: int = 30_000) -> None:
    """After a click: give the rerun a moment to start, then wait until Streamlit has finished running the script."""
    page.wait_for_timeout(300)
    page.wait_for_selector(IDLE_APP, timeout=timeout_ms)
