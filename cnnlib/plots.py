"""Plotly figures for every page: numpy in, ``go.Figure`` out. Nothing here imports TensorFlow or Streamlit."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.express as px
import plotly.graph_objects as go

GREYS = "Greys"  # as the tutorial's plt.imshow(..., cmap='Greys'): 0 is white, the maximum is black


def image_grid(images: np.ndarray, titles: Sequence[str], columns: int = 10, colorscale: str = GREYS,
               zmin: float | None = None, zmax: float | None = None, tile_px: int = 90) -> go.Figure:
    """A grid of same-sized 2-D images ``(N, H, W)``, one title each, sharing one colour scale."""
    images = np.asarray(images)
    columns = max(1, min(columns, len(images)))
    rows = -(-len(images) // columns)
    figure = px.imshow(images, facet_col=0, facet_col_wrap=columns, color_continuous_scale=colorscale,
                       zmin=zmin, zmax=zmax, facet_row_spacing=min(0.3 / rows, 0.08), facet_col_spacing=0.01)
    # px numbers facets from the bottom-left row; map each annotation back to its image index.
    for annotation in figure.layout.annotations:
        index = int(annotation.text.split("=")[1])
        annotation.text = titles[index]
    figure.update_xaxes(showticklabels=False).update_yaxes(showticklabels=False)
    figure.update_layout(coloraxis_showscale=False, margin=dict(l=0, r=0, t=24, b=0),
                         height=rows * tile_px + 30, width=columns * tile_px)
    return figure


def class_counts_bar(counts: np.ndarray, title: str) -> go.Figure:
    """Bars of how many digits each class 0-9 has."""
    figure = go.Figure(go.Bar(x=[str(d) for d in range(len(counts))], y=counts, text=counts, textposition="auto"))
    figure.update_layout(title=title, xaxis_title="digit", yaxis_title="images", height=260,
                         margin=dict(l=0, r=0, t=40, b=0))
    return figure
