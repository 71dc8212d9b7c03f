"""A network of the learner's design: its text, its shapes and parameters (equal to Keras's), its refusals, its code."""

import json
import re
from dataclasses import replace

import keras  # noqa: F401 - TensorFlow raises the recursion limit as it loads: before hypothesis runs, not during
import pytest
from conftest import train_in_process
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cnnlib import text
from cnnlib.errors import Refusal
from cnnlib.network.architecture import build_model
from cnnlib.network.design import (MAX_LAYERS, design_text, keras_code, parse_design, recipe_design, recipe_layers,
                                   seconds_per_epoch, traced_design, tutorial_design)
from cnnlib.network.design_layers import (LAYER_ACTIVATIONS, PADDINGS, AvgPool, BatchNorm, Conv, Dense, Dropout,
                                          Flatten, GlobalAvgPool, MaxPool)
from cnnlib.network.reader import ModelProbe
from cnnlib.store.checks import check_architecture
from cnnlib.store.saved import load_model
from cnnlib.text import catalogue
from cnnlib.training.cli import build_parser, config_from_args
from cnnlib.training.config import PRESETS, Hyperparameters, Preset, TrainConfig, design_refusal, specs
from cnnlib.training.room import parameter_count

SMALL = dict(epochs=1, batch_size=50)  # nothing here trains for long
rates = st.floats(0, 1, exclude_max=True)
windows = st.integers(1, 4)
picture_layers = st.one_of(
    st.builds(Conv, st.integers(1, 6), windows, st.integers(1, 3), st.sampled_from(PADDINGS),
              st.sampled_from(LAYER_ACTIVATIONS)),
    st.builds(MaxPool, windows, st.integers(1, 3), st.sampled_from(PADDINGS)),
    st.builds(AvgPool, windows, st.integers(1, 3), st.sampled_from(PADDINGS)),
    st.just(BatchNorm()), st.builds(Dropout, rates))
row_layers = st.one_of(st.builds(Dense, st.integers(1, 12), st.sampled_from(LAYER_ACTIVATIONS)),
                       st.builds(Dropout, rates), st.just(BatchNorm()))
designs = st.builds(lambda pictures, turn, rows: (*pictures, *turn, *rows), st.lists(picture_layers, max_size=4),
                    st.sampled_from([(), (GlobalAvgPool(),), (Flatten(),)]), st.lists(row_layers, max_size=3))


def keras_rows(model) -> list[tuple[str, tuple, int]]:
    """Each layer of a built model: its name, output shape (no batch axis) and parameter count."""
    return [(layer.name, tuple(layer.output.shape[1:]), layer.count_params()) for layer in model.layers]


def traced_rows(design) -> list[tuple[str, tuple, int]]:
    return [(row.name, row.shape, row.parameters) for row in traced_design(design).rows]


# Text ---------------------------------------------------------------------------------------------------------------

def test_the_text_reads_every_layer_with_its_defaults():
    assert parse_design("conv:8:3, pool:2 ,avgpool:3:1:same,dense:64:tanh,dropout:0.5,bn,gap,flatten") == (
        Conv(8, 3, 1, "same", "relu"), MaxPool(2, 2, "valid"), AvgPool(3, 1, "same"), Dense(64, "tanh"), Dropout(0.5),
        BatchNorm(), GlobalAvgPool(), Flatten())
    assert parse_design("CONV:8:3:2:VALID:Linear") == (Conv(8, 3, 2, "valid", "linear"),)
    assert parse_design("") == parse_design("  ") == ()


@pytest.mark.parametrize("written, shortest", [
    ("conv:8:3:1:same:relu", "conv:8:3"), ("pool:2:2:valid", "pool:2"), ("pool:2:2:same", "pool:2:2:same"),
    ("avgpool:3:3", "avgpool:3"), ("dense:10:relu", "dense:10"), ("dropout:0.250", "dropout:0.25"),
    ("dropout:0", "dropout:0"), ("conv:8:3:1:valid", "conv:8:3:1:valid")])
def test_design_text_writes_the_shortest_form(written, shortest):
    assert design_text(parse_design(written)) == shortest


@settings(max_examples=200, deadline=None)
@given(designs)
def test_text_and_design_round_trip(design):
    assert parse_design(design_text(design)) == design
    assert design_text(parse_design(design_text(design))) == design_text(design)


# Shapes and parameters ----------------------------------------------------------------------------------------------

@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(designs)
def test_shapes_and_parameters_are_kerass(design):
    try:
        traced = traced_design(design)
    except Refusal:
        assume(False)
    model = build_model(Hyperparameters(layers=recipe_layers(design), **SMALL))
    assert keras_rows(model) == traced_rows(design)
    assert model.count_params() == traced.parameters


def test_a_design_is_named_and_measured_layer_by_layer():
    rows = traced_design(parse_design("conv:8:3,pool:2,dense:64")).rows
    assert [(row.name, row.kind, row.shape, row.parameters, row.multiply_adds, row.added) for row in rows] == [
        ("conv1", "conv", (28, 28, 8), 80, 28 * 28 * 8 * 9, False), ("pool1", "pool", (14, 14, 8), 0, 0, False),
        ("flatten", "flatten", (1568,), 0, 0, True), ("dense1", "dense", (64,), 100_416, 1568 * 64, False),
        ("logits", "logits", (10,), 650, 640, True)]
    assert traced_rows(()) == [("flatten", (784,), 0), ("logits", (10,), 7850)]  # a linear classifier
    assert traced_rows(parse_design(recipe_layers(()))) == traced_rows(())
    assert [row.name for row in traced_design(parse_design("conv:4:3,bn,gap,dense:8,bn,dropout:0.1")).rows] == [
        "conv1", "bn1", "gap1", "dense1", "bn2", "dropout1", "logits"]


@pytest.mark.parametrize("hp", [Hyperparameters(), PRESETS[Preset.TUTORIAL],
                                Hyperparameters(conv1_filters=4, conv2_filters=8, dense_units=16, keep_prob=0.75,
                                                kernel_size=3, seed=7)])
def test_the_tutorial_design_is_the_tutorials_network_weight_for_weight(hp):
    tutorial = build_model(hp)
    designed = build_model(replace(hp, layers=design_text(tutorial_design(hp))))
    assert keras_rows(designed) == keras_rows(tutorial) == traced_rows(tutorial_design(hp))
    assert [row[0] for row in keras_rows(tutorial)] == ["conv1", "pool1", "conv2", "pool2", "flatten", "dense1",
                                                        "dropout1", "dense2", "dropout2", "logits"]
    for mine, theirs in zip(designed.get_weights(), tutorial.get_weights(), strict=True):
        assert (mine == theirs).all()
    assert recipe_design(hp) == tutorial_design(hp) and parameter_count(hp) == tutorial.count_params()


def test_the_room_counts_a_designs_weights():
    hp = Hyperparameters(layers="conv:8:3,pool:2,dense:64")
    assert parameter_count(hp) == 80 + 100_416 + 650


def test_an_epoch_is_estimated_from_the_multiply_adds_and_a_huge_one_is_slow():
    default = traced_design(tutorial_design(Hyperparameters()))
    assert 30 < seconds_per_epoch(default.multiply_adds) < 120 and not default.slow  # measured: 60-120 s here
    assert seconds_per_epoch(10**6, 1000) < seconds_per_epoch(10**7, 1000) < seconds_per_epoch(10**7, 2000)
    assert traced_design(parse_design("conv:64:5,conv:128:5,pool:2,dense:64")).slow


# Refusals -----------------------------------------------------------------------------------------------------------

IMPOSSIBLE = [
    ("conv:8:3,,pool:2", "empty_layer", "Layer 2 of the design is empty"),
    ("conv:8:3,maxpool:2", "unknown_layer", 'Layer 2, "maxpool", is not a layer the designer knows'),
    ("conv:8", "field_count", 'Layer 1, "conv:8", has 1 value(s) after its name. Write it as '
                              "conv:FILTERS:KERNEL[:STRIDE[:PADDING[:ACTIVATION]]]."),
    ("bn:2", "field_count", 'Layer 1, "bn:2", has 1 value(s) after its name. Write it as bn.'),
    ("conv:8.5:3", "not_whole", 'Layer 1, "conv:8.5:3": 8.5 is not a whole number.'),
    ("dense:64,dropout:half", "not_number", 'Layer 2, "dropout:half": half is not a number.'),
    (",".join(["bn"] * (MAX_LAYERS + 1)), "too_many_layers", f"The design has 31 layers; the designer takes up to "
                                                             f"{MAX_LAYERS}."),
    ("conv:0:3", "range.filters", "conv1 has 0 filters: a convolution has from 1 to 1,024."),
    ("conv:8:29", "range.kernel", "conv1 has a 29-wide kernel"),
    ("conv:8:3:0", "range.stride", "conv1 has a stride of 0"),
    ("pool:0", "range.size", "pool1 has a 0-wide window"),
    ("dense:0", "range.units", "dense1 has 0 units"),
    ("dense:8,dropout:1", "range.rate", "dropout1 has a dropout rate of 1.0"),
    ("dropout:-0.1", "range.rate", "dropout1 has a dropout rate of -0.1"),
    ("conv:8:3:1:full", "choice.padding", 'conv1 has the padding "full". Write one of same, valid.'),
    ("dense:8:softmax", "choice.activation", 'dense1 has the activation "softmax"'),
    ("conv:8:3,gap,conv:8:3", "not_a_picture", "conv2 needs a map of height x width x channels, but after gap1 the "
                                               "digit is a row of 8 value(s)."),
    ("dense:16,pool:2", "not_a_picture", "pool1 needs a map of height x width x channels, but after dense1"),
    ("flatten,flatten", "not_a_picture", "flatten2 needs a map"),
    ("pool:2,pool:2,pool:2,pool:2,pool:2:1", "window_too_big", "pool5 (2x2, VALID) cannot slide over the 1x1x1 map "
                                                              "that reaches it."),
    ("conv:8:5:1:valid,pool:5,conv:8:5:1:valid", "window_too_big", "conv2 (5x5, VALID) cannot slide over the 4x4x8"),
    ("dense:10000", "too_many_parameters", "The network has 7,950,010 parameters, more than the 5,000,000"),
]


@pytest.mark.parametrize("written, key, sentence", IMPOSSIBLE, ids=[case[0][:30] for case in IMPOSSIBLE])
def test_each_impossible_design_gets_its_sentence(written, key, sentence, monkeypatch):
    with pytest.raises(Refusal) as refused:
        traced_design(parse_design(written))
    assert refused.value.key == f"design.{key}" and str(refused.value).startswith(sentence)
    assert "\n" not in str(refused.value) and not specs()["layers"].allows(written)
    monkeypatch.setattr(text, "_language_resolver", lambda: text.KOREAN)
    korean = str(refused.value)
    assert re.search("[가-힣]", korean) and not any(pair in korean for pair in text.PARTICLES)


def test_every_sentence_of_the_designer_is_met():
    met = {f"design.{key}" for _, key, _ in IMPOSSIBLE}
    sentences = {key for key in catalogue("en") if key.startswith("design.") and (
        key.count(".") == 1 or key.startswith(("design.range.", "design.choice.")))}  # the refusals, not the page's
    assert sentences - met == {"design.impossible"}  # the layer table's own limits, beyond the designer's checks


# Code to take home --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("written", ["conv:8:3:2:valid:tanh,avgpool:2:1:same,bn,dense:16:sigmoid,dropout:0.25",
                                     "conv:4:5,pool:3:2,gap,dense:8", ""])
def test_the_keras_code_builds_the_same_network(written, capsys):
    design = parse_design(written)
    namespace = {}
    exec(keras_code(design), namespace)  # noqa: S102 - the code the page offers to take home
    built = build_model(Hyperparameters(layers=recipe_layers(design), **SMALL))
    assert keras_rows(namespace["model"]) == keras_rows(built) == traced_rows(design)
    assert "Total params" in capsys.readouterr().out


def test_the_keras_code_reads_like_the_keras_example():
    code = keras_code(parse_design("conv:32:3,pool:2,dense:64"))
    assert 'layers.Conv2D(32, kernel_size=(3, 3), padding="same", activation="relu", name="conv1"),' in code
    assert 'layers.MaxPooling2D(pool_size=(2, 2), name="pool1"),  # -> (14, 14, 32)' in code
    assert 'layers.Dense(10, name="logits"),' in code and "keras.Input(shape=(28, 28, 1))" in code


# The recipe and the command line -----------------------------------------------------------------------------------

def test_the_recipe_carries_a_design_through_the_cli_arguments(tmp_path):
    config = TrainConfig(hp=replace(PRESETS[Preset.TUTORIAL], layers="conv:8:3,pool:2,dense:32,dropout:0.5"),
                         data_source="offline", model_name="m", models_directory=str(tmp_path))
    assert config_from_args(build_parser().parse_args(config.to_args())) == config
    assert PRESETS[Preset.TUTORIAL].layers == PRESETS[Preset.FAST].layers == ""  # the tutorial's network
    assert design_refusal(PRESETS[Preset.BEST].layers) is None and "bn" in PRESETS[Preset.BEST].layers  # its own


def test_cli_refuses_an_impossible_design_with_exit_code_2_and_one_line(capsys):
    with pytest.raises(SystemExit) as exited:
        train_in_process(capsys, "--layers", "conv:8:3,gap,pool:2", "--data", "offline")
    error = capsys.readouterr().err
    assert exited.value.code == 2 and error.count("\n") == 1
    assert "pool1 needs a map of height x width x channels, but after gap1" in error


def test_cli_trains_a_design_that_the_draw_page_reads_and_reports_its_parameters_and_layers(tmp_path, capsys,
                                                                                            offline_mnist):
    out = tmp_path / "designed.keras"
    written = "conv:4:3,bn,avgpool:2,conv:4:3:1:valid:tanh,pool:2,gap,dense:8,dropout:0.2"
    code, printed = train_in_process(capsys, "--layers", written, "--epochs", "1", "--train-limit", "200",
                                     "--drawn-share", "0", "--data", "offline", "--snapshots", "2", "--out", str(out))
    summary = json.loads(printed.strip().splitlines()[-1])
    traced = traced_design(parse_design(written))
    assert code == 0 and summary["parameters"] == traced.parameters == 40 + 16 + 148 + 40 + 90
    assert summary["layers"] == [{"name": row.name, "shape": list(row.shape)} for row in traced.rows]
    assert json.loads(out.with_suffix(".json").read_text())["hyperparameters"]["layers"] == written
    check_architecture(out)  # what an upload or the models list checks before Keras reads the file
    model = load_model(out)
    reading = ModelProbe(model).read(offline_mnist.x_test[0] / 255.0)
    assert {name: values.shape for name, values in reading.activations.items()} == {
        row.name: row.shape for row in traced.rows}
    expected = model.predict_on_batch(offline_mnist.x_test[:1, ..., None] / 255.0)[0]
    assert reading.activations["logits"] == pytest.approx(expected, abs=1e-4)
