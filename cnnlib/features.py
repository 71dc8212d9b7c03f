"""Feature maps of one digit: the tutorial's section 2.2 steps, and every layer of a trained network.

Section 2.2, on MNIST's first training image::

    img = mnist.train.images[0].reshape(-1, 28, 28, 1)                    # (1, 28, 28, 1)
    W1 = tf.random_normal([3, 3, 1, 5], stddev=1)                         # (3, 3, 1, 5)
    conv2d = tf.nn.conv2d(img, W1, strides=[1, 2, 2, 1], padding='SAME')  # (1, 14, 14, 5)
    conv2d_img = np.swapaxes(conv2d_img, 0, 3)                            # (5, 14, 14, 1): one picture per filter
    pool = tf.nn.max_pool(conv2d, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding='VALID')  # (1, 7, 7, 5)

``conv2d`` and ``max_pool`` here are vectorised numpy with TensorFlow's padding rule (``cnnlib.toy.axis_padding``)
and give the same numbers as ``cnnlib.toy``'s step-by-step versions, fast enough to rerun on every stroke.
``ModelProbe`` reads a trained network with the same two functions and the network's own weights (see its
docstring for why). Keras is imported lazily: only ``layer_kind`` needs it. Every sentence comes from
``cnnlib.text`` (the ``draw`` catalogue).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cnnlib.blas import one_thread
from cnnlib.text import t
from cnnlib.toy import PADDINGS, axis_padding

TUTORIAL_FILTERS, TUTORIAL_KERNEL = 5, 3
TUTORIAL_CONV_STRIDE, TUTORIAL_CONV_PADDING = 2, "SAME"
TUTORIAL_POOL_SIZE, TUTORIAL_POOL_STRIDE, TUTORIAL_POOL_PADDING = 2, 2, "VALID"


def random_filters(count: int = TUTORIAL_FILTERS, kernel_size: int = TUTORIAL_KERNEL, seed: int = 0,
                   in_channels: int = 1) -> np.ndarray:
    """``(k, k, in_channels, count)`` float32 weights from N(0, 1) like ``tf.random_normal``; same seed, same ones."""
    return np.random.default_rng(seed).standard_normal((kernel_size, kernel_size, in_channels, count)).astype(
        np.float32)


Pair = tuple[int, int]  # (rows, columns) of a kernel, window or stride


def _pair(value: int | Sequence[int]) -> Pair:
    """``3`` -> (3, 3); ``(5, 3)`` stays (5, 3), as Keras writes kernel sizes and strides."""
    return (int(value), int(value)) if np.isscalar(value) else (int(value[0]), int(value[1]))


def _windows(x: np.ndarray, kernel: Pair, stride: Pair, padding: str, fill: float, what: str) -> np.ndarray:
    """Every ``kernel`` window of ``x`` (1, H, W, C), TensorFlow-padded: (1, out_h, out_w, C, kh, kw).

    ``what`` is "filter" or "window", naming the sentences of its errors.
    """
    if padding not in PADDINGS:
        raise ValueError(t("draw.error.padding", padding=padding))
    if min(*kernel, *stride) < 1:
        raise ValueError(t(f"draw.error.{what}_size", size=kernel[0], stride=stride[0]))
    _, height, width, _ = x.shape
    if padding == "VALID" and (kernel[0] > height or kernel[1] > width):
        raise ValueError(t(f"draw.error.{what}_does_not_fit", size=kernel[0], height=height, width=width))
    rows = axis_padding(height, kernel[0], stride[0], padding)
    columns = axis_padding(width, kernel[1], stride[1], padding)
    padded = np.pad(x, ((0, 0), (rows.before, rows.after), (columns.before, columns.after), (0, 0)),
                    constant_values=fill)
    windows = sliding_window_view(padded, kernel, axis=(1, 2))  # (1, H', W', C, kh, kw)
    return windows[:, : rows.out * stride[0] : stride[0], : columns.out * stride[1] : stride[1]]


def conv2d(image: np.ndarray, filters: np.ndarray, stride: int | Pair = TUTORIAL_CONV_STRIDE,
           padding: str = TUTORIAL_CONV_PADDING) -> np.ndarray:
    """``tf.nn.conv2d``: image (1, H, W, C) ⊛ filters (kh, kw, C, F) -> (1, out_h, out_w, F), no bias, no ReLU.

    Example: (1, 28, 28, 1) ⊛ (3, 3, 1, 5), stride 2, SAME -> (1, 14, 14, 5).
    """
    image, filters = np.asarray(image, np.float32), np.asarray(filters, np.float32)
    if image.ndim != 4 or filters.ndim != 4:
        raise ValueError(t("draw.error.conv_shapes", image=image.shape, filters=filters.shape))
    if filters.shape[2] != image.shape[3]:
        raise ValueError(t("draw.error.channels", image=image.shape[3], filters=filters.shape[2]))
    windows = _windows(image, filters.shape[:2], _pair(stride), padding, 0.0, "filter")
    return np.einsum("nhwcij,ijcf->nhwf", windows, filters, optimize=True)


def max_pool(x: np.ndarray, size: int | Pair = TUTORIAL_POOL_SIZE, stride: int | Pair = TUTORIAL_POOL_STRIDE,
             padding: str = TUTORIAL_POOL_PADDING) -> np.ndarray:
    """``tf.nn.max_pool``: the largest number in each window, channel by channel; padding never wins.

    Example: (1, 14, 14, 5), 2x2, stride 2, VALID -> (1, 7, 7, 5).
    """
    x = np.asarray(x, np.float32)
    return _windows(x, _pair(size), _pair(stride), padding, -np.inf, "window").max(axis=(-2, -1))


def average_pool(x: np.ndarray, size: int | Pair, stride: int | Pair, padding: str) -> np.ndarray:
    """``tf.nn.avg_pool``: the mean of each window's cells that lie inside the input (padding is not counted)."""
    x, size, stride = np.asarray(x, np.float32), _pair(size), _pair(stride)
    sums = _windows(x, size, stride, padding, 0.0, "window").sum(axis=(-2, -1))
    counts = _windows(np.ones_like(x[..., :1]), size, stride, padding, 0.0, "window").sum(axis=(-2, -1))
    return sums / counts


def channels_first(x: np.ndarray) -> np.ndarray:
    """The tutorial's ``np.swapaxes(x, 0, 3)``: (1, H, W, C) -> (C, H, W, 1), one picture per channel."""
    return np.swapaxes(x, 0, 3)


def shape_text(shape: tuple[int, ...]) -> str:
    """A shape as Python prints it, in backticks: ``(1, 28, 28, 1)``."""
    return f"`{tuple(int(size) for size in shape)}`"


@dataclass(frozen=True, repr=False)
class TutorialSteps:
    """Section 2.2 on one digit: the image, the filters, conv, pool, and the channel-first views the page draws."""

    image: np.ndarray  # (1, 28, 28, 1)
    filters: np.ndarray  # (k, k, 1, F)
    conv: np.ndarray  # (1, out_h, out_w, F)
    pool: np.ndarray | None = None  # (1, pool_h, pool_w, F), once ``pooled`` has run

    def __repr__(self) -> str:
        pool = "" if self.pool is None else f" -> {self.pool.shape}"
        return f"TutorialSteps({self.image.shape} ⊛ {self.filters.shape} -> {self.conv.shape}{pool})"

    def pooled(self, size: int = TUTORIAL_POOL_SIZE, stride: int = TUTORIAL_POOL_STRIDE,
               padding: str = TUTORIAL_POOL_PADDING) -> TutorialSteps:
        """These steps with the conv output max-pooled; ValueError when the window does not fit."""
        return replace(self, pool=max_pool(self.conv, size, stride, padding))

    @property
    def conv_maps(self) -> np.ndarray:
        """(F, out_h, out_w): each filter's feature map, after ``swapaxes(0, 3)``."""
        return channels_first(self.conv)[..., 0]

    @property
    def pool_maps(self) -> np.ndarray:
        """(F, pool_h, pool_w): each pooled map, after ``swapaxes(0, 3)``."""
        return channels_first(self.pool)[..., 0]

    def conv_shapes(self) -> str:
        """``(1, 28, 28, 1)`` ⊛ ``(3, 3, 1, 5)`` → ``(1, 14, 14, 5)`` → swapaxes → ``(5, 14, 14, 1)``."""
        return t("draw.conv.shapes", image=shape_text(self.image.shape), filters=shape_text(self.filters.shape),
                 conv=shape_text(self.conv.shape), maps=shape_text(channels_first(self.conv).shape))

    def pool_shapes(self) -> str:
        """``(1, 14, 14, 5)`` → max-pool → ``(1, 7, 7, 5)`` → swapaxes → ``(5, 7, 7, 1)``."""
        return t("draw.pool.shapes", conv=shape_text(self.conv.shape), pool=shape_text(self.pool.shape),
                 maps=shape_text(channels_first(self.pool).shape))


def tutorial_conv(image: np.ndarray, filters: np.ndarray, stride: int = TUTORIAL_CONV_STRIDE,
                  padding: str = TUTORIAL_CONV_PADDING) -> TutorialSteps:
    """Convolve a (28, 28) digit with ``filters`` (k, k, 1, F); ValueError when the filter does not fit."""
    batch = np.asarray(image, np.float32).reshape(1, *np.shape(image)[-2:], 1)  # (1, 28, 28, 1)
    with one_thread():
        return TutorialSteps(batch, np.asarray(filters, np.float32), conv2d(batch, filters, stride, padding))


def tutorial_steps(image: np.ndarray, filters: np.ndarray, conv_stride: int = TUTORIAL_CONV_STRIDE,
                   conv_padding: str = TUTORIAL_CONV_PADDING, pool_size: int = TUTORIAL_POOL_SIZE,
                   pool_stride: int = TUTORIAL_POOL_STRIDE, pool_padding: str = TUTORIAL_POOL_PADDING) -> TutorialSteps:
    """Section 2.2 whole: conv then max-pool. Example: defaults give (1, 14, 14, 5) then (1, 7, 7, 5)."""
    return tutorial_conv(image, filters, conv_stride, conv_padding).pooled(pool_size, pool_stride, pool_padding)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities from logits, computed stably: exp(z - max z) / sum."""
    shifted = np.exp(logits - np.max(logits, axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


@dataclass(frozen=True, repr=False)
class ModelReading:
    """What a trained network computes for one digit: every layer's output (batch axis dropped) and its answer."""

    activations: dict[str, np.ndarray]  # layer name -> (H, W, C) or (units,)
    probabilities: np.ndarray  # (10,), softmax of the logits
    kinds: dict[str, str]  # layer name -> one of KINDS' values, "logits" or "probabilities"
    notes: dict[str, Note] = field(default_factory=dict)  # layer name -> its line's catalogue key and values

    @property
    def prediction(self) -> int:
        """The most probable digit."""
        return int(np.argmax(self.probabilities))

    @property
    def confidence(self) -> float:
        """The probability of the predicted digit."""
        return float(self.probabilities[self.prediction])

    def __repr__(self) -> str:
        return f"ModelReading(prediction={self.prediction}, p={self.confidence:.3f}, layers={list(self.activations)})"


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


def chain_layers(model) -> list:
    """The model's layers in order (input layers left out); UnreadableModel when they are not one chain, each
    reading the previous one's output."""
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    if type(model).__name__ == "Sequential":
        return layers
    previous = model.inputs[0] if len(model.inputs) == 1 else None
    for layer in layers:
        if previous is None or layer.input is not previous:
            raise UnreadableModel("draw.error.not_a_chain", name=layer.name)
        previous = layer.output
    return layers


def _layer_weights(layers: list, weights: list[np.ndarray] | None) -> list[list[np.ndarray]]:
    """Each layer's share of ``weights`` (the model's ``get_weights()`` order), or its own weights when None."""
    if weights is None:
        return [layer.get_weights() for layer in layers]
    counts = np.cumsum([0] + [len(layer.weights) for layer in layers])
    if counts[-1] != len(weights):
        raise UnreadableModel("draw.error.weights_mismatch", count=len(weights), expected=int(counts[-1]))
    return [[np.asarray(weight, np.float32) for weight in weights[start:stop]]
            for start, stop in zip(counts[:-1], counts[1:])]


class ModelProbe:
    """A trained Keras model read layer by layer: its weights copied into numpy once, for readings in ~1.5 ms.

    Why numpy and not one multi-output Keras model: Streamlit calls ``keras.backend.clear_session()`` after every
    run, and a Keras call after that took 24 ms median here (eager or ``tf.function``), the whole per-stroke
    budget; numpy with the same weights gives the same numbers (to float32 rounding; tests check every supported
    layer against Keras). ``weights`` (the model's ``get_weights()`` order) replace the model's own: an earlier
    epoch's. Any other layer, or a network that is not one chain, is refused with an ``UnreadableModel``.
    """

    def __init__(self, model, weights: list[np.ndarray] | None = None) -> None:
        if tuple(model.input_shape) not in DIGIT_INPUTS:
            raise UnreadableModel("draw.error.model_input", shape=tuple(model.input_shape), expected=DIGIT_INPUTS[0])
        layers = chain_layers(model)
        self.model, self.input_shape = model, tuple(model.input_shape[1:])
        self.layer_names = tuple(layer.name for layer in layers)
        shares = _layer_weights(layers, weights)
        numpy_layers = [numpy_layer(layer, share) for layer, share in zip(layers, shares)]
        unknown = [layer for layer, numpy_version in zip(layers, numpy_layers) if numpy_version is None]
        if unknown:
            raise UnreadableModel("draw.error.model_layer", name=unknown[0].name, kind=type(unknown[0]).__name__)
        self.numpy_layers: tuple[Layer, ...] = tuple(numpy_layers)
        self.conv_kernel = next((share[0] for layer, share in zip(layers, shares) if layer_kind(layer) == "conv"), None)
        self.notes = {layer.name: layer_note(layer) for layer in layers}
        kinds = [layer_kind(layer) for layer in layers]
        ends_in_softmax = layers[-1].get_config().get("activation") == "softmax"
        self.layer_kinds = tuple(kinds[:-1]) + ((PROBABILITIES if ends_in_softmax else LOGITS,)
                                                if kinds[-1] in ("dense", "activation") else kinds[-1:])
        if self.layer_kinds[-1] in (LOGITS, PROBABILITIES):
            self.notes[self.layer_names[-1]] = (f"draw.layer.{self.layer_kinds[-1]}", {})

    def __repr__(self) -> str:
        return f"ModelProbe({self.model.name}: {', '.join(self.layer_names)})"

    def with_weights(self, weights: list[np.ndarray]) -> ModelProbe:
        """The same network with other weights (the model's ``get_weights()`` order), e.g. after an earlier epoch."""
        return ModelProbe(self.model, weights)

    def first_layer_filters(self) -> np.ndarray | None:
        """The first conv layer's kernel (kh, kw, 1, F), or None if the model has none reading one channel."""
        kernel = self.conv_kernel
        return None if kernel is None or kernel.shape[2] != 1 else np.asarray(kernel)

    def read(self, image: np.ndarray) -> ModelReading:
        """Every layer's output and the ten probabilities for one (28, 28) digit (softmax of the logits unless the
        model applies softmax itself)."""
        batch = np.asarray(image, np.float32).reshape(1, *self.input_shape)  # (1, 28, 28, 1) or (1, 28, 28)
        activations = {}
        with one_thread():
            for name, layer in zip(self.layer_names, self.numpy_layers):
                batch = layer(batch)
                activations[name] = batch[0]
        last = activations[self.layer_names[-1]]
        probabilities = last if self.layer_kinds[-1] == PROBABILITIES else softmax(last)
        return ModelReading(activations, probabilities, dict(zip(self.layer_names, self.layer_kinds)), self.notes)
