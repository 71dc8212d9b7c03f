"""Every hyperparameter defined once: the presets, the CLI's options and TrainConfig.to_args all come from it."""

import dataclasses

import pytest

from cnnlib.text import catalogue
from cnnlib.training.cli import build_parser, config_from_args
from cnnlib.training.config import (DEFAULT_PRESET, PRESETS, Hyperparameters, Preset, TrainConfig, Widget,
                                    option_name, specs)


def test_every_field_has_a_spec_with_its_words_in_the_catalogue():
    english = catalogue("en")
    assert list(specs()) == [item.name for item in dataclasses.fields(Hyperparameters)]
    for name, spec in specs().items():
        assert spec.label_key in english and spec.help_key in english, name
        assert all(spec.option_key(choice) in english for choice in spec.choices), name
        default = getattr(Hyperparameters(), name)
        assert spec.allows(default) and (spec.tutorial is None or spec.allows(spec.tutorial)), name
        assert all(spec.allows(value) for value in spec.offered), name
        assert (spec.page_range is not None) == (spec.widget in (Widget.NUMBER, Widget.SLIDER)), name


def test_the_tutorial_preset_is_the_tutorials_recipe_and_fast_is_the_default():
    assert PRESETS[Preset.TUTORIAL] == Hyperparameters(epochs=50, batch_size=100, learning_rate=0.01, keep_prob=0.75,
                                                       init="tutorial", lr_decay="none")
    assert PRESETS[Preset.FAST] == Hyperparameters(epochs=10, batch_size=50, learning_rate=1e-3, keep_prob=0.75,
                                                   init="he", lr_decay="cosine")
    assert DEFAULT_PRESET == "fast" and PRESETS[DEFAULT_PRESET] == Hyperparameters() == TrainConfig().hp
    assert list(Preset) == ["tutorial", "fast"]


def test_bounds_say_which_values_are_valid():
    spec = specs()
    assert spec["keep_prob"].allows(1.0) and not spec["keep_prob"].allows(0.0)
    assert spec["epochs"].allows(1) and not spec["epochs"].allows(0)
    assert spec["init"].allows("he") and not spec["init"].allows("zeros")


def parse(*arguments: str) -> TrainConfig:
    """The config the CLI would train for these arguments (nothing is trained)."""
    return config_from_args(build_parser().parse_args(list(arguments)))


def test_cli_without_options_trains_the_default_preset_and_options_override_a_preset():
    assert parse().hp == PRESETS[DEFAULT_PRESET]
    assert parse("--preset", "tutorial").hp == PRESETS[Preset.TUTORIAL]
    assert parse("--preset", "tutorial", "--epochs", "3", "--init", "he").hp == dataclasses.replace(
        PRESETS[Preset.TUTORIAL], epochs=3, init="he")


@pytest.mark.parametrize("hp", [PRESETS[Preset.TUTORIAL], Hyperparameters(batch_size=7, learning_rate=0.0003,
                                                                           conv1_filters=5, seed=9)])
def test_to_args_reproduces_the_config_through_the_cli(hp, tmp_path):
    config = TrainConfig(hp=hp, data_source="offline", train_limit=500, model_name="m",
                         models_directory=str(tmp_path))
    assert parse(*config.to_args()) == config
    assert [part for part in config.to_args() if part.startswith("--")][:len(specs())] == list(map(option_name,
                                                                                                specs()))
