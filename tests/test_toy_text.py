"""cnnlib.lessons.toy.words: the Toy convolution page's sentences on the tutorial's numbers, word for word."""

import math

import numpy as np
import pytest

from cnnlib.lessons.toy import convolution as toy

from cnnlib.lessons.toy import lesson as toy_lesson

from cnnlib.lessons.toy import words as toy_text


@pytest.fixture
def tutorial() -> toy_lesson.Lesson:
    """The tutorial's image 1..9, its 1/10/−1 filters, conv stride 1 VALID, max-pool 2x2 stride 1 SAME."""
    return toy_lesson.lesson_for(toy.TUTORIAL_IMAGE, toy.TUTORIAL_FILTERS, toy_lesson.tutorial_settings())


def test_conv_step_in_words(tutorial):
    assert toy_text.conv_step_text(tutorial.conv, tutorial.conv.steps[0]) == (
        "The 2x2 window's top-left corner is on row 0, column 0 of the input (orange box). Multiply each of its 4 "
        "numbers by the weight of filter 0 on top of it, and add the 4 products: **12** goes to row 0, column 0 of "
        "feature map 0.")
    assert "**28** goes to row 1, column 1 of feature map 0." in toy_text.conv_step_text(tutorial.conv,
                                                                                         tutorial.conv.steps[3])


def test_conv_step_on_padding_and_channels_says_so():
    same = toy.conv2d(toy.TUTORIAL_IMAGE, np.ones((3, 3, 1, 1)), 1, "SAME")  # pad 1 on every side
    assert toy_text.conv_step_text(same, same.steps[0]) == (
        "The 3x3 window's top-left corner is on row 0, column 0 of the padded input (orange box). Multiply each of "
        "its 9 numbers by the weight of filter 0 on top of it, and add the 9 products: **12** goes to row 0, column 0 "
        "of feature map 0. 5 of the cells are padding (grey): in a convolution padding is **0**, so they add nothing.")
    two = toy.conv2d(np.ones((1, 2, 2, 2)), np.ones((1, 1, 2, 1)))
    assert "Multiply each of its 2 numbers (2 channels) by the weight of filter 0" in toy_text.conv_step_text(
        two, two.steps[0])


def test_pool_step_in_words_says_why_padding_never_wins(tutorial):
    assert toy_text.pool_step_text(tutorial.pool, tutorial.pool.steps[-1]) == (
        "The 2x2 window's top-left corner is on row 1, column 1 of feature map 2 (orange box). The largest real "
        "number in it, **-28** (green box), goes to row 1, column 1 of pooled map 2. 3 of the window's cells are "
        "padding (grey, \"ignored\"): max-pool padding is never the maximum (TensorFlow treats it as −∞), so only "
        "the real numbers compete. Had the padding been 0, the answer would have been 0 instead of -28.")
    positive = toy_text.pool_step_text(tutorial.pool, tutorial.pool.steps[1])  # max(16, 28) beside padding
    assert positive.endswith("so only the real numbers compete.") and "**28** (green box)" in positive
    assert "padding" not in toy_text.pool_step_text(tutorial.pool, tutorial.pool.steps[0])


def test_step_position(tutorial):
    step = tutorial.conv.steps[5]
    assert toy_text.step_position(5, 12, step) == "**Step 6 of 12**: output row 0, column 1, channel 1"


def test_shapes_as_far_as_they_were_computed(tutorial):
    assert toy_text.shapes_flow(tutorial) == ("image `(1, 3, 3, 1)` ⊛ filters `(2, 2, 1, 3)` → conv output "
                                              "`(1, 2, 2, 3)` → max-pool 2x2 → pooled `(1, 2, 2, 3)`")
    no_pool = toy_lesson.lesson_for(toy.TUTORIAL_IMAGE, toy.TUTORIAL_FILTERS,
                                    {**toy_lesson.tutorial_settings(), "pool_height": 4, "pool_padding": "VALID"})
    assert toy_text.shapes_flow(no_pool).endswith("→ conv output `(1, 2, 2, 3)`")
    no_conv = toy_lesson.lesson_for(toy.TUTORIAL_IMAGE, np.ones((4, 2, 1, 3)), toy_lesson.tutorial_settings())
    assert toy_text.shapes_flow(no_conv) == "image `(1, 3, 3, 1)` ⊛ filters `(4, 2, 1, 3)`"
    assert toy_text.shapes_table(no_conv).splitlines()[0] == "| axis | image | filters |"


def test_shapes_table_says_what_each_axis_means(tutorial):
    assert toy_text.shapes_table(tutorial).splitlines() == [
        "| axis | image | filters | conv output | pooled |",
        "|---|---|---|---|---|",
        "| 0 | images: **1** | filter height: **2** | images: **1** | images: **1** |",
        "| 1 | height: **3** | filter width: **2** | height: **2** | height: **2** |",
        "| 2 | width: **3** | input channels: **1** | width: **2** | width: **2** |",
        "| 3 | channels: **1** | filters: **3** | channels (one per filter): **3** | channels: **3** |",
    ]


def test_padding_rules_on_the_tutorials_numbers(tutorial):
    conv_title, conv_lines, pool_title, pool_lines = toy_text.padding_rules(tutorial)
    assert (conv_title, pool_title) == ("**Convolution** (VALID):", "**Max-pool** (SAME):")
    assert conv_lines.splitlines()[0] == ("- **Height** (input 3, window 2, stride 1): VALID adds no padding; "
                                          "out = (in − k) // stride + 1 = (3 − 2) // 1 + 1 = **2**.")
    assert pool_lines.splitlines() == [
        "- **Height** (input 2, window 2, stride 1): out = ceil(in / stride) = ceil(2 / 1) = **2**; "
        "pad_total = max((out − 1) × stride + k − in, 0) = max((2 − 1) × 1 + 2 − 2, 0) = **1**; "
        "before = pad_total // 2 = **0** (top), after = pad_total − before = **1** (bottom).",
        "- **Width** (input 2, window 2, stride 1): out = ceil(in / stride) = ceil(2 / 1) = **2**; "
        "pad_total = max((out − 1) × stride + k − in, 0) = max((2 − 1) × 1 + 2 − 2, 0) = **1**; "
        "before = pad_total // 2 = **0** (left), after = pad_total − before = **1** (right).",
    ]


def test_zero_padding_would_have_changed_the_tutorials_negative_cells(tutorial):
    assert toy_text.zero_padding_changes(toy.padding_would_have_won(tutorial.pool)).splitlines() == [
        "With the current numbers, zero padding would have changed these cells:",
        "- pooled map 2, row 0, column 1: `max(-16, -28) = -16 (2 padded cells ignored)`; with zero padding it would "
        "be 0",
        "- pooled map 2, row 1, column 0: `max(-24, -28) = -24 (2 padded cells ignored)`; with zero padding it would "
        "be 0",
        "- pooled map 2, row 1, column 1: `max(-28) = -28 (3 padded cells ignored)`; with zero padding it would be 0",
    ]


@pytest.mark.parametrize(("agreement", "sentence"), [
    (toy_lesson.Agreement(True, 0.0), "✓ `tf.nn.conv2d` gives the same (1, 2, 2, 3) numbers, exactly."),
    (toy_lesson.Agreement(True, 1.5e-06),
     "✓ `tf.nn.conv2d` gives the same (1, 2, 2, 3) numbers, up to float32 rounding (largest difference 1.5e-06)."),
    (toy_lesson.Agreement(False, 1.0), "`tf.nn.conv2d` differs: largest difference 1. TensorFlow's numbers:"),
    (toy_lesson.Agreement(False, math.inf), "`tf.nn.conv2d` differs: largest difference inf. TensorFlow's numbers:"),
])
def test_agreement_sentences(agreement, sentence):
    assert toy_text.agreement_text("tf.nn.conv2d", agreement, (1, 2, 2, 3)) == sentence


def test_map_titles():
    assert toy_text.map_titles(3, "conv") == ["feature map 0", "feature map 1", "feature map 2"]
    assert toy_text.map_titles(2, "pool") == ["pooled map 0", "pooled map 1"]
    assert toy_text.map_titles(1, "tensorflow", "tf.nn.max_pool2d") == ["tf.nn.max_pool2d map 0"]
