"""Every sentence a user sees: ``t("key", **values)`` looks it up in the active language's catalogue.

Catalogues are TOML files, one folder per language and one file per part of the app::

    cnnlib/locales/en/train.toml     status.epoch = "Epoch {epoch}/{epochs}"
    t("train.status.epoch", epoch=3, epochs=10)  ->  "Epoch 3/10"

The key's first part names the file, the rest the (possibly nested) entry in it. Placeholders are named and take
``str.format``'s specs (``{accuracy:.1%}``); positional ``{}`` is not allowed (translators reorder sentences).
A key missing from a language falls back to English and says so in the log; a key missing from English is a bug
and raises ``KeyError``. The language comes from a resolver the app installs (``use_language``): the Streamlit
pages read it from the learner's session, the command line and tests keep English.
"""

from __future__ import annotations

import logging
import string
import tomllib
from collections.abc import Callable
from functools import cache
from pathlib import Path

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
ENGLISH, KOREAN = "en", "ko"
LANGUAGES = (KOREAN, ENGLISH)  # the order of the app's language switch

logger = logging.getLogger(__name__)
_language_resolver: Callable[[], str] = lambda: ENGLISH  # noqa: E731  (replaced by use_language)


def use_language(resolver: Callable[[], str]) -> None:
    """Make ``resolver()`` decide the language of every later lookup (the app reads the learner's session)."""
    global _language_resolver
    _language_resolver = resolver


def current_language() -> str:
    """The language lookups use now: the resolver's answer when it is a known language, else English."""
    language = _language_resolver()
    return language if language in LANGUAGES else ENGLISH


def choose_language(url_value: str | None, server_value: str | None, browser_locale: str | None) -> str:
    """The language a visit opens in: ``?lang=`` over ``CNN_EXPLORER_LANG`` over the browser's (``ko…`` is Korean).

    Example: ``choose_language(None, None, "ko-KR") == "ko"``; ``choose_language("en", "ko", "ko-KR") == "en"``.
    """
    for value in (url_value, server_value):
        if value in LANGUAGES:
            return value
    return KOREAN if (browser_locale or "").lower().startswith(KOREAN) else ENGLISH


def _flatten(table: dict, prefix: str) -> dict[str, str]:
    """Nested TOML tables as dotted keys: ``{"status": {"epoch": "…"}}`` -> ``{"train.status.epoch": "…"}``."""
    flat = {}
    for name, value in table.items():
        key = f"{prefix}.{name}"
        flat.update(_flatten(value, key) if isinstance(value, dict) else {key: value})
    return flat


@cache
def catalogue(language: str) -> dict[str, str]:
    """Every entry of one language, by dotted key; read from its TOML files once per process."""
    entries: dict[str, str] = {}
    for path in sorted((LOCALES_DIR / language).glob("*.toml")):
        entries.update(_flatten(tomllib.loads(path.read_text(encoding="utf-8")), path.stem))
    return entries


def placeholders(text: str) -> set[str]:
    """The named placeholders of one entry: ``"Epoch {epoch}/{epochs:,}"`` -> ``{"epoch", "epochs"}``."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def t(key: str, **values: object) -> str:
    """The sentence ``key`` in the current language with ``values`` filled in."""
    language = current_language()
    text = catalogue(language).get(key)
    if text is None:
        if language != ENGLISH:
            logger.warning("No %s text for %r: showing English", language, key)
        text = catalogue(ENGLISH)[key]
    return text.format(**values) if values else text
