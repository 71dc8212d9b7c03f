"""What each setting of a layer may be, checked before anything is built from it: a saved architecture's settings
(``config.json``) and, later, a network designer's choices.

A ``Rule`` is a test and the words a refusal shows for what it accepts; those words are numbers and identifiers
only (``1..28``, ``valid, same``), so a sentence in any language can show them. Nested objects (initialisers, dtype
policies) pass here as "an object" and are checked where objects are (``cnnlib.store.model_config``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cnnlib.errors import Refusal

Settings = dict  # a layer's ``get_config()``, as config.json holds it
MAX_WINDOW = 28  # a kernel, pool window, stride or dilation no larger than the 28x28 digit
MAX_FILTERS = 1024  # channels per layer: the largest network offered has 128
MAX_UNITS = 100_000  # dense units: 784 inputs x 100,000 units is already 15x the parameter cap
MAX_NAME = 128  # characters in a layer's name
MAX_NUMBER = 1e6  # the size of a plain number (scale, offset, threshold): no digit model needs more
POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")  # dtype policies whose weights are float32


@dataclass(frozen=True)
class Rule:
    """What one setting may be: a test, and what a refusal says it accepts (numbers and identifiers only)."""

    accepts: Callable[[object], bool]
    allowed: str


def shown(value: object, length: int = 40) -> str:
    """``value`` as a refusal shows it: JSON, cut to ``length`` characters (``None`` -> ``null``)."""
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= length else text[:length - 1] + "…"


def is_whole(value: object, low: int, high: int) -> bool:
    """Whether ``value`` is an int (not a bool) in ``low..high``."""
    return type(value) is int and low <= value <= high


def is_number(value: object, low: float = -MAX_NUMBER, high: float = MAX_NUMBER) -> bool:
    """Whether ``value`` is a finite int or float (not a bool) in ``low..high``."""
    return type(value) in (int, float) and math.isfinite(value) and low <= value <= high


def whole(low: int, high: int) -> Rule:
    """An int in ``low..high``."""
    return Rule(lambda value: is_whole(value, low, high), f"{low}..{high}")


def number(low: float = -MAX_NUMBER, high: float = MAX_NUMBER, below: bool = False) -> Rule:
    """A finite number in ``[low, high]``, or ``[low, high)`` when ``below``."""
    return Rule(lambda value: is_number(value, low, high) and not (below and value == high),
                f"[{low:g}, {high:g}{')' if below else ']'}")


def or_null(rule: Rule) -> Rule:
    """``rule``, or null."""
    return Rule(lambda value: value is None or rule.accepts(value), f"null, {rule.allowed}")


def one_of(*options: object) -> Rule:
    """Exactly one of ``options`` (``True`` is not ``1`` here)."""
    return Rule(lambda value: any(type(value) is type(option) and value == option for option in options),
                ", ".join(shown(option) for option in options))


def _is_window(value: object) -> bool:
    """``3`` or ``[5, 3]``: each side an int in 1..MAX_WINDOW."""
    sides = value if isinstance(value, list) and len(value) == 2 else [value]
    return all(is_whole(side, 1, MAX_WINDOW) for side in sides)


def _is_dtype(value: object) -> bool:
    """A float32-weight policy's name, or a policy object (checked where objects are)."""
    return value in POLICIES or isinstance(value, dict)


FLAG = one_of(False, True)
NOTHING = one_of(None)
WINDOW = Rule(_is_window, f"1..{MAX_WINDOW}, [1..{MAX_WINDOW}, 1..{MAX_WINDOW}]")
PADDING = one_of("valid", "same")
CHANNELS_LAST = one_of("channels_last")
NAME = Rule(lambda value: isinstance(value, str) and 0 < len(value) <= MAX_NAME, f'"…" (1..{MAX_NAME})')
TEXT = Rule(lambda value: isinstance(value, str) and len(value) <= MAX_NAME, f'"…" (0..{MAX_NAME})')
OBJECT = Rule(lambda value: value is None or isinstance(value, dict), "null, {…}")  # an initialiser, regulariser …
DTYPE = Rule(_is_dtype, ", ".join(POLICIES))
COMMON = {"name": NAME, "trainable": FLAG, "dtype": DTYPE, "activity_regularizer": OBJECT}  # every layer's


def label(value: object) -> str:
    """A name as a refusal shows it: a short text as it is, anything else as ``shown``."""
    return value if isinstance(value, str) and 0 < len(value) <= MAX_NAME else shown(value)


def layer_name(settings: object) -> str:
    """The name a refusal gives a layer: its ``name`` setting (``label``)."""
    return label(settings.get("name") if isinstance(settings, dict) else None)


def check_settings(settings: Settings, rules: Mapping[str, Rule]) -> None:
    """Refuse a setting ``rules`` do not name, or a value its rule does not accept."""
    for key, value in settings.items():
        rule = rules.get(key)
        if rule is None:
            raise Refusal("model_files.unknown_setting", layer=layer_name(settings), setting=shown(key))
        if not rule.accepts(value):
            raise Refusal("model_files.setting", layer=layer_name(settings), setting=key, value=shown(value),
                          allowed=rule.allowed)


def needed(settings: Settings, key: str) -> object:
    """The setting ``key``, which Keras always writes; a Refusal when it is missing."""
    if key not in settings:
        raise Refusal("model_files.missing_setting", layer=layer_name(settings), setting=key)
    return settings[key]
