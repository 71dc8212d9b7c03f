"""Which MNIST file a learner can train on: never a path typed in the browser.

    npz_choices()    ["server", "mnist-fashion.npz", "upload"]: the server's own file (CNN_EXPLORER_MNIST_NPZ),
                     the files of CNN_EXPLORER_DATA_DIR, and the learner's own upload
    offered_path("mnist-fashion.npz")   the server path the trainer reads (never shown to the learner)

A learner's own file comes in through ``cnnlib.store.uploads.keep_npz``.
"""

from __future__ import annotations

import os
from pathlib import Path

from cnnlib.mnist.data import NPZ_ENV, data_dir_files, data_dir_path
from cnnlib.text import t

SERVER_FILE, UPLOAD = "server", "upload"  # never the name of an offered file: those end in .npz


def npz_choices() -> list[str]:
    """The MNIST files on offer: the server's own (when set), the data folder's, then the learner's upload."""
    return ([SERVER_FILE] if os.environ.get(NPZ_ENV) else []) + data_dir_files() + [UPLOAD]


def npz_choice_label(choice: str) -> str:
    """How the data selector names a choice: "The server's MNIST file (mnist.npz)", a file name, "Upload my own"."""
    if choice == SERVER_FILE:
        return t("train.data.npz.server", file=Path(os.environ.get(NPZ_ENV, "")).name)
    return t("train.data.npz.upload") if choice == UPLOAD else choice


def offered_path(choice: str) -> str:
    """The path of an offered file (not the upload); ValueError with a sentence for anything not on offer."""
    if choice == SERVER_FILE and os.environ.get(NPZ_ENV):
        return os.environ[NPZ_ENV]
    return str(data_dir_path(choice))

