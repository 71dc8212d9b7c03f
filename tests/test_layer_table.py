"""The one layer table (cnnlib.network.layers.LAYERS): every class in it is allowed, readable in numpy and
explainable; nothing outside it is allowed, read or explained; no other module names a layer class."""

import ast
from pathlib import Path

import keras
import numpy as np
import pytest

from cnnlib import explain
from cnnlib.errors import Refusal
from cnnlib.network import layers as network_layers
from cnnlib.network import ops, reader
from cnnlib.store.checks import UnsupportedModel, check_architecture
from cnnlib.store.saved import load_model

ROOT = Path(__file__).resolve().parents[1]
L = keras.layers


def net(*middle, inputs=(28, 28, 1), head=None):
    """A Sequential network from a digit through ``middle`` to ten numbers (Flatten, Dense unless ``head``)."""
    return keras.Sequential([keras.Input(inputs), *middle, *(head or (L.Flatten(), L.Dense(10)))])


ONE_OF_EACH = {  # for each class of the table, a small network holding it (built when called)
    "Conv2D": lambda: net(L.Conv2D(3, 3, strides=2, activation="relu")),
    "MaxPooling2D": lambda: net(L.Conv2D(3, 3), L.MaxPooling2D(2)),
    "AveragePooling2D": lambda: net(L.Conv2D(3, 3), L.AveragePooling2D(3, padding="same")),
    "BatchNormalization": lambda: net(L.Conv2D(3, 3), L.BatchNormalization()),
    "Dropout": lambda: net(L.Conv2D(3, 3), L.Dropout(0.5)),
    "Flatten": lambda: net(L.Conv2D(2, 5, strides=3)),
    "GlobalAveragePooling2D": lambda: net(L.Conv2D(4, 3), L.GlobalAveragePooling2D(), head=(L.Dense(10),)),
    "GlobalMaxPooling2D": lambda: net(L.Conv2D(4, 3), L.GlobalMaxPooling2D(), head=(L.Dense(10),)),
    "Dense": lambda: net(head=(L.Flatten(), L.Dense(8, activation="tanh"), L.Dense(10, activation="softmax"))),
    "Activation": lambda: net(L.Conv2D(3, 3), L.Activation("sigmoid"),
                              head=(L.Flatten(), L.Dense(10), L.Activation("softmax"))),
    "ReLU": lambda: net(L.Conv2D(3, 3), L.ReLU(max_value=1.0, negative_slope=0.1)),
    "Rescaling": lambda: net(L.Rescaling(2.0, offset=-1.0), L.Conv2D(3, 3)),
    "Reshape": lambda: net(L.Reshape((28, 28, 1)), L.Conv2D(3, 3), inputs=(28, 28)),
}


def test_every_class_of_the_table_has_a_network_here():
    assert set(ONE_OF_EACH) == set(network_layers.LAYERS)


def first_of(model, name: str):
    """The first layer of class ``name`` in ``model``."""
    return next(layer for layer in model.layers if network_layers.class_name(layer) == name)


@pytest.mark.parametrize("name", list(network_layers.LAYERS))
def test_every_class_is_allowed_read_in_numpy_and_said(name, tmp_path):
    original = ONE_OF_EACH[name]()
    original.save(tmp_path / "m.keras")
    check_architecture(tmp_path / "m.keras")
    model = load_model(tmp_path / "m.keras")  # the app's one safe loader
    image = np.random.default_rng(0).random((28, 28), dtype=np.float32)
    reading = reader.ModelProbe(model).read(image)
    output = np.asarray(model(image.reshape(1, *model.input_shape[1:]), training=False))[0]
    last = model.layers[-1]
    expected = output if network_layers.applies_softmax(last) else ops.softmax(output)
    np.testing.assert_allclose(reading.probabilities, expected, atol=1e-5)
    layer = first_of(model, name)
    assert reading.kinds[layer.name] in (network_layers.LAYERS[name].kind, "logits", "probabilities")
    key, _ = network_layers.layer_note(layer)
    assert key.startswith("draw.layer.")


def explain_all(model, layer: str, image: np.ndarray) -> dict:
    """Every explanation of ``image``: its result, or the Refusal that says why a method cannot run."""
    target = (int(np.argmax(explain.probabilities(model, image))) + 1) % 10
    methods = {"occlusion": lambda: explain.occlusion_map(model, image, patch=14, stride=14),
               "saliency": lambda: explain.saliency_map(model, image, smooth=2),
               "gradcam": lambda: explain.gradcam_map(model, image),
               "knockout": lambda: explain.knockout_ranking(model, image, layer),
               "filter": lambda: explain.edit_filter(model, image, 0, explain.trained_filter(model, 0)),
               "nudge": lambda: explain.nudge_towards(model, image, target, 0.02)}
    results = {}
    for method, run in methods.items():
        try:
            results[method] = run()
        except Refusal as refusal:
            results[method] = refusal
    return results


@pytest.mark.parametrize("name", list(network_layers.LAYERS))
def test_every_class_is_explained_or_the_method_says_why_not(name):
    model = ONE_OF_EACH[name]()
    image = np.random.default_rng(1).random((28, 28), dtype=np.float32)
    results = explain_all(model, first_of(model, name).name, image)
    has_conv = any(network_layers.table_entry(layer).explain == network_layers.CONV for layer in model.layers)
    refused = {method for method, result in results.items() if isinstance(result, Refusal)}
    assert refused == (set() if has_conv else {"gradcam", "filter"}), results
    assert all(str(results[method]) for method in refused)  # a sentence, in the learner's language
    assert results["occlusion"].shape == results["saliency"].shape == (28, 28)
    probabilities = explain.probabilities(model, image)
    assert results["knockout"].base == pytest.approx(probabilities, abs=1e-5)
    if has_conv:
        assert results["filter"].probabilities == pytest.approx(probabilities, abs=1e-5)


OUTSIDE = {  # layers Keras has and the app does not support
    "DepthwiseConv2D": lambda: net(L.DepthwiseConv2D(3, name="outside")),
    "LayerNormalization": lambda: net(L.LayerNormalization(name="outside")),
    "SeparableConv2D": lambda: net(L.SeparableConv2D(2, 3, name="outside")),
}


@pytest.mark.parametrize("name", list(OUTSIDE))
def test_a_class_outside_the_table_is_refused_by_the_allow_list_the_reader_and_explain(name, tmp_path):
    model = OUTSIDE[name]()
    assert name not in network_layers.LAYERS and network_layers.table_entry(model.get_layer("outside")) is None
    model.save(tmp_path / "outside.keras")
    with pytest.raises(UnsupportedModel, match=f"outside \\({name}\\) is not one the app can show") as allowed:
        check_architecture(tmp_path / "outside.keras")
    assert allowed.value.key == "model_files.unsupported"
    with pytest.raises(UnsupportedModel):
        load_model(tmp_path / "outside.keras")
    with pytest.raises(network_layers.UnreadableModel, match=f"cannot read: outside \\({name}\\)") as unread:
        reader.ModelProbe(model)
    assert unread.value.key == "draw.error.model_layer"
    with pytest.raises(Refusal, match=f"outside \\({name}\\) is not one the app supports") as unexplained:
        explain.saliency_map(model, np.zeros((28, 28), np.float32))
    assert unexplained.value.key == "why.refusal.layer"


def names_a_layer_class(node: ast.AST, classes: set[str]) -> bool:
    """Whether ``node`` is a string naming a layer class, or an ``isinstance(…, keras.layers.X)`` check."""
    if isinstance(node, ast.Constant) and node.value in classes:
        return True
    return (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "isinstance"
            and "keras.layers" in ast.unparse(node.args[1]))


def test_no_module_but_the_table_names_a_layer_class():
    classes = {*network_layers.LAYERS, *network_layers.CONTAINERS, *network_layers.RUNS_CODE, *OUTSIDE, "Softmax"}
    found = []
    for path in sorted(ROOT.glob("cnnlib/**/*.py")):
        if path.name == "layers.py" and path.parent.name == "network":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [f"{path.relative_to(ROOT)}:{node.lineno}" for node in ast.walk(tree)
                  if names_a_layer_class(node, classes)]
    assert not found, f"layer classes named outside cnnlib/network/layers.py: {found}"
