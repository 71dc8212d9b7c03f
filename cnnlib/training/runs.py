"""Where trainings run: each in a child process, followed by a thread; the only module that starts either.

    registry = server_registry()          # one per server: every browser session's runs
    run = registry.submit(config)         # starts ``python -m cnnlib.train --events ...`` now, or queues it
    run.snapshot()                        # a copy of the progress, safe to read from any thread
    run.stop()                            # the child finishes its batch, evaluates, saves and exits

Both ends of the pipe live here: the child prints one JSON event per line (``JsonLinesEmitter``) and stops when
``stop`` or the end of its stdin arrives (``stop_on_request``); the server's reader thread folds the lines into a
``Progress``. The child never shares the Streamlit server's process, because Streamlit calls
``keras.backend.clear_session()`` after every rerun. A child that does not answer Stop is terminated; one that dies
becomes ``failed`` with the last line it wrote to stderr.
"""

from __future__ import annotations

import copy
import functools
import itertools
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from pathlib import Path
from typing import NamedTuple

from cnnlib.training.config import TrainConfig
from cnnlib.training.progress import Ending, Event, Phase, Progress, RunState, apply_event

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MAX_TRAININGS_ENV = "CNN_EXPLORER_MAX_TRAININGS"
STOP_LINE = "stop"
STOP_ANSWER_TIMEOUT_S = 10.0  # one batch, even the first one (graph tracing on a busy CPU), ends well within this
FINISH_TIMEOUT_S = 120.0  # after answering Stop: evaluate on the test digits and save
EVENT_FLUSH_INTERVAL_S = 0.1
STARTUP_CHATTER = ("I0000", "W0000", "E0000", "WARNING: All")  # TensorFlow's start-up lines on stderr


# The child's side -------------------------------------------------------------------------------------------------

class JsonLinesEmitter:
    """Writes each event as one JSON line; batch events are flushed at most every 0.1 s, the rest at once."""

    def __init__(self, stream) -> None:
        self.stream, self.last_flush = stream, 0.0

    def __call__(self, event: dict) -> None:
        self.stream.write(json.dumps(event) + "\n")
        now = time.monotonic()
        if event["event"] != Event.BATCH or now - self.last_flush >= EVENT_FLUSH_INTERVAL_S:
            self.stream.flush()
            self.last_flush = now


def stop_on_request(stream) -> threading.Event:
    """An Event that is set when ``stop`` arrives on ``stream`` or the stream ends (the server went away)."""
    requested = threading.Event()

    def listen() -> None:
        for line in stream:
            if line.strip() == STOP_LINE:
                break
        requested.set()

    threading.Thread(target=listen, name="train-stop-listener", daemon=True).start()
    return requested


# The server's side ------------------------------------------------------------------------------------------------

class TrainingRun:
    """One training: its config, its child process, and a thread-safe progress snapshot."""

    def __init__(self, run_id: int, config: TrainConfig, on_exit=None) -> None:
        self.run_id, self.config = run_id, config
        self._progress = Progress(epochs=config.hp.epochs, batch_size=config.hp.batch_size)
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None
        self._stderr_path: Path | None = None
        self._unanswered = False  # it did not answer Stop and was terminated
        self._on_exit = on_exit

    def __repr__(self) -> str:
        return f"TrainingRun({self.run_id}, {self._progress.state})"

    def command(self) -> list[str]:
        """The child's command line: the CLI in events mode."""
        return [sys.executable, "-m", "cnnlib.train", "--events", *self.config.to_args()]

    def start(self) -> None:
        """Start the child process and the thread that reads its events."""
        handle, stderr_path = tempfile.mkstemp(prefix=f"cnn-train-{self.run_id}-", suffix=".log")
        self._stderr_path = Path(stderr_path)
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}
        with self._lock:
            self._progress.state, self._progress.phase = RunState.RUNNING, Phase.STARTING
            self._progress.started_at = time.time()
            self._process = subprocess.Popen(self.command(), cwd=PROJECT_ROOT, env=env, stdin=subprocess.PIPE,
                                             stdout=subprocess.PIPE, stderr=handle, text=True, bufsize=1)
        os.close(handle)
        self._reader = threading.Thread(target=self._follow, name=f"train-run-{self.run_id}", daemon=True)
        self._reader.start()

    def _follow(self) -> None:
        """Apply each JSON line the child prints; when its output ends, settle the final state."""
        for line in self._process.stdout:
            event = _parse_event(line)
            if event is not None:
                with self._lock:
                    apply_event(self._progress, event)
        returncode = self._process.wait()
        with self._lock:
            if not self._progress.finished:
                self._progress.exit_code = returncode
                self._progress.end(RunState.FAILED, *self._why_it_ended(returncode))
        self._stderr_path.unlink(missing_ok=True)
        if self._on_exit:
            self._on_exit(self)

    def _why_it_ended(self, returncode: int) -> tuple[Ending, str]:
        """Why the child exited without finishing: no answer to Stop, its last stderr line, a signal or a code."""
        if self._unanswered:
            return Ending.NO_ANSWER, ""
        try:
            lines = [line.strip() for line in self._stderr_path.read_text(errors="replace").splitlines()]
        except OSError:
            lines = []
        lines = [line for line in lines if line and not line.startswith(STARTUP_CHATTER)]
        if lines:
            return Ending.TRAINER_ERROR, lines[-1][:300]
        return (Ending.SIGNAL if returncode < 0 else Ending.EXIT_CODE), ""

    def snapshot(self) -> Progress:
        """A deep copy of the progress, safe to use after the lock is released."""
        with self._lock:
            return copy.deepcopy(self._progress)

    @property
    def state(self) -> RunState:
        """The run's state (see RunState)."""
        with self._lock:
            return self._progress.state

    def stop(self) -> None:
        """Ask the child to stop after its current batch (or cancel a queued run); terminate it if it hangs."""
        with self._lock:
            state = self._progress.state
            if state == RunState.QUEUED:
                self._progress.end(RunState.CANCELLED, Ending.CANCELLED)
                return
            if state != RunState.RUNNING:
                return
            self._progress.state = RunState.STOPPING
        try:
            self._process.stdin.write(STOP_LINE + "\n")
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
            self._unanswered = True
            self._end_process()

    def _end_process(self) -> None:
        """Terminate the child, and kill it if it does not go within 5 s."""
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()

    def discard(self) -> None:
        """End the run now, saving nothing: cancel it if queued, end its child if one runs."""
        if self.state == RunState.QUEUED:
            self.stop()
        if self._process is not None and self._process.poll() is None:
            self._end_process()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run has finished (True) or ``timeout`` passed (False)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.snapshot().finished or (self._reader and self._reader.is_alive()):
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True


def _parse_event(line: str) -> dict | None:
    """One JSON event from a line of the child's output; None for anything else (a library's stray print)."""
    if not line.startswith("{"):
        return None
    try:
        return json.loads(line)
    except ValueError:
        return None


class QueuePlace(NamedTuple):
    """Where a queued run waits: ``ahead`` trainings go before it; at most ``max_running`` train at once."""

    ahead: int
    max_running: int


_registries: weakref.WeakSet[RunRegistry] = weakref.WeakSet()


class RunRegistry:
    """Every run on this server; at most ``max_running`` train at once, the others wait in a queue."""

    def __init__(self, max_running: int | None = None) -> None:
        self.max_running = max(1, max_running or int(os.environ.get(MAX_TRAININGS_ENV, "1")))
        self._runs: dict[int, TrainingRun] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        _registries.add(self)

    def submit(self, config: TrainConfig) -> TrainingRun:
        """Create a run; it starts now if a slot is free, else when the runs ahead of it finish."""
        with self._lock:
            run = TrainingRun(next(self._ids), config, on_exit=lambda _: self._start_waiting())
            self._runs[run.run_id] = run
        self._start_waiting()
        return run

    def get(self, run_id: int | None) -> TrainingRun | None:
        """The run with this id, or None."""
        with self._lock:
            return self._runs.get(run_id)

    def runs(self) -> list[TrainingRun]:
        """Every run, oldest first."""
        with self._lock:
            return list(self._runs.values())

    def active(self) -> list[TrainingRun]:
        """Runs that are training or stopping."""
        return [run for run in self.runs() if run.state.training]

    def queue_position(self, run: TrainingRun) -> int:
        """How many queued runs are ahead of ``run`` (0 for the next one); -1 if it is not queued."""
        queued = [other.run_id for other in self.runs() if other.state == RunState.QUEUED]
        return queued.index(run.run_id) if run.run_id in queued else -1

    def queue_place(self, run: TrainingRun) -> QueuePlace:
        """Where a queued ``run`` waits: the trainings going before it, and how many may train at once."""
        return QueuePlace(self.queue_position(run) + len(self.active()), self.max_running)

    def _start_waiting(self) -> None:
        """Start queued runs, oldest first, while slots are free."""
        with self._lock:
            runs = list(self._runs.values())
            busy = sum(run.state.training for run in runs)
            for run in runs:
                if busy >= self.max_running:
                    break
                if run.state == RunState.QUEUED:
                    run.start()
                    busy += 1

    def shutdown(self, timeout: float = 30) -> None:
        """Discard every run (queued ones first, so none starts in a freed slot) and wait for their threads."""
        runs = sorted(self.runs(), key=lambda run: run.state != RunState.QUEUED)
        for run in runs:
            run.discard()
        for run in runs:
            run.wait(timeout)


@functools.cache
def server_registry() -> RunRegistry:
    """The registry of this process: every browser session's runs share it, so the one-at-a-time limit holds."""
    return RunRegistry()


def shutdown_all() -> None:
    """Discard every run of every registry in this process (tests call it so that no trainer outlives them)."""
    for registry in list(_registries):
        registry.shutdown()
