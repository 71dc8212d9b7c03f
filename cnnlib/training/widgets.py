"""The Train page's hyperparameter widgets as data: what each one is called, explains, offers and marks.

    widget_arguments("batch_size")   {"label": "Batch size", "help": ..., "options": (16, ..., 512), "format_func": ...}
    option_text("batch_size", 100)   "100 (tutorial)"

The page passes ``widget_arguments(name)`` to the Streamlit widget named by the field's ``Spec.widget``; everything
here is read from the fields of ``cnnlib.training.config.Hyperparameters`` and the catalogue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import partial

from cnnlib.text import t
from cnnlib.training.config import PRESETS, Hyperparameters, Preset, Widget, specs

LAYOUT = (("epochs", "batch_size", "learning_rate", "keep_prob"), ("init", "lr_decay"),
          ("conv1_filters", "conv2_filters", "dense_units", "seed"))  # the page's two rows, then its expander
RECIPE_LAYOUT = (("kernel_size", "warmup", "beta_1", "beta_2"),
                 ("augment", "drawn_share", "label_smoothing"))  # the recipe expander's rows (issue 11's fields)
DESIGNED_SIZES = ("keep_prob", "conv1_filters", "conv2_filters", "dense_units", "kernel_size")  # the tutorial
# network's sizes: a design of the learner's own (``layers``) sets its layers instead, so these widgets rest


def hyperparameter_label(name: str) -> str:
    """A hyperparameter widget's label, with the tutorial's value where the label shows it: "Epochs (tutorial: 50)"."""
    spec = specs()[name]
    return t(spec.label_key, tutorial=spec.tutorial)


def hyperparameter_help(name: str) -> str:
    """A hyperparameter's help sentence (the widget's tooltip; the CLI's help too)."""
    return t(specs()[name].help_key)


def option_text(name: str, value) -> str:
    """One option of a hyperparameter's widget, marked when it is the tutorial's: "0.01 (tutorial)", "constant"."""
    spec = specs()[name]
    text = t(spec.option_key(value)) if spec.choices else f"{value:g}"
    return t("train.tutorial_choice", choice=text) if value == spec.tutorial else text


def widget_arguments(name: str, designed: bool = False) -> dict:
    """Keyword arguments of a hyperparameter's widget: label and help, then its range or its options (a switch has
    neither). With ``designed`` (the recipe has a design of its own), a size the design sets is disabled and its
    help says so."""
    spec = specs()[name]
    arguments = {"label": hyperparameter_label(name), "help": hyperparameter_help(name)}
    if designed and name in DESIGNED_SIZES:
        arguments.update(help=t("design.editor.size_unused"), disabled=True)
    if spec.widget == Widget.SWITCH:
        return arguments
    if spec.page_range:
        low, high, step = spec.page_range
        return {**arguments, "min_value": low, "max_value": high, "step": step}
    arguments.update(options=spec.offered or spec.choices, format_func=partial(option_text, name))
    return {**arguments, "horizontal": True} if spec.widget == Widget.RADIO else arguments


def widget_key(name: str) -> str:
    """The Train page's widget key of a hyperparameter: ``batch_size`` -> ``train_batch_size``."""
    return f"train_{name}"


def widget_values(hp: Hyperparameters) -> dict:
    """Every hyperparameter widget's value for the recipe ``hp``, by widget key (what a preset button sets)."""
    return {widget_key(name): value for name, value in hp.to_dict().items()}


def chosen_hyperparameters(values: Mapping) -> Hyperparameters:
    """The recipe the widgets hold, read from their values by widget key (the page's session state)."""
    return Hyperparameters(**{name: values[widget_key(name)] for name in specs()})


def has_design(values: Mapping) -> bool:
    """Whether the recipe the widgets hold has a design of its own (not the tutorial's network of its sizes)."""
    return bool(values[widget_key("layers")].strip())


def preset_in_use(values: Mapping) -> Preset | None:
    """The preset whose recipe the widgets hold (any seed), or None once the learner changed part of it."""
    chosen = chosen_hyperparameters(values)
    return next((preset for preset, hp in PRESETS.items() if replace(chosen, seed=hp.seed) == hp), None)
