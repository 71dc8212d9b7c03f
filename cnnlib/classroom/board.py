"""The teacher's board as data: every learner's work, their best model, the leaderboard, the class's digits by label.

A learner's best model is the one with the highest test accuracy on its card (an uploaded model has none: without
any, the newest); its score on the class's digits comes from whatever the page gives as ``score``. Tables are lists
of rows whose column names are in the teacher's language.

    work = class_work(models_root, digits)
    learners_table(work, scores), leaderboard(work, scores), shared_table(models, scores)
    remove_class_digits(models_root, ["abcdefghjkmn:1f3a…"])     digits chosen on the board, by their option values
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnlib.classroom.digits import Digits, remove_digits
from cnnlib.classroom.scores import ClassScore
from cnnlib.classroom.words import score_cell
from cnnlib.errors import Refusal
from cnnlib.store.saved import SavedModel, list_models
from cnnlib.store.workspace import LEARNERS_DIR, is_workspace_id, learner_folders, workspace
from cnnlib.text import t

Score = ClassScore | Refusal | None
LEARNER_COLUMNS = ("learner", "models", "best", "class_digits", "drawn", "recipe")
LEADER_COLUMNS = ("rank", "learner", "class_digits", "best", "model")
SHARED_COLUMNS = ("name", "test", "class_digits")


@dataclass(frozen=True)
class LearnerWork:
    """One learner's workspace as the board sees it: their models and how many class digits they drew."""

    id: str
    models: tuple[SavedModel, ...]
    drawn: int

    @property
    def best(self) -> SavedModel | None:
        """The model with the best test accuracy on its card; without any, the newest; None without models."""
        rated = [model for model in self.models if test_accuracy(model) is not None]
        return max(rated, key=test_accuracy) if rated else (self.models[0] if self.models else None)


def test_accuracy(model: SavedModel | None) -> float | None:
    """The test accuracy a model's card records, when it is a number."""
    value = None if model is None else model.metadata.get("test_accuracy")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def class_work(models_root: Path, digits: Digits) -> list[LearnerWork]:
    """Every learner who stored something, by workspace id."""
    drawn = dict(zip(*np.unique(np.array(digits.owners, dtype=object), return_counts=True))) if len(digits) else {}
    folders = sorted(folder for folder in learner_folders(models_root / LEARNERS_DIR) if is_workspace_id(folder.name))
    return [LearnerWork(folder.name, tuple(list_models(folder)), int(drawn.get(folder.name, 0))) for folder in folders]


def recipe_text(model: SavedModel | None) -> str:
    """How a model's card says it was made, plain (a table cell): its network, and its rate, batch and epochs."""
    if model is None:
        return "–"
    recipe = model.metadata.get("hyperparameters")
    if not isinstance(recipe, dict):
        return t("classroom.board.uploaded")
    layers = recipe.get("layers")
    network = (t("classroom.board.network.custom", layers=layers) if isinstance(layers, str) and layers.strip()
               else t("classroom.board.network.tutorial"))
    try:
        return t("classroom.board.recipe", network=network, learning_rate=float(recipe["learning_rate"]),
                 batch_size=int(recipe["batch_size"]), epochs=int(model.metadata.get("epochs_completed") or 0))
    except (KeyError, TypeError, ValueError):  # a card written by hand or by an older app
        return network


def _percent(value: float | None) -> str:
    """A test accuracy as the board shows it."""
    return "–" if value is None else f"{value:.2%}"


def _row(columns: Iterable[str], values: Iterable[object]) -> dict:
    """One table row, its column names in the teacher's language."""
    return dict(zip((t(f"classroom.board.column.{column}") for column in columns), values))


def learners_table(work: list[LearnerWork], scores: Mapping[str, Score]) -> list[dict]:
    """A row per learner: id, models, best test accuracy, its class-digit score, digits drawn, its recipe."""
    return [_row(LEARNER_COLUMNS, (learner.id, len(learner.models), _percent(test_accuracy(learner.best)),
                                   score_cell(scores.get(learner.id)), learner.drawn, recipe_text(learner.best)))
            for learner in work]


def leaderboard(work: list[LearnerWork], scores: Mapping[str, Score]) -> list[dict]:
    """Learners with a model, best first: by their best model's class-digit accuracy, then its test accuracy."""
    def standing(learner: LearnerWork) -> tuple[float, float]:
        """Class-digit accuracy, then test accuracy; -1 where there is none."""
        score = scores.get(learner.id)
        return (score.accuracy if isinstance(score, ClassScore) else -1.0, test_accuracy(learner.best) or -1.0)

    ranked = sorted((learner for learner in work if learner.best is not None), key=standing, reverse=True)
    return [_row(LEADER_COLUMNS, (rank, learner.id, score_cell(scores.get(learner.id)),
                                  _percent(test_accuracy(learner.best)), learner.best.name))
            for rank, learner in enumerate(ranked, start=1)]


def shared_table(models: list[SavedModel], scores: Mapping[str, Score]) -> list[dict]:
    """A row per shared model: its name, test accuracy and class-digit score."""
    return [_row(SHARED_COLUMNS, (model.name, _percent(test_accuracy(model)), score_cell(scores.get(model.key))))
            for model in models]


def by_label(digits: Digits) -> dict[int, np.ndarray]:
    """The digits' indices for each label 0-9 that has any."""
    return {label: np.flatnonzero(digits.labels == label) for label in range(10) if (digits.labels == label).any()}


def digit_value(digits: Digits, index: int) -> str:
    """A class digit as a choice's value: whose it is and its id, ``abcdefghjkmn:1f3a…``."""
    return f"{digits.owners[index]}:{int(digits.uids[index]):x}"


def parse_digit_value(value: str) -> tuple[str, int]:
    """``digit_value`` read back; a Refusal for anything the board did not offer."""
    owner, _, uid = str(value).partition(":")
    if not is_workspace_id(owner) or not 0 < len(uid) <= 16 or any(c not in "0123456789abcdef" for c in uid):
        raise Refusal("classroom.digits.already_removed")
    return owner, int(uid, 16)


def remove_class_digits(models_root: Path, values: Iterable[str]) -> int:
    """Remove the chosen class digits from their learners' sets; how many were removed."""
    chosen: dict[str, list[int]] = {}
    for owner, uid in map(parse_digit_value, values):
        chosen.setdefault(owner, []).append(uid)
    if not chosen:
        raise Refusal("classroom.board.digits.none_chosen")
    removed = 0
    for owner, uids in chosen.items():
        try:
            removed += remove_digits(workspace(owner, models_root), uids)
        except Refusal:  # that learner's were removed meanwhile: the others still go
            continue
    if not removed:
        raise Refusal("classroom.digits.already_removed")
    return removed


def model_value(owner: str, model: SavedModel) -> str:
    """A learner's model as a choice's value: ``abcdefghjkmn/name``."""
    return f"{owner}/{model.name}"


def parse_model_value(value: str) -> tuple[str, str]:
    """``model_value`` read back; a Refusal for anything the board did not offer."""
    owner, _, name = str(value).partition("/")
    if not is_workspace_id(owner) or not name:
        raise Refusal("models.error.no_such_model", name=name[:100])
    return owner, name
