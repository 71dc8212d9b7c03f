"""The toy lesson in TensorFlow: what ``tf.nn.conv2d`` and ``tf.nn.max_pool2d`` give for the same numbers, and
runnable TensorFlow 2 code that computes them (the tutorial's section 1, in TF2). TensorFlow is imported only when
asked (it takes seconds); ``cnnlib.lessons.toy.convolution`` keeps both names importable."""

from __future__ import annotations

import numpy as np

from cnnlib.lessons.toy.convolution import _pair, conv2d, format_number, max_pool
from cnnlib.text import t


def tensorflow_outputs(image, filters, conv_strides, conv_padding: str, pool_size, pool_strides,
                       pool_padding: str) -> tuple[np.ndarray, np.ndarray]:
    """What ``tf.nn.conv2d`` then ``tf.nn.max_pool2d`` give for the same numbers, in float32 as in the tutorial.
    TensorFlow is imported here, only when asked (it takes seconds)."""
    import tensorflow as tf

    conv = tf.nn.conv2d(np.asarray(image, np.float32), np.asarray(filters, np.float32),
                        list(_pair(conv_strides, "strides")), conv_padding)
    pool = tf.nn.max_pool2d(conv, list(_pair(pool_size, "pool_size")), list(_pair(pool_strides, "strides")),
                            pool_padding)
    return conv.numpy(), pool.numpy()


def _shape_argument(pair: tuple[int, int]) -> str:
    """``1`` for (1, 1), ``[1, 2]`` otherwise: how tf.nn takes strides and sizes."""
    return str(pair[0]) if pair[0] == pair[1] else f"[{pair[0]}, {pair[1]}]"


def _grid_literal(grid: np.ndarray, indent: int) -> str:
    """A 2-D grid as a Python list literal, one row a line, rows aligned under ``indent`` spaces."""
    rows = ["[" + ", ".join(format_number(v) for v in row) + "]" for row in grid]
    return "[" + (",\n" + " " * (indent + 1)).join(rows) + "]"


def tensorflow_code(image, filters, conv_strides, conv_padding: str, pool_size, pool_strides,
                    pool_padding: str) -> str:
    """Runnable TensorFlow 2 code that computes the same conv and max-pool (the tutorial's section 1, in TF2)."""
    image, filters = np.asarray(image, dtype=np.float64), np.asarray(filters, dtype=np.float64)
    _, height, width, channels = image.shape
    kh, kw, _, n_filters = filters.shape
    lines = ["import numpy as np", "import tensorflow as tf", "",
             f"image = np.zeros((1, {height}, {width}, {channels}), np.float32)  # {t('toy.code.image_axes')}"]
    for c in range(channels):
        prefix = f"image[0, :, :, {c}] = "
        lines.append(prefix + _grid_literal(image[0, :, :, c], len(prefix)))
    lines.append(f"filters = np.zeros(({kh}, {kw}, {channels}, {n_filters}), np.float32)  "
                 f"# {t('toy.code.filter_axes')}")
    for f in range(n_filters):
        for c in range(channels):
            prefix = f"filters[:, :, {c}, {f}] = "
            lines.append(prefix + _grid_literal(filters[:, :, c, f], len(prefix)))
    conv = conv2d(image, filters, conv_strides, conv_padding)
    pool = max_pool(conv.output, pool_size, pool_strides, pool_padding)
    lines += ["",
              f"conv = tf.nn.conv2d(image, filters, strides={_shape_argument(conv.strides)}, "
              f"padding=\"{conv_padding}\")  # {conv.output.shape}",
              f"pool = tf.nn.max_pool2d(conv, ksize={_shape_argument(pool.kernel)}, "
              f"strides={_shape_argument(pool.strides)}, padding=\"{pool_padding}\")  # {pool.output.shape}",
              "for f in range(conv.shape[-1]):",
              "    print(f\"feature map {f}: conv\\n{conv[0, :, :, f].numpy()}\\nmax-pool\\n{pool[0, :, :, f].numpy()}\")"]
    return "\n".join(lines) + "\n"
