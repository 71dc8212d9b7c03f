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

from collections.abc import Callable
from dataclasses import dataclass, replace

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


def _windows(x: np.ndarray, kernel: int, stride: int, padding: str, fill: float, what: str) -> np.ndarray:
    """Every ``kernel`` x ``kernel`` window of ``x`` (1, H, W, C), TensorFlow-padded: (1, out_h, out_w, C, k, k).

    ``what`` is "filter" or "window", naming the sentences of its errors.
    """
    if padding not in PADDINGS:
        raise ValueError(t("draw.error.padding", padding=padding))
    if kernel < 1 or stride < 1:
        raise ValueError(t(f"draw.error.{what}_size", size=kernel, stride=stride))
    _, height, width, _ = x.shape
    if padding == "VALID" and kernel > min(height, width):
        raise ValueError(t(f"draw.error.{what}_does_not_fit", size=kernel, height=height, width=width))
    rows, columns = axis_padding(height, kernel, stride, padding), axis_padding(width, kernel, stride, padding)
    padded = np.pad(x, ((0, 0), (rows.before, rows.after), (columns.before, columns.after), (0, 0)),
                    constant_values=fill)
    windows = sliding_window_view(padded, (kernel, kernel), axis=(1, 2))  # (1, H', W', C, k, k)
    return windows[:, : rows.out * stride : stride, : columns.out * stride : stride]


def conv2d(image: np.ndarray, filters: np.ndarray, stride: int = TUTORIAL_CONV_STRIDE,
           padding: str = TUTORIAL_CONV_PADDING) -> np.ndarray:
    """``tf.nn.conv2d``: image (1, H, W, C) ⊛ filters (k, k, C, F) -> (1, out_h, out_w, F), no bias, no ReLU.

    Example: (1, 28, 28, 1) ⊛ (3, 3, 1, 5), stride 2, SAME -> (1, 14, 14, 5).
    """
    image, filters = np.asarray(image, np.float32), np.asarray(filters, np.float32)
    if image.ndim != 4 or filters.ndim != 4 or filters.shape[0] != filters.shape[1]:
        raise ValueError(t("draw.error.conv_shapes", image=image.shape, filters=filters.shape))
    if filters.shape[2] != image.shape[3]:
        raise ValueError(t("draw.error.channels", image=image.shape[3], filters=filters.shape[2]))
    windows = _windows(image, filters.shape[0], stride, padding, 0.0, "filter")
    return np.einsum("nhwcij,ijcf->nhwf", windows, filters, optimize=True)


def max_pool(x: np.ndarray, size: int = TUTORIAL_POOL_SIZE, stride: int = TUTORIAL_POOL_STRIDE,
             padding: str = TUTORIAL_POOL_PADDING) -> np.ndarray:
    """``tf.nn.max_pool``: the largest number in each window, channel by channel; padding never wins.

    Example: (1, 14, 14, 5), 2x2, stride 2, VALID -> (1, 7, 7, 5).
    """
    x = np.asarray(x, np.float32)
    return _windows(x, size, stride, padding, -np.inf, "window").max(axis=(-2, -1))


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
    kinds: dict[str, str]  # layer name -> "conv", "pool", "flatten", "dense", "dropout" or "logits"

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
ACTIVATIONS = {"linear": lambda x: x, "relu": lambda x: np.maximum(x, 0.0)}
LOGITS = "logits"  # the kind of the last layer: the model outputs logits, softmax makes them probabilities


class UnreadableModel(ValueError):
    """A model the Draw page cannot read. Its sentence is looked up when shown, not when raised: a cache shared by
    learners who read different languages keeps it."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key, self.values = key, values

    def __str__(self) -> str:
        return t(self.key, **self.values)


def layer_kind(layer) -> str | None:
    """What a Keras layer is, by its type (not its name): "conv", "pool", "flatten", "dense", "dropout", or None."""
    import keras

    kinds = {keras.layers.Conv2D: "conv", keras.layers.MaxPooling2D: "pool", keras.layers.Flatten: "flatten",
             keras.layers.Dense: "dense", keras.layers.Dropout: "dropout"}
    return kinds.get(type(layer))


def _square(pair: tuple[int, int]) -> int | None:
    """The side of a square kernel, pool or stride ``(n, n)``; None when the two differ."""
    return pair[0] if pair[0] == pair[1] else None


def _weights(layer) -> tuple[np.ndarray, np.ndarray | np.float32]:
    """A conv or dense layer's kernel and bias as numpy (bias 0 when it has none)."""
    return layer.kernel.numpy(), layer.bias.numpy() if layer.use_bias else np.float32(0)


def numpy_layer(layer) -> Layer | None:
    """The forward pass of a Keras Conv2D, MaxPooling2D, Flatten, Dense or Dropout layer with its trained weights,
    as numpy (Dropout is the identity when predicting); None for any other kind or setting."""
    config, kind = layer.get_config(), layer_kind(layer)
    activation = ACTIVATIONS.get(config.get("activation", "linear"))
    if config.get("data_format", "channels_last") != "channels_last" or activation is None:
        return None
    if kind == "conv":
        size, stride = _square(config["kernel_size"]), _square(config["strides"])
        if None in (size, stride) or config["dilation_rate"] != (1, 1) or config["groups"] != 1:
            return None
        kernel, bias = _weights(layer)
        padding = config["padding"].upper()
        return lambda x: activation(conv2d(x, kernel, stride, padding) + bias)
    if kind == "pool":
        size, stride = _square(config["pool_size"]), _square(config["strides"])
        padding = config["padding"].upper()
        return None if None in (size, stride) else lambda x: max_pool(x, size, stride, padding)
    if kind == "dense":
        kernel, bias = _weights(layer)
        return lambda x: activation(x @ kernel + bias)
    return {"flatten": lambda x: x.reshape(1, -1), "dropout": lambda x: x}.get(kind)


class ModelProbe:
    """A trained Keras model read layer by layer: its weights copied into numpy once, for readings in ~1.5 ms.

    Why numpy and not one multi-output Keras model: Streamlit calls ``keras.backend.clear_session()`` after every
    run, and a Keras call after that took 24 ms median here (eager or ``tf.function``), the whole per-stroke
    budget; numpy with the same weights gives the same numbers (to float32 rounding; a test checks this against
    Keras). Models made by this app's trainer always qualify; any other is refused with an ``UnreadableModel``.
    """

    def __init__(self, model) -> None:
        expected = (None, 28, 28, 1)
        if tuple(model.input_shape) != expected:
            raise UnreadableModel("draw.error.model_input", shape=tuple(model.input_shape), expected=expected)
        self.model = model
        self.layer_names = tuple(layer.name for layer in model.layers)
        layers = [numpy_layer(layer) for layer in model.layers]
        unknown = [layer for layer, numpy_version in zip(model.layers, layers) if numpy_version is None]
        if unknown:
            raise UnreadableModel("draw.error.model_layer", name=unknown[0].name, kind=type(unknown[0]).__name__)
        self.numpy_layers: tuple[Layer, ...] = tuple(layers)
        kinds = [layer_kind(layer) for layer in model.layers]
        self.layer_kinds = tuple(kinds[:-1]) + ((LOGITS,) if kinds[-1] == "dense" else kinds[-1:])

    def __repr__(self) -> str:
        return f"ModelProbe({self.model.name}: {', '.join(self.layer_names)})"

    def first_layer_filters(self) -> np.ndarray | None:
        """The first conv layer's trained kernel (k, k, 1, F), or None if the model does not start with a conv."""
        kernel = getattr(self.model.layers[0], "kernel", None)
        return None if kernel is None or len(kernel.shape) != 4 else np.asarray(kernel.numpy())

    def read(self, image: np.ndarray) -> ModelReading:
        """Every layer's output and the softmax probabilities for one (28, 28) digit; the model outputs logits."""
        batch = np.asarray(image, np.float32).reshape(1, 28, 28, 1)  # (1, 28, 28, 1)
        activations = {}
        with one_thread():
            for name, layer in zip(self.layer_names, self.numpy_layers):
                batch = layer(batch)
                activations[name] = batch[0]
        probabilities = softmax(activations[self.layer_names[-1]])
        return ModelReading(activations, probabilities, dict(zip(self.layer_names, self.layer_kinds)))
