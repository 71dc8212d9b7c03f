"""Every model tested on the class's digits (classroom mode) or the learner's own (otherwise), beside its test
accuracy: the Draw page's model, Saved models and a finished run's results.

The digits are read once per version of their files and every model's answers kept per model file
(``cnnlib.classroom.scores``), both in ``CLASS_CACHE``, bounded in bytes: a page run that changes nothing costs a
few ``stat`` calls; a new digit costs one prediction per model shown.
"""

import streamlit as st

from cnnlib.classroom.digits import Digits, class_digits, digits_version
from cnnlib.classroom.scores import ClassScore, known_score, model_score
from cnnlib.classroom.words import misread_titles, score_caption, score_cell, scope
from cnnlib.errors import Refusal
from cnnlib.figures.grids import image_grid
from cnnlib.server.cache import ByteCache
from cnnlib.store.saved import SavedModel, find_model, models_dir
from cnnlib.store.workspace import classroom_mode
from cnnlib.text import t
from pages import workspace_folders
from pages.parts.models import saved_keras_model

CLASS_CACHE = ByteCache(64 * 2**20)  # the class's digits (about 0.8 KB each) and every model's answers (9 B each)
MISREAD_SHOWN = 60


def current_digits() -> Digits:
    """The digits every model is tested on, as they are now: the class's, or the single workspace's."""
    root = models_dir()
    return CLASS_CACHE.get(("digits", str(root), classroom_mode(), digits_version(root)),
                           lambda: class_digits(root), size=lambda digits: digits.nbytes)


def score_of(model: SavedModel, digits: Digits) -> ClassScore | Refusal | None:
    """The model's score on ``digits`` (None without digits; a Refusal for a model that cannot be read)."""
    return model_score(CLASS_CACHE, model.path, model.modified, digits, lambda: saved_keras_model(model))


def score_panel(model: SavedModel | None, key: str, where=st) -> None:
    """Beside a model's test accuracy: how many of the digits it reads right, and the misread ones on request (a
    chart with key ``<key>_misread``). Nothing without a model or without digits."""
    digits = current_digits()
    if model is None or not len(digits):
        return
    score = score_of(model, digits)
    where.caption(score_caption(score))
    if isinstance(score, ClassScore) and score.misread:
        shown = score.misread[:MISREAD_SHOWN]
        with where.expander(t("classroom.score.misread", count=len(score.misread), shown=len(shown))):
            st.plotly_chart(image_grid(digits.images[[index for index, _, _ in shown]], misread_titles(score),
                                       columns=10, zmin=0, zmax=255, tile_px=70), key=f"{key}_misread")


def run_score_panel(model_name: str | None, where=st) -> None:
    """A finished run's model tested on the digits (``score_panel``), found among the learner's models."""
    model = find_model(model_name, *workspace_folders()) if model_name else None
    score_panel(model, "train_result", where)


def with_scores(rows: list[dict], models: list[SavedModel], chosen_key: str | None) -> tuple[list[dict], str | None]:
    """The Saved models table with a column of scores on the digits: the chosen model's is worked out, the others'
    shown when already known (choosing one tests it). The rows and the column's name (None: no digits, no column)."""
    digits = current_digits()
    if not len(digits):
        return rows, None
    column = t(f"classroom.score.column.{scope()}")
    cells = [score_cell(score_of(model, digits) if model.key == chosen_key else
                        known_score(CLASS_CACHE, model.path, model.modified, digits)) for model in models]
    return [{**row, column: cell} for row, cell in zip(rows, cells)], column
