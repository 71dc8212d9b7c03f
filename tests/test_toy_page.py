"""The Toy convolution page: AppTest for its logic (tutorial numbers, edits, errors, stepper, TF check),
Chromium for what a person sees when stepping."""

import base64
import json
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import APP_PATH, ROOT, keyed_button, open_app_page, wait_until_idle
from streamlit.testing.v1 import AppTest

PAGE = "pages/toy_convolution.py"
TUTORIAL_CONV_MAPS = [[[12, 16], [24, 28]], [[120, 160], [240, 280]], [[-12, -16], [-24, -28]]]  # map by map
TUTORIAL_POOL_MAPS = [[[28, 28], [28, 28]], [[280, 280], [280, 280]], [[-12, -16], [-24, -28]]]


def open_page() -> AppTest:
    """The app switched to the Toy convolution page, after one run."""
    at = AppTest.from_file(APP_PATH, default_timeout=60).run()
    return at.switch_page(PAGE).run()


def chart(at: AppTest, key: str) -> dict:
    """The plotly figure (as JSON) of the chart with this widget key."""
    matches = [element for element in at.get("plotly_chart") if element.proto.id.endswith(f"-{key}")]
    assert len(matches) == 1, f"no single chart {key}"
    return json.loads(matches[0].proto.spec)


def numbers(z) -> list:
    """A heatmap's z as nested lists, None where blank (plotly 6 sends numpy arrays base64-encoded)."""
    if isinstance(z, dict):
        z = np.frombuffer(base64.b64decode(z["bdata"]), z["dtype"]).reshape([int(n) for n in z["shape"].split(",")])
    array = np.asarray(z, dtype=float)
    return np.where(np.isnan(array), None, array).tolist()


def maps(figure: dict) -> list:
    """The numbers of every heatmap in a maps figure, map by map."""
    return [numbers(trace["z"]) for trace in figure["data"]]


def markdown_text(at: AppTest) -> str:
    """All Markdown on the page, one block a line."""
    return "\n".join(block.value for block in at.markdown)


def test_default_page_is_the_tutorials_example():
    at = open_page()
    assert not at.exception and not at.error
    assert maps(chart(at, "toy_conv_result")) == TUTORIAL_CONV_MAPS
    assert maps(chart(at, "toy_pool_result")) == TUTORIAL_POOL_MAPS
    text = markdown_text(at)
    assert ("image `(1, 3, 3, 1)` ⊛ filters `(2, 2, 1, 3)` → conv output `(1, 2, 2, 3)` → max-pool 2x2 → "
            "pooled `(1, 2, 2, 3)`") in text
    assert "### 1×1 + 2×1 + 4×1 + 5×1 = 12" in text and "### max(12, 16, 24, 28) = 28" in text
    assert "**Step 1 of 12**" in text
    assert "max(-16, -28) = -16 (2 padded cells ignored)" in text  # the padding panel names the tutorial's cells
    assert "pooled map would be [[−12, 0], [0, 0]]" in at.info[0].value
    code = at.code[0].value
    assert 'tf.nn.conv2d(image, filters, strides=1, padding="VALID")' in code
    assert 'tf.nn.max_pool2d(conv, ksize=2, strides=1, padding="SAME")' in code


def test_next_previous_and_last_walk_the_steps():
    at = open_page()
    at.button(key="toy_conv_step_next").click().run()
    assert "### 2×1 + 3×1 + 5×1 + 6×1 = 16" in markdown_text(at)
    step = chart(at, "toy_conv_step_figure")
    window = step["layout"]["shapes"][0]
    assert (window["x0"], window["y0"]) == (0.5, -0.5)  # moved one column right
    assert numbers(step["data"][2]["z"]) == [[12, 16], [None, None]]  # the output fills in
    at.button(key="toy_conv_step_last").click().run()
    assert "**Step 12 of 12**" in markdown_text(at) and at.button(key="toy_conv_step_next").disabled
    at.button(key="toy_conv_step_previous").click().run()
    assert "### 4×(-1) + 5×(-1) + 7×(-1) + 8×(-1) = -24" in markdown_text(at)


def test_play_advances_by_itself_and_stops_at_the_end():
    at = open_page()
    at.button(key="toy_pool_step_last").click().run()
    at.button(key="toy_pool_step_previous").click().run()  # step 11 of 12
    at.button(key="toy_pool_step_play").click().run()
    assert at.button(key="toy_pool_step_play").label == "Pause"
    time.sleep(1.1)
    at.run()  # a timed fragment ticks once per run in AppTest
    assert "**Step 12 of 12**" in markdown_text(at)
    assert at.button(key="toy_pool_step_play").label == "Play"  # stopped at the end


def test_changing_stride_and_padding_changes_the_output():
    at = open_page()
    at.radio(key="toy_conv_padding").set_value("SAME").run()
    assert not at.exception and not at.error
    conv = maps(chart(at, "toy_conv_result"))
    assert conv[0] == [[12, 16, 9], [24, 28, 15], [15, 17, 9]]  # zeros padded at the bottom and right
    assert "conv output `(1, 3, 3, 3)`" in markdown_text(at)
    at.number_input(key="toy_conv_stride_cols").set_value(2).run()
    assert maps(chart(at, "toy_conv_result"))[0] == [[12, 9], [24, 15], [15, 9]]
    assert "strides=[1, 2]" in at.code[0].value
    at.radio(key="toy_pool_padding").set_value("VALID").run()
    assert maps(chart(at, "toy_pool_result"))[2] == [[-9], [-9]]


def test_bad_input_shows_the_sentence_keeps_other_edits_and_restore_brings_the_tutorial_back():
    at = open_page()
    at.number_input(key="toy_conv_stride_rows").set_value(2).run()
    at.number_input(key="toy_filter_height").set_value(4).run()
    assert not at.exception
    assert [error.value for error in at.error] == ["With VALID padding a 4x2 filter does not fit a 3x3 image."]
    assert at.number_input(key="toy_conv_stride_rows").value == 2  # the learner's other edit is kept
    at.radio(key="toy_conv_padding").set_value("SAME").run()  # one fix makes it valid again
    assert not at.error and chart(at, "toy_conv_result")
    at.number_input(key="toy_pool_height").set_value(4).run()
    at.radio(key="toy_pool_padding").set_value("VALID").run()
    assert [error.value for error in at.error] == ["With VALID padding a 4x2 pooling window does not fit a 2x3 input."]
    assert chart(at, "toy_conv_result")  # the convolution is still shown
    assert not at.exception and not at.code  # no TensorFlow code TensorFlow would refuse, and no traceback
    assert [info.value for info in at.info] == ["Fix the max-pool settings first: TensorFlow would refuse them too."]
    at.button(key="toy_restore").click().run()
    assert not at.error and maps(chart(at, "toy_pool_result")) == TUTORIAL_POOL_MAPS
    assert at.number_input(key="toy_filter_height").value == 2


def test_resizing_the_image_keeps_its_numbers_and_adds_zeros():
    at = open_page()
    at.number_input(key="toy_image_width").set_value(4).run()
    assert not at.exception
    # image rows 1 2 3 0 / 4 5 6 0 / 7 8 9 0 with the ones filter: the right column sees the new zeros
    assert maps(chart(at, "toy_conv_result"))[0] == [[12, 16, 9], [24, 28, 15]]


def test_tensorflow_check_agrees():
    at = open_page()
    at.toggle(key="toy_tf_check").set_value(True).run()
    assert not at.exception
    assert [message.value[:1] for message in at.success] == ["✓", "✓"]


def test_page_renders_without_importing_tensorflow():
    code = ("import sys; from streamlit.testing.v1 import AppTest; at = AppTest.from_file('app.py', default_timeout=60);"
            f"at.run(); at.switch_page('{PAGE}').run(); assert not at.exception; print('tensorflow' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip().splitlines()[-1] == "False"


@pytest.mark.browser
def test_next_moves_the_window_and_changes_the_expression_in_chromium(page, app_url):
    open_app_page(page, app_url, "toy_convolution")
    page.get_by_text("1×1 + 2×1 + 4×1 + 5×1 = 12").wait_for()
    window_at = "x0 => document.querySelectorAll('.js-plotly-plot')[0]?.layout?.shapes?.[0]?.x0 === x0"
    page.wait_for_function(window_at, arg=-0.5)  # the orange window starts on column 0 (cells centred at 0, 1, 2)
    keyed_button(page, "toy_conv_step_next").click()
    page.get_by_text("2×1 + 3×1 + 5×1 + 6×1 = 16").wait_for()
    wait_until_idle(page)
    page.wait_for_function(window_at, arg=0.5)  # ... and moves one column right
    assert page.get_by_text("1×1 + 2×1 + 4×1 + 5×1 = 12").count() == 0
    assert page.get_by_text("Step 2 of 12").count() == 1
    assert page.locator('[data-testid="stException"]').count() == 0


@pytest.mark.browser
def test_play_steps_by_itself_and_stops_at_the_end_in_chromium(page, app_url):
    open_app_page(page, app_url, "toy_convolution")
    keyed_button(page, "toy_conv_step_last").click()
    page.get_by_text("Step 12 of 12").wait_for()
    keyed_button(page, "toy_conv_step_previous").click()
    page.get_by_text("Step 11 of 12").wait_for()  # two quick clicks can reach the script as one
    keyed_button(page, "toy_conv_step_previous").click()
    page.get_by_text("Step 10 of 12").wait_for()
    keyed_button(page, "toy_conv_step_play").click()
    keyed_button(page, "toy_conv_step_play").filter(has_text="Pause").wait_for()
    page.get_by_text("Step 11 of 12").wait_for(timeout=10_000)  # no clicks from here on
    page.get_by_text("Step 12 of 12").wait_for(timeout=10_000)
    page.get_by_text("5×(-1) + 6×(-1) + 8×(-1) + 9×(-1) = -28").wait_for()
    keyed_button(page, "toy_conv_step_play").filter(has_text="Play").wait_for(timeout=10_000)  # it stopped by itself
    assert all("Play" in keyed_button(page, f"toy_{stage}_step_play").inner_text() for stage in ("conv", "pool"))
