"""Plotly figures for every page: numpy in, ``go.Figure`` out. Nothing here imports TensorFlow or Streamlit."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.colors
import plotly.graph_objects as go

GREYS = "Greys"  # as the tutorial's plt.imshow(..., cmap='Greys'): 0 is white, the maximum is black


TITLE_PX, GAP_PX = 20, 4  # a tile's title band and the space between tiles, in screen pixels
GRID_BACKGROUND = "#eceff4"  # between tiles, so that a blank (all-white) map still shows its edges


def image_grid(images: np.ndarray, titles: Sequence[str] | None = None, columns: int = 10,
               colorscale: str = GREYS, zmin: float | None = None, zmax: float | None = None, tile_px: int = 90,
               hover_name: str = "image") -> go.Figure:
    """Same-sized 2-D images ``(N, H, W)`` tiled into one heatmap sharing one colour scale, a title above each.

    One trace, not one subplot per image: 64 maps draw in ~15 ms instead of ~0.5 s, which matters on every stroke.
    Each column is ``tile_px`` wide whatever the image size, so grids with the same ``columns`` and ``tile_px``
    line up (the Draw page puts filter f above feature map f). Hovering names the image and its value.
    """
    images = np.asarray(images, dtype=np.float32)
    count, height, width = images.shape
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    gap = max(1, round(GAP_PX * width / tile_px))  # in image pixels
    cell_px = tile_px / (width + gap)  # screen pixels per image pixel
    band = round(TITLE_PX / cell_px) if titles is not None else gap
    corners = [(band + (number // columns) * (height + band), (number % columns) * (width + gap))
               for number in range(count)]  # each image's top-left cell in the mosaic
    mosaic = np.full((rows * (height + band), columns * (width + gap) - gap), np.nan, np.float32)
    index = np.full(mosaic.shape, -1)
    for number, (top, left) in enumerate(corners):
        mosaic[top:top + height, left:left + width] = images[number]
        index[top:top + height, left:left + width] = number
    zmin = float(images.min()) if zmin is None else zmin
    zmax = max(float(images.max()), zmin + 1e-6) if zmax is None else zmax  # all-zero maps: white, not grey
    figure = go.Figure(go.Heatmap(z=mosaic, customdata=index, colorscale=colorscale, zmin=zmin, zmax=zmax,
                                  showscale=False, hoverongaps=False,
                                  hovertemplate=f"{hover_name} %{{customdata}}: %{{z:.3f}}<extra></extra>"))
    figure.update_layout(annotations=[  # in one go: add_annotation one by one costs ~4 ms each
        dict(x=left + (width - 1) / 2, y=top - 0.5, text=title, showarrow=False, yanchor="bottom", font_size=12)
        for title, (top, left) in zip(titles or [], corners)])
    figure.update_xaxes(visible=False, range=[-0.5, mosaic.shape[1] - 0.5], constrain="domain")
    figure.update_yaxes(visible=False, range=[mosaic.shape[0] - 0.5, -0.5], scaleanchor="x", constrain="domain")
    # A shape, not plot_bgcolor, which Streamlit's chart theme overrides.
    figure.add_shape(type="rect", x0=-0.5, x1=mosaic.shape[1] - 0.5, y0=-0.5, y1=mosaic.shape[0] - 0.5,
                     fillcolor=GRID_BACKGROUND, line_width=0, layer="below")
    figure.update_layout(width=round(mosaic.shape[1] * cell_px), height=round(mosaic.shape[0] * cell_px),
                         margin=dict(l=0, r=0, t=0, b=0))
    return figure


def class_counts_bar(counts: np.ndarray, title: str) -> go.Figure:
    """Bars of how many digits each class 0-9 has."""
    figure = go.Figure(go.Bar(x=[str(d) for d in range(len(counts))], y=counts, text=counts, textposition="auto"))
    figure.update_layout(title=title, xaxis_title="digit", yaxis_title="images", height=260,
                         margin=dict(l=0, r=0, t=40, b=0))
    return figure


# ----------------------------------------------------------------------------------------------------------------
# Toy convolution page (issue 3): numbered heatmaps of one conv or max-pool step, and of whole feature maps.
# ----------------------------------------------------------------------------------------------------------------

from plotly.subplots import make_subplots  # noqa: E402  (kept with the section that uses it)

from cnnlib.toy import Trace, format_number  # noqa: E402

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


# ----------------------------------------------------------------------------------------------------------------
# Train page (issue 5): the live cost curve, several runs overlaid, and the confusion matrix.
# ----------------------------------------------------------------------------------------------------------------

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


# ----------------------------------------------------------------------------------------------------------------
# Draw a digit page (issue 4): filters, a trained layer's many maps in one fast mosaic, probabilities, dense units.
# ----------------------------------------------------------------------------------------------------------------

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
