"""The trainer (in-process and as a child process), its progress events, Stop, the queue and the CLI."""

import json
import math
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT

from cnnlib.data import load_mnist
from cnnlib.model import Hyperparameters
from cnnlib.progress import CHANCE_COST, Progress, RunRegistry, apply_event, diagnose, smoothed
from cnnlib.train import TrainConfig, own_batch_cost, split_training_data

TINY = Hyperparameters(epochs=2, batch_size=25, learning_rate=1e-3, keep_prob=0.75, init="he", seed=1,
                       lr_decay="cosine")


def test_own_batch_cost_undoes_kerass_running_mean():
    # running means 2.0, 1.5, 1.0 after batches of 100: the batches cost 2.0, 1.0, 0.0
    assert own_batch_cost(2.0, 100, 0.0, 0) == 2.0
    assert own_batch_cost(1.5, 200, 2.0, 100) == 1.0
    assert own_batch_cost(1.0, 300, 1.5, 200) == 0.0
    assert own_batch_cost(1.0, 250, 1.2, 200) == pytest.approx(0.2)  # a last, smaller batch of 50


def test_split_holds_out_a_twelfth_for_validation():
    arrays = split_training_data(load_mnist("offline"), train_limit=600)
    assert arrays.x_train.shape == (550, 28, 28, 1) and arrays.x_val.shape == (50, 28, 28, 1)
    assert arrays.x_test.shape == (1000, 28, 28, 1)
    assert arrays.x_train.dtype == np.float32 and 0 <= arrays.x_train.min() and arrays.x_train.max() <= 1


def test_apply_event_builds_the_snapshot_the_page_draws():
    progress = Progress(state="running")
    apply_event(progress, {"event": "started", "device": "CPU (2 threads)", "data_source": "offline",
                           "data_description": "d", "train_count": 200, "validation_count": 18, "test_count": 1000,
                           "epochs": 2, "batch_size": 100, "steps_per_epoch": 2})
    for batch, (cost, t) in enumerate([(2.3, 0.5), (1.9, 0.6)], start=1):
        apply_event(progress, {"event": "batch", "epoch": 1, "batch": batch, "cost": cost, "t": t})
    apply_event(progress, {"event": "epoch", "epoch": 1, "cost": 2.1, "accuracy": 0.3, "val_cost": 1.8,
                           "val_accuracy": 0.5, "seconds": 0.6, "images_per_second": 333.0})
    assert (progress.device, progress.epoch, progress.batch) == ("CPU (2 threads)", 1, 2)
    assert progress.batch_positions == [0.5, 1.0]
    assert progress.images_per_second == pytest.approx(100 / 0.1)  # 1 batch of 100 in the 0.1 s between them
    assert progress.fraction_done == 0.5 and progress.eta_s == pytest.approx(0.2)
    assert progress.epoch_costs == [2.1] and progress.val_accuracies == [0.5] and progress.epoch_positions == [1.0]
    apply_event(progress, {"event": "evaluated", "test_accuracy": 0.9, "confusion": np.eye(10).tolist(),
                           "misclassified": [[3, 4, 9]], "misclassified_count": 1})
    apply_event(progress, {"event": "finished", "summary": {}})
    assert progress.state == "done" and progress.finished and progress.eta_s is None
    assert progress.misclassified == [[3, 4, 9]]


def test_smoothed_starts_at_the_first_cost_and_follows_the_trend():
    assert smoothed([2.0, 2.0, 2.0]) == pytest.approx([2.0, 2.0, 2.0])
    trend = smoothed([2.0, 1.0, 1.0, 1.0])
    assert trend[0] == 2.0 and 1.0 < trend[-1] < trend[1] < 2.0


def test_diagnose_spots_exploding_chance_and_dead_digits():
    healthy = Progress(batch_costs=[2.3, 1.5, 1.0, 0.6, 0.4, 0.3], val_accuracies=[0.9])
    assert diagnose(healthy) == []
    exploding = Progress(batch_costs=[60.0, 55.0, 50.0, 48.0, 45.0])
    assert diagnose(exploding)[0].kind == "exploding"
    recovered = Progress(batch_costs=[60.0] * 5 + [1.0] * 200, val_accuracies=[0.6])
    assert [d.kind for d in diagnose(recovered)] == ["exploded"]
    chance = Progress(batch_costs=[CHANCE_COST] * 120, val_accuracies=[0.1])
    assert [d.kind for d in diagnose(chance)] == ["chance"]
    confusion = np.zeros((10, 10), int)
    confusion[:, 8] = 100  # predicts 8 for everything
    assert "never predicts 0, 1, 2, 3, 4, 5, 6, 7, 9" in diagnose(Progress(confusion=confusion.tolist()))[0].summary
    assert diagnose(Progress(batch_costs=[2.0, math.nan]))[0].kind == "exploding"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny in-process training: 300 offline digits, 2 epochs of 11 batches."""
    from cnnlib.train import train

    events = []
    config = TrainConfig(hp=TINY, data_source="offline", train_limit=300, model_name="tiny",
                         models_directory=str(tmp_path_factory.mktemp("models")))
    model, summary = train(config, events.append)
    return model, summary, events


def test_training_lowers_the_cost_and_reports_each_batchs_own_cost(trained):
    _, summary, events = trained
    epochs = [e for e in events if e["event"] == "epoch"]
    assert len(epochs) == 2 and epochs[1]["cost"] < epochs[0]["cost"]
    batches = [e for e in events if e["event"] == "batch" and e["epoch"] == 1]
    assert len(batches) == 11  # 275 training digits (25 held out) in batches of 25
    # each batch's own cost averages back to Keras's epoch mean: they are the real per-batch costs
    assert np.mean([e["cost"] for e in batches]) == pytest.approx(epochs[0]["cost"], rel=1e-4)
    assert summary["epochs"] == 2 and 0 <= summary["test_accuracy"] <= 1
    assert summary["data_source"] == "offline" and summary["train_count"] == 275


def test_cosine_decay_brings_the_learning_rate_down_to_zero(trained):
    model, _, _ = trained
    assert int(model.optimizer.iterations) == 22  # 2 epochs x 11 batches: the schedule's whole length
    assert float(model.optimizer.learning_rate) == pytest.approx(0, abs=1e-9)


def test_evaluation_counts_every_test_digit(trained):
    _, summary, events = trained
    evaluated = next(e for e in events if e["event"] == "evaluated")
    confusion = np.array(evaluated["confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == 1000
    assert np.trace(confusion) / 1000 == pytest.approx(summary["test_accuracy"])
    assert evaluated["misclassified_count"] == 1000 - np.trace(confusion)


def test_saved_model_reloads_and_predicts_the_same(trained):
    from cnnlib.models_store import load_model, read_metadata

    model, summary, _ = trained
    images = split_training_data(load_mnist("offline"), 300).x_test[:20]
    reloaded = load_model(summary["model_path"])
    np.testing.assert_allclose(reloaded.predict_on_batch(images), model.predict_on_batch(images), atol=1e-5)
    path = Path(summary["model_path"])
    metadata = read_metadata(path)
    assert path.name == "tiny.keras"
    assert metadata["test_accuracy"] == summary["test_accuracy"] and metadata["hyperparameters"]["batch_size"] == 25


def test_stop_mid_epoch_finishes_the_batch_and_saves(tmp_path):
    from cnnlib.train import train

    stop = threading.Event()
    events = []

    def emit(event):
        events.append(event)
        if event["event"] == "batch" and event["batch"] == 3:
            stop.set()

    config = TrainConfig(hp=replace(TINY, epochs=5), data_source="offline", train_limit=300, model_name="stopped",
                         models_directory=str(tmp_path))
    _, summary = train(config, emit, stop)
    stopped = next(e for e in events if e["event"] == "stopped")
    assert (stopped["epoch"], stopped["batch"]) == (1, 3)
    assert max(e["batch"] for e in events if e["event"] == "batch") == 3
    assert summary["stopped_early"] and summary["epochs"] == 1
    assert (tmp_path / "stopped.keras").is_file()


def test_child_process_stops_on_request_and_the_queue_waits(tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_EXPLORER_MODELS_DIR", str(tmp_path))
    registry = RunRegistry(max_running=1)
    long_run = registry.submit(TrainConfig(hp=replace(TINY, epochs=50), data_source="offline"), "long")
    broken = registry.submit(TrainConfig(data_source="npz", npz_path=str(tmp_path / "missing.npz")), "broken")
    assert broken.state == "queued" and registry.queue_position(broken) == 0
    deadline = time.monotonic() + 60
    while long_run.snapshot().batches_done < 2:
        assert time.monotonic() < deadline and not long_run.snapshot().finished, long_run.snapshot().message
        time.sleep(0.1)
    assert broken.state == "queued"
    long_run.stop()
    assert long_run.wait(timeout=60)
    progress = long_run.snapshot()
    assert progress.state == "done" and progress.stopped_early and progress.epoch == 1
    assert progress.test_accuracy is not None and (tmp_path / f"{progress.model_name}.keras").is_file()
    assert broken.wait(timeout=30)  # it started after the long run and failed with the child's own reason
    assert broken.snapshot().state == "failed" and "no such file" in broken.snapshot().message


def test_a_queued_run_can_be_cancelled_and_never_starts():
    registry = RunRegistry(max_running=1)
    first = registry.submit(TrainConfig(hp=replace(TINY, epochs=50), data_source="offline"), "first")
    second = registry.submit(TrainConfig(hp=TINY, data_source="offline"), "second")
    second.stop()
    progress = second.snapshot()
    assert progress.state == "cancelled" and progress.finished and "Cancelled" in progress.message
    first.stop()
    assert first.wait(timeout=60)
    assert second.snapshot().state == "cancelled" and registry.queue_position(second) == -1


def test_cli_trains_and_prints_one_json_summary_last(tmp_path):
    out = tmp_path / "cli.keras"
    result = subprocess.run([sys.executable, "-m", "cnnlib.train", "--epochs", "1", "--train-limit", "200",
                             "--data", "offline", "--batch-size", "50", "--out", str(out)],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-2].startswith("epoch   1  cost")
    summary = json.loads(lines[-1])
    assert {"test_accuracy", "epochs", "seconds", "images_per_second", "data_source", "model_path"} <= set(summary)
    assert summary["epochs"] == 1 and summary["data_source"] == "offline" and summary["model_path"] == str(out)
    assert out.is_file() and out.with_suffix(".json").is_file()


@pytest.mark.parametrize("arguments, reason", [
    (["--keep-prob", "0"], "--keep-prob must be in (0, 1]"),
    (["--learning-rate", "-1"], "--learning-rate must be in (0, 1]"),
    (["--init", "zeros"], "invalid choice"),
    (["--epochs", "many"], "invalid int value"),
    (["--out", "model.h5"], "--out must end in .keras"),
])
def test_cli_rejects_bad_arguments_with_exit_code_2_and_one_line(arguments, reason):
    result = subprocess.run([sys.executable, "-m", "cnnlib.train", *arguments], capture_output=True, text=True,
                            cwd=ROOT, timeout=60)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and reason in result.stderr
