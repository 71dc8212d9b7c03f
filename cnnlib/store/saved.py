"""Saved models on disk: one ``<name>.keras`` with ``<name>.json`` beside it, in one learner's models folder.

Folder: ``$CNN_EXPLORER_MODELS_DIR`` if set, else ``models/`` at the project root; in classroom mode each learner
has their own under it (``cnnlib.store.workspace``). The teacher's ``shared/`` folder is listed too, read-only: its models
are marked ``shared`` and their ``key`` is ``shared/<name>``, so a name never stands for two models.

    list_models(ws.models_dir, ws.shared_dir)        own models newest first, then the shared ones
    selected_model(ws.models_dir, ws.shared_dir)     the one the Draw page uses
    select_model(model.key, ws.models_dir, ws.shared_dir)
    delete_model(model.name, ws.models_dir)          the model, its card and its epoch snapshots

JSON: whatever the trainer records (hyperparameters, data source, test accuracy, date); a missing or corrupt JSON
reads as ``{}``. The model "chosen for the Draw page" is named in ``selected.txt`` in the learner's folder; when
that file is missing or names a model that no longer exists, the newest model is chosen.

Writes are atomic (a temporary file in the same folder, then ``os.replace``), the model before its card. A model
file is checked against the layers the app can show before Keras reads it (``cnnlib.store.checks``), then loaded
with ``safe_mode=True`` and ``compile=False``. Keras is imported lazily, inside the functions that need it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cnnlib.errors import Refusal
from cnnlib.network.snapshots import snapshot_path
from cnnlib.store.checks import UnsupportedModel, check_architecture
from cnnlib.store.files import NAME_PATTERN, without_folders, write_atomically
from cnnlib.text import t

MODELS_DIR_ENV = "CNN_EXPLORER_MODELS_DIR"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
SELECTED_FILE = "selected.txt"
MODEL_SUFFIX = ".keras"
SHARED_PREFIX = "shared/"
MODEL_COLUMNS = ("name", "used", "accuracy", "data", "epochs", "date")  # the Saved models table, left to right


@dataclass(frozen=True)
class SavedModel:
    """One saved model: its name, its ``.keras`` path, the JSON beside it, when it was written, and whether it is
    the teacher's (shared, read-only)."""

    name: str
    path: Path
    metadata: dict = field(default_factory=dict, compare=False)
    modified: float = 0.0  # seconds since the epoch (file mtime)
    shared: bool = False

    def __repr__(self) -> str:
        return f"SavedModel({self.key!r}, modified={self.modified:.0f})"

    @property
    def label(self) -> str:
        """How pages name it: its name, marked when it is the teacher's (read-only)."""
        return t("models.shared_name", name=self.name) if self.shared else self.name

    @property
    def key(self) -> str:
        """The name a page chooses it by: ``name``, or ``shared/name`` for the teacher's."""
        return SHARED_PREFIX + self.name if self.shared else self.name


def models_dir() -> Path:
    """The models folder: ``$CNN_EXPLORER_MODELS_DIR`` or ``<project>/models`` (not created here)."""
    configured = os.environ.get(MODELS_DIR_ENV)
    return Path(configured) if configured else PROJECT_ROOT / "models"


def _folder(directory: str | os.PathLike | None) -> Path:
    """``directory`` as a Path, or the default models folder."""
    return Path(directory) if directory is not None else models_dir()


def check_name(name: str) -> str:
    """``name`` if it is a safe file stem (``cnnlib.store.files.NAME_PATTERN``), else a Refusal that says why."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name) or name.endswith(MODEL_SUFFIX):
        raise Refusal("models.error.invalid_name", name=name)
    return name


def read_metadata(model_path: Path) -> dict:
    """The JSON beside ``model_path`` as a dict; ``{}`` when it is missing, unreadable or not an object."""
    try:
        metadata = json.loads(model_path.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return metadata if isinstance(metadata, dict) else {}


def _models_in(folder: Path, shared: bool) -> list[SavedModel]:
    """Every ``*.keras`` file in ``folder`` whose name the name check accepts, newest first; ``[]`` when the folder
    does not exist."""
    if not folder.is_dir():
        return []
    models = []
    for path in folder.glob(f"*{MODEL_SUFFIX}"):
        if not NAME_PATTERN.fullmatch(path.stem) or not path.is_file():  # a save in progress (".name."), or a name
            continue  # the app never gives and could not delete (a file copied in by hand)
        try:
            modified = path.stat().st_mtime
        except OSError:  # deleted between glob and stat
            continue
        models.append(SavedModel(path.stem, path, read_metadata(path), modified, shared))
    return sorted(models, key=lambda model: (model.modified, model.name), reverse=True)


def list_models(directory: str | os.PathLike | None = None,
                shared: str | os.PathLike | None = None) -> list[SavedModel]:
    """The learner's models newest first, then (when ``shared`` is given) the teacher's shared ones, newest first."""
    return _models_in(_folder(directory), False) + (_models_in(Path(shared), True) if shared is not None else [])


def find_model(key: str, directory: str | os.PathLike | None = None,
               shared: str | os.PathLike | None = None) -> SavedModel | None:
    """The listed model with this ``key`` (``name`` or ``shared/name``), or None when there is none (any more)."""
    return next((model for model in list_models(directory, shared) if model.key == key), None)


def save_model(model, name: str, metadata: dict, directory: str | os.PathLike | None = None) -> SavedModel:
    """Save ``model`` as ``<name>.keras``, then ``metadata`` as ``<name>.json``, each atomically; return the entry."""
    path = _folder(directory) / f"{check_name(name)}{MODEL_SUFFIX}"
    text = json.dumps(metadata, indent=2, sort_keys=True, default=str)
    write_atomically(path, lambda temporary: model.save(temporary))  # a card never describes a model not yet there
    write_atomically(path.with_suffix(".json"), lambda temporary: temporary.write_text(text, encoding="utf-8"))
    return SavedModel(name, path, dict(metadata), path.stat().st_mtime)


def load_model(path: str | os.PathLike):
    """Load a ``.keras`` file for inference, safely: the app's one loader. A Refusal (``UnsupportedModel``) with a
    plain sentence when it cannot be.

    The file is checked in full first (``cnnlib.store.checks``: exactly the members a ``.keras`` file has, within
    size and compression caps; the architecture's depth, every layer's class, module and settings, the 28x28 grey
    input and the 10 outputs, the parameter count and the weights' size and layout), so Keras builds nothing from a
    refused file; then Keras reads it with ``safe_mode=True`` and ``compile=False`` (the optimizer is never read).
    """
    path = Path(path)
    if not path.is_file():
        raise Refusal("models.error.missing_file", file=path.name)
    check_architecture(path)
    import keras

    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as error:  # Keras raises many types (ValueError, OSError, zipfile errors, TypeError)
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UnsupportedModel("models.error.damaged", file=path.name,
                               reason=without_folders(first_line)[:200]) from error


def model_files(model_path: Path) -> list[Path]:
    """Everything that belongs to a model: its ``.keras`` file, its JSON card and its epoch snapshots."""
    return [model_path, model_path.with_suffix(".json"), snapshot_path(model_path)]


def delete_model(name: str, directory: str | os.PathLike | None = None) -> None:
    """Remove the model and everything that belongs to it; unselect it if it was chosen.

    A Refusal for a name outside the rule, and when the model was already gone (deleted meanwhile
    in another tab); what was left of it is removed all the same.
    """
    folder = _folder(directory)
    path = folder / f"{check_name(name)}{MODEL_SUFFIX}"
    existed = path.is_file()
    for part in model_files(path):
        part.unlink(missing_ok=True)
    if _read_selected_name(folder / SELECTED_FILE) == name:
        (folder / SELECTED_FILE).unlink(missing_ok=True)
    if not existed:
        raise Refusal("models.error.already_deleted", name=name)


def select_model(key: str, directory: str | os.PathLike | None = None,
                 shared: str | os.PathLike | None = None) -> None:
    """Mark a model (``name`` or ``shared/name``) as the one the Draw page uses; a Refusal if there is none."""
    name = key.removeprefix(SHARED_PREFIX)
    check_name(name)
    if find_model(key, directory, shared) is None:
        raise Refusal("models.error.no_such_model", name=name)
    write_atomically(_folder(directory) / SELECTED_FILE,
                     lambda temporary: temporary.write_text(key + "\n", encoding="utf-8"))


def _read_selected_name(marker: Path) -> str | None:
    """The key written in ``selected.txt``, or None."""
    try:
        return marker.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def selected_model(directory: str | os.PathLike | None = None,
                   shared: str | os.PathLike | None = None) -> SavedModel | None:
    """The model chosen for the Draw page: the one in ``selected.txt`` if it exists, else the newest, else None."""
    models = list_models(directory, shared)
    chosen = _read_selected_name(_folder(directory) / SELECTED_FILE)
    return next((model for model in models if model.key == chosen), models[0] if models else None)


def oldest_model(directory: str | os.PathLike | None = None) -> SavedModel | None:
    """The learner's oldest model (what a full workspace offers to delete), or None."""
    models = _models_in(_folder(directory), False)
    return models[-1] if models else None


def models_table(models: Sequence[SavedModel], chosen: SavedModel | None) -> list[dict]:
    """The Saved models table: one row per model, columns named in the learner's language."""
    names = [t(f"train.models.column.{column}") for column in MODEL_COLUMNS]
    return [dict(zip(names, (model.label, "✓" if chosen and model.key == chosen.key else "",
                             model.metadata.get("test_accuracy"), model.metadata.get("data_source"),
                             model.metadata.get("epochs_completed"), model.metadata.get("date"))))
            for model in models]
