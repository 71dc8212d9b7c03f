"""Why this answer? Where a trained network looked, which maps mattered, and how little it takes to fool it.

Every function takes a loaded Keras model (``cnnlib.store.saved.load_model``) that is one chain of layers from a
``(28, 28, 1)`` image to ten scores, and a digit ``(28, 28)`` in [0, 1] as the preprocessing returns it.
``target=None`` means the predicted digit. Scores are the model's pre-softmax values: a last layer that applies
softmax is run without it, so a model that outputs probabilities is explained like one that outputs logits.

    occlusion_map(model, image, patch=6, stride=2)  (28, 28)  how much hiding each pixel costs the answer
    saliency_map(model, image, target, smooth=0)    (28, 28)  |d score / d pixel|, SmoothGrad with smooth > 0
    gradcam_map(model, image, target)               (28, 28)  Grad-CAM at the last convolution, upsampled
    knockout(model, image, layer, channels)         (10,)     probabilities with those channels set to 0
    nudge(model, image, target, epsilon)            (28, 28)  signed-gradient steps towards ``target``

Everything runs eagerly, a batch at a time: Streamlit clears Keras's session after every run (see MEASURED.md),
so nothing here relies on a traced ``tf.function`` outliving a run; each run pays TensorFlow's kernel set-up again
(``bench/explain_speed.py`` times that). TensorFlow is imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from cnnlib.network.ops import softmax
from cnnlib.text import t

SIDE, DIGITS = 28, 10
SMOOTHGRAD_NOISE = 0.15  # SmoothGrad's noise: 15 % of the pixel range, the paper's usual setting
SMOOTHGRAD_SEED = 0  # the same noise on every run, so a map does not flicker when the page reruns
NUDGE_STEPS = 20  # at most this many signed-gradient steps
NUDGE_STEPS_TO_BUDGET = 8  # each step moves a pixel by epsilon / 8: the budget's edge is 8 steps away

Step = tuple[str, Callable]  # a layer's name and its forward pass on a batch (tensors)


def _is_softmax(layer) -> bool:
    """Whether ``layer`` is a softmax: a Softmax layer, or one whose activation is softmax."""
    import keras

    activation = getattr(layer, "activation", None)
    return isinstance(layer, keras.layers.Softmax) or getattr(activation, "__name__", "") == "softmax"


def _pre_activation(layer, x, kernel=None):
    """A Dense or convolution layer's output before its activation, optionally with another ``kernel``."""
    from keras import ops

    kernel = layer.kernel if kernel is None else kernel
    y = layer.convolution_op(x, kernel) if hasattr(layer, "convolution_op") else ops.matmul(x, kernel)
    return ops.add(y, layer.bias) if layer.use_bias else y


def _chain_layers(model) -> list:
    """The model's layers in order; ValueError when they are not one chain, each reading the previous one's output."""
    import keras

    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if isinstance(model, keras.Sequential):
        return layers
    previous = model.inputs[0] if len(model.inputs) == 1 else None
    for layer in layers:
        if previous is None or layer.input is not previous:
            raise ValueError(t("why.error.not_a_chain", layer=layer.name))
        previous = layer.output
    return layers


def _steps(model) -> list[Step]:
    """The forward pass as steps, the last one without softmax; ValueError for a model this module cannot read."""
    if tuple(model.input_shape) != (None, SIDE, SIDE, 1):
        raise ValueError(t("why.error.input_shape", shape=tuple(model.input_shape)))
    if tuple(model.output_shape) != (None, DIGITS):
        raise ValueError(t("why.error.outputs", shape=tuple(model.output_shape)))
    layers = _chain_layers(model)
    steps: list[Step] = [(layer.name, lambda x, layer=layer: layer(x, training=False)) for layer in layers]
    last = layers[-1]
    if _is_softmax(last) and hasattr(last, "kernel"):
        steps[-1] = (last.name, lambda x: _pre_activation(last, x))
    elif _is_softmax(last):  # a Softmax or Activation("softmax") layer: the scores are its input
        steps.pop()
    return steps


def _run(steps: list[Step], x, start: int = 0, stop: int | None = None):
    """``x`` through ``steps[start:stop]``."""
    for _, forward in steps[start:stop]:
        x = forward(x)
    return x


def _index(steps: list[Step], layer: str) -> int:
    """The position of the layer named ``layer``; ValueError when there is none."""
    names = [name for name, _ in steps]
    if layer not in names:
        raise ValueError(t("why.error.unknown_layer", layer=layer))
    return names.index(layer)


def _batch(images: np.ndarray):
    """Images ``(N, 28, 28)`` as a float32 tensor ``(N, 28, 28, 1)``."""
    import tensorflow as tf

    return tf.convert_to_tensor(np.asarray(images, np.float32)[..., None])


def _check_image(image: np.ndarray) -> np.ndarray:
    """``image`` as float32 ``(28, 28)``; ValueError for any other shape."""
    image = np.asarray(image, np.float32)
    if image.shape != (SIDE, SIDE):
        raise ValueError(t("why.error.image_shape", shape=image.shape))
    return image


def _check_digit(target: int) -> int:
    """``target`` if it is a digit 0-9; ValueError otherwise."""
    if int(target) != target or not 0 <= target < DIGITS:
        raise ValueError(t("why.error.target", target=target))
    return int(target)


def scores(model, images: np.ndarray) -> np.ndarray:
    """The pre-softmax scores ``(N, 10)`` of images ``(N, 28, 28)`` (the logits of the tutorial's network)."""
    return np.asarray(_run(_steps(model), _batch(images)))


def probabilities(model, image: np.ndarray) -> np.ndarray:
    """The ten probabilities ``(10,)`` for one digit."""
    return softmax(scores(model, _check_image(image)[None]))[0]


def conv_layers(model) -> list[str]:
    """The names of the model's 2-D convolution layers, input side first (the tutorial's: conv1, conv2)."""
    import keras

    kinds = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D)
    return [layer.name for layer in _chain_layers(model) if isinstance(layer, kinds)]


def last_conv_layer(model) -> str:
    """The name of the convolution nearest the output; ValueError when the model has none."""
    names = conv_layers(model)
    if not names:
        raise ValueError(t("why.error.no_conv"))
    return names[-1]


@dataclass(frozen=True, repr=False)
class Occlusion:
    """What hiding each patch of the digit does to the answer."""

    drop: np.ndarray  # (28, 28): the target's probability lost, averaged over the patches that cover each pixel
    corners: np.ndarray  # (P, 2): each hidden patch's top-left pixel (row, column)
    probabilities: np.ndarray  # (P, 10): the answer with each patch hidden
    patch: int
    target: int
    base: np.ndarray  # (10,): the answer with nothing hidden

    def __repr__(self) -> str:
        return f"Occlusion(patch={self.patch}, positions={len(self.corners)}, target={self.target})"

    def nearest_patch(self) -> np.ndarray:
        """``(28, 28)``: for each pixel, the index of the patch whose centre is nearest (for hovering)."""
        centres = self.corners + (self.patch - 1) / 2  # (P, 2)
        pixels = np.stack(np.mgrid[:SIDE, :SIDE], -1).reshape(-1, 1, 2)  # (784, 1, 2)
        return np.argmin(((pixels - centres) ** 2).sum(-1), axis=1).reshape(SIDE, SIDE)


def patch_starts(patch: int, stride: int) -> list[int]:
    """Where patches start along one side, the last flush with the edge. Example: 6, 2 -> 0, 2, ..., 22."""
    if not (1 <= patch <= SIDE and stride >= 1):
        raise ValueError(t("why.error.patch", patch=patch, stride=stride, side=SIDE))
    starts = list(range(0, SIDE - patch + 1, stride))
    return starts if starts[-1] == SIDE - patch else [*starts, SIDE - patch]


def occlusion(model, image: np.ndarray, patch: int = 6, stride: int = 2, target: int | None = None) -> Occlusion:
    """Hide a blank ``patch`` x ``patch`` square at every position (all in one batch) and record the answers."""
    image = _check_image(image)
    starts = patch_starts(patch, stride)
    corners = np.array([(row, column) for row in starts for column in starts])
    batch = np.repeat(image[None], len(corners) + 1, axis=0)  # (1 + P, 28, 28): the digit, then each hidden patch
    for number, (row, column) in enumerate(corners, start=1):
        batch[number, row:row + patch, column:column + patch] = 0.0
    answers = softmax(scores(model, batch))
    target = int(np.argmax(answers[0])) if target is None else _check_digit(target)
    lost, covers = np.zeros((SIDE, SIDE)), np.zeros((SIDE, SIDE))
    for (row, column), probability in zip(corners, answers[1:, target]):
        lost[row:row + patch, column:column + patch] += answers[0, target] - probability
        covers[row:row + patch, column:column + patch] += 1
    return Occlusion(lost / covers, corners, answers[1:], patch, target, answers[0])


def occlusion_map(model, image: np.ndarray, patch: int = 6, stride: int = 2) -> np.ndarray:
    """``(28, 28)``: how much the predicted digit's probability drops when a patch hides each pixel."""
    return occlusion(model, image, patch, stride).drop


def _target_of(scores_row, target: int | None) -> int:
    """``target``, or the highest score's digit when it is None."""
    return int(np.argmax(np.asarray(scores_row))) if target is None else _check_digit(target)


def _input_gradients(model, images: np.ndarray, target: int | None) -> tuple[np.ndarray, int]:
    """d score[target] / d pixel for each image ``(N, 28, 28)``; ``target=None`` is the first image's prediction."""
    import tensorflow as tf

    steps, x = _steps(model), _batch(images)
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(x)
        output = _run(steps, x)
        target = _target_of(output[0], target)
        total = tf.reduce_sum(output[:, target])
    return tape.gradient(total, x).numpy()[..., 0], target


def saliency_map(model, image: np.ndarray, target: int | None = None, smooth: int = 0) -> np.ndarray:
    """``(28, 28)``: |d score / d pixel|; with ``smooth`` > 0, averaged over that many noisy copies (SmoothGrad)."""
    image = _check_image(image)
    noise = np.random.default_rng(SMOOTHGRAD_SEED).normal(0.0, SMOOTHGRAD_NOISE, (smooth, SIDE, SIDE))
    batch = np.concatenate([image[None], image + noise.astype(np.float32)])  # the digit first: it names the target
    gradients, _ = _input_gradients(model, batch, target)
    return np.abs(gradients[1:] if smooth else gradients).mean(axis=0)


def bilinear_matrix(size_in: int, size_out: int = SIDE) -> np.ndarray:
    """``(size_out, size_in)`` weights that resize one axis bilinearly, as ``tf.image.resize`` does (half-pixel
    centres, edges clamped): ``M @ image @ M.T`` resizes a square image. Example: 2 -> 4 reads 0, 0.25, 0.75, 1."""
    centres = np.clip((np.arange(size_out) + 0.5) * size_in / size_out - 0.5, 0, size_in - 1)
    low = np.floor(centres).astype(int)
    high, fraction, rows = np.minimum(low + 1, size_in - 1), centres - low, np.arange(size_out)
    matrix = np.zeros((size_out, size_in))
    np.add.at(matrix, (rows, low), 1 - fraction)
    np.add.at(matrix, (rows, high), fraction)
    return matrix


def gradcam_map(model, image: np.ndarray, target: int | None = None) -> np.ndarray:
    """``(28, 28)``: Grad-CAM at the last convolution, ReLU(sum_k mean(d score / d A_k) A_k), upsampled bilinearly."""
    import tensorflow as tf

    steps = _steps(model)
    split = _index(steps, last_conv_layer(model)) + 1
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        maps = _run(steps, _batch(_check_image(image)[None]), stop=split)  # (1, H, W, K)
        tape.watch(maps)
        output = _run(steps, maps, start=split)
        score = output[0, _target_of(output[0], target)]
    gradients, maps = np.asarray(tape.gradient(score, maps))[0], np.asarray(maps)[0]  # (H, W, K) each
    cam = np.maximum((maps * gradients.mean(axis=(0, 1))).sum(axis=-1), 0.0)  # (H, W); numpy: no cold TF kernels
    rows, columns = bilinear_matrix(cam.shape[0]), bilinear_matrix(cam.shape[1])
    return (rows @ cam @ columns.T).astype(np.float32)


def _layer_output(model, image: np.ndarray, layer: str) -> tuple[list[Step], int, object]:
    """The steps, the position just after ``layer`` and that layer's output ``(1, ..., C)`` for one digit."""
    steps = _steps(model)
    split = _index(steps, layer) + 1
    output = _run(steps, _batch(_check_image(image)[None]), stop=split)
    if len(output.shape) < 2:
        raise ValueError(t("why.error.no_channels", layer=layer))
    return steps, split, output


def _masked_answers(steps: list[Step], split: int, output, masks: np.ndarray) -> np.ndarray:
    """Probabilities ``(M, 10)`` with ``output`` multiplied channel-wise by each of ``masks`` ``(M, C)``."""
    shape = (len(masks),) + (1,) * (len(output.shape) - 2) + (masks.shape[1],)  # (M, 1, ..., 1, C)
    return softmax(np.asarray(_run(steps, output * masks.reshape(shape).astype(np.float32), start=split)))


def knockout(model, image: np.ndarray, layer: str, channels: Iterable[int]) -> np.ndarray:
    """The ten probabilities ``(10,)`` with ``channels`` of ``layer``'s output set to 0."""
    steps, split, output = _layer_output(model, image, layer)
    count = output.shape[-1]
    mask = np.ones((1, count))
    for channel in channels:
        if not 0 <= channel < count:
            raise ValueError(t("why.error.channel", channel=channel, layer=layer, last=count - 1))
        mask[0, channel] = 0.0
    return _masked_answers(steps, split, output, mask)[0]


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
    steps, split, output = _layer_output(model, image, layer)
    count = output.shape[-1]
    masks = np.vstack([np.ones((1, count)), 1.0 - np.eye(count)])  # (1 + C, C): nothing off, then each channel
    answers = _masked_answers(steps, split, output, masks)
    return KnockoutRanking(layer, _target_of(answers[0], target), answers[0], answers[1:])


def first_conv_filters(model, index: int | None = None):
    """The first convolution layer, checked: it exists, is a plain Conv2D reading one channel, and has filter
    ``index`` if one is given; ValueError otherwise."""
    import keras

    names = conv_layers(model)
    if not names:
        raise ValueError(t("why.error.no_filters"))
    layer = model.get_layer(names[0])
    if type(layer) is not keras.layers.Conv2D or layer.kernel.shape[2] != 1:
        raise ValueError(t("why.error.filter_table", layer=layer.name))
    if index is not None and not 0 <= index < layer.filters:
        raise ValueError(t("why.error.channel", channel=index, layer=layer.name, last=layer.filters - 1))
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
    layer, steps = first_conv_filters(model, index), _steps(model)
    position = _index(steps, layer.name)
    kernel = np.array(layer.kernel.numpy())  # (k, k, 1, F), a copy
    weights = np.asarray(weights, np.float32)
    if weights.shape != kernel.shape[:2]:
        raise ValueError(t("why.error.kernel_shape", rows=kernel.shape[0], columns=kernel.shape[1],
                           shape=weights.shape))
    kernel[:, :, 0, index] = weights
    x = _run(steps, _batch(_check_image(image)[None]), stop=position)
    maps = _pre_activation(layer, x, kernel)
    maps = layer.activation(maps) if layer.activation is not None else maps  # (1, H, W, F)
    output = _run(steps, maps, start=position + 1)
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


def _target_loss_gradient(steps: list[Step], image: np.ndarray, target: int) -> tuple[np.ndarray, np.ndarray]:
    """The scores ``(10,)`` of ``image`` and d cross-entropy(target) / d pixel ``(28, 28)``."""
    import tensorflow as tf

    x = _batch(image[None])
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(x)
        output = _run(steps, x)
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[target], logits=output)
    return np.asarray(output)[0], tape.gradient(loss, x).numpy()[0, :, :, 0]


def nudge_towards(model, image: np.ndarray, target: int, epsilon: float) -> Nudge:
    """Iterated FGSM: step against the sign of the target's loss gradient, within ``epsilon`` of the digit and
    within [0, 1], until the network answers ``target`` or ``NUDGE_STEPS`` steps are spent."""
    original, target, steps = _check_image(image), _check_digit(target), _steps(model)
    if not 0.0 <= epsilon <= 1.0:
        raise ValueError(t("why.error.epsilon", epsilon=epsilon))
    low, high = np.clip(original - epsilon, 0, 1), np.clip(original + epsilon, 0, 1)
    nudged, step_size, taken = original.copy(), epsilon / NUDGE_STEPS_TO_BUDGET, 0
    output, gradient = _target_loss_gradient(steps, nudged, target)
    while int(np.argmax(output)) != target and taken < NUDGE_STEPS and epsilon > 0:
        nudged = np.clip(nudged - step_size * np.sign(gradient), low, high).astype(np.float32)
        output, gradient = _target_loss_gradient(steps, nudged, target)
        taken += 1
    return Nudge(original, nudged, softmax(output), target, float(epsilon), taken)


def nudge(model, image: np.ndarray, target: int, epsilon: float) -> np.ndarray:
    """``(28, 28)``: the digit nudged towards ``target`` within ``epsilon`` (see ``nudge_towards``)."""
    return nudge_towards(model, image, target, epsilon).image
