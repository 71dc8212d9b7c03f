"""Changing the network to see what matters: feature maps switched off, a first-layer filter edited, and the digit
nudged towards another answer by signed-gradient steps.

    knockout(model, image, layer, channels)   (10,)     probabilities with those channels set to 0
    nudge(model, image, target, epsilon)      (28, 28)  signed-gradient steps towards ``target``
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from cnnlib.errors import Refusal
from cnnlib.lessons.why.network import (Step, batch, check_digit, check_image, conv_layers, pre_activation, run,
                                        steps, target_of)
from cnnlib.lessons.why.network import index as position_of
from cnnlib.network.ops import softmax

NUDGE_STEPS = 20  # at most this many signed-gradient steps
NUDGE_STEPS_TO_BUDGET = 8  # each step moves a pixel by epsilon / 8: the budget's edge is 8 steps away


def _layer_output(model, image: np.ndarray, layer: str) -> tuple[list[Step], int, object]:
    """The steps, the position just after ``layer`` and that layer's output ``(1, ..., C)`` for one digit."""
    found = steps(model)
    split = position_of(found, layer) + 1
    output = run(found, batch(check_image(image)[None]), stop=split)
    if len(output.shape) < 2:
        raise Refusal("why.error.no_channels", layer=layer)
    return found, split, output


def _masked_answers(found: list[Step], split: int, output, masks: np.ndarray) -> np.ndarray:
    """Probabilities ``(M, 10)`` with ``output`` multiplied channel-wise by each of ``masks`` ``(M, C)``."""
    shape = (len(masks),) + (1,) * (len(output.shape) - 2) + (masks.shape[1],)  # (M, 1, ..., 1, C)
    return softmax(np.asarray(run(found, output * masks.reshape(shape).astype(np.float32), start=split)))


def knockout(model, image: np.ndarray, layer: str, channels: Iterable[int]) -> np.ndarray:
    """The ten probabilities ``(10,)`` with ``channels`` of ``layer``'s output set to 0."""
    found, split, output = _layer_output(model, image, layer)
    count = output.shape[-1]
    mask = np.ones((1, count))
    for channel in channels:
        if not 0 <= channel < count:
            raise Refusal("why.error.channel", channel=channel, layer=layer, last=count - 1)
        mask[0, channel] = 0.0
    return _masked_answers(found, split, output, mask)[0]


@dataclass(frozen=True, repr=False)
class KnockoutRanking:
    """Each channel of one layer switched off alone: the answers, and the channels by how much they matter."""

    layer: str
    target: int
    base: np.ndarray  # (10,): nothing switched off
    probabilities: np.ndarray  # (C, 10): channel c switched off

    def __repr__(self) -> str:
        return f"KnockoutRanking({self.layer}, channels={len(self.probabilities)}, target={self.target})"

    @property
    def changes(self) -> np.ndarray:
        """``(C,)``: the target's probability after minus before, per channel switched off."""
        return self.probabilities[:, self.target] - self.base[self.target]

    def ranked(self) -> np.ndarray:
        """Channel numbers, the largest change (either way) first."""
        return np.argsort(-np.abs(self.changes), kind="stable")


def knockout_ranking(model, image: np.ndarray, layer: str, target: int | None = None) -> KnockoutRanking:
    """Switch off each channel of ``layer`` alone, all in one batch, and see what each does to the answer."""
    found, split, output = _layer_output(model, image, layer)
    count = output.shape[-1]
    masks = np.vstack([np.ones((1, count)), 1.0 - np.eye(count)])  # (1 + C, C): nothing off, then each channel
    answers = _masked_answers(found, split, output, masks)
    return KnockoutRanking(layer, target_of(answers[0], target), answers[0], answers[1:])


def first_conv_filters(model, index: int | None = None):
    """The first convolution layer, checked: it exists, reads one channel with one 2-D filter per map, and has
    filter ``index`` if one is given; a Refusal otherwise."""
    names = conv_layers(model)
    if not names:
        raise Refusal("why.error.no_filters")
    layer = model.get_layer(names[0])
    if layer.kernel.shape[2] != 1:
        raise Refusal("why.error.filter_table", layer=layer.name)
    if index is not None and not 0 <= index < layer.filters:
        raise Refusal("why.error.channel", channel=index, layer=layer.name, last=layer.filters - 1)
    return layer


def trained_filter(model, index: int) -> np.ndarray:
    """The first convolution's filter ``index`` as its ``(k, k)`` table of weights."""
    return first_conv_filters(model, index).kernel.numpy()[:, :, 0, index]


@dataclass(frozen=True, repr=False)
class FilterEdit:
    """The first convolution with one filter's weights replaced: that filter's feature map and the new answer."""

    feature_map: np.ndarray  # (H, W) after bias and activation
    probabilities: np.ndarray  # (10,)

    def __repr__(self) -> str:
        return f"FilterEdit(map={self.feature_map.shape}, prediction={int(np.argmax(self.probabilities))})"


def edit_filter(model, image: np.ndarray, index: int, weights: np.ndarray) -> FilterEdit:
    """The digit run with the first convolution's filter ``index`` set to ``weights`` ``(k, k)``; the model stays."""
    layer, found = first_conv_filters(model, index), steps(model)
    position = position_of(found, layer.name)
    kernel = np.array(layer.kernel.numpy())  # (k, k, 1, F), a copy
    weights = np.asarray(weights, np.float32)
    if weights.shape != kernel.shape[:2]:
        raise Refusal("why.error.kernel_shape", rows=kernel.shape[0], columns=kernel.shape[1], shape=weights.shape)
    kernel[:, :, 0, index] = weights
    x = run(found, batch(check_image(image)[None]), stop=position)
    maps = pre_activation(layer, x, kernel)
    maps = layer.activation(maps) if layer.activation is not None else maps  # (1, H, W, F)
    output = run(found, maps, start=position + 1)
    return FilterEdit(np.asarray(maps)[0, :, :, index], softmax(np.asarray(output))[0])


@dataclass(frozen=True, repr=False)
class Nudge:
    """A digit moved by signed-gradient steps towards ``target``, each pixel by at most ``epsilon``."""

    original: np.ndarray  # (28, 28)
    image: np.ndarray  # (28, 28), in [0, 1]
    probabilities: np.ndarray  # (10,) for ``image``
    target: int
    epsilon: float
    steps: int

    def __repr__(self) -> str:
        return f"Nudge(target={self.target}, epsilon={self.epsilon}, steps={self.steps}, reached={self.reached})"

    @property
    def reached(self) -> bool:
        """Whether the network now answers ``target``."""
        return int(np.argmax(self.probabilities)) == self.target

    @property
    def change(self) -> np.ndarray:
        """``(28, 28)``: nudged minus original, within [-epsilon, epsilon]."""
        return self.image - self.original


def _target_loss_gradient(found: list[Step], image: np.ndarray, target: int) -> tuple[np.ndarray, np.ndarray]:
    """The scores ``(10,)`` of ``image`` and d cross-entropy(target) / d pixel ``(28, 28)``."""
    import tensorflow as tf

    x = batch(image[None])
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(x)
        output = run(found, x)
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[target], logits=output)
    return np.asarray(output)[0], tape.gradient(loss, x).numpy()[0, :, :, 0]


def nudge_towards(model, image: np.ndarray, target: int, epsilon: float) -> Nudge:
    """Iterated FGSM: step against the sign of the target's loss gradient, within ``epsilon`` of the digit and
    within [0, 1], until the network answers ``target`` or ``NUDGE_STEPS`` steps are spent."""
    original, target, found = check_image(image), check_digit(target), steps(model)
    if not 0.0 <= epsilon <= 1.0:
        raise Refusal("why.error.epsilon", epsilon=epsilon)
    low, high = np.clip(original - epsilon, 0, 1), np.clip(original + epsilon, 0, 1)
    nudged, step_size, taken = original.copy(), epsilon / NUDGE_STEPS_TO_BUDGET, 0
    output, gradient = _target_loss_gradient(found, nudged, target)
    while int(np.argmax(output)) != target and taken < NUDGE_STEPS and epsilon > 0:
        nudged = np.clip(nudged - step_size * np.sign(gradient), low, high).astype(np.float32)
        output, gradient = _target_loss_gradient(found, nudged, target)
        taken += 1
    return Nudge(original, nudged, softmax(output), target, float(epsilon), taken)


def nudge(model, image: np.ndarray, target: int, epsilon: float) -> np.ndarray:
    """``(28, 28)``: the digit nudged towards ``target`` within ``epsilon`` (see ``nudge_towards``)."""
    return nudge_towards(model, image, target, epsilon).image
