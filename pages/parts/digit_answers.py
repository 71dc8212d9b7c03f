"""What the Draw page redraws when the digit changes, each in the place its panel left for it (``Answers``).

The page's panels draw their controls, sentences and filters once per run of the page and leave an empty container
where their digit's pictures go; a stroke reruns only the canvas's fragment, which draws these places again and
nothing else (Streamlit >= 1.59: a fragment may write into containers made outside it). The digit, its feature maps
and the probabilities are pictures; each one's interactive chart, whose hover gives each value, is made only while
its "Inspect values" is on. A trained network's later layers are drawn only while their expander is open.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from streamlit.delta_generator import DeltaGenerator

from cnnlib.lessons.draw import figures
from cnnlib.lessons.draw import steps as draw_steps
from cnnlib.lessons.draw import words as digit_text
from cnnlib.mnist.preprocess import PreparedDigit
from cnnlib.network.reader import ModelReading
from cnnlib.text import t
from pages.parts.errors import explained_errors

OPEN_LAYERS = 1  # a trained network's first layers with maps or units, shown open; the later ones open on request


@dataclass(frozen=True)
class Conv:
    """Section 2.2's convolution as the learner set it, and where its feature maps go."""

    filters: np.ndarray  # (k, k, 1, F)
    stride: int
    padding: str
    place: DeltaGenerator


@dataclass(frozen=True)
class Pool:
    """Section 2.2's max-pool as the learner set it, and where its pooled maps go."""

    size: int
    stride: int
    padding: str
    place: DeltaGenerator


@dataclass(frozen=True)
class Answers:
    """Where a digit's pictures go: its 28x28 view, then (when shown) the conv, the pool and a network's reading."""

    view: DeltaGenerator
    conv: Conv | None = None
    pool: Pool | None = None
    read: Callable[[np.ndarray], ModelReading] | None = None  # the chosen network (at the replayed epoch)
    reading: DeltaGenerator | None = None


def inspectable(place: DeltaGenerator, picture: Callable[[], bytes], chart: Callable[[], go.Figure], key: str,
                caption: str | None = None) -> None:
    """``picture()`` with ``caption``; with "Inspect values" on, ``chart()`` instead, whose hover gives each value."""
    holder = place.container(key=key)
    if holder.toggle(t("draw.figure.inspect"), key=f"{key}_inspect", help=t("draw.figure.inspect_help")):
        holder.plotly_chart(chart(), key=f"{key}_chart", width="content")
    else:
        holder.image(picture(), caption=caption)


def maps_view(place: DeltaGenerator, maps: np.ndarray, chart: Callable[[], go.Figure], key: str,
              columns: int = figures.MAP_COLUMNS, tile_px: int = figures.MAP_TILE_PX) -> None:
    """Maps (F, H, W) as one picture, numbered, ``columns`` to a row; ``chart()`` when inspected."""
    inspectable(place, lambda: figures.maps_picture(maps, columns, tile_px), chart, key)


def digit_view(place: DeltaGenerator, image: np.ndarray, description: str, prepared: PreparedDigit | None) -> None:
    """The digit as MNIST and the network see it, its numbers, and (for a picture) MNIST's recipe when opened."""
    place.subheader(t("draw.view.header"))
    inspectable(place, lambda: figures.digit_picture(image), lambda: figures.digit_figure(image, description),
                "draw_mnist_view", t("draw.figure.digit_title", description=description))
    place.markdown(digit_text.mnist_view_text(image))
    if prepared is not None:
        recipe = place.expander(t("draw.view.recipe"), key="draw_recipe", on_change="rerun")
        if recipe.open:  # its three pictures are made only while someone looks at them
            pictures, captions = figures.preparation_pictures(prepared), digit_text.preparation_captions(prepared)
            for column, picture, caption in zip(recipe.columns(3), pictures, captions):
                column.image(picture, width=figures.STEP_PX, caption=caption)


def tutorial_maps(image: np.ndarray, conv: Conv, pool: Pool | None) -> None:
    """The digit's feature maps after the conv and, when shown, after the max-pool."""
    with explained_errors(conv.place):
        steps = draw_steps.tutorial_conv(image, conv.filters, conv.stride, conv.padding)
        maps_view(conv.place, steps.conv_maps, lambda: figures.map_grid_figure(steps.conv_maps, "conv"),
                  "draw_conv_maps")
        if pool is not None:
            pooled = steps.pooled(pool.size, pool.stride, pool.padding).pool_maps
            maps_view(pool.place, pooled, lambda: figures.map_grid_figure(pooled, "pool"), "draw_pool_maps")


def layer_view(place: DeltaGenerator, reading: ModelReading, name: str) -> None:
    """One trained layer's output: maps as a picture (or their chart), units as bars with the logit in red."""
    values = reading.activations[name]
    if values.ndim == 3:
        maps = np.moveaxis(values, -1, 0)
        maps_view(place, maps, lambda: figures.layer_maps_figure(values), f"draw_layer_{name}",
                  figures.LAYER_COLUMNS, figures.LAYER_TILE_PX)
    else:
        place.plotly_chart(figures.layer_figure(reading, name), key=f"draw_layer_{name}")


def reading_view(place: DeltaGenerator, reading: ModelReading) -> None:
    """The network's answer and probabilities, then every layer's line; the first layers' pictures open."""
    left, right = place.columns([1, 2])
    left.subheader(digit_text.prediction_title(reading))
    left.markdown(digit_text.probability_text(reading))
    inspectable(right, lambda: figures.probability_picture(reading.probabilities),
                lambda: figures.probability_figure(reading.probabilities), "draw_probabilities")
    place.caption(t("draw.model.layers_caption"))
    shown = 0
    for name in reading.activations:
        place.markdown(digit_text.layer_text(reading, name))
        if reading.kinds[name] in ("flatten", "dropout"):
            continue
        layer = place.expander(t("draw.model.layer_view", name=name), expanded=shown < OPEN_LAYERS,
                               key=f"draw_layer_{name}_open", on_change="rerun")
        shown += 1
        if layer.open:
            layer_view(layer, reading, name)


def no_answers(answers: Answers) -> None:
    """Before a digit: the view says to draw one and every other place is held empty, so a fragment can fill it
    later (Streamlit lets a fragment write where it wrote during the last run of the whole page)."""
    answers.view.info(t("draw.digit.empty"), icon=":material/draw:")
    for place in (getattr(answers.conv, "place", None), getattr(answers.pool, "place", None), answers.reading):
        if place is not None:
            place.empty()


def show_answers(image: np.ndarray, description: str, prepared: PreparedDigit | None, answers: Answers) -> None:
    """Everything the digit changes, each in its place: its view, its maps, a network's reading of it."""
    digit_view(answers.view, image, description, prepared)
    if answers.conv is not None:
        tutorial_maps(image, answers.conv, answers.pool)
    if answers.read is not None:
        with explained_errors(answers.reading):
            reading_view(answers.reading, answers.read(image))
