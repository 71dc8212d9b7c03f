"""The Toy convolution page's sentences built from its numbers: each step in words, the shapes, TensorFlow's padding
rule, the cells zero padding would have changed, and whether TensorFlow agrees. Every word comes from ``cnnlib.text``.

Worked example (the tutorial's): the first conv step of 1..9 with the ones filter reads "... the 4 products:
**12** goes to row 0, column 0 of feature map 0."; the shapes read ``image `(1, 3, 3, 1)` ⊛ filters
`(2, 2, 1, 3)` → conv output `(1, 2, 2, 3)` → max-pool 2x2 → pooled `(1, 2, 2, 3)```.
"""

from __future__ import annotations

from cnnlib.text import t
from cnnlib.lessons.toy.convolution import ConvStep, PoolStep, Step, Trace, format_number
from cnnlib.lessons.toy.lesson import Agreement, Lesson


def conv_step_text(trace: Trace, step: ConvStep) -> str:
    """The conv step in words: where the window is, what is multiplied, what padding adds."""
    kernel_height, kernel_width = trace.kernel
    channels = trace.input.shape[3]
    window = "window_padded" if trace.padding_mask.any() else "window"
    multiply = "multiply_channels" if channels > 1 else "multiply"
    sentences = [t(f"toy.explain.conv.{window}", kernel_height=kernel_height, kernel_width=kernel_width,
                   top=step.top, left=step.left),
                 t(f"toy.explain.conv.{multiply}", count=len(step.cells), channels=channels, filter=step.channel,
                   total=format_number(step.total), row=step.row, col=step.col)]
    if padded := sum(step.padded):
        sentences.append(t("toy.explain.conv.padding", padded=padded))
    return " ".join(sentences)


def pool_step_text(trace: Trace, step: PoolStep) -> str:
    """The pool step in words: the candidates, the winner, and why padding is not one of them."""
    kernel_height, kernel_width = trace.kernel
    winner = format_number(step.total)
    sentences = [t("toy.explain.pool.window", kernel_height=kernel_height, kernel_width=kernel_width, top=step.top,
                   left=step.left, channel=step.channel, winner=winner, row=step.row, col=step.col)]
    if padded := sum(step.padded):
        sentences.append(t("toy.explain.pool.padding", padded=padded))
        if step.total < 0:
            sentences.append(t("toy.explain.pool.zero_padding", winner=winner))
    return " ".join(sentences)


def step_position(index: int, count: int, step: Step) -> str:
    """``**Step 1 of 12**: output row 0, column 0, channel 0``."""
    return t("toy.stepper.position", number=index + 1, count=count, row=step.row, col=step.col, channel=step.channel)


def _shapes(lesson: Lesson) -> dict[str, tuple[int, ...]]:
    """The shape of every tensor computed so far: image and filters, then the conv and pooled outputs if any."""
    shapes = {"image": lesson.image.shape, "filters": lesson.filters.shape}
    for name, trace in (("conv", lesson.conv), ("pooled", lesson.pool)):
        if trace is not None:
            shapes[name] = trace.output.shape
    return shapes


def shapes_flow(lesson: Lesson) -> str:
    """The tensors in the lesson's order, as far as they could be computed: ``image `(1, 3, 3, 1)` ⊛ filters
    `(2, 2, 1, 3)` → conv output `(1, 2, 2, 3)` → max-pool 2x2 → pooled `(1, 2, 2, 3)```."""
    shapes, pool = _shapes(lesson), lesson.pool
    if pool is not None:
        return t("toy.shapes.flow_pool", **shapes, pool_height=pool.kernel[0], pool_width=pool.kernel[1])
    return t("toy.shapes.flow_conv" if lesson.conv is not None else "toy.shapes.flow_filters", **shapes)


def shapes_table(lesson: Lesson) -> str:
    """A Markdown table: one row per axis (0-3), one column per tensor, each cell "meaning: **size**"."""
    shapes = _shapes(lesson)
    header = (f"| {t('toy.shapes.axis_header')} | " + " | ".join(t(f"toy.shapes.tensor.{name}") for name in shapes)
              + " |\n|---|" + "---|" * len(shapes))
    cells = [[t("toy.shapes.cell", meaning=t(f"toy.shapes.axis.{name}.{axis}"), size=size[axis]) for axis in range(4)]
             for name, size in shapes.items()]  # column by column
    rows = [f"| {axis} | " + " | ".join(column[axis] for column in cells) + " |" for axis in range(4)]
    return "\n".join([header, *rows])


def padding_rules(lesson: Lesson) -> list[str]:
    """TensorFlow's padding rule on both axes of the conv and of the max-pool (if any): a title, then a Markdown
    list, for each, e.g. "**Convolution** (VALID):" and "- **Height** (input 3, window 2, stride 1): VALID …"."""
    blocks = []
    for title, trace in (("conv_title", lesson.conv), ("pool_title", lesson.pool)):
        if trace is not None:
            lines = [f"- {axis.explain(name)}" for axis, name in zip(trace.padding, ("height", "width"))]
            blocks += [t(f"toy.padding.{title}", padding=trace.padding[0].padding), "\n".join(lines)]
    return blocks


def zero_padding_changes(changed: tuple[PoolStep, ...]) -> str:
    """The pooled cells that zero padding would have changed, as a sentence and a Markdown list."""
    changes = [t("toy.padding.change", channel=step.channel, row=step.row, col=step.col, expression=step.expression)
               for step in changed]
    return "\n".join([t("toy.padding.changes"), *(f"- {change}" for change in changes)])


def agreement_text(function: str, agreement: Agreement, shape: tuple[int, ...]) -> str:
    """``✓ `tf.nn.conv2d` gives the same (1, 2, 2, 3) numbers, exactly.``, or how far TensorFlow is off."""
    if not agreement.same:
        return t("toy.tensorflow.differs", function=function, gap=agreement.gap)
    if agreement.gap == 0:
        return t("toy.tensorflow.exact", function=function, shape=shape)
    return t("toy.tensorflow.rounding", function=function, shape=shape, gap=agreement.gap)


def map_titles(channels: int, stage: str, function: str = "") -> list[str]:
    """One title per output map: "feature map 0" (stage "conv"), "pooled map 0" ("pool"), or TensorFlow's
    "tf.nn.conv2d map 0" ("tensorflow", with ``function``)."""
    key = {"conv": "feature_map", "pool": "pooled_map", "tensorflow": "tensorflow_map"}[stage]
    return [t(f"toy.figure.{key}", channel=channel, function=function) for channel in range(channels)]
