"""The Train page's cost charts as ECharts options (``st.echarts_chart``): the live cost curve and several runs
overlaid. ECharts, not plotly, because Streamlit updates a keyed ECharts chart in place when its option changes,
while it builds a plotly chart anew each time: the live curve changes every second while a run trains."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.colors

from cnnlib.text import t
from cnnlib.training.diagnosis import CHANCE_COST, smoothed
from cnnlib.training.progress import Progress

MAX_POINTS = 2000  # per-batch points sent to the browser each second; longer runs show every k-th batch
RUN_COLORS = plotly.colors.qualitative.Plotly
BATCH_BLUE, EPOCH_ORANGE, VALIDATION_GREEN = "rgb(31,119,180)", "rgb(255,127,14)", "rgb(44,160,44)"
COST_FORMAT, PERCENT_FORMAT = "%.3f", "%.1f%%"  # Streamlit's printf-style tooltip formats
EMPTY_COST_RANGE = (0.1, 10)  # the cost axis before the first batch: a run starts near ln 10 = 2.3


def every_kth(values: Sequence[float], max_points: int = MAX_POINTS) -> list[int]:
    """Indices of every k-th value, k chosen so that at most ``max_points`` remain (the last one always kept)."""
    step = max(1, -(-len(values) // max_points))
    return list(range(len(values) - 1, -1, -step))[::-1]


def plottable_costs(costs: Sequence[float]) -> np.ndarray:
    """Costs as float32, with NaN (a gap in the line) where the log axis cannot show one: infinite, NaN, ≤ 0."""
    values = np.asarray(costs, dtype=np.float64)
    return np.where(np.isfinite(values) & (values > 0), values, np.nan).astype(np.float32)


def column(name: str) -> str:
    """A dataset column's heading in the learner's language (the chart's "Show data" table shows it)."""
    return t(f"train.figure.column.{name}")


def encoding(y: str) -> dict:
    """A series' columns: column ``y`` against the epoch."""
    return {"x": column("epoch"), "y": column(y)}


def percents(accuracies: Sequence[float]) -> list[float]:
    """Accuracies 0..1 as percents, for the right axis that reads 0%..100%."""
    return [100 * accuracy for accuracy in accuracies]


def _cost_chart(datasets: list[pd.DataFrame], series: list[dict]) -> dict:
    """Cost on a log axis (so 60 and 0.05 both show), validation accuracy 0..100% on the right, epochs along the
    bottom; the wheel (or a pinch) zooms into the epochs until the option changes (Streamlit sets it anew). Before
    any cost, the axes span one epoch and the costs a run starts among, so the empty chart has its scales."""
    empty = all(frame.empty for frame in datasets)
    return {
        "animation": False,
        "legend": {"top": 0, "type": "scroll"},
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 64, "right": 64, "top": 44, "bottom": 48},
        "dataset": [{"source": frame} for frame in datasets],
        "xAxis": {"type": "value", "name": t("train.figure.epoch_axis"), "nameLocation": "middle", "nameGap": 28,
                  "min": 0, **({"max": 1} if empty else {})},
        "yAxis": [{"type": "log", "name": t("train.figure.cost_axis"), "nameLocation": "middle", "nameGap": 44,
                   **(dict(zip(("min", "max"), EMPTY_COST_RANGE)) if empty else {})},
                  {"type": "value", "name": t("train.figure.validation"), "nameLocation": "middle", "nameGap": 44,
                   "min": 0, "max": 100, "axisLabel": {"formatter": "{value}%"}, "splitLine": {"show": False}}],
        "dataZoom": [{"type": "inside", "xAxisIndex": 0}],
        "series": series,
    }


def _line(name: str, dataset: int, y: str, color: str, **style) -> dict:
    """A line of one dataset's column ``y`` against its epoch column, without a mark at each point."""
    return {"type": "line", "name": name, "datasetIndex": dataset, "encode": encoding(y), "showSymbol": False,
            "itemStyle": {"color": color}, "lineStyle": {"color": color, **style},
            "tooltip": {"valueFormatter": COST_FORMAT}}


def _validation(name: str, dataset: int, color: str, **style) -> dict:
    """Validation accuracy of each epoch on the right axis, a mark at each epoch."""
    return {"type": "line", "name": name, "datasetIndex": dataset, "encode": encoding("validation"),
            "yAxisIndex": 1, "itemStyle": {"color": color}, "lineStyle": {"color": color, **style},
            "tooltip": {"valueFormatter": PERCENT_FORMAT}}


def _guessing_line() -> dict:
    """A dashed level at the cost of guessing among ten digits, with its name."""
    return {"silent": True, "symbol": "none", "data": [{"yAxis": CHANCE_COST}],
            "label": {"formatter": t("train.figure.guessing", chance=CHANCE_COST), "position": "insideEndTop"},
            "lineStyle": {"type": "dashed", "color": "grey", "width": 1}}


def batches_frame(progress: Progress) -> pd.DataFrame:
    """Each batch's cost and the smoothed cost against the epoch it ended in, every k-th batch of a long run."""
    costs, kept = progress.batch_costs, every_kth(progress.batch_costs)
    return pd.DataFrame({column("epoch"): np.asarray(progress.batch_positions, dtype=np.float32)[kept],
                         column("cost"): plottable_costs(costs)[kept],
                         column("smoothed"): plottable_costs(smoothed(costs))[kept]})


def epochs_frame(progress: Progress) -> pd.DataFrame:
    """Each finished epoch's mean cost and validation accuracy (%) against where it ended."""
    return pd.DataFrame({column("epoch"): list(progress.epoch_positions),
                         column("mean"): plottable_costs(progress.epoch_costs),
                         column("validation"): percents(progress.val_accuracies)})


def cost_curve_chart(progress: Progress) -> dict:
    """Each batch's cost faint, its smoothed trend bold, epoch means as marks, validation accuracy on the right."""
    step = -(-len(progress.batch_costs) // MAX_POINTS)
    batches = t("train.figure.each_batch") if step <= 1 else t("train.figure.each_batch_thinned", step=step)
    epoch_means = {"type": "scatter", "name": t("train.figure.epoch_mean"), "datasetIndex": 1,
                   "encode": encoding("mean"), "symbol": "diamond", "symbolSize": 12,
                   "itemStyle": {"color": EPOCH_ORANGE}, "tooltip": {"valueFormatter": COST_FORMAT}}
    series = [_line(batches, 0, "cost", BATCH_BLUE, width=1, opacity=0.3),
              {**_line(t("train.figure.smoothed"), 0, "smoothed", BATCH_BLUE, width=3), "markLine": _guessing_line()},
              epoch_means, _validation(t("train.figure.validation"), 1, VALIDATION_GREEN, width=2)]
    return _cost_chart([batches_frame(progress), epochs_frame(progress)], series)


def cost_curve_alt(progress: Progress) -> str:
    """The live curve in a sentence, for screen readers: how many batches, the latest smoothed cost."""
    if not progress.batch_costs:
        return t("train.figure.alt_empty")
    latest = smoothed(progress.batch_costs)[-1]
    return t("train.figure.alt", batches=len(progress.batch_costs),
             cost=f"{latest:.3f}" if math.isfinite(latest) else "-")


def runs_overlay_chart(runs: Sequence[tuple[str, Progress]]) -> dict:
    """Several runs' smoothed costs (solid) and validation accuracies (dotted), each run ``(label, progress)``."""
    datasets, series = [], []
    for number, (label, progress) in enumerate(runs):
        color = RUN_COLORS[number % len(RUN_COLORS)]
        datasets += [batches_frame(progress), epochs_frame(progress)]
        series += [_line(t("train.figure.run_cost", label=label), 2 * number, "smoothed", color, width=2),
                   _validation(t("train.figure.run_validation", label=label), 2 * number + 1, color, type="dotted")]
    return _cost_chart(datasets, series)


def runs_overlay_alt(labels: Sequence[str]) -> str:
    """The overlay in a sentence, for screen readers: which runs it compares."""
    return t("train.figure.overlay_alt", runs="; ".join(labels))
