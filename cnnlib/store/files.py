"""Files on the server: atomic writes, and messages that never show a learner where the server keeps its files.

Atomic writes: readers (another browser session, the Draw page listing models) never see half a file.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

FOLDERS = re.compile(r"(?<![\w.])(?:[A-Za-z]:)?[\\/](?:[^\\/\s'\"]+[\\/])+")  # "/srv/models/" in "/srv/models/a.keras"


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
