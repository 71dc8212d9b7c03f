"""The network as the Why page takes it apart: its layers as steps on a batch of tensors, and its scores.

A model is one chain of layers (``cnnlib.network.reader.chain_layers``) from a digit (``DIGIT_INPUTS``) to ten
scores, each layer one the app supports; how each is treated comes from the layer table
(``cnnlib.network.layers.LAYERS``, its ``explain`` role): Grad-CAM, knockout and filter edits happen at a ``CONV``
layer; a last ``WEIGHTED`` layer with softmax is run without its softmax, a last softmax ``ACTIVATION`` is left out,
so scores are always the pre-softmax values. TensorFlow is imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cnnlib.errors import Refusal
from cnnlib.network.layers import (ACTIVATION, CONV, DIGIT_INPUTS, DIGIT_OUTPUT, WEIGHTED, LayerKind, applies_softmax,
                                   class_name, table_entry)
from cnnlib.network.ops import softmax
from cnnlib.network.reader import chain_layers

SIDE, DIGITS = 28, 10
FLAT_INPUT = "(28, 28)"  # the step that reshapes a digit for a model whose input is (28, 28)

Step = tuple[str, Callable]  # a layer's name and its forward pass on a batch (tensors)


def explained_layers(model) -> list[tuple[object, LayerKind]]:
    """The model's layers in order with their table entries; a Refusal when they are not one chain or one of them
    is not in the table."""
    layers = chain_layers(model, "why.error.not_a_chain")
    entries = [table_entry(layer) for layer in layers]
    for layer, entry in zip(layers, entries):
        if entry is None:
            raise Refusal("why.refusal.layer", layer=layer.name, kind=class_name(layer))
    return list(zip(layers, entries))


def pre_activation(layer, x, kernel=None):
    """A Dense or convolution layer's output before its activation, optionally with another ``kernel``."""
    from keras import ops

    kernel = layer.kernel if kernel is None else kernel
    y = layer.convolution_op(x, kernel) if hasattr(layer, "convolution_op") else ops.matmul(x, kernel)
    return ops.add(y, layer.bias) if layer.use_bias else y


def steps(model) -> list[Step]:
    """The forward pass as steps, the last one without softmax; a Refusal for a model this page cannot read."""
    if tuple(model.input_shape) not in DIGIT_INPUTS:
        raise Refusal("why.error.input_shape", shape=tuple(model.input_shape))
    if tuple(model.output_shape) != DIGIT_OUTPUT:
        raise Refusal("why.error.outputs", shape=tuple(model.output_shape))
    layers = explained_layers(model)
    found: list[Step] = [(layer.name, lambda x, layer=layer: layer(x, training=False)) for layer, _ in layers]
    last, entry = layers[-1]
    if applies_softmax(last) and entry.explain in (CONV, WEIGHTED):
        found[-1] = (last.name, lambda x: pre_activation(last, x))
    elif applies_softmax(last) and entry.explain == ACTIVATION:  # the scores are its input
        found.pop()
    if tuple(model.input_shape) != DIGIT_INPUTS[0]:
        from keras import ops

        found.insert(0, (FLAT_INPUT, lambda x: ops.reshape(x, (-1, SIDE, SIDE))))
    return found


def run(found: list[Step], x, start: int = 0, stop: int | None = None):
    """``x`` through ``found[start:stop]``."""
    for _, forward in found[start:stop]:
        x = forward(x)
    return x


def index(found: list[Step], layer: str) -> int:
    """The position of the layer named ``layer``; a Refusal when there is none."""
    names = [name for name, _ in found]
    if layer not in names:
        raise Refusal("why.error.unknown_layer", layer=layer)
    return names.index(layer)


def batch(images: np.ndarray):
    """Images ``(N, 28, 28)`` as a float32 tensor ``(N, 28, 28, 1)``."""
    import tensorflow as tf

    return tf.convert_to_tensor(np.asarray(images, np.float32)[..., None])


def check_image(image: np.ndarray) -> np.ndarray:
    """``image`` as float32 ``(28, 28)``; a Refusal for any other shape."""
    image = np.asarray(image, np.float32)
    if image.shape != (SIDE, SIDE):
        raise Refusal("why.error.image_shape", shape=image.shape)
    return image


def check_digit(target: int) -> int:
    """``target`` if it is a digit 0-9; a Refusal otherwise."""
    if int(target) != target or not 0 <= target < DIGITS:
        raise Refusal("why.error.target", target=target)
    return int(target)


def target_of(scores_row, target: int | None) -> int:
    """``target``, or the highest score's digit when it is None."""
    return int(np.argmax(np.asarray(scores_row))) if target is None else check_digit(target)


def scores(model, images: np.ndarray) -> np.ndarray:
    """The pre-softmax scores ``(N, 10)`` of images ``(N, 28, 28)`` (the logits of the tutorial's network)."""
    return np.asarray(run(steps(model), batch(images)))


def probabilities(model, image: np.ndarray) -> np.ndarray:
    """The ten probabilities ``(10,)`` for one digit."""
    return softmax(scores(model, check_image(image)[None]))[0]


def conv_layers(model) -> list[str]:
    """The names of the model's convolution layers (the table's ``CONV`` role), input side first (the tutorial's:
    conv1, conv2)."""
    return [layer.name for layer, entry in explained_layers(model) if entry.explain == CONV]


def last_conv_layer(model) -> str:
    """The name of the convolution nearest the output; a Refusal when the model has none."""
    names = conv_layers(model)
    if not names:
        raise Refusal("why.error.no_conv")
    return names[-1]
