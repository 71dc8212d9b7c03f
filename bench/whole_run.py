"""A whole run as fast as plain Keras? The CLI against a plain ``model.fit`` of the same network and recipe, each a
whole process from its start to its exit, fastest of ``--rounds`` (issue 22, item 2; target ratio >= 0.90).

Both train the tutorial's network (3x3 convs 32 and 64, pools, FC 256, 256, 10, dropout 0.25, the tutorial's N(0, 1)
filters) with the plain recipe pinned by flags: batches of 100, Adam 1e-3, no warm-up, no decay, no redrawing, no
augmentation, for ``--epochs`` epochs on the same 55,000 training digits, validated on the same 5,000 after each
epoch, tested on the 10,000 test digits, and saved as a ``.keras`` file. The CLI does what the Train page's runs do
besides: each batch's cost as an event, the weights kept for replay and tested, the snapshots and the card saved.
Rounds alternate CLI and plain so that both meet the machine in the same state. Each process's phases are printed
from the moments its lines arrive: start (imports, data, network: until the first batch), the epochs, and what
follows the last batch (replay's tests, testing, saving) until the process has exited.

Usage: python bench/whole_run.py [--npz ../shared/data/mnist.npz] [--epochs 2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PINNED = ["--preset", "tutorial", "--learning-rate", "0.001", "--kernel-size", "3", "--batch-size", "100",
          "--warmup", "0", "--lr-decay", "none", "--drawn-share", "0", "--augment", "off"]
PLAIN = """
import sys, time, json
def say(phase): print(json.dumps({"event": phase}), flush=True)
import numpy as np, keras
from keras import layers
npz, epochs, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with np.load(npz) as data:
    x_train, y_train, x_test, y_test = (data[k] for k in ("x_train", "y_train", "x_test", "y_test"))
x_train, x_test = (x_train / 255.0).astype("float32")[..., None], (x_test / 255.0).astype("float32")[..., None]
x_val, y_val, x_train, y_train = x_train[:5000], y_train[:5000], x_train[5000:], y_train[5000:]
normal = keras.initializers.RandomNormal(stddev=1.0)
conv = dict(kernel_size=3, padding="same", activation="relu", kernel_initializer=normal, bias_initializer=normal)
model = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(32, **conv), layers.MaxPooling2D(2, padding="same"),
    layers.Conv2D(64, **conv), layers.MaxPooling2D(2, padding="same"), layers.Flatten(),
    layers.Dense(256, activation="relu"), layers.Dropout(0.25), layers.Dense(256, activation="relu"),
    layers.Dropout(0.25), layers.Dense(10)])
model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=keras.losses.CategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
class Said(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if batch == 0: say("batch")
    def on_epoch_end(self, epoch, logs=None): say("epoch")
model.fit(x_train, np.eye(10)[y_train], batch_size=100, epochs=epochs, verbose=0, callbacks=[Said()],
          validation_data=(x_val, np.eye(10)[y_val]))
say("evaluating")
model.evaluate(x_test, np.eye(10)[y_test], batch_size=1000, verbose=0)
say("saving")
model.save(out)
say("finished")
"""


def timed(command: list[str]) -> list[tuple[float, str]]:
    """Run ``command`` (stdin kept open: the CLI's events mode stops at its end), stamping each event line it prints
    with the seconds since the process started; the exit is the last stamp."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    stamps = []
    for line in process.stdout:
        try:
            stamps.append((time.perf_counter() - started, json.loads(line)["event"]))
        except (ValueError, KeyError, TypeError):
            continue
    if process.wait() != 0:
        raise RuntimeError(f"{command[:3]} exited with {process.returncode}")
    stamps.append((time.perf_counter() - started, "exited"))
    return stamps


def phases(stamps: list[tuple[float, str]]) -> dict[str, float]:
    """Seconds of each phase: start (to the first batch), each epoch, after (last epoch to exit), whole."""
    first_batch = next(at for at, event in stamps if event == "batch")
    epoch_ends = [at for at, event in stamps if event == "epoch"]
    result = {"start": first_batch}
    for number, (begin, end) in enumerate(zip([first_batch, *epoch_ends], epoch_ends), 1):
        result[f"epoch {number}"] = end - begin
    after = {event: at for at, event in stamps}
    for phase in ("evaluating", "saving", "exited"):
        result[f"to {phase}"] = after[phase] - epoch_ends[-1]
    result["whole"] = stamps[-1][0]
    return result


def main() -> None:
    """Alternate CLI and plain runs, print each run's phases, the fastest of each and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--npz", default=str(ROOT.parent / "shared" / "data" / "mnist.npz"))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="whole-run-"))
    commands = {"cli": [sys.executable, "-m", "cnnlib.train", "--events", "--data", "npz", "--npz", args.npz,
                        "--epochs", str(args.epochs), *PINNED, "--out", str(folder / "cli.keras")],
                "plain": [sys.executable, "-c", PLAIN, args.npz, str(args.epochs), str(folder / "plain.keras")]}
    best = {}
    for round_number in range(1, args.rounds + 1):
        for name, command in commands.items():
            run = phases(timed(command))
            print(f"round {round_number} {name:5s}: " + ", ".join(f"{phase} {seconds:.1f} s"
                                                                 for phase, seconds in run.items()), flush=True)
            if name not in best or run["whole"] < best[name]["whole"]:
                best[name] = run
    print(f"fastest of {args.rounds} ({os.cpu_count()} CPUs, {args.epochs} epochs): CLI {best['cli']['whole']:.1f} s, "
          f"plain fit {best['plain']['whole']:.1f} s, ratio plain / CLI {best['plain']['whole'] / best['cli']['whole']:.2f}")


if __name__ == "__main__":
    main()
