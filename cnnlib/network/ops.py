"""The numpy operations a network is read with: ``tf.nn.conv2d``, max- and average-pooling and softmax, vectorised.

They use TensorFlow's padding rule (``cnnlib.lessons.toy.convolution.axis_padding``) and give the same numbers as the
toy lesson's step-by-step versions, fast enough to rerun on every stroke. Shapes are NHWC.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cnnlib.lessons.toy.convolution import PADDINGS, axis_padding
from cnnlib.errors import Refusal

Pair = tuple[int, int]  # (rows, columns) of a kernel, window or stride


def _pair(value: int | Sequence[int]) -> Pair:
    """``3`` -> (3, 3); ``(5, 3)`` stays (5, 3), as Keras writes kernel sizes and strides."""
    return (int(value), int(value)) if np.isscalar(value) else (int(value[0]), int(value[1]))


def _windows(x: np.ndarray, kernel: Pair, stride: Pair, padding: str, fill: float, what: str) -> np.ndarray:
    """Every ``kernel`` window of ``x`` (1, H, W, C), TensorFlow-padded: (1, out_h, out_w, C, kh, kw).

    ``what`` is "filter" or "window", naming the sentences of its errors.
    """
    if padding not in PADDINGS:
        raise Refusal("draw.error.padding", padding=padding)
    if min(*kernel, *stride) < 1:
        raise Refusal(f"draw.error.{what}_size", size=kernel[0], stride=stride[0])
    _, height, width, _ = x.shape
    if padding == "VALID" and (kernel[0] > height or kernel[1] > width):
        raise Refusal(f"draw.error.{what}_does_not_fit", size=kernel[0], height=height, width=width)
    rows = axis_padding(height, kernel[0], stride[0], padding)
    columns = axis_padding(width, kernel[1], stride[1], padding)
    padded = np.pad(x, ((0, 0), (rows.before, rows.after), (columns.before, columns.after), (0, 0)),
                    constant_values=fill)
    windows = sliding_window_view(padded, kernel, axis=(1, 2))  # (1, H', W', C, kh, kw)
    return windows[:, : rows.out * stride[0] : stride[0], : columns.out * stride[1] : stride[1]]


def conv2d(image: np.ndarray, filters: np.ndarray, stride: int | Pair = 2,
           padding: str = "SAME") -> np.ndarray:
    """``tf.nn.conv2d``: image (1, H, W, C) ⊛ filters (kh, kw, C, F) -> (1, out_h, out_w, F), no bias, no ReLU.

    Example: (1, 28, 28, 1) ⊛ (3, 3, 1, 5), stride 2, SAME -> (1, 14, 14, 5).
    """
    image, filters = np.asarray(image, np.float32), np.asarray(filters, np.float32)
    if image.ndim != 4 or filters.ndim != 4:
        raise Refusal("draw.error.conv_shapes", image=image.shape, filters=filters.shape)
    if filters.shape[2] != image.shape[3]:
        raise Refusal("draw.error.channels", image=image.shape[3], filters=filters.shape[2])
    windows = _windows(image, filters.shape[:2], _pair(stride), padding, 0.0, "filter")
    return np.einsum("nhwcij,ijcf->nhwf", windows, filters, optimize=True)


def max_pool(x: np.ndarray, size: int | Pair = 2, stride: int | Pair = 2,
             padding: str = "VALID") -> np.ndarray:
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


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities from logits, computed stably: exp(z - max z) / sum."""
    shifted = np.exp(logits - np.max(logits, axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)

