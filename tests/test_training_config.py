"""Every hyperparameter defined once: the presets, the CLI's options and TrainConfig.to_args all come from it."""

import dataclasses

import pytest

from cnnlib.text import catalogue
from cnnlib.training.cli import build_parser, config_from_args
from cnnlib.training.config import (BEST_DESIGN, DEFAULT_PRESET, PRESETS, Hyperparameters, Preset, TrainConfig, Widget,
                                    option_name, option_type, specs, switch)


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
                                                       init="tutorial", lr_decay="none", kernel_size=3, warmup=0.0,
                                                       beta_1=0.9, beta_2=0.999, augment=False, drawn_share=0.0,
                                                       label_smoothing=0.0)
    assert PRESETS[Preset.FAST] == Hyperparameters(epochs=8, batch_size=64, learning_rate=2e-3, keep_prob=1.0,
                                                   init="he", lr_decay="cosine", kernel_size=5, warmup=0.2,
                                                   beta_1=0.7, beta_2=0.9, augment=False, drawn_share=0.5,
                                                   label_smoothing=0.1)
    assert PRESETS[Preset.BEST] == dataclasses.replace(PRESETS[Preset.FAST], epochs=15, batch_size=128,
                                                       learning_rate=3e-3, beta_1=0.9, beta_2=0.999, augment=True,
                                                       drawn_share=0.0, label_smoothing=0.0, layers=BEST_DESIGN)
    assert DEFAULT_PRESET == "fast" and PRESETS[DEFAULT_PRESET] == Hyperparameters() == TrainConfig().hp
    assert list(Preset) == ["tutorial", "fast", "best"]


def test_bounds_say_which_values_are_valid():
    spec = specs()
    assert spec["keep_prob"].allows(1.0) and not spec["keep_prob"].allows(0.0)
    assert spec["epochs"].allows(1) and not spec["epochs"].allows(0)
    assert spec["init"].allows("he") and not spec["init"].allows("zeros")
    assert spec["augment"].allows(False) and not spec["augment"].allows(1)


def test_an_on_off_option_reads_words_and_rejects_others():
    assert [switch(text) for text in ("True", "on", "1", "false", "OFF", "0")] == [True] * 3 + [False] * 3
    with pytest.raises(ValueError):
        switch("maybe")
    assert option_type("augment") is switch and option_type("epochs") is int and option_type("beta_1") is float


def parse(*arguments: str) -> TrainConfig:
    """The config the CLI would train for these arguments (nothing is trained)."""
    return config_from_args(build_parser().parse_args(list(arguments)))


def test_cli_without_options_trains_the_default_preset_and_options_override_a_preset():
    assert parse().hp == PRESETS[DEFAULT_PRESET]
    assert parse("--preset", "tutorial").hp == PRESETS[Preset.TUTORIAL]
    assert parse("--preset", "tutorial", "--epochs", "3", "--init", "he").hp == dataclasses.replace(
        PRESETS[Preset.TUTORIAL], epochs=3, init="he")
    assert parse("--preset", "best").hp == PRESETS[Preset.BEST]
    assert parse("--preset", "best", "--augment", "false", "--kernel-size", "3").hp == dataclasses.replace(
        PRESETS[Preset.BEST], augment=False, kernel_size=3)


@pytest.mark.parametrize("hp", [PRESETS[Preset.TUTORIAL], PRESETS[Preset.BEST],
                                Hyperparameters(batch_size=7, learning_rate=0.0003, conv1_filters=5, seed=9)])
def test_to_args_reproduces_the_config_through_the_cli(hp, tmp_path):
    config = TrainConfig(hp=hp, data_source="offline", train_limit=500, model_name="m",
                         models_directory=str(tmp_path))
    assert parse(*config.to_args()) == config
    assert [part for part in config.to_args() if part.startswith("--")][:len(specs())] == list(map(option_name,
                                                                                                specs()))
