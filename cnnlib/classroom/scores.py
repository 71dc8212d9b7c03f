"""How well a model reads the class's digits: "class digits: 27 of 30", and which ones it misread.

Each digit is predicted once per model file: a model's answers are kept by digit id under its file's path and
modification time (``Predictions`` in a byte-bounded ``ByteCache``), so a new digit costs one prediction per model
and a removed one nothing; a model saved again under the same name is asked again. A score is then counted from
the kept answers, for whatever set of digits a page shows (the class's now, at its version).

    score = model_score(book, path, modified, digits, load=lambda: load_model(path))
    score.correct, score.total, score.misread      # 27, 30, ((4, 7, 1), ...): (index in digits, label, answer)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnlib.classroom.digits import Digits
from cnnlib.errors import Refusal
from cnnlib.server.cache import ByteCache

PREDICT_BATCH = 500  # digits a model reads at a time: (500, 28, 28, 1) float32 is 1.6 MB
NO_ANSWER = -1


@dataclass(frozen=True, repr=False)
class Predictions:
    """One model file's answers, by digit id: ``uids`` sorted, ``answers`` the digit it said for each."""

    uids: np.ndarray  # (N,) uint64, sorted
    answers: np.ndarray  # (N,) int8

    def __repr__(self) -> str:
        return f"Predictions({len(self.uids)} digits)"

    @classmethod
    def none(cls) -> Predictions:
        """No answers yet."""
        return cls(np.zeros(0, np.uint64), np.zeros(0, np.int8))

    @property
    def nbytes(self) -> int:
        """What the answers hold in memory."""
        return self.uids.nbytes + self.answers.nbytes + 200

    def lookup(self, uids: np.ndarray) -> np.ndarray:
        """The answer for each of ``uids``, ``NO_ANSWER`` where this model was not asked yet."""
        places = np.minimum(np.searchsorted(self.uids, uids), max(len(self.uids) - 1, 0))
        if not len(self.uids):
            return np.full(len(uids), NO_ANSWER, np.int8)
        return np.where(self.uids[places] == uids, self.answers[places], NO_ANSWER).astype(np.int8)

    def merged(self, uids: np.ndarray, answers: np.ndarray) -> Predictions:
        """These answers and the new ones (a new answer for a known id wins)."""
        keep = ~np.isin(self.uids, uids)
        all_uids = np.concatenate([self.uids[keep], np.asarray(uids, np.uint64)])
        all_answers = np.concatenate([self.answers[keep], np.asarray(answers, np.int8)])
        order = np.argsort(all_uids, kind="stable")
        return Predictions(all_uids[order], all_answers[order])


@dataclass(frozen=True)
class ClassScore:
    """How many digits of a set a model read right, and the misread ones: (index in the set, label, its answer)."""

    correct: int
    total: int
    misread: tuple[tuple[int, int, int], ...]

    @property
    def accuracy(self) -> float:
        """The share read right (0 for an empty set)."""
        return self.correct / self.total if self.total else 0.0

    @classmethod
    def of(cls, labels: np.ndarray, answers: np.ndarray) -> ClassScore:
        """The score of ``answers`` against ``labels``."""
        wrong = np.flatnonzero(np.asarray(answers) != np.asarray(labels))
        return cls(len(labels) - len(wrong), len(labels),
                   tuple((int(index), int(labels[index]), int(answers[index])) for index in wrong))


def predict_digits(model, images: np.ndarray) -> np.ndarray:
    """The digit a Keras model says for each of ``images`` (N, 28, 28) uint8, a batch at a time, dropout off;
    the model's input may be ``(28, 28, 1)`` or ``(28, 28)``. Example: 30 digits -> (30,) int8."""
    shape = tuple(model.input_shape[1:])
    answers = []
    for start in range(0, len(images), PREDICT_BATCH):
        batch = images[start:start + PREDICT_BATCH].astype(np.float32) / np.float32(255)
        scores = model(batch.reshape(len(batch), *shape), training=False)  # (n, 10)
        scores = scores.numpy() if hasattr(scores, "numpy") else np.asarray(scores)
        answers.append(np.argmax(scores, axis=1).astype(np.int8))
    return np.concatenate(answers) if answers else np.zeros(0, np.int8)


def _key(path: str | Path, modified: float) -> tuple:
    """Where a model file's answers are kept."""
    return ("class_predictions", str(path), float(modified))


def known_score(book: ByteCache, path: str | Path, modified: float, digits: Digits) -> ClassScore | None:
    """The model's score on ``digits`` when it has answered every one of them already, else None (nothing loaded)."""
    kept = book.peek(_key(path, modified))
    if not len(digits) or not isinstance(kept, Predictions):
        return None
    answers = kept.lookup(digits.uids)
    return None if (answers == NO_ANSWER).any() else ClassScore.of(digits.labels, answers)


def model_score(book: ByteCache, path: str | Path, modified: float, digits: Digits,
                load: Callable[[], object]) -> ClassScore | Refusal | None:
    """The model's score on ``digits`` (None without digits), asking it only about digits it has not answered;
    ``load()`` gives the Keras model (or the Refusal saying why it cannot be read, which is returned)."""
    if not len(digits):
        return None
    kept = book.peek(_key(path, modified))
    kept = kept if isinstance(kept, Predictions) else Predictions.none()
    answers = kept.lookup(digits.uids)
    if (missing := answers == NO_ANSWER).any():
        model = load()
        if isinstance(model, Refusal):
            return model
        kept = kept.merged(digits.uids[missing], predict_digits(model, digits.images[missing]))
        book.put(_key(path, modified), kept, kept.nbytes)
        answers = kept.lookup(digits.uids)
    return ClassScore.of(digits.labels, answers)
