"""Whose work is it? One workspace per learner when a class shares a server, one for everyone otherwise.

Classroom mode (``CNN_EXPLORER_CLASSROOM=1``) gives every learner a private folder of models under the models
folder, ``learners/<id>/``, named by a random id the app keeps in the page URL (``?learner=…``) or, when the server
has Streamlit's sign-in configured, derived from the signed-in user. Models the teacher puts in ``shared/`` are
offered to everyone, read-only. Without classroom mode the models folder itself is the one workspace, as before.
Each workspace has a quota: new saves are refused with a sentence once it is full, never dropped silently.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cnnlib.errors import Refusal

CLASSROOM_ENV = "CNN_EXPLORER_CLASSROOM"
QUOTA_MB_ENV, QUOTA_FILES_ENV = "CNN_EXPLORER_QUOTA_MB", "CNN_EXPLORER_QUOTA_MODELS"
ID_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: ids get read aloud and typed
ID_LENGTH = 12
LEARNERS_DIR, SHARED_DIR = "learners", "shared"
SINGLE = "single"  # the workspace id when classroom mode is off
DEFAULT_QUOTA_MB, DEFAULT_QUOTA_MODELS = 200, 20


def classroom_mode() -> bool:
    """Whether the server gives each learner a private workspace (``CNN_EXPLORER_CLASSROOM=1``)."""
    return os.environ.get(CLASSROOM_ENV, "") == "1"


def new_workspace_id() -> str:
    """A fresh random id, 12 characters of ``ID_ALPHABET`` (about 60 bits)."""
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH))


def is_workspace_id(value: object) -> bool:
    """Whether ``value`` is a well-formed workspace id (anything else in the URL is ignored, never a path)."""
    return isinstance(value, str) and len(value) == ID_LENGTH and all(c in ID_ALPHABET for c in value)


def workspace_id_for_user(identity: str) -> str:
    """The stable workspace id of a signed-in user (their e-mail or subject), in the same alphabet as random ids."""
    digest = hashlib.sha256(identity.encode("utf-8")).digest()
    return "".join(ID_ALPHABET[byte % len(ID_ALPHABET)] for byte in digest[:ID_LENGTH])


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
        """QuotaFull with a sentence when ``incoming_bytes`` and ``new_models`` more would not fit (no quota: fine)."""
        if self.quota is not None:
            check_room(self.models_dir, self.quota, incoming_bytes, new_models)


def workspace(workspace_id: str | None, models_root: Path) -> Workspace:
    """The workspace for ``workspace_id`` under ``models_root``; None or classroom mode off: the single one."""
    if workspace_id is None or workspace_id == SINGLE:
        return Workspace(SINGLE, models_root, models_root / SHARED_DIR)
    if not is_workspace_id(workspace_id):
        raise Refusal("workspace.bad_id")
    return Workspace(workspace_id, models_root / LEARNERS_DIR / workspace_id, models_root / SHARED_DIR)


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
