"""The training recipes' figures: a few training digits and the versions of them training sees (redrawn, augmented)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from cnnlib.figures.grids import image_grid
from cnnlib.network.architecture import augmented_digits
from cnnlib.mnist.strokes import redrawn


def digit_versions_figure(digits: np.ndarray, versions: np.ndarray) -> go.Figure:
    """Digits ``(N, 28, 28)`` in the top row, each of ``versions`` ``(V, N, 28, 28)`` in a row below them."""
    rows = np.concatenate([np.asarray(digits, np.float32)[np.newaxis], versions])
    return image_grid(rows.reshape(-1, *rows.shape[2:]), columns=rows.shape[1], zmin=0.0, zmax=1.0, tile_px=60)


def redrawn_figure(digits: np.ndarray) -> go.Figure:
    """Digits ``(N, 28, 28)`` in 0..1 above the same digits redrawn as pen strokes (``cnnlib.mnist.strokes``)."""
    return digit_versions_figure(digits, redrawn(digits[..., np.newaxis])[np.newaxis, ..., 0])


def augmented_figure(digits: np.ndarray, versions: int) -> go.Figure:
    """Digits ``(N, 28, 28)`` in 0..1 above ``versions`` rows of random shifted, turned and zoomed versions."""
    return digit_versions_figure(digits, augmented_digits(digits, versions=versions))
