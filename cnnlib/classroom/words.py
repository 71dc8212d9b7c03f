"""The sentences around the class's digits, built from the data: scores, what was added, the choices offered.

In classroom mode the digits are the class's ("class digits: 27 of 30"); without it, the one workspace's own
("your digits: 27 of 30"): ``scope()`` says which, and every sentence here takes it.
"""

from __future__ import annotations

from cnnlib.classroom.digits import Digits
from cnnlib.classroom.scores import ClassScore
from cnnlib.errors import Refusal
from cnnlib.store.saved import SavedModel
from cnnlib.store.workspace import classroom_mode
from cnnlib.text import t

SHORT_ID = 5  # characters of a workspace id under a digit on the teacher's board


def scope() -> str:
    """``class`` in classroom mode (everyone's digits), else ``own`` (the one workspace's)."""
    return "class" if classroom_mode() else "own"


def score_caption(score: ClassScore | Refusal | None) -> str | None:
    """"Class digits: 27 of 30 read right (90.0%)."; the refusal's sentence; None without digits."""
    if score is None:
        return None
    if isinstance(score, Refusal):
        return t("classroom.score.unreadable", reason=str(score))
    return t(f"classroom.score.caption.{scope()}", correct=score.correct, total=score.total, accuracy=score.accuracy)


def score_cell(score: ClassScore | Refusal | None) -> str:
    """A table cell: "27 of 30 (90.0%)", or a dash when there is no score."""
    if not isinstance(score, ClassScore):
        return "–"
    return t("classroom.score.cell", correct=score.correct, total=score.total, accuracy=score.accuracy)


def misread_titles(score: ClassScore) -> list[str]:
    """"7 → 1" above each misread digit: what it is, then what the model said."""
    return [f"{label} → {answer}" for _, label, answer in score.misread]


def added_text(label: int, count: int, limit: int) -> str:
    """What a learner reads after adding a digit."""
    return t(f"classroom.add.added.{scope()}", digit=label, count=count, limit=limit)


def own_header(count: int, limit: int) -> str:
    """The title over a learner's own digits."""
    return t(f"classroom.own.header.{scope()}", count=count, limit=limit)


def own_option(digits: Digits, index: int) -> str:
    """How a learner's digit is named where they choose digits to delete: "#3: 7"."""
    return t("classroom.own.option", number=index, digit=int(digits.labels[index]))


def board_digit_option(digits: Digits, index: int, number: int) -> str:
    """How the board names a class digit: its label, its number under that label, who drew it."""
    return t("classroom.board.digits.option", digit=int(digits.labels[index]), number=number,
             learner=digits.owners[index])


def board_digit_title(digits: Digits, index: int, number: int) -> str:
    """The title over a class digit on the board: its number and the start of its learner's id."""
    return f"{number} {digits.owners[index][:SHORT_ID]}"


def model_option(owner: str, model: SavedModel) -> str:
    """A learner's model where the teacher chooses one to share: whose, its name, its test accuracy when known."""
    accuracy = model.metadata.get("test_accuracy")
    if isinstance(accuracy, (int, float)) and not isinstance(accuracy, bool):
        return t("classroom.board.share.option_with_accuracy", learner=owner, name=model.name, accuracy=accuracy)
    return t("classroom.board.share.option", learner=owner, name=model.name)
