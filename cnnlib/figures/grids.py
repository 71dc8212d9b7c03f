"""The image grid every page uses: many same-sized images in one fast heatmap, a title above each.

``tiles`` lays the images out (the one tile layout: the Draw page's mosaics use it too, through
``cnnlib.lessons.draw.figures.mosaic_figure``, and so do its pictures, ``cnnlib.figures.pictures.mosaic_picture``);
``image_grid`` makes it a validated plotly figure. ``GREYS`` and
``NO_MARGIN`` are the colour scale and margins every figure shares.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.colors
import plotly.graph_objects as go

# Spelled out as plotly's validation would: plotly.js's own "Greys" runs the other way.
GREYS = plotly.colors.get_colorscale("Greys")  # as the tutorial's cmap='Greys': 0 is white, the maximum is black
NO_MARGIN = {"l": 0, "r": 0, "t": 0, "b": 0}
TITLE_PX, GAP_PX = 20, 4  # a tile's title band and the space between tiles, in screen pixels
GRID_BACKGROUND = "#eceff4"  # between tiles, so that a blank (all-white) map still shows its edges


@dataclass(frozen=True, repr=False)
class Tiles:
    """Images laid out in rows, each below a title band and left of a gap: one 2-D mosaic (NaN between images)."""

    z: np.ndarray  # the mosaic
    numbers: np.ndarray  # for every cell of the mosaic, the number of the image it belongs to
    columns: int
    height: int  # one image's rows
    width: int  # one image's columns
    band: int  # rows above each image (its title, or a gap)
    gap: int  # columns after each image but the last of a row
    cell_px: float  # screen pixels per image pixel

    def __repr__(self) -> str:
        return f"Tiles({self.z.shape}, columns={self.columns})"

    def layout(self, titles: Sequence[str] | None) -> dict:
        """The figure's layout: the titles above their images, square pixels, the background between tiles."""
        rows, wide = self.z.shape
        annotations = [{"x": (number % self.columns) * (self.width + self.gap) + (self.width - 1) / 2,
                        "y": (number // self.columns) * (self.band + self.height) + self.band - 0.5, "text": title,
                        "showarrow": False, "yanchor": "bottom", "font": {"size": 12}}
                       for number, title in enumerate(titles or [])]
        # A shape, not plot_bgcolor (which Streamlit's chart theme overrides), shows the edges of a blank map.
        background = {"type": "rect", "x0": -0.5, "x1": wide - 0.5, "y0": -0.5, "y1": rows - 0.5, "layer": "below",
                      "fillcolor": GRID_BACKGROUND, "line": {"width": 0}}
        return {"shapes": [background], "margin": NO_MARGIN, **({"annotations": annotations} if annotations else {}),
                "width": round(wide * self.cell_px), "height": round(rows * self.cell_px),
                "xaxis": {"visible": False, "range": [-0.5, wide - 0.5], "constrain": "domain"},
                "yaxis": {"visible": False, "range": [rows - 0.5, -0.5], "scaleanchor": "x", "constrain": "domain"}}


def tiles(images: np.ndarray, columns: int, tile_px: int, titled: bool) -> Tiles:
    """Same-sized images ``(N, H, W)`` in rows of ``columns``, each column ``tile_px`` wide on screen whatever the
    image size (so grids with the same ``columns`` and ``tile_px`` line up), with a title band when ``titled``."""
    images = np.asarray(images, np.float32)
    count, height, width = images.shape
    columns = max(1, min(columns, count))
    gap = max(1, round(GAP_PX * width / tile_px))  # in image pixels
    cell_px = tile_px / (width + gap)
    band = round(TITLE_PX / cell_px) if titled else gap
    rows = -(-count // columns)
    cells = np.full((rows * columns, band + height, width + gap), np.nan, np.float32)
    cells[:count, band:, :width] = images
    numbers = np.broadcast_to(np.arange(rows * columns, dtype=np.min_scalar_type(rows * columns))[:, None, None],
                              cells.shape)

    def arrange(per_image: np.ndarray) -> np.ndarray:
        grid = per_image.reshape(rows, columns, band + height, width + gap).transpose(0, 2, 1, 3)
        return grid.reshape(rows * (band + height), columns * (width + gap))[:, :-gap]

    return Tiles(arrange(cells), arrange(numbers), columns, height, width, band, gap, cell_px)


def color_range(images: np.ndarray, zmin: float | None, zmax: float | None) -> tuple[float, float]:
    """``zmin`` and ``zmax``, or the images' own range; all-zero maps draw white, not grey."""
    zmin = float(np.min(images)) if zmin is None else zmin
    return zmin, max(float(np.max(images)), zmin + 1e-6) if zmax is None else zmax


def image_grid(images: np.ndarray, titles: Sequence[str] | None = None, columns: int = 10,
               colorscale: str | list = GREYS, zmin: float | None = None, zmax: float | None = None,
               tile_px: int = 90, hover_name: str = "image") -> go.Figure:
    """Same-sized 2-D images ``(N, H, W)`` tiled into one heatmap sharing one colour scale, a title above each.

    One trace, not one subplot per image: 64 maps draw in ~15 ms instead of ~0.5 s, which matters on every stroke.
    Hovering names the image and its value. Validated by plotly, so ``colorscale`` may be any name it knows.
    """
    laid = tiles(images, columns, tile_px, titles is not None)
    zmin, zmax = color_range(images, zmin, zmax)
    return go.Figure(go.Heatmap(z=laid.z, customdata=laid.numbers, colorscale=colorscale, zmin=zmin, zmax=zmax,
                                showscale=False, hoverongaps=False,
                                hovertemplate=f"{hover_name} %{{customdata}}: %{{z:.3f}}<extra></extra>"),
                     layout=laid.layout(titles))
