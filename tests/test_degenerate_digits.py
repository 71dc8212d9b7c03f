"""Every data set the checks accept trains (issue 20, item 7): blank, full, one-pixel and noise images, and dots that
thin away, through the trainer's own entry point with the default recipe (half its digits redrawn as pen strokes)."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from cnnlib.errors import Refusal
from cnnlib.mnist.data import load_mnist
from cnnlib.mnist.strokes import kept_count, redrawn
from cnnlib.training.config import DEFAULT_PRESET, PRESETS, TrainConfig
from cnnlib.training.digits import validation_count
from cnnlib.training.progress import Event
from cnnlib.training.trainer import train

KINDS = ("blank", "full", "pixel", "noise", "dot", "real")
KEPT_KINDS = ("blank", "dot")  # what redrawing gives back as it was: nothing to thin, or ink that thins away


def degenerate_image(kind: str, rng: np.random.Generator, real: np.ndarray) -> np.ndarray:
    """One (28, 28) uint8 image of ``kind``: blank, full (all 255), one pixel, noise, a 2x2 dot, a real digit."""
    image = np.zeros((28, 28), np.uint8)
    row, column = rng.integers(3, 24, size=2)  # a 2x2 dot on the border survives thinning; inside it vanishes
    if kind == "full":
        image[:] = 255
    elif kind == "pixel":
        image[rng.integers(28), rng.integers(28)] = 255
    elif kind == "noise":
        image = rng.integers(0, 256, (28, 28), dtype=np.uint8)
    elif kind == "dot":
        image[row:row + 2, column:column + 2] = 255
    elif kind == "real":
        image = real[rng.integers(len(real))]
    return image


def degenerate_set(count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``count`` images cycling through ``KINDS``, random labels, and each image's kind."""
    real = load_mnist("offline").x_train[:50]
    kinds = [KINDS[index % len(KINDS)] for index in range(count)]
    images = np.stack([degenerate_image(kind, rng, real) for kind in kinds])
    return images, rng.integers(0, 10, count), kinds


@pytest.fixture(scope="module")
def degenerate_npz(tmp_path_factory) -> tuple[Path, list[str]]:
    """An npz in Keras's layout, 200 training and 50 test images of every kind, with the training images' kinds."""
    rng = np.random.default_rng(0)
    (x_train, y_train, kinds), (x_test, y_test, _) = degenerate_set(200, rng), degenerate_set(50, rng)
    path = tmp_path_factory.mktemp("data") / "degenerate.npz"
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return path, kinds


def test_redrawing_keeps_what_it_cannot_thin_and_counts_it():
    rng = np.random.default_rng(1)
    images, _, kinds = degenerate_set(60, rng)
    digits = images[..., np.newaxis].astype(np.float32) / 255
    drawn = redrawn(digits)
    assert drawn.shape == digits.shape and np.isfinite(drawn).all() and drawn.max() <= 1
    assert kept_count(digits, drawn) == sum(kind in KEPT_KINDS for kind in kinds)
    inked = [index for index, kind in enumerate(kinds) if kind in ("full", "pixel", "noise", "real")]
    assert all(drawn[index].max() > 0 for index in inked)  # those are redrawn as strokes


def test_the_default_recipe_trains_on_degenerate_images(degenerate_npz, tmp_path):
    path, kinds = degenerate_npz
    hp = replace(PRESETS[DEFAULT_PRESET], epochs=1)
    assert hp.drawn_share > 0  # the default recipe redraws digits
    config = TrainConfig(hp=hp, data_source="npz", npz_path=str(path), model_name="degenerate",
                         models_directory=str(tmp_path))
    events = []
    _, summary = train(config, events.append)
    assert events[-1] == {"event": Event.FINISHED, "summary": summary}
    assert summary["epochs"] == 1 and 0 <= summary["test_accuracy"] <= 1 and summary["train_count"] == 200 - 17
    training_kinds = kinds[validation_count(200):]  # the first twelfth is held out for validation
    assert summary["not_redrawn"] == sum(kind in KEPT_KINDS for kind in training_kinds) > 0
    assert (tmp_path / "degenerate.keras").is_file()


@pytest.mark.parametrize(("train_count", "test_count", "refused"), [(12, 1, None), (11, 1, "train"), (12, 0, "test")])
def test_the_fewest_digits_the_checks_accept_train(tmp_path, train_count, test_count, refused):
    rng = np.random.default_rng(2)
    (x_train, y_train, _), (x_test, y_test, _) = degenerate_set(train_count, rng), degenerate_set(1, rng)
    path = tmp_path / "few.npz"
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test[:test_count], y_test=y_test[:test_count])
    config = TrainConfig(hp=replace(PRESETS[DEFAULT_PRESET], epochs=1), data_source="npz", npz_path=str(path),
                         model_name="few", models_directory=str(tmp_path))
    if refused:
        with pytest.raises(Refusal) as refusal:
            train(config, lambda event: None)
        assert refusal.value.key == "data.error.too_few" and refusal.value.values["split"] == refused
    else:
        assert train(config, lambda event: None)[1]["train_count"] == train_count - validation_count(train_count)
