"""The class's digits as pictures: many drawn digits tiled under short titles, sent as one PNG.

One PNG, not a chart: a chart sends every pixel's number (a class's 1,500 digits would be 1.2 million values, several
megabytes on every run of the page), a PNG of black ink on white a few bytes a digit. Tiles share the app's layout
(``cnnlib.figures.grids.tiles``) and MNIST's ``Greys`` colours; titles are drawn in with Pillow's bitmap font, so
they hold ASCII only (numbers, ids): words stay in the page's captions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.colors
from PIL import Image, ImageDraw

from cnnlib.figures.grids import GREYS, GRID_BACKGROUND, tiles
from cnnlib.figures.pictures import NUMBER_COLOR, color_table, number_font, png_bytes, screen_cells

MOST_SHOWN = 500  # digits in one picture: 50 rows of 10, about 4,000 pixels tall at 70 px a tile


def digits_picture(images: np.ndarray, titles: Sequence[str], columns: int = 10, tile_px: int = 70) -> bytes:
    """Digits ``(N, 28, 28)`` uint8 (the first ``MOST_SHOWN``) tiled ``columns`` to a row, each under its title: PNG
    bytes. Example: 3 digits under "#0: 7", "#1: 1", "#2: 4" give one row of three tiles."""
    images, titles = np.asarray(images)[:MOST_SHOWN], list(titles)[:MOST_SHOWN]
    laid = tiles(images, columns, tile_px, titled=True)
    rows, cols = screen_cells(laid)
    z = laid.z[np.ix_(rows, cols)]
    picture = color_table(GREYS)[np.round(np.clip(np.nan_to_num(z) / 255, 0, 1) * 255).astype(int)]
    picture[np.isnan(z)] = plotly.colors.hex_to_rgb(GRID_BACKGROUND)
    canvas = Image.fromarray(picture)
    draw, font = ImageDraw.Draw(canvas), number_font()
    for number, title in enumerate(titles):
        row, column = divmod(number, laid.columns)
        left = column * (laid.width + laid.gap) * laid.cell_px
        top = row * (laid.band + laid.height) * laid.cell_px
        width = laid.width * laid.cell_px
        text = title.encode("ascii", "replace").decode()
        draw.text((left + (width - draw.textlength(text, font=font)) / 2, top + 3), text, fill=NUMBER_COLOR, font=font)
    return png_bytes(np.asarray(canvas))
