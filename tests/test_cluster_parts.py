"""The parts of a run on a Ray cluster that need no cluster: what a worker gets of a run (no server path), the
trainer actor's lines and its refusals, results written home under the quota, the waiting sentence.

The cluster itself, with real trainings, is tests/test_ray_runs.py.
"""

from __future__ import annotations

import json
import os
import threading

import pytest

from cnnlib import text
from cnnlib.store.workspace import QuotaFull, new_workspace_id, workspace
from cnnlib.training.config import TrainConfig
from cnnlib.training.launcher import WorkerPlace
from cnnlib.training.progress import Phase, Progress, RunState
from cnnlib.training.remote_run import bring_home, shipped_config
from cnnlib.training.sentences import status_line
from cnnlib.training.worker import PublishedLines, TrainerActor, lower_priority


def test_a_worker_gets_no_server_path_and_the_data_source_this_server_means(tmp_path, monkeypatch):
    monkeypatch.delenv("CNN_EXPLORER_MNIST_NPZ", raising=False)
    monkeypatch.setenv("CNN_EXPLORER_DATA", "offline")
    learner = workspace(new_workspace_id(), tmp_path)
    config = TrainConfig(data_source="auto", model_name="m", models_directory=str(learner.models_dir),
                         workspace_id=learner.id)
    assert shipped_config(config) == (TrainConfig(data_source="offline", model_name="m"), None)
    upload = str(learner.models_dir / "mine.npz")
    assert shipped_config(TrainConfig(data_source="npz", npz_path=upload)) == (TrainConfig(data_source="npz"), upload)
    assert shipped_config(TrainConfig(data_source="keras", npz_path=upload)) == (TrainConfig(data_source="keras"), None)
    monkeypatch.setenv("CNN_EXPLORER_DATA", "")
    monkeypatch.setenv("CNN_EXPLORER_MNIST_NPZ", "/srv/mnist.npz")  # the server's own file goes as bytes too
    assert shipped_config(TrainConfig()) == (TrainConfig(data_source="npz"), "/srv/mnist.npz")


def test_lines_are_seen_once_flushed_and_a_reader_wakes_when_the_trainer_ends():
    lines = PublishedLines()
    lines.write('{"event": "batch"}\n')
    assert lines.since(0, wait_s=0.01) == ([], None)
    lines.flush()
    assert lines.since(0, wait_s=0.01) == (['{"event": "batch"}\n'], None)
    threading.Timer(0.1, lines.close, args=(0,)).start()
    assert lines.since(1, wait_s=30) == ([], 0) and lines.ended() == 0


def test_an_argument_the_cli_refuses_fails_the_actors_run_with_the_parsers_reason_and_leaves_no_folder():
    actor = TrainerActor()
    actor.train(TrainConfig(data_source="offline", model_name="m", snapshots=1))  # fewer than the CLI allows
    lines, code = actor.events(0, wait_s=30)
    assert code == 2 and actor.results() == [] and not actor._folder.exists()
    event = json.loads(lines[-1])
    assert event["event"] == "failed" and "--snapshots" in event["message"] and "error:" in event["message"]


def test_a_worker_trains_at_a_lower_priority_in_its_own_threads_only():
    seen = {}

    def lowered() -> None:
        lower_priority()
        seen["niceness"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    worker = threading.Thread(target=lowered)
    worker.start()
    worker.join()
    assert seen["niceness"] == min(19, before + 10)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before


def test_results_come_home_into_the_learners_workspace_under_its_quota(tmp_path, monkeypatch):
    learner = workspace(new_workspace_id(), tmp_path)
    config = TrainConfig(model_name="home", models_directory=str(learner.models_dir), workspace_id=learner.id)
    assert bring_home([b"model", b"{}", b"states"], config) == learner.models_dir / "home.keras"
    assert sorted(path.name for path in learner.models_dir.iterdir()) == ["home.epochs.npz", "home.json",
                                                                          "home.keras"]
    monkeypatch.setenv("CNN_EXPLORER_QUOTA_MB", "1")
    with pytest.raises(QuotaFull):
        bring_home([b"x" * 2**20, b"{}", b""], TrainConfig(model_name="big", models_directory=str(learner.models_dir),
                                                         workspace_id=learner.id))
    assert not (learner.models_dir / "big.keras").exists()


def test_a_run_waiting_for_a_worker_says_what_is_ahead_in_both_languages(monkeypatch):
    progress, place = Progress(state=RunState.RUNNING, phase=Phase.STARTING), WorkerPlace(3, 0.0, 8.0, 2)
    assert status_line(progress, place) == ("Waiting for a free worker on the Ray cluster: 3 training(s) ahead of "
                                            "yours; 0 of its 8 CPUs are free, and each training takes 2 CPU(s). It "
                                            "starts by itself.")
    monkeypatch.setattr(text, "_language_resolver", lambda: text.KOREAN)
    assert status_line(progress, place).startswith("Ray 클러스터에서 비어 있는 작업자(worker)를 기다리는 중입니다. "
                                                   "앞에 학습 3개가 있습니다.")
    monkeypatch.setattr(text, "_language_resolver", lambda: text.ENGLISH)
    progress.phase = Phase.TRAINING  # it has its worker: the usual line
    assert status_line(progress, place).startswith("Epoch 0/0")
