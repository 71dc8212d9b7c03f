"""The Train page's network designer as data (cnnlib/training/designer.py): the settings each layer offers, the edits,
the design a recipe holds, and the words and numbers of the live table; the size widgets a design sets aside."""

from dataclasses import replace

import pytest

from cnnlib import text
from cnnlib.network.design import FULL_MNIST_DIGITS, recipe_design, traced_design, tutorial_design
from cnnlib.network.design_layers import (LAYER_ACTIVATIONS, PADDINGS, AvgPool, BatchNorm, Conv, Dense, Dropout,
                                          Flatten, GlobalAvgPool, MaxPool)
from cnnlib.training import designer, widgets
from cnnlib.training.config import PRESETS, Hyperparameters, Preset
from cnnlib.training.designer import (added, design_table, design_totals, duration_text, insert_positions,
                                      layer_names, layer_settings, moved, network_caption, position_label,
                                      recipe_layers_for, removed, trained_digits, with_setting)

SMALL = (Conv(8, 3), MaxPool(2), Dense(64))


def test_a_convolution_offers_its_five_settings_with_their_ranges():
    filters, kernel, stride, padding, activation = layer_settings(Conv(8, 3))
    assert (filters.name, filters.value, filters.low, filters.high) == ("filters", 8, 0, 1024)  # 0 meets its sentence
    assert (kernel.value, kernel.low, kernel.high, stride.value, stride.low) == (3, 1, 28, 1, 1)
    assert padding.choices == PADDINGS and padding.value == "same"
    assert activation.choices == LAYER_ACTIVATIONS and activation.value == "relu"


def test_each_kind_offers_its_own_settings():
    names = lambda layer: [setting.name for setting in layer_settings(layer)]  # noqa: E731
    assert names(MaxPool(2)) == names(AvgPool(3)) == ["size", "stride", "padding"]
    assert [setting.value for setting in layer_settings(MaxPool(3))] == [3, 3, "valid"]  # its stride is its size
    assert names(Dense(64)) == ["units", "activation"] and layer_settings(Dense(64))[0].low == 0
    assert names(BatchNorm()) == names(GlobalAvgPool()) == names(Flatten()) == []
    [rate] = layer_settings(Dropout(0.25))
    assert (rate.value, rate.low, rate.high, rate.step) == (0.25, 0.0, 1.0, 0.05)  # 1 is offered: its sentence says no
    assert all(isinstance(number, float) for number in (rate.low, rate.high, rate.step))  # one type for number_input


def test_edits_change_one_thing_and_keep_the_rest():
    assert added(SMALL, 3, "bn") == (*SMALL, BatchNorm())
    assert added(SMALL, 0, "conv") == (Conv(16, 3), *SMALL)
    assert added(SMALL, 1, "dropout") == (Conv(8, 3), Dropout(0.25), MaxPool(2), Dense(64))
    assert removed(SMALL, 1) == (Conv(8, 3), Dense(64))
    assert moved(SMALL, 1, -1) == (MaxPool(2), Conv(8, 3), Dense(64))
    assert moved(SMALL, 1, 1) == (Conv(8, 3), Dense(64), MaxPool(2))
    assert moved(SMALL, 0, -1) == moved(SMALL, 2, 1) == SMALL  # nowhere to go
    assert with_setting(SMALL, 0, "filters", 16.0) == (Conv(16, 3), MaxPool(2), Dense(64))
    assert type(with_setting(SMALL, 0, "filters", 16.0)[0].filters) is int
    assert with_setting(SMALL, 1, "padding", "same")[1] == MaxPool(2, 2, "same")
    assert with_setting((Dropout(0.25),), 0, "rate", 1) == (Dropout(1.0),)


def test_every_kind_can_be_added_and_the_new_layer_fits_a_picture():
    assert designer.kinds() == ["conv", "pool", "avgpool", "dense", "dropout", "bn", "gap", "flatten"]
    for word in designer.kinds():
        traced_design(added((Conv(8, 3),), 1, word))  # each kind's first settings make a possible design here


def test_the_recipe_holds_nothing_while_the_design_is_the_tutorials_network_of_its_sizes():
    fast = PRESETS[Preset.FAST]
    assert recipe_layers_for(tutorial_design(fast), fast) == ""
    assert recipe_layers_for(tutorial_design(fast), PRESETS[Preset.TUTORIAL]) != ""  # other sizes: a design
    assert recipe_layers_for(SMALL, fast) == "conv:8:3,pool:2,dense:64"
    assert recipe_layers_for((), fast) == "flatten"  # no layers at all: a linear classifier, not the tutorial's
    edited = with_setting(tutorial_design(fast), 0, "filters", 8)
    assert recipe_design(replace(fast, layers=recipe_layers_for(edited, fast))) == edited
    impossible = (Dense(64), GlobalAvgPool(), Dropout(1.0), Conv(0, 3))  # kept as it is, to be mended
    assert recipe_design(replace(fast, layers=recipe_layers_for(impossible, fast))) == impossible


def test_layers_are_named_as_keras_builds_them_and_a_new_one_goes_where_chosen():
    assert layer_names(tutorial_design(Hyperparameters())) == ["conv1", "pool1", "conv2", "pool2", "dense1",
                                                               "dropout1", "dense2", "dropout2"]
    assert layer_names((Conv(8, 3), AvgPool(2), BatchNorm(), Flatten())) == ["conv1", "avgpool1", "bn1", "flatten"]
    assert insert_positions(SMALL) == [3, 0, 1, 2]  # the end first
    assert [position_label(SMALL, position) for position in insert_positions(SMALL)] == [
        "at the end", "at the start", "after conv1", "after pool1"]


def test_the_live_table_shows_each_layer_keras_builds():
    rows = design_table(traced_design(SMALL))
    assert rows[0] == {"layer": "conv1", "kind": "convolution", "output (NHWC, one digit)": "28x28x8",
                       "parameters": 80, "multiply-adds per digit": 56_448}
    assert [row["layer"] for row in rows] == ["conv1", "pool1", "flatten (added)", "dense1", "logits (added)"]
    assert [row["output (NHWC, one digit)"] for row in rows[1:]] == ["14x14x8", "1568", "64", "10"]
    assert rows[-1]["kind"] == "output: 10 logits" and rows[-1]["parameters"] == 650


def test_the_totals_and_an_epochs_time_for_the_chosen_digits():
    traced = traced_design(SMALL)
    assert trained_digits(4000) == 3667 and trained_digits(None) == FULL_MNIST_DIGITS
    (parameters, _), (adds, _), (epoch, seconds) = design_totals(traced, 3667)
    assert parameters == "Parameters" and adds == "Multiply-adds per digit"
    assert design_totals(traced, 3667)[0][1] == f"{traced.parameters:,}" == "101,146"
    assert epoch == "An epoch of 3,667 digits, estimated" and seconds == "about 1 s"
    assert [duration_text(s) for s in (0.2, 26.4, 600, 7200)] == ["about 1 s", "about 26 s", "about 10 min",
                                                                  "about 2.0 h"]


def test_a_slow_design_says_how_long_an_epoch_of_full_mnist_takes():
    slow = traced_design((Conv(128, 7), Conv(128, 7), GlobalAvgPool()))
    assert slow.slow and not traced_design(SMALL).slow
    assert designer.slow_warning(slow).startswith("This network is slow to train here: an epoch of full MNIST would "
                                                  "take about ")


def test_a_models_card_says_what_network_it_has():
    assert network_caption({}) is None and network_caption({"hyperparameters": "?"}) is None
    assert network_caption({"hyperparameters": Hyperparameters().to_dict()}) == (
        "Network: the tutorial's, with the recipe's sizes.")
    card = {"hyperparameters": replace(Hyperparameters(), layers="conv:8:3,gap").to_dict()}
    assert network_caption(card) == "Network of one's own design: `conv:8:3,gap`"


def test_the_designer_speaks_korean(monkeypatch):
    monkeypatch.setattr(text, "_language_resolver", lambda: text.KOREAN)
    assert design_table(traced_design(SMALL))[2]["층"] == "flatten(자동으로 추가됨)"
    assert designer.layer_title("conv1", "conv") == "**conv1**  \n합성곱"
    assert position_label(SMALL, 1) == "conv1 다음" and duration_text(26) == "약 26초"
    assert designer.slow_warning(traced_design((Conv(128, 7), Conv(128, 7), GlobalAvgPool()))).startswith(
        "이 신경망은 여기서 학습이 느립니다. 전체 MNIST로 에폭 한 번에 약 ")


@pytest.mark.parametrize("name", widgets.DESIGNED_SIZES)
def test_a_design_of_ones_own_sets_the_sizes_aside(name):
    arguments = widgets.widget_arguments(name, designed=True)
    assert arguments["disabled"] and "this size does not apply" in arguments["help"]
    assert "disabled" not in widgets.widget_arguments(name)


def test_a_design_is_part_of_the_recipe_the_widgets_hold():
    values = widgets.widget_values(PRESETS[Preset.FAST])
    assert not widgets.has_design(values) and widgets.preset_in_use(values) == Preset.FAST
    values[widgets.widget_key("layers")] = "conv:8:3,gap"
    assert widgets.has_design(values) and widgets.preset_in_use(values) is None  # no preset has this network
    assert widgets.chosen_hyperparameters(values).layers == "conv:8:3,gap"
    assert "disabled" not in widgets.widget_arguments("epochs", designed=True)  # the rest of the recipe still applies
