"""The tutorial's section 2.2 steps (shapes, swapaxes, agreement with cnnlib.toy) and a trained model's layers."""

import numpy as np
import pytest

from cnnlib import features, toy

TUTORIAL_IMAGE = np.arange(1, 10, dtype=np.float32).reshape(1, 3, 3, 1)  # (1, 3, 3, 1): 1..9


def test_random_filters_are_seeded_standard_normal():
    filters = features.random_filters(5, 3, seed=7)
    assert filters.shape == (3, 3, 1, 5) and filters.dtype == np.float32
    np.testing.assert_array_equal(filters, features.random_filters(5, 3, seed=7))
    assert not np.array_equal(filters, features.random_filters(5, 3, seed=8))
    many = features.random_filters(100, 10, seed=0)
    assert abs(many.mean()) < 0.05 and abs(many.std() - 1.0) < 0.05


def test_tutorial_shapes_and_swapaxes():
    image = np.random.default_rng(0).random((28, 28), dtype=np.float32)
    steps = features.tutorial_steps(image, features.random_filters())
    assert (steps.image.shape, steps.filters.shape) == ((1, 28, 28, 1), (3, 3, 1, 5))
    assert (steps.conv.shape, steps.pool.shape) == ((1, 14, 14, 5), (1, 7, 7, 5))
    np.testing.assert_array_equal(features.channels_first(steps.conv), np.swapaxes(steps.conv, 0, 3))
    np.testing.assert_array_equal(steps.conv_maps[2], steps.conv[0, :, :, 2])
    assert steps.conv_maps.shape == (5, 14, 14) and steps.pool_maps.shape == (5, 7, 7)
    chain = "`(1, 28, 28, 1)` ⊛ `(3, 3, 1, 5)` → `(1, 14, 14, 5)` → swapaxes → `(5, 14, 14, 1)`"
    assert steps.conv_shapes() == chain
    assert steps.pool_shapes() == "`(1, 14, 14, 5)` → max-pool → `(1, 7, 7, 5)` → swapaxes → `(5, 7, 7, 1)`"


def test_hand_worked_tutorial_numbers():
    ones = np.ones((2, 2, 1, 1), np.float32)
    conv = features.conv2d(TUTORIAL_IMAGE, ones, stride=1, padding="VALID")
    np.testing.assert_array_equal(conv[0, :, :, 0], [[12, 16], [24, 28]])  # 1+2+4+5 = 12, ...
    np.testing.assert_array_equal(features.max_pool(conv, 2, 1, "SAME")[0, :, :, 0], [[28, 28], [28, 28]])


@pytest.mark.parametrize("kernel, stride, padding", [(3, 2, "SAME"), (3, 1, "VALID"), (2, 2, "SAME"),
                                                     (4, 3, "SAME"), (5, 2, "VALID"), (1, 1, "SAME")])
def test_conv_and_pool_agree_with_the_step_by_step_toy(kernel, stride, padding):
    rng = np.random.default_rng(kernel * 10 + stride)
    image = rng.random((1, 9, 11, 1), dtype=np.float32)
    filters = features.random_filters(3, kernel, seed=stride)
    conv = features.conv2d(image, filters, stride, padding)
    np.testing.assert_allclose(conv, toy.conv2d(image, filters, stride, padding).output, atol=1e-5)
    pooled = features.max_pool(conv, 2, stride, padding)
    np.testing.assert_allclose(pooled, toy.max_pool(conv, 2, stride, padding).output, atol=1e-6)


def test_window_that_does_not_fit_is_a_clear_error():
    with pytest.raises(ValueError, match="does not fit a 3x3 input"):
        features.conv2d(TUTORIAL_IMAGE, features.random_filters(1, 5), stride=1, padding="VALID")
    with pytest.raises(ValueError, match="'VALID' or 'SAME'"):
        features.max_pool(TUTORIAL_IMAGE, 2, 2, "FULL")
    steps = features.tutorial_conv(np.zeros((28, 28)), features.random_filters(), stride=4)  # (1, 7, 7, 5)
    with pytest.raises(ValueError, match="pooling window"):
        steps.pooled(8, 2, "VALID")


def test_softmax_is_stable_and_sums_to_one():
    probabilities = features.softmax(np.array([1000.0, 1001.0, 999.0]))
    assert probabilities.sum() == pytest.approx(1.0) and np.argmax(probabilities) == 1
    np.testing.assert_allclose(features.softmax(np.zeros(10)), np.full(10, 0.1))


def test_model_probe_reads_every_layer_and_agrees_with_keras():
    import keras

    from cnnlib.model import Hyperparameters, build_model

    model = build_model(Hyperparameters(conv1_filters=4, conv2_filters=6, dense_units=16, init="tutorial"))
    probe = features.ModelProbe(model)
    image = np.random.default_rng(0).random((28, 28), dtype=np.float32)
    reading = probe.read(image)
    every_layer = keras.Model(model.inputs[0], [layer.output for layer in model.layers])
    outputs = every_layer(image.reshape(1, 28, 28, 1), training=False)
    reference = {layer.name: np.asarray(output)[0] for layer, output in zip(model.layers, outputs)}
    shapes = {name: values.shape for name, values in reading.activations.items()}
    assert shapes == {"conv1": (28, 28, 4), "pool1": (14, 14, 4), "conv2": (14, 14, 6), "pool2": (7, 7, 6),
                      "flatten": (294,), "dense1": (16,), "dropout1": (16,), "dense2": (16,), "dropout2": (16,),
                      "logits": (10,)}
    for name, values in reading.activations.items():
        scale = max(1.0, float(np.abs(reference[name]).max()))
        np.testing.assert_allclose(values, reference[name], atol=1e-4 * scale, err_msg=name)
    logits = np.asarray(model(image.reshape(1, 28, 28, 1), training=False))[0]
    np.testing.assert_allclose(reading.probabilities, features.softmax(logits), atol=1e-5)
    assert reading.prediction == int(np.argmax(logits))
    np.testing.assert_array_equal(probe.first_layer_filters(), model.get_layer("conv1").kernel.numpy())


def test_model_probe_refuses_a_layer_it_cannot_read():
    import keras

    model = keras.Sequential([keras.Input(shape=(28, 28, 1)), keras.layers.Conv2D(3, 3, activation="sigmoid"),
                              keras.layers.Flatten(), keras.layers.Dense(10)])
    with pytest.raises(ValueError, match=r"cannot read: conv2d \(Conv2D\)"):
        features.ModelProbe(model)


def test_model_probe_refuses_a_model_for_other_inputs():
    import keras

    model = keras.Sequential([keras.Input(shape=(32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(10)])
    with pytest.raises(ValueError, match="not trained on 28x28 digits"):
        features.ModelProbe(model)


def test_layers_are_classified_by_their_keras_type_not_their_name():
    import keras

    model = keras.Sequential([keras.Input(shape=(28, 28, 1)), keras.layers.Conv2D(2, 3, name="first"),
                              keras.layers.MaxPooling2D(2, name="shrink"), keras.layers.Flatten(name="row"),
                              keras.layers.Dense(4, activation="relu", name="hidden"),
                              keras.layers.Dropout(0.5, name="off"), keras.layers.Dense(10, name="answer")])
    reading = features.ModelProbe(model).read(np.zeros((28, 28), np.float32))
    assert reading.kinds == {"first": "conv", "shrink": "pool", "row": "flatten", "hidden": "dense", "off": "dropout",
                             "answer": "logits"}


def test_a_refused_model_says_why_in_the_language_of_whoever_reads_it(monkeypatch):
    import keras

    from cnnlib import text

    model = keras.Sequential([keras.Input(shape=(32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(10)])
    with pytest.raises(features.UnreadableModel) as refused:
        features.ModelProbe(model)
    english = str(refused.value)
    monkeypatch.setitem(text.catalogue(text.ENGLISH), "draw.error.model_input", "changed {shape} {expected}")
    assert str(refused.value) != english  # looked up when shown, not when raised (a shared cache may keep it)
