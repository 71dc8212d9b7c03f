"""What each layer does to a shape: its output shape and parameter count, from its settings alone.

Shapes are NHWC without the batch axis: a digit is ``(28, 28, 1)`` (or ``(28, 28)``), a dense layer's output
``(units,)``. Nothing is built: the numbers come from the settings as Keras 3 writes them (``get_config()``), each
setting checked first (``cnnlib.network.settings``), so a saved architecture is measured before Keras builds it and a
network designer can show each layer's shape and parameters as it is drawn. The layer table
(``cnnlib.network.layers``) gives each class its ``LayerShape``; ``cnnlib.network.layers.trace`` runs a stack.

    conv2d({"filters": 8, "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid", …}, (28, 28, 1))
        -> ((26, 26, 8), 80)        3*3*1*8 weights + 8 biases
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from cnnlib.errors import Refusal
from cnnlib.network.settings import (CHANNELS_LAST, COMMON, FLAG, MAX_FILTERS, MAX_UNITS, NOTHING, OBJECT, PADDING,
                                     TEXT, WINDOW, Rule, Settings, check_settings, is_number, is_whole, layer_name,
                                     needed, number, one_of, or_null, whole)

Shape = tuple[int, ...]  # NHWC without the batch axis
Traced = tuple[Shape, int]  # a layer's output shape and its parameter count
MAX_VALUES = 28 * 28 * MAX_FILTERS  # values in one layer's output: a 28x28 map of the most channels


def impossible(settings: Settings, shape: Shape) -> Refusal:
    """The refusal for a layer whose settings cannot work on an input of ``shape``."""
    return Refusal("model_files.impossible", layer=layer_name(settings), shape=shape)


def _image(settings: Settings, shape: Shape) -> Shape:
    """``shape`` when it is a picture, ``(H, W, C)``; a Refusal otherwise."""
    if len(shape) != 3:
        raise impossible(settings, shape)
    return shape


def _sides(settings: Settings, key: str) -> tuple[int, int]:
    """A window setting as (height, width): ``3`` -> (3, 3), ``[5, 3]`` stays."""
    value = needed(settings, key)
    return (value[0], value[1]) if isinstance(value, list) else (value, value)


def _slide(side: int, window: int, stride: int, padding: str) -> int:
    """How many positions a window takes along one side, as Keras counts them (0 when it does not fit)."""
    if padding == "same":
        return (side - 1) // stride + 1
    return max(0, (side - window) // stride + 1)


def _slid(settings: Settings, shape: Shape, windows: tuple[int, int], strides: tuple[int, int]) -> Shape:
    """The (height, width) after sliding ``windows`` by ``strides`` over a picture of ``shape``."""
    padding = needed(settings, "padding")
    sides = tuple(_slide(side, window, stride, padding) for side, window, stride in zip(shape, windows, strides))
    if min(sides) < 1:
        raise impossible(settings, shape)
    return sides


def _conv2d(settings: Settings, shape: Shape) -> Traced:
    """Conv2D: ``filters`` maps of a (dilated) kernel slid by ``strides``; kernel weights plus biases."""
    height, width, channels = _image(settings, shape)
    filters, groups = needed(settings, "filters"), needed(settings, "groups")
    kernel, dilation = _sides(settings, "kernel_size"), _sides(settings, "dilation_rate")
    strides = _sides(settings, "strides")
    if channels % groups or filters % groups or (max(strides) > 1 and max(dilation) > 1):
        raise impossible(settings, shape)
    reach = tuple(rate * (size - 1) + 1 for size, rate in zip(kernel, dilation))
    sides = _slid(settings, shape, reach, strides)
    bias = filters if needed(settings, "use_bias") else 0
    return (*sides, filters), kernel[0] * kernel[1] * (channels // groups) * filters + bias


def _pool(settings: Settings, shape: Shape) -> Traced:
    """MaxPooling2D or AveragePooling2D: a window slid by ``strides`` (its own size when none), no parameters."""
    *_, channels = _image(settings, shape)
    window = _sides(settings, "pool_size")
    strides = window if needed(settings, "strides") is None else _sides(settings, "strides")
    return (*_slid(settings, shape, window, strides), channels), 0


def _batch_norm(settings: Settings, shape: Shape) -> Traced:
    """BatchNormalization: per value along ``axis``, moving mean and variance, plus gamma and beta when kept."""
    axis = needed(settings, "axis")
    axis = axis[0] if isinstance(axis, list) else axis
    if not (-len(shape) <= axis <= len(shape) and axis != 0):
        raise impossible(settings, shape)
    size = shape[axis - 1 if axis > 0 else axis]  # Keras counts the batch axis: 3 is the last of (H, W, C)
    kept = 2 + bool(needed(settings, "center")) + bool(needed(settings, "scale"))
    return shape, kept * size


def _flatten(settings: Settings, shape: Shape) -> Traced:
    """Flatten: every value in one row."""
    return (math.prod(shape),), 0


def _global_pool(settings: Settings, shape: Shape) -> Traced:
    """GlobalAveragePooling2D or GlobalMaxPooling2D: one value per channel, kept as a 1x1 map with ``keepdims``."""
    *_, channels = _image(settings, shape)
    return ((1, 1, channels) if needed(settings, "keepdims") else (channels,)), 0


def _dense(settings: Settings, shape: Shape) -> Traced:
    """Dense: ``units`` weighted sums of the last axis, plus biases."""
    units = needed(settings, "units")
    return (*shape[:-1], units), shape[-1] * units + (units if needed(settings, "use_bias") else 0)


def _same(settings: Settings, shape: Shape) -> Traced:
    """A layer that keeps the shape and has no parameters: Activation, ReLU, Dropout, Rescaling."""
    return shape, 0


def _reshape(settings: Settings, shape: Shape) -> Traced:
    """Reshape: the same values in ``target_shape``, where one side may be -1 (whatever is left)."""
    target = tuple(needed(settings, "target_shape"))
    known = math.prod(side for side in target if side != -1)
    if -1 in target and known and math.prod(shape) % known == 0:
        target = tuple(math.prod(shape) // known if side == -1 else side for side in target)
    if math.prod(target) != math.prod(shape):
        raise impossible(settings, shape)
    return target, 0


def _is_target(value: object) -> bool:
    """A Reshape target: 1 to 3 sides, each 1..MAX_VALUES, one of them possibly -1."""
    return (isinstance(value, list) and 0 < len(value) <= 3 and value.count(-1) <= 1
            and all(side == -1 or is_whole(side, 1, MAX_VALUES) for side in value))


def _is_scale(value: object) -> bool:
    """A Rescaling factor: a number, or one per channel."""
    values = value if isinstance(value, list) and 0 < len(value) <= MAX_FILTERS else [value]
    return all(is_number(item) for item in values)


def _is_axis(value: object) -> bool:
    """A BatchNormalization axis: -3..3, alone or as a list of one (older Keras)."""
    return is_whole(value[0] if isinstance(value, list) and len(value) == 1 else value, -3, 3)


@dataclass(frozen=True)
class LayerShape:
    """How one layer class changes a shape (``compute``), and the rule of every setting Keras 3 writes for it."""

    compute: Callable[[Settings, Shape], Traced]
    rules: Mapping[str, Rule] = field(default_factory=dict)  # beyond the settings every layer has (``COMMON``)

    def __call__(self, settings: Settings, shape: Shape) -> Traced:
        """The output shape and parameter count for an input of ``shape``; a Refusal for a setting outside its
        rules or an input the layer cannot take."""
        check_settings(settings, {**COMMON, **self.rules})
        output, parameters = self.compute(settings, tuple(shape))
        if math.prod(output) > MAX_VALUES:
            raise impossible(settings, shape)
        return output, parameters


def weights(*names: str) -> dict[str, Rule]:
    """The initialiser, regulariser and constraint settings of each weight in ``names`` (objects or null)."""
    return {f"{name}_{part}": OBJECT for name in names for part in ("initializer", "regularizer", "constraint")}


NEVER_SET = {"lora_rank": NOTHING, "lora_alpha": NOTHING, "quantization_config": NOTHING}  # extra weights when set
ACTIVATED = {"activation": TEXT, "use_bias": FLAG}  # the activation's name is checked against the table's
WINDOWS = {"padding": PADDING, "data_format": CHANNELS_LAST}
SCALE = Rule(_is_scale, f"{number().allowed}, [{number().allowed}, …]")

conv2d = LayerShape(_conv2d, {
    "filters": whole(1, MAX_FILTERS), "kernel_size": WINDOW, "strides": WINDOW, "dilation_rate": WINDOW,
    "groups": whole(1, MAX_FILTERS), **WINDOWS, **ACTIVATED, **weights("kernel", "bias"), **NEVER_SET})
pool2d = LayerShape(_pool, {"pool_size": WINDOW, "strides": or_null(WINDOW), **WINDOWS})
batch_norm = LayerShape(_batch_norm, {
    "axis": Rule(_is_axis, "-3..3"), "momentum": number(0, 1), "epsilon": number(1e-12, 1), "center": FLAG,
    "scale": FLAG, "synchronized": FLAG, "renorm": one_of(False), "renorm_clipping": NOTHING,
    "renorm_momentum": number(0, 1), **weights("beta", "gamma"), "moving_mean_initializer": OBJECT,
    "moving_variance_initializer": OBJECT})
dropout = LayerShape(_same, {"rate": number(0, 1, below=True), "seed": or_null(whole(0, 2**63 - 1)),
                             "noise_shape": NOTHING})
flatten = LayerShape(_flatten, {"data_format": CHANNELS_LAST})
global_pool = LayerShape(_global_pool, {"data_format": CHANNELS_LAST, "keepdims": FLAG})
dense = LayerShape(_dense, {"units": whole(1, MAX_UNITS), **ACTIVATED, **weights("kernel", "bias"), **NEVER_SET})
activation = LayerShape(_same, {"activation": TEXT})
relu = LayerShape(_same, {"max_value": or_null(number(0)), "negative_slope": number(0), "threshold": number()})
rescaling = LayerShape(_same, {"scale": SCALE, "offset": SCALE})
reshape = LayerShape(_reshape, {"target_shape": Rule(_is_target, f"[-1, 1..{MAX_VALUES}] (1..3)")})
