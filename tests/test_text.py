"""The text lookup and its catalogues: every key the code uses exists, placeholders are named, languages agree."""

import ast
import re
from pathlib import Path

import pytest

from cnnlib import text
from cnnlib.text import catalogue, placeholders, t

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([*ROOT.glob("cnnlib/**/*.py"), *ROOT.glob("pages/*.py"), ROOT / "app.py"])


def literal_keys(path: Path) -> set[str]:
    """Every ``t("literal.key", ...)`` key in one source file."""
    keys = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "t" and node.args
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            keys.add(node.args[0].value)
    return keys


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_literal_key_is_in_the_english_catalogue(path):
    missing = sorted(literal_keys(path) - catalogue(text.ENGLISH).keys())
    assert not missing, f"{path.name} looks up keys that en/*.toml lacks: {missing}"


@pytest.mark.parametrize("language", text.LANGUAGES)
def test_entries_are_text_with_named_placeholders_only(language):
    for key, entry in catalogue(language).items():
        assert isinstance(entry, str), key
        names = placeholders(entry)
        assert all(re.fullmatch(r"[a-z_][a-z0-9_]*", name) for name in names), f"{key}: positional or odd {names}"


@pytest.mark.parametrize("language", [language for language in text.LANGUAGES if language != text.ENGLISH])
def test_every_language_has_the_same_keys_and_placeholders_as_english(language):
    english, other = catalogue(text.ENGLISH), catalogue(language)
    assert sorted(english.keys() - other.keys()) == [], f"{language} lacks these keys"
    assert sorted(other.keys() - english.keys()) == [], f"{language} has keys English lacks"
    for key, entry in english.items():
        assert placeholders(other[key]) == placeholders(entry), key


def test_lookup_fills_named_values_with_format_specs():
    assert t("data.description.offline", train=4000, test=1000).startswith("Offline subset: 4,000 training and 1,000")


def test_an_unknown_language_reads_english_and_a_missing_key_is_a_bug(monkeypatch):
    monkeypatch.setattr(text, "_language_resolver", lambda: "xx")
    assert text.current_language() == text.ENGLISH
    assert t("common.nav.home") == "Home"
    with pytest.raises(KeyError):
        t("common.no_such_key")
