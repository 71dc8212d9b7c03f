"""The Why this answer? page's sentences built from data: which digit the maps explain, what switching maps off or
editing a filter did, and how a nudge ended."""

from __future__ import annotations

import numpy as np

from cnnlib.lessons.why.explain import FilterEdit, Nudge
from cnnlib.text import t


def target_caption(probabilities: np.ndarray, target: int) -> str:
    """Which digit's score the maps explain: the predicted one ("why it says 7") or another ("why not 3?")."""
    if target == int(np.argmax(probabilities)):
        return t("why.answer.explaining_predicted", digit=target)
    return t("why.answer.explaining_other", digit=target, probability=probabilities[target])


def knockout_caption(layer: str, channels: list[int], after: np.ndarray) -> str:
    """What the network answers with ``channels`` of ``layer`` switched off, or how to start."""
    if not channels:
        return t("why.knockout.caption_none")
    answer = int(np.argmax(after))
    return t("why.knockout.caption", layer=layer, answer=answer, probability=after[answer])


def filter_caption(edit: FilterEdit, trained: np.ndarray) -> str:
    """The answer with the edited filter beside the answer with the trained one."""
    answer, before = int(np.argmax(edit.probabilities)), int(np.argmax(trained))
    return t("why.filter.caption", answer=answer, probability=edit.probabilities[answer], trained=before,
             trained_probability=trained[before])


def nudge_outcome(nudge: Nudge) -> tuple[str, str]:
    """How a nudge ended, as (kind, sentence); kind is "info" (nothing to do), "success" or "warning" (not reached)."""
    if nudge.reached and nudge.steps == 0:
        return "info", t("why.nudge.already", target=nudge.target)
    if nudge.reached:
        return "success", t("why.nudge.reached", steps=nudge.steps, change=float(np.abs(nudge.change).max()),
                            target=nudge.target, probability=nudge.probabilities[nudge.target])
    return "warning", t("why.nudge.missed", epsilon=nudge.epsilon, answer=int(np.argmax(nudge.probabilities)),
                        target=nudge.target)
