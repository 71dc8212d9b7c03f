"""The home page's figure: how many digits each class holds."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from cnnlib.figures.grids import NO_MARGIN
from cnnlib.text import t


def class_counts_figure(counts: np.ndarray, title: str) -> go.Figure:
    """Bars of how many digits each class 0-9 has."""
    figure = go.Figure(go.Bar(x=[str(d) for d in range(len(counts))], y=counts, text=counts, textposition="auto"))
    figure.update_layout(title=title, xaxis_title=t("home.figure.digit"), yaxis_title=t("home.figure.images"),
                         height=260, margin={**NO_MARGIN, "t": 40})
    return figure
