"""Epoch replay: a 3-epoch run replayed as 4 states, each the network it was then, with the card's accuracies."""

import numpy as np
import pytest

from cnnlib import explain

from cnnlib.network import ops

from cnnlib.network import reader

from cnnlib.store import saved as saved_models
from cnnlib.mnist.data import load_mnist
from cnnlib.network.architecture import Hyperparameters, build_model, one_hot
from cnnlib.network.replay import Replay, card_accuracies, keras_state
from cnnlib.network.snapshots import load_snapshots, save_snapshots, snapshot_callback
from cnnlib.training.trainer import split_training_data


@pytest.fixture(scope="module")
def three_epochs(tmp_path_factory):
    """A small tutorial network trained 3 epochs on 600 digits, saved with its snapshots and card as the trainer
    saves them; its folder and the test digits."""
    arrays = split_training_data(load_mnist("offline"), 600)
    model = build_model(Hyperparameters(epochs=3, conv1_filters=4, conv2_filters=8, dense_units=16, batch_size=50))
    callback = snapshot_callback(arrays.x_test, arrays.y_test)
    model.fit(arrays.x_train, one_hot(arrays.y_train), batch_size=50, epochs=3, verbose=0, callbacks=[callback])
    folder = tmp_path_factory.mktemp("models")
    card = {"test_accuracy": callback.snapshots.test_accuracies[-1],
            "epoch_test_accuracies": callback.snapshots.test_accuracies}
    saved = saved_models.save_model(model, "three", card, folder)
    save_snapshots(saved.path, callback.snapshots)
    return saved.path, arrays


def test_a_three_epoch_run_replays_as_four_states_with_the_cards_accuracies(three_epochs):
    path, arrays = three_epochs
    model = saved_models.load_model(path)
    replay = Replay.of(reader.ModelProbe(model), load_snapshots(path))
    assert replay.epochs == 3 and len(replay.probes) == 4
    assert list(replay.test_accuracies) == card_accuracies(saved_models.read_metadata(path))
    snapshots = load_snapshots(path)
    digits = arrays.x_test[:200]
    for epoch in range(4):  # each state reads digits as the network did then
        model_then = keras_state(model, snapshots.weights[epoch])
        expected = ops.softmax(np.asarray(model_then(digits[..., None], training=False)))
        read = np.array([replay.read(epoch, digit).probabilities for digit in digits])
        np.testing.assert_allclose(read, expected, atol=1e-4, err_msg=f"epoch {epoch}")
    assert replay.probes[-1].model is model  # the last state is the saved model's own float32 weights
    history = replay.filter_history()
    assert history.shape[:2] == (4, 4) and not np.allclose(history[0], history[3])
    np.testing.assert_array_equal(history[3], np.moveaxis(model.get_layer("conv1").kernel.numpy()[:, :, 0], -1, 0))


def test_models_from_before_replay_have_none_and_cards_without_epochs_say_so(tmp_path):
    assert load_snapshots(tmp_path / "old.keras") is None
    assert card_accuracies({"test_accuracy": 0.9}) is None


def test_a_flat_input_model_is_explained_through_a_reshape_with_an_epochs_weights():
    import keras

    model = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Reshape((28, 28, 1)),
                              keras.layers.Conv2D(2, 3, activation="relu"), keras.layers.Flatten(),
                              keras.layers.Dense(10)])
    image = np.random.default_rng(0).random((28, 28), dtype=np.float32)
    wrapped = keras_state(model)
    assert tuple(wrapped.input_shape) == (None, 28, 28, 1)
    np.testing.assert_allclose(explain.probabilities(wrapped, image),
                               ops.softmax(np.asarray(model(image[None]))[0]), atol=1e-5)
    zeros = [np.zeros_like(weight) for weight in model.get_weights()]
    np.testing.assert_allclose(explain.probabilities(keras_state(model, zeros), image), np.full(10, 0.1), atol=1e-6)
    assert np.any(model.get_weights()[0])  # the cached model keeps its own weights
