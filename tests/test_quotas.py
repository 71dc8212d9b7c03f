"""Quotas that count everything a run writes: at most 50 epoch snapshots spread over a run, the run planned (thinned
or refused) before it starts, the room checked again before it saves, and a replay that reads one epoch at a time."""

import json
import sys
from types import SimpleNamespace

import numpy as np
import pytest
from numpy.lib.npyio import NpzFile

from cnnlib import text
from cnnlib.mnist.data import load_mnist
from cnnlib.network import reader
from cnnlib.network.architecture import Hyperparameters, build_model
from cnnlib.network.replay import Replay
from cnnlib.network.snapshots import (MAX_SNAPSHOTS, EpochSnapshots, kept_epochs, load_snapshots, save_snapshots,
                                      snapshot_callback, snapshot_path)
from cnnlib.store import saved as saved_models
from cnnlib.store.workspace import QuotaFull, new_workspace_id, workspace
from cnnlib.training import runs, trainer
from cnnlib.training.cli import failure_event
from cnnlib.training.config import TrainConfig
from cnnlib.training.events import apply_event
from cnnlib.training.progress import Ending, Phase, Progress, RunState
from cnnlib.training.room import model_bytes, parameter_count, planned_snapshots, run_bytes, state_bytes
from cnnlib.training.runs import Launcher, RunRegistry
from cnnlib.training.sentences import ending_text

TINY = Hyperparameters(epochs=6, batch_size=50, conv1_filters=4, conv2_filters=8, dense_units=16, kernel_size=3,
                       drawn_share=0.0, augment=False)
MB = 2**20


@pytest.fixture(scope="module")
def tiny_model():
    """The tutorial's network at tiny sizes (7,066 weights), untrained."""
    return build_model(TINY)


@pytest.fixture
def quota(monkeypatch):
    """Set a learner's quota in megabytes (and 20 models)."""
    monkeypatch.setenv("CNN_EXPLORER_QUOTA_MODELS", "20")
    return lambda megabytes: monkeypatch.setenv("CNN_EXPLORER_QUOTA_MB", str(megabytes))


def test_a_run_keeps_every_epoch_of_a_short_run_and_50_spread_over_a_long_one():
    assert kept_epochs(3) == (0, 1, 2, 3) and kept_epochs(49) == tuple(range(50))
    assert kept_epochs(10, 4) == (0, 3, 7, 10)
    long = kept_epochs(500)
    assert len(long) == MAX_SNAPSHOTS == 50 and long[0] == 0 and long[-1] == 500
    assert set(np.diff(long)) <= {10, 11}  # evenly spread: 500 / 49 = 10.2 epochs apart


def fake_training(model, epochs: int, trained: int):
    """The snapshot callback through ``trained`` of ``epochs`` planned epochs, without fitting: after epoch e the
    logits' biases are all e, so each state on disk says which epoch it is."""
    arrays = load_mnist("offline")
    callback = snapshot_callback(arrays.x_test[:20], arrays.y_test[:20], epochs=epochs)
    callback.set_model(model)
    callback.on_train_begin()
    bias = model.get_layer("logits").bias
    for epoch in range(trained):
        bias.assign(np.full(bias.shape, epoch + 1, np.float32))
        callback.on_epoch_end(epoch)
    callback.on_train_end()
    return callback.snapshots


def test_500_epochs_leave_at_most_50_snapshots_on_disk_spread_over_the_run(tiny_model, tmp_path):
    tiny_model.get_layer("logits").bias.assign(np.zeros(10, np.float32))
    snapshots = fake_training(tiny_model, epochs=500, trained=500)
    path = save_snapshots(tmp_path / "long.keras", snapshots)
    stored = load_snapshots(tmp_path / "long.keras")
    assert stored.kept == kept_epochs(500) and len(stored.test_accuracies) == 50
    with np.load(path) as archive:
        assert len(archive.files) == 50 * len(tiny_model.weights) + 2  # 50 states, their accuracies, digits tested
    for epoch in (0, 10, 490, 500):
        assert np.all(stored.weights_after(epoch)[-1] == epoch)  # the logits' biases: each state is its epoch
    assert path.stat().st_size < 50 * state_bytes(tiny_model.count_params())


def test_a_long_run_stopped_early_keeps_the_last_epoch_it_trained(tiny_model, tmp_path):
    snapshots = fake_training(tiny_model, epochs=500, trained=37)
    assert snapshots.kept == (0, 10, 20, 31, 37) and len(snapshots.test_accuracies) == 5
    assert np.all(snapshots.weights[-1][-1] == 37)


def test_a_real_run_keeps_the_epochs_it_planned_and_its_card_lists_them(tmp_path):
    config = TrainConfig(hp=TINY, data_source="offline", train_limit=200, model_name="thinned",
                         models_directory=str(tmp_path), snapshots=3)
    _, summary = trainer.train(config, lambda event: None)
    stored = load_snapshots(tmp_path / "thinned.keras")
    card = json.loads((tmp_path / "thinned.json").read_text())
    assert stored.kept == (0, 3, 6) and card["snapshot_epochs"] == [0, 3, 6]
    assert card["epoch_test_accuracies"] == pytest.approx(stored.test_accuracies)
    assert (tmp_path / "thinned.keras").stat().st_size < model_bytes(parameter_count(TINY))


def test_the_estimate_counts_the_networks_weights_without_building_it():
    for hp in (TINY, Hyperparameters(), Hyperparameters(conv1_filters=64, conv2_filters=128, dense_units=512,
                                                        kernel_size=7)):
        assert parameter_count(hp) == build_model(hp).count_params()
    assert 95 * MB < run_bytes(parameter_count(Hyperparameters()), 50) < 105 * MB  # the default network, 50 states


def test_a_run_is_thinned_to_fit_the_room_left_or_refused_with_a_sentence(tmp_path, quota):
    learner = workspace(new_workspace_id(), tmp_path)
    config = TrainConfig(hp=Hyperparameters(epochs=500))
    weights = parameter_count(config.hp)
    quota(1000)
    assert planned_snapshots(learner, config) == 50
    quota((model_bytes(weights) + 10.5 * state_bytes(weights)) / MB)
    assert planned_snapshots(learner, config) == 10
    quota(12)  # the model and two states need 14 MB
    with pytest.raises(QuotaFull, match="needs about 14 MB .* only 12 MB are left") as refused:
        planned_snapshots(learner, config)
    assert refused.value.key == "workspace.run_too_big" and not learner.models_dir.exists()


def test_submit_plans_the_snapshots_and_a_refused_run_never_reaches_the_queue(tmp_path, quota, monkeypatch):
    registry = RunRegistry(max_running=1, launcher=Launcher((sys.executable, "tests/fake_trainer.py")))
    monkeypatch.setattr(runs, "server_registry", lambda: registry)
    learner = workspace(new_workspace_id(), tmp_path)
    weights = parameter_count(Hyperparameters())
    try:
        quota(5)
        with pytest.raises(QuotaFull, match="only 5 MB are left"):
            runs.submit_for(learner, TrainConfig(models_directory=str(learner.models_dir)))
        assert not registry.runs()
        quota((model_bytes(weights) + 4.5 * state_bytes(weights)) / MB)
        run = runs.submit_for(learner, TrainConfig(hp=Hyperparameters(epochs=40),
                                                   models_directory=str(learner.models_dir)))
        assert run.config.snapshots == 4 and run.config.workspace_id == learner.id
        assert run.config.to_args()[-4:] == ["--snapshots", "4", "--workspace", learner.id]
    finally:
        registry.shutdown()


def test_a_save_is_refused_when_the_workspace_filled_meanwhile_and_the_learner_is_told(tiny_model, tmp_path, quota,
                                                                                      monkeypatch):
    learner = workspace(new_workspace_id(), tmp_path)
    config = TrainConfig(hp=TINY, model_name="late", models_directory=str(learner.models_dir), workspace_id=learner.id)
    summary = {"test_accuracy": 0.5, "epochs": 1, "stopped_early": False, "device": {}, "seconds": 1.0,
               "images_per_second": 1.0}
    data = SimpleNamespace(source="offline", description="offline digits")
    snapshots = EpochSnapshots([tiny_model.get_weights()] * 2, [0.1, 0.5])
    quota(1)
    learner.models_dir.mkdir(parents=True)
    (learner.models_dir / "mine.npz").write_bytes(b"x" * (MB - 100_000))  # uploaded while the run trained
    with pytest.raises(QuotaFull) as refused:
        trainer.save(tiny_model, config, summary, data, snapshots)
    late = learner.models_dir / "late.keras"
    assert not late.exists() and not snapshot_path(late).exists()
    progress = Progress(state=RunState.RUNNING, phase=Phase.SAVING)
    apply_event(progress, json.loads(json.dumps(failure_event(refused.value))))  # as the pipe carries it
    assert progress.state == RunState.FAILED and progress.ending == Ending.NO_ROOM
    assert ending_text(progress).startswith("The network was trained and tested, but your workspace had no room")
    assert "uses 0.9 MB of its 1 MB" in ending_text(progress)
    with monkeypatch.context() as korean:
        korean.setattr(text, "_language_resolver", lambda: text.KOREAN)
        assert "작업 공간이 1 MB 중 0.9 MB를 쓰고 있습니다" in ending_text(progress)
    quota(2)
    assert trainer.save(tiny_model, config, summary, data, snapshots).path == learner.models_dir / "late.keras"


def replayable(model, folder, kept: tuple[int, ...]):
    """``model`` saved with one state per kept epoch, each state's weights all equal to its epoch."""
    saved = saved_models.save_model(model, "replayed", {}, folder)
    states = [[np.full(weight.shape, epoch, np.float32) for weight in model.get_weights()] for epoch in kept[:-1]]
    save_snapshots(saved.path, EpochSnapshots(states + [model.get_weights()], [epoch / 100 for epoch in kept], kept))
    return saved.path


def test_replay_reads_only_the_epoch_shown_and_offers_only_the_kept_epochs(tiny_model, tmp_path, monkeypatch):
    path = replayable(tiny_model, tmp_path, (0, 5, 10, 20))
    read = []
    original = NpzFile.__getitem__
    monkeypatch.setattr(NpzFile, "__getitem__", lambda archive, key: read.append(key) or original(archive, key))
    stored = load_snapshots(path)
    assert read == ["test_accuracy", "tested"]  # the index: no weights
    replay = Replay.of(reader.ModelProbe(tiny_model), stored)
    assert replay.kept == (0, 5, 10, 20) and replay.epochs == 20 and replay.accuracy(10) == 0.1
    assert replay.filter_history().shape[:2] == (4, 4)
    image = np.zeros((28, 28), np.float32)
    for epoch, members in ((10, "e10_"), (10, None), (20, None), (5, "e5_")):
        read.clear()
        replay.read(epoch, image)
        if members is None:
            assert not read, read  # shown already, or the saved network itself
        else:
            assert len(read) == len(tiny_model.weights) and all(key.startswith(members) for key in read)
    np.testing.assert_array_equal(replay.probe_at(5).first_layer_filters(), np.full((3, 3, 1, 4), 5, np.float32))


def test_the_epoch_slider_offers_only_the_kept_epochs(tiny_model, tmp_path, monkeypatch):
    from test_draw_page import draw_page
    from test_pages import page_trouble

    replayable(tiny_model, tmp_path, (0, 5, 10, 20))
    at = draw_page(tmp_path, monkeypatch)
    slider = at.select_slider(key="draw_epoch")
    assert slider.value == 20 and slider.options == ["epoch 0 (0.0%)", "epoch 5 (5.0%)", "epoch 10 (10.0%)",
                                                       "epoch 20 (20.0%)"]
    at.select_slider(key="draw_epoch").set_value(10).run()
    assert not page_trouble(at), page_trouble(at)
    assert any(caption.value.startswith("Epoch 10 of 20:") for caption in at.caption)
