"""The confusion matrix down to its digits: which test digits sit in a cell, and how sure the network was.

    answers(model, images)                                        (N, 10)  each digit's ten probabilities
    confusion_matrix(labels, predicted)                           (10, 10) rows true, columns predicted
    confusion_cell(labels, predicted, true_digit, predicted_digit)  (n,)   the digits in one cell
    cell_digits(labels, probabilities, true_digit, predicted_digit)  CellDigits, the surest first

The Train page's matrix (``cnnlib.training.trainer.evaluate``) counts the same way: rows are the true digit,
columns the predicted one (the highest score, dropout off).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnlib.lessons.learned.examples import in_batches, check_images
from cnnlib.lessons.why.network import DIGITS, check_digit, run, steps
from cnnlib.network.ops import softmax

CELL_DIGITS_SHOWN = 30  # digits of one cell shown at most (a cell of a poor model can hold hundreds)


def answers(model, images: np.ndarray) -> np.ndarray:
    """``(N, 10)``: the ten probabilities of each digit ``(N, 28, 28)`` in [0, 1] (softmax of the pre-softmax
    scores), ``TEST_BATCH`` digits at a time."""
    found = steps(model)
    return in_batches(check_images(images), lambda x: softmax(np.asarray(run(found, x))))


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """``(10, 10)`` counts: row = true digit, column = predicted digit. Example: labels 3, 3 and predicted 3, 5
    put 1 at [3, 3] and 1 at [3, 5]."""
    labels, predicted = np.asarray(labels, int), np.asarray(predicted, int)
    return np.bincount(labels * DIGITS + predicted, minlength=DIGITS * DIGITS).reshape(DIGITS, DIGITS)


def confusion_cell(labels: np.ndarray, predicted: np.ndarray, true_digit: int, predicted_digit: int) -> np.ndarray:
    """The indices of the digits whose label is ``true_digit`` and whose prediction is ``predicted_digit`` (one
    cell of the confusion matrix), in the order of the test set."""
    wanted = (np.asarray(labels) == check_digit(true_digit)) & (np.asarray(predicted) == check_digit(predicted_digit))
    return np.flatnonzero(wanted)


@dataclass(frozen=True, repr=False)
class CellDigits:
    """The digits of one confusion-matrix cell, the surest answers first, with their probabilities."""

    true_digit: int
    predicted_digit: int
    indices: np.ndarray  # (n,): test-set indices, at most ``limit`` of them
    probabilities: np.ndarray  # (n, 10): each digit's ten probabilities
    count: int  # how many digits the cell holds in all

    def __repr__(self) -> str:
        return f"CellDigits({self.true_digit} -> {self.predicted_digit}, shown={len(self.indices)}, count={self.count})"

    @property
    def confidence(self) -> np.ndarray:
        """``(n,)``: each digit's probability of the predicted digit (how sure the network was)."""
        return self.probabilities[:, self.predicted_digit]


def cell_digits(labels: np.ndarray, probabilities: np.ndarray, true_digit: int, predicted_digit: int,
                limit: int = CELL_DIGITS_SHOWN) -> CellDigits:
    """The digits of one cell (``probabilities`` ``(N, 10)`` from ``answers``), the most probable answer first."""
    probabilities = np.asarray(probabilities)
    cell = confusion_cell(labels, np.argmax(probabilities, axis=1), true_digit, predicted_digit)
    surest = cell[np.argsort(-probabilities[cell, predicted_digit], kind="stable")][:max(int(limit), 0)]
    return CellDigits(int(true_digit), int(predicted_digit), surest, probabilities[surest], len(cell))
