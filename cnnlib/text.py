"""Every sentence a user sees: ``t("key", **values)`` looks it up in the active language's catalogue.

Catalogues are TOML files, one folder per language and one file per part of the app::

    cnnlib/locales/en/train.toml     status.epoch = "Epoch {epoch}/{epochs}"
    t("train.status.epoch", epoch=3, epochs=10)  ->  "Epoch 3/10"

The key's first part names the file, the rest the (possibly nested) entry in it. Placeholders are named and take
``str.format``'s specs (``{accuracy:.1%}``); positional ``{}`` is not allowed (translators reorder sentences).
A key missing from a language falls back to English and says so in the log; a key missing from English is a bug
and raises ``KeyError``. The language comes from a resolver the app installs (``use_language``): the Streamlit
pages read it from the learner's session, the command line and tests keep English.

A Korean particle right after a placeholder depends on how the value is read aloud, so a catalogue writes it as a
pair and ``t`` picks one (``korean_particle``): ``"{model}을(를)"`` with ``model="conv1"`` (…일) gives ``conv1을``,
``"{digit}(으)로"`` with ``digit=7`` (칠) gives ``7로``. The pairs are 을(를), 이(가), 은(는), 과(와), (으)로 and (이)
(as in ``(이)라고``); a value the rules cannot read (a symbol, an empty string) keeps the written pair.
"""

from __future__ import annotations

import logging
import re
import string
import tomllib
from collections.abc import Callable
from functools import cache
from pathlib import Path

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
ENGLISH, KOREAN = "en", "ko"
LANGUAGES = (KOREAN, ENGLISH)  # the order of the app's language switch

# Particle pairs as catalogues write them: (after a final consonant, after a vowel). (으)로 also takes 로 after ㄹ.
PARTICLES = {"을(를)": ("을", "를"), "이(가)": ("이", "가"), "은(는)": ("은", "는"), "과(와)": ("과", "와"),
             "(으)로": ("으로", "로"), "(이)": ("이", "")}
_PAIR_AFTER_VALUE = re.compile("([*`'\"’”]*)(" + "|".join(re.escape(pair) for pair in PARTICLES) + ")")
_SILENT_END = " *`'\"’”)]}>」』》〉."  # skipped at a value's end to find its last sound
_DIGITS = "영일이삼사오육칠팔구"  # 0-9 read in Korean
_ZEROS = "십백천만만만만억억억억조조조조"  # an integer's last word after 1, 2, 3, … trailing zeros (10 십, 5,000 천)
_LETTER_NAMES = {"l": "엘", "m": "엠", "n": "엔", "r": "알"}  # letters whose names end in a consonant
_RIEUL = 8  # ㄹ's index among Hangul final consonants
_FORMATTER = string.Formatter()

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


def _number_end(word: str) -> str:
    """The syllable a number at the end of ``word`` is read with: "7" -> 칠, "10" -> 십, "5,000" -> 천, "0.25" -> 오."""
    digits = re.search(r"[0-9,]*[0-9]$", word)
    before = word[:digits.start()]
    if before.endswith(".") and before[:-1][-1:].isdigit():  # decimals are read digit by digit
        return _DIGITS[int(word[-1])]
    number = digits.group().replace(",", "")
    zeros = len(number) - len(number.rstrip("0"))
    if zeros == 0 or zeros == len(number):
        return _DIGITS[int(number[-1])]
    return _ZEROS[min(zeros, len(_ZEROS)) - 1]


def _latin_end(word: str) -> str:
    """A Hangul syllable that ends like ``word``'s Latin letters: "model" -> 을 (ㄹ), "keras" -> 으, "CNN" -> 엔."""
    letters = re.search(r"[A-Za-z]+$", word).group()
    if len(letters) == 1 or letters.isupper():  # read letter by letter: L 엘, M 엠, N 엔, R 알, the rest a vowel
        return _LETTER_NAMES.get(letters[-1].lower(), "이")
    letters = letters.lower()
    if letters.endswith("ng"):
        return "응"
    if letters[-1] in "lmn":
        return {"l": "을", "m": "음", "n": "은"}[letters[-1]]
    if letters[-1] in "bkpt" and (letters[-2] in "aeiou" or letters.endswith("ck")):  # job 잡, step 스텝, input 인풋
        return "윽"
    return "으"  # keras 케라스, dense 덴스, conv2d …드, relu 렐루


def _last_syllable(word: str) -> str:
    """The Hangul syllable ``word`` ends on read aloud, past closing quotes, brackets and full stops; "" if none."""
    word = word.rstrip(_SILENT_END)
    last = word[-1:]
    if last == "%":
        return "트"  # 퍼센트
    if last.isascii() and last.isdigit():
        return _number_end(word)
    if last.isascii() and last.isalpha():
        return _latin_end(word)
    return last


def korean_particle(word: str, pair: str) -> str:
    """The particle of ``pair`` (a key of ``PARTICLES``) that reads right after ``word``; ``pair`` itself if unsure."""
    after_consonant, after_vowel = PARTICLES[pair]
    code = ord(_last_syllable(word) or " ") - 0xAC00
    if not 0 <= code < 11172:  # not a Hangul syllable: keep the written pair
        return pair
    final = code % 28
    return after_consonant if final and not (pair == "(으)로" and final == _RIEUL) else after_vowel


def _field(name: str, spec: str, conversion: str | None, values: dict[str, object]) -> str:
    """One placeholder filled in as ``str.format`` would: ``{name!conversion:spec}``."""
    value = _FORMATTER.convert_field(_FORMATTER.get_field(name, (), values)[0], conversion)
    return _FORMATTER.format_field(value, _FORMATTER.vformat(spec, (), values))


def fill(text: str, values: dict[str, object]) -> str:
    """``text.format(**values)``, with each particle pair right after a placeholder chosen for the value put there."""
    pieces: list[str] = []
    value = None  # the text of the placeholder just filled, if the literal text now follows one
    for literal, name, spec, conversion in _FORMATTER.parse(text):
        pair = _PAIR_AFTER_VALUE.match(literal) if value is not None else None
        if pair:
            closing, particle = pair.groups()
            literal = closing + korean_particle(value + closing, particle) + literal[pair.end():]
        pieces.append(literal)
        value = None if name is None else _field(name, spec, conversion, values)
        pieces.append(value or "")
    return "".join(pieces)


def t(key: str, **values: object) -> str:
    """The sentence ``key`` in the current language with ``values`` filled in."""
    language = current_language()
    text = catalogue(language).get(key)
    if text is None:
        if language != ENGLISH:
            logger.warning("No %s text for %r: showing English", language, key)
        text = catalogue(ENGLISH)[key]
    return fill(text, values) if values else text
