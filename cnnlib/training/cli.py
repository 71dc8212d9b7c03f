"""The trainer's command line, ``python -m cnnlib.train``.

    python -m cnnlib.train --data offline                      # the app's default preset ("fast")
    python -m cnnlib.train --preset tutorial --out models/tutorial.keras
    python -m cnnlib.train --preset fast --epochs 3 --seed 1   # options override the preset's values
    python -m cnnlib.train --layers conv:16:3,pool:2,dense:64  # a network of one's own design (cnnlib.network.design)

prints one line per epoch and, last, one JSON line (test_accuracy, epochs, seconds, images_per_second,
data_source, model_path, the network's ``parameters`` and its ``layers``, each with its name and output shape). With
``--events`` it prints one JSON event per line instead and stops when it reads ``stop`` (or end of file) on stdin.
With ``--serve`` it gets ready first (TensorFlow imported, the default data loaded, the default network's steps
traced: ``cnnlib.training.trainer.prepare``), then reads its arguments as one JSON list on stdin and trains in events
mode: that is how the Train page runs it (see ``cnnlib.training.runs``). A trainer actor on a Ray cluster calls
``main`` with the same arguments, its own stdout and Stop (``cnnlib.training.worker``).
Every hyperparameter option comes from a field of ``Hyperparameters``; a bad argument exits with code 2 and one
line. A failure is one line without server folders.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import IO

from cnnlib.errors import Refusal
from cnnlib.mnist.data import NPZ_ENV, SOURCES
from cnnlib.network.snapshots import MAX_SNAPSHOTS
from cnnlib.store.files import without_folders
from cnnlib.store.saved import MODEL_SUFFIX, check_name
from cnnlib.store.workspace import SINGLE, is_workspace_id
from cnnlib.text import t
from cnnlib.training.config import (DEFAULT_PRESET, PRESETS, Hyperparameters, Preset, Spec, TrainConfig, Widget,
                                    design_refusal, option_name, option_type, specs)
from cnnlib.training.progress import Event
from cnnlib.training.protocol import JsonLinesEmitter, stop_on_request
from cnnlib.training.ready import ReadyNetwork, prepare
from cnnlib.training.room import FEWEST_STATES
from cnnlib.training.sentences import device_text
from cnnlib.training.trainer import train


SERVER_FIRST_NICENESS = 10  # see serve()


class OneLineArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit code 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def option_help(spec: Spec) -> str:
    """An option's help: its sentence, then the tutorial's value (argparse reads ``%`` as a format, hence ``%%``)."""
    sentence = t(spec.help_key)
    if spec.tutorial is not None:
        sentence = t("train.cli.with_tutorial_value", help=sentence, tutorial=spec.tutorial)
    return sentence.replace("%", "%%")


def build_parser() -> argparse.ArgumentParser:
    """The CLI's arguments: a preset, one option per hyperparameter (unset: the preset's value), data and output."""
    parser = OneLineArgumentParser(prog="python -m cnnlib.train", description=t("train.cli.description"))
    parser.add_argument("--preset", choices=list(Preset), default=DEFAULT_PRESET,
                        help=t("train.cli.preset", default=DEFAULT_PRESET))
    for name, spec in specs().items():  # a switch reads on/off: argparse's bool("False") would be True
        parser.add_argument(option_name(name), type=option_type(name), choices=spec.choices or None,
                            metavar="SPEC" if spec.widget == Widget.DESIGN else None, help=option_help(spec))
    parser.add_argument("--data", choices=SOURCES, default="auto", help=t("train.cli.data"))
    parser.add_argument("--npz", help=t("train.cli.npz"))
    parser.add_argument("--train-limit", type=int, help=t("train.cli.train_limit"))
    parser.add_argument("--out", help=t("train.cli.out"))
    parser.add_argument("--snapshots", type=int, default=MAX_SNAPSHOTS, help=t("train.cli.snapshots"))
    parser.add_argument("--workspace", help=t("train.cli.workspace"))
    parser.add_argument("--events", action="store_true", help=t("train.cli.events"))
    parser.add_argument("--serve", action="store_true", help=t("train.cli.serve"))
    return parser


def range_refusal(name: str, spec: Spec) -> Refusal:
    """The refusal saying which values an option takes: ``--keep-prob must be in (0, 1]``."""
    if spec.high is None:
        return Refusal("train.cli.at_least", option=option_name(name), low=spec.low)
    key = "train.cli.in_open_range" if spec.low_open else "train.cli.in_range"
    return Refusal(key, option=option_name(name), low=spec.low, high=spec.high)


def hyperparameters_from_args(args: argparse.Namespace) -> Hyperparameters:
    """The preset's recipe with every option given on the command line put in; Refusal when one is out of range or
    the design is impossible."""
    given = {name: getattr(args, name) for name in specs() if getattr(args, name) is not None}
    for name, value in given.items():
        if not specs()[name].allows(value):
            raise design_refusal(value) if specs()[name].widget == Widget.DESIGN else range_refusal(name, specs()[name])
    return replace(PRESETS[args.preset], **given)


def argument_refusal(args: argparse.Namespace) -> Refusal | None:
    """The first problem with the data and output arguments, as a refusal; None when there is none."""
    checks = [(args.train_limit is None or args.train_limit >= 2, Refusal("train.cli.train_limit_too_small")),
              (args.data != "npz" or args.npz or os.environ.get(NPZ_ENV), Refusal("train.cli.npz_needed")),
              (not args.npz or Path(args.npz).is_file(), Refusal("train.cli.npz_missing", path=args.npz)),
              (not args.out or args.out.endswith(MODEL_SUFFIX), Refusal("train.cli.out_suffix")),
              (args.snapshots >= FEWEST_STATES, Refusal("train.cli.snapshots_too_few", low=FEWEST_STATES)),
              (args.workspace in (None, SINGLE) or is_workspace_id(args.workspace), Refusal("workspace.bad_id"))]
    return next((refusal for ok, refusal in checks if not ok), None)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """A TrainConfig from parsed arguments; Refusal (a ValueError) with one sentence when a value is out of range."""
    if refusal := argument_refusal(args):
        raise refusal
    config = TrainConfig(hp=hyperparameters_from_args(args), data_source=args.data, npz_path=args.npz,
                         train_limit=args.train_limit, snapshots=args.snapshots, workspace_id=args.workspace)
    if args.out:
        out = Path(args.out)
        config = replace(config, model_name=check_name(out.stem), models_directory=str(out.parent))
    return config


def network_summary(model) -> dict:
    """What the last JSON line says of the trained network: Keras's parameter count and each layer's output shape."""
    return {"parameters": model.count_params(),
            "layers": [{"name": layer.name, "shape": list(layer.output.shape[1:])} for layer in model.layers]}


def print_for_a_person(event: dict) -> None:
    """One line per epoch (and a few others) for the command line; the summary JSON is printed by ``main``."""
    kind = event["event"]
    if kind == Event.STARTED:
        print(t("train.cli.started", **event, device_text=device_text(event["device"])), flush=True)
    elif kind == Event.EPOCH:
        rate = t("train.cli.rate", rate=event["images_per_second"]) if event["images_per_second"] else ""
        print(t("train.cli.epoch", **event, rate=rate), flush=True)
    elif kind == Event.STOPPED:
        print(t("train.cli.stopped", **event), flush=True)


def failure_event(error: BaseException) -> dict:
    """The ``failed`` event for ``error``: its line and, for a refusal, its catalogue key and values, so the page
    words it in the learner's language (values that are not plain JSON are left to the line)."""
    event = {"event": Event.FAILED, "message": failure_message(error)}
    if isinstance(error, Refusal):
        try:
            json.dumps(error.values)
        except (TypeError, ValueError):
            return event
        event.update(key=error.key, values=error.values)
    return event


def failure_message(error: BaseException) -> str:
    """One line on why training failed, naming no server folder: ``NotADirectoryError: Not a directory``; a
    refusal's own sentence."""
    if isinstance(error, Refusal):
        return without_folders(str(error))
    if isinstance(error, OSError) and error.strerror:
        return f"{type(error).__name__}: {error.strerror}"
    text = str(error).strip()
    return without_folders(f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__)


def ready_network(config: TrainConfig = TrainConfig()) -> ReadyNetwork | None:
    """The data and a traced network for the run a Train page starts without changes (the default preset on the
    default data; a trainer actor gets that run's config with its data resolved by the server); None when that cannot
    be had: the run then meets the same problem itself and says so. The parser's words are read from the catalogue
    here too (30 ms of TOML), so that a Start reads no file before its first batch."""
    build_parser()
    try:
        return prepare(config)
    except Exception:  # noqa: BLE001 - getting ready is only a head start; the run reports what went wrong
        return None


def serve() -> int:
    """Get ready, then train with the arguments that arrive on stdin as one JSON list (end of file: exit).

    The warm-up runs only while no arguments wait: a trainer started for a run already asked for goes straight on.
    The trainer runs at a lower CPU priority than the server: a class drawing on the Draw page comes first, and the
    training takes whatever CPU they leave (all of it when nobody draws).
    """
    os.nice(SERVER_FIRST_NICENESS)
    import keras  # noqa: F401 - the slow part of every start (TensorFlow with it), done before the arguments come

    ready = None if select.select([sys.stdin], [], [], 0)[0] else ready_network()
    line = sys.stdin.readline()
    if not line.strip():
        return 0
    argv = json.loads(line)
    if not isinstance(argv, list) or not all(isinstance(part, str) for part in argv):
        raise SystemExit(t("train.cli.bad_serve_line"))
    return main([*argv, "--events"], ready)


def main(argv: list[str] | None = None, ready: ReadyNetwork | None = None, stdout: IO[str] | None = None,
         stop: threading.Event | None = None) -> int:
    """Run the CLI (``ready``: what ``--serve`` prepared; ``stdout`` and ``stop``: where a trainer actor takes the
    events and Stop instead of the pipes); 0 on success, 1 when training failed, 2 for bad arguments."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.serve:
        return serve()
    try:
        config = config_from_args(args)
    except ValueError as error:
        parser.error(str(error))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.events:
        emit = JsonLinesEmitter(stdout or sys.stdout)
        stop_requested = stop if stop is not None else stop_on_request(sys.stdin)
    else:
        emit, stop_requested = print_for_a_person, threading.Event()
        signal.signal(signal.SIGINT, lambda *_: stop_requested.set())  # Ctrl-C: finish the batch, save, report
    try:
        model, summary = train(config, emit, stop_requested, ready)
    except Exception as error:  # noqa: BLE001 - whatever broke, the page and the shell get one line
        event = failure_event(error)
        if args.events:
            emit(event)
        print(t("train.cli.failed", message=event["message"]), file=sys.stderr, flush=True)
        return 1
    if not args.events:
        print(json.dumps({**summary, **network_summary(model)}), flush=True)
    return 0
