"""The Draw a digit page's figures: the digit, the filters, the feature maps, a trained network's answer and layers.

A stroke redraws the digit, the feature maps and the probabilities as pictures (``digit_picture``, ``maps_picture``,
``probability_picture``); their charts are made only when a learner asks to inspect the values. The charts are
built as plain dicts and handed to plotly without its validation (``fast_figure``): validating one took 5-15 ms,
building it this way takes well under one.
The dicts are written out in full (explicit colour scales and colours, nested fonts), and a test checks that each
one equals what plotly's validation would make of it. They carry an empty template: Streamlit's chart theme is
applied in the browser all the same, and copying and sending its template cost 0.5 ms a figure.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from cnnlib.network.reader import ModelReading
from cnnlib.figures.grids import GREYS, NO_MARGIN, color_range, tiles
from cnnlib.figures.pictures import bar_picture, mosaic_picture, png_bytes
from cnnlib.mnist.preprocess import PreparedDigit
from cnnlib.text import t

# Spelled out as plotly's validation would (like GREYS): plotly.js has no "RdBu_r".
SIGNED = [list(stop) for stop in go.Heatmap(colorscale="RdBu_r").colorscale]  # red positive, blue negative, white 0
BAR_COLOR, WINNER_COLOR = "#9aa5b1", "#d62728"
DIGIT_PX = 280  # the 28x28 digit, as wide as the canvas
MAP_COLUMNS, MAP_TILE_PX = 8, 120  # filters, feature maps and pooled maps share these, so filter f sits above map f
LAYER_COLUMNS, LAYER_TILE_PX = 16, 44  # a trained layer's 32 or 64 maps
PROBABILITY_PX = (420, 200)  # the probabilities' picture, wide and high
STEP_PX = 112  # each preparation step's picture
FILTER_HISTORY_PX = 48  # each filter in the replay's small multiples
VALUE = "%{z:.3f}"  # the hovered cell's value, as plotly fills it in


def fast_figure(spec: dict) -> go.Figure:
    """A figure from a complete, valid dict, skipping plotly's validation (the slow part of building one)."""
    return go.Figure({**spec, "layout": {"template": {}, **spec["layout"]}}, _validate=False)


def mosaic_figure(images: np.ndarray, hover_key: str, titles: Sequence[str] | None = None, columns: int = MAP_COLUMNS,
                  tile_px: int = MAP_TILE_PX, colorscale: list = GREYS, zmin: float | None = None,
                  zmax: float | None = None) -> go.Figure:
    """Same-sized images (N, H, W) as one heatmap sharing one colour scale, ``columns`` to a row, each ``tile_px``
    wide with its title above (``cnnlib.figures.grids.tiles``); the sentence ``hover_key`` (its ``{number}`` and
    ``{value}`` filled in by plotly) names a hovered cell.

    Columns line up across mosaics with the same ``columns`` and ``tile_px`` (filter f above feature map f).
    """
    laid = tiles(images, columns, tile_px, titles is not None)
    zmin, zmax = color_range(images, zmin, zmax)
    heatmap = {"type": "heatmap", "z": laid.z, "customdata": laid.numbers, "colorscale": colorscale, "zmin": zmin,
               "zmax": zmax, "showscale": False, "hoverongaps": False,
               "hovertemplate": t(hover_key, number="%{customdata}", value=VALUE) + "<extra></extra>"}
    return fast_figure({"data": [heatmap], "layout": laid.layout(titles)})


def digit_figure(image: np.ndarray, description: str) -> go.Figure:
    """The (28, 28) digit as MNIST sees it, in the tutorial's Greys from 0 (white) to 1 (black)."""
    title = t("draw.figure.digit_title", description=description)
    return mosaic_figure(image[None], "draw.figure.digit_hover", [title], columns=1, tile_px=DIGIT_PX, zmin=0.0,
                         zmax=1.0)


def filter_grid_figure(filters: np.ndarray) -> go.Figure:
    """Filters (k, k, 1, F) as small signed heatmaps "filter 0" .. "filter F-1", sharing one symmetric scale."""
    maps = np.moveaxis(np.asarray(filters)[:, :, 0, :], -1, 0)  # (F, k, k)
    limit = float(np.abs(maps).max()) or 1.0
    titles = [t("draw.figure.filter_title", number=number) for number in range(len(maps))]
    return mosaic_figure(maps, "draw.figure.filter_hover", titles, colorscale=SIGNED, zmin=-limit, zmax=limit)


def filter_history_figure(history: np.ndarray, epochs: Sequence[int], epoch: int) -> go.Figure:
    """conv1's filters as they formed, (kept epochs, F, kh, kw) for the kept ``epochs``: one row per kept epoch up
    to ``epoch``, one column per filter, all on one symmetric scale, so a filter reads down its column."""
    rows = [row for row, kept in enumerate(epochs) if kept <= epoch]
    shown = np.asarray(history)[rows]
    limit = float(np.abs(shown).max()) or 1.0
    titles = [t("draw.replay.filter_title", epoch=epochs[row], number=number) for row in rows
              for number in range(shown.shape[1])]
    return mosaic_figure(shown.reshape(-1, *shown.shape[2:]), "draw.figure.filter_hover", titles,
                         columns=shown.shape[1], tile_px=FILTER_HISTORY_PX, colorscale=SIGNED, zmin=-limit, zmax=limit)


def map_grid_figure(maps: np.ndarray, step: str) -> go.Figure:
    """Feature maps (F, H, W) of the ``step`` "conv" or "pool", numbered in Greys and placed like the filters."""
    titles = [t(f"draw.figure.{step}_title", number=number) for number in range(len(maps))]
    return mosaic_figure(maps, f"draw.figure.{step}_hover", titles)


def layer_maps_figure(values: np.ndarray) -> go.Figure:
    """A trained conv or pool layer's output (H, W, C) as a compact mosaic of its C maps (hover gives map number)."""
    return mosaic_figure(np.moveaxis(values, -1, 0), "draw.figure.layer_hover", columns=LAYER_COLUMNS,
                         tile_px=LAYER_TILE_PX)


def maps_picture(maps: np.ndarray, columns: int = MAP_COLUMNS, tile_px: int = MAP_TILE_PX) -> bytes:
    """Maps (F, H, W) as one numbered PNG in Greys, laid out like their chart (``map_grid_figure``, or with
    ``LAYER_COLUMNS`` and ``LAYER_TILE_PX`` like ``layer_maps_figure``), all on one scale, as in the chart."""
    return png_bytes(mosaic_picture(maps, columns, tile_px, numbered=True))


def digit_picture(image: np.ndarray) -> bytes:
    """The (28, 28) digit as one PNG, as ``digit_figure`` draws it: Greys from 0 (white) to 1 (black), 280 px wide."""
    return png_bytes(mosaic_picture(image[None], 1, DIGIT_PX, numbered=False, zmin=0.0, zmax=1.0))


def probability_picture(probabilities: np.ndarray) -> bytes:
    """The ten probabilities as bars in one PNG, labelled in percent, the predicted digit in red."""
    probabilities = np.asarray(probabilities)
    return png_bytes(bar_picture(probabilities, int(np.argmax(probabilities)), *PROBABILITY_PX,
                                 (BAR_COLOR, WINNER_COLOR)))


def probability_figure(probabilities: np.ndarray) -> go.Figure:
    """The ten softmax probabilities as bars, the predicted digit in red, each labelled in percent."""
    probabilities = np.asarray(probabilities)
    winner, digits = int(np.argmax(probabilities)), range(len(probabilities))
    bars = {"type": "bar", "x": [str(digit) for digit in digits], "y": probabilities,
            "marker": {"color": [WINNER_COLOR if digit == winner else BAR_COLOR for digit in digits]},
            "text": [f"{probability:.0%}" for probability in probabilities], "textposition": "outside",
            "hovertemplate": t("draw.figure.probability_hover", digit="%{x}", value="%{y:.4f}") + "<extra></extra>"}
    layout = {"height": 240, "margin": {"l": 0, "r": 0, "t": 10, "b": 0},
              "xaxis": {"title": {"text": t("draw.figure.digit_axis")}, "type": "category"},
              "yaxis": {"title": {"text": t("draw.figure.probability_axis")}, "range": [0, 1.15], "tickformat": ".0%"}}
    return fast_figure({"data": [bars], "layout": layout})


def unit_bars_figure(values: np.ndarray, highlight: int | None = None, height: int = 120) -> go.Figure:
    """A dense layer's outputs as a strip of bars, one per unit (``highlight`` in red), hover giving unit and value."""
    values = np.asarray(values)
    colors = BAR_COLOR if highlight is None else [WINNER_COLOR if unit == highlight else BAR_COLOR
                                                  for unit in range(len(values))]
    bars = {"type": "bar", "x": np.arange(len(values)), "y": values, "marker": {"color": colors, "line": {"width": 0}},
            "hovertemplate": t("draw.figure.unit_hover", unit="%{x}", value="%{y:.3f}") + "<extra></extra>"}
    few = len(values) <= 32
    xaxis = {"showticklabels": few, **({"dtick": 1} if few else {})}
    layout = {"height": height, "margin": NO_MARGIN, "bargap": 0.05, "xaxis": xaxis}
    return fast_figure({"data": [bars], "layout": layout})


def layer_figure(reading: ModelReading, name: str) -> go.Figure | None:
    """One layer's output for the page: maps as a mosaic, units as bars (the predicted logit in red); None for
    flatten and dropout, which the page describes in a line."""
    values, kind = reading.activations[name], reading.kinds[name]
    if kind in ("flatten", "dropout"):
        return None
    if values.ndim == 3:
        return layer_maps_figure(values)
    return unit_bars_figure(values, reading.prediction if kind == "logits" else None)


def step_picture(image: np.ndarray, size: int = STEP_PX) -> np.ndarray:
    """A 0..1 white-on-black image padded square and scaled to ``size`` pixels with square pixels, dark ink on white."""
    height, width = image.shape
    side = max(height, width)
    square = np.zeros((side, side), np.float32)
    square[(side - height) // 2:(side - height) // 2 + height, (side - width) // 2:(side - width) // 2 + width] = image
    nearest = np.arange(size) * side // size
    return 1.0 - np.clip(square[np.ix_(nearest, nearest)], 0.0, 1.0)


def preparation_pictures(prepared: PreparedDigit) -> list[np.ndarray]:
    """MNIST's recipe in three pictures: the ink cropped to its box, fitted in 20x20, centred by mass in 28x28."""
    top, left, bottom, right = prepared.box
    return [step_picture(prepared.ink[top:bottom, left:right]), step_picture(prepared.fitted),
            step_picture(prepared.image)]
