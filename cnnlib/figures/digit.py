"""The Draw a digit page's figures: filters, feature maps, probabilities and a dense layer's units."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from cnnlib.figures.grids import image_grid

DRAW_FILTER_SCALE = "RdBu_r"  # weights are signed: red positive, blue negative, white 0
DRAW_BAR_COLOR, DRAW_WINNER_COLOR = "#9aa5b1", "#d62728"


def draw_filter_grid(filters: np.ndarray, columns: int = 8, tile_px: int = 80) -> go.Figure:
    """Filters ``(k, k, 1, F)`` as small signed heatmaps, "filter 0" .. "filter F-1", sharing one symmetric scale."""
    maps = np.moveaxis(np.asarray(filters)[:, :, 0, :], -1, 0)  # (F, k, k)
    limit = float(np.abs(maps).max()) or 1.0
    return image_grid(maps, [f"filter {f}" for f in range(len(maps))], columns=columns, colorscale=DRAW_FILTER_SCALE,
                      zmin=-limit, zmax=limit, tile_px=tile_px, hover_name="filter")


def draw_map_grid(maps: np.ndarray, name: str, columns: int = 8, tile_px: int = 80) -> go.Figure:
    """Feature maps ``(F, H, W)`` as numbered pictures "``name`` f" in the tutorial's Greys, placed like the filters."""
    return image_grid(maps, [f"{name} {f}" for f in range(len(maps))], columns=columns, tile_px=tile_px,
                      hover_name=name)


def draw_probability_bars(probabilities: np.ndarray) -> go.Figure:
    """The ten softmax probabilities as bars, the predicted digit in red, each labelled in percent."""
    probabilities = np.asarray(probabilities)
    winner = int(np.argmax(probabilities))
    colors = [DRAW_WINNER_COLOR if digit == winner else DRAW_BAR_COLOR for digit in range(len(probabilities))]
    figure = go.Figure(go.Bar(x=[str(d) for d in range(len(probabilities))], y=probabilities, marker_color=colors,
                              text=[f"{p:.0%}" for p in probabilities], textposition="outside",
                              hovertemplate="digit %{x}: %{y:.4f}<extra></extra>"))
    figure.update_layout(height=240, margin=dict(l=0, r=0, t=10, b=0), xaxis=dict(title="digit", type="category"),
                         yaxis=dict(title="probability", range=[0, 1.15], tickformat=".0%"))
    return figure


def draw_unit_bars(values: np.ndarray, highlight: int | None = None, height: int = 120) -> go.Figure:
    """A dense layer's outputs as a strip of bars, one per unit (``highlight`` in red), hover giving unit and value."""
    values = np.asarray(values)
    colors = [DRAW_WINNER_COLOR if unit == highlight else DRAW_BAR_COLOR for unit in range(len(values))]
    figure = go.Figure(go.Bar(x=np.arange(len(values)), y=values, marker_color=colors, marker_line_width=0,
                              hovertemplate="unit %{x}: %{y:.3f}<extra></extra>"))
    few = len(values) <= 32
    figure.update_layout(height=height, margin=dict(l=0, r=0, t=0, b=0), bargap=0.05,
                         xaxis=dict(title=None, showticklabels=few, dtick=1 if few else None), yaxis=dict(title=None))
    return figure
