"""The tutorial's network: shapes, layer names and the two initialisations."""

import numpy as np
import pytest

from cnnlib.network.architecture import Hyperparameters, build_model
from cnnlib.training.config import PRESETS, Preset

EXPECTED_SHAPES = {  # NHWC, batch dimension left out: the tutorial's section 2.3 with its pool2 bug fixed
    "conv1": (28, 28, 32), "pool1": (14, 14, 32), "conv2": (14, 14, 64), "pool2": (7, 7, 64),
    "flatten": (3136,), "dense1": (256,), "dropout1": (256,), "dense2": (256,), "dropout2": (256,), "logits": (10,),
}


@pytest.fixture(scope="module")
def model():
    return build_model(Hyperparameters())


def test_layers_have_the_tutorials_names_and_shapes(model):
    shapes = {layer.name: tuple(layer.output.shape[1:]) for layer in model.layers}
    assert shapes == EXPECTED_SHAPES


def test_logits_for_a_batch_of_two(model):
    logits = model.predict_on_batch(np.zeros((2, 28, 28, 1), np.float32))
    assert logits.shape == (2, 10)


def test_tutorial_init_draws_filters_with_sigma_one_and_he_with_sigma_sqrt_2_over_fan_in():
    tutorial = build_model(PRESETS[Preset.TUTORIAL]).get_layer("conv2").kernel.numpy()  # (3, 3, 32, 64)
    he = build_model(Hyperparameters(init="he", kernel_size=3)).get_layer("conv2").kernel.numpy()
    assert tutorial.std() == pytest.approx(1.0, rel=0.05)
    assert he.std() == pytest.approx(np.sqrt(2 / (3 * 3 * 32)), rel=0.15)  # He-normal is truncated: slightly less


def test_keep_probability_becomes_dropout_rate():
    model = build_model(Hyperparameters(keep_prob=0.75))
    assert model.get_layer("dropout1").rate == pytest.approx(0.25)


def test_the_cost_is_the_tutorials_cross_entropy_against_smoothed_one_hot_targets():
    from cnnlib.network.architecture import one_hot

    logits = np.array([[2.0, 0.5, -1.0] + [0.0] * 7, [0.0] * 9 + [3.0]], np.float32)
    labels = np.array([0, 9])
    np.testing.assert_array_equal(one_hot(labels)[1], [0] * 9 + [1])
    log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    plain = build_model(Hyperparameters(label_smoothing=0.0)).loss(one_hot(labels), logits)
    np.testing.assert_allclose(plain, np.mean(-log_softmax[[0, 1], labels]), rtol=1e-5)
    targets = np.full((2, 10), 0.01)  # smoothing 0.1: 0.91 for the right digit, 0.01 for each other
    targets[[0, 1], labels] = 0.91
    smoothed = build_model(Hyperparameters(label_smoothing=0.1)).loss(one_hot(labels), logits)
    np.testing.assert_allclose(smoothed, np.mean(-(targets * log_softmax).sum(axis=1)), rtol=1e-5)
