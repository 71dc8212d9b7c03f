"""A network the learner designs: its layers as text, measured layer by layer before Keras builds anything.

    parse_design("conv:8:3,pool:2,dense:64") -> (Conv(8, 3), MaxPool(2), Dense(64)), then traced_design's rows:
    conv1 (28, 28, 8) 80 parameters 56,448 multiply-adds, pool1 (14, 14, 8), flatten (1568,) (added: a dense layer
    reads a row), dense1 (64,) 100,416 and 100,352, logits (10,) 650 and 640 (the output: always last, never written)

The text is the CLI's ``--layers`` and ``Hyperparameters.layers``, comma-separated: ``conv:FILTERS:KERNEL[:STRIDE[:
PADDING[:ACTIVATION]]]``, ``pool:SIZE[:STRIDE[:PADDING]]``, ``avgpool:…`` the same, ``dense:UNITS[:ACTIVATION]``,
``dropout:RATE``, ``bn``, ``gap``, ``flatten``. A convolution pads SAME unless told, a pool VALID (as Keras's do) with
its window as stride. An impossible design gets one sentence (a ``Refusal``, keys in ``locales/*/design.toml``) naming
the layer and the shape (NHWC, no batch axis) that reached it. Shapes and parameters come from the layer table
(``cnnlib.network.layers.trace``); ``cnnlib.network.architecture`` builds a design, ``keras_code`` writes it.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import MISSING, dataclass
from typing import TYPE_CHECKING

from cnnlib.errors import Refusal
from cnnlib.network.design_layers import (KERAS_NAMES, WORDS, Conv, Dense, Design, DesignLayer, Dropout, Flatten,
                                          GlobalAvgPool, Logits, MaxPool, keras_arguments, keras_class,
                                          number_text)
from cnnlib.network.layers import trace
from cnnlib.network.settings import is_number, is_whole, shown
from cnnlib.store.archive import MAX_PARAMETERS

if TYPE_CHECKING:
    from cnnlib.training.config import Hyperparameters

INPUT_SHAPE = (28, 28, 1)  # one digit, NHWC without the batch axis
MAX_LAYERS = 30  # layers in a design (flatten and the output not counted): deeper than any 28x28 network needs
MULTIPLY_ADDS_PER_SECOND = 1.4e10  # a design's (forward) multiply-adds trained per second here: see seconds_per_epoch
SECONDS_PER_DIGIT = 260e-6  # what a trained digit costs beside them: Keras's steps, validation, pools, Adam
FULL_MNIST_DIGITS = 55_000  # full MNIST's training digits after the validation twelfth
SLOW_EPOCH_SECONDS = 300  # an epoch of full MNIST longer than this gets a warning
PICTURE_ONLY = (Conv, MaxPool, GlobalAvgPool, Flatten)  # layers that need a height x width x channels input
FLAT_AFTER = (Dense, GlobalAvgPool, Flatten)  # layers whose output is a row of values
POSITIONAL = ("filters", "units", "rate")  # the arguments a learner's code writes without their names


# Text ---------------------------------------------------------------------------------------------------------------

def _syntax(kind: type) -> str:
    """How a layer is written: ``conv:FILTERS:KERNEL[:STRIDE[:PADDING[:ACTIVATION]]]``."""
    fields = dataclasses.fields(kind)
    needed = "".join(f":{item.name.upper()}" for item in fields if item.default is MISSING)
    optional = [item.name.upper() for item in fields if item.default is not MISSING]
    return kind.WORD + needed + "".join(f"[:{name}" for name in optional) + "]" * len(optional)


def _read(item: dataclasses.Field, text: str, position: int, written: str) -> object:
    """One field's value from its text: a whole number, a number or a word (lower case)."""
    how = item.metadata["read"]
    if how == "word":
        return text.lower()
    pattern = r"[-+]?[0-9]+" if how == "whole" else r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?"
    if len(text) > 4000 or not re.fullmatch(pattern, text):
        raise Refusal(f"design.not_{how}", position=position, item=written, value=text)
    return int(text) if how == "whole" else float(text)


def _parse_layer(written: str, position: int) -> DesignLayer:
    """One layer from its text, e.g. ``conv:8:3``; a Refusal for an unknown word or a field that cannot be read."""
    if not written:
        raise Refusal("design.empty_layer", position=position)
    word, *texts = [part.strip() for part in written.split(":")]
    kind = WORDS.get(word.lower())
    if kind is None:
        raise Refusal("design.unknown_layer", position=position, word=word, words=", ".join(WORDS))
    fields = dataclasses.fields(kind)
    if not sum(item.default is MISSING for item in fields) <= len(texts) <= len(fields):
        raise Refusal("design.field_count", position=position, item=written, count=len(texts), syntax=_syntax(kind))
    return kind(*(_read(item, text, position, written) for item, text in zip(fields, texts)))


def parse_design(text: str) -> Design:
    """The layers of a design's text (the empty text: no layers, a linear classifier); a Refusal for text that is not
    a design. "conv:8:3,pool:2" -> (Conv(8, 3), MaxPool(2))."""
    if not text.strip():
        return ()
    if text.count(",") >= MAX_LAYERS:
        raise Refusal("design.too_many_layers", count=text.count(",") + 1, limit=MAX_LAYERS)
    return tuple(_parse_layer(part.strip(), position) for position, part in enumerate(text.split(","), start=1))


def _layer_text(layer: DesignLayer) -> str:
    """One layer's shortest text: trailing fields left at their defaults are left out. MaxPool(2, 2) -> "pool:2"."""
    values = [getattr(layer, item.name) for item in dataclasses.fields(layer)]
    defaults = [layer.size if item.name == "stride" and isinstance(layer, MaxPool) else item.default
                for item in dataclasses.fields(layer)]
    while values and values[-1] == defaults[len(values) - 1]:
        values.pop()
    return ":".join([layer.WORD, *(number_text(value) if isinstance(value, float) else str(value)
                                   for value in values)])


def design_text(design: Design) -> str:
    """The shortest text of a design: ``parse_design(design_text(design)) == design``."""
    return ",".join(_layer_text(layer) for layer in design)


def recipe_layers(design: Design) -> str:
    """A design as ``Hyperparameters.layers`` holds it: its text, or "flatten" for no layers (the empty text there
    means the tutorial's network)."""
    return design_text(design) or Flatten.WORD


def tutorial_design(hp: Hyperparameters) -> Design:
    """The tutorial's network with ``hp``'s sizes: conv, SAME 2x2 max-pool, conv, SAME 2x2 max-pool, then two dense
    layers each followed by dropout of 1 - keep_prob (``cnnlib.network.architecture.build_model``)."""
    pool, dropout = MaxPool(2, 2, "same"), Dropout(1.0 - hp.keep_prob)
    return (Conv(hp.conv1_filters, hp.kernel_size), pool, Conv(hp.conv2_filters, hp.kernel_size), pool,
            Dense(hp.dense_units), dropout, Dense(hp.dense_units), dropout)


def recipe_design(hp: Hyperparameters) -> Design:
    """The design a recipe trains: its ``layers`` text, or the tutorial's network with its sizes when that is empty."""
    return parse_design(hp.layers) if hp.layers.strip() else tutorial_design(hp)


# Shapes, parameters and multiply-adds --------------------------------------------------------------------------------

@dataclass(frozen=True)
class LayerRow:
    """One layer as Keras will build it: its name, kind, output shape (NHWC, no batch axis) and costs."""

    name: str  # conv1, pool1, flatten, dense1, logits, …
    kind: str  # the design's word for it (conv, pool, …, flatten, logits)
    shape: tuple[int, ...]
    parameters: int
    multiply_adds: int  # per digit, when predicting: the convolutions' and dense layers' weights at work
    layer: DesignLayer | Logits
    added: bool = False  # not in the design: the flatten put before a dense layer, and the output


@dataclass(frozen=True)
class TracedDesign:
    """Every layer a possible design builds (the flatten and the output too), and the totals per digit."""

    rows: tuple[LayerRow, ...]
    parameters: int
    multiply_adds: int

    @property
    def slow(self) -> bool:
        """Whether an epoch of full MNIST would take longer than ``SLOW_EPOCH_SECONDS`` here."""
        return seconds_per_epoch(self.multiply_adds) > SLOW_EPOCH_SECONDS


def seconds_per_epoch(multiply_adds: int, digits: int = FULL_MNIST_DIGITS) -> float:
    """The seconds an epoch of ``digits`` takes to train a network of ``multiply_adds`` per digit on this machine's 2
    CPU cores (AVX2), batches of 64. Measured with the trainer (``--drawn-share 0``, the second epoch on the offline
    subset, load 1) for four designs from 0.1 to 16 million multiply-adds a digit, 245 to 1,364 µs a digit: the line
    through them is within 20% of each (batch normalisation costs more than its multiply-adds say: 30% more)."""
    return digits * (multiply_adds / MULTIPLY_ADDS_PER_SECOND + SECONDS_PER_DIGIT)


def built_layers(design: Design) -> list[tuple[str, DesignLayer | Logits, bool]]:
    """The layers Keras builds for a design, named, each marked when it was added: a flatten where a dense layer or
    the output first meets a picture, the output last. (Conv(8, 3), Dense(64)) -> conv1, flatten (added), dense1,
    logits (added)."""
    built, counts, picture = [], {}, True
    for layer, added in [*((layer, False) for layer in design), (Logits(), True)]:
        if picture and isinstance(layer, Dense):
            built.append((Flatten.WORD, Flatten(), True))
            picture = False
        counts[layer.WORD] = counts.get(layer.WORD, 0) + 1
        named = isinstance(layer, (Flatten, Logits)) and counts[layer.WORD] == 1
        built.append((layer.WORD if named else f"{layer.WORD}{counts[layer.WORD]}", layer, added))
        picture = picture and not isinstance(layer, FLAT_AFTER)
    return built


def keras_settings(name: str, layer: DesignLayer | Logits) -> dict:
    """A layer's settings as Keras's ``get_config()`` writes them, for the layer table's ``trace``."""
    arguments = {key: [value] * 2 if key in KERAS_NAMES.values() else value
                 for key, value in keras_arguments(layer).items()}
    extra = {"conv": {"groups": 1, "dilation_rate": [1, 1], "use_bias": True}, "dense": {"use_bias": True},
             "logits": {"use_bias": True}, "bn": {"axis": -1, "center": True, "scale": True},
             "gap": {"keepdims": False}}.get(layer.WORD, {})
    return {"name": name, **arguments, **extra}


def _check_values(name: str, layer: DesignLayer | Logits) -> None:
    """Refuse a setting outside its range or choices: 0 filters, a rate of 1, a padding called "full"."""
    for item in dataclasses.fields(layer):
        value, rules = getattr(layer, item.name), item.metadata
        if "choices" in rules:
            if value not in rules["choices"]:
                raise Refusal(f"design.choice.{rules['setting']}", layer=name, value=shown(value),
                              choices=", ".join(rules["choices"]))
        elif "low" in rules and not (is_whole(value, rules["low"], rules["high"]) if rules["read"] == "whole" else
                                     is_number(value, rules["low"], rules["high"]) and value < rules["high"]):
            raise Refusal(f"design.range.{rules['setting']}", layer=name, value=shown(value), low=rules["low"],
                          high=rules["high"])


def shape_text(shape: tuple[int, ...]) -> str:
    """A shape as the sentences write it: (1, 1, 64) -> "1x1x64"."""
    return "x".join(map(str, shape))


def _check_input(name: str, layer: DesignLayer | Logits, shape: tuple[int, ...], flat_since: str | None) -> None:
    """Refuse a layer that cannot take ``shape``: a picture's layer after a row, a VALID window larger than the map."""
    if isinstance(layer, PICTURE_ONLY) and len(shape) != 3:
        raise Refusal("design.not_a_picture", layer=name, flat=flat_since, values=math.prod(shape))
    side = getattr(layer, "kernel", getattr(layer, "size", 0))
    if getattr(layer, "padding", "same") == "valid" and side > min(shape[:2]):
        raise Refusal("design.window_too_big", layer=name, window=f"{side}x{side}", shape=shape_text(shape))


def _multiply_adds(layer: DesignLayer | Logits, before: tuple[int, ...], after: tuple[int, ...]) -> int:
    """Multiply-adds per digit: every output value of a convolution or dense layer is a weighted sum of its window."""
    if isinstance(layer, Conv):
        return math.prod(after) * layer.kernel ** 2 * before[-1]
    return before[-1] * layer.units if isinstance(layer, Dense) else 0


def traced_design(design: Design) -> TracedDesign:
    """Each layer's name, output shape, parameters and multiply-adds, computed without Keras; a Refusal with one
    sentence for an impossible design. (Conv(8, 3, padding="valid"),) -> conv1 (26, 26, 8) 80 parameters, …"""
    if len(design) > MAX_LAYERS:
        raise Refusal("design.too_many_layers", count=len(design), limit=MAX_LAYERS)
    rows, shape, flat_since = [], INPUT_SHAPE, None
    for name, layer, added in built_layers(design):
        _check_values(name, layer)
        _check_input(name, layer, shape, flat_since)
        try:
            [(output, parameters)] = trace([(keras_class(layer), keras_settings(name, layer))], shape)
        except Refusal:  # the table's own checks, beyond the ones above: too many values in one layer
            raise Refusal("design.impossible", layer=name, shape=shape_text(shape)) from None
        rows.append(LayerRow(name, layer.WORD, output, parameters, _multiply_adds(layer, shape, output), layer, added))
        flat_since = flat_since or (name if len(output) != 3 and not added else None)  # dense1, not its flatten
        shape = output
    parameters = sum(row.parameters for row in rows)
    if parameters > MAX_PARAMETERS:
        raise Refusal("design.too_many_parameters", count=parameters, limit=MAX_PARAMETERS)
    return TracedDesign(tuple(rows), parameters, sum(row.multiply_adds for row in rows))


def checked_design(text: str) -> Design:
    """The design of ``text`` when it is possible; a Refusal with the sentence that says why not."""
    design = parse_design(text)
    traced_design(design)
    return design


# Code to take home ---------------------------------------------------------------------------------------------------

def _code_arguments(layer: DesignLayer | Logits) -> list[str]:
    """A layer's arguments as a learner's code writes them, Keras's defaults left out."""
    defaults = {"strides": getattr(layer, "size", 1), "padding": "valid", "activation": "linear"}
    written = []
    for key, value in keras_arguments(layer).items():
        if key in POSITIONAL:
            written.append(number_text(value) if isinstance(value, float) else str(value))
        elif value != defaults.get(key):
            written.append(f"{key}=({value}, {value})" if key in KERAS_NAMES.values() else f"{key}={value!r}".replace(
                "'", '"'))
    return written


def keras_code(design: Design) -> str:
    """The Python of a design's ``keras.Sequential``, one line per layer with its output shape, to paste into a
    notebook."""
    lines = ["import keras", "from keras import layers", "", "model = keras.Sequential(", "    [",
             "        keras.Input(shape=(28, 28, 1)),"]
    for row in traced_design(design).rows:
        arguments = ", ".join([*_code_arguments(row.layer), f'name="{row.name}"'])
        lines.append(f"        layers.{keras_class(row.layer)}({arguments}),  # -> {row.shape}")
    return "\n".join([*lines, "    ]", ")", "model.summary()", ""])
