"""The digits a run trains on: the data split (validation held out as in TF1), the batches ``fit`` reads, the
training digits redrawn as pen strokes.

    arrays = split_training_data(load_mnist("offline"), train_limit=4000)   # 3,667 train, 333 validation, the tests
    training_batches(arrays.x_train, arrays.y_train, drawn, hp)               # a tf.data.Dataset of (digits, one-hot)

With ``drawn_share`` above 0, the training digits are first redrawn as pen strokes (``cnnlib.mnist.strokes``, about
0.5 ms a digit) and ``training_batches`` shows each digit redrawn with that chance, afresh every epoch. TensorFlow is
imported only inside ``training_batches``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cnnlib.mnist.data import MnistData
from cnnlib.mnist.strokes import redrawn
from cnnlib.network.architecture import one_hot
from cnnlib.training.config import Hyperparameters
from cnnlib.training.progress import Event

Emit = Callable[[dict], None]

VALIDATION_SHARE = 1 / 12  # TF1's input_data held out the first 5,000 of 60,000 training digits for validation


@dataclass(frozen=True, repr=False)
class TrainingData:
    """Model-ready arrays: images ``(N, 28, 28, 1)`` float32 in 0..1 (the tutorial's scaling), labels ``(N,)``."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def __repr__(self) -> str:
        return f"TrainingData({len(self.x_train)} train, {len(self.x_val)} validation, {len(self.x_test)} test)"


def to_model_input(images: np.ndarray) -> np.ndarray:
    """``(N, 28, 28)`` uint8 0..255 -> ``(N, 28, 28, 1)`` float32 0..1."""
    return (np.asarray(images, dtype=np.float32) / 255.0)[..., np.newaxis]


def steps_per_epoch(train_count: int, batch_size: int) -> int:
    """Batches in one pass over ``train_count`` digits, the last one partial: 3,667 in batches of 64 make 58."""
    return -(-train_count // batch_size)


def validation_count(training_digits: int) -> int:
    """How many of ``training_digits`` are held out for validation: 5,000 of 60,000, 333 of 4,000."""
    return max(1, round(training_digits * VALIDATION_SHARE))


def split_training_data(data: MnistData, train_limit: int | None = None) -> TrainingData:
    """The first ``train_limit`` training digits; their first twelfth is held out for validation, as in TF1."""
    count = len(data.x_train) if not train_limit else min(train_limit, len(data.x_train))
    validation = validation_count(count)
    images, labels = data.x_train[:count], data.y_train[:count]
    return TrainingData(to_model_input(images[validation:]), labels[validation:],
                        to_model_input(images[:validation]), labels[:validation],
                        to_model_input(data.x_test), data.y_test)


def redrawn_training_digits(x_train: np.ndarray, hp: Hyperparameters, emit: Emit) -> np.ndarray | None:
    """The training digits redrawn as pen strokes when ``hp`` shows a share of them so (announced first), else None."""
    if not hp.drawn_share:
        return None
    emit({"event": Event.REDRAWING, "count": len(x_train)})
    return redrawn(x_train)


def training_batches(x_train: np.ndarray, y_train: np.ndarray, drawn: np.ndarray | None, hp: Hyperparameters):
    """The batches ``fit`` trains on, a ``tf.data.Dataset`` of (digits, one-hot targets): shuffled afresh every epoch,
    and with ``drawn`` each digit shown redrawn with probability ``hp.drawn_share``, drawn afresh every epoch (seeded
    by ``hp.seed``)."""
    import tensorflow as tf

    order = tf.data.Dataset.range(len(x_train)).shuffle(len(x_train), seed=hp.seed, reshuffle_each_iteration=True)
    coins = tf.data.Dataset.random(seed=hp.seed, rerandomize_each_iteration=True).map(
        lambda coin: tf.cast(coin % 2**24, tf.float32) / 2**24 < hp.drawn_share)
    # The digits reach each batch as an element, not as a capture: a map function embeds what it captures in its
    # graph, a copy of every digit made each time a run starts (0.2 s for the offline subset, seconds for full MNIST)
    digits = tf.data.Dataset.from_tensors((x_train, x_train if drawn is None else drawn, one_hot(y_train))).repeat()

    def batch(chosen, redraw, images, redrawings, targets):
        shown = tf.gather(images, chosen)
        if drawn is not None:
            shown = tf.where(redraw[:, None, None, None], tf.gather(redrawings, chosen), shown)
        return shown, tf.gather(targets, chosen)

    batches = tf.data.Dataset.zip(order, coins).batch(hp.batch_size)
    return tf.data.Dataset.zip(batches, digits).map(lambda picked, arrays: batch(*picked, *arrays),
                                                    num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def blank_digits(count: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` black digits labelled 0: the shapes a step is traced for, at no cost to compute."""
    return np.zeros((count, 28, 28, 1), np.float32), np.zeros(count, np.int64)
