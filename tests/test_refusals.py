"""Refusals carry catalogue keys and are worded when shown: every key raised exists in every language, and nothing
in the packages below is translated at raise time."""

import ast
from pathlib import Path

import pytest

from cnnlib import text
from cnnlib.errors import Refusal
from cnnlib.text import catalogue

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("cnnlib/network", "cnnlib/store", "cnnlib/lessons", "cnnlib/figures", "cnnlib/mnist")
SOURCES = sorted(path for package in PACKAGES for path in (ROOT / package).glob("**/*.py"))
REFUSALS = {"Refusal", "UnreadableModel", "UnsupportedModel", "QuotaFull"}


def refusal_keys(path: Path) -> set[str]:
    """Every literal key of a ``Refusal(…)`` (or one of its kinds) made in ``path``."""
    return {node.args[0].value for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in REFUSALS and node.args
            and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)}


@pytest.mark.parametrize("language", text.LANGUAGES)
def test_every_refusal_key_is_in_the_catalogue(language):
    keys = set().union(*(refusal_keys(path) for path in SOURCES))
    assert len(keys) > 50
    assert not sorted(keys - catalogue(language).keys())


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(ROOT)))
def test_nothing_is_translated_when_raised(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    translated = [node.lineno for raised in ast.walk(tree) if isinstance(raised, ast.Raise) and raised.exc
                  for node in ast.walk(raised.exc) if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "t"]
    assert not translated, f"t(...) at raise time on lines {translated}"


def test_the_kinds_of_refusal_are_refusals():
    from cnnlib.network.layers import UnreadableModel
    from cnnlib.store.checks import UnsupportedModel
    from cnnlib.store.workspace import QuotaFull

    for kind in (UnreadableModel, UnsupportedModel, QuotaFull):
        refusal = kind("workspace.too_many_models", count=3, limit=2)
        assert isinstance(refusal, Refusal) and isinstance(refusal, ValueError) and refusal.key.startswith("workspace")
        assert "2" in str(refusal)
