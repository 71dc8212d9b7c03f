"""The tutorial recipe's failure signs in a run's progress, as data: exploding, exploded, at chance, dead digits.

    smoothed(progress.batch_costs)    # the bold trend of the cost curve
    diagnose(progress)                # [Diagnosis(Sign.EXPLODING, "exploding", {...})], most serious first

``cnnlib.training.sentences`` words each finding in the learner's language when the page shows it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from cnnlib.training.progress import Progress

CHANCE_COST = math.log(10)  # cross-entropy of guessing each of 10 digits with probability 1/10: 2.30
EXPLODING_COST = 4 * CHANCE_COST  # a healthy run starts near 2.30 and only goes down
CHANCE_ACCURACY = 0.2
MIN_COST = 1e-12  # a batch's recovered cost can round to 0 (or just below); logs need a floor


def smoothed(costs: Sequence[float], weight: float = 0.9) -> list[float]:
    """Bias-corrected exponential moving average of log(cost), back as a cost: a running geometric mean.

    In log space the trend drawn on the log axis follows the batches instead of lagging for dozens of batches
    behind an early cost of 500. ``smoothed([2, 2, 2]) == [2, 2, 2]``; the first value is always the first cost.
    """
    result, average = [], 0.0
    for index, cost in enumerate(costs, start=1):
        average = weight * average + (1 - weight) * math.log(max(cost, MIN_COST))
        result.append(math.exp(average / (1 - weight**index)))
    return result


class Sign(StrEnum):
    """The kinds of trouble ``diagnose`` finds, most serious first."""

    EXPLODING = "exploding"  # the cost is huge now
    EXPLODED = "exploded"  # it was huge earlier and came down
    CHANCE = "chance"  # accuracy near 10%, or the cost stuck at ln 10
    DEAD = "dead"  # some digits are never predicted


@dataclass(frozen=True)
class Diagnosis:
    """One sign that a run is not learning well: its kind, the sentence that tells it (``train.diagnosis.<reason>``)
    and the numbers that sentence needs."""

    kind: Sign
    reason: str
    values: dict = field(default_factory=dict)


def diagnose(progress: Progress) -> list[Diagnosis]:
    """The tutorial recipe's failure signs in ``progress``, most serious first; empty while the run looks healthy."""
    costs = progress.batch_costs
    if any(not math.isfinite(cost) for cost in costs):
        return [Diagnosis(Sign.EXPLODING, "diverged")]
    findings = [_cost_sign(costs), _chance_sign(progress), _dead_sign(progress.confusion)]
    return [finding for finding in findings if finding is not None]


def _cost_sign(costs: Sequence[float]) -> Diagnosis | None:
    """Exploding (the trend is far above chance now) or exploded (three batches were, earlier)."""
    trend = smoothed(costs)
    if len(costs) >= 5 and trend[-1] > EXPLODING_COST:
        return Diagnosis(Sign.EXPLODING, "exploding", {"cost": trend[-1], "times": trend[-1] / CHANCE_COST,
                                                       "chance": CHANCE_COST})
    if sum(cost > EXPLODING_COST for cost in costs) >= 3:
        return Diagnosis(Sign.EXPLODED, "exploded", {"peak": max(costs), "times": max(costs) / CHANCE_COST,
                                                     "chance": CHANCE_COST})
    return None


def _chance_sign(progress: Progress) -> Diagnosis | None:
    """Validation accuracy no better than guessing, or the cost stuck at ln 10."""
    accuracies, costs = progress.val_accuracies, progress.batch_costs
    if accuracies and accuracies[-1] is not None and accuracies[-1] <= CHANCE_ACCURACY:
        return Diagnosis(Sign.CHANCE, "chance_accuracy", {"accuracy": accuracies[-1], "epochs": len(accuracies)})
    if len(costs) >= 100 and abs(sum(costs[-50:]) / 50 - CHANCE_COST) < 0.05:
        return Diagnosis(Sign.CHANCE, "chance_cost", {"chance": CHANCE_COST})
    return None


def _dead_sign(confusion: list[list[int]] | None) -> Diagnosis | None:
    """Digits the finished run never predicts (a column of the confusion matrix that is all zeros)."""
    if confusion is None:
        return None
    never = tuple(digit for digit, count in enumerate(np.sum(confusion, axis=0)) if count == 0)
    return Diagnosis(Sign.DEAD, "dead", {"digits": never}) if never else None
