"""The trainer (in-process and as a child process), Stop, the queue and the CLI."""

import json
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, train_in_process

from cnnlib.mnist.data import load_mnist
from cnnlib.training.config import PRESETS, Hyperparameters, Preset, TrainConfig
from cnnlib.training.progress import Event, RunState
from cnnlib.training.runs import RunRegistry
from cnnlib.training.sentences import ending_text
from cnnlib.training.digits import split_training_data, training_batches
from cnnlib.training.ready import prepare
from cnnlib.training.recorder import own_batch_cost
from cnnlib.training.trainer import train

TINY = Hyperparameters(epochs=2, batch_size=25, learning_rate=1e-3, keep_prob=0.75, init="he", seed=1,
                       lr_decay="cosine")
CLI_TIMEOUT_S = 120


@pytest.fixture
def registry():
    """A one-at-a-time registry whose runs all end with the test, passed or failed: no trainer outlives it."""
    registry = RunRegistry(max_running=1)
    yield registry
    registry.shutdown()


def wait_for_batches(run, count: int, timeout_s: float = 60) -> None:
    """Block until ``run`` has trained ``count`` batches; fail with its message if it ends or takes too long."""
    deadline = time.monotonic() + timeout_s
    while run.snapshot().batches_done < count:
        progress = run.snapshot()
        assert time.monotonic() < deadline and not progress.finished, ending_text(progress)
        time.sleep(0.1)


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


def shown_digits(share: float, seed: int = 0) -> list[np.ndarray]:
    """Two epochs of training batches over 200 digits numbered by their pixels: + for scans, - for redrawn ones."""
    numbers = np.arange(1, 201, dtype=np.float32)
    scans = np.broadcast_to(numbers[:, None, None, None], (200, 28, 28, 1)).copy()
    batches = training_batches(scans, np.arange(200) % 10, -scans, replace(TINY, drawn_share=share, seed=seed))
    return [np.concatenate([images[:, 0, 0, 0] for images, _ in batches]) for _ in range(2)]


def test_training_batches_show_each_digit_once_an_epoch_redrawn_with_the_recipes_chance():
    for share in (0.0, 0.5, 1.0):
        for epoch in shown_digits(share):
            assert sorted(np.abs(epoch)) == list(range(1, 201))  # every digit once, with its own label below
            assert np.mean(epoch < 0) == pytest.approx(share, abs=0.1)
    first, second = shown_digits(0.5)
    assert not np.array_equal(first, second)  # shuffled and redrawn afresh each epoch
    np.testing.assert_array_equal(shown_digits(0.5, seed=3)[0], shown_digits(0.5, seed=3)[0])  # seeded
    for images, labels in training_batches(np.arange(50, dtype=np.float32)[:, None, None, None] * np.ones(
            (1, 28, 28, 1), np.float32), np.arange(50) % 10, None, TINY):  # digit k labelled k % 10, one-hot
        np.testing.assert_array_equal(images[:, 0, 0, 0].numpy() % 10, np.argmax(labels.numpy(), axis=1))


def tiny_config(models: Path, hp: Hyperparameters = TINY) -> TrainConfig:
    """300 offline digits (275 to train on, 25 held out) into ``models``."""
    return TrainConfig(hp=hp, data_source="offline", train_limit=300, model_name="tiny", models_directory=str(models))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny in-process training: 300 offline digits, 2 epochs of 11 batches."""
    events = []
    model, summary = train(tiny_config(tmp_path_factory.mktemp("models")), events.append)
    return model, summary, events


def test_training_lowers_the_cost_and_reports_each_batchs_own_cost(trained):
    _, summary, events = trained
    epochs = [e for e in events if e["event"] == Event.EPOCH]
    assert len(epochs) == 2 and epochs[1]["cost"] < epochs[0]["cost"]
    batches = [e for e in events if e["event"] == Event.BATCH and e["epoch"] == 1]
    assert len(batches) == 11  # 275 training digits (25 held out) in batches of 25
    # each batch's own cost averages back to Keras's epoch mean: they are the real per-batch costs
    assert np.mean([e["cost"] for e in batches]) == pytest.approx(epochs[0]["cost"], rel=1e-4)
    assert summary["epochs"] == 2 and 0 <= summary["test_accuracy"] <= 1
    assert summary["data_source"] == "offline" and summary["train_count"] == 275


def test_events_are_plain_json_data_in_order(trained):
    _, _, events = trained
    kinds = [event["event"] for event in events]
    assert kinds[:2] == ["redrawing", "started"] and kinds[-4:] == ["evaluated", "saving", "saved", "finished"]
    assert events[0]["count"] == 275  # the default recipe shows half its training digits redrawn as pen strokes
    started = events[1]
    assert started["device"]["kind"] in ("cpu", "gpu", "gpus")  # data the page words, not a sentence
    assert json.loads(json.dumps(events[:3])) == events[:3]
    epoch_ends = [event["t"] for event in events if event["event"] == Event.EPOCH]
    last_batches = [event["t"] for event in events if event["event"] == Event.BATCH and event["batch"] == 11]
    assert all(end >= batch for end, batch in zip(epoch_ends, last_batches))  # an epoch ends after its batches


def test_cosine_decay_brings_the_learning_rate_down_to_zero(trained):
    model, _, _ = trained
    assert int(model.optimizer.iterations) == 22  # 2 epochs x 11 batches: the schedule's whole length
    assert float(model.optimizer.learning_rate) == pytest.approx(0, abs=1e-9)


def test_evaluation_counts_every_test_digit(trained):
    _, summary, events = trained
    evaluated = next(e for e in events if e["event"] == Event.EVALUATED)
    confusion = np.array(evaluated["confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == 1000
    assert np.trace(confusion) / 1000 == pytest.approx(summary["test_accuracy"])
    assert evaluated["misclassified_count"] == 1000 - np.trace(confusion)


def test_saved_model_reloads_and_predicts_the_same(trained):
    from cnnlib.store.saved import load_model, read_metadata

    model, summary, _ = trained
    images = split_training_data(load_mnist("offline"), 300).x_test[:20]
    reloaded = load_model(summary["model_path"])
    np.testing.assert_allclose(reloaded.predict_on_batch(images), model.predict_on_batch(images), atol=1e-5)
    path = Path(summary["model_path"])
    metadata = read_metadata(path)
    assert path.name == "tiny.keras"
    assert metadata["test_accuracy"] == summary["test_accuracy"] and metadata["hyperparameters"]["batch_size"] == 25
    assert metadata["hyperparameters"] == TINY.to_dict()


@pytest.mark.parametrize("augment, drawn_share, ready_start", [(False, 0.5, {"seed": 7, "init": "tutorial"}),
                                                              (True, 0.0, {})])  # its own starting values: restart
def test_a_ready_network_trains_exactly_as_one_built_for_the_run(tmp_path, augment, drawn_share, ready_start):
    hp = replace(TINY, augment=augment, drawn_share=drawn_share)
    ready = prepare(tiny_config(tmp_path / "ready", replace(hp, **ready_start)))
    assert ready.starts_as(hp) == (not ready_start)
    built, built_summary = train(tiny_config(tmp_path / "built", hp), lambda event: None)
    reused, reused_summary = train(tiny_config(tmp_path / "reused", hp), lambda event: None, ready=ready)
    assert reused is ready.model and built is not ready.model
    for mine, theirs in zip(reused.get_weights(), built.get_weights(), strict=True):
        np.testing.assert_allclose(mine, theirs, atol=1e-5)
    assert reused_summary["test_accuracy"] == built_summary["test_accuracy"]


def test_a_ready_network_serves_only_its_recipe_and_data_size(tmp_path):
    ready = prepare(tiny_config(tmp_path))
    # the same first 275 training digits, however the limit was asked for (the page names it, the trainer may not)
    assert ready.holds_drawn_of(tiny_config(tmp_path), 275)
    assert ready.holds_drawn_of(replace(tiny_config(tmp_path), train_limit=None), 275)
    assert not ready.holds_drawn_of(tiny_config(tmp_path, replace(TINY, drawn_share=0.0)), 275)
    assert not ready.holds_drawn_of(tiny_config(tmp_path), 300)
    assert ready.serves(replace(TINY, seed=3, init="tutorial"), ready.steps_per_epoch)
    assert not ready.serves(TINY, ready.steps_per_epoch + 1)
    assert not ready.serves(replace(TINY, learning_rate=2e-3), ready.steps_per_epoch)
    assert ready.holds_data_of(tiny_config(tmp_path / "other")) and not ready.holds_data_of(TrainConfig())
    assert ready.holds_batches_of(tiny_config(tmp_path / "other"), 275)  # the same digits in the same order
    assert not ready.holds_batches_of(tiny_config(tmp_path, replace(TINY, seed=3)), 275)  # shuffled otherwise
    assert not ready.holds_batches_of(tiny_config(tmp_path), 250)


def test_stop_mid_epoch_finishes_the_batch_and_saves(tmp_path):
    stop = threading.Event()
    events = []

    def emit(event):
        events.append(event)
        if event["event"] == Event.BATCH and event["batch"] == 3:
            stop.set()

    config = TrainConfig(hp=replace(TINY, epochs=5), data_source="offline", train_limit=300, model_name="stopped",
                         models_directory=str(tmp_path))
    _, summary = train(config, emit, stop)
    stopped = next(e for e in events if e["event"] == Event.STOPPED)
    assert (stopped["epoch"], stopped["batch"]) == (1, 3)
    assert max(e["batch"] for e in events if e["event"] == Event.BATCH) == 3
    assert summary["stopped_early"] and summary["epochs"] == 1
    assert (tmp_path / "stopped.keras").is_file()


def test_child_process_stops_on_request_and_the_queue_waits(tmp_path, monkeypatch, registry):
    monkeypatch.setenv("CNN_EXPLORER_MODELS_DIR", str(tmp_path))
    long_run = registry.submit(TrainConfig(hp=replace(TINY, epochs=50), data_source="offline"))
    broken = registry.submit(TrainConfig(data_source="npz", npz_path=str(tmp_path / "missing.npz")))
    assert broken.state == RunState.QUEUED and registry.queue_position(broken) == 0
    assert tuple(registry.queue_place(broken)) == (1, 1)  # the long run goes first; one trains at a time
    wait_for_batches(long_run, 2)
    assert broken.state == "queued"
    long_run.stop()
    assert long_run.wait(timeout=60)
    progress = long_run.snapshot()
    assert progress.state == "done" and progress.stopped_early and progress.epoch == 1
    assert progress.test_accuracy is not None and (tmp_path / f"{progress.model_name}.keras").is_file()
    assert broken.wait(timeout=30)  # it started after the long run and failed with the child's own reason
    assert broken.snapshot().state == "failed" and "no such file" in ending_text(broken.snapshot())


def test_a_queued_run_can_be_cancelled_and_never_starts(registry):
    first = registry.submit(TrainConfig(hp=replace(TINY, epochs=50), data_source="offline"))
    second = registry.submit(TrainConfig(hp=TINY, data_source="offline"))
    second.stop()
    progress = second.snapshot()
    assert progress.state == "cancelled" and progress.finished and "Cancelled" in ending_text(progress)
    first.stop()
    assert first.wait(timeout=60)
    assert second.snapshot().state == "cancelled" and registry.queue_position(second) == -1


def test_shutdown_ends_every_run_and_saves_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_EXPLORER_MODELS_DIR", str(tmp_path))
    registry = RunRegistry(max_running=1)
    running = registry.submit(TrainConfig(hp=replace(TINY, epochs=50), data_source="offline"))
    queued = registry.submit(TrainConfig(hp=TINY, data_source="offline"))
    wait_for_batches(running, 1)
    registry.shutdown()
    assert running.snapshot().state == "failed" and queued.snapshot().state == "cancelled"
    assert running._process.poll() is not None  # the child is gone, not left training
    assert not list(tmp_path.glob("*.keras")) and registry.runs() == []


def run_cli(*arguments: str, timeout: float = CLI_TIMEOUT_S) -> subprocess.CompletedProcess:
    """``python -m cnnlib.train ARGUMENTS`` from the project root."""
    return subprocess.run([sys.executable, "-m", "cnnlib.train", *arguments], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout)


def test_cli_trains_and_prints_one_json_summary_last(tmp_path):
    out = tmp_path / "cli.keras"
    result = run_cli("--epochs", "1", "--train-limit", "200", "--data", "offline", "--batch-size", "50",
                     "--out", str(out))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("Training on ") and "per epoch." in lines[0]
    assert lines[-2].startswith("epoch   1  cost")
    summary = json.loads(lines[-1])
    assert {"test_accuracy", "epochs", "seconds", "images_per_second", "data_source", "model_path"} <= set(summary)
    assert summary["epochs"] == 1 and summary["data_source"] == "offline" and summary["model_path"] == str(out)
    assert out.is_file() and out.with_suffix(".json").is_file()


def test_cli_preset_sets_the_recipe_and_options_override_it(tmp_path, capsys):
    out = tmp_path / "tutorial.keras"
    code, _ = train_in_process(capsys, "--preset", "tutorial", "--epochs", "1", "--train-limit", "200", "--data",
                               "offline", "--out", str(out))
    assert code == 0
    recipe = json.loads(out.with_suffix(".json").read_text())["hyperparameters"]
    assert recipe == replace(PRESETS[Preset.TUTORIAL], epochs=1).to_dict()
    assert (recipe["init"], recipe["learning_rate"], recipe["batch_size"], recipe["lr_decay"]) == ("tutorial", 0.01,
                                                                                                    100, "none")


@pytest.mark.parametrize("arguments, reason", [
    (["--keep-prob", "0"], "--keep-prob must be in (0, 1]"),
    (["--learning-rate", "-1"], "--learning-rate must be in (0, 1]"),
    (["--init", "zeros"], "invalid choice"),
    (["--epochs", "many"], "invalid int value"),
    (["--out", "model.h5"], "--out must end in .keras"),
    (["--preset", "fastest"], "invalid choice"),
    (["--epochs", "0"], "--epochs must be at least 1"),
])
def test_cli_rejects_bad_arguments_with_exit_code_2_and_one_line(arguments, reason):
    result = run_cli(*arguments, timeout=60)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and reason in result.stderr
