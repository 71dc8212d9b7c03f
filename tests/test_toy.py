"""cnnlib.lessons.toy.convolution: the tutorial's worked numbers, TensorFlow's padding rule, bad input, and agreement with TensorFlow."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnnlib.lessons.toy import convolution as toy

TUTORIAL_CONV = [[[12, 120, -12], [16, 160, -16]], [[24, 240, -24], [28, 280, -28]]]  # (2, 2, 3)
TUTORIAL_POOL = [[[28, 280, -12], [28, 280, -16]], [[28, 280, -24], [28, 280, -28]]]


def tutorial_conv() -> toy.Trace:
    """The tutorial's image 1..9 and its (2, 2, 1, 3) filters, stride 1, VALID."""
    return toy.conv2d(toy.TUTORIAL_IMAGE, toy.TUTORIAL_FILTERS, toy.TUTORIAL_CONV_STRIDES, toy.TUTORIAL_CONV_PADDING)


def test_tutorial_conv_gives_the_tutorials_numbers_and_steps():
    trace = tutorial_conv()
    assert trace.output.shape == (1, 2, 2, 3)
    assert trace.output[0].tolist() == TUTORIAL_CONV
    assert len(trace.steps) == 12
    first = trace.steps[0]
    assert (first.row, first.col, first.channel, first.top, first.left) == (0, 0, 0, 0, 0)
    assert first.cells == ((0, 0, 0), (0, 1, 0), (1, 0, 0), (1, 1, 0))
    assert first.values == (1, 2, 4, 5) and first.weights == (1, 1, 1, 1) and first.products == (1, 2, 4, 5)
    assert first.expression == "1×1 + 2×1 + 4×1 + 5×1 = 12"
    # channel by channel, each in reading order: the first map is 12, 16, 24, 28
    assert [step.total for step in trace.steps[:4]] == [12, 16, 24, 28]
    assert trace.steps[-1].expression == "5×(-1) + 6×(-1) + 8×(-1) + 9×(-1) = -28"
    assert not trace.padding_mask.any() and trace.padded_input.shape == (1, 3, 3, 1)


def test_tutorial_pool_keeps_negatives_because_padding_never_wins():
    trace = toy.max_pool(tutorial_conv().output, toy.TUTORIAL_POOL_SIZE, toy.TUTORIAL_POOL_STRIDES,
                         toy.TUTORIAL_POOL_PADDING)
    assert trace.output[0].tolist() == TUTORIAL_POOL
    height, width = trace.padding
    assert (height.out, height.total, height.before, height.after) == (2, 1, 0, 1)
    assert (width.out, width.total, width.before, width.after) == (2, 1, 0, 1)
    assert trace.padding_mask.tolist() == [[False, False, True], [False, False, True], [True, True, True]]
    assert trace.padded_input[0, 2, 2, 0] == -np.inf
    last = trace.steps[-1]
    assert last.candidates == (-28,) and last.padded == (False, True, True, True) and last.winner == 0
    assert last.expression == "max(-28) = -28 (3 padded cells ignored)"
    assert trace.steps[8].expression == "max(-12, -16, -24, -28) = -12"
    assert [step.total for step in toy.padding_would_have_won(trace)] == [-16, -24, -28]


def test_one_ignored_padded_cell_is_said_in_the_singular():
    trace = toy.max_pool(np.array([1.0, 2.0, 3.0]).reshape(1, 1, 3, 1), (1, 2), (1, 2), "SAME")  # pads 1 right
    assert [step.expression for step in trace.steps] == ["max(1, 2) = 2", "max(3) = 3 (1 padded cell ignored)"]


@pytest.mark.parametrize(("size", "kernel", "stride", "expected"), [
    (2, 2, 1, (2, 1, 0, 1)),  # the tutorial's pool: the extra cell goes after (bottom/right)
    (3, 3, 1, (3, 2, 1, 1)),
    (5, 2, 2, (3, 1, 0, 1)),
    (4, 4, 1, (4, 3, 1, 2)),
    (7, 1, 3, (3, 0, 0, 0)),
    (4, 3, 3, (2, 2, 1, 1)),
])
def test_same_padding_rule(size, kernel, stride, expected):
    padding = toy.axis_padding(size, kernel, stride, "SAME")
    assert (padding.out, padding.total, padding.before, padding.after) == expected


def test_valid_padding_rule_and_explanations():
    valid = toy.axis_padding(9, 4, 2, "VALID")
    assert (valid.out, valid.total) == (3, 0)
    assert "VALID adds no padding" in valid.explain("width")
    same = toy.axis_padding(2, 2, 1, "SAME").explain("height")
    assert "ceil(2 / 1) = **2**" in same and "**0** (top)" in same and "**1** (bottom)" in same


def test_same_conv_pads_with_zeros_top_left_and_bottom_right():
    trace = toy.conv2d(toy.TUTORIAL_IMAGE, np.ones((3, 3, 1, 1)), 1, "SAME")  # pad 1 on every side
    assert trace.padded_input.shape == (1, 5, 5, 1) and trace.padding_mask.sum() == 16
    first = trace.steps[0]
    assert first.padded.count(True) == 5
    assert first.expression == "0×1 + 0×1 + 0×1 + 0×1 + 1×1 + 2×1 + 0×1 + 4×1 + 5×1 = 12"


def test_strides_per_axis_and_fractions():
    trace = toy.conv2d(np.arange(20.0).reshape(1, 4, 5, 1) / 2, np.ones((1, 1, 1, 1)) * 0.5, (2, 3), "VALID")
    assert trace.output[0, :, :, 0].tolist() == [[0, 0.75], [2.5, 3.25]]
    assert trace.steps[1].expression == "1.5×0.5 = 0.75"


@pytest.mark.parametrize(("call", "message"), [
    (lambda: toy.conv2d(np.ones((1, 2, 2, 1)), np.ones((3, 3, 1, 1))),
     "With VALID padding a 3x3 filter does not fit a 2x2 image."),
    (lambda: toy.max_pool(np.ones((1, 3, 2, 1)), (1, 3), 1, "VALID"),
     "With VALID padding a 1x3 pooling window does not fit a 3x2 input."),
    (lambda: toy.conv2d(np.ones((1, 2, 2, 2)), np.ones((1, 1, 1, 1))), "has 2 channel(s) but the filters expect 1"),
    (lambda: toy.conv2d([[[["a"]]]], np.ones((1, 1, 1, 1))), "The image must contain only numbers."),
    (lambda: toy.conv2d(np.ones((1, 2, 2, 1)), np.full((1, 1, 1, 1), np.inf)), "not a finite number"),
    (lambda: toy.max_pool(np.full((1, 2, 2, 1), np.nan)), "empty cell"),
    (lambda: toy.conv2d(np.ones((1, 0, 2, 1)), np.ones((1, 1, 1, 1))), "at least 1 in every axis"),
    (lambda: toy.conv2d(np.ones((1, 2, 2, 1)), np.ones((1, 1, 1, 0))), "at least 1 in every axis"),
    (lambda: toy.conv2d(np.ones((1, 2, 2, 1)), np.ones((1, 1, 1, 1)), 0), "strides must be whole numbers"),
    (lambda: toy.conv2d(np.ones((1, 2, 2, 1)), np.ones((1, 1, 1, 1)), (1, -2)), "strides must be whole numbers"),
    (lambda: toy.max_pool(np.ones((1, 2, 2, 1)), "x", 1), "pool size must be whole numbers"),
    (lambda: toy.max_pool(np.ones((1, 2, 2, 1)), 1, 1, "same"), "Padding must be 'VALID' or 'SAME'"),
    (lambda: toy.conv2d(np.ones((2, 2, 2, 1)), np.ones((1, 1, 1, 1))), "exactly one image"),
    (lambda: toy.conv2d(np.ones((2, 2)), np.ones((1, 1, 1, 1))), "must have shape (1, height, width, channels)"),
])
def test_bad_input_raises_a_sentence_the_page_can_show(call, message):
    with pytest.raises(ValueError) as error:
        call()
    assert message in str(error.value)


def test_tensorflow_code_runs_and_matches(tmp_path):
    import tensorflow as tf  # noqa: F401  (the generated code imports it too)

    image = np.arange(12.0).reshape(1, 3, 4, 1) - 5
    filters = np.arange(-4.0, 8.0).reshape(2, 3, 1, 2) / 4
    code = toy.tensorflow_code(image, filters, (1, 2), "SAME", (2, 1), (1, 2), "SAME")
    assert "strides=[1, 2]" in code and "ksize=[2, 1]" in code and code.startswith("import numpy as np")
    namespace: dict = {}
    exec(compile(code, "tensorflow_code", "exec"), namespace)  # noqa: S102  (our own generated code)
    conv = toy.conv2d(image, filters, (1, 2), "SAME")
    pool = toy.max_pool(conv.output, (2, 1), (1, 2), "SAME")
    np.testing.assert_allclose(namespace["conv"].numpy(), conv.output, rtol=1e-6)
    np.testing.assert_allclose(namespace["pool"].numpy(), pool.output, rtol=1e-6)


sizes, kernels, strides = st.integers(1, 9), st.integers(1, 4), st.integers(1, 3)


@st.composite
def conv_cases(draw):
    """An image (1, H, W, C), filters (kh, kw, C, F), strides and padding from the issue's ranges."""
    height, width, channels, n_filters = draw(sizes), draw(sizes), draw(st.integers(1, 3)), draw(st.integers(1, 4))
    padding = draw(st.sampled_from(toy.PADDINGS))
    kh, kw = (draw(st.integers(1, min(4, height))), draw(st.integers(1, min(4, width)))) \
        if padding == "VALID" else (draw(kernels), draw(kernels))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    image = rng.integers(-9, 10, (1, height, width, channels)).astype(np.float64)
    filters = rng.integers(-4, 5, (kh, kw, channels, n_filters)).astype(np.float64)
    return image, filters, (draw(strides), draw(strides)), padding


@st.composite
def pool_cases(draw):
    """An input (1, H, W, C) with negatives, a pool size, strides and padding from the issue's ranges."""
    height, width, channels = draw(sizes), draw(sizes), draw(st.integers(1, 3))
    padding = draw(st.sampled_from(toy.PADDINGS))
    ksize = (draw(st.integers(1, min(4, height))), draw(st.integers(1, min(4, width)))) \
        if padding == "VALID" else (draw(kernels), draw(kernels))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.integers(-30, 5, (1, height, width, channels)).astype(np.float64)  # mostly negative: padding must lose
    return x, ksize, (draw(strides), draw(strides)), padding


FAST_AGAINST_TENSORFLOW = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST_AGAINST_TENSORFLOW
@given(conv_cases())
def test_conv2d_equals_tensorflow(case):
    import tensorflow as tf

    image, filters, stride, padding = case
    expected = tf.nn.conv2d(image.astype(np.float32), filters.astype(np.float32), list(stride), padding).numpy()
    np.testing.assert_array_equal(toy.conv2d(image, filters, stride, padding).output, expected)


@FAST_AGAINST_TENSORFLOW
@given(pool_cases())
def test_max_pool_equals_tensorflow(case):
    import tensorflow as tf

    x, ksize, stride, padding = case
    expected = tf.nn.max_pool2d(x.astype(np.float32), list(ksize), list(stride), padding).numpy()
    np.testing.assert_array_equal(toy.max_pool(x, ksize, stride, padding).output, expected)
