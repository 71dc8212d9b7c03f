"""What a ``.keras`` file may hold before Keras reads it: a check of its architecture against an allow-list.

A ``.keras`` file is a zip with ``config.json`` (the architecture), ``model.weights.h5`` and ``metadata.json``.
Keras's ``safe_mode`` refuses pickled Python (Lambda layers), but its bypasses keep being found (CVE-2025-1550,
CVE-2025-8747, CVE-2025-12058), so the app reads ``config.json`` itself first and lets Keras deserialise only
archives built from the layers it can show: every object in the architecture must be a known Keras class, with
no custom ``registered_name`` and no function-valued setting. The optimizer (``compile_config``) is never read:
models are loaded with ``compile=False``.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

from cnnlib.errors import Refusal
from cnnlib.network import layers

CONFIG_FILE = "config.json"
MAX_CONFIG_BYTES = 5 * 2**20  # a real architecture is a few kB; refuse a zip bomb before reading it
SUPPORTED_LAYERS = tuple(layers.LAYERS)  # the layer table's classes, in its order
WEIGHT_SETTINGS = {  # initialisers, regularisers and constraints a layer's config may name
    "HeNormal", "HeUniform", "GlorotNormal", "GlorotUniform", "LecunNormal", "LecunUniform", "Zeros", "Ones",
    "RandomNormal", "RandomUniform", "TruncatedNormal", "Constant", "VarianceScaling", "Orthogonal",
    "L1", "L2", "L1L2", "MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm",
}
NOT_KERAS = "models.error.not_keras"  # the one sentence for a file that is no Keras archive
ALLOWED = {*SUPPORTED_LAYERS, *layers.CONTAINERS, *WEIGHT_SETTINGS}


class UnsupportedModel(Refusal):
    """A model file the app will not let Keras read; worded when shown (``cnnlib.errors.Refusal``)."""


def read_architecture(path: str | os.PathLike) -> dict:
    """The ``config.json`` of a ``.keras`` archive; UnsupportedModel when the file is no such archive."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(CONFIG_FILE)
            if info.file_size > MAX_CONFIG_BYTES:
                raise UnsupportedModel("model_files.too_big", file=path.name)
            return json.loads(archive.read(info))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        if isinstance(error, UnsupportedModel):
            raise
        raise UnsupportedModel(NOT_KERAS, file=path.name) from error


def _objects(node: object, owner: str = "") -> list[tuple[str, dict]]:
    """Every serialised object ``{"class_name": …}`` in the architecture, with the name of the layer it sits in."""
    if isinstance(node, list):
        return [found for item in node for found in _objects(item, owner)]
    if not isinstance(node, dict):
        return []
    found = []
    if "class_name" in node:
        config = node.get("config") if isinstance(node.get("config"), dict) else {}
        owner = str(config.get("name", owner))
        found.append((owner, node))
    return found + [item for value in node.values() for item in _objects(value, owner)]


def _refusal(layer: str, node: dict) -> UnsupportedModel | None:
    """Why one serialised object is refused, or None when it is allowed."""
    kind = str(node.get("class_name"))
    registered = node.get("registered_name")
    if kind in layers.RUNS_CODE:
        return UnsupportedModel("model_files.runs_code", layer=layer, kind=kind)
    custom = registered not in (None, kind) or not str(node.get("module") or "keras").startswith("keras")
    if custom or kind not in ALLOWED:
        return UnsupportedModel("model_files.custom" if custom else "model_files.unsupported", layer=layer,
                                kind=kind, supported=", ".join(SUPPORTED_LAYERS))
    activation = (node.get("config") or {}).get("activation", "linear")
    if kind in SUPPORTED_LAYERS and activation not in layers.ACTIVATIONS:
        return UnsupportedModel("model_files.activation", layer=layer, activation=activation,
                                supported=", ".join(sorted(layers.ACTIVATIONS)))
    return None


def check_architecture(path: str | os.PathLike) -> None:
    """Raise UnsupportedModel, naming the first offending layer, unless every object is on the allow-list."""
    architecture = read_architecture(path)
    if not isinstance(architecture, dict):
        raise UnsupportedModel(NOT_KERAS, file=Path(path).name)
    for layer, node in _objects({key: value for key, value in architecture.items() if key != "compile_config"}):
        refusal = _refusal(layer, node)
        if refusal:
            raise refusal
