"""The Train page's figures: the live cost curve, several runs overlaid, and the confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.colors
import plotly.graph_objects as go

TRAIN_MAX_POINTS = 2000  # per-batch points sent to the browser each second; longer runs show every k-th batch
TRAIN_COLORS = plotly.colors.qualitative.Plotly


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
        yaxis=dict(title="cost (cross-entropy, log scale)", type="log", dtick=1),
        yaxis2=dict(title="validation accuracy", overlaying="y", side="right", range=[0, 1], dtick=0.1,
                    showgrid=False, tickformat=".0%"),
    )
    return figure


def train_cost_curve(positions: Sequence[float], costs: Sequence[float], smooth: Sequence[float],
                     epoch_positions: Sequence[float], epoch_costs: Sequence[float],
                     val_accuracies: Sequence[float | None], chance_cost: float, height: int = 420) -> go.Figure:
    """Each batch's cost faint, its smoothed trend bold, epoch means as markers, validation accuracy on the right."""
    indices, thin_costs = _train_every_kth(costs, TRAIN_MAX_POINTS)
    thin_positions = [positions[i] for i in indices]
    shown = "" if len(indices) == len(costs) else f" (1 in {-(-len(costs) // TRAIN_MAX_POINTS)} shown)"
    figure = go.Figure([
        go.Scatter(x=thin_positions, y=thin_costs, mode="lines", name=f"each batch{shown}",
                   line=dict(color="rgba(31,119,180,0.25)", width=1)),
        go.Scatter(x=thin_positions, y=[smooth[i] for i in indices], mode="lines", name="smoothed",
                   line=dict(color="rgb(31,119,180)", width=3)),
        go.Scatter(x=list(epoch_positions), y=list(epoch_costs), mode="markers", name="epoch mean",
                   marker=dict(color="rgb(255,127,14)", size=10, symbol="diamond")),
        go.Scatter(x=list(epoch_positions), y=list(val_accuracies), mode="lines+markers",
                   name="validation accuracy", yaxis="y2", line=dict(color="rgb(44,160,44)", width=2)),
        go.Scatter(x=[0, positions[-1] if positions else 1], y=[chance_cost, chance_cost],
                   mode="lines", name=f"guessing (ln 10 = {chance_cost:.2f})",
                   line=dict(color="grey", dash="dot", width=1), hoverinfo="skip"),
    ])
    return _train_axes(figure, height)


def train_overlay(curves: Sequence[tuple[str, Sequence[float], Sequence[float], Sequence[float],
                                         Sequence[float | None]]], height: int = 380) -> go.Figure:
    """Several runs' smoothed costs (solid) and validation accuracies (dotted); each curve is
    ``(label, batch positions, smoothed costs, epoch end positions, validation accuracies)``."""
    figure = go.Figure()
    for number, (label, positions, smooth, epoch_positions, val_accuracies) in enumerate(curves):
        color = TRAIN_COLORS[number % len(TRAIN_COLORS)]
        indices, thin_smooth = _train_every_kth(smooth, TRAIN_MAX_POINTS)
        figure.add_trace(go.Scatter(x=[positions[i] for i in indices], y=thin_smooth, mode="lines",
                                    name=f"{label}: cost", line=dict(color=color, width=2)))
        figure.add_trace(go.Scatter(x=list(epoch_positions), y=list(val_accuracies),
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
