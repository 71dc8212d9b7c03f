"""Files on the server: atomic writes, and messages that never show a learner where the server keeps its files.

Atomic writes: readers (another browser session, the Draw page listing models) never see half a file.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")  # a stem the server writes; used with fullmatch
UNSAFE_RUN = re.compile(r"[^A-Za-z0-9_-]+")  # what ``safe_stem`` replaces with one "-" (dots too: no "..")
FOLDERS = re.compile(r"(?<![\w.])(?:[A-Za-z]:)?[\\/](?:[^\\/\s'\"]+[\\/])+")  # "/srv/models/" in "/srv/models/a.keras"


def safe_stem(name: str, fallback: str = "model", length: int = 60) -> str:
    """A file stem that ``NAME_PATTERN`` accepts, from any uploaded name: ``"my model (2).keras"`` -> ``my-model-2``;
    ``fallback`` when nothing of the name is left."""
    stem = UNSAFE_RUN.sub("-", Path(name).stem).lstrip("-_")[:length].rstrip("-")
    return stem if NAME_PATTERN.fullmatch(stem) else fallback


def write_atomically(target: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(temporary_path)`` on a hidden file beside ``target``, then move it over ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.", suffix=target.suffix)
    os.close(handle)
    try:
        write(Path(temporary))
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def without_folders(text: str) -> str:
    """``text`` with the folders of every absolute path taken out, the file names kept.

    Example: ``"[Errno 20] Not a directory: '/srv/models/a.keras'"`` -> ``"[Errno 20] Not a directory: 'a.keras'"``.
    """
    return FOLDERS.sub("", text)
