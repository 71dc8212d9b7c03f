"""One run on a Ray cluster, seen from the server: the trainer actor made to look like the child process a run
follows (``cnnlib.training.launcher``), what goes to the worker and what comes home.

    shipped_config(config)      the config a worker gets: data source settled here, no server folder, file or workspace
    trainer.begin(config)       the config to the actor; a learner's npz file as bytes through Ray's object store
    trainer.process.stdout      the event lines the child would print, long-polled from the actor (``events``)
    bring_home(files, config)   the saved model, card and snapshots written into the learner's workspace here

When the worker has saved, its files come back as bytes and are written into the workspace here (room checked under
its lock), and the ``saved`` event names that model. The worker's ``saving`` event is held until the bytes are here,
so a worker lost before is told as such, never as a full workspace. An actor that goes away (its process or its
node) fails the run with ``train.ray.worker_lost``; one this server ended (Stop unanswered, a run discarded) ends as
a terminated child does.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from collections.abc import Generator, Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import NamedTuple

import ray
from ray.exceptions import RayError

from cnnlib.errors import Refusal
from cnnlib.mnist.data import NPZ_ENV, SOURCE_ENV
from cnnlib.store.files import write_atomically
from cnnlib.store.saved import model_files
from cnnlib.store.workspace import workspace_at
from cnnlib.training.cli import failure_event
from cnnlib.training.config import TrainConfig
from cnnlib.training.progress import Event
from cnnlib.training.protocol import parse_event

POLL_S = 1.0  # an events call returns after this when nothing new came (it returns at once when something does)
PING_S = 0.5  # how long a Start waits to learn whether the actor kept ready is still there


def shipped_config(config: TrainConfig) -> tuple[TrainConfig, str | None]:
    """What a worker gets of a run: ``config`` with its data source settled here (``CNN_EXPLORER_DATA`` and
    ``CNN_EXPLORER_MNIST_NPZ`` are this server's settings) and nothing of this server's disk (no folder, file or
    workspace); and the npz file here whose bytes go with it when the run reads one."""
    source = config.data_source
    if source == "auto":
        source = os.environ.get(SOURCE_ENV) or "auto"
    npz_path = (config.npz_path or os.environ.get(NPZ_ENV)) if source in ("auto", "npz") else None
    return replace(config, data_source="npz" if npz_path else source, npz_path=None, models_directory=None,
                   workspace_id=None), npz_path


def handed_over(config: TrainConfig) -> tuple[TrainConfig, ray.ObjectRef | None]:
    """``shipped_config``'s config, and the npz file's bytes put into Ray's object store (None: the run reads none)."""
    shipped, npz_path = shipped_config(config)
    return shipped, ray.put(Path(npz_path).read_bytes()) if npz_path else None


def bring_home(files: list[bytes], config: TrainConfig) -> Path:
    """Write a run's model, card and snapshots (``model_files`` order) into its workspace here, each atomically, once
    the room for all of them is checked under the workspace's lock (QuotaFull when it has none); the model's path."""
    target = config.output_path()
    with workspace_at(target.parent, config.workspace_id).storing(sum(map(len, files))) as folder:
        for path, data in zip(model_files(folder / target.name), files):
            write_atomically(path, partial(Path.write_bytes, data=data))
    return target


def worker_lost_line(error: RayError) -> str:
    """The ``failed`` event of a run whose actor went away, worded in the learner's language when shown."""
    return json.dumps(failure_event(Refusal("train.ray.worker_lost", reason=type(error).__name__)))


class ActorProcess:
    """A trainer actor seen as the child process a run follows: ``stdout`` (event lines), ``poll``, ``wait``, ``kill``;
    ``placed`` once the actor has a worker and answers."""

    def __init__(self, actor) -> None:
        self.actor, self.returncode, self.placed = actor, None, False
        self.stdout: Iterator[str] = self._lines()
        self._config: TrainConfig | None = None  # the run as this server knows it: where its model comes home
        self._broken: dict | None = None  # the failed event of a run that could not be handed over
        self._killed, self._done, self._lock = False, threading.Event(), threading.Lock()

    def begin(self, config: TrainConfig) -> None:
        """Hand the run to the actor, its model's name settled here; a file that cannot be read fails the run."""
        self._config = replace(config, model_name=config.output_path().stem)
        try:
            self.actor.train.remote(*handed_over(self._config))
        except (OSError, RayError) as error:
            self._broken = failure_event(error)

    def poll(self) -> int | None:
        """The return code once the events ended, else None."""
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """The return code once the events ended; subprocess.TimeoutExpired after ``timeout`` seconds."""
        if not self._done.wait(timeout):
            raise subprocess.TimeoutExpired("trainer actor", timeout)
        return self.returncode

    def kill(self) -> None:
        """End the actor now: its events end as a terminated child's output does (a worker lost is not told)."""
        self._killed = True
        ray.kill(self.actor)
        self._exit(-signal.SIGTERM)

    def _exit(self, code: int) -> None:
        """The events have ended with ``code`` (the first code set stays)."""
        with self._lock:
            if self.returncode is None:
                self.returncode = code
        self._done.set()

    def _lines(self) -> Iterator[str]:
        """The run's event lines, until the actor's run ends or the actor goes away."""
        if self._broken is not None:
            yield json.dumps(self._broken)
            self._exit(1)
            return
        try:
            code = yield from self._followed()
        except RayError as error:
            if self._killed:
                return
            yield worker_lost_line(error)
            code = 1
        self._exit(code)

    def _followed(self) -> Generator[str, None, int]:
        """Long-poll the actor's lines; hold ``saving`` until the saved files are here; the actor's return code."""
        since, saving = 0, None
        while True:
            lines, code = ray.get(self.actor.events.remote(since, POLL_S))
            self.placed, since = True, since + len(lines)
            for line in lines:
                kind = (parse_event(line) or {}).get("event")
                if kind == Event.SAVING:
                    saving = line
                    continue
                if kind == Event.SAVED:
                    yield from self._home(saving)
                    continue
                if saving is not None and kind == Event.FAILED:
                    yield saving
                yield line
            if code is not None:
                return code

    def _home(self, saving: str | None) -> Iterator[str]:
        """Fetch the saved files, then say ``saving``, write them into the workspace, and say ``saved`` with the
        model here (or ``failed`` with why it could not be kept)."""
        files = ray.get(self.actor.results.remote())
        if saving is not None:
            yield saving
        try:
            target = bring_home(files, self._config)
        except (OSError, ValueError) as error:  # QuotaFull (a Refusal) or a write that failed
            yield json.dumps(failure_event(error))
            return
        yield json.dumps({"event": Event.SAVED, "model_name": target.stem, "model_path": str(target)})


class ActorTrainer(NamedTuple):
    """A trainer actor as a run uses a trainer (see ``cnnlib.training.launcher``), with the environment it saw."""

    process: ActorProcess
    environment: dict

    def begin(self, config: TrainConfig) -> None:
        """Hand the run over (see ``ActorProcess.begin``)."""
        self.process.begin(config)

    def ask_to_stop(self) -> None:
        """Ask the actor to stop after its batch."""
        self.process.actor.stop.remote()

    def last_line(self) -> str:
        """Nothing: an actor's stderr stays on its worker (an actor that went away says so as an event)."""
        return ""

    def end(self) -> None:
        """End the actor now."""
        self.process.kill()

    def release(self) -> None:
        """End the actor once its run has ended, freeing its CPUs for the next."""
        self.process.kill()

    def alive(self) -> bool:
        """Whether the actor is still there (one still waiting for a worker, or busy getting ready, counts)."""
        answer = self.process.actor.ping.remote()
        done, _ = ray.wait([answer], timeout=PING_S)
        try:
            return not done or ray.get(done[0])
        except RayError:
            return False
