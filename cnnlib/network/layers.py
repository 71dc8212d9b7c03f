"""The one layer table: every Keras layer class the app supports, and what each is to the app.

``LAYERS`` maps a Keras class name to a ``LayerKind``: how the numpy reader computes it (``build``), the line the
Draw page writes about it (``note``), what it does to a shape and how many parameters it has (``shape``,
``cnnlib.network.shapes``) and how the Why page's explanations treat it (``explain``). Everything else derives from
it: the upload allow-list (``cnnlib.store.checks.SUPPORTED_LAYERS``) and the measuring of a saved architecture
before Keras builds it (``trace``), the layer-by-layer reader (``cnnlib.network.reader``), ``cnnlib.lessons.why``
and the classes a network design builds (``DESIGNED``, ``cnnlib.network.design``). This module is the only place a
layer class is named: a class that is not in the table is refused everywhere. Keras is never imported here: a layer
is known by its type's name (``type(layer).__name__``), not by the name it was given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from cnnlib.errors import Refusal
from cnnlib.network import shapes
from cnnlib.network.ops import _pair, average_pool, conv2d, max_pool, softmax
from cnnlib.network.settings import layer_name

Layer = Callable[[np.ndarray], np.ndarray]  # one layer's forward pass on a batch of one, in numpy
Note = tuple[str, dict]  # a layer's line: catalogue key and its values ("activation" values are looked up too)
Settings = dict  # a layer's ``get_config()``
Weights = list[np.ndarray]  # a layer's ``get_weights()``

# How ``cnnlib.lessons.why`` treats a layer (``LayerKind.explain``):
CONV = "conv"  # a convolution: Grad-CAM looks at its maps, its channels can be switched off, its filters edited
WEIGHTED = "weighted"  # weights then an activation: as the last layer with softmax, it is run without the softmax
ACTIVATION = "activation"  # an activation alone: as the last layer with softmax, it is left out
PASS = "pass"  # run as Keras runs it when predicting, nothing more to it

LOGITS = "logits"  # the kind of the last layer: the model outputs logits, softmax makes them probabilities
PROBABILITIES = "probabilities"  # the kind of a last layer that applies softmax itself
DIGIT_INPUTS = ((None, 28, 28, 1), (None, 28, 28))  # the input shapes a digit model may have (batch first)
DIGIT_OUTPUT = (None, 10)  # one number per digit
INPUT_LAYER, SEQUENTIAL = "InputLayer", "Sequential"  # a model's input and a plain stack: containers, not layers
FUNCTIONAL, KERAS_TENSOR, DTYPE_POLICY = "Functional", "__keras_tensor__", "DTypePolicy"  # a graph, its links, dtypes
CONTAINERS = (SEQUENTIAL, FUNCTIONAL, INPUT_LAYER, KERAS_TENSOR, DTYPE_POLICY)  # what holds the layers
LAYER_MODULE = "keras.layers"  # the module Keras 3 writes for every layer class, InputLayer's included
MODELS = {SEQUENTIAL: "keras", FUNCTIONAL: "keras.src.models.functional"}  # model classes and their modules
POLICY_MODULE = "keras"  # DTypePolicy's
RUNS_CODE = ("Lambda", "TFSMLayer", "StringLookup", "IntegerLookup", "TextVectorization")  # refused, named as such


class UnreadableModel(Refusal):
    """A model the app cannot read layer by layer; worded when shown (``cnnlib.errors.Refusal``)."""


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x), without overflow for large negative x."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


ACTIVATIONS = {"linear": lambda x: x, "relu": lambda x: np.maximum(x, 0.0), "sigmoid": _sigmoid, "tanh": np.tanh,
               "softmax": softmax}


def _pairs(*values) -> list[str]:
    """``(3, 3)``, ``2`` -> ``"3x3"``, ``"2x2"``: kernel sizes and strides as the page writes them."""
    return ["x".join(map(str, _pair(value))) for value in values]


def _pool_stride(config: Settings):
    """A pooling layer's stride: its window when it names none."""
    return config["strides"] or config["pool_size"]


# Numpy forward passes ----------------------------------------------------------------------------------------------

def _conv(config: Settings, weights: Weights) -> Layer | None:
    """Conv2D: any kernel, stride and padding, plus bias, then its activation; None when dilated or grouped."""
    activation = ACTIVATIONS[config["activation"]]
    if _pair(config["dilation_rate"]) != (1, 1) or config["groups"] != 1:
        return None
    kernel, bias = weights[0], weights[1] if config["use_bias"] else np.float32(0)
    stride, padding = _pair(config["strides"]), config["padding"].upper()
    return lambda x: activation(conv2d(x, kernel, stride, padding) + bias)


def _pool(how: Callable) -> Callable[[Settings, Weights], Layer]:
    """MaxPooling2D or AveragePooling2D (``how``) with its window, stride and padding."""
    def build(config: Settings, weights: Weights) -> Layer:
        size, stride, padding = _pair(config["pool_size"]), _pair(_pool_stride(config)), config["padding"].upper()
        return lambda x: how(x, size, stride, padding)

    return build


def _batch_norm(config: Settings, weights: Weights) -> Layer | None:
    """BatchNormalization when predicting: ``(x - moving mean) / sqrt(moving variance + epsilon) * gamma + beta``."""
    axis = config["axis"][0] if isinstance(config["axis"], list | tuple) else config["axis"]
    if axis not in (-1, 3):
        return None
    weights = list(weights)
    gamma = weights.pop(0) if config["scale"] else np.float32(1)
    beta = weights.pop(0) if config["center"] else np.float32(0)
    mean, variance = weights
    factor = (gamma / np.sqrt(variance + np.float32(config["epsilon"]))).astype(np.float32)
    return lambda x: (x - mean) * factor + beta


def _dense(config: Settings, weights: Weights) -> Layer:
    """Dense: weights, plus bias, then its activation."""
    activation, bias = ACTIVATIONS[config["activation"]], weights[1] if config["use_bias"] else np.float32(0)
    return lambda x: activation(x @ weights[0] + bias)


def _relu(config: Settings, weights: Weights) -> Layer:
    """Keras's ReLU layer: slope below ``threshold``, capped at ``max_value``."""
    top, slope, threshold = config["max_value"], config["negative_slope"], config["threshold"]

    def relu(x: np.ndarray) -> np.ndarray:
        y = np.where(x >= threshold, x, slope * (x - threshold)).astype(np.float32)
        return y if top is None else np.minimum(y, np.float32(top))

    return relu


def _global_pool(how: Callable) -> Callable[[Settings, Weights], Layer]:
    """GlobalAveragePooling2D or GlobalMaxPooling2D (``how``): one number per channel."""
    return lambda config, weights: lambda x: how(x, axis=(1, 2), keepdims=bool(config.get("keepdims")))


def _rescaling(config: Settings, weights: Weights) -> Layer:
    """Rescaling: every number times ``scale``, plus ``offset``."""
    scale, offset = np.asarray(config["scale"], np.float32), np.asarray(config["offset"], np.float32)
    return lambda x: x * scale + offset


# The Draw page's lines ---------------------------------------------------------------------------------------------

def _conv_note(config: Settings) -> Note:
    """The tutorial's 3x3, stride 1, ReLU convolution keeps its words; any other says its settings."""
    kernel, stride = _pairs(config["kernel_size"], config["strides"])
    if (kernel, stride, config["activation"]) == ("3x3", "1x1", "relu"):
        return "draw.layer.conv", {}
    return "draw.layer.conv_any", {"kernel": kernel, "stride": stride, "padding": config["padding"].upper(),
                                   "activation": config["activation"]}


def _max_pool_note(config: Settings) -> Note:
    """The tutorial's 2x2, stride 2 max-pool keeps its words; any other says its window and stride."""
    size, stride = _pairs(config["pool_size"], _pool_stride(config))
    return ("draw.layer.pool", {}) if size == stride == "2x2" else ("draw.layer.max_pool_any",
                                                                   {"size": size, "stride": stride})


def _average_pool_note(config: Settings) -> Note:
    """An average-pool's window and stride."""
    size, stride = _pairs(config["pool_size"], _pool_stride(config))
    return "draw.layer.average_pool", {"size": size, "stride": stride}


def _dense_note(config: Settings) -> Note:
    """The tutorial's ReLU dense layer keeps its words; any other names its activation."""
    if config["activation"] == "relu":
        return "draw.layer.dense", {}
    return "draw.layer.dense_any", {"activation": config["activation"]}


def _said(key: str) -> Callable[[Settings], Note]:
    """A line that needs no settings."""
    return lambda config: (key, {})


# The table ---------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LayerKind:
    """What one Keras layer class is to the app."""

    kind: str  # what the reader calls it (``ModelReading.kinds``): "conv", "pool", "dense", …
    build: Callable[[Settings, Weights], Layer | None]  # its numpy forward pass; None for a setting it cannot do
    note: Callable[[Settings], Note]  # its line on the Draw page
    shape: Callable[[Settings, shapes.Shape], shapes.Traced]  # output shape and parameter count, settings checked
    explain: str = PASS  # how the Why page treats it: CONV, WEIGHTED, ACTIVATION or PASS


LAYERS: dict[str, LayerKind] = {
    "Conv2D": LayerKind("conv", _conv, _conv_note, shapes.conv2d, CONV),
    "MaxPooling2D": LayerKind("pool", _pool(max_pool), _max_pool_note, shapes.pool2d),
    "AveragePooling2D": LayerKind("pool", _pool(average_pool), _average_pool_note, shapes.pool2d),
    "BatchNormalization": LayerKind("batchnorm", _batch_norm, _said("draw.layer.batchnorm"), shapes.batch_norm),
    "Dropout": LayerKind("dropout", lambda config, weights: lambda x: x, _said("draw.layer.dropout"), shapes.dropout),
    "Flatten": LayerKind("flatten", lambda config, weights: lambda x: x.reshape(1, -1), _said("draw.layer.flatten"),
                         shapes.flatten),
    "GlobalAveragePooling2D": LayerKind("global_pool", _global_pool(np.mean), _said("draw.layer.global_average"),
                                        shapes.global_pool),
    "GlobalMaxPooling2D": LayerKind("global_pool", _global_pool(np.max), _said("draw.layer.global_max"),
                                    shapes.global_pool),
    "Dense": LayerKind("dense", _dense, _dense_note, shapes.dense, WEIGHTED),
    "Activation": LayerKind("activation", lambda config, weights: ACTIVATIONS[config["activation"]],
                            lambda config: ("draw.layer.activation", {"activation": config["activation"]}),
                            shapes.activation, ACTIVATION),
    "ReLU": LayerKind("activation", _relu, lambda config: ("draw.layer.activation", {"activation": "relu"}),
                      shapes.relu, ACTIVATION),
    "Rescaling": LayerKind("rescaling", _rescaling, lambda config: ("draw.layer.rescaling", {
        "scale": config["scale"], "offset": config["offset"]}), shapes.rescaling),
    "Reshape": LayerKind("reshape", lambda config, weights: lambda x: x.reshape(1, *config["target_shape"]),
                         _said("draw.layer.reshape"), shapes.reshape),
}
KINDS = {name: entry.kind for name, entry in LAYERS.items()}
DESIGNED = {"conv": "Conv2D", "pool": "MaxPooling2D", "avgpool": "AveragePooling2D", "bn": "BatchNormalization",
            "dropout": "Dropout", "gap": "GlobalAveragePooling2D", "flatten": "Flatten", "dense": "Dense",
            "logits": "Dense"}  # the class each word of a network design builds (cnnlib.network.design)


def trace(stack: Sequence[tuple[str, Settings]], shape: shapes.Shape) -> list[shapes.Traced]:
    """Each layer's output shape (NHWC, no batch axis) and parameter count, for a stack of ``(class name, settings)``
    from an input of ``shape``; a Refusal naming the first layer the table lacks, with a setting outside its rules or
    that cannot take what reaches it. Conv2D (8 3x3 filters, VALID) then Flatten from (28, 28, 1): [((26, 26, 8), 80),
    ((5408,), 0)]."""
    traced = []
    for kind, settings in stack:
        if kind not in LAYERS:
            raise Refusal("model_files.unsupported", layer=layer_name(settings), kind=kind,
                          supported=", ".join(LAYERS))
        shape, parameters = LAYERS[kind].shape(settings, shape)
        traced.append((shape, parameters))
    return traced


def class_name(layer) -> str:
    """A Keras layer's class name, as the table and the saved architecture name it."""
    return type(layer).__name__


def table_entry(layer) -> LayerKind | None:
    """A layer's entry in ``LAYERS``, by its type (not its name), or None when the app does not support it."""
    return LAYERS.get(class_name(layer))


def layer_kind(layer) -> str | None:
    """What a Keras layer is, by its type (not its name): one of ``KINDS``' values, or None."""
    entry = table_entry(layer)
    return entry.kind if entry else None


def applies_softmax(layer) -> bool:
    """Whether ``layer`` ends in softmax (its ``activation`` setting)."""
    return layer.get_config().get("activation") == "softmax"


def numpy_layer(layer, weights: Weights) -> Layer | None:
    """The forward pass of a supported Keras layer with ``weights`` (its ``get_weights()``), as numpy (Dropout is
    the identity when predicting); None for any other layer or setting."""
    entry, config = table_entry(layer), layer.get_config()
    if (entry is None or config.get("data_format", "channels_last") != "channels_last"
            or config.get("activation", "linear") not in ACTIVATIONS):
        return None
    return entry.build(config, weights)


def layer_note(layer) -> Note:
    """The catalogue key and values of a supported layer's line on the page: the tutorial's own layers keep their
    words."""
    return LAYERS[class_name(layer)].note(layer.get_config())
