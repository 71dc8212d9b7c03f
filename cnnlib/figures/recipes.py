"""The training recipes' figure: a few training digits and the random versions augmentation makes of them."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from cnnlib.figures.grids import image_grid


def augmentation_preview_figure(digits: np.ndarray, versions: np.ndarray) -> go.Figure:
    """Digits ``(N, 28, 28)`` in the top row, each of ``versions`` ``(V, N, 28, 28)`` in a row below them."""
    rows = np.concatenate([np.asarray(digits, np.float32)[np.newaxis], versions])
    return image_grid(rows.reshape(-1, *rows.shape[2:]), columns=rows.shape[1], zmin=0.0, zmax=1.0, tile_px=60)
