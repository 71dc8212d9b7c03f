"""Where the network looked: occlusion, saliency (with SmoothGrad) and Grad-CAM, each a ``(28, 28)`` map.

    occlusion_map(model, image, patch=6, stride=2)  how much hiding each pixel costs the answer
    saliency_map(model, image, target, smooth=0)    |d score / d pixel|, SmoothGrad with smooth > 0
    gradcam_map(model, image, target)               Grad-CAM at the last convolution, upsampled

``target=None`` means the predicted digit. Everything runs eagerly, a batch at a time (see ``cnnlib.explain``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnlib.errors import Refusal
from cnnlib.lessons.why.network import (SIDE, batch, check_digit, check_image, index, last_conv_layer, run, scores,
                                        steps, target_of)
from cnnlib.network.ops import softmax

SMOOTHGRAD_NOISE = 0.15  # SmoothGrad's noise: 15 % of the pixel range, the paper's usual setting
SMOOTHGRAD_SEED = 0  # the same noise on every run, so a map does not flicker when the page reruns


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
        raise Refusal("why.error.patch", patch=patch, stride=stride, side=SIDE)
    starts = list(range(0, SIDE - patch + 1, stride))
    return starts if starts[-1] == SIDE - patch else [*starts, SIDE - patch]


def occlusion(model, image: np.ndarray, patch: int = 6, stride: int = 2, target: int | None = None) -> Occlusion:
    """Hide a blank ``patch`` x ``patch`` square at every position (all in one batch) and record the answers."""
    image = check_image(image)
    starts = patch_starts(patch, stride)
    corners = np.array([(row, column) for row in starts for column in starts])
    hidden = np.repeat(image[None], len(corners) + 1, axis=0)  # (1 + P, 28, 28): the digit, then each hidden patch
    for number, (row, column) in enumerate(corners, start=1):
        hidden[number, row:row + patch, column:column + patch] = 0.0
    answers = softmax(scores(model, hidden))
    target = int(np.argmax(answers[0])) if target is None else check_digit(target)
    lost, covers = np.zeros((SIDE, SIDE)), np.zeros((SIDE, SIDE))
    for (row, column), probability in zip(corners, answers[1:, target]):
        lost[row:row + patch, column:column + patch] += answers[0, target] - probability
        covers[row:row + patch, column:column + patch] += 1
    return Occlusion(lost / covers, corners, answers[1:], patch, target, answers[0])


def occlusion_map(model, image: np.ndarray, patch: int = 6, stride: int = 2) -> np.ndarray:
    """``(28, 28)``: how much the predicted digit's probability drops when a patch hides each pixel."""
    return occlusion(model, image, patch, stride).drop


def _input_gradients(model, images: np.ndarray, target: int | None) -> tuple[np.ndarray, int]:
    """d score[target] / d pixel for each image ``(N, 28, 28)``; ``target=None`` is the first image's prediction."""
    import tensorflow as tf

    found, x = steps(model), batch(images)
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(x)
        output = run(found, x)
        target = target_of(output[0], target)
        total = tf.reduce_sum(output[:, target])
    return tape.gradient(total, x).numpy()[..., 0], target


def saliency_map(model, image: np.ndarray, target: int | None = None, smooth: int = 0) -> np.ndarray:
    """``(28, 28)``: |d score / d pixel|; with ``smooth`` > 0, averaged over that many noisy copies (SmoothGrad)."""
    image = check_image(image)
    noise = np.random.default_rng(SMOOTHGRAD_SEED).normal(0.0, SMOOTHGRAD_NOISE, (smooth, SIDE, SIDE))
    noisy = np.concatenate([image[None], image + noise.astype(np.float32)])  # the digit first: it names the target
    gradients, _ = _input_gradients(model, noisy, target)
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

    found = steps(model)
    split = index(found, last_conv_layer(model)) + 1
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        maps = run(found, batch(check_image(image)[None]), stop=split)  # (1, H, W, K)
        tape.watch(maps)
        output = run(found, maps, start=split)
        score = output[0, target_of(output[0], target)]
    gradients, maps = np.asarray(tape.gradient(score, maps))[0], np.asarray(maps)[0]  # (H, W, K) each
    cam = np.maximum((maps * gradients.mean(axis=(0, 1))).sum(axis=-1), 0.0)  # (H, W); numpy: no cold TF kernels
    rows, columns = bilinear_matrix(cam.shape[0]), bilinear_matrix(cam.shape[1])
    return (rows @ cam @ columns.T).astype(np.float32)
