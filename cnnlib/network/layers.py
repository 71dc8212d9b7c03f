"""What each Keras layer the app supports is to the app: how numpy computes it and the line the Draw page writes.

Keras is imported lazily: only ``layer_kind`` looks at a layer's type.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cnnlib.network.ops import _pair, average_pool, conv2d, max_pool, softmax
from cnnlib.text import t

Layer = Callable[[np.ndarray], np.ndarray]  # one layer's forward pass on a batch of one, in numpy
Note = tuple[str, dict]  # a layer's line: catalogue key and its values ("activation" values are looked up too)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x), without overflow for large negative x."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


ACTIVATIONS = {"linear": lambda x: x, "relu": lambda x: np.maximum(x, 0.0), "sigmoid": _sigmoid, "tanh": np.tanh,
               "softmax": softmax}
KINDS = {"Conv2D": "conv", "MaxPooling2D": "pool", "AveragePooling2D": "pool", "Flatten": "flatten", "Dense": "dense",
         "Dropout": "dropout", "BatchNormalization": "batchnorm", "GlobalAveragePooling2D": "global_pool",
         "GlobalMaxPooling2D": "global_pool", "Activation": "activation", "ReLU": "activation",
         "Rescaling": "rescaling", "Reshape": "reshape"}
LOGITS = "logits"  # the kind of the last layer: the model outputs logits, softmax makes them probabilities
PROBABILITIES = "probabilities"  # the kind of a last layer that applies softmax itself
DIGIT_INPUTS = ((None, 28, 28, 1), (None, 28, 28))


class UnreadableModel(ValueError):
    """A model the Draw page cannot read. Its sentence is looked up when shown, not when raised: a cache shared by
    learners who read different languages keeps it."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key, self.values = key, values

    def __str__(self) -> str:
        return t(self.key, **self.values)


def layer_kind(layer) -> str | None:
    """What a Keras layer is, by its type (not its name): one of ``KINDS``' values, or None."""
    return KINDS.get(type(layer).__name__)


def _conv(config: dict, weights: list[np.ndarray]) -> Layer | None:
    """Conv2D: any kernel, stride and padding, plus bias, then its activation; None when dilated or grouped."""
    activation = ACTIVATIONS[config["activation"]]
    if _pair(config["dilation_rate"]) != (1, 1) or config["groups"] != 1:
        return None
    kernel, bias = weights[0], weights[1] if config["use_bias"] else np.float32(0)
    stride, padding = _pair(config["strides"]), config["padding"].upper()
    return lambda x: activation(conv2d(x, kernel, stride, padding) + bias)


def _pool(config: dict, how: Callable) -> Layer:
    """MaxPooling2D or AveragePooling2D (``how``) with its window, stride and padding."""
    size, padding = _pair(config["pool_size"]), config["padding"].upper()
    stride = _pair(config["strides"] or config["pool_size"])
    return lambda x: how(x, size, stride, padding)


def _batch_norm(config: dict, weights: list[np.ndarray]) -> Layer | None:
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


def _relu(config: dict) -> Layer:
    """Keras's ReLU layer: slope below ``threshold``, capped at ``max_value``."""
    top, slope, threshold = config["max_value"], config["negative_slope"], config["threshold"]

    def relu(x: np.ndarray) -> np.ndarray:
        y = np.where(x >= threshold, x, slope * (x - threshold)).astype(np.float32)
        return y if top is None else np.minimum(y, np.float32(top))

    return relu


def _global_pool(config: dict, how: Callable) -> Layer:
    """GlobalAveragePooling2D or GlobalMaxPooling2D (``how``): one number per channel."""
    return lambda x: how(x, axis=(1, 2), keepdims=bool(config.get("keepdims")))


def numpy_layer(layer, weights: list[np.ndarray]) -> Layer | None:
    """The forward pass of a supported Keras layer (``KINDS``) with ``weights`` (its ``get_weights()``), as numpy
    (Dropout is the identity when predicting); None for any other layer or setting."""
    config, name = layer.get_config(), type(layer).__name__
    if config.get("data_format", "channels_last") != "channels_last" or config.get("activation",
                                                                                    "linear") not in ACTIVATIONS:
        return None
    builders: dict[str, Callable[[], Layer | None]] = {
        "Conv2D": lambda: _conv(config, weights),
        "MaxPooling2D": lambda: _pool(config, max_pool),
        "AveragePooling2D": lambda: _pool(config, average_pool),
        "BatchNormalization": lambda: _batch_norm(config, weights),
        "Dense": lambda: lambda x: ACTIVATIONS[config["activation"]](
            x @ weights[0] + (weights[1] if config["use_bias"] else np.float32(0))),
        "Dropout": lambda: lambda x: x,
        "Flatten": lambda: lambda x: x.reshape(1, -1),
        "GlobalAveragePooling2D": lambda: _global_pool(config, np.mean),
        "GlobalMaxPooling2D": lambda: _global_pool(config, np.max),
        "Activation": lambda: ACTIVATIONS[config["activation"]],
        "ReLU": lambda: _relu(config),
        "Rescaling": lambda: lambda x: x * np.asarray(config["scale"], np.float32) + np.asarray(config["offset"],
                                                                                             np.float32),
        "Reshape": lambda: lambda x: x.reshape(1, *config["target_shape"]),
    }
    return builders[name]() if name in builders else None


def layer_note(layer) -> Note:
    """The catalogue key and values of a layer's line on the page: the tutorial's own layers keep their words."""
    config, name = layer.get_config(), type(layer).__name__
    activation = config.get("activation", "linear")
    if name == "Conv2D":
        kernel, stride = _pair(config["kernel_size"]), _pair(config["strides"])
        if kernel == (3, 3) and stride == (1, 1) and activation == "relu":
            return "draw.layer.conv", {}
        return "draw.layer.conv_any", {"kernel": "x".join(map(str, kernel)), "stride": "x".join(map(str, stride)),
                                       "padding": config["padding"].upper(), "activation": activation}
    if name in ("MaxPooling2D", "AveragePooling2D"):
        size, stride = _pair(config["pool_size"]), _pair(config["strides"] or config["pool_size"])
        if name == "MaxPooling2D" and size == stride == (2, 2):
            return "draw.layer.pool", {}
        key = "draw.layer.max_pool_any" if name == "MaxPooling2D" else "draw.layer.average_pool"
        return key, {"size": "x".join(map(str, size)), "stride": "x".join(map(str, stride))}
    if name == "Dense" and activation != "relu":
        return "draw.layer.dense_any", {"activation": activation}
    notes = {"GlobalAveragePooling2D": "draw.layer.global_average", "GlobalMaxPooling2D": "draw.layer.global_max",
             "Rescaling": "draw.layer.rescaling", "ReLU": "draw.layer.activation"}
    values = {"scale": config.get("scale"), "offset": config.get("offset"), "activation": activation}
    return notes.get(name, f"draw.layer.{layer_kind(layer)}"), values if name != "ReLU" else {"activation": "relu"}

