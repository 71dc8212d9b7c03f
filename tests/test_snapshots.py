"""Epoch replay snapshots: recorded by a callback, saved compactly, loaded back as the states of the network."""

import numpy as np

from cnnlib.mnist.data import load_mnist
from cnnlib.network.architecture import Hyperparameters, build_model, one_hot
from cnnlib.network import snapshots as snapshot_module
from cnnlib.network.snapshots import EpochSnapshots, load_snapshots, save_snapshots, snapshot_callback, snapshot_path
from cnnlib.training.trainer import split_training_data


def test_a_three_epoch_run_gives_four_states_whose_accuracies_can_be_replayed(tmp_path):
    arrays = split_training_data(load_mnist("offline"), 600)
    hp = Hyperparameters(epochs=3, conv1_filters=4, conv2_filters=8, dense_units=16, batch_size=50)
    model = build_model(hp, steps_per_epoch=-(-len(arrays.x_train) // 50))  # the schedule spans the 3 epochs
    callback = snapshot_callback(arrays.x_test, arrays.y_test)
    model.fit(arrays.x_train, one_hot(arrays.y_train), batch_size=50, epochs=3, verbose=0, callbacks=[callback])
    snapshots = callback.snapshots
    assert snapshots.epochs == 3 and len(snapshots.test_accuracies) == 4
    path = tmp_path / "run.keras"
    save_snapshots(path, snapshots)
    loaded = load_snapshots(path)
    assert loaded.epochs == 3 and loaded.test_accuracies == snapshots.test_accuracies
    for epoch in (0, 3):  # the replayed state predicts what the network predicted then
        model.set_weights(loaded.weights[epoch])
        predicted = np.argmax(model.predict(arrays.x_test, verbose=0), axis=1)
        assert abs(np.mean(predicted == arrays.y_test) - loaded.test_accuracies[epoch]) < 0.01
    assert loaded.test_accuracies[3] > loaded.test_accuracies[0]


def test_each_state_is_tested_on_the_replays_sample_and_says_so_before_it_tests(tmp_path, monkeypatch):
    monkeypatch.setattr(snapshot_module, "REPLAY_DIGITS", 300)  # the offline test set has 1,000: a sample of them
    arrays = split_training_data(load_mnist("offline"), 300)
    model, heard = build_model(Hyperparameters(epochs=2, conv1_filters=4, conv2_filters=8, dense_units=16)), []
    callback = snapshot_callback(arrays.x_test, arrays.y_test, emit=heard.append)
    model.fit(arrays.x_train, one_hot(arrays.y_train), batch_size=50, epochs=2, verbose=0, callbacks=[callback])
    assert [(event["event"], event["epoch"], event["count"]) for event in heard] == [
        ("replay_testing", 1, 300), ("replay_testing", 2, 300), ("replay_testing", 0, 300)]
    predicted = np.argmax(model.predict(arrays.x_test[:300], verbose=0), axis=1)
    assert callback.snapshots.test_accuracies[-1] == np.mean(predicted == arrays.y_test[:300])
    save_snapshots(tmp_path / "run.keras", callback.snapshots)
    assert load_snapshots(tmp_path / "run.keras").tested == 300


def test_the_tutorial_network_costs_under_two_megabytes_an_epoch(tmp_path):
    weights = build_model().get_weights()  # default sizes: 32 and 64 filters, 256 units
    path = save_snapshots(tmp_path / "big.keras", EpochSnapshots([weights, weights], [0.1, 0.2]))
    assert path == snapshot_path(tmp_path / "big.keras") and path.stat().st_size / 2 < 2 * 2**20


def test_models_without_snapshots_or_with_broken_ones_have_no_replay(tmp_path):
    assert load_snapshots(tmp_path / "old.keras") is None
    snapshot_path(tmp_path / "old.keras").write_bytes(b"not an npz")
    assert load_snapshots(tmp_path / "old.keras") is None
