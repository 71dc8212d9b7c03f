"""A trainer on a Ray worker: what ``python -m cnnlib.train --serve`` is to this server, one actor is to the cluster.

    actor = TrainerActor()                      # made by cnnlib.training.cluster as a Ray actor, one per run
    actor.train(config, npz)                    # trains in a thread: the CLI's own arguments, events as lines
    actor.events(since=0, wait_s=1.0)           # (the lines printed since, the return code once it ended)
    actor.stop()                                # finish the batch, test, save: the "stop" line of a child
    actor.results()                             # the saved model, its card and its snapshots, as bytes

The server hands over a validated ``TrainConfig`` without server paths (``remote_run.shipped_config``); the actor puts
in its own temporary folder for the model and, when the run reads a learner's ``.npz``, writes the bytes it was given
there (named by their SHA-256, so a network made ready on the same file still matches). The CLI's parser checks the
arguments again (``cli.main``). Once the run ends, the model's files are read into memory for ``results`` and the
folder is removed: the worker keeps nothing (an actor killed mid-run leaves its folder only when it was given an
npz: the model is written at the end). ``TrainerActor(ready=config)`` is the actor kept ready: it imports
TensorFlow and traces that run's network (``cli.ready_network``) in a thread, and a run handed to it waits for that.

Nothing here imports Ray (the server wraps the class with ``ray.remote``) or TensorFlow (the CLI does, when training).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import tempfile
import threading
import uuid
from dataclasses import replace
from pathlib import Path

from cnnlib.store.files import without_folders
from cnnlib.store.saved import model_files
from cnnlib.training.cli import SERVER_FIRST_NICENESS, main, ready_network
from cnnlib.training.config import TrainConfig
from cnnlib.training.progress import Event



class PublishedLines:
    """What a trainer prints, as lines: written one event a line, seen by readers once flushed (as through a pipe),
    then closed with the return code."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.code: int | None = None
        self._pending: list[str] = []
        self._changed = threading.Condition()

    def write(self, text: str) -> None:
        """Keep one line (``JsonLinesEmitter`` writes each event whole) until the next flush."""
        self._pending.append(text)

    def flush(self) -> None:
        """Let readers see the lines written so far."""
        with self._changed:
            self.lines.extend(self._pending)
            self._pending.clear()
            self._changed.notify_all()

    def close(self, code: int) -> None:
        """The trainer is done, with ``code`` (0: finished, 1: failed, 2: bad arguments)."""
        self.flush()
        with self._changed:
            self.code = code
            self._changed.notify_all()

    def ended(self) -> int:
        """Wait until the trainer is done; its return code."""
        with self._changed:
            self._changed.wait_for(lambda: self.code is not None)
            return self.code

    def since(self, index: int, wait_s: float) -> tuple[list[str], int | None]:
        """The lines after the first ``index`` and the return code, once there are new lines or it ended, or after
        ``wait_s`` seconds."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.lines) > index or self.code is not None, wait_s)
            return self.lines[index:], self.code


def lower_priority() -> None:
    """This thread, and the threads it starts (TensorFlow's pools among them), at the trainer's lower CPU priority:
    where a worker shares a machine with the web server, the class's strokes come first, as with a child process.
    On Linux a niceness belongs to a thread, so Ray's own threads still answer events and Stop at once."""
    os.nice(SERVER_FIRST_NICENESS)


def refusal_line(said: str) -> str:
    """The ``failed`` event for arguments the CLI's parser refused, with the last line it wrote (its reason)."""
    lines = [line.strip() for line in said.splitlines() if line.strip()]
    return json.dumps({"event": Event.FAILED, "message": without_folders(lines[-1])[:300] if lines else ""}) + "\n"


class TrainerActor:
    """One run's trainer on a worker (see the module docstring); ``ready``: a run to get ready for, with its bytes."""

    def __init__(self, ready: TrainConfig | None = None, npz: bytes | None = None) -> None:
        self._out, self._stop_requested = PublishedLines(), threading.Event()
        self._folder = Path(tempfile.gettempdir()) / f"cnn-train-{uuid.uuid4().hex}"
        self._ready, self._ready_done = None, threading.Event()
        self._results: list[bytes] = []
        if ready is None:
            self._ready_done.set()
        else:
            threading.Thread(target=self._get_ready, args=(ready, npz), name="train-ready", daemon=True).start()

    def ping(self) -> bool:
        """Answer at once: the server asks whether the actor kept ready is still there before it hands it a run."""
        return True

    def train(self, config: TrainConfig, npz: bytes | None = None) -> None:
        """Start training ``config`` (its data from ``npz`` when it reads a file) in a thread; returns at once."""
        threading.Thread(target=self._train, args=(config, npz), name="train-run", daemon=True).start()

    def events(self, since: int, wait_s: float) -> tuple[list[str], int | None]:
        """The event lines after the first ``since`` and the return code (None while training), long-polled."""
        return self._out.since(since, wait_s)

    def stop(self) -> None:
        """Ask the run to stop after its batch; it tests and saves what it learned."""
        self._stop_requested.set()

    def results(self) -> list[bytes]:
        """The saved model's files (``model_files`` order: model, card, snapshots), once the run has ended."""
        self._out.ended()
        return self._results

    def _with_data(self, config: TrainConfig, npz: bytes | None) -> TrainConfig:
        """``config`` with its npz bytes written into the actor's folder (named by their hash) and its path."""
        if npz is None:
            return config
        self._folder.mkdir(parents=True, exist_ok=True)
        path = self._folder / f"{hashlib.sha256(npz).hexdigest()}.npz"
        path.write_bytes(npz)
        return replace(config, npz_path=str(path))

    def _get_ready(self, config: TrainConfig, npz: bytes | None) -> None:
        """Import TensorFlow and trace ``config``'s network; the npz file is removed once its digits are loaded."""
        lower_priority()
        try:
            self._ready = ready_network(self._with_data(config, npz))
        finally:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._ready_done.set()

    def _train(self, config: TrainConfig, npz: bytes | None) -> None:
        """Train through the CLI (events into the published lines), keep the saved files, remove the folder."""
        code, said = 1, io.StringIO()
        lower_priority()
        try:
            self._ready_done.wait()  # a run handed to the actor kept ready waits for its warm-up (its folder gone)
            config = replace(self._with_data(config, npz), models_directory=str(self._folder))
            with contextlib.redirect_stderr(said):  # one run at a time: what the parser says of a refused argument
                code = main([*config.to_args(), "--events"], self._ready, self._out, self._stop_requested)
            self._results = [path.read_bytes() for path in model_files(config.output_path()) if path.is_file()]
        except SystemExit as refused:  # the CLI's parser refused an argument: its reason becomes the run's failure
            code = refused.code if isinstance(refused.code, int) else 2
            self._out.write(refusal_line(said.getvalue()))
        finally:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._out.close(code)
