"""The Toy convolution page's figures: numbered heatmaps of one conv or max-pool step, and of whole maps.
Every title, hover and label comes from the ``toy.figure`` catalogue entries."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cnnlib.text import t
from cnnlib.lessons.toy.convolution import Trace, format_number


COLORSCALE = "RdBu"  # blue positive, red negative, white 0: signs matter in this lesson
PADDING_COLOR = "#d9d9d9"
WINDOW_COLOR = "#ff7f0e"
WINNER_COLOR = "#2ca02c"


def _cell_px(*grid_sizes: int) -> int:
    """Pixels per heatmap cell: big for the tutorial's 3x3, smaller for a 12x12 padded grid."""
    return int(np.clip(330 / max(grid_sizes), 30, 64))


def _heatmap(values: np.ndarray, hover_name: str, zmax: float) -> go.Heatmap:
    """A grid of numbers written in their cells, coloured by sign and size; NaN cells stay blank."""
    return go.Heatmap(z=values, text=_numbers(values), texttemplate="%{text}", textfont=dict(size=15),
                      colorscale=COLORSCALE, zmid=0, zmin=-zmax, zmax=zmax, showscale=False, xgap=2, ygap=2,
                      hovertemplate=t("toy.figure.hover", name=hover_name, value="%{text}") + "<extra></extra>")


def _padding_heatmap(mask: np.ndarray, label: str) -> go.Heatmap:
    """Grey cells labelled ``label`` where ``mask`` is True (the padding), transparent elsewhere."""
    return go.Heatmap(z=np.where(mask, 0.0, np.nan), text=np.where(mask, label, ""), texttemplate="%{text}",
                      textfont=dict(size=12, color="#555"), colorscale=[[0, PADDING_COLOR], [1, PADDING_COLOR]],
                      showscale=False, xgap=2, ygap=2,
                      hovertemplate=t("toy.figure.padding_hover", label=label) + "<extra></extra>")


def _labels(is_padding: np.ndarray) -> list[str]:
    """Tick labels along a padded axis: real rows/columns numbered 0, 1, ..., padding marked "pad"."""
    real_index = np.cumsum(~is_padding) - 1
    pad = t("toy.figure.padding_tick")
    return [pad if is_pad else str(index) for is_pad, index in zip(is_padding, real_index)]


def _ticks(figure: go.Figure, row: int, col: int, row_labels: Sequence[str], col_labels: Sequence[str]) -> None:
    """Label every row and column of one subplot."""
    figure.update_yaxes(tickvals=list(range(len(row_labels))), ticktext=list(row_labels), row=row, col=col)
    figure.update_xaxes(tickvals=list(range(len(col_labels))), ticktext=list(col_labels), row=row, col=col)


def _plain_ticks(figure: go.Figure, row: int, col: int, grid: np.ndarray) -> None:
    """Label a grid's rows and columns 0, 1, ..."""
    _ticks(figure, row, col, [str(i) for i in range(grid.shape[0])], [str(j) for j in range(grid.shape[1])])


def _box(figure: go.Figure, top: int, left: int, height: int, width: int, color: str, row: int, col: int,
             dash: str = "solid", line_width: int = 5) -> None:
    """Outline cells [top, top+height) x [left, left+width) of one subplot (cell centres at 0, 1, ...)."""
    figure.add_shape(type="rect", x0=left - 0.5, x1=left + width - 0.5, y0=top - 0.5, y1=top + height - 0.5,
                     line=dict(color=color, width=line_width, dash=dash), row=row, col=col)


def _numbers(grid: np.ndarray) -> np.ndarray:
    """Each number as a person writes it, blank for NaN."""
    return np.vectorize(lambda v: "" if np.isnan(v) else format_number(v), otypes=[object])(grid)


def _zmax(*grids: np.ndarray) -> float:
    """A symmetric colour range that fits every finite number in ``grids`` (1 for all-zero grids)."""
    finite = [np.abs(g[np.isfinite(g)]).max() for g in grids if np.isfinite(g).any()]
    return float(max(finite, default=0.0)) or 1.0


def _padded_input(figure: go.Figure, trace: Trace, channel: int, row: int, col: int, pad_label: str) -> None:
    """The padded input's channel ``channel``: real numbers coloured, padding grey and labelled, the image framed."""
    mask = trace.padding_mask
    grid = np.where(mask, np.nan, trace.padded_input[0, :, :, channel])
    figure.add_trace(_heatmap(grid, t("toy.figure.input"), _zmax(trace.input[0, :, :, channel])), row=row, col=col)
    _ticks(figure, row, col, _labels(mask.all(axis=1)), _labels(mask.all(axis=0)))
    if mask.any():
        figure.add_trace(_padding_heatmap(mask, pad_label), row=row, col=col)
        height, width = trace.padding
        _box(figure, height.before, width.before, height.size, width.size, "#444", row, col, "dot", 2)


def _output_so_far(trace: Trace, step_index: int) -> np.ndarray:
    """The current step's output map with only the cells computed so far (steps run map by map)."""
    step = trace.steps[step_index]
    out_w = trace.output.shape[2]
    grid = trace.output[0, :, :, step.channel].copy()
    done = np.arange(grid.size).reshape(grid.shape) <= step.row * out_w + step.col
    return np.where(done, grid, np.nan)


def _output_map(figure: go.Figure, trace: Trace, step_index: int, hover_name: str, col: int) -> None:
    """The current step's output map in the first row's column ``col``: filled in so far, the current cell outlined."""
    step = trace.steps[step_index]
    so_far = _output_so_far(trace, step_index)
    figure.add_trace(_heatmap(so_far, hover_name, _zmax(trace.output[0, :, :, step.channel])), row=1, col=col)
    _plain_ticks(figure, 1, col, so_far)
    _box(figure, step.row, step.col, 1, 1, WINDOW_COLOR, 1, col)


def _finish(figure: go.Figure, cell_px: int, grid_rows: int, grid_cols: int, subplot_rows: int) -> go.Figure:
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


def _conv_titles(trace: Trace, filter_index: int) -> list[str]:
    """Subplot titles of a conv step, row by row: input channel, filter channel, and (first row) the output map."""
    image_key = "toy.figure.image_padded" if trace.padding_mask.any() else "toy.figure.image"
    titles = []
    for c in range(trace.input.shape[3]):
        titles += [t(image_key, channel=c), t("toy.figure.filter", filter=filter_index, channel=c)]
        if c == 0:
            titles.append(t("toy.figure.output", channel=filter_index))
    return titles


def conv_step_figure(trace: Trace, step_index: int) -> go.Figure:
    """One conv step: each padded input channel with the window outlined, the filter's matching channel, and the
    output map filling in with the current cell outlined. Padding cells are grey and say 0."""
    step = trace.steps[step_index]
    channels = trace.input.shape[3]
    kh, kw = trace.kernel
    padded_h, padded_w = trace.padding_mask.shape
    out_w = trace.output.shape[2]
    titles = _conv_titles(trace, step.channel)
    specs = [[{}, {}, {"rowspan": channels} if c == 0 else None] for c in range(channels)]
    figure = make_subplots(rows=channels, cols=3, specs=specs, subplot_titles=titles, horizontal_spacing=0.08,
                           vertical_spacing=0.12 / channels, column_widths=[padded_w, max(kw, 2), max(out_w, 2)])
    weights = trace.filters[:, :, :, step.channel]
    for c in range(channels):
        _padded_input(figure, trace, c, c + 1, 1, t("toy.figure.conv_padding"))
        _box(figure, step.top, step.left, kh, kw, WINDOW_COLOR, c + 1, 1)
        figure.add_trace(_heatmap(weights[:, :, c], t("toy.figure.weight"), _zmax(weights)), row=c + 1, col=2)
        _plain_ticks(figure, c + 1, 2, weights[:, :, c])
        _box(figure, 0, 0, kh, kw, WINDOW_COLOR, c + 1, 2)
    _output_map(figure, trace, step_index, t("toy.figure.output_value"), col=3)
    return _finish(figure, _cell_px(padded_h, padded_w), padded_h, padded_w + max(kw, 2) + max(out_w, 2), channels)


def pool_step_figure(trace: Trace, step_index: int) -> go.Figure:
    """One max-pool step: the padded input channel with the window outlined and the winner boxed in green, and the
    pooled map filling in. Padding cells are grey and say "ignored": they never win."""
    step = trace.steps[step_index]
    kh, kw = trace.kernel
    padded_h, padded_w = trace.padding_mask.shape
    out_w = trace.output.shape[2]
    input_key = "toy.figure.feature_map_padded" if trace.padding_mask.any() else "toy.figure.feature_map"
    titles = [t(input_key, channel=step.channel), t("toy.figure.pooled_map", channel=step.channel)]
    figure = make_subplots(rows=1, cols=2, subplot_titles=titles, horizontal_spacing=0.1,
                           column_widths=[padded_w, max(out_w, 2)])
    _padded_input(figure, trace, step.channel, 1, 1, t("toy.figure.pool_padding"))
    _box(figure, step.top, step.left, kh, kw, WINDOW_COLOR, 1, 1)
    winner_row, winner_col, _ = step.cells[step.winner]
    _box(figure, winner_row, winner_col, 1, 1, WINNER_COLOR, 1, 1, line_width=3)
    _output_map(figure, trace, step_index, t("toy.figure.pooled_value"), col=2)
    return _finish(figure, _cell_px(padded_h, padded_w), padded_h, padded_w + max(out_w, 2), 1)


def maps_figure(tensor: np.ndarray, titles: Sequence[str]) -> go.Figure:
    """Every channel of a ``(1, H, W, C)`` tensor as its own numbered grid, side by side, channel c titled
    ``titles[c]`` (e.g. ``cnnlib.lessons.toy.words.map_titles``)."""
    _, height, width, channels = tensor.shape
    figure = make_subplots(rows=1, cols=channels, subplot_titles=list(titles), horizontal_spacing=0.3 / channels)
    for c in range(channels):
        grid = tensor[0, :, :, c]
        figure.add_trace(_heatmap(grid, titles[c], _zmax(grid)), row=1, col=c + 1)
        _plain_ticks(figure, 1, c + 1, grid)
    cell_px = _cell_px(height, width, 8)
    return _finish(figure, cell_px, height, channels * (width + 1), 1)
