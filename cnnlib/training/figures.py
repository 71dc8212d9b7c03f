"""The Train page's figures: the live cost curve, several runs overlaid, the confusion matrix to click, test
digits."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.colors
import plotly.graph_objects as go

from cnnlib.figures.grids import image_grid
from cnnlib.text import t
from cnnlib.training.diagnosis import CHANCE_COST, smoothed
from cnnlib.training.progress import Progress

MAX_POINTS = 2000  # per-batch points sent to the browser each second; longer runs show every k-th batch
RUN_COLORS = plotly.colors.qualitative.Plotly


def every_kth(values: Sequence[float], max_points: int = MAX_POINTS) -> list[int]:
    """Indices of every k-th value, k chosen so that at most ``max_points`` remain (the last one always kept)."""
    step = max(1, -(-len(values) // max_points))
    return list(range(len(values) - 1, -1, -step))[::-1]


def _cost_axes(figure: go.Figure, height: int) -> go.Figure:
    """Cost on a log axis (so 60 and 0.05 both show), validation accuracy 0..1 on the right."""
    figure.update_layout(
        height=height, margin=dict(l=0, r=0, t=30, b=0), hovermode="x unified",
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
        xaxis=dict(title=t("train.figure.epoch_axis"), rangemode="tozero"),
        yaxis=dict(title=t("train.figure.cost_axis"), type="log", dtick=1),
        yaxis2=dict(title=t("train.figure.validation"), overlaying="y", side="right", range=[0, 1], dtick=0.1,
                    showgrid=False, tickformat=".0%"),
    )
    return figure


def cost_curve_figure(progress: Progress, height: int = 420) -> go.Figure:
    """Each batch's cost faint, its smoothed trend bold, epoch means as markers, validation accuracy on the right."""
    costs, positions = progress.batch_costs, progress.batch_positions
    kept = every_kth(costs)  # numpy arrays below: plotly checks a Python list element by element, 10x slower
    step = -(-len(costs) // MAX_POINTS)
    batches = t("train.figure.each_batch") if len(kept) == len(costs) else t("train.figure.each_batch_thinned",
                                                                              step=step)
    x = np.asarray(positions)[kept]
    figure = go.Figure([
        go.Scatter(x=x, y=np.asarray(costs)[kept], mode="lines", name=batches,
                   line=dict(color="rgba(31,119,180,0.25)", width=1)),
        go.Scatter(x=x, y=np.asarray(smoothed(costs))[kept], mode="lines", name=t("train.figure.smoothed"),
                   line=dict(color="rgb(31,119,180)", width=3)),
        go.Scatter(x=list(progress.epoch_positions), y=list(progress.epoch_costs), mode="markers",
                   name=t("train.figure.epoch_mean"), marker=dict(color="rgb(255,127,14)", size=10, symbol="diamond")),
        go.Scatter(x=list(progress.epoch_positions), y=list(progress.val_accuracies), mode="lines+markers",
                   name=t("train.figure.validation"), yaxis="y2", line=dict(color="rgb(44,160,44)", width=2)),
        go.Scatter(x=[0, positions[-1] if positions else 1], y=[CHANCE_COST, CHANCE_COST], mode="lines",
                   name=t("train.figure.guessing", chance=CHANCE_COST), line=dict(color="grey", dash="dot", width=1),
                   hoverinfo="skip"),
    ])
    return _cost_axes(figure, height)


def runs_overlay_figure(runs: Sequence[tuple[str, Progress]], height: int = 380) -> go.Figure:
    """Several runs' smoothed costs (solid) and validation accuracies (dotted), each run ``(label, progress)``."""
    figure = go.Figure()
    for number, (label, progress) in enumerate(runs):
        color = RUN_COLORS[number % len(RUN_COLORS)]
        kept = every_kth(progress.batch_costs)
        figure.add_trace(go.Scatter(x=np.asarray(progress.batch_positions)[kept],
                                    y=np.asarray(smoothed(progress.batch_costs))[kept],
                                    mode="lines", name=t("train.figure.run_cost", label=label),
                                    line=dict(color=color, width=2)))
        figure.add_trace(go.Scatter(x=list(progress.epoch_positions), y=list(progress.val_accuracies),
                                    mode="lines+markers", name=t("train.figure.run_validation", label=label),
                                    yaxis="y2", line=dict(color=color, dash="dot")))
    return _cost_axes(figure, height)


def confusion_table(matrix: np.ndarray):
    """The 10x10 confusion matrix as a table to click: rows are the true digit, columns the predicted one, each cell
    a count shaded by how many it holds (white text on the darker half)."""
    import pandas as pd

    matrix = np.asarray(matrix)
    peak, digits = max(int(matrix.max()), 1), [str(digit) for digit in range(10)]

    def shade(count: int) -> str:
        colour = plotly.colors.sample_colorscale("Blues", count / peak)[0]
        return f"background-color: {colour}; color: {'white' if count > peak / 2 else 'black'}"

    return pd.DataFrame(matrix, index=digits, columns=digits).style.map(shade)


def digit_pictures(images: np.ndarray, titles: Sequence[str]) -> go.Figure:
    """Test digits (N, 28, 28) uint8 in a grid of ten columns, each with its title."""
    return image_grid(images, list(titles), columns=10, zmin=0, zmax=255, tile_px=70)


def misclassified_figure(x_test: np.ndarray, misclassified: Sequence[Sequence[int]]) -> go.Figure:
    """Misclassified test digits titled "true → predicted"; ``misclassified`` rows are (index, true, predicted)."""
    titles = [f"{true} → {predicted}" for _, true, predicted in misclassified]
    return digit_pictures(x_test[[index for index, _, _ in misclassified]], titles)
