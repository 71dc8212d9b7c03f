"""Which real digits a channel likes most, and which digits a network finds alike.

    channel_values(model, layer, images)          (N, C)  each channel's mean value over its map, per digit
    top_examples(model, layer, channel, images)   (k,)    the digits with the highest value of one channel
    features(model, images)                       (N, D)  each digit in the layer before the output
    nearest(model, image, images, k)              (k,)    the digits nearest to ``image`` there (Euclidean)

``images`` is an ``(N, 28, 28)`` array in [0, 1] of at most ``MAX_IMAGES`` digits, run ``TEST_BATCH`` at a time, so
what is held at once is one batch's feature maps plus one row of values per digit. A layer is named by its Keras
name; a layer's values are its output as the model runs when predicting (after its activation; the last layer
before its softmax, as ``cnnlib.lessons.why.network`` reads a model).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cnnlib.errors import Refusal
from cnnlib.lessons.why.network import SIDE, Step, batch, check_image, index, run, steps
from cnnlib.network.snapshots import TEST_BATCH

MAX_IMAGES = 10_000  # digits one call takes at most: the whole MNIST test set


def check_images(images: np.ndarray) -> np.ndarray:
    """``images`` as float32 ``(N, 28, 28)`` with 1 <= N <= ``MAX_IMAGES``; a Refusal otherwise."""
    images = np.asarray(images, np.float32)
    if images.ndim != 3 or images.shape[1:] != (SIDE, SIDE) or len(images) == 0:
        raise Refusal("learned.error.images_shape", shape=images.shape)
    if len(images) > MAX_IMAGES:
        raise Refusal("learned.error.too_many", count=len(images), most=MAX_IMAGES)
    return images


def check_count(k: int, available: int) -> int:
    """How many digits to return: ``k`` (a whole number >= 1), at most ``available``; a Refusal otherwise."""
    if int(k) != k or k < 1:
        raise Refusal("learned.error.count", k=k)
    return min(int(k), available)


def in_batches(images: np.ndarray, compute: Callable[[object], np.ndarray]) -> np.ndarray:
    """``compute`` of each ``TEST_BATCH`` of ``images`` (a tensor ``(n, 28, 28, 1)`` in, ``(n, ...)`` out), joined."""
    return np.concatenate([compute(batch(images[start:start + TEST_BATCH]))
                           for start in range(0, len(images), TEST_BATCH)])


def _channel_means(output) -> np.ndarray:
    """A layer's output ``(n, ..., C)`` averaged over its map: ``(n, C)`` (a dense layer's is itself)."""
    output = np.asarray(output)
    return output.mean(axis=tuple(range(1, output.ndim - 1))) if output.ndim > 2 else output


def channel_values(model, layer: str, images: np.ndarray) -> np.ndarray:
    """``(N, C)``: each channel of ``layer``'s mean value over its feature map, for each digit (a dense layer: each
    unit's value)."""
    found, images = steps(model), check_images(images)
    stop = index(found, layer) + 1
    return in_batches(images, lambda x: _channel_means(run(found, x, stop=stop)))


def top_examples(model, layer: str, channel: int, images: np.ndarray, k: int = 9) -> np.ndarray:
    """The indices of the ``k`` digits of ``images`` with the highest mean value of ``channel`` of ``layer`` over
    its feature map (a dense layer: that unit's value), highest first; ties in the order of ``images``."""
    values = channel_values(model, layer, images)
    if not 0 <= channel < values.shape[1]:
        raise Refusal("why.error.channel", channel=channel, layer=layer, last=values.shape[1] - 1)
    return np.argsort(-values[:, channel], kind="stable")[:check_count(k, len(values))]


def _before_output(found: list[Step], x) -> np.ndarray:
    """The output of the layer before the output for a batch, one row per digit ``(n, D)``."""
    output = np.asarray(run(found, x, stop=len(found) - 1))
    return output.reshape(len(output), -1)


def features(model, images: np.ndarray) -> np.ndarray:
    """``(N, D)``: each digit as the layer before the output sees it (the tutorial's network: dense2's 256
    values), flattened."""
    found, images = steps(model), check_images(images)
    return in_batches(images, lambda x: _before_output(found, x))


def nearest_rows(rows: np.ndarray, row: np.ndarray, k: int) -> np.ndarray:
    """The indices of the ``k`` rows of ``rows`` ``(N, D)`` nearest to ``row`` ``(D,)`` (Euclidean), nearest first;
    ties in the order of ``rows``."""
    distances = np.sum((rows - row) ** 2, axis=1)
    return np.argsort(distances, kind="stable")[:check_count(k, len(rows))]


def nearest(model, image: np.ndarray, images: np.ndarray, k: int = 9) -> np.ndarray:
    """The indices of the ``k`` digits of ``images`` nearest to ``image`` in the layer before the output
    (Euclidean distance between ``features``), nearest first."""
    found = steps(model)
    mine = _before_output(found, batch(check_image(image)[None]))[0]
    return nearest_rows(features(model, images), mine, k)
