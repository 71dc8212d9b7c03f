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


# ----------------------------------------------------------------------------------------------------------------
# Train page (issue 5): the live cost curve, several runs overlaid, and the confusion matrix.
# ----------------------------------------------------------------------------------------------------------------

TRAIN_MAX_POINTS = 3000  # per-batch points sent to the browser each second; longer runs show every k-th batch
TRAIN_COLORS = px.colors.qualitative.Plotly


def _train_every_kth(values: Sequence[float], max_points: int) -> tuple[list[int], list[float]]:
    """(indices, values) of every k-th value, k chosen so that at most ``max_points`` remain (the last kept)."""
    step = max(1, -(-len(values) // max_points))
    indices = list(range(len(values) - 1, -1, -step))[::-1]
    return indices, [values[i] for i in indices]


def _train_axes(figure: go.Figure, height: int) -> go.Figure:
    """Cost on a log axis (so 60 and 0.05 both show), validation accuracy 0..1 on the right."""
    figure.update_layout(
        height=height, margin=dict(l=0, r=0, t=30, b=0), hovermode="x unified",
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
        xaxis=dict(title="epoch", rangemode="tozero"),
        yaxis=dict(title="cost (cross-entropy, log scale)", type="log"),
        yaxis2=dict(title="validation accuracy", overlaying="y", side="right", range=[0, 1.02], showgrid=False,
                    tickformat=".0%"),
    )
    return figure


def train_cost_curve(positions: Sequence[float], costs: Sequence[float], smooth: Sequence[float],
                     epoch_costs: Sequence[float], val_accuracies: Sequence[float | None],
                     chance_cost: float, height: int = 420) -> go.Figure:
    """Each batch's cost faint, its smoothed trend bold, epoch means as markers, validation accuracy on the right."""
    indices, thin_costs = _train_every_kth(costs, TRAIN_MAX_POINTS)
    thin_positions = [positions[i] for i in indices]
    every = "" if len(indices) == len(costs) else f" (every {-(-len(costs) // TRAIN_MAX_POINTS)}th)"
    epochs = list(range(1, len(epoch_costs) + 1))
    figure = go.Figure([
        go.Scattergl(x=thin_positions, y=thin_costs, mode="lines", name=f"each batch{every}",
                     line=dict(color="rgba(31,119,180,0.25)", width=1)),
        go.Scattergl(x=thin_positions, y=[smooth[i] for i in indices], mode="lines", name="smoothed",
                     line=dict(color="rgb(31,119,180)", width=3)),
        go.Scatter(x=epochs, y=list(epoch_costs), mode="markers", name="epoch mean",
                   marker=dict(color="rgb(255,127,14)", size=10, symbol="diamond")),
        go.Scatter(x=epochs, y=list(val_accuracies), mode="lines+markers", name="validation accuracy",
                   yaxis="y2", line=dict(color="rgb(44,160,44)", width=2)),
    ])
    figure.add_hline(y=chance_cost, line=dict(color="grey", dash="dot"),
                     annotation_text=f"guessing: ln 10 = {chance_cost:.2f}", annotation_position="bottom left")
    return _train_axes(figure, height)


def train_overlay(curves: Sequence[tuple[str, Sequence[float], Sequence[float], Sequence[float | None]]],
                  height: int = 380) -> go.Figure:
    """Several runs' smoothed costs (solid) and validation accuracies (dotted); each curve is
    ``(label, batch positions, smoothed costs, validation accuracies)``."""
    figure = go.Figure()
    for number, (label, positions, smooth, val_accuracies) in enumerate(curves):
        color = TRAIN_COLORS[number % len(TRAIN_COLORS)]
        indices, thin_smooth = _train_every_kth(smooth, TRAIN_MAX_POINTS)
        figure.add_trace(go.Scattergl(x=[positions[i] for i in indices], y=thin_smooth, mode="lines",
                                      name=f"{label}: cost", line=dict(color=color, width=2)))
        figure.add_trace(go.Scatter(x=list(range(1, len(val_accuracies) + 1)), y=list(val_accuracies),
                                    mode="lines+markers", name=f"{label}: validation accuracy", yaxis="y2",
                                    line=dict(color=color, dash="dot")))
    return _train_axes(figure, height)


def train_confusion_heatmap(matrix: np.ndarray) -> go.Figure:
    """The 10x10 confusion matrix: rows are the true digit, columns the predicted one, each cell a count."""
    matrix = np.asarray(matrix)
    digits = [str(d) for d in range(10)]
    figure = go.Figure(go.Heatmap(z=matrix, x=digits, y=digits, text=matrix, texttemplate="%{text}",
                                  colorscale="Blues", showscale=False,
                                  hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>"))
    figure.update_layout(height=420, margin=dict(l=0, r=0, t=30, b=0),
                         xaxis=dict(title="predicted digit", side="top", type="category"),
                         yaxis=dict(title="true digit", autorange="reversed", type="category"))
    return figure
