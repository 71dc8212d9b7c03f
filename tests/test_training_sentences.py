"""The words about training: made from data at display time, the English exactly as the Train page shows it."""

import time
from dataclasses import replace

import pytest

from cnnlib import text
from cnnlib.store.saved import SavedModel, models_table
from cnnlib.training.config import PRESETS, Hyperparameters, Preset
from cnnlib.training.events import apply_event
from cnnlib.training.progress import Ending, Phase, Progress, RunState
from cnnlib.training.runs import QueuePlace
from cnnlib.training.sentences import (device_text, ending_text, preset_caption, preset_label, result_metrics,
                                       run_caption, run_label, status_line)
from cnnlib.training.widgets import (chosen_hyperparameters, option_text, preset_in_use, widget_arguments,
                                     widget_key, widget_values)


def training(**changes) -> Progress:
    """A run in its first epoch: batch 12 of 74, 1,520 images/s, started 21 s ago."""
    progress = Progress(state=RunState.RUNNING, phase=Phase.TRAINING, epochs=10, batch_size=50, steps_per_epoch=74,
                        epoch=3, batch=12, images_per_second=1520.0, started_at=time.time() - 21.2)
    for name, value in changes.items():
        setattr(progress, name, value)
    return progress


def test_what_a_run_does_after_a_batch_is_named_with_how_many_digits_it_tests(monkeypatch):
    head = "Epoch 3/10 · batch 12/74 of 50 · 1,520 images/s · 21 s elapsed · "
    validating, untrained, evaluating = Progress(), Progress(), Progress()
    apply_event(validating, {"event": "validating", "epoch": 3, "count": 5000})
    apply_event(untrained, {"event": "replay_testing", "epoch": 0, "count": 2000})
    apply_event(evaluating, {"event": "evaluating", "done": 4000, "count": 300000})
    assert status_line(training(phase=validating.phase, phase_digits=5000)) == (
        head + "testing on the 5,000 validation digits…")
    assert status_line(training(phase=Phase.REPLAY_TESTING, phase_epoch=3, phase_digits=2000)) == (
        head + "testing epoch 3's weights on 2,000 test digits for the replay…")
    assert status_line(training(phase=untrained.phase, phase_epoch=0, phase_digits=2000)) == (
        head + "testing the untrained weights on 2,000 test digits for the replay…")
    assert status_line(training(phase=evaluating.phase, phase_done=4000, phase_digits=300000)) == (
        head + "measuring test accuracy: 4,000 of 300,000 test digits done…")
    apply_event(evaluating, {"event": "batch", "epoch": 4, "batch": 1, "cost": 0.3, "t": 30.0})
    assert evaluating.phase == Phase.TRAINING  # the next epoch's first batch
    monkeypatch.setattr(text, "_language_resolver", lambda: text.KOREAN)
    assert status_line(training(phase=Phase.REPLAY_TESTING, phase_epoch=3, phase_digits=2000)).endswith(
        "다시 보기용으로 에폭 3의 가중치를 테스트 숫자 2,000개로 재는 중…")


def test_status_line_says_where_the_run_is_how_fast_and_how_long_to_go():
    progress = training(batch_costs=[1.0] * 160)
    left = (740 - 160) * 50 / 1520
    assert status_line(progress) == ("Epoch 3/10 · batch 12/74 of 50 · 1,520 images/s · 21 s elapsed · "
                                     f"about {left:,.0f} s left")
    assert status_line(training(phase=Phase.SAVING)) == ("Epoch 3/10 · batch 12/74 of 50 · 1,520 images/s · 21 s "
                                                         "elapsed · saving the model and its epochs for the replay…")
    assert status_line(training(phase=Phase.STARTING)) == ("Starting TensorFlow and loading the digits in the "
                                                           "trainer process…")
    assert status_line(training(phase=Phase.REDRAWING, redrawing_count=55000)) == (
        "Redrawing 55,000 training digits as pen strokes, as you would draw them on the Draw page…")
    assert status_line(Progress(), QueuePlace(2, 1)) == (
        "Waiting in the queue: 2 training(s) ahead of yours (at most 1 per server, so they do not slow each other "
        "to a crawl). It starts by itself.")


def test_endings_are_worded_when_shown():
    assert ending_text(Progress(ending=Ending.TRAINER_ERROR, message="OSError: disk full")) == "OSError: disk full"
    assert ending_text(Progress(ending=Ending.SIGNAL, exit_code=-9)) == ("The trainer was killed by signal 9 "
                                                                         "(out of memory?).")
    assert ending_text(Progress(ending=Ending.EXIT_CODE, exit_code=3)) == ("The trainer exited with code 3 without "
                                                                           "saying why.")
    assert ending_text(Progress(ending=Ending.NO_ANSWER)).startswith("The trainer did not answer Stop")
    assert ending_text(Progress(ending=Ending.CANCELLED)) == "Cancelled while waiting in the queue."


def test_presets_runs_and_devices_read_as_before():
    assert [preset_label(preset) for preset in Preset] == ["As in the tutorial", "Fast and stable", "Best accuracy"]
    assert preset_caption(Preset.TUTORIAL).startswith("50 epochs, batch 100, Adam 0.01, keep 0.75, filters from "
                                                      "N(0, 1). The tutorial reported 98.51% on full MNIST")
    assert preset_caption(Preset.TUTORIAL).endswith("Often stays at chance: see why.")
    recipe = Hyperparameters(init="he", learning_rate=0.001, lr_decay="cosine", batch_size=50, keep_prob=0.75)
    assert run_label(1, recipe) == "#1: He-normal, lr 0.001 cosine, batch 50, keep 0.75"
    assert run_label(2, PRESETS[Preset.TUTORIAL]) == "#2: N(0, 1) filters, lr 0.01, batch 100, keep 0.75"
    assert run_label(3, replace(recipe, layers="conv:8:3,gap")) == "#3: network conv:8:3,gap, He-normal, lr 0.001, batch 50"
    assert device_text({"kind": "gpus", "name": "H200", "count": 2}) == "2 GPUs (H200), MirroredStrategy"


@pytest.mark.parametrize("language", ["en", "ko"])
def test_every_presets_caption_shows_what_it_reached_in_both_languages(monkeypatch, language):
    monkeypatch.setattr(text, "_language_resolver", lambda: language)
    captions = {preset: preset_caption(preset) for preset in Preset}
    assert "98.43%" in captions[Preset.TUTORIAL] and "99.22%" in captions[Preset.FAST]
    assert "99.55%" in captions[Preset.BEST] and "99.63%" in captions[Preset.BEST]  # its three seeds' range


def test_a_runs_caption_and_label_name_its_data_and_filters_in_the_learners_language(monkeypatch):
    progress = training(device={"kind": "cpu", "threads": 2}, train_count=3667, data_source="offline")
    assert run_caption("#1", progress) == "Run #1 · training on **CPU (2 threads)** · 3,667 digits (offline subset)"
    monkeypatch.setattr(text, "_language_resolver", lambda: "ko")
    assert run_caption("#1", progress).endswith("숫자 3,667개 (오프라인 부분 집합)")
    assert run_label(1, Hyperparameters()).startswith("#1: He 초기화, 학습률 0.002 코사인")


def test_widgets_come_from_the_fields_with_the_tutorials_values_marked():
    epochs = widget_arguments("epochs")
    assert (epochs["label"], epochs["min_value"], epochs["max_value"], epochs["step"]) == ("Epochs (tutorial: 50)",
                                                                                          1, 500, 1)
    batch = widget_arguments("batch_size")
    assert batch["label"] == "Batch size" and 100 in batch["options"]
    assert batch["format_func"](100) == "100 (tutorial)" and batch["format_func"](50) == "50"
    assert widget_arguments("keep_prob")["label"] == "Dropout keep probability (tutorial: 0.75)"
    assert widget_arguments("init")["horizontal"] and option_text("init", "tutorial") == (
        "N(0, 1) filters and biases, as the tutorial's tf.random_normal (tutorial)")
    assert option_text("lr_decay", "cosine") == "cosine decay to 0"
    assert widget_arguments("seed")["help"] == "Initial weights, dropout masks and batch order."
    values = widget_values(PRESETS[Preset.TUTORIAL])
    assert values[widget_key("learning_rate")] == 0.01 and chosen_hyperparameters(values) == PRESETS[Preset.TUTORIAL]


def test_result_metrics_and_the_models_table():
    progress = Progress(test_accuracy=0.98765, epoch_costs=[1.0, 0.5], misclassified_count=12, test_count=1000,
                        started_at=100.0, finished_at=134.4)
    assert result_metrics(progress) == [("Test accuracy (dropout off)", "98.77%"), ("Epochs trained", "2"),
                                        ("Time, with start-up", "34 s"), ("Misclassified", "12 of 1,000")]
    models = [SavedModel("a", None, {"test_accuracy": 0.9, "data_source": "offline", "epochs_completed": 3,
                                     "date": "2026-11-29"}), SavedModel("b", None)]
    rows = models_table(models, models[1])
    assert rows[0] == {"name": "a", "used by Draw": "", "test accuracy": 0.9, "data": "offline", "epochs": 3,
                       "date": "2026-11-29"}
    assert rows[1]["used by Draw"] == "✓"
    assert Hyperparameters().to_dict() == chosen_hyperparameters(widget_values(Hyperparameters())).to_dict()


def test_the_preset_in_use_is_the_one_the_widgets_hold_whatever_the_seed():
    assert all(preset_in_use(widget_values(hp)) == preset for preset, hp in PRESETS.items())
    assert preset_in_use(widget_values(replace(PRESETS[Preset.BEST], seed=5))) == Preset.BEST
    assert preset_in_use(widget_values(replace(PRESETS[Preset.FAST], learning_rate=0.01))) is None
