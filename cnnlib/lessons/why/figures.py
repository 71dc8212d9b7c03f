"""The Why this answer? page's figures: maps laid over the digit, probabilities side by side, ranked maps, the
nudged digit."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from cnnlib.lessons.why.explain import KnockoutRanking, Nudge, Occlusion
from cnnlib.figures.grids import GREYS, NO_MARGIN, image_grid
from cnnlib.text import t

DIGIT_PX = 336  # a 28x28 map, 12 screen pixels a pixel: room for the hover's three lines
DIGIT_INK_SCALE = 2.5  # the digit under a map is drawn light grey (ink 1 maps to 40 % of Greys), so colour shows
HEAT = [[0.0, "rgba(255,160,0,0)"], [0.3, "rgba(255,120,0,0.45)"], [1.0, "rgba(200,0,0,0.95)"]]  # 0: see-through
SIGNED_HEAT = [[0.0, "rgba(33,102,172,0.9)"], [0.5, "rgba(255,255,255,0)"], [1.0, "rgba(178,24,43,0.9)"]]
SERIES_COLORS = ("#9aa5b1", "#d62728")  # the trained answer grey, the changed one red
NUDGE_PX = 210  # the digit, the nudged digit and the change: three in a row
RANKED_CHANNELS = 10


def overlay_figure(image: np.ndarray, heat: np.ndarray, signed: bool = False, customdata: np.ndarray | None = None,
                   hovertemplate: str | None = None) -> go.Figure:
    """A ``(28, 28)`` map in colour over the digit in light grey; signed maps red above 0 and blue below.

    Hovering shows the pixel and its value, or ``hovertemplate`` filled from ``customdata`` ``(28, 28, k)``.
    """
    limit = float(np.abs(heat).max()) or 1.0
    template = hovertemplate or t("why.figure.map_hover", row="%{y}", column="%{x}", value="%{z:.3f}")
    figure = go.Figure([
        go.Heatmap(z=image, colorscale=GREYS, zmin=0, zmax=DIGIT_INK_SCALE, showscale=False, hoverinfo="skip"),
        go.Heatmap(z=heat, colorscale=SIGNED_HEAT if signed else HEAT, zmin=-limit if signed else 0, zmax=limit,
                   showscale=False, customdata=customdata, hovertemplate=template + "<extra></extra>"),
    ])
    figure.update_xaxes(visible=False, range=[-0.5, 27.5], constrain="domain")
    figure.update_yaxes(visible=False, range=[27.5, -0.5], scaleanchor="x", constrain="domain")
    figure.update_layout(width=DIGIT_PX, height=DIGIT_PX, margin=NO_MARGIN)
    return figure


def occlusion_figure(image: np.ndarray, found: Occlusion) -> go.Figure:
    """The occlusion map over the digit; hovering a pixel gives its average drop and the answer with the patch
    nearest it hidden (numbers in ``customdata``, one sentence as the template: 784 sentences would be slow)."""
    nearest = found.nearest_patch()  # (28, 28)
    top, left = found.corners[nearest, 0], found.corners[nearest, 1]
    answers = found.probabilities[nearest]  # (28, 28, 10)
    customdata = np.stack([found.drop, top, top + found.patch - 1, left, left + found.patch - 1,
                           answers.argmax(axis=-1), answers.max(axis=-1)], axis=-1)
    template = t("why.occlusion.hover", row="%{y}", column="%{x}", digit=found.target, drop="%{customdata[0]:.1%}",
                 top="%{customdata[1]}", bottom="%{customdata[2]}", left="%{customdata[3]}",
                 right="%{customdata[4]}", answer="%{customdata[5]}", probability="%{customdata[6]:.0%}")
    return overlay_figure(image, found.drop, signed=True, customdata=customdata, hovertemplate=template)


def probabilities_figure(series: dict[str, np.ndarray]) -> go.Figure:
    """All ten probabilities of one or two answers (named), as bars side by side."""
    figure = go.Figure([
        go.Bar(x=[str(digit) for digit in range(10)], y=values, name=name, marker_color=color,
               text=[f"{value:.0%}" for value in values] if len(series) == 1 else None, textposition="outside",
               hovertemplate=t("why.figure.probability_hover", name=name, digit="%{x}", value="%{y:.1%}")
               + "<extra></extra>")
        for (name, values), color in zip(series.items(), SERIES_COLORS)])
    figure.update_layout(height=240, margin={**NO_MARGIN, "t": 10}, barmode="group", showlegend=len(series) > 1,
                         legend={"orientation": "h", "y": 1.12}, xaxis={"title": t("why.figure.digit_axis"),
                                                                        "type": "category"},
                         yaxis={"title": t("why.figure.probability_axis"), "range": [0, 1.2], "tickformat": ".0%"})
    return figure


def ranking_figure(ranking: KnockoutRanking, count: int = RANKED_CHANNELS) -> go.Figure:
    """The ``count`` maps whose removal alone changes the target's probability most, largest at the top."""
    channels = ranking.ranked()[:count]
    changes = ranking.changes[channels]
    figure = go.Figure(go.Bar(
        x=changes, y=[t("why.knockout.map_label", channel=int(channel)) for channel in channels], orientation="h",
        marker_color=[SERIES_COLORS[1] if change < 0 else SERIES_COLORS[0] for change in changes],
        hovertemplate=t("why.figure.change_hover", map="%{y}", change="%{x:+.1%}") + "<extra></extra>"))
    figure.update_layout(height=40 + 24 * len(channels), margin={**NO_MARGIN, "l": 60},
                         yaxis={"autorange": "reversed"},
                         xaxis={"title": t("why.knockout.ranking_axis", digit=ranking.target), "tickformat": "+.2~%"})
    return figure


def filter_map_figure(feature_map: np.ndarray, title: str) -> go.Figure:
    """One feature map in the tutorial's Greys, titled, as wide as the digit."""
    return image_grid(feature_map[None], [title], columns=1, tile_px=DIGIT_PX, hover_name=title)


def nudge_figures(nudge: Nudge) -> tuple[go.Figure, go.Figure]:
    """Your digit and the nudged one side by side (Greys, 0 to 1), and the change (red: more ink, blue: less)."""
    digits = image_grid(np.stack([nudge.original, nudge.image]), [t("why.nudge.original"), t("why.nudge.nudged")],
                        columns=2, zmin=0, zmax=1, tile_px=NUDGE_PX)
    limit = max(nudge.epsilon, 1e-6)
    change = image_grid(nudge.change[None], [t("why.nudge.change")], columns=1, colorscale="RdBu_r", zmin=-limit,
                        zmax=limit, tile_px=NUDGE_PX, hover_name=t("why.nudge.change"))
    return digits, change
