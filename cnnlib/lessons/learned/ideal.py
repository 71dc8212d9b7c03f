"""Each digit's ideal picture, and each channel's: gradient ascent from a plain grey start, kept readable.

    class_images(model, steps=150, seed=0)           (10, 28, 28)  the ten digits' pictures, one batch
    class_image(model, digit, steps=150, seed=0)     (28, 28)      one digit's
    channel_images(model, layer, channels, ...)      (C, 28, 28)   what each channel of ``layer`` likes most
    channel_image(model, layer, channel, ...)        (28, 28)      one channel's
    score_ranges(model, pictures, images, labels)    [ScoreRange]  each picture's score among real digits' scores

Each picture starts grey (0.1, plus seeded noise of 0.01) and climbs its target, the pre-softmax score of a digit
or the mean value of a channel over its map, with regularisers that keep it a picture rather than noise
(Yosinski et al. 2015; Olah et al. 2017): before each step the picture is shifted at random by up to ``jitter``
pixels (``tf.roll``); the step is the target's gradient divided by its standard deviation (so one step size suits
any model) minus ``total_variation`` times the gradient of the picture's total variation and ``pull`` times the
picture (an L2 pull towards MNIST's black background); every ``blur_every`` steps the picture is blurred by a 3x3
binomial kernel; pixels stay in [0, 1]. The whole step is one traced ``tf.function`` over a batch: the ten digits
climb together. A traced function lives as long as the call that made it (Streamlit clears Keras's session after
every run, see ``cnnlib.lessons.why.explain``), so each call pays for one trace.

Measured on the Fast and stable preset trained 3 epochs on the offline subset (test accuracy 0.986), 150 steps,
seed 0, against its 1,000 test digits. "Above": the share of the real digits of the class whose score is below the
picture's, lowest of the ten digits. "Looks like": the picture's correlation with the mean real digit of its class
(mean of the ten). Total variation (TV) per picture; real digits: 102.

    regularisers                                  read as its digit  above  looks like  TV
    none                                          10/10              1.00   0.15        399  (speckle)
    jitter 2                                      10/10              1.00   0.36        250  (jagged strokes)
    jitter 2, blur every 4 steps                  10/10              0.98   0.61        130
    jitter 2, TV 0.2                              10/10              0.84   0.43        152  (blotches)
    jitter 2, blur every 4, pull 0.05 (chosen)    10/10              0.99   0.57        129
    jitter 2, blur every 4, pull 0.02, TV 0.2     10/10              0.63   0.57        114
    jitter 3, blur every 4, pull 0.02             10/10              0.09   0.61        131
    jitter 2, blur every 4, pull 0.5              10/10              0.20   0.51        108

Jitter and blur make the strokes; total variation adds little to blur and lowers the score; a small pull darkens the
background at almost no cost, a large one fades the strokes. With the chosen settings, seeds 0-2, every picture is
read as its digit; the lowest "above" is 0.92-0.98 on the small networks of tests/test_learned.py (0.962), and 0.99
on the preset except for the digit 1, whose real digits score high (0.43 and 0.70 with seeds 1 and 2). A channel of
a convolution or dense layer climbs its value after the ReLU plus ``LEAK`` times its value before (a channel the
ReLU keeps at 0 on a grey picture has no gradient otherwise): 97-100 % of the channels of the preset's conv1, conv2,
dense1 and dense2 end above their start (after the ReLU alone: 61-72 % of dense units). Ten pictures take 2.3-3.4 s
here with the step traced, 10.5 s with the same step run eagerly (``bench/learned_speed.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnlib.errors import Refusal
from cnnlib.lessons.learned.examples import check_images, in_batches
from cnnlib.lessons.why.network import (DIGITS, SIDE, Step, batch, check_digit, explained_layers, index,
                                        pre_activation, run)
from cnnlib.lessons.why.network import steps as network_steps
from cnnlib.network.layers import CONV, WEIGHTED

START_GREY, START_NOISE = 0.1, 0.01  # the plain start: grey 0.1, plus seeded normal noise of this size
MAX_STEPS = 2000  # a longer climb changes nothing a learner can see
LEAK = 0.01  # a weighted layer's channel climbs its value after the activation plus this much of it before
MAX_CHANNELS = 512  # channel pictures made at once at most (one batch)


@dataclass(frozen=True)
class Ascent:
    """How a picture climbs its target, and what keeps it readable."""

    rate: float = 0.05  # each step moves a pixel by about this much (the gradient over its standard deviation)
    jitter: int = 2  # the picture is shifted by up to this many pixels each way before each step
    total_variation: float = 0.0  # weight of the total-variation gradient (neighbours alike)
    pull: float = 0.05  # weight of the L2 pull towards 0 (black)
    blur_every: int = 4  # a 3x3 binomial blur every this many steps (0: never)


DEFAULT_ASCENT = Ascent()


def _check_steps(count: int) -> int:
    """``count`` if it is a whole number of steps from 1 to ``MAX_STEPS``; a Refusal otherwise."""
    if int(count) != count or not 1 <= count <= MAX_STEPS:
        raise Refusal("learned.error.steps", steps=count, most=MAX_STEPS)
    return int(count)


def plain_start(count: int, seed: int) -> np.ndarray:
    """``count`` plain grey pictures ``(count, 28, 28)`` with a little seeded noise."""
    noise = np.random.default_rng(seed).normal(0.0, START_NOISE, (count, SIDE, SIDE))
    return np.clip(START_GREY + noise, 0.0, 1.0).astype(np.float32)


def _channel_means(output):
    """A layer's output ``(B, ..., C)`` averaged over its map: ``(B, C)``."""
    import tensorflow as tf

    return tf.reduce_mean(output, axis=list(range(1, len(output.shape) - 1))) if len(output.shape) > 2 else output


def _target_values(found: list[Step], stop: int, last, x, targets):
    """Each picture's target ``(B,)``: the mean over the map of channel ``targets[b]`` of the output of
    ``found[:stop]``; when ``last`` (that Keras layer) has weights, plus ``LEAK`` times the same before its
    activation, so that a channel its ReLU keeps at 0 still has a way up."""
    import tensorflow as tf

    if last is None:
        return tf.gather(_channel_means(run(found, x, stop=stop)), targets, axis=1, batch_dims=1)
    before = pre_activation(last, run(found, x, stop=stop - 1))
    after = last.activation(before) if last.activation is not None else before
    value = _channel_means(after) + LEAK * _channel_means(before)
    return tf.gather(value, targets, axis=1, batch_dims=1)


def _blurred(x):
    """``x`` ``(B, 28, 28, 1)`` blurred by the 3x3 binomial kernel [1, 2, 1] x [1, 2, 1] / 16, zeros outside."""
    import tensorflow as tf

    row = tf.constant([1.0, 2.0, 1.0]) / 4.0
    kernel = tf.reshape(row[:, None] * row[None, :], (3, 3, 1, 1))
    return tf.nn.conv2d(x, kernel, strides=1, padding="SAME")


def _climb(found: list[Step], stop: int, last, targets: np.ndarray, count: int, seed: int, ascent: Ascent):
    """Pictures ``(B, 28, 28)`` climbing ``targets`` ``(B,)`` for ``count`` steps (one traced step per call)."""
    import tensorflow as tf

    targets = tf.constant(targets, tf.int32)

    @tf.function
    def step(x, shift, blur):
        """One step up from pictures ``x`` ``(B, 28, 28, 1)`` seen shifted by ``shift``, blurred after if ``blur``."""
        shifted = tf.roll(x, shift, axis=[1, 2])
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(shifted)
            value = tf.reduce_sum(_target_values(found, stop, last, shifted, targets))
            variation = tf.reduce_sum(tf.image.total_variation(shifted))
        climb = tape.gradient(value, shifted)
        smooth = tape.gradient(variation, shifted)
        climb = climb / (tf.math.reduce_std(climb, axis=[1, 2, 3], keepdims=True) + 1e-8)
        move = tf.roll(climb - ascent.total_variation * smooth, -shift, axis=[1, 2]) - ascent.pull * x
        x = x + ascent.rate * move
        x = tf.cond(blur, lambda: _blurred(x), lambda: x)
        return tf.clip_by_value(x, 0.0, 1.0)

    x = batch(plain_start(len(targets), seed))
    shifts = np.random.default_rng(seed).integers(-ascent.jitter, ascent.jitter + 1, (count, 2))
    for number, shift in enumerate(shifts, start=1):
        blur = ascent.blur_every > 0 and number % ascent.blur_every == 0 and number < count
        x = step(x, tf.constant(shift, tf.int32), tf.constant(blur))
    return x.numpy()[..., 0]


def class_images(model, steps: int = 150, seed: int = 0, ascent: Ascent = DEFAULT_ASCENT) -> np.ndarray:
    """``(10, 28, 28)`` in [0, 1]: picture d climbs digit d's pre-softmax score; the ten climb in one batch."""
    found = network_steps(model)
    return _climb(found, len(found), None, np.arange(DIGITS), _check_steps(steps), seed, ascent)


def class_image(model, digit: int, steps: int = 150, seed: int = 0, ascent: Ascent = DEFAULT_ASCENT) -> np.ndarray:
    """``(28, 28)`` in [0, 1]: the picture that climbed ``digit``'s pre-softmax score from a plain grey start."""
    found = network_steps(model)
    digits = np.array([check_digit(digit)])
    return _climb(found, len(found), None, digits, _check_steps(steps), seed, ascent)[0]


def _channel_target(model, layer: str) -> tuple[list[Step], int, object, int]:
    """The steps, the position after ``layer``, the Keras layer when it has weights and an activation (a convolution
    or a dense layer before the scores: ``LEAK`` climbs it before its activation too), and how many channels it has."""
    found = network_steps(model)
    stop = index(found, layer) + 1
    kinds = {item.name: entry.explain for item, entry in explained_layers(model)}
    weighted = kinds.get(layer) in (CONV, WEIGHTED) and stop < len(found)  # the scores are climbed as they are
    last = model.get_layer(layer) if weighted else None
    output_shape = run(found, batch(plain_start(1, 0)), stop=stop).shape
    return found, stop, last, int(output_shape[-1])


def channel_images(model, layer: str, channels, steps: int = 150, seed: int = 0,
                   ascent: Ascent = DEFAULT_ASCENT) -> np.ndarray:
    """``(C, 28, 28)`` in [0, 1]: for each of ``channels`` of ``layer`` (its Keras name), the picture that climbed
    that channel's mean value over its map (a dense layer's unit: its value), all in one batch."""
    found, stop, last, count = _channel_target(model, layer)
    channels = np.asarray(channels, int).reshape(-1)
    if len(channels) == 0:
        return np.zeros((0, SIDE, SIDE), np.float32)
    for channel in channels:
        if not 0 <= channel < count:
            raise Refusal("why.error.channel", channel=int(channel), layer=layer, last=count - 1)
    if len(channels) > MAX_CHANNELS:
        raise Refusal("learned.error.channels", count=len(channels), most=MAX_CHANNELS)
    return _climb(found, stop, last, channels, _check_steps(steps), seed, ascent)


def channel_image(model, layer: str, channel: int, steps: int = 150, seed: int = 0,
                  ascent: Ascent = DEFAULT_ASCENT) -> np.ndarray:
    """``(28, 28)`` in [0, 1]: the picture that climbed the mean value of ``channel`` of ``layer`` over its map."""
    return channel_images(model, layer, [channel], steps, seed, ascent)[0]


@dataclass(frozen=True)
class ScoreRange:
    """An ideal picture's pre-softmax score for its digit against the scores of the real digits of that class."""

    digit: int
    score: float  # the ideal picture's
    lowest: float  # the real digits' lowest, median and highest
    median: float
    highest: float
    share_below: float  # the share of the real digits whose score is below the picture's

    def __repr__(self) -> str:
        return (f"ScoreRange({self.digit}: {self.score:.1f} against {self.lowest:.1f}..{self.median:.1f}.."
                f"{self.highest:.1f}, above {self.share_below:.0%})")


def real_scores(model, images: np.ndarray) -> np.ndarray:
    """``(N, 10)``: the pre-softmax scores of ``images`` ``(N, 28, 28)``, ``TEST_BATCH`` digits at a time."""
    found = network_steps(model)
    return in_batches(check_images(images), lambda x: np.asarray(run(found, x)))


def score_range(digit: int, score: float, class_scores: np.ndarray) -> ScoreRange:
    """Where ``score`` lies among ``class_scores`` ``(n,)``, the real digits' scores for ``digit``."""
    if len(class_scores) == 0:
        return ScoreRange(digit, float(score), *(float("nan"),) * 3, float("nan"))
    lowest, median, highest = np.percentile(class_scores, [0, 50, 100])
    return ScoreRange(digit, float(score), float(lowest), float(median), float(highest),
                      float(np.mean(class_scores < score)))


def score_ranges(model, pictures: np.ndarray, images: np.ndarray, labels: np.ndarray) -> list[ScoreRange]:
    """For each digit d, picture d's score for d (``pictures`` ``(10, 28, 28)``, ``class_images``'s answer) against
    the scores for d of the real digits ``images`` labelled d (the test digits)."""
    labels, found = np.asarray(labels), real_scores(model, images)
    mine = real_scores(model, pictures)
    return [score_range(digit, mine[digit, digit], found[labels == digit, digit]) for digit in range(DIGITS)]


def class_score_range(model, picture: np.ndarray, images: np.ndarray, labels: np.ndarray, digit: int) -> ScoreRange:
    """``picture``'s score for ``digit`` (``class_image``'s answer) against the real digits of that class."""
    digit, labels = check_digit(digit), np.asarray(labels)
    mine = real_scores(model, np.asarray(picture)[None])[0, digit]
    of_class = np.asarray(images)[labels == digit]
    return score_range(digit, mine, real_scores(model, of_class)[:, digit] if len(of_class) else np.empty(0))
