"""The layers a learner can put in a network design (``cnnlib.network.design``): one frozen dataclass each.

Each knows its word in a design's text (``WORD``) and, in its fields' metadata, how the text writes each setting and
which values it may take: ``Conv(8, 3)`` is ``conv:8:3``, a Conv2D of 8 3x3 filters, stride 1, SAME padding and
ReLU. ``Logits``, the 10-way output, is never written: every design ends in it. The layer table names the Keras class
each becomes (``keras_class``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import MISSING, dataclass, field
from typing import ClassVar

from cnnlib.network.layers import ACTIVATIONS, DESIGNED
from cnnlib.network.settings import MAX_FILTERS, MAX_UNITS, MAX_WINDOW

CLASSES = 10  # the output layer's units, one per digit
PADDINGS = ("same", "valid")
LAYER_ACTIVATIONS = tuple(name for name in ACTIVATIONS if name != "softmax")  # softmax belongs to the output only


def _whole(setting: str, high: int, default: object = MISSING) -> dataclasses.Field:
    """A field written as a whole number from 1 to ``high``."""
    return field(default=default, metadata={"read": "whole", "setting": setting, "low": 1, "high": high})


def _choice(setting: str, choices: tuple[str, ...], default: str) -> dataclasses.Field:
    """A field written as one of ``choices``."""
    return field(default=default, metadata={"read": "word", "setting": setting, "choices": choices})


@dataclass(frozen=True)
class Conv:
    """``conv:FILTERS:KERNEL[:STRIDE[:PADDING[:ACTIVATION]]]``: ``filters`` maps, each of a ``kernel`` x ``kernel``
    window slid by ``stride``."""

    filters: int = _whole("filters", MAX_FILTERS)
    kernel: int = _whole("kernel", MAX_WINDOW)
    stride: int = _whole("stride", MAX_WINDOW, 1)
    padding: str = _choice("padding", PADDINGS, "same")
    activation: str = _choice("activation", LAYER_ACTIVATIONS, "relu")
    WORD: ClassVar[str] = "conv"


@dataclass(frozen=True)
class MaxPool:
    """``pool:SIZE[:STRIDE[:PADDING]]``: the largest value of each ``size`` x ``size`` window, slid by ``stride``
    (its size when not given)."""

    size: int = _whole("size", MAX_WINDOW)
    stride: int | None = _whole("stride", MAX_WINDOW, None)
    padding: str = _choice("padding", PADDINGS, "valid")
    WORD: ClassVar[str] = "pool"

    def __post_init__(self) -> None:
        """A stride left out is the window's size: pool:2 and pool:2:2 are the same layer."""
        if self.stride is None:
            object.__setattr__(self, "stride", self.size)


@dataclass(frozen=True)
class AvgPool(MaxPool):
    """``avgpool:SIZE[:STRIDE[:PADDING]]``: the mean of each window."""

    WORD: ClassVar[str] = "avgpool"


@dataclass(frozen=True)
class Dense:
    """``dense:UNITS[:ACTIVATION]``: ``units`` weighted sums of everything before it (a fully connected layer)."""

    units: int = _whole("units", MAX_UNITS)
    activation: str = _choice("activation", LAYER_ACTIVATIONS, "relu")
    WORD: ClassVar[str] = "dense"


@dataclass(frozen=True)
class Dropout:
    """``dropout:RATE``: while training, a share ``rate`` of the values set to 0 (the tutorial's 1 - keep_prob)."""

    rate: float = field(metadata={"read": "number", "setting": "rate", "low": 0, "high": 1})
    WORD: ClassVar[str] = "dropout"


@dataclass(frozen=True)
class BatchNorm:
    """``bn``: each channel scaled to mean 0 and variance 1 over the batch, then by a learned factor and shift."""

    WORD: ClassVar[str] = "bn"
    # Keras's 0.99 keeps the statistics used when testing near their start for hundreds of steps: a short run on the
    # offline subset then tested at chance (6% after 18 steps); 0.9 has forgotten the start within 50
    FIXED: ClassVar[dict] = {"momentum": 0.9}


@dataclass(frozen=True)
class GlobalAvgPool:
    """``gap``: each channel's mean, one value per channel; what follows is a row, no longer a picture."""

    WORD: ClassVar[str] = "gap"


@dataclass(frozen=True)
class Flatten:
    """``flatten``: the picture's values in one row; added by itself before the first dense layer or the output."""

    WORD: ClassVar[str] = "flatten"


@dataclass(frozen=True)
class Logits(Dense):
    """The output, always last and never written: ten weighted sums, no activation (softmax makes probabilities)."""

    units: int = CLASSES
    activation: str = "linear"
    WORD: ClassVar[str] = "logits"


DesignLayer = Conv | MaxPool | AvgPool | Dense | Dropout | BatchNorm | GlobalAvgPool | Flatten
Design = tuple[DesignLayer, ...]
WORDS = {kind.WORD: kind for kind in (Conv, MaxPool, AvgPool, Dense, Dropout, BatchNorm, GlobalAvgPool, Flatten)}
KERAS_NAMES = {"kernel": "kernel_size", "size": "pool_size", "stride": "strides"}  # Keras's names for our fields


def number_text(value: float) -> str:
    """A rate as the text writes it, shortest first: 0.25 -> "0.25", 0.0 -> "0"."""
    text = f"{value:g}"
    return text if float(text) == value else repr(float(value))


def keras_class(layer: DesignLayer | Logits) -> str:
    """The name of the Keras class a layer becomes: Conv(8, 3) -> "Conv2D"."""
    return DESIGNED[layer.WORD]


def keras_arguments(layer: DesignLayer | Logits) -> dict:
    """Keras's arguments for a layer, names and initialisers aside: Conv(8, 3) -> {"filters": 8, "kernel_size": 3,
    "strides": 1, "padding": "same", "activation": "relu"}."""
    chosen = {KERAS_NAMES.get(item.name, item.name): getattr(layer, item.name) for item in dataclasses.fields(layer)}
    return {**chosen, **getattr(layer, "FIXED", {})}
