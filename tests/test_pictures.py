"""Figures as pictures (cnnlib.figures.pictures): the image grid laid out as its chart, coloured on one scale, its
tiles numbered; bars labelled; both as PNGs the page sends instead of interactive charts."""

import io

import numpy as np
from PIL import Image

from cnnlib.figures.grids import GREYS, GRID_BACKGROUND, tiles
from cnnlib.figures.pictures import bar_picture, color_table, mosaic_picture, png_bytes
from cnnlib.lessons.draw import figures

BACKGROUND = tuple(int(GRID_BACKGROUND[i:i + 2], 16) for i in (1, 3, 5))


def decoded(png: bytes) -> np.ndarray:
    """A PNG's pixels, (height, width, 3) uint8."""
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_the_worked_example_lays_maps_out_as_their_chart():
    maps = np.arange(5 * 2 * 3, dtype=np.float32).reshape(5, 2, 3)  # 5 maps of 2x3, 4 to a row, 40 px a tile
    picture = mosaic_picture(maps, columns=4, tile_px=40, numbered=True)
    laid = tiles(maps, 4, 40, True)
    assert picture.shape == (80, 150, 3) and picture.dtype == np.uint8  # 10 px a map pixel, a 20 px title band
    assert picture.shape[:2] == (round(laid.z.shape[0] * laid.cell_px), round(laid.z.shape[1] * laid.cell_px))
    top, left = 40 + 20, 0  # map 4: second row, first column, below its band
    map_four = picture[top:top + 20, left:left + 30]
    assert (map_four == map_four[0, 0]).all(axis=-1).any()  # drawn, in blocks of 10x10 screen pixels
    np.testing.assert_array_equal(map_four[::10, ::10, 0], color_table(GREYS)[
        np.round((maps[4] - maps.min()) / (maps.max() - maps.min()) * 255).astype(int)][..., 0])
    assert tuple(picture[top, 30 + 5]) == BACKGROUND  # the gap after a map
    assert tuple(picture[top, 140]) == BACKGROUND  # no map 7: background where it would be


def test_the_scale_runs_from_white_to_black_and_a_blank_map_is_white():
    maps = np.stack([np.zeros((4, 4)), np.ones((4, 4))]).astype(np.float32)
    picture = mosaic_picture(maps, columns=2, tile_px=40, numbered=False)
    cell = 40 / 5  # 4 pixels and a 1-pixel gap in 40 screen pixels
    assert tuple(picture[round(2 * cell), 2]) == (255, 255, 255)  # 0 is white, as the tutorial's Greys
    assert tuple(picture[round(2 * cell), 40 + 2]) == (0, 0, 0)  # the maximum is black
    blank = mosaic_picture(np.zeros((1, 3, 3), np.float32), columns=1, tile_px=30, numbered=False)
    assert (blank[blank.shape[0] // 2, 5] == 255).all()  # all-zero maps draw white, not grey
    np.testing.assert_array_equal(color_table(GREYS)[[0, 255]], [[255, 255, 255], [0, 0, 0]])


def test_tiles_are_numbered_in_their_title_band_only():
    maps = np.zeros((3, 6, 6), np.float32)
    numbered = mosaic_picture(maps, columns=3, tile_px=60, numbered=True)
    plain = mosaic_picture(maps, columns=3, tile_px=60, numbered=False)
    maps_px = round(6 * 60 / 7)  # 6 map pixels and a 1-pixel gap in 60 screen pixels
    band = numbered.shape[0] - maps_px
    assert abs(band - 20) <= 3 and (numbered[:band] != BACKGROUND).any(axis=-1).sum() > 10  # digits in the band
    np.testing.assert_array_equal(numbered[band:], plain[-maps_px:])  # the maps themselves, as without numbers


def test_bars_are_as_tall_as_their_values_with_the_highlight_in_its_colour():
    values = np.array([0.0, 1.0, 0.5])
    picture = bar_picture(values, highlight=1, width=300, height=200, colors=("#9aa5b1", "#d62728"))
    assert picture.shape == (200, 300, 3)
    column = picture[:, 150]  # the middle of bar 1
    red = np.all(column == (214, 39, 40), axis=-1)
    grey = np.all(picture[:, 250] == (154, 165, 177), axis=-1)
    assert grey.sum() > 50 and abs(red.sum() - 2 * grey.sum()) <= 2  # 100 % is twice as tall as 50 %
    assert np.all(picture[:, 50] == (154, 165, 177), axis=-1).sum() == 1  # 0 % is a 1-pixel line


def test_the_draw_pages_pictures_are_pngs_of_the_charts_sizes():
    digit = np.zeros((28, 28), np.float32)
    digit[4:24, 12:16] = 1.0
    view = decoded(figures.digit_picture(digit))
    assert view.shape[1] == figures.digit_figure(digit, "draw").layout.width  # 28 pixels, about 10 px each
    assert view[view.shape[0] // 2, view.shape[1] // 2].tolist() == [0, 0, 0]  # the ink in black
    maps = np.random.default_rng(0).random((5, 14, 14), dtype=np.float32)
    assert decoded(figures.maps_picture(maps)).shape[1] == figures.map_grid_figure(maps, "conv").layout.width
    probabilities = decoded(figures.probability_picture(np.full(10, 0.1)))
    assert probabilities.shape == (figures.PROBABILITY_PX[1], figures.PROBABILITY_PX[0], 3)
    picture = np.zeros((2, 2, 3), np.uint8)
    assert png_bytes(picture) == png_bytes(picture.copy())  # the same picture, the same bytes: not sent again
