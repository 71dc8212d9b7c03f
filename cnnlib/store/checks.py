"""What a ``.keras`` file must be before Keras reads any of it: the whole file checked, member by member.

A ``.keras`` file is a zip with ``config.json`` (the architecture), ``metadata.json`` and ``model.weights.h5``.
Keras's ``safe_mode`` refuses pickled Python (Lambda layers), but its bypasses keep being found (CVE-2025-1550,
CVE-2025-8747, CVE-2025-12058), and Keras builds every layer and reads every member whole before its own checks
can refuse anything: a 4 kB file could make the server allocate gigabytes. So the app checks, in this order and
without building anything:

1. the zip (``cnnlib.store.archive``): exactly Keras's three members, each within its size and compression ratio;
2. the architecture (``cnnlib.store.model_config``): its nesting, then every object a known Keras class from the
   module Keras writes for it, no custom ``registered_name``, every layer from the layer table with every setting
   within its rule, one chain from a 28x28 grey digit to 10 numbers, and the parameter count from the settings;
3. the weights (``cnnlib.store.weights``): their size fitting that count, and nothing but plain HDF5 datasets.

The optimizer (``compile_config``) is never read: models are loaded with ``compile=False``.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cnnlib.errors import Refusal
from cnnlib.network import layers
from cnnlib.store.archive import CONFIG, checked_archive, extract
from cnnlib.store.model_config import check_model, parse
from cnnlib.store.weights import check_weights

SUPPORTED_LAYERS = tuple(layers.LAYERS)  # the layer table's classes, in its order


class UnsupportedModel(Refusal):
    """A model file the app will not let Keras read; worded when shown (``cnnlib.errors.Refusal``)."""


@contextmanager
def _naming(path: Path) -> Iterator[None]:
    """Turn a refusal raised inside into an UnsupportedModel that names the learner's file (never its folder)."""
    try:
        yield
    except UnsupportedModel:
        raise
    except Refusal as refusal:
        raise UnsupportedModel(refusal.key, **{"file": path.name, **refusal.values}) from refusal


def read_architecture(path: str | os.PathLike) -> object:
    """The content of a ``.keras`` archive's ``config.json``, read within its limits; UnsupportedModel otherwise."""
    path = Path(path)
    with _naming(path), checked_archive(path) as archive:
        text = io.BytesIO()
        extract(archive, CONFIG, text)
        return parse(text.getvalue())


def check_architecture(path: str | os.PathLike) -> None:
    """Raise UnsupportedModel, naming the learner's file and the first thing refused, unless the whole file passes
    (``cnnlib.store.archive``, ``cnnlib.store.model_config``, ``cnnlib.store.weights``)."""
    path = Path(path)
    with _naming(path):
        check_weights(path, check_model(read_architecture(path)))
