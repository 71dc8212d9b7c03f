"""Saved models on disk: one ``<name>.keras`` with ``<name>.json`` beside it, in one models folder.

Folder: ``$CNN_EXPLORER_MODELS_DIR`` if set, else ``models/`` at the project root.
JSON: whatever the trainer records (hyperparameters, data source, test accuracy, date); a missing or corrupt
JSON reads as ``{}``.

The model "chosen for the Draw page" is named in ``selected.txt`` in the same folder (``select_model`` writes
it); when that file is missing or names a model that no longer exists, the newest model is chosen.

Writes are atomic (a temporary file in the same folder, then ``os.replace``), so a page listing the folder never
sees half a model. Keras is imported lazily, inside the functions that need it.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from cnnlib.files import write_atomically
from cnnlib.text import t

MODELS_DIR_ENV = "CNN_EXPLORER_MODELS_DIR"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
SELECTED_FILE = "selected.txt"
MODEL_SUFFIX = ".keras"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


@dataclass(frozen=True)
class SavedModel:
    """One saved model: its name, its ``.keras`` path, the JSON beside it and when it was written."""

    name: str
    path: Path
    metadata: dict = field(default_factory=dict, compare=False)
    modified: float = 0.0  # seconds since the epoch (file mtime)

    def __repr__(self) -> str:
        return f"SavedModel({self.name!r}, modified={self.modified:.0f})"


def models_dir() -> Path:
    """The models folder: ``$CNN_EXPLORER_MODELS_DIR`` or ``<project>/models`` (not created here)."""
    configured = os.environ.get(MODELS_DIR_ENV)
    return Path(configured) if configured else PROJECT_ROOT / "models"


def _folder(directory: str | os.PathLike | None) -> Path:
    """``directory`` as a Path, or the default models folder."""
    return Path(directory) if directory is not None else models_dir()


def check_name(name: str) -> str:
    """``name`` if it is a safe file stem (letters, digits, ``_.-``, up to 100), else a ValueError."""
    if not NAME_PATTERN.match(name) or name.endswith(MODEL_SUFFIX):
        raise ValueError(t("models.error.invalid_name", name=name))
    return name


def read_metadata(model_path: Path) -> dict:
    """The JSON beside ``model_path`` as a dict; ``{}`` when it is missing, unreadable or not an object."""
    try:
        metadata = json.loads(model_path.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return metadata if isinstance(metadata, dict) else {}


def list_models(directory: str | os.PathLike | None = None) -> list[SavedModel]:
    """Every ``*.keras`` in the folder, newest first; ``[]`` when the folder does not exist."""
    folder = _folder(directory)
    if not folder.is_dir():
        return []
    models = []
    for path in folder.glob(f"*{MODEL_SUFFIX}"):
        if path.name.startswith(".") or not path.is_file():  # temporary files of a save in progress
            continue
        try:
            modified = path.stat().st_mtime
        except OSError:  # deleted between glob and stat
            continue
        models.append(SavedModel(path.stem, path, read_metadata(path), modified))
    return sorted(models, key=lambda model: (model.modified, model.name), reverse=True)


def save_model(model, name: str, metadata: dict, directory: str | os.PathLike | None = None) -> SavedModel:
    """Save ``model`` as ``<name>.keras`` and ``metadata`` as ``<name>.json``, each atomically; return the entry."""
    path = _folder(directory) / f"{check_name(name)}{MODEL_SUFFIX}"
    text = json.dumps(metadata, indent=2, sort_keys=True, default=str)
    # JSON first: a lister that sees the new .keras then also sees its metadata.
    write_atomically(path.with_suffix(".json"), lambda temporary: temporary.write_text(text, encoding="utf-8"))
    write_atomically(path, lambda temporary: model.save(temporary))
    return SavedModel(name, path, dict(metadata), path.stat().st_mtime)


def load_model(path: str | os.PathLike, compile: bool = False):
    """Load a ``.keras`` file with Keras's safe mode on; ValueError with a plain sentence when it cannot.

    ``compile=False`` suits inference (the Draw page); pass True to get the saved optimizer and loss back.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(t("models.error.missing_file", file=path.name))
    if not zipfile.is_zipfile(path):
        raise ValueError(t("models.error.not_archive", file=path.name))
    import keras

    try:
        return keras.saving.load_model(path, safe_mode=True, compile=compile)
    except Exception as error:  # Keras raises many types (ValueError, OSError, zipfile errors, TypeError)
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(t("models.error.damaged", file=path.name, reason=first_line[:200])) from error


def delete_model(name: str, directory: str | os.PathLike | None = None) -> None:
    """Remove ``<name>.keras`` and ``<name>.json`` (missing files are fine); unselect it if it was chosen."""
    folder = _folder(directory)
    check_name(name)
    for suffix in (MODEL_SUFFIX, ".json"):
        (folder / f"{name}{suffix}").unlink(missing_ok=True)
    marker = folder / SELECTED_FILE
    if _read_selected_name(marker) == name:
        marker.unlink(missing_ok=True)


def select_model(name: str, directory: str | os.PathLike | None = None) -> None:
    """Mark ``<name>`` as the model the Draw page uses (writes ``selected.txt``); ValueError if it does not exist."""
    folder = _folder(directory)
    if not (folder / f"{check_name(name)}{MODEL_SUFFIX}").is_file():
        raise ValueError(t("models.error.no_such_model", name=name, folder=folder))
    write_atomically(folder / SELECTED_FILE, lambda temporary: temporary.write_text(name + "\n", encoding="utf-8"))


def _read_selected_name(marker: Path) -> str | None:
    """The name written in ``selected.txt``, or None."""
    try:
        return marker.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def selected_model(directory: str | os.PathLike | None = None) -> SavedModel | None:
    """The model chosen for the Draw page: the one in ``selected.txt`` if it exists, else the newest, else None."""
    models = list_models(directory)
    chosen = _read_selected_name(_folder(directory) / SELECTED_FILE)
    return next((model for model in models if model.name == chosen), models[0] if models else None)
