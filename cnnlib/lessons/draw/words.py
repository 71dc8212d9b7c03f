"""The Draw a digit page's sentences built from its data: the digit's shape and ink, how a drawing became 28x28,
where the filters came from, the code and shapes of each step, the models on offer and each layer's line. Every
word comes from ``cnnlib.text`` (the ``draw`` catalogue).

Worked example (the tutorial's): conv 5 random 3x3 filters, stride 2, SAME, on a 28x28 digit reads
``conv2d = tf.nn.conv2d(img, W1, strides=[1, 2, 2, 1], padding='SAME')`` and then
```(1, 28, 28, 1)` ⊛ `(3, 3, 1, 5)` → `(1, 14, 14, 5)` → swapaxes → `(5, 14, 14, 1)```.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from cnnlib.lessons.draw.steps import TutorialSteps, shape_text
from cnnlib.network.reader import ModelReading
from cnnlib.store.saved import SavedModel
from cnnlib.mnist.preprocess import PreparedDigit, centre_of_mass, ink_pixels
from cnnlib.text import t

FULL_MNIST_TRAIN = 60_000  # full MNIST's training digits: the tutorial's indices apply only to it


def sample_caption(train_count: int, description: str) -> str:
    """Where an MNIST sample comes from; with full MNIST, also where the tutorial's first image is."""
    return t("draw.sample.tutorial_note", description=description) if train_count == FULL_MNIST_TRAIN else description


def mnist_view_text(image: np.ndarray) -> str:
    """The 28x28 digit's shape, what its numbers mean, and how many of its pixels hold ink."""
    return t("draw.view.text", shape=shape_text((1, *image.shape, 1)), ink=ink_pixels(image), pixels=image.size)


def preparation_captions(prepared: PreparedDigit) -> list[str]:
    """A caption for each of MNIST's three steps on this drawing: crop, fit in 20x20, centre of mass to (14, 14)."""
    top, left, bottom, right = prepared.box
    row, column = centre_of_mass(prepared.image)
    fitted_height, fitted_width = prepared.fitted.shape
    return [t("draw.view.crop", height=bottom - top, width=right - left),
            t("draw.view.fit", height=fitted_height, width=fitted_width),
            t("draw.view.centre", row=row, column=column)]


def random_filters_text(kernel: int, count: int, seed: int) -> str:
    """Random filters in the tutorial's words: ``tf.random_normal([3, 3, 1, 5], stddev=1)`` with their seed."""
    return t("draw.conv.random_origin", kernel=kernel, count=count, seed=seed)


def trained_filters_text(count: int, total: int, model: str, kernel: str) -> str:
    """The first ``count`` of a trained model's ``total`` conv1 filters (``kernel`` like "3x3"), named."""
    return t("draw.conv.trained_origin", count=count, total=total, model=model, kernel=kernel)


def conv_text(steps: TutorialSteps, stride: int, padding: str) -> str:
    """The tutorial's ``tf.nn.conv2d`` line with these settings, then the shapes it goes through."""
    return t("draw.conv.code", stride=stride, padding=padding, shapes=steps.conv_shapes())


def filters_caption(steps: TutorialSteps) -> str:
    """What the filter grid shows and how to read its colours."""
    return t("draw.conv.filters_caption", shape=shape_text(steps.filters.shape))


def conv_maps_caption(steps: TutorialSteps) -> str:
    """What the feature maps are after ``np.swapaxes``, and what dark means."""
    count, height, width = steps.conv_maps.shape
    return t("draw.conv.maps_caption", count=count, height=height, width=width)


def pool_text(steps: TutorialSteps, size: int, stride: int, padding: str) -> str:
    """The tutorial's ``tf.nn.max_pool`` line with these settings, then the shapes it goes through."""
    return t("draw.pool.code", size=size, stride=stride, padding=padding, shapes=steps.pool_shapes())


def pool_maps_caption(steps: TutorialSteps, size: int) -> str:
    """What max-pooling did to the maps' size and look."""
    _, height, width = steps.pool_maps.shape
    return t("draw.pool.maps_caption", size=size, height=height, width=width)


def model_label(model: SavedModel) -> str:
    """A model's name with when it was saved and, when known, its test accuracy, for the model chooser."""
    saved = datetime.fromtimestamp(model.modified).strftime("%Y-%m-%d %H:%M")
    accuracy = model.metadata.get("test_accuracy")
    if isinstance(accuracy, (int, float)):
        return t("draw.model.label_with_accuracy", name=model.label, saved=saved, accuracy=accuracy)
    return t("draw.model.label", name=model.label, saved=saved)


def replay_caption(epoch: int, epochs: int, accuracy: float, tested: int) -> str:
    """What the replay shows at ``epoch`` of ``epochs``, its test accuracy, and on how many test digits each epoch
    was tested when on a sample of them (``tested`` 0: all)."""
    caption = t("draw.replay.caption", epoch=epoch, epochs=epochs, accuracy=accuracy)
    return f"{caption} {t('draw.replay.tested', count=tested)}" if tested else caption


def prediction_title(reading: ModelReading) -> str:
    """``Prediction: 7``."""
    return t("draw.model.prediction", digit=reading.prediction)


def probability_text(reading: ModelReading) -> str:
    """How sure the network is of its prediction."""
    return t("draw.model.probability", probability=reading.confidence)


def layer_text(reading: ModelReading, name: str) -> str:
    """One layer's line: its name, its output's shape (batch of one) and what the layer does."""
    values = reading.activations[name]
    key, settings = reading.notes.get(name, (f"draw.layer.{reading.kinds[name]}", {}))
    if "activation" in settings:
        settings = {**settings, "activation": t(f"draw.activation.{settings['activation']}")}
    return t("draw.layer.line", name=name, shape=shape_text((1, *values.shape)), note=t(key, **settings))

