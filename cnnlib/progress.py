"""The server side of training: start the trainer as a child process, follow its events, stop it, queue runs.

    registry = RunRegistry()                  # one per server (the page keeps it in st.cache_resource)
    run = registry.submit(config, "label")    # starts ``python -m cnnlib.train --events ...`` or queues it
    run.snapshot()                            # a copy of the progress, safe to read from any thread
    run.stop()                                # the child finishes its batch, evaluates, saves and exits

A reader thread per run turns the child's JSON lines into a ``Progress`` with ``apply_event``; nothing here
imports TensorFlow or Streamlit. A child that does not answer Stop is terminated; one that dies becomes
``failed`` with the last line it wrote to stderr.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cnnlib.train import TrainConfig

PROJECT_ROOT = Path(__file__).resolve().parents[1]
MAX_TRAININGS_ENV = "CNN_EXPLORER_MAX_TRAININGS"
STOP_ANSWER_TIMEOUT_S = 10.0  # one batch, even the first one (graph tracing on a busy CPU), ends well within this
FINISH_TIMEOUT_S = 120.0  # after answering Stop: evaluate on the test digits and save
RATE_WINDOW_S = 3.0
CHANCE_COST = math.log(10)  # cross-entropy of guessing each of 10 digits with probability 1/10: 2.30
EXPLODING_COST = 4 * CHANCE_COST  # a healthy run starts near 2.30 and only goes down
CHANCE_ACCURACY = 0.2
MIN_COST = 1e-12  # a batch's recovered cost can round to 0 (or just below); logs need a floor


@dataclass
class Progress:
    """What the page shows about one run; built from the trainer's events by ``apply_event``."""

    state: str = "queued"  # then running, stopping (asked to stop), and at last done or failed; or cancelled
    phase: str = "waiting"  # starting (TensorFlow, data), training, evaluating, saving, finished
    message: str = ""
    device: str = ""
    data_source: str = ""
    data_description: str = ""
    train_count: int = 0
    validation_count: int = 0
    test_count: int = 0
    epochs: int = 0
    batch_size: int = 0
    steps_per_epoch: int = 0
    epoch: int = 0  # 1-based epoch in progress
    batch: int = 0  # batches done in that epoch
    batch_costs: list[float] = field(default_factory=list)  # each batch's own cost
    batch_times: list[float] = field(default_factory=list)  # seconds since training began, per batch
    epoch_costs: list[float] = field(default_factory=list)  # mean cost of each finished epoch
    epoch_positions: list[float] = field(default_factory=list)  # where each epoch ended (a stopped one: early)
    epoch_accuracies: list[float] = field(default_factory=list)  # training accuracy (dropout on)
    val_accuracies: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    images_per_second: float | None = None
    started_at: float | None = None  # time.time() when the child was started
    finished_at: float | None = None
    stopped_early: bool = False
    test_accuracy: float | None = None
    confusion: list[list[int]] | None = None
    misclassified: list[list[int]] = field(default_factory=list)  # [test index, true digit, predicted digit]
    misclassified_count: int = 0
    model_name: str = ""
    model_path: str = ""

    @property
    def finished(self) -> bool:
        """True once the run is done, failed, or was cancelled before it started."""
        return self.state in ("done", "failed", "cancelled")

    @property
    def batches_done(self) -> int:
        """Batches trained so far, over all epochs."""
        return len(self.batch_costs)

    @property
    def batch_positions(self) -> list[float]:
        """Each batch's place on an epoch axis: batch 37 of 37 in epoch 1 sits at 1.0."""
        steps = max(self.steps_per_epoch, 1)
        return [(index + 1) / steps for index in range(len(self.batch_costs))]

    @property
    def elapsed_s(self) -> float:
        """Seconds since the child was started (until it finished)."""
        if self.started_at is None:
            return 0.0
        return (self.finished_at or time.time()) - self.started_at

    @property
    def fraction_done(self) -> float:
        """Share of all planned batches trained, 0..1."""
        total = self.epochs * self.steps_per_epoch
        return min(1.0, self.batches_done / total) if total else 0.0

    @property
    def eta_s(self) -> float | None:
        """Seconds of training left at the current speed (validation not counted)."""
        if not self.images_per_second or self.finished:
            return None
        batches_left = self.epochs * self.steps_per_epoch - self.batches_done
        return batches_left * self.batch_size / self.images_per_second


def apply_event(progress: Progress, event: dict) -> None:
    """Fold one trainer event (see cnnlib/train.py) into ``progress``."""
    kind = event.get("event")
    if kind == "started":
        progress.state = "stopping" if progress.state == "stopping" else "running"
        progress.phase = "training"
        for name in ("device", "data_source", "data_description", "train_count", "validation_count", "test_count",
                     "epochs", "batch_size", "steps_per_epoch"):
            setattr(progress, name, event[name])
    elif kind == "batch":
        progress.epoch, progress.batch = event["epoch"], event["batch"]
        progress.batch_costs.append(event["cost"])
        progress.batch_times.append(event["t"])
        progress.images_per_second = _recent_rate(progress) or progress.images_per_second
    elif kind == "epoch":
        progress.epoch_positions.append(progress.batch_positions[-1] if progress.batch_costs else event["epoch"])
        progress.epoch_costs.append(event["cost"])
        progress.epoch_accuracies.append(event["accuracy"])
        progress.val_accuracies.append(event["val_accuracy"])
        progress.epoch_seconds.append(event["seconds"])
    elif kind == "stopped":
        progress.stopped_early = True
        progress.state = "stopping"
    elif kind in ("evaluating", "saving"):
        progress.phase = kind
    elif kind == "evaluated":
        progress.test_accuracy = event["test_accuracy"]
        progress.confusion = event["confusion"]
        progress.misclassified = event["misclassified"]
        progress.misclassified_count = event["misclassified_count"]
    elif kind == "saved":
        progress.model_name, progress.model_path = event["model_name"], event["model_path"]
    elif kind == "finished":
        progress.state, progress.phase, progress.finished_at = "done", "finished", time.time()
    elif kind == "failed":
        progress.state, progress.phase, progress.message = "failed", "finished", event["message"]
        progress.finished_at = time.time()


def _recent_rate(progress: Progress) -> float | None:
    """Images per second over this epoch's last few seconds of batches (so validation pauses do not count)."""
    this_epoch = progress.batch_times[-progress.batch:]
    recent = [t for t in this_epoch if this_epoch[-1] - t <= RATE_WINDOW_S]
    if len(recent) < 2 or recent[-1] <= recent[0]:
        return None
    return (len(recent) - 1) * progress.batch_size / (recent[-1] - recent[0])


def smoothed(costs: list[float], weight: float = 0.9) -> list[float]:
    """Bias-corrected exponential moving average of log(cost), back as a cost: a running geometric mean.

    In log space the trend drawn on the log axis follows the batches instead of lagging for dozens of batches
    behind an early cost of 500. ``smoothed([2, 2, 2]) == [2, 2, 2]``; the first value is always the first cost.
    """
    result, average = [], 0.0
    for index, cost in enumerate(costs, start=1):
        average = weight * average + (1 - weight) * math.log(max(cost, MIN_COST))
        result.append(math.exp(average / (1 - weight**index)))
    return result


@dataclass(frozen=True)
class Diagnosis:
    """One sign that a run is not learning well: its kind and a sentence with the numbers."""

    kind: str  # exploding (now), exploded (earlier), chance (accuracy near 10%), dead (digits never predicted)
    summary: str


def diagnose(progress: Progress) -> list[Diagnosis]:
    """The tutorial recipe's failure signs in ``progress``, most serious first; empty while the run looks healthy."""
    costs, findings = progress.batch_costs, []
    if any(not math.isfinite(cost) for cost in costs):
        return [Diagnosis("exploding", "The cost became infinite or NaN: training diverged.")]
    trend = smoothed(costs)
    if len(costs) >= 5 and trend[-1] > EXPLODING_COST:
        findings.append(Diagnosis("exploding", f"The cost is {trend[-1]:,.1f}, {trend[-1] / CHANCE_COST:,.0f} "
                                               f"times the {CHANCE_COST:.2f} of guessing at random."))
    elif sum(cost > EXPLODING_COST for cost in costs) >= 3:
        findings.append(Diagnosis("exploded", f"The cost shot up to {max(costs):,.0f}, {max(costs) / CHANCE_COST:,.0f} "
                                              f"times the {CHANCE_COST:.2f} of guessing, before it came down."))
    last_accuracy = progress.val_accuracies[-1] if progress.val_accuracies else None
    if last_accuracy is not None and last_accuracy <= CHANCE_ACCURACY:
        findings.append(Diagnosis("chance", f"Validation accuracy is {last_accuracy:.0%} after "
                                            f"{len(progress.val_accuracies)} epoch(s): no better than guessing (10%)."))
    elif len(costs) >= 100 and abs(sum(costs[-50:]) / 50 - CHANCE_COST) < 0.05:
        findings.append(Diagnosis("chance", f"The cost is stuck at {CHANCE_COST:.2f} = ln 10, the cost of guessing "
                                            "each digit with probability 1/10."))
    if progress.confusion is not None:
        never = [str(digit) for digit, count in enumerate(np.sum(progress.confusion, axis=0)) if count == 0]
        if never:
            findings.append(Diagnosis("dead", f"It never predicts {', '.join(never)}: the units that would "
                                              "recognise them died early and never recovered."))
    return findings


class TrainingRun:
    """One training: its config, its child process, and a thread-safe progress snapshot."""

    def __init__(self, run_id: int, config: TrainConfig, label: str, on_exit=None) -> None:
        self.run_id, self.config, self.label = run_id, config, label
        self._progress = Progress(epochs=config.hp.epochs, batch_size=config.hp.batch_size)
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None
        self._stderr_path: Path | None = None
        self._terminated_reason = ""
        self._on_exit = on_exit

    def __repr__(self) -> str:
        return f"TrainingRun({self.run_id}, {self.label!r}, {self._progress.state})"

    def command(self) -> list[str]:
        """The child's command line: the CLI in events mode."""
        return [sys.executable, "-m", "cnnlib.train", "--events", *self.config.to_args()]

    def start(self) -> None:
        """Start the child process and the thread that reads its events."""
        handle, stderr_path = tempfile.mkstemp(prefix=f"cnn-train-{self.run_id}-", suffix=".log")
        self._stderr_path = Path(stderr_path)
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}
        with self._lock:
            self._progress.state, self._progress.phase, self._progress.started_at = "running", "starting", time.time()
            self._process = subprocess.Popen(self.command(), cwd=PROJECT_ROOT, env=env, stdin=subprocess.PIPE,
                                             stdout=subprocess.PIPE, stderr=handle, text=True, bufsize=1)
        os.close(handle)
        self._reader = threading.Thread(target=self._follow, name=f"train-run-{self.run_id}", daemon=True)
        self._reader.start()

    def _follow(self) -> None:
        """Apply each JSON line the child prints; when its output ends, settle the final state."""
        for line in self._process.stdout:
            if not line.startswith("{"):
                continue  # a library's stray print
            try:
                event = json.loads(line)
            except ValueError:
                continue
            with self._lock:
                apply_event(self._progress, event)
        returncode = self._process.wait()
        with self._lock:
            if not self._progress.finished:
                self._progress.state, self._progress.phase = "failed", "finished"
                self._progress.message = self._terminated_reason or self._last_error_line(returncode)
                self._progress.finished_at = time.time()
        self._stderr_path.unlink(missing_ok=True)
        if self._on_exit:
            self._on_exit(self)

    def _last_error_line(self, returncode: int) -> str:
        """The child's last stderr line that is not TensorFlow's start-up chatter, or its exit code."""
        try:
            lines = [line.strip() for line in self._stderr_path.read_text(errors="replace").splitlines()]
        except OSError:
            lines = []
        lines = [line for line in lines if line and not line.startswith(("I0000", "W0000", "E0000", "WARNING: All"))]
        if lines:
            return lines[-1][:300]
        if returncode < 0:
            return f"The trainer was killed by signal {-returncode} (out of memory?)."
        return f"The trainer exited with code {returncode} without saying why."

    def snapshot(self) -> Progress:
        """A deep copy of the progress, safe to use after the lock is released."""
        with self._lock:
            return copy.deepcopy(self._progress)

    @property
    def state(self) -> str:
        """The run's state: queued, running, stopping, done, failed or cancelled."""
        with self._lock:
            return self._progress.state

    def stop(self) -> None:
        """Ask the child to stop after its current batch (or cancel a queued run); terminate it if it hangs."""
        with self._lock:
            state = self._progress.state
            if state == "queued":
                self._progress.state, self._progress.phase = "cancelled", "finished"
                self._progress.message = "Cancelled while waiting in the queue."
                self._progress.finished_at = time.time()
                return
            if state != "running":
                return
            self._progress.state = "stopping"
        try:
            self._process.stdin.write("stop\n")
            self._process.stdin.flush()
        except OSError:  # the child already exited; the reader thread settles the state
            return
        threading.Thread(target=self._watch_stop, name=f"train-stop-{self.run_id}", daemon=True).start()

    def _watch_stop(self) -> None:
        """Terminate the child if it does not answer Stop within seconds, or does not finish after answering."""
        deadline = time.monotonic() + STOP_ANSWER_TIMEOUT_S
        while time.monotonic() < deadline and self._process.poll() is None:
            with self._lock:
                answered = self._progress.stopped_early or self._progress.finished
            if answered:
                deadline = min(deadline, time.monotonic()) + FINISH_TIMEOUT_S
                break
            time.sleep(0.05)
        try:
            self._process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self._terminated_reason = "The trainer did not answer Stop, so it was terminated; nothing was saved."
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run has finished (True) or ``timeout`` passed (False)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.snapshot().finished or (self._reader and self._reader.is_alive()):
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True


class RunRegistry:
    """Every run on this server; at most ``max_running`` train at once, the others wait in a queue."""

    def __init__(self, max_running: int | None = None) -> None:
        self.max_running = max(1, max_running or int(os.environ.get(MAX_TRAININGS_ENV, "1")))
        self._runs: dict[int, TrainingRun] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def submit(self, config: TrainConfig, label: str) -> TrainingRun:
        """Create a run; it starts now if a slot is free, else when the runs ahead of it finish."""
        with self._lock:
            run = TrainingRun(next(self._ids), config, label, on_exit=lambda _: self._start_waiting())
            self._runs[run.run_id] = run
        self._start_waiting()
        return run

    def get(self, run_id: int | None) -> TrainingRun | None:
        """The run with this id, or None."""
        with self._lock:
            return self._runs.get(run_id)

    def active(self) -> list[TrainingRun]:
        """Runs that are training or stopping."""
        with self._lock:
            runs = list(self._runs.values())
        return [run for run in runs if run.state in ("running", "stopping")]

    def queue_position(self, run: TrainingRun) -> int:
        """How many queued runs are ahead of ``run`` (0 for the next one); -1 if it is not queued."""
        with self._lock:
            queued = [other.run_id for other in self._runs.values() if other.state == "queued"]
        return queued.index(run.run_id) if run.run_id in queued else -1

    def _start_waiting(self) -> None:
        """Start queued runs, oldest first, while slots are free."""
        with self._lock:
            runs = list(self._runs.values())
            busy = sum(run.state in ("running", "stopping") for run in runs)
            for run in runs:
                if busy >= self.max_running:
                    break
                if run.state == "queued":
                    run.start()
                    busy += 1
