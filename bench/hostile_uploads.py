"""Hostile uploads through the app in Chromium: every crafted file of issue 20, and how much the server grew.

Each crafted ``.keras`` file (``tests/test_hostile_models.py``: a Dense of a million units in a 66 KB file, 50,000
nested lists, 200 members, weights compressed 1000:1 or declaring 3.5 GiB, …, and the issue's own: real weights
followed by 3.5 GiB of zeros, deflated to a few MB) is uploaded on the Train page's "Bring your own model", as a
learner would; the 13,000x13,000 PNG goes up as a photo on the Draw page, and the canvas's crafted pictures
(``tests/test_hostile_pictures.py``) replace the drawing in the canvas's own message to the server (the browser's
websocket, rewritten on its way). For each: the sentence the page showed, and the server process's peak memory
(``VmHWM``) above where it stood after a real model had been uploaded and a digit drawn (both load what a normal
visit loads: TensorFlow, Keras, h5py). Afterwards a digit is drawn again and must be read.

Usage: python bench/hostile_uploads.py    (target: the peak rises by at most 100 MB over all of them together)
"""

from __future__ import annotations

import base64
import json
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path[:0] = [str(TESTS), str(TESTS.parent)]

from conftest import CHROMIUM_ARGS, chromium_path, open_app_page, running_app, wait_until_idle  # noqa: E402
from peak_memory import peak_kb, reset_peak  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from test_draw_page import SEVEN, draw_stroke  # noqa: E402
from test_hostile_models import HOSTILE, WEIGHTS, real_members, zipped  # noqa: E402
from test_hostile_pictures import BOMB_SIDE, black_png, hostile_canvas_pictures  # noqa: E402

TARGET_MB = 100
ZEROS_GIB = 3.5
SENTENCES = ('[data-testid="stAlertContentError"], [data-testid="stAlertContentWarning"], '
             '[data-testid="stException"]')  # what the page says went wrong


def weights_and_zeros(real: dict[str, bytes], folder: Path) -> bytes:
    """The issue's file: the real weights followed by 3.5 GiB of zeros in one deflated member (a few MB)."""
    path = folder / "zeros.keras"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("config.json", real["config.json"])
        archive.writestr("metadata.json", real["metadata.json"])
        with archive.open(WEIGHTS, "w", force_zip64=True) as weights:
            weights.write(real[WEIGHTS])
            chunk = bytes(2**24)
            for _ in range(int(ZEROS_GIB * 2**30) // len(chunk)):
                weights.write(chunk)
    return path.read_bytes()


def crafted_models(folder: Path) -> tuple[dict[str, bytes], bytes]:
    """Every crafted model file by name, and the real model they were made from."""
    real = real_members(folder)
    files = {name: craft(real) for name, (craft, _) in HOSTILE.items()}
    files["real weights and 3.5 GiB of zeros"] = weights_and_zeros(real, folder)
    return files, zipped(list(real.items()))


def shown(page) -> str:
    """What the page says went wrong, once its run is over: its errors and warnings, joined."""
    wait_until_idle(page, timeout_ms=120_000)
    texts = [" ".join(text.split()).removeprefix("error ").removeprefix("warning ")  # the icon's name
             for text in page.locator(SENTENCES).all_inner_texts()]
    return " | ".join(text for text in texts if text) or "(nothing)"


def upload(page, key: str, name: str, data: bytes) -> str:
    """Upload ``data`` as ``name`` through the file uploader with widget key ``key``; the page's sentence."""
    page.locator(f".st-key-{key} input[type=file]").set_input_files(
        {"name": name, "mimeType": "application/octet-stream", "buffer": data})
    page.wait_for_timeout(500)
    return shown(page)


class CanvasRewriter:
    """Puts a crafted picture in the canvas's next message to the server, as a crafted client would."""

    def __init__(self) -> None:
        self.picture: bytes | None = None

    def route(self, socket) -> None:
        """Playwright's websocket route: every message from the page passes ``rewritten`` on its way."""
        server = socket.connect_to_server()
        socket.on_message(lambda message: server.send(self.rewritten(message)))

    def rewritten(self, message: str | bytes) -> str | bytes:
        """``message`` with the canvas's picture replaced by ``self.picture`` (once), else unchanged."""
        if self.picture is None or not isinstance(message, bytes):
            return message
        back = BackMsg()
        back.ParseFromString(message)
        for widget in back.rerun_script.widget_states.widgets if back.HasField("rerun_script") else []:
            value = json.loads(widget.json_value) if widget.id.endswith("-draw_canvas") else {}
            if (value.get("drawing") or {}).get("png"):
                value["drawing"]["png"] = base64.b64encode(self.picture).decode()
                widget.json_value, self.picture = json.dumps(value), None
                return back.SerializeToString()
        return message


def warm_up(page, url: str, real: bytes) -> None:
    """What a normal visit does first: a real model uploaded, a digit drawn and read."""
    open_app_page(page, url, "train")
    print(f"{'a real model (warm-up)':38s} {upload(page, 'train_model_upload', 'real.keras', real)}")
    drawn_and_read(page, url)


def drawn_and_read(page, url: str) -> None:
    """Draw a 7 on the Draw page and wait for the network's answer."""
    open_app_page(page, url, "draw_digit")
    draw_stroke(page, SEVEN)
    page.get_by_text("Prediction:").wait_for(timeout=120_000)
    wait_until_idle(page, timeout_ms=120_000)


def report(name: str, sentence: str, pid: int, base_kb: int) -> None:
    """One line: what was sent, what the page said, the peak's rise so far."""
    print(f"{name[:38]:38s} +{(peak_kb(pid) - base_kb) / 1024:5.1f} MB  {sentence[:200]}")


def send_everything(page, url: str, pid: int, models: dict[str, bytes], rewriter: CanvasRewriter) -> int:
    """Every crafted input through the app; the peak's rise over all of them, in kB."""
    reset_peak(pid)
    base = peak_kb(pid)
    open_app_page(page, url, "train")
    for name, data in models.items():
        report(name, upload(page, "train_model_upload", f"{name}.keras", data), pid, base)
    open_app_page(page, url, "draw_digit")
    page.get_by_text("Upload a picture", exact=True).click()
    wait_until_idle(page)
    report(f"a {BOMB_SIDE:,}x{BOMB_SIDE:,} photo", upload(page, "draw_upload", "huge.png", black_png(BOMB_SIDE)), pid,
           base)
    page.get_by_text("Draw", exact=True).click()
    wait_until_idle(page)
    for name, (picture, _) in hostile_canvas_pictures().items():
        rewriter.picture = picture
        draw_stroke(page, SEVEN)
        page.wait_for_timeout(500)
        report(f"canvas picture: {name}", shown(page), pid, base)
    return peak_kb(pid) - base


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="hostile_") as scratch, sync_playwright() as playwright:
        folder = Path(scratch)
        started = time.perf_counter()
        models, real = crafted_models(folder)
        print(f"{len(models)} crafted model files made in {time.perf_counter() - started:.0f} s")
        with running_app(folder / "models", folder / "streamlit.log") as server:
            browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(120_000)
            rewriter = CanvasRewriter()
            page.route_web_socket("**/_stcore/stream", rewriter.route)
            warm_up(page, server.url, real)
            rise_kb = send_everything(page, server.url, server.pid, models, rewriter)
            drawn_and_read(page, server.url)
            browser.close()
    print(f"after all of them the app still draws and reads a digit; the server's peak memory rose "
          f"{rise_kb / 1024:.1f} MB over them together (target: at most {TARGET_MB} MB): "
          f"{'met' if rise_kb / 1024 <= TARGET_MB else 'MISSED'}")


if __name__ == "__main__":
    main()
