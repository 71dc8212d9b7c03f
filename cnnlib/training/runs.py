"""Where trainings run: the server's registry of every learner's runs and its queue; each run trains in a child
process followed by a thread (``cnnlib.training.training_run``), started by ``cnnlib.training.launcher``.

    registry = server_registry()             # one per server: every learner's runs
    run = registry.submit(config, owner)     # hands the config to a trainer process now, or queues it
    registry.latest(owner)                   # the learner's latest run, from any tab, also after a reload
    run.snapshot()                           # the progress as it is now, O(1), safe to read from any thread
    run.stop()                               # the child finishes its batch, evaluates, saves and exits

Runs belong to a workspace (``owner``), not to a browser session: each learner has at most one run queued or
training, and finds it again after a reload. At most ``max_running`` train at once per server; the rest queue, at
most ``max_queued`` of them (``CNN_EXPLORER_MAX_QUEUE``, default 30: ``cnnlib.server.limits``). Before a learner's
run is handed over, its disk is planned (``cnnlib.training.room``): it keeps as many epoch snapshots as fit in their
workspace, or is refused with a sentence.

A trainer process is started ahead of time (``python -m cnnlib.train --serve``: TensorFlow imported and one
training step of the default network traced, then it waits), so the first batch follows Start within about a
second; the run hands it its config as one JSON line on stdin (``cnnlib.training.protocol``). The child never
shares the Streamlit server's process, because Streamlit calls ``keras.backend.clear_session()`` after every rerun.

With ``CNN_EXPLORER_RAY_ADDRESS`` set (``auto``, ``HOST:PORT`` or ``ray://HOST:10001``), every run trains in an actor
on that Ray cluster instead (``cnnlib.training.cluster``), behind this same interface: Ray decides where and when
each run trains (the registry hands every run over at once, unless ``CNN_EXPLORER_MAX_TRAININGS`` caps them), a
learner still has one run at a time, and a run waiting for a worker says so (``queue_place``). Without the variable
Ray is never imported.

The registry's lock never waits: under it the registry only decides (which run takes a free slot, which queued run
is cancelled); starting, stopping and ending processes all happen outside it, so a Train tab reading its progress
never waits for another learner's trainer. The thread that follows a child always settles its run and frees the slot
for the next queued one.
"""

from __future__ import annotations

import functools
import os
import threading
import weakref
from dataclasses import replace
from typing import NamedTuple

from cnnlib.errors import Refusal
from cnnlib.server import limits
from cnnlib.store.workspace import Workspace
from cnnlib.training.config import TrainConfig
from cnnlib.training.launcher import Launcher, WorkerPlace
from cnnlib.training.progress import RunState
from cnnlib.training.room import planned_snapshots
from cnnlib.training.training_run import TrainingRun

__all__ = ["KEPT_RUNS", "KEPT_RUNS_PER_SERVER", "Launcher", "QueueFull", "QueuePlace", "RunBusy", "RunRegistry",
           "TrainingRun", "latest_for", "server_registry", "shutdown_all", "submit_for"]

MAX_TRAININGS_ENV, TRAINER_READY_ENV = "CNN_EXPLORER_MAX_TRAININGS", "CNN_EXPLORER_TRAINER_READY"
RAY_ADDRESS_ENV = "CNN_EXPLORER_RAY_ADDRESS"  # where the Ray cluster is; unset: trainings run in child processes
KEPT_RUNS, KEPT_RUNS_PER_SERVER = 10, 200  # finished runs kept per learner (to compare curves) and in all


class RunBusy(Refusal):
    """A learner asked for a second run while one of theirs is queued or training."""


class QueueFull(Refusal):
    """A run asked for while the server's queue holds as many runs as it may."""


class QueuePlace(NamedTuple):
    """Where a queued run waits: ``ahead`` trainings go before it; at most ``max_running`` train at once."""

    ahead: int
    max_running: int


_registries: weakref.WeakSet[RunRegistry] = weakref.WeakSet()


class RunRegistry:
    """Every run on this server, by owner; at most ``max_running`` train at once, the others wait in a queue."""

    def __init__(self, max_running: int | None = None, launcher: Launcher | None = None,
                 max_queued: int | None = None) -> None:
        self.launcher = launcher or default_launcher()
        self.max_running = max(1, max_running or int(os.environ.get(MAX_TRAININGS_ENV,
                                                                    self.launcher.trainings_at_once)))
        self.max_queued = max(0, limits.max_queue() if max_queued is None else max_queued)
        self._runs: list[TrainingRun] = []
        self._next_id = 1
        self._changed = threading.Condition(threading.RLock())  # the lock of every run's state, notified on change
        self._keep_ready = False
        _registries.add(self)

    def submit(self, config: TrainConfig, owner: str | None = None) -> TrainingRun:
        """Create ``owner``'s run; it starts now if a slot is free, else when the runs ahead of it end.

        RunBusy when ``owner`` already has a run queued or training (runs without an owner, from scripts, are not
        limited); QueueFull when it would wait behind ``max_queued`` runs, queued here or waiting for a Ray worker.
        """
        with self._changed:
            mine = [run for run in self._runs if owner is not None and run.owner == owner]
            if any(not run.state.finished for run in mine):
                raise RunBusy("train.run.busy")
            elsewhere = self.launcher.waiting_count()  # handed to Ray, waiting there for a worker
            waiting = sum(run.state == RunState.QUEUED for run in self._runs) + elsewhere
            if waiting >= self.max_queued and (elsewhere or not self._free_slot()):
                raise QueueFull("train.run.queue_full", limit=self.max_queued)
            run = TrainingRun(self._next_id, config, self._changed, self.launcher, owner,
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
        with self._changed:
            return [run for run in self._runs if owner is None or run.owner == owner]

    def active(self) -> list[TrainingRun]:
        """Runs that are training or stopping."""
        return [run for run in self.runs() if run.state.training]

    def queue_position(self, run: TrainingRun) -> int:
        """How many queued runs are ahead of ``run`` (0 for the next one); -1 if it is not queued."""
        queued = [other.run_id for other in self.runs() if other.state == RunState.QUEUED]
        return queued.index(run.run_id) if run.run_id in queued else -1

    def queue_place(self, run: TrainingRun) -> QueuePlace | WorkerPlace:
        """Where a waiting ``run`` waits: for a worker of the Ray cluster (the runs before it there, the cluster's
        CPUs), or in this server's queue (the trainings going before it, and how many may train at once)."""
        return run.worker_place() or QueuePlace(self.queue_position(run) + len(self.active()), self.max_running)

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

    def _free_slot(self) -> bool:
        """Under the lock: whether a run asked for now would train at once (a slot free, nobody queued for it)."""
        queued = sum(run.state == RunState.QUEUED for run in self._runs)
        return self.max_running - sum(run.state.training for run in self._runs) > queued

    def _claim_slots(self) -> list[TrainingRun]:
        """Under the lock: the oldest queued runs that fit in the free slots, each marked as starting."""
        with self._changed:
            free = self.max_running - sum(run.state.training for run in self._runs)
            claimed = [run for run in self._runs if run.state == RunState.QUEUED][:max(0, free)]
            for run in claimed:
                run.claim()
            return claimed

    def _start_waiting(self) -> None:
        """Start queued runs, oldest first, while slots are free: claimed under the lock, launched outside it (a
        run that cannot start frees its slot for the next)."""
        while claimed := self._claim_slots():
            for run in claimed:
                run.launch()

    def shutdown(self, timeout: float = 30) -> None:
        """Discard every run (queued ones first, so none starts in a freed slot), wait for them, forget them (a
        page opened afterwards starts from nothing), end the spare."""
        self._keep_ready = False
        runs = sorted(self.runs(), key=lambda run: run.state != RunState.QUEUED)
        for run in runs:
            run.discard()
        for run in runs:
            run.wait(timeout)
        with self._changed:
            self._runs = []
        self.launcher.close()


def default_launcher() -> Launcher:
    """Where this server's runs train: actors on the Ray cluster at ``CNN_EXPLORER_RAY_ADDRESS`` when it is set (Ray
    is imported only then), else child processes of this server."""
    if address := os.environ.get(RAY_ADDRESS_ENV):
        from cnnlib.training.cluster import RayLauncher

        return RayLauncher(address)
    return Launcher()


@functools.cache
def server_registry() -> RunRegistry:
    """The registry of this process: every learner's runs share it, so the one-at-a-time limit holds."""
    return RunRegistry()


def latest_for(workspace: Workspace) -> TrainingRun | None:
    """A learner's latest run on this server, whichever tab or session started it."""
    return server_registry().latest(workspace.id)


def submit_for(workspace: Workspace, config: TrainConfig) -> TrainingRun:
    """Start (or queue) a learner's run on this server, keeping as many epoch snapshots as fit in their workspace
    (the trainer checks again before it saves); QuotaFull when it has no room for the model and two snapshots,
    RunBusy when a run of theirs is on, QueueFull when the server's queue is full."""
    workspace.check_room()
    planned = replace(config, snapshots=planned_snapshots(workspace, config), workspace_id=workspace.id)
    return server_registry().submit(planned, workspace.id)


def shutdown_all() -> None:
    """Discard every run of every registry in this process (tests call it so that no trainer outlives them)."""
    for registry in list(_registries):
        registry.shutdown()
