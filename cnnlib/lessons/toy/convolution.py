"""The tutorial's toy convolution and max-pool in plain numpy, step by step, with TensorFlow's exact rules.

Conventions are TensorFlow's: an image is NHWC ``(1, height, width, channels)``, filters are
``(height, width, in_channels, filters)``, strides and kernel sizes are an int or ``(rows, columns)``.
Worked example (the tutorial's): the image 1..9 ``(1, 3, 3, 1)`` convolved with 2x2 filters of ones, tens and
minus ones ``(2, 2, 1, 3)``, stride 1, VALID, gives ``(1, 2, 2, 3)``: 12, 120, -12 at the top left
(``1×1 + 2×1 + 4×1 + 5×1 = 12``), then 16, 24, 28 across and down.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cnnlib.errors import Refusal
from cnnlib.text import t

PADDINGS = ("VALID", "SAME")

TUTORIAL_IMAGE = np.arange(1, 10, dtype=np.float64).reshape(1, 3, 3, 1)  # (1, 3, 3, 1): 1..9
TUTORIAL_FILTERS = np.broadcast_to(np.array([1.0, 10.0, -1.0]), (2, 2, 1, 3)).copy()  # (2, 2, 1, 3)
TUTORIAL_CONV_STRIDES, TUTORIAL_CONV_PADDING = (1, 1), "VALID"
TUTORIAL_POOL_SIZE, TUTORIAL_POOL_STRIDES, TUTORIAL_POOL_PADDING = (2, 2), (1, 1), "SAME"


def format_number(value: float) -> str:
    """A number as a person writes it: ``12`` not ``12.0``, ``0.5``, ``-3``."""
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def _factor(value: float) -> str:
    """A number inside a product, in brackets when negative: ``(-1)``."""
    text = format_number(value)
    return f"({text})" if value < 0 else text


@dataclass(frozen=True)
class AxisPadding:
    """How one axis (height or width) is padded, and how many outputs it gives."""

    size: int  # input cells along this axis
    kernel: int
    stride: int
    padding: str  # "VALID" or "SAME"
    out: int
    total: int  # padded cells along this axis
    before: int  # at the top (height) or left (width)
    after: int  # at the bottom (height) or right (width)

    def explain(self, axis: str) -> str:
        """The rule applied to these numbers, in one Markdown line; ``axis`` is "height" or "width"."""
        return t(f"toy.padding.{axis}_{self.padding.lower()}", size=self.size, kernel=self.kernel, stride=self.stride,
                 out=self.out, total=self.total, before=self.before, after=self.after)


def axis_padding(size: int, kernel: int, stride: int, padding: str) -> AxisPadding:
    """TensorFlow's padding rule for one axis. SAME: ``out = ceil(in / stride)``,
    ``pad_total = max((out - 1) * stride + k - in, 0)``, ``before = pad_total // 2``, the rest after
    (so an odd extra cell goes to the bottom/right). Example: in 2, k 2, stride 1, SAME -> out 2, before 0, after 1."""
    if padding == "VALID":
        return AxisPadding(size, kernel, stride, padding, (size - kernel) // stride + 1, 0, 0, 0)
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return AxisPadding(size, kernel, stride, padding, out, total, total // 2, total - total // 2)


@dataclass(frozen=True)
class Step:
    """One output cell: where it is, which input cells its window covers, and how its number is made."""

    row: int  # output position (row, column, channel)
    col: int
    channel: int
    top: int  # the window's top-left cell in the padded input
    left: int
    cells: tuple[tuple[int, int, int], ...]  # (row, column, channel) of every window cell in the padded input
    values: tuple[float, ...]  # the input number at each cell (0 for a padded cell in conv)
    padded: tuple[bool, ...]  # whether each cell is padding
    total: float  # the output number
    expression: str  # e.g. "1×1 + 2×1 + 4×1 + 5×1 = 12"


@dataclass(frozen=True)
class ConvStep(Step):
    """A conv step: each input number times the filter weight on top of it, then the sum."""

    weights: tuple[float, ...] = ()
    products: tuple[float, ...] = ()


@dataclass(frozen=True)
class PoolStep(Step):
    """A max-pool step: the real (non-padding) numbers in the window compete; the largest wins."""

    candidates: tuple[float, ...] = ()
    winner: int = 0  # index into ``cells`` of the winning cell


@dataclass(frozen=True)
class Trace:
    """A whole conv or max-pool: its result, every step in order, and the padded input it read."""

    operation: str  # "conv" or "max-pool"
    input: np.ndarray  # (1, H, W, C) as given
    padded_input: np.ndarray  # (1, H + pad, W + pad, C); padding holds 0 (conv) or -inf (max-pool)
    padding_mask: np.ndarray  # (H + pad, W + pad) True where a cell is padding
    kernel: tuple[int, int]
    strides: tuple[int, int]
    padding: tuple[AxisPadding, AxisPadding]  # height, width
    output: np.ndarray  # (1, out_h, out_w, F or C)
    steps: tuple[Step, ...]  # one per output cell: channel by channel, each in reading order
    filters: np.ndarray | None = None  # (kh, kw, C, F) for conv

    def __repr__(self) -> str:
        return (f"Trace({self.operation}, {self.input.shape} -> {self.output.shape}, "
                f"{len(self.steps)} steps)")


def _pair(value: int | tuple[int, int] | list[int], name: str) -> tuple[int, int]:
    """An int or a pair as ``(rows, columns)`` of whole numbers ≥ 1, or a Refusal; ``name`` is "strides" or
    "pool_size"."""
    pair = (value, value) if np.isscalar(value) else tuple(value)
    if len(pair) != 2:
        raise Refusal(f"toy.error.{name}.count", value=value)
    for item in pair:
        if not isinstance(item, (int, float, np.integer, np.floating)) or isinstance(item, bool) \
                or not float(item).is_integer() or item < 1:
            raise Refusal(f"toy.error.{name}.whole", value=value)
    return int(pair[0]), int(pair[1])


def _numbers(array, name: str) -> np.ndarray:
    """``array`` as float64 with 4 axes, all finite and every axis at least 1, or a Refusal; ``name`` is "image",
    "input" or "filters"."""
    try:
        numbers = np.asarray(array, dtype=np.float64)
    except (TypeError, ValueError):
        raise Refusal(f"toy.error.{name}.numbers") from None
    if numbers.ndim != 4:
        raise Refusal(f"toy.error.{name}.shape", shape=numbers.shape)
    if 0 in numbers.shape:
        raise Refusal(f"toy.error.{name}.empty_axis", shape=numbers.shape)
    if not np.isfinite(numbers).all():
        raise Refusal(f"toy.error.{name}.not_finite")
    return numbers


def _image(image, name: str = "image") -> np.ndarray:
    """One NHWC image ``(1, H, W, C)`` as float64, or a Refusal; ``name`` is "image" or "input"."""
    numbers = _numbers(image, name)
    if numbers.shape[0] != 1:
        raise Refusal(f"toy.error.{name}.one_image", shape=numbers.shape)
    return numbers


def _paddings(height: int, width: int, kernel: tuple[int, int], strides: tuple[int, int], padding: str,
              too_big: str) -> tuple[AxisPadding, AxisPadding]:
    """Both axes' padding, or a Refusal when the window does not fit with VALID; ``too_big`` names that error:
    "filter_too_big" or "window_too_big"."""
    if padding not in PADDINGS:
        raise Refusal("toy.error.padding", padding=padding)
    if padding == "VALID" and (kernel[0] > height or kernel[1] > width):
        raise Refusal(f"toy.error.{too_big}", kernel_height=kernel[0], kernel_width=kernel[1], height=height,
                           width=width)
    return axis_padding(height, kernel[0], strides[0], padding), axis_padding(width, kernel[1], strides[1], padding)


def _pad(x: np.ndarray, paddings: tuple[AxisPadding, AxisPadding], fill: float) -> tuple[np.ndarray, np.ndarray]:
    """``x`` (1, H, W, C) padded with ``fill``, and the (H', W') mask of padded cells."""
    height, width = paddings
    widths = ((0, 0), (height.before, height.after), (width.before, width.after), (0, 0))
    padded = np.pad(x, widths, constant_values=fill)
    mask = np.pad(np.zeros(x.shape[1:3], dtype=bool), widths[1:3], constant_values=True)
    return padded, mask


def _window_cells(top: int, left: int, kernel: tuple[int, int], channels: range) -> list[tuple[int, int, int]]:
    """Every (row, column, channel) in a window, channel by channel, each in reading order."""
    return [(top + i, left + j, c) for c in channels for i in range(kernel[0]) for j in range(kernel[1])]


def _positions(paddings, stride: tuple[int, int]):
    """Every output cell ``(row, column)`` in reading order, with its window's top-left cell ``(top, left)``."""
    for row in range(paddings[0].out):
        for col in range(paddings[1].out):
            yield row, col, row * stride[0], col * stride[1]


def conv2d(image, filters, strides=1, padding: str = "VALID") -> Trace:
    """``tf.nn.conv2d`` for one image, keeping every multiply-and-sum. ``image`` (1, H, W, C), ``filters``
    (kh, kw, C, F) -> output (1, out_h, out_w, F). Padding cells are 0. Example: the tutorial's numbers give
    ``1×1 + 2×1 + 4×1 + 5×1 = 12`` as the first step and ``[[12, 120, -12], [16, 160, -16]], ...`` as output."""
    x = _image(image)
    weights = _numbers(filters, "filters")
    kernel = (weights.shape[0], weights.shape[1])
    if weights.shape[2] != x.shape[3]:
        raise Refusal("toy.error.channels", image=x.shape[3], filters=weights.shape[2])
    stride = _pair(strides, "strides")
    paddings = _paddings(x.shape[1], x.shape[2], kernel, stride, padding, "filter_too_big")
    padded, mask = _pad(x, paddings, 0.0)
    n_filters = weights.shape[3]
    output = np.zeros((1, paddings[0].out, paddings[1].out, n_filters))  # (1, out_h, out_w, F)
    steps = []
    for f in range(n_filters):
        for row, col, top, left in _positions(paddings, stride):
            cells = _window_cells(top, left, kernel, range(x.shape[3]))
            values = tuple(float(padded[0, r, c, ch]) for r, c, ch in cells)
            kernel_weights = tuple(float(weights[r - top, c - left, ch, f]) for r, c, ch in cells)
            products = tuple(v * w for v, w in zip(values, kernel_weights))
            total = float(np.sum(products))
            output[0, row, col, f] = total
            expression = " + ".join(f"{_factor(v)}×{_factor(w)}" for v, w in zip(values, kernel_weights))
            steps.append(ConvStep(row, col, f, top, left, tuple(cells), values,
                                  tuple(bool(mask[r, c]) for r, c, _ in cells), total,
                                  f"{expression} = {format_number(total)}", kernel_weights, products))
    return Trace("conv", x, padded, mask, kernel, stride, paddings, output, tuple(steps), weights)


def _max_expression(candidates: tuple[float, ...], total: float, ignored: int) -> str:
    """A max-pool step's arithmetic: ``max(-16, -28) = -16 (2 padded cells ignored)``."""
    key = "max" if not ignored else "max_ignored_one" if ignored == 1 else "max_ignored_many"
    return t(f"toy.expression.{key}", candidates=", ".join(format_number(v) for v in candidates),
             total=format_number(total), count=ignored)


def max_pool(x, ksize=2, strides=2, padding: str = "VALID") -> Trace:
    """``tf.nn.max_pool2d`` for one image, keeping every window's candidates and winner. ``x`` (1, H, W, C) ->
    (1, out_h, out_w, C). Padding is never chosen (as if -inf), so negative maps stay negative. Example: pooling
    the tutorial's conv output 2x2, stride 1, SAME keeps -12 top left of the third map: max(-12, -16, -24, -28)."""
    values_in = _image(x, "input")
    kernel = _pair(ksize, "pool_size")
    stride = _pair(strides, "strides")
    paddings = _paddings(values_in.shape[1], values_in.shape[2], kernel, stride, padding, "window_too_big")
    padded, mask = _pad(values_in, paddings, -np.inf)
    channels = values_in.shape[3]
    output = np.zeros((1, paddings[0].out, paddings[1].out, channels))  # (1, out_h, out_w, C)
    steps = []
    for ch in range(channels):
        for row, col, top, left in _positions(paddings, stride):
            cells = _window_cells(top, left, kernel, range(ch, ch + 1))
            padded_cells = tuple(bool(mask[r, c]) for r, c, _ in cells)
            values = tuple(float(padded[0, r, c, ch]) for r, c, _ in cells)
            candidates = tuple(v for v, is_pad in zip(values, padded_cells) if not is_pad)
            winner = int(np.argmax(values))  # padding is -inf, so the winner is always a real cell
            total = values[winner]
            output[0, row, col, ch] = total
            steps.append(PoolStep(row, col, ch, top, left, tuple(cells), values, padded_cells, total,
                                  _max_expression(candidates, total, sum(padded_cells)), candidates, winner))
    return Trace("max-pool", values_in, padded, mask, kernel, stride, paddings, output, tuple(steps))


def padding_would_have_won(trace: Trace) -> tuple[PoolStep, ...]:
    """The max-pool steps whose answer would change if padding were zeros: a window that touches padding and
    whose real numbers are all negative. For the tutorial these are the -16, -24 and -28 of the third map."""
    return tuple(step for step in trace.steps if isinstance(step, PoolStep) and any(step.padded) and step.total < 0)


def resized(array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``array`` cut or grown to ``shape``, keeping the numbers that still fit (top-left) and 0 in new cells."""
    result = np.zeros(shape)
    overlap = tuple(slice(0, min(old, new)) for old, new in zip(array.shape, shape))
    result[overlap] = np.asarray(array, dtype=np.float64)[overlap]
    return result


from cnnlib.lessons.toy.tensorflow import tensorflow_code, tensorflow_outputs  # noqa: E402  (they use the above)
