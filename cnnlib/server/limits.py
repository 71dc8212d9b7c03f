"""What one server allows all its learners together: each limit an environment variable with a default, read when
it is asked for (a teacher restarting the server with other values, or a test, changes it).

    CNN_EXPLORER_MAX_WORKSPACES   200      learners' workspaces on the server (folders under ``learners/``)
    CNN_EXPLORER_DISK_MB          10240    megabytes that all learners' workspaces together may hold
    CNN_EXPLORER_MAX_QUEUE        30       trainings waiting for a free slot (``CNN_EXPLORER_MAX_TRAININGS`` train)
    CNN_EXPLORER_MODEL_CACHE_MB   512      models, their readers and replays kept in memory (pages/parts/models.py)
    CNN_EXPLORER_MNIST_CACHE_MB   512      data sets kept in memory (pages/__init__.py); one uploaded npz unpacks to
                                           at most 400 MB (``cnnlib.mnist.data.MAX_NPZ_UNPACKED_BYTES``), so one fits

Each learner's own quota (``CNN_EXPLORER_QUOTA_MB``, ``CNN_EXPLORER_QUOTA_MODELS``) is in ``cnnlib.store.workspace``.
"""

from __future__ import annotations

import os

MB = 2**20
MAX_WORKSPACES_ENV, DISK_MB_ENV, MAX_QUEUE_ENV = ("CNN_EXPLORER_MAX_WORKSPACES", "CNN_EXPLORER_DISK_MB",
                                                  "CNN_EXPLORER_MAX_QUEUE")
MODEL_CACHE_MB_ENV, MNIST_CACHE_MB_ENV = "CNN_EXPLORER_MODEL_CACHE_MB", "CNN_EXPLORER_MNIST_CACHE_MB"
DEFAULT_MAX_WORKSPACES, DEFAULT_DISK_MB, DEFAULT_MAX_QUEUE = 200, 10240, 30
DEFAULT_MODEL_CACHE_MB, DEFAULT_MNIST_CACHE_MB = 512, 512


def _setting(name: str, default: float) -> float:
    """The number in environment variable ``name``, or ``default`` when it is not set."""
    return float(os.environ.get(name, default))


def max_workspaces() -> int:
    """How many learners' workspaces the server keeps (``CNN_EXPLORER_MAX_WORKSPACES``, default 200)."""
    return int(_setting(MAX_WORKSPACES_ENV, DEFAULT_MAX_WORKSPACES))


def disk_bytes() -> int:
    """Bytes that all workspaces together may hold (``CNN_EXPLORER_DISK_MB``, default 10,240 MB)."""
    return int(_setting(DISK_MB_ENV, DEFAULT_DISK_MB) * MB)


def max_queue() -> int:
    """How many trainings may wait for a slot (``CNN_EXPLORER_MAX_QUEUE``, default 30)."""
    return int(_setting(MAX_QUEUE_ENV, DEFAULT_MAX_QUEUE))


def model_cache_bytes() -> int:
    """Bytes of models, readers and replays kept in memory (``CNN_EXPLORER_MODEL_CACHE_MB``, default 512 MB)."""
    return int(_setting(MODEL_CACHE_MB_ENV, DEFAULT_MODEL_CACHE_MB) * MB)


def mnist_cache_bytes() -> int:
    """Bytes of data sets kept in memory (``CNN_EXPLORER_MNIST_CACHE_MB``, default 512 MB)."""
    return int(_setting(MNIST_CACHE_MB_ENV, DEFAULT_MNIST_CACHE_MB) * MB)
