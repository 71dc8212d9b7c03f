"""The "What did it learn?" page's figures and sentences built from data: the gallery of ideal pictures with where
each one's score lies among the real digits, a channel's favourite digits, and the map of the test digits with the
learner's digit as a star among them. Every word comes from ``cnnlib.text`` (the ``learned`` catalogue).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from cnnlib.figures.grids import image_grid
from cnnlib.lessons.learned.ideal import ScoreRange
from cnnlib.text import t

DIGIT_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                 "#bcbd22", "#17becf")  # plotly's ten: one per digit on the map
MAP_PX = 520  # the map's height


def gallery_titles(ranges: Sequence[ScoreRange]) -> list[str]:
    """Above each ideal picture: its digit and score ("7: 14.2")."""
    return [t("learned.gallery.title", digit=found.digit, score=found.score) for found in ranges]


def gallery_caption(found: ScoreRange) -> str:
    """Where an ideal picture's score lies among the real test digits of its class."""
    return t("learned.gallery.range", digit=found.digit, score=found.score, lowest=found.lowest, median=found.median,
             highest=found.highest, share=found.share_below)


def pictures_figure(images: np.ndarray, titles: Sequence[str], columns: int = 10) -> object:
    """Digits or ideal pictures (N, 28, 28) in [0, 1], white ink on black as the network sees them, titled."""
    return image_grid(np.asarray(images, np.float32), list(titles), columns=columns, zmin=0.0, zmax=1.0,
                      tile_px=70)


def channel_count(model, layer: str) -> int:
    """How many channels (or units) a layer of ``model`` has: the last axis of its output."""
    return int(model.get_layer(layer).output.shape[-1])


def map_figure(points: np.ndarray, labels: np.ndarray, mine: np.ndarray | None = None) -> go.Figure:
    """The test digits on the 2-D map, one colour per digit (hover: which digit, its index), the learner's digit as
    a black star at ``mine``."""
    figure = go.Figure()
    for digit in range(10):
        chosen = np.flatnonzero(np.asarray(labels) == digit)
        figure.add_trace(go.Scattergl(x=points[chosen, 0], y=points[chosen, 1], mode="markers", name=str(digit),
                                      customdata=chosen, marker=dict(size=6, color=DIGIT_COLOURS[digit]),
                                      hovertemplate=t("learned.map.hover", digit=digit, index="%{customdata}") +
                                      "<extra></extra>"))
    if mine is not None:
        figure.add_trace(go.Scatter(x=[mine[0]], y=[mine[1]], mode="markers", name=t("learned.map.yours"),
                                    marker=dict(symbol="star", size=22, color="black", line=dict(color="white",
                                                                                                  width=1))))
    figure.update_layout(height=MAP_PX, margin=dict(l=0, r=0, t=10, b=0), legend=dict(title=t("learned.map.legend")),
                         xaxis=dict(visible=False), yaxis=dict(visible=False, scaleanchor="x"))
    return figure


def nearest_titles(indices: np.ndarray, labels: np.ndarray) -> list[str]:
    """Above each of the nearest test digits: its index and label."""
    return [t("learned.nearest.title", index=int(index), label=int(labels[index])) for index in indices]
