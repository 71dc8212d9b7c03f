"""The Train page's figures besides the cost charts (``cost_charts``): the confusion matrix to click, test digits."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.colors
import plotly.graph_objects as go

from cnnlib.figures.grids import image_grid


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
