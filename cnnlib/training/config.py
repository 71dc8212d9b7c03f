"""What to train: every hyperparameter once, the presets, and one run's config.

Each hyperparameter is one dataclass field whose ``Spec`` says which values are valid, what the tutorial used, how
the Train page offers it and which catalogue entries name and explain it. The CLI's options, ``TrainConfig.to_args``,
the JSON card beside a saved model and the page's widgets are all read from these fields.

    Hyperparameters()            the app's default recipe, "Fast and stable" (preset ``fast``): half the training
                                 digits redrawn as pen strokes each epoch, so drawings on the Draw page read within a
                                 point of scans, and targets smoothed by 0.1
    PRESETS[Preset.TUTORIAL]     the tutorial's recipe, made of every field's ``tutorial`` value
    PRESETS[Preset.BEST]         the most accurate recipe: 15 epochs of batches of 128 on shifted, turned and zoomed
                                 digits, Adam's usual betas (with fast's 0.7 / 0.9 it fell to 0.956 on full MNIST),
                                 and a network of its own (``BEST_DESIGN``: 0.9955-0.9963 against the tutorial's
                                 0.9938-0.9945 on full MNIST, seeds 0-2, at twice the time)
    TrainConfig(hp, data_source="offline").to_args()   the CLI arguments that reproduce a run

``layers`` is the network's design as text (``cnnlib.network.design``, e.g. ``conv:16:3,pool:2,dense:64``); empty, the
network is the tutorial's with the size fields (conv1_filters, conv2_filters, dense_units, kernel_size, keep_prob),
which a design leaves aside. The tutorial and fast presets keep the tutorial's network.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from cnnlib.errors import Refusal
from cnnlib.network.design import checked_design
from cnnlib.network.snapshots import MAX_SNAPSHOTS
from cnnlib.store.saved import MODEL_SUFFIX, models_dir

SPEC = "spec"  # the metadata entry of a Hyperparameters field that holds its Spec
TEXT_PREFIX = "train.hyperparameter"  # catalogue table of the hyperparameters' labels, help and options
RECIPE_TEXT_PREFIX = "recipes.hyperparameter"  # the same for the recipe fields added by issue 11
DESIGN_TEXT_PREFIX = "design.hyperparameter"  # the same for the network's design (issue 23)


class Widget(StrEnum):
    """How the Train page offers a hyperparameter: the name of the Streamlit widget."""

    NUMBER = "number_input"  # over Spec.page_range
    SLIDER = "slider"  # over Spec.page_range
    OPTIONS = "select_slider"  # over Spec.offered
    RADIO = "radio"  # one button per choice
    SWITCH = "toggle"  # on or off: a bool field
    DESIGN = "text_input"  # a network's design as text; the Train page offers its own editor, not a generic widget


@dataclass(frozen=True)
class Spec:
    """One hyperparameter's rules: its valid values, the tutorial's value, its widget and its catalogue entries."""

    widget: Widget
    tutorial: object = None  # the tutorial's value; None where the tutorial set none (the seed)
    low: float | None = None  # smallest valid value (not itself valid when low_open)
    high: float | None = None
    low_open: bool = False
    choices: tuple = ()  # the only valid values (a radio's options)
    offered: tuple = ()  # the values a select slider offers; the CLI takes any value in range
    page_range: tuple[float, float, float] | None = None  # (min, max, step) of a number input or slider
    text: str = ""  # catalogue table with ``label`` and ``help`` (and ``option.<choice>`` for a radio)

    @property
    def label_key(self) -> str:
        """Catalogue key of the widget's label."""
        return f"{self.text}.label"

    @property
    def help_key(self) -> str:
        """Catalogue key of the help sentence (the widget's tooltip and the CLI option's help)."""
        return f"{self.text}.help"

    def option_key(self, choice: str) -> str:
        """Catalogue key of one choice's words (a radio's option)."""
        return f"{self.text}.option.{choice}"

    def allows(self, value) -> bool:
        """Whether ``value`` is valid: one of the choices, or inside the bounds."""
        if self.widget == Widget.SWITCH:
            return isinstance(value, bool)
        if self.widget == Widget.DESIGN:
            return isinstance(value, str) and design_refusal(value) is None
        if self.choices:
            return value in self.choices
        above = self.low is None or (value > self.low if self.low_open else value >= self.low)
        return above and (self.high is None or value <= self.high)


def design_refusal(text: str) -> Refusal | None:
    """Why the design ``text`` cannot be trained (its sentence); None when it can, or when it is empty (the tutorial's
    network)."""
    try:
        checked_design(text)
    except Refusal as refusal:
        return refusal
    return None


def hyperparameter(default, name: str, widget: Widget, prefix: str = TEXT_PREFIX, **rules) -> dataclasses.Field:
    """A Hyperparameters field: its default (the app's recipe) and its Spec, whose texts live under ``name``."""
    return field(default=default, metadata={SPEC: Spec(widget, text=f"{prefix}.{name}", **rules)})


def recipe_hyperparameter(default, name: str, widget: Widget, **rules) -> dataclasses.Field:
    """A field whose texts live in the recipes catalogue (``recipes.hyperparameter.<name>``)."""
    return hyperparameter(default, name, widget, RECIPE_TEXT_PREFIX, **rules)


@dataclass(frozen=True)
class Hyperparameters:
    """Everything that shapes one training run; the defaults are "Fast and stable", the fast recipe measured here."""

    epochs: int = hyperparameter(8, "epochs", Widget.NUMBER, tutorial=50, low=1, page_range=(1, 500, 1))
    batch_size: int = hyperparameter(64, "batch_size", Widget.OPTIONS, tutorial=100, low=1,
                                     offered=(16, 32, 50, 64, 100, 128, 256, 512))
    learning_rate: float = hyperparameter(2e-3, "learning_rate", Widget.OPTIONS, tutorial=0.01, low=0, high=1,
                                          low_open=True, offered=(1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 0.01, 0.03, 0.1))
    keep_prob: float = hyperparameter(1.0, "keep_prob", Widget.SLIDER, tutorial=0.75, low=0, high=1,
                                      low_open=True, page_range=(0.3, 1.0, 0.05))  # Keras's Dropout: 1 - keep_prob
    conv1_filters: int = hyperparameter(32, "conv1_filters", Widget.OPTIONS, tutorial=32, low=1,
                                        offered=(8, 16, 32, 64))
    conv2_filters: int = hyperparameter(64, "conv2_filters", Widget.OPTIONS, tutorial=64, low=1,
                                        offered=(16, 32, 64, 128))
    dense_units: int = hyperparameter(256, "dense_units", Widget.OPTIONS, tutorial=256, low=1,
                                      offered=(64, 128, 256, 512))
    init: str = hyperparameter("he", "init", Widget.RADIO, tutorial="tutorial", choices=("tutorial", "he"))
    seed: int = hyperparameter(0, "seed", Widget.NUMBER, low=0, high=2**31 - 1, page_range=(0, 2**31 - 1, 1))
    lr_decay: str = hyperparameter("cosine", "lr_decay", Widget.RADIO, tutorial="none", choices=("none", "cosine"))
    kernel_size: int = recipe_hyperparameter(5, "kernel_size", Widget.OPTIONS, tutorial=3, low=1, offered=(3, 5, 7))
    warmup: float = recipe_hyperparameter(0.2, "warmup", Widget.SLIDER, tutorial=0.0, low=0, high=0.9,
                                          page_range=(0.0, 0.5, 0.05))  # share of all steps; the rate rises 10x
    beta_1: float = recipe_hyperparameter(0.7, "beta_1", Widget.OPTIONS, tutorial=0.9, low=0, high=1,
                                          offered=(0.5, 0.7, 0.8, 0.9, 0.95))
    beta_2: float = recipe_hyperparameter(0.9, "beta_2", Widget.OPTIONS, tutorial=0.999, low=0, high=1,
                                          offered=(0.9, 0.99, 0.999))
    augment: bool = recipe_hyperparameter(False, "augment", Widget.SWITCH, tutorial=False)
    drawn_share: float = recipe_hyperparameter(0.5, "drawn_share", Widget.SLIDER, tutorial=0.0, low=0, high=1,
                                               page_range=(0.0, 1.0, 0.1))  # digits shown redrawn (cnnlib.mnist.strokes)
    label_smoothing: float = recipe_hyperparameter(0.1, "label_smoothing", Widget.OPTIONS, tutorial=0.0, low=0,
                                                   high=0.5, offered=(0.0, 0.05, 0.1, 0.2))
    layers: str = hyperparameter("", "layers", Widget.DESIGN, DESIGN_TEXT_PREFIX)  # "": the tutorial's network

    def to_dict(self) -> dict:
        """Plain dict, for the JSON card beside a saved model."""
        return asdict(self)


def specs() -> dict[str, Spec]:
    """Every hyperparameter's Spec by field name, in the fields' order."""
    return {item.name: item.metadata[SPEC] for item in dataclasses.fields(Hyperparameters)}


def tutorial_recipe() -> Hyperparameters:
    """The tutorial's values where it set one (50 epochs, batch 100, Adam 0.01, N(0, 1) filters), else the default."""
    return Hyperparameters(**{name: spec.tutorial for name, spec in specs().items() if spec.tutorial is not None})


class Preset(StrEnum):
    """The one-click recipes, by id; the labels people read are in the catalogue (``train.preset.<id>``)."""

    TUTORIAL = "tutorial"
    FAST = "fast"
    BEST = "best"


# Best accuracy's network, after Chris Deotte's for Kaggle's MNIST: each block two 3x3 convolutions without padding and
# a 5x5 one of stride 2 in place of a pool, batch normalisation after each, dropout 0.4 after each block
BEST_DESIGN = ("conv:32:3:1:valid,bn,conv:32:3:1:valid,bn,conv:32:5:2:same,bn,dropout:0.4,"
               "conv:64:3:1:valid,bn,conv:64:3:1:valid,bn,conv:64:5:2:same,bn,dropout:0.4,"
               "conv:128:4:1:valid,bn,flatten,dropout:0.4")
PRESETS = {Preset.TUTORIAL: tutorial_recipe(), Preset.FAST: Hyperparameters(),
           Preset.BEST: Hyperparameters(epochs=15, batch_size=128, learning_rate=3e-3, beta_1=0.9,
                                         beta_2=0.999, augment=True, drawn_share=0.0, label_smoothing=0.0,
                                         layers=BEST_DESIGN)}
DEFAULT_PRESET = Preset.FAST  # the one the Train page opens with and the CLI trains without options

# What the presets reached here (2-core CPU, seed 0 unless said; bench/accuracy.py, and bench/drawn_digits.py for
# "drawn"): their captions show it.
MEASURED = {Preset.TUTORIAL: {"reported": 0.9851, "reached": 0.9843},  # the tutorial printed 0.9851 after 50 epochs
            Preset.FAST: {"one_epoch": 0.9922, "offline": 0.988, "drawn": 0.980},
            Preset.BEST: {"full_low": 0.9955, "full_high": 0.9963}}  # seeds 2 and 0 of 0, 1, 2 (1: 0.9961)


def caption_values(preset: Preset) -> dict:
    """The numbers a preset's caption (``recipes.preset.<id>.caption``) shows: its recipe and what it reached here."""
    return {**PRESETS[preset].to_dict(), **MEASURED[preset]}


@dataclass(frozen=True)
class TrainConfig:
    """One training run: hyperparameters, where the digits come from, how many, and where the model goes."""

    hp: Hyperparameters = field(default_factory=lambda: PRESETS[DEFAULT_PRESET])
    data_source: str = "auto"
    npz_path: str | None = None
    train_limit: int | None = None  # the first N training digits (validation included); None: all
    model_name: str | None = None  # None: a name from the recipe and the time
    models_directory: str | None = None  # None: cnnlib.store.saved.models_dir()
    snapshots: int = MAX_SNAPSHOTS  # weight states kept at most, spread over the epochs (cnnlib.training.room)
    workspace_id: str | None = None  # whose workspace the model goes to: its room is checked before saving

    def to_args(self) -> list[str]:
        """The command-line arguments that reproduce this config."""
        args = [part for name, value in self.hp.to_dict().items() for part in (option_name(name), str(value))]
        args += ["--data", self.data_source]
        if self.npz_path:
            args += ["--npz", self.npz_path]
        if self.train_limit:
            args += ["--train-limit", str(self.train_limit)]
        if self.model_name or self.models_directory:
            args += ["--out", str(self.output_path())]
        args += ["--snapshots", str(self.snapshots)]
        return args + (["--workspace", self.workspace_id] if self.workspace_id else [])

    def output_path(self) -> Path:
        """Where the model will be saved: ``<models dir>/<name>.keras``."""
        directory = Path(self.models_directory) if self.models_directory else models_dir()
        return directory / f"{self.model_name or default_model_name(self.hp)}{MODEL_SUFFIX}"


def switch(text: str) -> bool:
    """An on/off option's value from the command line: ``true``/``on``/``1`` or ``false``/``off``/``0``."""
    words = {"true": True, "on": True, "1": True, "false": False, "off": False, "0": False}
    if text.lower() not in words:
        raise ValueError(text)
    return words[text.lower()]


def option_type(name: str):
    """What turns a hyperparameter's command-line text into its value: ``int``, ``float``, ``str`` or ``switch``."""
    return switch if specs()[name].widget == Widget.SWITCH else type(getattr(Hyperparameters(), name))


def option_name(name: str) -> str:
    """The CLI option of a hyperparameter: ``batch_size`` -> ``--batch-size``."""
    return "--" + name.replace("_", "-")


def default_model_name(hp: Hyperparameters) -> str:
    """A readable, unique-enough name, e.g. ``he-lr0.001-keep0.75-20261128-153012``."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return f"{hp.init}-lr{hp.learning_rate:g}-keep{hp.keep_prob:g}-{stamp}"
