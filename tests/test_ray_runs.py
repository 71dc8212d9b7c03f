"""Trainings on a Ray cluster, end to end through the registry, as a class meets them: two learners press Start
together, a third waits for a free worker, one of the two presses Stop, the other's worker is killed mid-run, the
third then trains, and the learner whose worker was lost may start again.

One local Ray for the whole module, started here in this process (two CPUs, loopback only, no dashboard, its token
in the environment so nothing is written to ``~/.ray``), and one such afternoon played on it (``afternoon``); each
test then checks one thing that happened. The trainings are real and tiny: tests/test_train.py's recipe on 300
offline digits, 2 epochs of batch 25 (50 for the runs that are stopped or killed). Also: without
``CNN_EXPLORER_RAY_ADDRESS``, Ray is never imported.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import replace
from types import SimpleNamespace

import pytest
from conftest import ROOT

from cnnlib.training.cluster import RayLauncher, cluster_in_this_process  # first: keeps Ray's token auth on
import ray
from cnnlib import text
from cnnlib.network.snapshots import snapshot_path
from cnnlib.store.checks import check_architecture
from cnnlib.store.saved import read_metadata
from cnnlib.store.workspace import Workspace, new_workspace_id, workspace
from cnnlib.training import runs
from cnnlib.training.config import Hyperparameters, TrainConfig
from cnnlib.training.launcher import WorkerPlace
from cnnlib.training.progress import Ending, RunState
from cnnlib.training.runs import RunBusy, RunRegistry, submit_for
from cnnlib.training.sentences import ending_text, run_outcome, status_line

TINY = Hyperparameters(epochs=2, batch_size=25, learning_rate=1e-3, keep_prob=0.75, init="he", seed=1,
                       lr_decay="cosine")  # tests/test_train.py's
WAIT_S = 120


@pytest.fixture(scope="module")
def cluster():
    """A local Ray of two CPUs in this process, on loopback, with token authentication; shut down after the module."""
    with cluster_in_this_process(2):
        yield


def learner(folder) -> Workspace:
    """A new learner's workspace under ``folder``."""
    return workspace(new_workspace_id(), folder)


def tiny(owner: Workspace, **changes) -> TrainConfig:
    """The tiny run, its model going to ``owner``'s workspace (as the Train page sets it)."""
    return TrainConfig(hp=replace(TINY, **changes), data_source="offline", train_limit=300,
                       models_directory=str(owner.models_dir))


def wait_for(run, condition, timeout_s: float = WAIT_S):
    """The run's progress once ``condition(progress)`` holds; fail with its ending if it never does."""
    deadline = time.monotonic() + timeout_s
    while not condition(progress := run.snapshot()):
        assert time.monotonic() < deadline and not progress.finished, (progress.state, ending_text(progress))
        time.sleep(0.05)
    return progress


def finished(run):
    """The run's progress once it has finished and its thread is done."""
    assert run.wait(WAIT_S), run.snapshot()
    return run.snapshot()


def spare_of(registry: RunRegistry):
    """The actor the registry keeps ready, once made (in the background, at once)."""
    deadline = time.monotonic() + WAIT_S
    while (spare := registry.launcher._spare) is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return spare


@pytest.fixture(scope="module")
def afternoon(cluster, tmp_path_factory):
    """Ada (on the actor kept ready) and Bo press Start together; Cy starts while both train and waits; Ada presses
    Stop and Bo's worker is killed; Cy trains; Bo starts again. Every run, workspace and what the page said."""
    folder, seen = tmp_path_factory.mktemp("models"), SimpleNamespace()
    ada, bo, cy = learner(folder), learner(folder), learner(folder)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(runs.RAY_ADDRESS_ENV, "auto")
        registry = seen.registry = RunRegistry()
        patch.setattr(runs, "server_registry", lambda: registry)
        try:
            registry.keep_trainer_ready()
            seen.spare = spare_of(registry)
            seen.stopped, seen.killed = submit_for(ada, tiny(ada, epochs=50)), submit_for(bo, tiny(bo, epochs=50))
            registry._keep_ready = False  # no other actor kept ready from here: the two CPUs are for the runs
            for run in (seen.stopped, seen.killed):
                wait_for(run, lambda progress: progress.batches_done >= 2)
            seen.together = not any(run.snapshot().finished for run in (seen.stopped, seen.killed))
            seen.waited = submit_for(cy, tiny(cy))  # both CPUs are taken
            seen.place = registry.queue_place(seen.waited)
            seen.waiting = status_line(seen.waited.snapshot(), seen.place)
            with pytest.raises(RunBusy):
                submit_for(cy, tiny(cy))
            seen.stopped.stop()
            ray.kill(seen.killed._process.actor)
            for run in (seen.stopped, seen.killed, seen.waited):
                finished(run)
            seen.again = submit_for(bo, tiny(bo))  # not refused: Bo has no run on any more
            seen.latest = {owner.id: registry.latest(owner.id) for owner in (ada, bo, cy)}
            yield SimpleNamespace(**vars(seen), ada=ada, bo=bo, cy=cy)
        finally:
            registry.shutdown()


def kept(owner: Workspace, progress) -> bool:
    """Whether the run's model, card and snapshots are in ``owner``'s workspace here, and the page was told so."""
    model = owner.models_dir / f"{progress.model_name}.keras"
    return (progress.model_path == str(model) and model.is_file() and snapshot_path(model).is_file()
            and read_metadata(model)["test_accuracy"] == progress.test_accuracy)


def test_two_learners_train_at_once_on_ray_workers_while_a_third_waits(afternoon):
    assert isinstance(afternoon.registry.launcher, RayLauncher) and afternoon.together
    for run in (afternoon.stopped, afternoon.killed):
        assert run.snapshot().device == {"kind": "cpu", "threads": 1}  # CNN_EXPLORER_RAY_CPUS: 1 by default


def test_the_first_run_takes_the_actor_kept_ready(afternoon):
    assert afternoon.stopped._process is afternoon.spare.process


def test_stop_keeps_what_was_learned_and_it_comes_home_to_the_learners_workspace(afternoon):
    progress = afternoon.stopped.snapshot()
    assert progress.state == RunState.DONE and progress.stopped_early and kept(afternoon.ada, progress)
    check_architecture(progress.model_path)  # it came home whole: every check the app runs before Keras passes


def test_a_run_that_finds_no_free_worker_says_so_and_trains_once_one_is_free(afternoon):
    place = afternoon.place
    assert isinstance(place, WorkerPlace) and (place.ahead, place.total_cpus, place.cpus_per_run) == (0, 2, 1)
    assert afternoon.waiting.startswith("Waiting for a free worker on the Ray cluster: 0 training(s) ahead")
    progress = afternoon.waited.snapshot()
    assert progress.state == RunState.DONE and not progress.stopped_early and kept(afternoon.cy, progress)


def test_a_killed_worker_fails_its_run_with_a_sentence(afternoon, monkeypatch):
    progress = afternoon.killed.snapshot()
    assert (progress.state, progress.ending, progress.refusal_key) == (RunState.FAILED, Ending.TRAINER_ERROR,
                                                                      "train.ray.worker_lost")
    assert run_outcome(progress, "#1")[0] == "error" and "went away before the run finished" in ending_text(progress)
    assert not progress.model_name and not afternoon.bo.models_dir.exists()
    monkeypatch.setattr(text, "_language_resolver", lambda: text.KOREAN)
    assert "작업자(worker)가 학습을 마치기 전에 사라졌습니다(ActorDiedError)" in ending_text(progress)


def test_a_reload_finds_each_learners_latest_run(afternoon):
    assert afternoon.latest == {afternoon.ada.id: afternoon.stopped, afternoon.bo.id: afternoon.again,
                                afternoon.cy.id: afternoon.waited}


def test_without_the_address_ray_is_never_imported():
    script = ("import sys; from cnnlib.training import cli, runs, sentences, worker; registry = runs.RunRegistry(); "
              "print(type(registry.launcher).__name__, 'ray' in sys.modules); registry.shutdown()")
    environment = {name: value for name, value in os.environ.items() if name != runs.RAY_ADDRESS_ENV}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.split() == ["Launcher", "False"], result.stderr
