"""Figures as pictures: the image grid with the same tiles as ``cnnlib.figures.grids`` (same layout, colours and
size on screen), and bars, drawn in numpy and Pillow and sent as one PNG each instead of an interactive chart.

A stroke redraws the digit, every feature map and the probabilities; as PNGs the browser shows them at once, where
each Plotly chart cost it tens of milliseconds and about 5,000 page elements. Numbers (a tile's, a bar's index and
value) are drawn in; words stay in the page's captions, in the learner's language.

Worked example: 5 maps of 2x3 in rows of 4, 40 px a tile: 10 screen pixels per map pixel, a 20-pixel band above
each row, so a (80, 150, 3) picture whose map 4 starts at row 60, column 0.
"""

from __future__ import annotations

import io
from functools import cache

import numpy as np
import plotly.colors
from PIL import Image, ImageDraw, ImageFont

from cnnlib.figures.grids import GREYS, GRID_BACKGROUND, Tiles, color_range, tiles

NUMBER_COLOR = (60, 60, 60)
PNG_LEVEL = 1  # zlib's fastest: a 32-map layer encodes in ~3 ms instead of ~7, a quarter larger


@cache
def number_font() -> ImageFont.ImageFont:
    """Pillow's built-in bitmap font (11 px digits): ten times faster to draw than a scalable one."""
    return ImageFont.load_default_imagefont()


def color_table(colorscale: list) -> np.ndarray:
    """A plotly colour scale ``[[position, "rgb(r,g,b)"], ...]`` as 256 RGB colours, (256, 3) uint8."""
    positions = [float(position) for position, _ in colorscale]
    rgb = np.array([plotly.colors.unlabel_rgb(color) for _, color in colorscale], np.float64)
    steps = np.linspace(0.0, 1.0, 256)
    return np.stack([np.interp(steps, positions, rgb[:, channel]) for channel in range(3)], -1).round().astype(np.uint8)


def screen_cells(laid: Tiles) -> tuple[np.ndarray, np.ndarray]:
    """For each screen row and column of the picture, the mosaic's row and column it shows (nearest cell)."""
    rows, wide = laid.z.shape
    height, width = round(rows * laid.cell_px), round(wide * laid.cell_px)
    return (np.minimum((np.arange(height) + 0.5) // laid.cell_px, rows - 1).astype(int),
            np.minimum((np.arange(width) + 0.5) // laid.cell_px, wide - 1).astype(int))


def number_tiles(picture: np.ndarray, laid: Tiles, count: int) -> None:
    """Write each tile's number into its title band, at its top left, in place."""
    canvas = Image.fromarray(picture)
    draw, font = ImageDraw.Draw(canvas), number_font()
    for number in range(count):
        row, column = divmod(number, laid.columns)
        x = column * (laid.width + laid.gap) * laid.cell_px
        y = row * (laid.band + laid.height) * laid.cell_px
        draw.text((x, y + 2), str(number), fill=NUMBER_COLOR, font=font)
    picture[:] = np.asarray(canvas)


def mosaic_picture(images: np.ndarray, columns: int, tile_px: int, numbered: bool, colorscale: list = GREYS,
                   zmin: float | None = None, zmax: float | None = None) -> np.ndarray:
    """Same-sized images ``(N, H, W)`` tiled as ``grids.tiles`` lays them out (``numbered``: a title band holding
    each tile's number), coloured on one scale from ``zmin`` to ``zmax``: an (height, width, 3) uint8 RGB picture."""
    laid = tiles(images, columns, tile_px, numbered)
    zmin, zmax = color_range(images, zmin, zmax)
    rows, cols = screen_cells(laid)
    z = laid.z[np.ix_(rows, cols)]
    shade = np.clip((np.nan_to_num(z, nan=zmin) - zmin) / (zmax - zmin), 0.0, 1.0)
    picture = color_table(colorscale)[np.round(shade * 255).astype(int)]
    picture[np.isnan(z)] = plotly.colors.hex_to_rgb(GRID_BACKGROUND)
    if numbered:
        number_tiles(picture, laid, len(images))
    return picture


def bar_picture(values: np.ndarray, highlight: int, width: int, height: int, colors: tuple[str, str]) -> np.ndarray:
    """Values in [0, 1] as bars on white, each with its percentage above and its index below, bar ``highlight`` in
    the second of ``colors`` (hex) and the others in the first: an (height, width, 3) uint8 RGB picture."""
    values = np.clip(np.asarray(values, np.float64), 0.0, 1.0)
    canvas = Image.new("RGB", (width, height), "white")
    draw, font, slot = ImageDraw.Draw(canvas), number_font(), width / len(values)
    band = font.getbbox("0")[3] + 4  # a line of digits and a little space, above and below the bars
    tallest = height - 2 * band
    for index, value in enumerate(values):
        left, top = round(index * slot + slot * 0.2), height - band - max(1, round(value * tallest))
        draw.rectangle((left, top, round((index + 0.8) * slot) - 1, height - band - 1),
                       fill=colors[index == highlight])
        for text, y in ((f"{value:.0%}", top - band + 2), (str(index), height - band + 2)):
            draw.text(((index + 0.5) * slot - draw.textlength(text, font=font) / 2, y), text, fill=NUMBER_COLOR,
                      font=font)
    return np.asarray(canvas)


def png_bytes(picture: np.ndarray) -> bytes:
    """An RGB picture as PNG bytes: lossless, and the same picture always gives the same bytes."""
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG", compress_level=PNG_LEVEL)
    return buffer.getvalue()
