"""Feature maps of one digit: the tutorial's section 2.2 steps, and every layer of a trained network.

Section 2.2, on MNIST's first training image::

    img = mnist.train.images[0].reshape(-1, 28, 28, 1)                    # (1, 28, 28, 1)
    W1 = tf.random_normal([3, 3, 1, 5], stddev=1)                         # (3, 3, 1, 5)
    conv2d = tf.nn.conv2d(img, W1, strides=[1, 2, 2, 1], padding='SAME')  # (1, 14, 14, 5)
    conv2d_img = np.swapaxes(conv2d_img, 0, 3)                            # (5, 14, 14, 1): one picture per filter
    pool = tf.nn.max_pool(conv2d, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding='VALID')  # (1, 7, 7, 5)

``conv2d`` and ``max_pool`` here are vectorised numpy with TensorFlow's padding rule (``cnnlib.lessons.toy.convolution.axis_padding``)
and give the same numbers as ``cnnlib.lessons.toy.convolution``'s step-by-step versions, fast enough to rerun on every stroke.
``ModelProbe`` reads a trained network with the same two functions and the network's own weights (see its
docstring for why). Keras is imported lazily: only ``layer_kind`` needs it. Every sentence comes from
``cnnlib.text`` (the ``draw`` catalogue).
"""


from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from cnnlib.network.ops import conv2d, max_pool
from cnnlib.server.blas import one_thread
from cnnlib.text import t


TUTORIAL_FILTERS, TUTORIAL_KERNEL = 5, 3
TUTORIAL_CONV_STRIDE, TUTORIAL_CONV_PADDING = 2, "SAME"
TUTORIAL_POOL_SIZE, TUTORIAL_POOL_STRIDE, TUTORIAL_POOL_PADDING = 2, 2, "VALID"


def random_filters(count: int = TUTORIAL_FILTERS, kernel_size: int = TUTORIAL_KERNEL, seed: int = 0,
                   in_channels: int = 1) -> np.ndarray:
    """``(k, k, in_channels, count)`` float32 weights from N(0, 1) like ``tf.random_normal``; same seed, same ones."""
    return np.random.default_rng(seed).standard_normal((kernel_size, kernel_size, in_channels, count)).astype(
        np.float32)


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

