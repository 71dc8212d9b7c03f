"""A stand-in for ``python -m cnnlib.train --serve`` that plays a scripted run fast, for lifecycle and fault tests.

It speaks the real protocol (one JSON list of arguments on stdin, then JSON events out, ``stop`` in) with the
app's own emitter and stop listener; ``FAKE_TRAINER`` (JSON) sets its timing and its faults:

    start_s       seconds before ``started`` (importing TensorFlow, loading digits)
    batches       batches per epoch (2 epochs); batch_s seconds each
    pause_s       seconds after the last batch before ``evaluating`` (the last epoch's validation)
    eval_s, save_s   seconds evaluating and saving
    ignore_stop   true: never answer Stop
    die_at        batch number at which it kills itself with SIGKILL
    bad_event     true: print an event the server cannot fold (a batch without its cost)
    fail_saving   a message: fail while saving, as a models folder that cannot be written does

It saves a small file at ``--out`` (then its JSON card), so a test can see that what was learned was kept.
"""

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cnnlib.training.protocol import JsonLinesEmitter, stop_on_request  # noqa: E402

SCRIPT = {"start_s": 0.0, "batches": 5, "batch_s": 0.05, "pause_s": 0.0, "eval_s": 0.0, "save_s": 0.0,
          **json.loads(os.environ.get("FAKE_TRAINER", "{}"))}


def train(out: Path, emit, stop: threading.Event) -> None:
    """Two epochs of scripted batches; Stop is answered after the current batch unless the script ignores it."""
    emit({"event": "started", "device": {"kind": "cpu", "threads": 2}, "data_source": "offline", "train_count": 100,
          "validation_count": 9, "test_count": 1000, "epochs": 2, "batch_size": 50, "steps_per_epoch": SCRIPT["batches"],
          "hyperparameters": {}})
    for epoch in (1, 2):
        for batch in range(1, SCRIPT["batches"] + 1):
            time.sleep(SCRIPT["batch_s"])
            if SCRIPT.get("die_at") == batch:
                os.kill(os.getpid(), signal.SIGKILL)
            emit({"event": "batch", "epoch": epoch, "batch": batch, "t": time.monotonic(),
                  **({} if SCRIPT.get("bad_event") else {"cost": 2.3 / batch})})
            if stop.is_set() and not SCRIPT.get("ignore_stop"):
                emit({"event": "stopped", "epoch": epoch, "batch": batch})
                return
        emit({"event": "epoch", "epoch": epoch, "cost": 1.0, "accuracy": 0.5, "val_cost": 1.0, "val_accuracy": 0.5,
              "seconds": 0.1, "images_per_second": 1000.0, "t": time.monotonic()})
    if SCRIPT.get("ignore_stop"):
        time.sleep(3600)


def finish(out: Path, emit) -> None:
    """Evaluate and save, each taking the scripted time."""
    time.sleep(SCRIPT["pause_s"])
    emit({"event": "evaluating", "done": 0, "count": 1000})
    time.sleep(SCRIPT["eval_s"])
    emit({"event": "evaluated", "test_accuracy": 0.9, "confusion": [[100 if i == j else 0 for j in range(10)]
                                                                    for i in range(10)],
          "misclassified": [], "misclassified_count": 0})
    emit({"event": "saving"})
    time.sleep(SCRIPT["save_s"])
    if SCRIPT.get("fail_saving"):
        emit({"event": "failed", "message": SCRIPT["fail_saving"]})
        sys.exit(1)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(b"model")
    out.with_suffix(".json").write_text(json.dumps({"test_accuracy": 0.9}))
    emit({"event": "saved", "model_name": out.stem, "model_path": str(out)})
    emit({"event": "finished", "summary": {}})


def main() -> None:
    """Read the arguments, then play the script."""
    line = sys.stdin.readline()
    if not line.strip():
        return
    arguments = json.loads(line)
    out = Path(arguments[arguments.index("--out") + 1])
    time.sleep(SCRIPT["start_s"])
    emit, stop = JsonLinesEmitter(sys.stdout), stop_on_request(sys.stdin)
    train(out, emit, stop)
    finish(out, emit)


if __name__ == "__main__":
    main()
