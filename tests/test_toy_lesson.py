"""cnnlib.lessons.toy.lesson: the Toy convolution page's settings, the conv-then-pool it runs, TensorFlow's agreement and
stepping through the steps, on the tutorial's numbers."""

import numpy as np
import pytest

from cnnlib.lessons.toy import convolution as toy

from cnnlib.lessons.toy import lesson as toy_lesson

TUTORIAL = toy_lesson.tutorial_settings()


def test_tutorial_settings_and_the_arguments_they_give():
    assert TUTORIAL == dict(image_height=3, image_width=3, image_channels=1, filter_height=2, filter_width=2,
                            filter_count=3, conv_stride_rows=1, conv_stride_cols=1, conv_padding="VALID",
                            pool_height=2, pool_width=2, pool_stride_rows=1, pool_stride_cols=1, pool_padding="SAME")
    assert set(toy_lesson.SETTING_LIMITS) == {name for name, value in TUTORIAL.items() if isinstance(value, int)}
    assert all(1 <= TUTORIAL[name] <= top for name, top in toy_lesson.SETTING_LIMITS.items())
    assert toy_lesson.operation_options({**TUTORIAL, "conv_stride_cols": 2, "pool_height": 3}) == dict(
        conv_strides=(1, 2), conv_padding="VALID", pool_size=(3, 2), pool_strides=(1, 1), pool_padding="SAME")


@pytest.mark.parametrize(("changes", "widths"), [
    ({}, [330, 330]),  # three size inputs need 330 px
    ({"image_width": 9}, [440, 330]),  # 9 cells and the row numbers, 44 px each
    ({"filter_count": 4, "filter_width": 4}, [330, 768]),  # 4 filters of 4 cells and 16 px between
])
def test_editor_widths(changes, widths):
    assert toy_lesson.editor_widths({**TUTORIAL, **changes}, 44) == widths


def test_the_tutorials_lesson_runs_conv_then_pool():
    lesson = toy_lesson.lesson_for(toy.TUTORIAL_IMAGE, toy.TUTORIAL_FILTERS, TUTORIAL)
    assert lesson.error is None and lesson.options["pool_size"] == (2, 2)
    assert [step.total for step in lesson.conv.steps[:4]] == [12, 16, 24, 28]
    assert lesson.pool.output[0, :, :, 2].tolist() == [[-12, -16], [-24, -28]]
    assert toy_lesson.is_tutorial_pool(lesson.pool)


def test_a_refused_setting_keeps_what_was_computed_and_says_why():
    no_pool = toy_lesson.lesson_for(toy.TUTORIAL_IMAGE, toy.TUTORIAL_FILTERS,
                                    {**TUTORIAL, "pool_height": 4, "pool_padding": "VALID"})
    assert no_pool.conv is not None and no_pool.pool is None
    assert no_pool.error == "With VALID padding a 4x2 pooling window does not fit a 2x2 input."
    no_conv = toy_lesson.lesson_for(toy.TUTORIAL_IMAGE, np.ones((4, 2, 1, 3)), TUTORIAL)
    assert (no_conv.conv, no_conv.pool) == (None, None)
    assert no_conv.error == "With VALID padding a 4x2 filter does not fit a 3x3 image."


def test_is_tutorial_pool_only_for_the_tutorials_numbers():
    valid = toy_lesson.lesson_for(toy.TUTORIAL_IMAGE, toy.TUTORIAL_FILTERS, {**TUTORIAL, "pool_padding": "VALID"})
    assert not toy_lesson.is_tutorial_pool(valid.pool)
    other = toy_lesson.lesson_for(toy.TUTORIAL_IMAGE + 1, toy.TUTORIAL_FILTERS, TUTORIAL)
    assert not toy_lesson.is_tutorial_pool(other.pool)


def test_agreement_within_float32_rounding_only():
    ours = np.array([[12.0, -28.0]])
    assert toy_lesson.agreement(ours, ours.astype(np.float32)) == toy_lesson.Agreement(True, 0.0)
    close = toy_lesson.agreement(ours, ours + 1e-6)
    assert close.same and close.gap == pytest.approx(1e-6)
    assert toy_lesson.agreement(ours, ours + [[0, 1]]) == toy_lesson.Agreement(False, 1.0)
    assert toy_lesson.agreement(ours, ours.T) == toy_lesson.Agreement(False, float("inf"))


def test_tensorflow_agrees_on_the_tutorial():
    lesson = toy_lesson.lesson_for(toy.TUTORIAL_IMAGE, toy.TUTORIAL_FILTERS, TUTORIAL)
    checks = toy_lesson.tensorflow_agreements(lesson)
    assert [(name, agreement.same) for name, _, agreement in checks] == [("tf.nn.conv2d", True),
                                                                         ("tf.nn.max_pool2d", True)]
    assert checks[1][1][0, :, :, 2].tolist() == [[-12, -16], [-24, -28]]


def test_playback_steps_and_stops_playing_on_a_click():
    playback = toy_lesson.Playback()
    assert playback.shown("conv", 12) == 0
    at_five = playback.go("conv", 5)
    assert at_five.steps == {"conv": 5, "pool": 0} and at_five.shown("conv", 4) == 3  # fewer steps after a change
    assert at_five.toggle("conv", 12).go("conv", 6).playing is None


def test_play_ticks_one_step_per_period_and_stops_on_the_last():
    playing = toy_lesson.Playback().go("pool", 10).toggle("pool", 12)
    assert (playing.playing, playing.last_tick) == ("pool", None)
    started = playing.tick("pool", 12, now=100.0, period=1.2)  # the first tick after Play only starts the clock
    assert (started.steps["pool"], started.last_tick) == (10, 100.0)
    assert started.tick("pool", 12, now=100.5, period=1.2) is started  # a rerun between ticks adds no step
    assert started.tick("conv", 12, now=105.0, period=1.2) is started  # the other stepper is not playing
    last = started.tick("pool", 12, now=101.2, period=1.2)
    assert (last.steps["pool"], last.playing, last.last_tick) == (11, None, 101.2)  # the last step stops it
    assert last.toggle("pool", 12).steps["pool"] == 0  # Play on the last step starts again from the first
    assert started.toggle("pool", 12).playing is None  # Pause


def test_stepper_buttons():
    buttons = toy_lesson.Playback().buttons("conv", 12)
    assert list(buttons) == ["first", "previous", "play", "next", "last"]
    assert [disabled for _, _, disabled in buttons.values()] == [True, True, False, False, False]
    assert buttons["next"][1].steps["conv"] == 1 and buttons["last"][1].steps["conv"] == 11
    assert buttons["play"][:1] == ("play",) and buttons["play"][1].playing == "conv"
    playing = buttons["play"][1].buttons("conv", 12)
    assert playing["play"][0] == "pause" and playing["play"][1].playing is None
    assert toy_lesson.Playback().buttons("pool", 1)["play"][2]  # one step: nothing to play
