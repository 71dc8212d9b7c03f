"""The training recipes: the warm-up schedule, augmentation only while training, the saved network and its snapshots."""

import json
from pathlib import Path

import numpy as np
import pytest

from cnnlib.mnist.data import load_mnist
from cnnlib.training.recipe_figures import digit_versions_figure
from cnnlib.network.architecture import augmented_digits, build_model, learning_rate, training_model
from cnnlib.network.snapshots import load_snapshots, snapshot_path
from cnnlib.text import catalogue
from cnnlib.training.config import PRESETS, Hyperparameters, Preset, TrainConfig
from cnnlib.training.trainer import train

NETWORK_LAYERS = ["conv1", "pool1", "conv2", "pool2", "flatten", "dense1", "dropout1", "dense2", "dropout2", "logits"]


def test_one_cycle_warms_up_from_a_tenth_then_falls_to_zero_over_the_steps_asked():
    schedule = learning_rate(Hyperparameters(learning_rate=3e-3, warmup=0.3, lr_decay="cosine"), total_steps=100)
    rates = [float(schedule(step)) for step in (0, 15, 30, 65, 100)]
    assert rates[0] == pytest.approx(3e-4) and rates[1] == pytest.approx(1.65e-3) and rates[2] == pytest.approx(3e-3)
    assert rates[3] == pytest.approx(1.5e-3) and rates[4] == pytest.approx(0, abs=1e-9)
    assert learning_rate(PRESETS[Preset.TUTORIAL], total_steps=100) == 0.01  # the tutorial's constant, as a number


def test_warm_up_without_decay_stays_at_the_rate():
    schedule = learning_rate(Hyperparameters(learning_rate=1e-3, warmup=0.2, lr_decay="none"), total_steps=50)
    assert float(schedule(0)) == pytest.approx(1e-4)
    assert float(schedule(10)) == float(schedule(50)) == pytest.approx(1e-3)


def test_the_model_uses_the_recipes_filter_size_and_adams_betas():
    model = build_model(Hyperparameters(kernel_size=5, beta_1=0.7, beta_2=0.9))
    assert model.get_layer("conv1").kernel.shape == (5, 5, 1, 32) and model.get_layer("conv2").kernel_size == (5, 5)
    assert (float(model.optimizer.beta_1), float(model.optimizer.beta_2)) == (0.7, 0.9)


def test_augmentation_wraps_the_network_only_for_training():
    hp = Hyperparameters(augment=True, seed=3)
    network = build_model(hp)
    wrapper = training_model(network, hp)
    assert training_model(network, Hyperparameters(augment=False)) is network
    assert [layer.name for layer in wrapper.layers] == ["shift", "turn", "zoom", "tutorial_cnn"]
    assert [layer.name for layer in network.layers] == NETWORK_LAYERS and wrapper.optimizer is network.optimizer
    digits = load_mnist("offline").x_test[:8, :, :, np.newaxis].astype(np.float32) / 255
    np.testing.assert_allclose(wrapper(digits, training=False), network(digits, training=False), atol=1e-6)
    assert not np.allclose(wrapper.layers[0](digits, training=True), digits)  # training moves the digits


def test_augmented_digits_are_random_versions_of_the_same_digits():
    digits = load_mnist("offline").x_train[:4].astype(np.float32) / 255
    versions = augmented_digits(digits, versions=3, seed=1)
    assert versions.shape == (3, 4, 28, 28) and 0 <= versions.min() and versions.max() <= 1.0 + 1e-5
    assert not np.allclose(versions[0], versions[1]) and not np.allclose(versions[0], digits)
    np.testing.assert_allclose(augmented_digits(digits, versions=3, seed=1), versions)  # same seed, same versions
    assert np.abs(versions.sum(axis=(2, 3)) / digits.sum(axis=(1, 2)) - 1).max() < 0.5  # the ink stays
    figure = digit_versions_figure(digits, versions)
    assert np.asarray(figure.data[0].z).shape[0] > 4 * 28  # four rows of digits: originals, then three versions


def test_recipe_sentences_exist_in_english_and_korean_with_the_same_keys():
    english, korean = catalogue("en"), catalogue("ko")
    assert sorted(key for key in english if key.startswith("recipes.")) == sorted(
        key for key in korean if key.startswith("recipes."))


@pytest.fixture(scope="module")
def augmented_run(tmp_path_factory):
    """Three epochs of an augmented tiny training in-process: 300 offline digits, batches of 25."""
    hp = Hyperparameters(epochs=3, batch_size=25, augment=True, seed=2)
    config = TrainConfig(hp=hp, data_source="offline", train_limit=300, model_name="augmented",
                         models_directory=str(tmp_path_factory.mktemp("models")))
    return train(config, lambda event: None)


def test_the_saved_model_is_the_network_alone_and_predicts_as_trained(augmented_run):
    from cnnlib.store.saved import load_model

    model, summary = augmented_run
    saved = load_model(summary["model_path"])
    assert [layer.name for layer in saved.layers] == NETWORK_LAYERS
    images = load_mnist("offline").x_test[:10, :, :, np.newaxis].astype(np.float32) / 255
    np.testing.assert_allclose(saved.predict_on_batch(images), model.predict_on_batch(images), atol=1e-5)
    assert int(model.optimizer.iterations) == 3 * 11  # the wrapper trained the network with the network's optimizer


def test_a_three_epoch_run_saves_four_weight_states_and_their_test_accuracies(augmented_run):
    model, summary = augmented_run
    path = Path(summary["model_path"])
    snapshots = load_snapshots(path)
    card = json.loads(path.with_suffix(".json").read_text())
    assert snapshot_path(path).is_file() and snapshots.epochs == 3 and len(card["epoch_test_accuracies"]) == 4
    assert card["epoch_test_accuracies"] == pytest.approx(snapshots.test_accuracies)
    assert card["epoch_test_accuracies"][-1] == pytest.approx(summary["test_accuracy"])
    for trained, recorded in zip(model.get_weights(), snapshots.weights[-1]):
        np.testing.assert_allclose(recorded, trained, atol=2e-3 * max(1.0, float(np.abs(trained).max())))


@pytest.mark.parametrize("preset", list(Preset))
def test_every_presets_caption_shows_its_recipe_and_what_it_measured(preset):
    from cnnlib.text import t
    from cnnlib.training.config import MEASURED, caption_values

    caption = t(f"recipes.preset.{preset}.caption", **caption_values(preset))
    assert f"{caption_values(preset)['epochs']}" in caption and "%" in caption and set(MEASURED[preset]) <= set(
        caption_values(preset))


def test_cli_preset_best_trains_with_augmentation_and_saves_the_network_alone(tmp_path, capsys):
    from conftest import train_in_process

    from cnnlib.store.saved import load_model

    out = tmp_path / "best.keras"
    code, _ = train_in_process(capsys, "--preset", "best", "--epochs", "1", "--train-limit", "200", "--data",
                               "offline", "--out", str(out))
    assert code == 0
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["hyperparameters"] == {**PRESETS[Preset.BEST].to_dict(), "epochs": 1}
    assert [layer.name for layer in load_model(out).layers] == [  # the network alone, without the augmentation
        "conv1", "bn1", "conv2", "bn2", "conv3", "bn3", "dropout1", "conv4", "bn4", "conv5", "bn5", "conv6", "bn6",
        "dropout2", "conv7", "bn7", "flatten", "dropout3", "logits"]
