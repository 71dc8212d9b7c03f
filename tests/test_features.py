"""The tutorial's section 2.2 steps (shapes, swapaxes, agreement with cnnlib.lessons.toy.convolution) and a trained model's layers."""

import numpy as np
import pytest

from cnnlib.lessons.draw import words as digit_text

from cnnlib.network import layers as network_layers

from cnnlib.network import ops

from cnnlib.network import reader

from cnnlib.lessons.draw import steps as draw_steps

from cnnlib.lessons.toy import convolution as toy

TUTORIAL_IMAGE = np.arange(1, 10, dtype=np.float32).reshape(1, 3, 3, 1)  # (1, 3, 3, 1): 1..9


def test_random_filters_are_seeded_standard_normal():
    filters = draw_steps.random_filters(5, 3, seed=7)
    assert filters.shape == (3, 3, 1, 5) and filters.dtype == np.float32
    np.testing.assert_array_equal(filters, draw_steps.random_filters(5, 3, seed=7))
    assert not np.array_equal(filters, draw_steps.random_filters(5, 3, seed=8))
    many = draw_steps.random_filters(100, 10, seed=0)
    assert abs(many.mean()) < 0.05 and abs(many.std() - 1.0) < 0.05


def test_tutorial_shapes_and_swapaxes():
    image = np.random.default_rng(0).random((28, 28), dtype=np.float32)
    steps = draw_steps.tutorial_steps(image, draw_steps.random_filters())
    assert (steps.image.shape, steps.filters.shape) == ((1, 28, 28, 1), (3, 3, 1, 5))
    assert (steps.conv.shape, steps.pool.shape) == ((1, 14, 14, 5), (1, 7, 7, 5))
    np.testing.assert_array_equal(draw_steps.channels_first(steps.conv), np.swapaxes(steps.conv, 0, 3))
    np.testing.assert_array_equal(steps.conv_maps[2], steps.conv[0, :, :, 2])
    assert steps.conv_maps.shape == (5, 14, 14) and steps.pool_maps.shape == (5, 7, 7)
    chain = "`(1, 28, 28, 1)` ⊛ `(3, 3, 1, 5)` → `(1, 14, 14, 5)` → swapaxes → `(5, 14, 14, 1)`"
    assert steps.conv_shapes() == chain
    assert steps.pool_shapes() == "`(1, 14, 14, 5)` → max-pool → `(1, 7, 7, 5)` → swapaxes → `(5, 7, 7, 1)`"


def test_hand_worked_tutorial_numbers():
    ones = np.ones((2, 2, 1, 1), np.float32)
    conv = ops.conv2d(TUTORIAL_IMAGE, ones, stride=1, padding="VALID")
    np.testing.assert_array_equal(conv[0, :, :, 0], [[12, 16], [24, 28]])  # 1+2+4+5 = 12, ...
    np.testing.assert_array_equal(ops.max_pool(conv, 2, 1, "SAME")[0, :, :, 0], [[28, 28], [28, 28]])


@pytest.mark.parametrize("kernel, stride, padding", [(3, 2, "SAME"), (3, 1, "VALID"), (2, 2, "SAME"),
                                                     (4, 3, "SAME"), (5, 2, "VALID"), (1, 1, "SAME")])
def test_conv_and_pool_agree_with_the_step_by_step_toy(kernel, stride, padding):
    rng = np.random.default_rng(kernel * 10 + stride)
    image = rng.random((1, 9, 11, 1), dtype=np.float32)
    filters = draw_steps.random_filters(3, kernel, seed=stride)
    conv = ops.conv2d(image, filters, stride, padding)
    np.testing.assert_allclose(conv, toy.conv2d(image, filters, stride, padding).output, atol=1e-5)
    pooled = ops.max_pool(conv, 2, stride, padding)
    np.testing.assert_allclose(pooled, toy.max_pool(conv, 2, stride, padding).output, atol=1e-6)


def test_window_that_does_not_fit_is_a_clear_error():
    with pytest.raises(ValueError, match="does not fit a 3x3 input"):
        ops.conv2d(TUTORIAL_IMAGE, draw_steps.random_filters(1, 5), stride=1, padding="VALID")
    with pytest.raises(ValueError, match="'VALID' or 'SAME'"):
        ops.max_pool(TUTORIAL_IMAGE, 2, 2, "FULL")
    steps = draw_steps.tutorial_conv(np.zeros((28, 28)), draw_steps.random_filters(), stride=4)  # (1, 7, 7, 5)
    with pytest.raises(ValueError, match="pooling window"):
        steps.pooled(8, 2, "VALID")


def test_softmax_is_stable_and_sums_to_one():
    probabilities = ops.softmax(np.array([1000.0, 1001.0, 999.0]))
    assert probabilities.sum() == pytest.approx(1.0) and np.argmax(probabilities) == 1
    np.testing.assert_allclose(ops.softmax(np.zeros(10)), np.full(10, 0.1))


def test_model_probe_reads_every_layer_and_agrees_with_keras():
    import keras

    from cnnlib.network.architecture import Hyperparameters, build_model

    model = build_model(Hyperparameters(conv1_filters=4, conv2_filters=6, dense_units=16, init="tutorial"))
    probe = reader.ModelProbe(model)
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
    np.testing.assert_allclose(reading.probabilities, ops.softmax(logits), atol=1e-5)
    assert reading.prediction == int(np.argmax(logits))
    np.testing.assert_array_equal(probe.first_layer_filters(), model.get_layer("conv1").kernel.numpy())


def test_model_probe_refuses_a_layer_it_cannot_read():
    import keras

    model = keras.Sequential([keras.Input(shape=(28, 28, 1)), keras.layers.Conv2D(3, 3, dilation_rate=2, name="conv2d"),
                              keras.layers.Flatten(), keras.layers.Dense(10)])
    with pytest.raises(ValueError, match=r"cannot read: conv2d \(Conv2D\)\. It reads Conv2D"):
        reader.ModelProbe(model)


def test_model_probe_refuses_a_model_for_other_inputs():
    import keras

    model = keras.Sequential([keras.Input(shape=(32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(10)])
    with pytest.raises(ValueError, match="not trained on 28x28 digits"):
        reader.ModelProbe(model)


def test_layers_are_classified_by_their_keras_type_not_their_name():
    import keras

    model = keras.Sequential([keras.Input(shape=(28, 28, 1)), keras.layers.Conv2D(2, 3, name="first"),
                              keras.layers.MaxPooling2D(2, name="shrink"), keras.layers.Flatten(name="row"),
                              keras.layers.Dense(4, activation="relu", name="hidden"),
                              keras.layers.Dropout(0.5, name="off"), keras.layers.Dense(10, name="answer")])
    reading = reader.ModelProbe(model).read(np.zeros((28, 28), np.float32))
    assert reading.kinds == {"first": "conv", "shrink": "pool", "row": "flatten", "hidden": "dense", "off": "dropout",
                             "answer": "logits"}


def test_a_refused_model_says_why_in_the_language_of_whoever_reads_it(monkeypatch):
    import keras

    from cnnlib import text

    model = keras.Sequential([keras.Input(shape=(32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(10)])
    with pytest.raises(network_layers.UnreadableModel) as refused:
        reader.ModelProbe(model)
    english = str(refused.value)
    monkeypatch.setitem(text.catalogue(text.ENGLISH), "draw.error.model_input", "changed {shape} {expected}")
    assert str(refused.value) != english  # looked up when shown, not when raised (a shared cache may keep it)


def keras_layers_by_kind():
    """One small network per supported layer kind and setting, each from a 28x28 digit to 10 numbers (built when
    called)."""
    import keras
    from keras import layers

    def net(*middle, inputs=(28, 28, 1), head=None):
        head = head or (layers.Flatten(), layers.Dense(10))
        return lambda: keras.Sequential([keras.Input(shape=inputs), *middle, *head])

    return {
        "conv 5x3 stride (2, 1) same sigmoid": net(layers.Conv2D(3, (5, 3), strides=(2, 1), padding="same",
                                                                 activation="sigmoid")),
        "conv 4x4 stride 3 valid tanh, no bias": net(layers.Conv2D(2, 4, strides=3, activation="tanh",
                                                                   use_bias=False)),
        "conv linear then softmax": net(layers.Conv2D(2, 3, activation="softmax")),
        "max pool 3 stride 2 same": net(layers.Conv2D(2, 3), layers.MaxPooling2D(3, strides=2, padding="same")),
        "average pool 3 same": net(layers.Conv2D(2, 3), layers.AveragePooling2D(3, strides=2, padding="same")),
        "average pool 2 valid": net(layers.AveragePooling2D((2, 3))),
        "batch norm": net(layers.Conv2D(3, 3), layers.BatchNormalization(), layers.ReLU()),
        "batch norm without scale or centre": net(layers.BatchNormalization(center=False, scale=False)),
        "dropout": net(layers.Dropout(0.5)),
        "global average": net(layers.Conv2D(4, 3), layers.GlobalAveragePooling2D(), head=(layers.Dense(10),)),
        "global max": net(layers.Conv2D(4, 3), layers.GlobalMaxPooling2D(), head=(layers.Dense(10),)),
        "activation layers": net(layers.Conv2D(2, 3), layers.Activation("tanh"), layers.ReLU(max_value=0.5,
                                                                                             negative_slope=0.1)),
        "rescaling": net(layers.Rescaling(2.0, offset=-1.0)),
        "reshape from (28, 28)": net(layers.Reshape((28, 28, 1)), layers.Conv2D(2, 3), inputs=(28, 28)),
        "flat (28, 28) input, dense softmax": net(inputs=(28, 28), head=(layers.Flatten(), layers.Dense(
            12, activation="relu"), layers.Dense(10, activation="softmax"))),
        "dense then softmax activation": net(head=(layers.Flatten(), layers.Dense(10), layers.Activation("softmax"))),
    }


def with_random_statistics(model):
    """The model with its weights (batch norm's moving statistics too) drawn at random, so no layer is trivial."""
    rng = np.random.default_rng(1)
    model.set_weights([rng.uniform(0.5, 1.5, w.shape).astype(np.float32) if "variance" in v.path else
                       rng.normal(0, 0.5, w.shape).astype(np.float32) for v, w in zip(model.weights,
                                                                                       model.get_weights())])
    return model


@pytest.mark.parametrize("kind", list(keras_layers_by_kind()))
def test_every_supported_layer_gives_keras_numbers(kind):
    import keras

    model = with_random_statistics(keras_layers_by_kind()[kind]())
    probe = reader.ModelProbe(model)
    image = np.random.default_rng(0).random((28, 28), dtype=np.float32)
    batch = image.reshape(1, *model.input_shape[1:])
    every_layer = keras.Model(model.inputs[0], [layer.output for layer in model.layers])
    reference = [np.asarray(output)[0] for output in every_layer(batch, training=False)]
    reading = probe.read(image)
    assert list(reading.activations) == [layer.name for layer in model.layers]
    for (name, values), expected in zip(reading.activations.items(), reference):
        scale = max(1.0, float(np.abs(expected).max()))
        np.testing.assert_allclose(values, expected, atol=1e-4 * scale, err_msg=name)
    output = np.asarray(model(batch, training=False))[0]
    ends_in_softmax = model.layers[-1].get_config().get("activation") == "softmax"
    np.testing.assert_allclose(reading.probabilities, output if ends_in_softmax else ops.softmax(output),
                               atol=1e-5)
    assert reading.kinds[model.layers[-1].name] == ("probabilities" if ends_in_softmax else "logits")
    for name in reading.activations:
        assert digit_text.layer_text(reading, name).startswith(f"**{name}**")


def test_a_functional_chain_reads_like_a_sequential_one_and_a_branch_is_refused():
    import keras
    from keras import layers

    inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(2, 3, activation="relu", name="c")(inputs)
    outputs = layers.Dense(10, name="out")(layers.Flatten(name="f")(x))
    chain = with_random_statistics(keras.Model(inputs, outputs))
    reading = reader.ModelProbe(chain).read(np.ones((28, 28), np.float32) / 2)
    assert list(reading.activations) == ["c", "f", "out"]
    np.testing.assert_allclose(reading.probabilities, ops.softmax(
        np.asarray(chain(np.ones((1, 28, 28, 1)) / 2))[0]), atol=1e-5)
    joined = layers.Add(name="join")([layers.Conv2D(1, 3, padding="same")(inputs), inputs])
    branch = keras.Model(inputs, layers.Dense(10)(layers.Flatten()(joined)))
    with pytest.raises(network_layers.UnreadableModel, match="not one chain"):
        reader.ModelProbe(branch)


def test_other_weights_give_an_earlier_state_of_the_same_network():
    from cnnlib.network.architecture import Hyperparameters, build_model

    model = build_model(Hyperparameters(conv1_filters=4, conv2_filters=6, dense_units=16))
    probe = reader.ModelProbe(model)
    zeros = [np.zeros_like(weight) for weight in model.get_weights()]
    earlier = probe.with_weights(zeros)
    np.testing.assert_allclose(earlier.read(np.ones((28, 28))).probabilities, np.full(10, 0.1), atol=1e-6)
    assert not np.any(earlier.first_layer_filters()) and np.any(probe.first_layer_filters())
    with pytest.raises(network_layers.UnreadableModel, match="another network"):
        probe.with_weights(zeros[:-1])
