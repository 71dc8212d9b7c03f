"""A learner's model shared with the class: copied into the ``shared/`` folder every learner reads, read-only.

The model, its JSON card and its epoch snapshots are copied under a name no shared model has (``name``, ``name-2``,
…), each file written atomically; the snapshots and the card first, the ``.keras`` file last, so a learner's list
never shows a shared model before all of it is there. The card says when it was shared and never whose it was: a
workspace id opens that workspace, so it stays on the teacher's board.
"""

from __future__ import annotations

import json
import shutil
import threading
from datetime import datetime, timezone
from pathlib import Path

from cnnlib.errors import Refusal
from cnnlib.network.snapshots import snapshot_path
from cnnlib.store.checks import check_architecture
from cnnlib.store.files import write_atomically
from cnnlib.store.saved import MODEL_SUFFIX, check_name, read_metadata
from cnnlib.store.workspace import Workspace

_sharing = threading.Lock()  # one share at a time: two never pick the same free name


def _free_name(shared: Path, name: str) -> str:
    """``name``, or ``name-2``, ``name-3``…: the first under which ``shared`` holds none of a model's files."""
    candidate, number = name, 2
    while any(path.exists() for path in _files(shared / f"{candidate}{MODEL_SUFFIX}")):
        candidate, number = f"{name}-{number}", number + 1
    return candidate


def _files(model_path: Path) -> tuple[Path, Path, Path]:
    """A model's files: its snapshots, its card and the model itself, in the order they are copied."""
    return snapshot_path(model_path), model_path.with_suffix(".json"), model_path


def share_model(learner: Workspace, name: str) -> str:
    """Copy the learner's model ``name`` (checked again as any upload is) into the class's shared folder; the name
    it is shared under. A Refusal for a model that is not there (any more) or that the app would not load."""
    source = learner.models_dir / f"{check_name(name)}{MODEL_SUFFIX}"
    if not learner.private or not source.is_file():
        raise Refusal("models.error.no_such_model", name=name)
    check_architecture(source)
    card = {**read_metadata(source), "shared_with_class": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    with _sharing:
        learner.shared_dir.mkdir(parents=True, exist_ok=True)
        shared_name = _free_name(learner.shared_dir, name)
        snapshots, card_path, model = _files(learner.shared_dir / f"{shared_name}{MODEL_SUFFIX}")
        if snapshot_path(source).is_file():
            write_atomically(snapshots, lambda temporary: shutil.copyfile(snapshot_path(source), temporary))
        write_atomically(card_path, lambda temporary: temporary.write_text(json.dumps(card, indent=2, sort_keys=True),
                                                                            encoding="utf-8"))
        write_atomically(model, lambda temporary: shutil.copyfile(source, temporary))
    return shared_name
