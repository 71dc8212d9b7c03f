"""What learners bring to the server: an MNIST ``.npz`` to train on, a ``.keras`` model to explore.

Each is checked (size, layout, what the model is built of), counted in the learner's quota and kept in their
workspace under a safe name; a refusal is a Refusal whose sentence names the file, never a folder. The room is
checked and the file written under the workspace's lock (``Workspace.storing``), so two tabs uploading into a
nearly full workspace cannot both pass the check.

    keep_npz(upload, workspace)     the kept file's path (for the trainer), or None without an upload
    keep_model(upload, workspace)   the kept model's name, or None without an upload

``upload`` is anything with ``name`` and ``getvalue()`` (Streamlit's ``UploadedFile``).
"""

from __future__ import annotations

from typing import Protocol

from cnnlib.mnist.data import npz_from_upload, save_upload
from cnnlib.store.exchange import accept_upload
from cnnlib.store.workspace import Workspace


class Upload(Protocol):
    """A file a learner uploaded."""

    name: str

    def getvalue(self) -> bytes:
        """The file's bytes."""


def keep_npz(upload: Upload | None, workspace: Workspace) -> str | None:
    """Check an uploaded MNIST npz (size, layout, room) and keep it in the workspace; its path, for the trainer."""
    if upload is None:
        return None
    data = upload.getvalue()
    npz_from_upload(data, upload.name)
    with workspace.storing(len(data), new_models=0) as folder:
        return str(save_upload(data, upload.name, folder))


def keep_model(upload: Upload | None, workspace: Workspace) -> str | None:
    """Check an uploaded ``.keras`` (room, size, layers, input and output) and keep it with a card; its name."""
    if upload is None:
        return None
    data = upload.getvalue()
    with workspace.storing(len(data)) as folder:
        return accept_upload(data, upload.name, folder).stem
