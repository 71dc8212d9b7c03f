"""Each layer's output shape and parameter count from its settings alone (cnnlib.network.shapes through the layer
table's ``trace``): worked examples, impossible settings, and random designs against what Keras builds."""

import json
import time

import keras
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cnnlib.errors import Refusal
from cnnlib.network.architecture import Hyperparameters, build_model
from cnnlib.network.layers import trace
from cnnlib.store.model_config import check_model, nesting_depth
from test_features import keras_layers_by_kind
from test_layer_table import ONE_OF_EACH

L = keras.layers
CONV = {"filters": 8, "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid", "data_format": "channels_last",
        "dilation_rate": [1, 1], "groups": 1, "activation": "relu", "use_bias": True}


def saved_config(model) -> dict:
    """The architecture exactly as ``model.save`` writes it to config.json."""
    return json.loads(json.dumps(keras.saving.serialize_keras_object(model)))


def stack(config: dict) -> list[tuple[str, dict]]:
    """The (class name, settings) of every layer but the input, from a saved architecture."""
    return [(entry["class_name"], entry["config"]) for entry in config["config"]["layers"][1:]]


def traced_and_built(model) -> tuple[list, list]:
    """Each layer's (output shape, parameters): traced from the saved settings, and as Keras built it."""
    config = saved_config(model)
    start = tuple(config["config"]["layers"][0]["config"]["batch_shape"][1:])
    built = [(tuple(layer.output.shape[1:]), layer.count_params()) for layer in model.layers]
    return trace(stack(config), start), built


def test_the_worked_example_conv_then_flatten():
    assert trace([("Conv2D", CONV), ("Flatten", {})], (28, 28, 1)) == [((26, 26, 8), 80), ((5408,), 0)]


def test_the_tutorial_network_traces_as_keras_builds_it():
    model = build_model(Hyperparameters())
    traced, built = traced_and_built(model)
    assert traced == built
    assert check_model(saved_config(model)) == model.count_params() == 923_530


@pytest.mark.parametrize("name", list(ONE_OF_EACH) + list(keras_layers_by_kind()))
def test_every_layer_class_and_setting_the_app_reads_traces_as_keras_builds_it(name):
    model = (ONE_OF_EACH.get(name) or keras_layers_by_kind()[name])()
    traced, built = traced_and_built(model)
    assert traced == built
    assert check_model(saved_config(model)) == model.count_params()


@pytest.mark.parametrize(("layers", "start", "key"), [
    ([("Conv2D", {**CONV, "kernel_size": 5})], (3, 3, 1), "model_files.impossible"),  # the kernel is too big
    ([("Conv2D", CONV)], (28, 28), "model_files.impossible"),  # a grey digit without its channel axis
    ([("Conv2D", {**CONV, "groups": 3})], (28, 28, 1), "model_files.impossible"),
    ([("MaxPooling2D", {"pool_size": 29, "strides": None, "padding": "valid"})], (28, 28, 1), "model_files.setting"),
    ([("Reshape", {"target_shape": [27, 28, 1]})], (28, 28, 1), "model_files.impossible"),
    ([("Dense", {"units": 2000, "use_bias": True})], (28, 28, 1), "model_files.impossible"),  # 28x28x2000 values
    ([("LayerNormalization", {})], (28, 28, 1), "model_files.unsupported"),
    ([("Dense", {"units": True, "use_bias": True})], (784,), "model_files.setting"),
    ([("Dense", {"use_bias": True})], (784,), "model_files.missing_setting"),
], ids=["kernel too big", "no channel axis", "groups", "window too big", "reshape", "huge", "unknown class",
        "units true", "no units"])
def test_impossible_settings_are_refused_with_a_key(layers, start, key):
    with pytest.raises(Refusal) as refused:
        trace(layers, start)
    assert refused.value.key == key


@pytest.mark.parametrize(("text", "depth"), [(b'{"a": [1, "]"]}', 2), (b'["\\"[[[", {}]', 2), (b"1", 0),
                                             (b"[" * 70 + b"]" * 70, 70), (b'["a\\\\"], [[', 2), (b'"[[[', 0)])
def test_nesting_is_counted_outside_strings(text, depth):
    assert nesting_depth(text) == depth


def test_nesting_of_a_string_never_closed_is_counted_in_linear_time():
    started = time.perf_counter()
    assert nesting_depth(b'"' + b'\\"' * 131_072) == 0  # 256 KiB: a backtracking pattern takes minutes
    assert time.perf_counter() - started < 1


@st.composite
def image_layer(draw):
    """One Keras layer that works on pictures, with random settings."""
    kind = draw(st.sampled_from(["conv", "max", "average", "batchnorm", "dropout"]))
    if kind == "conv":
        strides = draw(st.integers(1, 3))
        return L.Conv2D(draw(st.integers(1, 12)), draw(st.integers(1, 5) | st.tuples(st.integers(1, 5),
                        st.integers(1, 5))), strides=strides, padding=draw(st.sampled_from(["valid", "same"])),
                        dilation_rate=1 if strides > 1 else draw(st.integers(1, 2)), use_bias=draw(st.booleans()))
    if kind in ("max", "average"):
        pool = L.MaxPooling2D if kind == "max" else L.AveragePooling2D
        return pool(draw(st.integers(1, 3)), strides=draw(st.none() | st.integers(1, 3)),
                    padding=draw(st.sampled_from(["valid", "same"])))
    if kind == "batchnorm":
        return L.BatchNormalization(center=draw(st.booleans()), scale=draw(st.booleans()))
    return L.Dropout(draw(st.floats(0, 0.9)))


@st.composite
def design(draw):
    """A random Sequential digit network built from the table's layers, ending in 10 numbers."""
    middle = draw(st.lists(image_layer(), max_size=4))
    head = draw(st.sampled_from([L.Flatten, L.GlobalAveragePooling2D, L.GlobalMaxPooling2D]))()
    dense = [L.Dense(draw(st.integers(1, 32)), use_bias=draw(st.booleans())) for _ in range(draw(st.integers(0, 2)))]
    return [*middle, head, *dense, L.Dropout(0.5), L.Dense(10)]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(design())
def test_random_designs_trace_as_keras_builds_them(layers):
    try:
        model = keras.Sequential([keras.Input((28, 28, 1)), *layers])
    except ValueError:  # Keras refuses too: a window larger than what reaches it
        assume(False)
    assume(all(min(layer.output.shape[1:]) > 0 for layer in model.layers))
    traced, built = traced_and_built(model)
    assert traced == built
    assert check_model(saved_config(model)) == model.count_params()
