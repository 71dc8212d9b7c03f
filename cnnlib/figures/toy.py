"""The Toy convolution page's figures: numbered heatmaps of one conv or max-pool step, and of whole maps."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cnnlib.toy import Trace, format_number


TOY_COLORSCALE = "RdBu"  # blue positive, red negative, white 0: signs matter in this lesson
TOY_PADDING_COLOR = "#d9d9d9"
TOY_WINDOW_COLOR = "#ff7f0e"
TOY_WINNER_COLOR = "#2ca02c"


def _toy_cell_px(*grid_sizes: int) -> int:
    """Pixels per heatmap cell: big for the tutorial's 3x3, smaller for a 12x12 padded grid."""
    return int(np.clip(330 / max(grid_sizes), 30, 64))


def _toy_heatmap(values: np.ndarray, hover_name: str, zmax: float) -> go.Heatmap:
    """A grid of numbers written in their cells, coloured by sign and size; NaN cells stay blank."""
    return go.Heatmap(z=values, text=_toy_numbers(values), texttemplate="%{text}", textfont=dict(size=15),
                      colorscale=TOY_COLORSCALE, zmid=0, zmin=-zmax, zmax=zmax, showscale=False, xgap=2, ygap=2,
                      hovertemplate=f"{hover_name}: %{{text}}<extra></extra>")


def _toy_padding_heatmap(mask: np.ndarray, label: str) -> go.Heatmap:
    """Grey cells labelled ``label`` where ``mask`` is True (the padding), transparent elsewhere."""
    return go.Heatmap(z=np.where(mask, 0.0, np.nan), text=np.where(mask, label, ""), texttemplate="%{text}",
                      textfont=dict(size=12, color="#555"), colorscale=[[0, TOY_PADDING_COLOR], [1, TOY_PADDING_COLOR]],
                      showscale=False, xgap=2, ygap=2, hovertemplate=f"padding: {label}<extra></extra>")


def _toy_labels(is_padding: np.ndarray) -> list[str]:
    """Tick labels along a padded axis: real rows/columns numbered 0, 1, ..., padding marked "pad"."""
    real_index = np.cumsum(~is_padding) - 1
    return ["pad" if pad else str(index) for pad, index in zip(is_padding, real_index)]


def _toy_ticks(figure: go.Figure, row: int, col: int, row_labels: Sequence[str], col_labels: Sequence[str]) -> None:
    """Label every row and column of one subplot."""
    figure.update_yaxes(tickvals=list(range(len(row_labels))), ticktext=list(row_labels), row=row, col=col)
    figure.update_xaxes(tickvals=list(range(len(col_labels))), ticktext=list(col_labels), row=row, col=col)


def _toy_plain_ticks(figure: go.Figure, row: int, col: int, grid: np.ndarray) -> None:
    """Label a grid's rows and columns 0, 1, ..."""
    _toy_ticks(figure, row, col, [str(i) for i in range(grid.shape[0])], [str(j) for j in range(grid.shape[1])])


def _toy_box(figure: go.Figure, top: int, left: int, height: int, width: int, color: str, row: int, col: int,
             dash: str = "solid", line_width: int = 5) -> None:
    """Outline cells [top, top+height) x [left, left+width) of one subplot (cell centres at 0, 1, ...)."""
    figure.add_shape(type="rect", x0=left - 0.5, x1=left + width - 0.5, y0=top - 0.5, y1=top + height - 0.5,
                     line=dict(color=color, width=line_width, dash=dash), row=row, col=col)


def _toy_numbers(grid: np.ndarray) -> np.ndarray:
    """Each number as a person writes it, blank for NaN."""
    return np.vectorize(lambda v: "" if np.isnan(v) else format_number(v), otypes=[object])(grid)


def _toy_zmax(*grids: np.ndarray) -> float:
    """A symmetric colour range that fits every finite number in ``grids`` (1 for all-zero grids)."""
    finite = [np.abs(g[np.isfinite(g)]).max() for g in grids if np.isfinite(g).any()]
    return float(max(finite, default=0.0)) or 1.0


def _toy_padded_input(figure: go.Figure, trace: Trace, channel: int, row: int, col: int, pad_label: str) -> None:
    """The padded input's channel ``channel``: real numbers coloured, padding grey and labelled, the image framed."""
    mask = trace.padding_mask
    grid = np.where(mask, np.nan, trace.padded_input[0, :, :, channel])
    figure.add_trace(_toy_heatmap(grid, "input", _toy_zmax(trace.input[0, :, :, channel])), row=row, col=col)
    _toy_ticks(figure, row, col, _toy_labels(mask.all(axis=1)), _toy_labels(mask.all(axis=0)))
    if mask.any():
        figure.add_trace(_toy_padding_heatmap(mask, pad_label), row=row, col=col)
        height, width = trace.padding
        _toy_box(figure, height.before, width.before, height.size, width.size, "#444", row, col, "dot", 2)


def _toy_output_so_far(trace: Trace, step_index: int) -> np.ndarray:
    """The current step's output map with only the cells computed so far (steps run map by map)."""
    step = trace.steps[step_index]
    out_w = trace.output.shape[2]
    grid = trace.output[0, :, :, step.channel].copy()
    done = np.arange(grid.size).reshape(grid.shape) <= step.row * out_w + step.col
    return np.where(done, grid, np.nan)


def _toy_finish(figure: go.Figure, cell_px: int, grid_rows: int, grid_cols: int, subplot_rows: int) -> go.Figure:
    """Square cells, rows top-down, no clutter; sized so each cell is ``cell_px`` wide."""
    figure.update_yaxes(autorange="reversed", showgrid=False, zeroline=False, tickfont=dict(size=11))
    figure.update_xaxes(showgrid=False, zeroline=False, side="top", tickfont=dict(size=11))
    for trace in figure.data:  # square cells in every subplot
        figure.layout["yaxis" + trace.yaxis[1:]].update(scaleanchor=trace.xaxis, scaleratio=1, constrain="domain")
        figure.layout["xaxis" + trace.xaxis[1:]].update(constrain="domain")
    figure.update_annotations(yshift=30)
    figure.update_layout(height=subplot_rows * grid_rows * cell_px + 70 * subplot_rows + 20,
                         width=grid_cols * cell_px + 120, margin=dict(l=40, r=10, t=60, b=10),
                         plot_bgcolor="white")
    return figure


def toy_conv_step_figure(trace: Trace, step_index: int) -> go.Figure:
    """One conv step: each padded input channel with the window outlined, the filter's matching channel, and the
    output map filling in with the current cell outlined. Padding cells are grey and say 0."""
    step = trace.steps[step_index]
    channels = trace.input.shape[3]
    kh, kw = trace.kernel
    padded_h, padded_w = trace.padding_mask.shape
    out_w = trace.output.shape[2]
    titles = []
    for c in range(channels):
        titles += [f"image channel {c}{' (padded)' if trace.padding_mask.any() else ''}",
                   f"filter {step.channel}, channel {c}"]
        if c == 0:
            titles.append(f"output map {step.channel}")
    specs = [[{}, {}, {"rowspan": channels} if c == 0 else None] for c in range(channels)]
    figure = make_subplots(rows=channels, cols=3, specs=specs, subplot_titles=titles, horizontal_spacing=0.08,
                           vertical_spacing=0.12 / channels, column_widths=[padded_w, max(kw, 2), max(out_w, 2)])
    weights = trace.filters[:, :, :, step.channel]
    for c in range(channels):
        _toy_padded_input(figure, trace, c, c + 1, 1, "0")
        _toy_box(figure, step.top, step.left, kh, kw, TOY_WINDOW_COLOR, c + 1, 1)
        figure.add_trace(_toy_heatmap(weights[:, :, c], "weight", _toy_zmax(weights)), row=c + 1, col=2)
        _toy_plain_ticks(figure, c + 1, 2, weights[:, :, c])
        _toy_box(figure, 0, 0, kh, kw, TOY_WINDOW_COLOR, c + 1, 2)
    so_far = _toy_output_so_far(trace, step_index)
    figure.add_trace(_toy_heatmap(so_far, "output", _toy_zmax(trace.output[0, :, :, step.channel])), row=1, col=3)
    _toy_plain_ticks(figure, 1, 3, so_far)
    _toy_box(figure, step.row, step.col, 1, 1, TOY_WINDOW_COLOR, 1, 3)
    return _toy_finish(figure, _toy_cell_px(padded_h, padded_w), padded_h, padded_w + max(kw, 2) + max(out_w, 2),
                       channels)


def toy_pool_step_figure(trace: Trace, step_index: int) -> go.Figure:
    """One max-pool step: the padded input channel with the window outlined and the winner boxed in green, and the
    pooled map filling in. Padding cells are grey and say "ignored": they never win."""
    step = trace.steps[step_index]
    kh, kw = trace.kernel
    padded_h, padded_w = trace.padding_mask.shape
    out_w = trace.output.shape[2]
    input_title = f"feature map {step.channel}{' (padded)' if trace.padding_mask.any() else ''}"
    figure = make_subplots(rows=1, cols=2, subplot_titles=[input_title, f"pooled map {step.channel}"],
                           horizontal_spacing=0.1, column_widths=[padded_w, max(out_w, 2)])
    _toy_padded_input(figure, trace, step.channel, 1, 1, "ignored")
    _toy_box(figure, step.top, step.left, kh, kw, TOY_WINDOW_COLOR, 1, 1)
    winner_row, winner_col, _ = step.cells[step.winner]
    _toy_box(figure, winner_row, winner_col, 1, 1, TOY_WINNER_COLOR, 1, 1, line_width=3)
    so_far = _toy_output_so_far(trace, step_index)
    figure.add_trace(_toy_heatmap(so_far, "pooled", _toy_zmax(trace.output[0, :, :, step.channel])), row=1, col=2)
    _toy_plain_ticks(figure, 1, 2, so_far)
    _toy_box(figure, step.row, step.col, 1, 1, TOY_WINDOW_COLOR, 1, 2)
    return _toy_finish(figure, _toy_cell_px(padded_h, padded_w), padded_h, padded_w + max(out_w, 2), 1)


def toy_maps_figure(tensor: np.ndarray, name: str) -> go.Figure:
    """Every channel of a ``(1, H, W, C)`` tensor as its own numbered grid, side by side: "``name`` c"."""
    _, height, width, channels = tensor.shape
    figure = make_subplots(rows=1, cols=channels, subplot_titles=[f"{name} {c}" for c in range(channels)],
                           horizontal_spacing=0.3 / channels)
    for c in range(channels):
        grid = tensor[0, :, :, c]
        figure.add_trace(_toy_heatmap(grid, f"{name} {c}", _toy_zmax(grid)), row=1, col=c + 1)
        _toy_plain_ticks(figure, 1, c + 1, grid)
    cell_px = _toy_cell_px(height, width, 8)
    return _toy_finish(figure, cell_px, height, channels * (width + 1), 1)
