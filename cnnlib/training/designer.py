"""The Train page's network designer as data: the layers a learner adds, each layer's settings as widgets offer them,
the edits (each keeps everything else), and the words and numbers of the live table.

    added((Conv(8, 3),), 1, "pool")                 (Conv(8, 3), MaxPool(2))
    moved((Conv(8, 3), MaxPool(2)), 1, -1)          (MaxPool(2), Conv(8, 3))
    with_setting((Conv(8, 3),), 0, "filters", 16)   (Conv(16, 3),)
    design_table(traced_design((Conv(8, 3),)))[0]   {"layer": "conv1", "kind": "convolution", "output (NHWC)":
                                                    "28x28x8", "parameters": 80, "multiply-adds per digit": 56,448}

A recipe holds its design as text (``Hyperparameters.layers``): "" while the design is the tutorial's network with
the recipe's sizes (``recipe_layers_for``), so the size widgets still shape it until the learner changes its layers.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, replace

from cnnlib.network.design import (FULL_MNIST_DIGITS, TracedDesign, built_layers, recipe_layers, seconds_per_epoch,
                                   shape_text, tutorial_design)
from cnnlib.network.design_layers import (WORDS, AvgPool, BatchNorm, Conv, Dense, Design, DesignLayer, Dropout,
                                          Flatten, GlobalAvgPool, MaxPool)
from cnnlib.text import t
from cnnlib.training.config import Hyperparameters

NEW_LAYERS = {Conv.WORD: Conv(16, 3), MaxPool.WORD: MaxPool(2), AvgPool.WORD: AvgPool(2), Dense.WORD: Dense(64),
              Dropout.WORD: Dropout(0.25), BatchNorm.WORD: BatchNorm(), GlobalAvgPool.WORD: GlobalAvgPool(),
              Flatten.WORD: Flatten()}  # what "Add a layer" puts in, by kind
FROM_ZERO = ("filters", "units")  # offered from 0, whose sentence says why a layer needs at least 1
RATE_STEP = 0.05
COLUMNS = ("layer", "kind", "shape", "parameters", "multiply_adds")  # the live table, left to right
NUMBER_COLUMNS = ("parameters", "multiply_adds")  # counts, shown with thousands separators


@dataclass(frozen=True)
class Setting:
    """One setting of a layer as the designer offers it: a whole number or a rate from ``low`` to ``high`` by
    ``step``, or one of ``choices``."""

    name: str  # the layer's field: filters, kernel, stride, padding, activation, size, units, rate
    value: object
    low: float = 0
    high: float = 0
    step: float = 1
    choices: tuple[str, ...] = ()


def layer_settings(layer: DesignLayer) -> tuple[Setting, ...]:
    """A layer's settings, each with the values its widget offers: the layer's own ranges, a count from 0 and a
    rate up to 1, so that a learner can meet the sentence that refuses them. Conv(8, 3) -> filters 0..1024,
    kernel 1..28, stride 1..28, padding same/valid, activation linear/relu/sigmoid/tanh."""
    settings = []
    for item in dataclasses.fields(layer):
        rules, value = item.metadata, getattr(layer, item.name)
        if "choices" in rules:
            settings.append(Setting(item.name, value, choices=rules["choices"]))
        elif rules["read"] == "whole":
            settings.append(Setting(item.name, value, 0 if item.name in FROM_ZERO else rules["low"], rules["high"]))
        else:
            settings.append(Setting(item.name, value, float(rules["low"]), float(rules["high"]), RATE_STEP))
    return tuple(settings)


def with_setting(design: Design, index: int, name: str, value: object) -> Design:
    """The design with one setting of layer ``index`` changed (a whole number stays whole, a rate a float)."""
    layer = design[index]
    kind = type(getattr(layer, name))
    return (*design[:index], replace(layer, **{name: kind(value)}), *design[index + 1:])


def added(design: Design, position: int, word: str) -> Design:
    """The design with a new layer of kind ``word`` (its ``NEW_LAYERS`` settings) before layer ``position``
    (``len(design)``: at the end, before the output)."""
    return (*design[:position], NEW_LAYERS[word], *design[position:])


def removed(design: Design, index: int) -> Design:
    """The design without layer ``index``."""
    return (*design[:index], *design[index + 1:])


def moved(design: Design, index: int, step: int) -> Design:
    """The design with layer ``index`` swapped with its neighbour ``step`` (-1 up, +1 down); unchanged at an end."""
    other = index + step
    if not 0 <= other < len(design):
        return design
    layers = list(design)
    layers[index], layers[other] = layers[other], layers[index]
    return tuple(layers)


def recipe_layers_for(design: Design, hp: Hyperparameters) -> str:
    """What a recipe with ``hp``'s sizes holds for ``design``: "" for the tutorial's network of those sizes (which the
    size widgets then go on shaping), else the design's text (``recipe_layers``)."""
    return "" if design == tutorial_design(hp) else recipe_layers(design)


def layer_names(design: Design) -> list[str]:
    """Each layer's name as Keras will build it, in the design's order: conv1, pool1, conv2, …"""
    return [name for name, _, added_here in built_layers(design) if not added_here]


def kind_label(word: str) -> str:
    """A kind of layer in the learner's words: "conv" -> "convolution"."""
    return t(f"design.kind.{word}")


def layer_title(name: str, word: str) -> str:
    """A designed layer's heading: its name and kind, "**conv1**  \\nconvolution"."""
    return t("design.editor.title", name=name, kind=kind_label(word))


def position_label(design: Design, position: int) -> str:
    """Where "Add a layer" puts the new one: "at the start", "after conv1", …, "at the end"."""
    if position == len(design):
        return t("design.editor.at_end")
    return t("design.editor.after", layer=layer_names(design)[position - 1]) if position else t(
        "design.editor.at_start")


def insert_positions(design: Design) -> list[int]:
    """The places a new layer can go, the end first (the usual choice): [len, 0, 1, …, len - 1]."""
    return [len(design), *range(len(design))]


def design_table(traced: TracedDesign) -> list[dict]:
    """The live table: each layer Keras will build with its kind, output shape (NHWC, no batch axis), parameters and
    multiply-adds per digit; the layers the designer adds by itself (a flatten, the output) are marked."""
    names = [t(f"design.table.{column}") for column in COLUMNS]
    return [dict(zip(names, (t("design.table.added", name=row.name) if row.added else row.name, kind_label(row.kind),
                             shape_text(row.shape), row.parameters, row.multiply_adds)))
            for row in traced.rows]


def trained_digits(train_limit: int | None) -> int:
    """The digits an epoch trains on when ``train_limit`` are chosen (its first twelfth validates); full MNIST's
    55,000 when none are chosen yet."""
    from cnnlib.training.digits import validation_count

    return train_limit - validation_count(train_limit) if train_limit else FULL_MNIST_DIGITS


def duration_text(seconds: float) -> str:
    """An estimate as a learner reads it: "about 26 s", "about 4 min", "about 2.5 h"."""
    if seconds < 90:
        return t("design.summary.seconds", seconds=max(1, round(seconds)))
    return t("design.summary.minutes", minutes=round(seconds / 60)) if seconds < 5400 else t(
        "design.summary.hours", hours=seconds / 3600)


def design_totals(traced: TracedDesign, digits: int) -> list[tuple[str, str]]:
    """The totals beside the table, as (label, value): parameters, multiply-adds per digit, an epoch's time."""
    return [(t("design.summary.parameters"), f"{traced.parameters:,}"),
            (t("design.summary.multiply_adds"), f"{traced.multiply_adds:,}"),
            (t("design.summary.epoch", digits=digits), duration_text(seconds_per_epoch(traced.multiply_adds, digits)))]


def slow_warning(traced: TracedDesign) -> str:
    """Why a slow design (``traced.slow``) may not be what the learner wants here."""
    return t("design.summary.slow", duration=duration_text(seconds_per_epoch(traced.multiply_adds)))


def kinds() -> list[str]:
    """The kinds of layer a learner can add, in the text's order: conv, pool, avgpool, dense, …"""
    return [word for word in WORDS if word in NEW_LAYERS]


def network_caption(card: dict) -> str | None:
    """What a saved model's card says of its network: its design's text, or the tutorial's network; None for a
    model without a recipe on its card (uploaded, or its card lost)."""
    recipe = card.get("hyperparameters")
    if not isinstance(recipe, dict):
        return None
    layers = recipe.get("layers") or ""
    return t("design.card.custom", layers=layers) if isinstance(layers, str) and layers.strip() else t(
        "design.card.tutorial")
