"""Does the model read drawn digits as well as scans? MNIST test digits redrawn as mouse strokes on the Draw canvas.

    python bench/drawn_digits.py                       # train the default preset on the offline subset, then measure
    python bench/drawn_digits.py --model models/x.keras --count 1000
    python bench/drawn_digits.py --model models/x.keras --chromium 50    # also draw 50 with the mouse in Chromium
    python bench/drawn_digits.py --seeds 0 1 2 --npz /path/mnist.npz   # three default models, official test digits
    python bench/drawn_digits.py --seeds 0 1 2 --npz /path/mnist.npz --train-npz   # ... trained on full MNIST

Two renderings turn each test digit into strokes on the 280x280 canvas (MNIST's 28x28 is the canvas at a tenth):
- **centre lines**: the digit scaled 10x, its ink thinned to a one-pixel skeleton (Zhang and Suen,
  ``cnnlib.mnist.strokes.centre_lines``, which also redraws training digits at 4x), the skeleton traced into mouse
  paths and painted ``--stroke`` pixels wide, as the canvas paints (white, round ends and joints, on black);
- **outlines**, independent of the first and of what training redraws: the pen follows the ink's outline moved inward
  by half its width (the contour of the ink's distance to the paper, ``scipy.ndimage`` and ``contourpy``), then
  again further in until the ink is filled, so it paints the digit's own shape, loops and blots included; each digit gets its own pen of 12-24 pixels, each stroke its
  own speed (the mouse reports a point every 3-12 pixels) and the hand trembles (1.5 pixels).
Fast mode paints both and prepares each picture with the app's own ``cnnlib.mnist.preprocess.prepare_digit``;
Chromium mode drags the mouse along the centre-line paths on the Draw page's canvas (``canvas.digit-canvas``) and
reads ``Prediction: D``. Each prints the model's accuracy on the drawn digits beside its accuracy on the same digits'
scans. Targets (issues 11 and 22): drawn >= 0.98 for both renderings, at most one point below scans.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from contourpy import LineType, contour_generator
from PIL import Image, ImageDraw
from scipy import ndimage

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from cnnlib.mnist.data import load_mnist  # noqa: E402
from cnnlib.mnist.preprocess import prepare_digit  # noqa: E402
from cnnlib.mnist.strokes import CANVAS_SIDE as CANVAS  # noqa: E402
from cnnlib.mnist.strokes import PEN_WIDTH as STROKE  # noqa: E402
from cnnlib.mnist.strokes import centre_lines  # noqa: E402
IDLE_APP = '[data-testid="stApp"][data-test-script-state="notRunning"]'  # as tests/conftest.py waits
MOUSE_STEP = 6  # canvas pixels between the mouse's points along a path
PEN_WIDTHS = (12, 24)  # canvas pixels: the outline rendering's pen, one width a digit
MOUSE_STEPS = (3.0, 12.0)  # canvas pixels between the points a mouse reports along a stroke: slow to fast
THIN = 0.3  # the first outline lies no deeper than this share of the ink's widest half: thin joins survive
FILL_STEP = 0.75  # pens between one outline and the next one in
TREMBLE = 1.5  # canvas pixels: the hand's tremble at each reported point (standard deviation)
NEIGHBOURS = [(-1, 0), (0, 1), (1, 0), (0, -1), (-1, 1), (1, 1), (1, -1), (-1, -1)]  # 4-neighbours first


def trace(lines: np.ndarray) -> list[list[tuple[int, int]]]:
    """One-pixel lines as mouse paths of (x, y) points, each starting at a line end where there is one."""
    left = {(int(r), int(c)) for r, c in zip(*np.nonzero(lines))}
    done: set[tuple[int, int]] = set()
    paths = []

    def free(point):
        return [(point[0] + dy, point[1] + dx) for dy, dx in NEIGHBOURS if (point[0] + dy, point[1] + dx) in left]

    while left:
        start = min(left, key=lambda point: (len(free(point)), point))
        joined = [(start[0] + dy, start[1] + dx) for dy, dx in NEIGHBOURS if (start[0] + dy, start[1] + dx) in done]
        path, point = joined[:1] + [start], start  # a branch starts on the line it leaves, so the strokes touch
        left.discard(start)
        while nxt := free(point):
            point = nxt[0]
            left.discard(point)
            path.append(point)
        done.update(path)
        paths.append([(c, r) for r, c in path])
    return paths


def ink_on_canvas(digit: np.ndarray) -> np.ndarray:
    """A 28x28 uint8 digit scaled 10x onto the canvas, its ink where it is at least half the darkest: bool."""
    big = np.asarray(Image.fromarray(digit).resize((CANVAS, CANVAS), Image.Resampling.BILINEAR), np.float32)
    return big >= 0.5 * big.max()


def digit_strokes(digit: np.ndarray) -> list[list[tuple[int, int]]]:
    """A 28x28 uint8 digit as mouse paths on the 280x280 canvas: scaled 10x, thresholded at half, thinned, traced."""
    return trace(centre_lines(ink_on_canvas(digit)[np.newaxis])[0])


def mouse_path(line: np.ndarray, rng: np.random.Generator) -> list[tuple[float, float]]:
    """A contour's (x, y) points as a mouse reports them moving along it: a point every few pixels, trembling."""
    lengths = np.r_[0, np.cumsum(np.hypot(*np.diff(line, axis=0).T))]
    at = np.append(np.arange(0, lengths[-1], rng.uniform(*MOUSE_STEPS)), lengths[-1])
    points = np.column_stack([np.interp(at, lengths, line[:, 0]), np.interp(at, lengths, line[:, 1])])
    return [(float(x), float(y)) for x, y in points + rng.normal(0, TREMBLE, points.shape)]


def outline_strokes(digit: np.ndarray, pen: int, rng: np.random.Generator) -> list[list[tuple[float, float]]]:
    """Mouse paths along the digit's outline moved inward by half the pen, then every three quarters of a pen further
    in (so no gap shows) until the ink is filled, as a hand colours a wide stroke in."""
    depth = ndimage.distance_transform_edt(ink_on_canvas(digit))
    first = min(pen / 2, THIN * depth.max())  # the pen stays inside the ink, its thinner parts included
    generator = contour_generator(z=depth, line_type=LineType.Separate)
    return [mouse_path(line, rng) for level in np.arange(first, depth.max(), FILL_STEP * pen)
            for line in generator.lines(level) if len(line) > 1]


def outline_inputs(digits: np.ndarray, seed: int) -> np.ndarray:
    """Every digit drawn along its outline with its own pen and prepared by the app: ``(N, 28, 28, 1)`` float32."""
    rng = np.random.default_rng(seed)
    pictures = []
    for digit in digits:
        pen = int(rng.integers(PEN_WIDTHS[0], PEN_WIDTHS[1] + 1))
        pictures.append(prepare_digit(paint(outline_strokes(digit, pen, rng), pen)).image)
    return np.stack(pictures)[..., None]


def paint(paths: list[list[tuple[int, int]]], stroke: int = STROKE) -> np.ndarray:
    """Paths painted as the canvas paints a freehand stroke: white, round ends and joints, on black; RGBA uint8."""
    image = Image.new("RGBA", (CANVAS, CANVAS), (0, 0, 0, 255))
    draw, radius = ImageDraw.Draw(image), stroke / 2
    for path in paths:
        if len(path) > 1:
            draw.line(path, fill=(255, 255, 255, 255), width=stroke, joint="curve")
        for x, y in (path[0], path[-1]):
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=(255, 255, 255, 255))
    return np.asarray(image)


def drawn_inputs(digits: np.ndarray, stroke: int) -> np.ndarray:
    """Every digit drawn as strokes and prepared by the app: ``(N, 28, 28, 1)`` float32, what the model reads."""
    return np.stack([prepare_digit(paint(digit_strokes(digit), stroke)).image for digit in digits])[..., None]


def train_default_model(directory: Path, seed: int, npz: str | None = None) -> Path:
    """The app's default preset trained by the app's CLI with ``seed`` on the offline subset, or on the MNIST file
    ``npz`` (all of it, as on a server that has full MNIST); the saved model's path."""
    out = directory / f"default-{'npz' if npz else 'offline'}-seed{seed}.keras"
    data = ["--data", "npz", "--npz", npz] if npz else ["--data", "offline"]
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "cnnlib.train", *data, "--seed", str(seed), "--out", str(out)],
                            cwd=ROOT, capture_output=True, text=True, check=True)
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"default preset on {summary['train_count']:,} {summary['data_source']} digits, seed {seed}: test accuracy "
          f"{summary['test_accuracy']:.4f}, {summary['seconds']:.1f} s in the trainer, "
          f"{time.perf_counter() - started:.1f} s wall")
    return out


def fast_mode(model, digits: np.ndarray, labels: np.ndarray, stroke: int, seed: int) -> dict:
    """Accuracy on the scans and on the same digits drawn both ways (outline pens and trembles drawn from ``seed``)."""
    started = time.perf_counter()
    inputs = {"scans": (digits.astype(np.float32) / 255)[..., None], "drawn": drawn_inputs(digits, stroke),
              "outlines": outline_inputs(digits, seed)}
    rendered_s = time.perf_counter() - started
    accuracy = {name: float(np.mean(np.argmax(model.predict(x, batch_size=500, verbose=0), axis=1) == labels))
                for name, x in inputs.items()}
    return {"count": len(digits), "stroke": stroke, **accuracy, "render_seconds": round(rendered_s, 1)}


@contextmanager
def app_server(models: Path):
    """``streamlit run app.py`` on a free loopback port, offline data, models from ``models``; yields its URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "CNN_EXPLORER_MODELS_DIR": str(models), "CNN_EXPLORER_DATA": "offline"}
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.address",
               "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def draw_and_read(browser, url: str, paths: list[list[tuple[int, int]]]) -> int | None:
    """Open the Draw page in a new session, drag the mouse along ``paths`` on its canvas, read ``Prediction: D``;
    None when no prediction showed (the page is saved as drawn-digit-unread.png in the temporary folder)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(90_000)
    try:
        page.goto(url)
        page.wait_for_selector(IDLE_APP)
        page.locator('[data-testid="stSidebarNav"]').get_by_text("Draw a digit", exact=True).click()
        page.wait_for_selector(IDLE_APP)
        canvas = page.locator("canvas.digit-canvas")
        canvas.wait_for()
        box = canvas.bounding_box()
        # A person's pointer is over the canvas before they press. Until it is, the canvas's toolbar waits unseen
        # over the top-right 30 pixels of the drawing area, and a stroke started there is lost (digit 33's was).
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_timeout(500)
        for path in paths:
            points = [(box["x"] + x * box["width"] / CANVAS, box["y"] + y * box["height"] / CANVAS)
                      for x, y in path[::MOUSE_STEP] + path[-1:]]
            page.mouse.move(*points[0])
            page.mouse.down()
            for x, y in points[1:]:
                page.mouse.move(x, y, steps=2)
            page.mouse.up()
            page.wait_for_timeout(300)
            page.wait_for_selector(IDLE_APP)
        page.wait_for_timeout(1500)  # the last stroke's rerun may start late on a busy machine
        page.wait_for_selector(IDLE_APP)
        text = page.get_by_text("Prediction:").first.inner_text()
        return int(text.split(":")[1].split()[0])
    except PlaywrightTimeoutError:
        page.screenshot(path=str(Path(tempfile.gettempdir()) / "drawn-digit-unread.png"), full_page=True)
        return None
    finally:
        context.close()


def chromium_mode(model_path: Path, digits: np.ndarray, labels: np.ndarray) -> dict:
    """Draw each digit with the mouse on the Draw page (a fresh session each) and count the predictions read right."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as models, sync_playwright() as playwright:
        shutil.copy(model_path, models)
        shutil.copy(model_path.with_suffix(".json"), models)
        browser = playwright.chromium.launch(executable_path=os.environ.get("CNN_EXPLORER_CHROMIUM",
                                                                            "/usr/bin/chromium"),
                                             args=["--headless", "--no-sandbox", "--disable-gpu"])
        read, seconds = [], []
        with app_server(Path(models)) as url:
            for digit in digits:
                started = time.perf_counter()
                read.append(draw_and_read(browser, url, digit_strokes(digit)))
                seconds.append(time.perf_counter() - started)
        browser.close()
    right = int(sum(answer == label for answer, label in zip(read, labels)))
    return {"count": len(digits), "right": right, "accuracy": right / len(digits), "unread": read.count(None),
            "median_s": statistics.median(seconds),
            "read": read, "labels": [int(label) for label in labels]}


def parse_arguments() -> argparse.Namespace:
    """The bench's options."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="a saved .keras model; default: train the default preset on the offline subset")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="without --model: one default model a seed")
    parser.add_argument("--npz", help="read the test digits from this MNIST .npz (the official ones); default: offline")
    parser.add_argument("--train-npz", action="store_true", help="train the default models on all of --npz")
    parser.add_argument("--count", type=int, default=1000, help="test digits to draw (the offline subset has 1,000)")
    parser.add_argument("--stroke", type=int, default=STROKE, help="stroke width in canvas pixels (canvas default 18)")
    parser.add_argument("--chromium", type=int, default=0, help="also draw this many with the mouse on the Draw page")
    return parser.parse_args()


def measure(path: Path, digits: np.ndarray, labels: np.ndarray, args: argparse.Namespace, seed: int) -> dict:
    """One model's fast-mode numbers (and Chromium's when asked), printed as a line each; returns them."""
    from cnnlib.store.saved import load_model

    result = {"model": path.name, **fast_mode(load_model(path), digits, labels, args.stroke, seed)}
    print(f"fast mode: {result['count']} test digits: centre lines (stroke {result['stroke']}) {result['drawn']:.3f}, "
          f"outlines {result['outlines']:.3f}, scans {result['scans']:.3f} ({result['render_seconds']} s to draw)")
    if args.chromium:
        result["chromium"] = chromium_mode(path, digits[:args.chromium], labels[:args.chromium])
        print(f"Chromium: {result['chromium']['right']} of {args.chromium} drawn digits read right "
              f"({result['chromium']['accuracy']:.3f}; {result['chromium']['unread']} showed no prediction), "
              f"median {result['chromium']['median_s']:.1f} s a digit")
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    args = parse_arguments()
    data = load_mnist("npz", args.npz) if args.npz else load_mnist("offline")
    digits, labels = data.x_test[:args.count], data.y_test[:args.count]
    with tempfile.TemporaryDirectory() as directory:
        for seed in [args.seeds[0]] if args.model else args.seeds:
            trained_on = args.npz if args.train_npz else None
            path = Path(args.model) if args.model else train_default_model(Path(directory), seed, trained_on)
            measure(path, digits, labels, args, seed)


if __name__ == "__main__":
    main()
