"""Whose work is it? One workspace per learner when a class shares a server, one for everyone otherwise.

Classroom mode (``CNN_EXPLORER_CLASSROOM=1``) gives every learner a private folder of models under the models
folder, ``learners/<id>/``, named by a random id the app keeps in the page URL (``?learner=…``) or, when the server
has Streamlit's sign-in configured, derived from the signed-in user (``cnnlib.store.identity``). Models the teacher
puts in ``shared/`` are offered to everyone, read-only. Without classroom mode the models folder itself is the one workspace, as before.
Each workspace has a quota: new saves are refused with a sentence once it is full, never dropped silently.

A learner's folder is made when they first store something (``Workspace.storing``), never on a visit; the server caps
the number of learners' workspaces and the disk they take together (``cnnlib.server.limits``). Every write into a
workspace happens inside ``storing``: the room is checked and the bytes written under the workspace's lock (a
``threading.Lock`` per folder, and an ``flock`` on the folder for the trainer processes), so two tabs, or a tab and a
finishing run, never both pass the check.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cnnlib.errors import Refusal
from cnnlib.server import limits

CLASSROOM_ENV = "CNN_EXPLORER_CLASSROOM"
QUOTA_MB_ENV, QUOTA_FILES_ENV = "CNN_EXPLORER_QUOTA_MB", "CNN_EXPLORER_QUOTA_MODELS"
ID_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: ids get read aloud and typed
ID_LENGTH = 12
LEARNERS_DIR, SHARED_DIR = "learners", "shared"
SINGLE = "single"  # the workspace id when classroom mode is off
DEFAULT_QUOTA_MB, DEFAULT_QUOTA_MODELS = 200, 20
MB = 2**20

_locks: dict[str, threading.Lock] = {}  # one per workspace folder that something was stored in
_locks_guard = threading.Lock()  # guards _locks
_new_workspaces = threading.Lock()  # held while a new workspace is counted and made


def classroom_mode() -> bool:
    """Whether the server gives each learner a private workspace (``CNN_EXPLORER_CLASSROOM=1``)."""
    return os.environ.get(CLASSROOM_ENV, "") == "1"


def new_workspace_id() -> str:
    """A fresh random id, 12 characters of ``ID_ALPHABET`` (about 60 bits)."""
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH))


def is_workspace_id(value: object) -> bool:
    """Whether ``value`` is a well-formed workspace id (anything else in the URL is ignored, never a path)."""
    return isinstance(value, str) and len(value) == ID_LENGTH and all(c in ID_ALPHABET for c in value)


@dataclass(frozen=True)
class Workspace:
    """One learner's place: the id, the folder their models go to, and the teacher's read-only shared folder."""

    id: str
    models_dir: Path
    shared_dir: Path

    @property
    def private(self) -> bool:
        """Whether this workspace belongs to one learner (classroom mode)."""
        return self.id != SINGLE

    @property
    def quota(self) -> Quota | None:
        """A learner's quota; None for the single workspace unless the server sets one."""
        if self.private or QUOTA_MB_ENV in os.environ or QUOTA_FILES_ENV in os.environ:
            return Quota.from_environment()
        return None

    def check_room(self, incoming_bytes: int = 0, new_models: int = 1) -> None:
        """QuotaFull with a sentence when ``incoming_bytes`` and ``new_models`` more would not fit in the quota (none:
        fine) or, for a learner, in the server's caps (a new workspace among all, the disk of all)."""
        if self.quota is not None:
            check_room(self.models_dir, self.quota, incoming_bytes, new_models)
        if self.private:
            check_server_room(self.models_dir, incoming_bytes)

    def room_left(self) -> int | None:
        """Bytes the workspace may still take, by its quota and (a learner's) the server's disk; None: no limit."""
        left = [self.quota.max_bytes - usage(self.models_dir).bytes] if self.quota is not None else []
        if self.private:
            left.append(limits.disk_bytes() - server_bytes(self.models_dir.parent))
        return min(left, default=None)

    @contextmanager
    def storing(self, incoming_bytes: int = 0, new_models: int = 1) -> Iterator[Path]:
        """``with workspace.storing(size) as folder:`` write into ``folder``; QuotaFull before the block when the
        room is missing. The folder is made if new (after the check), and the check and the block run under the
        workspace's lock. A block that fails in a folder made for it leaves no folder behind."""
        with _thread_lock(self.models_dir):
            made = self._make(incoming_bytes, new_models)
            try:
                with _folder_lock(self.models_dir):
                    self.check_room(incoming_bytes, new_models)
                    yield self.models_dir
            except BaseException:
                if made:
                    _remove_if_empty(self.models_dir)
                raise

    @contextmanager
    def shrinking(self) -> Iterator[Path]:
        """``with workspace.shrinking() as folder:`` remove or shorten what ``folder`` holds, under the workspace's
        lock, with no room checked (a workspace over a lowered quota can still give room back); the folder must
        exist (FileNotFoundError otherwise)."""
        with _thread_lock(self.models_dir), _folder_lock(self.models_dir):
            yield self.models_dir

    def _make(self, incoming_bytes: int, new_models: int) -> bool:
        """Make the folder when it is missing, once the room is checked (one new workspace at a time, so the server's
        count holds); True when it was made now."""
        with _new_workspaces:
            if self.models_dir.is_dir():
                return False
            self.check_room(incoming_bytes, new_models)
            self.models_dir.mkdir(parents=True, exist_ok=True)
            return True


def workspace(workspace_id: str | None, models_root: Path) -> Workspace:
    """The workspace for ``workspace_id`` under ``models_root``; None or classroom mode off: the single one."""
    if workspace_id is None or workspace_id == SINGLE:
        return Workspace(SINGLE, models_root, models_root / SHARED_DIR)
    if not is_workspace_id(workspace_id):
        raise Refusal("workspace.bad_id")
    return Workspace(workspace_id, models_root / LEARNERS_DIR / workspace_id, models_root / SHARED_DIR)


def workspace_at(folder: Path, workspace_id: str | None) -> Workspace:
    """The workspace whose models go to ``folder`` (what a trainer process knows): a learner's when
    ``workspace_id`` is one (its folder under ``learners/``), else the single one."""
    if workspace_id is None or workspace_id == SINGLE:
        return Workspace(SINGLE, folder, folder / SHARED_DIR)
    if not is_workspace_id(workspace_id):
        raise Refusal("workspace.bad_id")
    return Workspace(workspace_id, folder, folder.parent.parent / SHARED_DIR)


@dataclass(frozen=True)
class Quota:
    """How much one workspace may keep: bytes and models (each model with its card, snapshots and uploads)."""

    max_bytes: int
    max_models: int

    @classmethod
    def from_environment(cls) -> Quota:
        """``CNN_EXPLORER_QUOTA_MB`` (default 200) and ``CNN_EXPLORER_QUOTA_MODELS`` (default 20)."""
        megabytes = float(os.environ.get(QUOTA_MB_ENV, DEFAULT_QUOTA_MB))
        return cls(int(megabytes * 2**20), int(os.environ.get(QUOTA_FILES_ENV, DEFAULT_QUOTA_MODELS)))


@dataclass(frozen=True)
class Usage:
    """What a workspace holds now."""

    bytes: int
    models: int


def usage(folder: Path, model_suffix: str = ".keras") -> Usage:
    """Bytes of every file in ``folder`` (models, cards, snapshots, uploads) and the number of models."""
    if not folder.is_dir():
        return Usage(0, 0)
    files = [path for path in folder.iterdir() if path.is_file()]
    sizes = []
    for path in files:
        try:
            sizes.append(path.stat().st_size)
        except OSError:  # deleted meanwhile by another tab
            continue
    models = sum(path.suffix == model_suffix and not path.name.startswith(".") for path in files)
    return Usage(sum(sizes), models)


class QuotaFull(Refusal):
    """A save refused because the workspace is full; its sentence (worded when shown) says how to make room."""


def check_room(folder: Path, quota: Quota, incoming_bytes: int = 0, new_models: int = 1) -> None:
    """Raise QuotaFull when ``incoming_bytes`` more or ``new_models`` more would not fit in ``folder``'s quota."""
    now = usage(folder)
    if now.models + new_models > quota.max_models:
        raise QuotaFull("workspace.too_many_models", count=now.models, limit=quota.max_models)
    if now.bytes + incoming_bytes > quota.max_bytes:
        raise QuotaFull("workspace.too_many_bytes", used=now.bytes / 2**20, limit=quota.max_bytes / 2**20)


def learner_folders(learners: Path) -> list[Path]:
    """Every learner's workspace folder under ``learners``."""
    return [path for path in learners.iterdir() if path.is_dir()] if learners.is_dir() else []


def server_bytes(learners: Path) -> int:
    """Bytes that all learners' workspaces under ``learners`` hold together."""
    return sum(usage(folder).bytes for folder in learner_folders(learners))


def check_server_room(folder: Path, incoming_bytes: int = 0) -> None:
    """QuotaFull when learner's folder ``folder``, if new, would be one workspace too many on the server, or when
    ``incoming_bytes`` more would not fit on the disk all workspaces share (``cnnlib.server.limits``)."""
    learners, most = folder.parent, limits.max_workspaces()
    if not folder.is_dir() and len(learner_folders(learners)) >= most:
        raise QuotaFull("workspace.server_full", limit=most)
    used, disk = server_bytes(learners), limits.disk_bytes()
    if used + incoming_bytes > disk:
        raise QuotaFull("workspace.disk_full", used=used / MB, limit=disk / MB)


def _thread_lock(folder: Path) -> threading.Lock:
    """The lock of the workspace in ``folder``, made on its first use."""
    with _locks_guard:
        return _locks.setdefault(str(folder.absolute()), threading.Lock())


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``folder`` itself while the block runs: trainer processes, which save there too,
    take the same one."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # closing the folder releases its lock


def _remove_if_empty(folder: Path) -> None:
    """Remove ``folder`` if nothing is in it."""
    try:
        folder.rmdir()
    except OSError:  # something is in it (or it is gone already)
        pass
