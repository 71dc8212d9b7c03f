"""Where trainings run: each in a child process, followed by a thread; the only module that starts either.

    registry = server_registry()             # one per server: every learner's runs
    run = registry.submit(config, owner)     # hands the config to a trainer process now, or queues it
    registry.latest(owner)                   # the learner's latest run, from any tab, also after a reload
    run.snapshot()                           # a copy of the progress, safe to read from any thread
    run.stop()                               # the child finishes its batch, evaluates, saves and exits

Runs belong to a workspace (``owner``), not to a browser session: each learner has at most one run queued or
training, and finds it again after a reload. At most ``max_running`` train at once per server; the rest queue.

A trainer process is started ahead of time (``python -m cnnlib.train --serve``: TensorFlow imported and one
training step of the default network traced, then it waits), so the first batch follows Start within about a
second; the run hands it its config as one JSON line on stdin. Both ends of the pipe live here: the child prints
one JSON event per line (``JsonLinesEmitter``) and stops when ``stop`` or the end of its stdin arrives
(``stop_on_request``); the server's thread folds the lines into a ``Progress``. The child never shares the
Streamlit server's process, because Streamlit calls ``keras.backend.clear_session()`` after every rerun.

Lifecycle: every state change happens under the registry's one lock, so a Stop and a start cannot race. Stop
before the first batch ends the child at once ("stopped before training began"); Stop while training is answered
after the current batch, and what was learned is tested and saved; Stop once training is over lets evaluation and
saving finish. A child that does not answer Stop is terminated; one that dies becomes ``failed`` with the last
line it wrote to stderr (folders removed). The thread that follows a child always settles its run and frees the
slot for the next queued one.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

from cnnlib.store.files import without_folders
from cnnlib.store.saved import MODELS_DIR_ENV, models_dir
from cnnlib.text import t
from cnnlib.training.config import TrainConfig
from cnnlib.training.progress import Ending, Event, Phase, Progress, RunState, apply_event
from cnnlib.store.workspace import Workspace

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MAX_TRAININGS_ENV, TRAINER_READY_ENV = "CNN_EXPLORER_MAX_TRAININGS", "CNN_EXPLORER_TRAINER_READY"
SERVE_COMMAND = (sys.executable, "-m", "cnnlib.train", "--serve")
STOP_LINE = "stop"
STOP_ANSWER_TIMEOUT_S = 10.0  # one batch, or an epoch's validation, ends well within this even on a busy CPU
FINISH_TIMEOUT_S = 300.0  # once training is over: evaluate on the test digits and save (full MNIST: seconds)
KEPT_RUNS, KEPT_RUNS_PER_SERVER = 10, 200  # finished runs kept per learner (to compare curves) and in all
AFTER_TRAINING = (Phase.EVALUATING, Phase.SAVING, Phase.FINISHED)
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


# Trainer processes ------------------------------------------------------------------------------------------------

def trainer_environment() -> dict:
    """The environment a trainer process depends on: all of it but the models folder, which every run names itself."""
    return {name: value for name, value in os.environ.items() if name != MODELS_DIR_ENV}


class Trainer(NamedTuple):
    """One trainer process: the child, the file its stderr goes to, and the environment it was started with."""

    process: subprocess.Popen
    stderr_path: Path
    environment: dict

    def end(self) -> None:
        """Terminate the child, and kill it if it does not go within 5 s."""
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()


def spawn_trainer(command: tuple[str, ...]) -> Trainer:
    """Start ``command`` with pipes for events and Stop, its stderr in a temporary file; OSError if it cannot."""
    handle, stderr_path = tempfile.mkstemp(prefix="cnn-train-", suffix=".log")
    environment = trainer_environment()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": environment.get("TF_CPP_MIN_LOG_LEVEL", "2")}
    try:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=handle, text=True, bufsize=1)
    except OSError:
        Path(stderr_path).unlink(missing_ok=True)
        raise
    finally:
        os.close(handle)
    return Trainer(process, Path(stderr_path), environment)


class Launcher:
    """Hands out trainer processes, one of them started ahead of time once asked to (``keep_one_ready``)."""

    def __init__(self, command: tuple[str, ...] = SERVE_COMMAND) -> None:
        self.command = tuple(command)
        self._spare: Trainer | None = None
        self._lock = threading.Lock()

    def take(self) -> Trainer:
        """The ready trainer if it is alive and saw the environment as it is now, else a new one."""
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is not None and spare.process.poll() is None and spare.environment == trainer_environment():
            return spare
        if spare is not None:
            _discard(spare)
        return spawn_trainer(self.command)

    def keep_one_ready(self) -> None:
        """Start a trainer ahead of time unless one is ready (or getting ready)."""
        with self._lock:
            if self._spare is not None and self._spare.process.poll() is None:
                return
            stale, self._spare = self._spare, spawn_trainer(self.command)
        if stale is not None:
            _discard(stale)

    def close(self) -> None:
        """End the trainer kept ready, if any."""
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is not None:
            _discard(spare)


def _discard(trainer: Trainer) -> None:
    """End a trainer that never got a run, and remove its stderr file."""
    trainer.end()
    trainer.stderr_path.unlink(missing_ok=True)


# The server's side ------------------------------------------------------------------------------------------------

class RunBusy(ValueError):
    """A learner asked for a second run while one of theirs is queued or training."""


class TrainingRun:
    """One training: its config, its owner (a workspace id), its trainer process and a thread-safe progress snapshot.

    ``lock`` is the registry's: every state change of every run happens under it.
    """

    def __init__(self, run_id: int, config: TrainConfig, lock: threading.RLock, launcher: Launcher,
                 owner: str | None = None, number: int = 1, on_exit=None) -> None:
        self.run_id, self.config, self.owner, self.number = run_id, config, owner, number
        self._progress = Progress(epochs=config.hp.epochs, batch_size=config.hp.batch_size)
        self._lock, self._launcher, self._on_exit = lock, launcher, on_exit
        self._trainer: Trainer | None = None
        self._reader: threading.Thread | None = None
        self._unanswered = False  # it did not answer Stop and was terminated

    def __repr__(self) -> str:
        return f"TrainingRun({self.run_id}, {self.owner}, {self._progress.state})"

    @property
    def _process(self) -> subprocess.Popen | None:
        """The trainer's child process, once the run started."""
        return self._trainer.process if self._trainer else None

    def start(self) -> None:
        """Hand the config to a trainer process and follow its events (called with the lock held)."""
        progress = self._progress
        progress.state, progress.phase, progress.started_at = RunState.RUNNING, Phase.STARTING, time.time()
        try:
            self._trainer = self._launcher.take()
        except OSError as error:
            progress.end(RunState.FAILED, Ending.NOT_STARTED, without_folders(error.strerror or str(error)))
            return
        config = replace(self.config, models_directory=self.config.models_directory or str(models_dir()))
        try:
            self._trainer.process.stdin.write(json.dumps(config.to_args()) + "\n")
            self._trainer.process.stdin.flush()
        except OSError:  # the child died already: the thread below reads why and settles the run
            pass
        self._reader = threading.Thread(target=self._follow, name=f"train-run-{self.run_id}", daemon=True)
        self._reader.start()

    def _follow(self) -> None:
        """Apply each JSON line the child prints; when its output ends, settle the run and free its slot."""
        failure = ""
        try:
            for line in self._trainer.process.stdout:
                event = _parse_event(line)
                with self._lock:
                    if event is not None and not self._progress.finished:
                        apply_event(self._progress, event)
        except Exception as error:  # noqa: BLE001 - whatever breaks here, the run must settle and free its slot
            failure = without_folders(f"{type(error).__name__}: {error}")
            self._trainer.end()
        finally:
            self._settle(self._trainer.process.wait(), failure)

    def _settle(self, returncode: int, failure: str) -> None:
        """Mark a run that ended without finishing as failed (with why), remove its stderr file, free its slot."""
        ending, message = (Ending.TRAINER_ERROR, failure) if failure else self._why_it_ended(returncode)
        with self._lock:
            if not self._progress.finished:
                self._progress.exit_code = returncode
                self._progress.end(RunState.FAILED, ending, message)
        self._trainer.stderr_path.unlink(missing_ok=True)
        if self._on_exit:
            self._on_exit(self)

    def _why_it_ended(self, returncode: int) -> tuple[Ending, str]:
        """Why the child exited without finishing: no answer to Stop, its last stderr line, a signal or a code."""
        if self._unanswered:
            return Ending.NO_ANSWER, ""
        try:
            lines = [line.strip() for line in self._trainer.stderr_path.read_text(errors="replace").splitlines()]
        except OSError:
            lines = []
        lines = [line for line in lines if line and not line.startswith(STARTUP_CHATTER)]
        if lines:
            return Ending.TRAINER_ERROR, without_folders(lines[-1])[:300]
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
        """Stop the run in whatever phase it is (see the module docstring); nothing happens once it is finished."""
        with self._lock:
            progress = self._progress
            if progress.state == RunState.QUEUED:
                progress.end(RunState.CANCELLED, Ending.CANCELLED)
            elif progress.state == RunState.RUNNING and not progress.batch_costs and progress.phase != Phase.SAVING:
                progress.end(RunState.CANCELLED, Ending.BEFORE_START)  # nothing learned yet: end the child now
            elif progress.state == RunState.RUNNING:
                progress.state = RunState.STOPPING
            else:
                return
            stopping = progress.state == RunState.STOPPING
        action = self._ask_to_stop if stopping else self._end_trainer
        threading.Thread(target=action, name=f"train-stop-{self.run_id}", daemon=True).start()

    def _end_trainer(self) -> None:
        """End the child of a run that has been settled (before it began training, or discarded)."""
        if self._trainer is not None and self._trainer.process.poll() is None:
            self._trainer.end()

    def _ask_to_stop(self) -> None:
        """Send Stop; terminate the child if it does not answer within seconds, or does not finish after that."""
        try:
            self._trainer.process.stdin.write(STOP_LINE + "\n")
            self._trainer.process.stdin.flush()
        except OSError:  # the child already exited; the following thread settles the run
            return
        deadline = time.monotonic() + STOP_ANSWER_TIMEOUT_S
        while self._trainer.process.poll() is None and not self._answered():
            if time.monotonic() > deadline:
                return self._terminate_unanswered()
            time.sleep(0.05)
        try:
            self._trainer.process.wait(timeout=FINISH_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._terminate_unanswered()

    def _answered(self) -> bool:
        """Whether the child answered Stop, or is past training (evaluating, saving) and so will finish anyway."""
        with self._lock:
            return self._progress.stopped_early or self._progress.phase in AFTER_TRAINING

    def _terminate_unanswered(self) -> None:
        """End a child that ignored Stop; the run fails with that reason."""
        self._unanswered = True
        self._trainer.end()

    def discard(self) -> None:
        """End the run now, saving nothing: cancel it if queued, end its child if one runs."""
        with self._lock:
            if self._progress.state == RunState.QUEUED:
                self._progress.end(RunState.CANCELLED, Ending.CANCELLED)
        self._end_trainer()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run has finished and its thread is done (True), or ``timeout`` passed (False)."""
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
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


class QueuePlace(NamedTuple):
    """Where a queued run waits: ``ahead`` trainings go before it; at most ``max_running`` train at once."""

    ahead: int
    max_running: int


_registries: weakref.WeakSet[RunRegistry] = weakref.WeakSet()


class RunRegistry:
    """Every run on this server, by owner; at most ``max_running`` train at once, the others wait in a queue."""

    def __init__(self, max_running: int | None = None, launcher: Launcher | None = None) -> None:
        self.max_running = max(1, max_running or int(os.environ.get(MAX_TRAININGS_ENV, "1")))
        self.launcher = launcher or Launcher()
        self._runs: list[TrainingRun] = []
        self._next_id = 1
        self._lock = threading.RLock()
        self._keep_ready = False
        _registries.add(self)

    def submit(self, config: TrainConfig, owner: str | None = None) -> TrainingRun:
        """Create ``owner``'s run; it starts now if a slot is free, else when the runs ahead of it end.

        RunBusy with a sentence when ``owner`` already has a run queued or training (runs without an owner, from
        scripts, are not limited).
        """
        with self._lock:
            mine = [run for run in self._runs if owner is not None and run.owner == owner]
            if any(not run.state.finished for run in mine):
                raise RunBusy(t("train.run.busy"))
            run = TrainingRun(self._next_id, config, self._lock, self.launcher, owner,
                              number=mine[-1].number + 1 if mine else 1, on_exit=self._run_ended)
            self._next_id += 1
            self._runs = self._kept(mine) + [run]
            self._start_waiting()
        return run

    def _kept(self, mine: list[TrainingRun]) -> list[TrainingRun]:
        """The runs to keep as a learner whose runs are ``mine`` (all finished) adds one: with it, their newest
        ``KEPT_RUNS`` and the server's newest ``KEPT_RUNS_PER_SERVER`` finished runs (each holds its curves)."""
        forgotten = set(mine[:max(0, len(mine) + 1 - KEPT_RUNS)])
        finished = [run for run in self._runs if run.state.finished and run not in forgotten]
        forgotten.update(finished[:max(0, len(finished) + 1 - KEPT_RUNS_PER_SERVER)])
        return [run for run in self._runs if run not in forgotten]

    def latest(self, owner: str | None) -> TrainingRun | None:
        """``owner``'s latest run, or None."""
        mine = self.runs(owner)
        return mine[-1] if mine else None

    def runs(self, owner: str | None = None) -> list[TrainingRun]:
        """``owner``'s runs (every run when None), oldest first."""
        with self._lock:
            return [run for run in self._runs if owner is None or run.owner == owner]

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

    def keep_trainer_ready(self) -> None:
        """From now on keep a trainer process started ahead of time whenever no run trains (the Train page asks);
        ``CNN_EXPLORER_TRAINER_READY=0`` turns this off (each run then starts its own, seconds later)."""
        self._keep_ready = os.environ.get(TRAINER_READY_ENV, "1") != "0"
        if self._keep_ready and not self.active():
            self.launcher.keep_one_ready()

    def _run_ended(self, run: TrainingRun) -> None:
        """A run's thread is done: start the next queued run, or get a trainer ready for the next Start."""
        self._start_waiting()
        if self._keep_ready and not self.active():
            self.launcher.keep_one_ready()

    def _start_waiting(self) -> None:
        """Start queued runs, oldest first, while slots are free."""
        with self._lock:
            busy = sum(run.state.training for run in self._runs)
            for run in self._runs:
                if busy >= self.max_running:
                    break
                if run.state == RunState.QUEUED:
                    run.start()
                    busy += run.state.training

    def shutdown(self, timeout: float = 30) -> None:
        """Discard every run (queued ones first, so none starts in a freed slot), wait for them, forget them (a
        page opened afterwards starts from nothing), end the spare."""
        self._keep_ready = False
        runs = sorted(self.runs(), key=lambda run: run.state != RunState.QUEUED)
        for run in runs:
            run.discard()
        for run in runs:
            run.wait(timeout)
        with self._lock:
            self._runs = []
        self.launcher.close()


@functools.cache
def server_registry() -> RunRegistry:
    """The registry of this process: every learner's runs share it, so the one-at-a-time limit holds."""
    return RunRegistry()


def latest_for(workspace: Workspace) -> TrainingRun | None:
    """A learner's latest run on this server, whichever tab or session started it."""
    return server_registry().latest(workspace.id)


def submit_for(workspace: Workspace, config: TrainConfig) -> TrainingRun:
    """Start (or queue) a learner's run on this server; QuotaFull when their workspace has no room for its model,
    RunBusy when a run of theirs is on."""
    workspace.check_room()
    return server_registry().submit(config, workspace.id)


def shutdown_all() -> None:
    """Discard every run of every registry in this process (tests call it so that no trainer outlives them)."""
    for registry in list(_registries):
        registry.shutdown()
