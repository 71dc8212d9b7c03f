"""The Toy convolution page's lesson without its widgets: the settings a learner changes (the tutorial's values and
their limits), the conv then max-pool they ask for, stepping and playing through the steps, and whether TensorFlow
agrees. The maths itself is ``cnnlib.lessons.toy.convolution``; the page keeps only what Streamlit must do.

Worked example: ``lesson_for(toy.TUTORIAL_IMAGE, toy.TUTORIAL_FILTERS, tutorial_settings())`` runs the conv
(12, 16, 24, 28 in the first map) and the 2x2 SAME max-pool, and ``is_tutorial_pool`` recognises the result.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from cnnlib.errors import Refusal
from cnnlib.lessons.toy import convolution as toy

SETTING_LIMITS = {  # the largest value of each number the learner sets; the smallest is 1
    "image_height": 9, "image_width": 9, "image_channels": 3, "filter_height": 4, "filter_width": 4,
    "filter_count": 4, "conv_stride_rows": 3, "conv_stride_cols": 3, "pool_height": 4, "pool_width": 4,
    "pool_stride_rows": 3, "pool_stride_cols": 3,
}
EDITOR_MIN_PX = 3 * 110  # an editor's column holds at least three size inputs
TENSORFLOW_RTOL, TENSORFLOW_ATOL = 1e-5, 1e-4  # TensorFlow sums in float32, our numbers are float64
TENSORFLOW_FUNCTIONS = ("tf.nn.conv2d", "tf.nn.max_pool2d")


def tutorial_settings() -> dict[str, int | str]:
    """Every setting for the tutorial's example, by name: a 3x3 image with 1 channel, three 2x2 filters, conv
    stride 1 VALID, max-pool 2x2 stride 1 SAME."""
    (_, height, width, channels), (kernel_height, kernel_width, _, count) = (toy.TUTORIAL_IMAGE.shape,
                                                                            toy.TUTORIAL_FILTERS.shape)
    (conv_rows, conv_cols), (pool_rows, pool_cols) = toy.TUTORIAL_CONV_STRIDES, toy.TUTORIAL_POOL_STRIDES
    return dict(image_height=height, image_width=width, image_channels=channels, filter_height=kernel_height,
                filter_width=kernel_width, filter_count=count, conv_stride_rows=conv_rows, conv_stride_cols=conv_cols,
                conv_padding=toy.TUTORIAL_CONV_PADDING, pool_height=toy.TUTORIAL_POOL_SIZE[0],
                pool_width=toy.TUTORIAL_POOL_SIZE[1], pool_stride_rows=pool_rows, pool_stride_cols=pool_cols,
                pool_padding=toy.TUTORIAL_POOL_PADDING)


def operation_options(settings: Mapping[str, int | str]) -> dict:
    """The arguments of ``toy.tensorflow_code`` and ``toy.tensorflow_outputs`` from the settings. Example: the
    tutorial's give conv_strides (1, 1), conv_padding "VALID", pool_size (2, 2), pool_strides (1, 1), "SAME"."""
    return dict(conv_strides=(settings["conv_stride_rows"], settings["conv_stride_cols"]),
                conv_padding=settings["conv_padding"], pool_size=(settings["pool_height"], settings["pool_width"]),
                pool_strides=(settings["pool_stride_rows"], settings["pool_stride_cols"]),
                pool_padding=settings["pool_padding"])


def editor_widths(settings: Mapping[str, int | str], cell_px: int) -> list[int]:
    """Relative widths of the image and filters columns, so that a 9-wide image or four filters fit their editors.
    Example: the tutorial's settings with 44 px cells give [330, 330]; a 9-wide image gives [440, 330]."""
    image = (settings["image_width"] + 1) * cell_px  # one more cell: the row numbers
    filters = settings["filter_count"] * (settings["filter_width"] * cell_px + 16)
    return [max(image, EDITOR_MIN_PX), max(filters, EDITOR_MIN_PX)]


@dataclass(frozen=True)
class Lesson:
    """One set of numbers and settings: the conv and the max-pool as far as the settings allow, and why not further."""

    image: np.ndarray  # (1, H, W, C)
    filters: np.ndarray  # (kh, kw, C, F)
    options: dict  # see operation_options
    conv: toy.Trace | None
    pool: toy.Trace | None
    error: str | None  # the refused setting's sentence, or None when both ran


def lesson_for(image: np.ndarray, filters: np.ndarray, settings: Mapping[str, int | str]) -> Lesson:
    """``toy.conv2d`` then ``toy.max_pool`` on its output; a refused setting stops there and keeps what was
    computed. Example: 4x2 filters on the tutorial's 3x3 image, VALID -> no conv, "With VALID padding a 4x2 …"."""
    options, conv = operation_options(settings), None
    try:
        conv = toy.conv2d(image, filters, options["conv_strides"], options["conv_padding"])
        pool = toy.max_pool(conv.output, options["pool_size"], options["pool_strides"], options["pool_padding"])
        return Lesson(image, filters, options, conv, pool, None)
    except Refusal as error:
        return Lesson(image, filters, options, conv, None, str(error))


def is_tutorial_pool(trace: toy.Trace) -> bool:
    """Whether ``trace`` is the tutorial's max-pool of its conv output (pooled maps 28, 280 and -12, -16, -24, -28)."""
    tutorial = lesson_for(toy.TUTORIAL_IMAGE, toy.TUTORIAL_FILTERS, tutorial_settings()).pool
    return trace.output.shape == tutorial.output.shape and np.array_equal(trace.output, tutorial.output)


@dataclass(frozen=True)
class Agreement:
    """How close TensorFlow's numbers are to ours."""

    same: bool  # same shape, and equal up to float32 rounding
    gap: float  # the largest absolute difference (inf when the shapes differ)


def agreement(ours: np.ndarray, theirs: np.ndarray) -> Agreement:
    """Whether ``theirs`` (TensorFlow, float32) equals ``ours`` (float64) up to float32 rounding, and the largest gap.
    Example: 12 against 12.000001 is the same, gap 1e-06; 12 against 13 is not, gap 1."""
    if ours.shape != theirs.shape:
        return Agreement(False, math.inf)
    gap = float(np.max(np.abs(ours - theirs)))
    return Agreement(bool(np.allclose(ours, theirs, rtol=TENSORFLOW_RTOL, atol=TENSORFLOW_ATOL)), gap)


def tensorflow_agreements(lesson: Lesson) -> list[tuple[str, np.ndarray, Agreement]]:
    """Each TensorFlow function, what it gives for the lesson's numbers, and how well that agrees with ours.
    TensorFlow loads here (seconds, the first time); the lesson must have both its conv and its max-pool."""
    theirs = toy.tensorflow_outputs(lesson.image, lesson.filters, **lesson.options)
    ours = (lesson.conv.output, lesson.pool.output)
    return [(name, tf_output, agreement(output, tf_output))
            for name, output, tf_output in zip(TENSORFLOW_FUNCTIONS, ours, theirs)]


@dataclass(frozen=True)
class Playback:
    """Which step each stepper ("conv", "pool") shows, which one plays, and when it last stepped forward."""

    steps: dict[str, int] = field(default_factory=lambda: {"conv": 0, "pool": 0})
    playing: str | None = None
    last_tick: float | None = None  # None right after Play: the next tick only starts the clock

    def shown(self, name: str, count: int) -> int:
        """The step ``name`` shows, within its ``count`` steps (new settings may have made it shorter)."""
        return min(self.steps[name], count - 1)

    def go(self, name: str, index: int) -> Playback:
        """Show step ``index`` of ``name`` and stop playing."""
        return replace(self, steps={**self.steps, name: index}, playing=None)

    def toggle(self, name: str, count: int) -> Playback:
        """Pause ``name`` if it plays, else play it from where it is (from the first step if at the last)."""
        if self.playing == name:
            return replace(self, playing=None)
        start = 0 if self.steps[name] >= count - 1 else self.steps[name]
        return replace(self, steps={**self.steps, name: start}, playing=name, last_tick=None)

    def tick(self, name: str, count: int, now: float, period: float) -> Playback:
        """While ``name`` plays, one step forward per ``period`` seconds; playing stops on the last step. A run
        sooner than 80% of ``period`` after the last step (a full-page rerun between two ticks) adds none."""
        if self.playing != name or (self.last_tick is not None and now - self.last_tick < period * 0.8):
            return self
        step = self.steps[name] if self.last_tick is None else min(self.steps[name] + 1, count - 1)
        return replace(self, steps={**self.steps, name: step}, playing=name if step < count - 1 else None,
                       last_tick=now)

    def buttons(self, name: str, count: int) -> dict[str, tuple[str, Playback, bool]]:
        """Each stepper button, First to Last: its label ("play" or "pause" for the middle one), the playback after a
        click on it, and whether it is disabled. Example: on step 0, "previous" is disabled and "next" shows step 1."""
        index, last = self.shown(name, count), count - 1
        return {"first": ("first", self.go(name, 0), index == 0),
                "previous": ("previous", self.go(name, index - 1), index == 0),
                "play": ("pause" if self.playing == name else "play", self.toggle(name, count), count == 1),
                "next": ("next", self.go(name, index + 1), index == last),
                "last": ("last", self.go(name, last), index == last)}
