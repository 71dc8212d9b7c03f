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
FOLDERS = re.compile(r"(?<![\w.:/])(?:[A-Za-z]:)?[\\/](?:[^\\/\s'\"]+[\\/])+")  # "/srv/models/" in "/srv/models/a.keras"
QUOTED_PATH = re.compile(r"""(['"])[^'"\n]*[\\/]([^'"\\/\n]*)\1""")  # '/srv/my models/a.keras' -> 'a.keras'
RELATIVE_FOLDERS = re.compile(r"(?<![\w./:-])(?:[\w.-]+[\\/])+(?=[\w-]+\.\w)")  # "models/x/" in "models/x/a.keras"


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


def _server_folders() -> list[str]:
    """The folders the server works in (longest first): where a path with spaces and no quotes is recognised."""
    from cnnlib.store.saved import models_dir  # saved imports this module

    folders = {str(models_dir()), os.getcwd(), tempfile.gettempdir(), str(Path.home())}
    return sorted((folder for folder in folders if len(folder) > 1), key=len, reverse=True)


def without_folders(text: str) -> str:
    """``text`` with the folders of every path taken out, absolute or relative, quoted or not, the file names kept.

    Example: ``"[Errno 20] Not a directory: '/srv/my models/a.keras'"`` -> ``"[Errno 20] Not a directory: 'a.keras'"``.
    """
    for folder in _server_folders():
        text = text.replace(folder + os.sep, "")
    text = QUOTED_PATH.sub(r"\1\2\1", text)
    return RELATIVE_FOLDERS.sub("", FOLDERS.sub("", text))
