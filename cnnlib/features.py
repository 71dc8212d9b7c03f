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
docstring for why). Keras is imported lazily: only ``numpy_layer`` needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

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
    """Every ``kernel`` x ``kernel`` window of ``x`` (1, H, W, C), TensorFlow-padded: (1, out_h, out_w, C, k, k)."""
    if padding not in PADDINGS:
        raise ValueError(f"Padding must be 'VALID' or 'SAME'; got {padding!r}.")
    if kernel < 1 or stride < 1:
        raise ValueError(f"The {what} size and stride must be at least 1; got {kernel} and {stride}.")
    _, height, width, _ = x.shape
    if padding == "VALID" and kernel > min(height, width):
        raise ValueError(f"With VALID padding a {kernel}x{kernel} {what} does not fit a {height}x{width} input: "
                         "choose SAME padding or a smaller size.")
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
        raise ValueError(f"Expected an image (1, H, W, C) and square filters (k, k, C, F); got {image.shape} and "
                         f"{filters.shape}.")
    if filters.shape[2] != image.shape[3]:
        raise ValueError(f"The image has {image.shape[3]} channel(s) but the filters expect {filters.shape[2]}.")
    windows = _windows(image, filters.shape[0], stride, padding, 0.0, "filter")
    return np.einsum("nhwcij,ijcf->nhwf", windows, filters, optimize=True)


def max_pool(x: np.ndarray, size: int = TUTORIAL_POOL_SIZE, stride: int = TUTORIAL_POOL_STRIDE,
             padding: str = TUTORIAL_POOL_PADDING) -> np.ndarray:
    """``tf.nn.max_pool``: the largest number in each window, channel by channel; padding never wins.

    Example: (1, 14, 14, 5), 2x2, stride 2, VALID -> (1, 7, 7, 5).
    """
    x = np.asarray(x, np.float32)
    return _windows(x, size, stride, padding, -np.inf, "pooling window").max(axis=(-2, -1))


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
        return (f"{shape_text(self.image.shape)} ⊛ {shape_text(self.filters.shape)} → {shape_text(self.conv.shape)}"
                f" → swapaxes → {shape_text(channels_first(self.conv).shape)}")

    def pool_shapes(self) -> str:
        """``(1, 14, 14, 5)`` → max-pool → ``(1, 7, 7, 5)`` → swapaxes → ``(5, 7, 7, 1)``."""
        return (f"{shape_text(self.conv.shape)} → max-pool → {shape_text(self.pool.shape)} → swapaxes → "
                f"{shape_text(channels_first(self.pool).shape)}")


def tutorial_conv(image: np.ndarray, filters: np.ndarray, stride: int = TUTORIAL_CONV_STRIDE,
                  padding: str = TUTORIAL_CONV_PADDING) -> TutorialSteps:
    """Convolve a (28, 28) digit with ``filters`` (k, k, 1, F); ValueError when the filter does not fit."""
    batch = np.asarray(image, np.float32).reshape(1, *np.shape(image)[-2:], 1)  # (1, 28, 28, 1)
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


def numpy_layer(layer) -> Layer | None:
    """The forward pass of a Keras Conv2D, MaxPooling2D, Flatten, Dense or Dropout layer with its trained weights,
    as numpy (Dropout is the identity when predicting); None for any other kind or setting."""
    import keras

    config = layer.get_config()
    activation = ACTIVATIONS.get(config.get("activation", "linear"))
    if config.get("data_format", "channels_last") != "channels_last" or activation is None:
        return None
    if isinstance(layer, keras.layers.Conv2D) and type(layer) is keras.layers.Conv2D:
        (rows, columns), (stride, column_stride) = config["kernel_size"], config["strides"]
        if rows != columns or stride != column_stride or config["dilation_rate"] != (1, 1) or config["groups"] != 1:
            return None
        kernel = layer.kernel.numpy()
        bias = layer.bias.numpy() if layer.use_bias else np.float32(0)
        padding = config["padding"].upper()
        return lambda x: activation(conv2d(x, kernel, stride, padding) + bias)
    if isinstance(layer, keras.layers.MaxPooling2D):
        (size, column_size), (stride, column_stride) = config["pool_size"], config["strides"]
        if size != column_size or stride != column_stride:
            return None
        padding = config["padding"].upper()
        return lambda x: max_pool(x, size, stride, padding)
    if isinstance(layer, keras.layers.Flatten):
        return lambda x: x.reshape(1, -1)
    if isinstance(layer, keras.layers.Dense) and type(layer) is keras.layers.Dense:
        kernel = layer.kernel.numpy()
        bias = layer.bias.numpy() if layer.use_bias else np.float32(0)
        return lambda x: activation(x @ kernel + bias)
    if isinstance(layer, keras.layers.Dropout):
        return lambda x: x
    return None


class ModelProbe:
    """A trained Keras model read layer by layer: its weights copied into numpy once, for readings in ~1.5 ms.

    Why numpy and not one multi-output Keras model: Streamlit calls ``keras.backend.clear_session()`` after every
    run, and a Keras call after that took 24 ms median here (eager or ``tf.function``), the whole per-stroke
    budget; numpy with the same weights gives the same numbers (to float32 rounding; a test checks this against
    Keras). Models made by this app's trainer always qualify; any other is refused with a ValueError.
    """

    def __init__(self, model) -> None:
        expected = (None, 28, 28, 1)
        if tuple(model.input_shape) != expected:
            raise ValueError(f"This model expects inputs of shape {tuple(model.input_shape)}, not MNIST's "
                             f"{expected}: it was not trained on 28x28 digits.")
        self.model = model
        self.layer_names = tuple(layer.name for layer in model.layers)
        layers = [numpy_layer(layer) for layer in model.layers]
        unknown = [layer for layer, numpy_version in zip(model.layers, layers) if numpy_version is None]
        if unknown:
            raise ValueError(f"This model has a layer the Draw page cannot read: {unknown[0].name} "
                             f"({type(unknown[0]).__name__}). It reads models trained on the Train page: square "
                             "conv and max-pool layers, flatten, dense and dropout, with ReLU or no activation.")
        self.numpy_layers: tuple[Layer, ...] = tuple(layers)

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
        for name, layer in zip(self.layer_names, self.numpy_layers):
            batch = layer(batch)
            activations[name] = batch[0]
        return ModelReading(activations, softmax(activations[self.layer_names[-1]]))
