"""Models that cross the browser: a learner's own ``.keras`` file coming in, a saved model going home.

Coming in, a file is loaded by the app's one loader (``cnnlib.store.saved.load_model``: checked in full before Keras
reads it, a digit model that reads 28x28 grey digits and answers with 10 numbers, then ``safe_mode=True`` and
``compile=False``), and kept only when it loads. Going home, a model
travels as a zip of its ``.keras`` file and its JSON card, ready for ``keras.saving.load_model``.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from datetime import datetime, timezone
from pathlib import Path

from cnnlib.store.checks import UnsupportedModel
from cnnlib.store.files import safe_stem, write_atomically
from cnnlib.store.saved import load_model

MAX_MODEL_UPLOAD_BYTES = 50 * 2**20


def free_stem(folder: Path, stem: str, suffix: str = ".keras") -> str:
    """``stem``, or ``stem-2``, ``stem-3``… when a model of that name is already in ``folder``."""
    candidate, number = stem, 2
    while (folder / f"{candidate}{suffix}").exists():
        candidate, number = f"{stem}-{number}", number + 1
    return candidate


def accept_upload(data: bytes, name: str, folder: Path) -> Path:
    """Keep an uploaded ``.keras`` file in ``folder`` under a safe, free name with a card; return its path."""
    if len(data) > MAX_MODEL_UPLOAD_BYTES:
        raise UnsupportedModel("model_exchange.too_big", file=name, size=len(data) / 2**20,
                               limit=MAX_MODEL_UPLOAD_BYTES / 2**20)
    with tempfile.TemporaryDirectory() as scratch:
        trial = Path(scratch) / f"{Path(name).stem or 'model'}.keras"  # messages name the learner's own file
        trial.write_bytes(data)
        load_model(trial)  # checked in full before Keras reads it, input and output shapes included
    stem = free_stem(folder, safe_stem(name))
    card = {"uploaded_as": Path(name).name, "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    path = folder / f"{stem}.keras"
    write_atomically(path, lambda temporary: temporary.write_bytes(data))  # the model first, then its card
    write_atomically(path.with_suffix(".json"), lambda temporary: temporary.write_text(json.dumps(card, indent=2)))
    return path


def download_bytes(model_path: Path) -> bytes:
    """A zip of the model's ``.keras`` file and, when it has one, its JSON card."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # a .keras is already compressed
        archive.write(model_path, model_path.name)
        card = model_path.with_suffix(".json")
        if card.is_file():
            archive.write(card, card.name)
    return buffer.getvalue()
