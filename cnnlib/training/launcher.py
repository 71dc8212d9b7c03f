"""Trainer processes: started with pipes (``spawn_trainer``), one kept ready ahead of time (``Launcher``), ended.

No lock is held while a process is started or ended: the launcher decides under its lock, then acts outside it, and
a stale trainer kept ready is ended in the background, so a Start never waits for it.

A trainer is what a run follows (``cnnlib.training.training_run``): its ``process`` prints event lines and exits
with a code; ``begin(config)`` hands it the run, ``ask_to_stop()`` asks for Stop, ``end()`` terminates it,
``last_line()`` says why it died, ``release()`` removes what it left. On a Ray cluster the trainer is an actor made to
look the same (``cnnlib.training.cluster``), and its launcher says where a run waits for a worker (``worker_place``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import NamedTuple

from cnnlib.store.files import without_folders
from cnnlib.store.saved import MODELS_DIR_ENV
from cnnlib.training.config import TrainConfig
from cnnlib.training.protocol import STOP_LINE

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SERVE_COMMAND = (sys.executable, "-m", "cnnlib.train", "--serve")
END_GRACE_S = 5.0  # a terminated trainer that is still there after this is killed
STARTUP_CHATTER = ("I0000", "W0000", "E0000", "WARNING: All")  # TensorFlow's start-up lines on stderr


def trainer_environment() -> dict:
    """The environment a trainer process depends on: all of it but the models folder, which every run names itself."""
    return {name: value for name, value in os.environ.items() if name != MODELS_DIR_ENV}


class Trainer(NamedTuple):
    """One trainer process: the child, the file its stderr goes to, and the environment it was started with."""

    process: subprocess.Popen
    stderr_path: Path
    environment: dict

    def begin(self, config: TrainConfig) -> None:
        """Hand the run over: its arguments as one JSON line on stdin (OSError when the child is gone already)."""
        self.process.stdin.write(json.dumps(config.to_args()) + "\n")
        self.process.stdin.flush()

    def ask_to_stop(self) -> None:
        """Send ``stop`` on stdin (OSError when the child is gone already)."""
        self.process.stdin.write(STOP_LINE + "\n")
        self.process.stdin.flush()

    def last_line(self) -> str:
        """The last line the child wrote to stderr, TensorFlow's start-up chatter and folders left out ("": none)."""
        try:
            lines = [line.strip() for line in self.stderr_path.read_text(errors="replace").splitlines()]
        except OSError:
            lines = []
        lines = [line for line in lines if line and not line.startswith(STARTUP_CHATTER)]
        return without_folders(lines[-1])[:300] if lines else ""

    def release(self) -> None:
        """Remove the stderr file of a child that has exited."""
        self.stderr_path.unlink(missing_ok=True)

    def end(self) -> None:
        """Terminate the child, and kill it if it does not go within 5 s (never call this holding a lock)."""
        self.process.terminate()
        try:
            self.process.wait(timeout=END_GRACE_S)
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


def discard(trainer: Trainer) -> None:
    """End a trainer that never got a run (or lost it), and remove its stderr file."""
    trainer.end()
    trainer.stderr_path.unlink(missing_ok=True)


class WorkerPlace(NamedTuple):
    """Where a run handed to a Ray cluster waits for a worker: ``ahead`` runs wait before it; the cluster's CPUs."""

    ahead: int
    free_cpus: float
    total_cpus: float
    cpus_per_run: int


class Launcher:
    """Hands out trainer processes, one of them started ahead of time once asked to (``keep_one_ready``)."""

    trainings_at_once = 1  # runs that train at once when the server does not say (they share its cores)

    def __init__(self, command: tuple[str, ...] = SERVE_COMMAND) -> None:
        self.command = tuple(command)
        self._spare: Trainer | None = None
        self._starting = False  # a spare is being started, outside the lock
        self._generation = 0  # counts close(): a spare started before a close is not kept after it
        self._lock = threading.Lock()

    def take(self) -> Trainer:
        """The ready trainer if it is alive and saw the environment as it is now, else a new one (a stale one is
        ended in the background)."""
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is not None and spare.process.poll() is None and spare.environment == trainer_environment():
            return spare
        if spare is not None:
            threading.Thread(target=discard, args=(spare,), name="train-discard-stale", daemon=True).start()
        return spawn_trainer(self.command)

    def keep_one_ready(self) -> None:
        """Start a trainer ahead of time unless one is ready (or getting ready)."""
        with self._lock:
            if self._starting or (self._spare is not None and self._spare.process.poll() is None):
                return
            stale, self._spare, self._starting, generation = self._spare, None, True, self._generation
        try:
            if stale is not None:
                discard(stale)  # it has exited already: nothing to wait for
            fresh = spawn_trainer(self.command)
        finally:
            with self._lock:
                self._starting = False
        with self._lock:
            kept = generation == self._generation
            if kept:
                self._spare = fresh
        if not kept:
            discard(fresh)

    def worker_place(self, trainer: Trainer) -> WorkerPlace | None:
        """None: a child process never waits for a worker."""
        return None

    def waiting_count(self) -> int:
        """0: a child process never waits for a worker."""
        return 0

    def close(self) -> None:
        """End the trainer kept ready, if any; one being started now is ended once it is."""
        with self._lock:
            spare, self._spare = self._spare, None
            self._generation += 1
        if spare is not None:
            discard(spare)
