"""The class's own digits: drawings learners label and add, kept in their workspaces, gathered to test every model.

Each workspace keeps its digits in one file, ``_class-digits.npz`` (the leading ``_``: no uploaded file or saved
model can get that name, see ``cnnlib.store.files.safe_stem`` and ``NAME_PATTERN``), counted in its quota like
everything in its folder:

    uids      (N,) uint64            a random 63-bit id per digit: how scores and removals name it
    labels    (N,) uint8             the digit the learner said it is, 0-9
    images    (N, 28, 28) uint8      the drawing prepared as MNIST's digits were (``cnnlib.mnist.preprocess``)
    drawings  (N, 140, 140) uint8    the raw drawing: the canvas's grey at half its 280x280 (19,600 bytes)
    added     (N,) float64           when, in seconds since the epoch

A digit is at most 20,401 bytes unpacked (1-3 KB compressed, as drawn); a learner keeps at most ``max_digits()``
(``CNN_EXPLORER_MAX_CLASS_DIGITS``, default 200, never above 1,000). Writes happen inside ``Workspace.storing`` (the
workspace's lock, the quota checked for the file's growth); reads check the members' declared sizes first.

    add_digit(ws, canvas_pixels, 7)   how many digits the learner has now
    own_digits(ws)                    one learner's digits; remove_digits(ws, uids) takes some away
    class_digits(models_root)         every learner's digits (classroom mode), else the single workspace's
    digits_version(models_root)       changes whenever anyone's digits change
    mnist_npz(digits, x_train, y_train)   Keras's mnist.npz layout, the digits as its test set
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import secrets
import time
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnlib.errors import Refusal
from cnnlib.mnist.preprocess import CANVAS_SIDE, MNIST_SIZE, prepare_digit
from cnnlib.store.files import write_atomically
from cnnlib.store.workspace import (LEARNERS_DIR, SINGLE, Workspace, classroom_mode, is_workspace_id,
                                    learner_folders)

DIGITS_FILE = "_class-digits.npz"
MAX_DIGITS_ENV, DEFAULT_MAX_DIGITS, HARD_MAX_DIGITS = "CNN_EXPLORER_MAX_CLASS_DIGITS", 200, 1000
DRAWING_SIDE = CANVAS_SIDE // 2  # 140: strokes of 5-40 canvas pixels stay 2-20 wide
MEMBERS = {"uids": ((), np.uint64), "labels": ((), np.uint8), "images": ((MNIST_SIZE, MNIST_SIZE), np.uint8),
           "drawings": ((DRAWING_SIDE, DRAWING_SIDE), np.uint8), "added": ((), np.float64)}
DIGIT_BYTES = sum(int(np.prod(shape, dtype=np.int64)) * np.dtype(kind).itemsize for shape, kind in MEMBERS.values())
MAX_UNPACKED_BYTES = HARD_MAX_DIGITS * DIGIT_BYTES + 2**16  # the members' declared sizes, checked before reading
SUMMARY = ("uids", "labels", "images")  # what the class's set reads of each file (the drawings stay on disk)
UNREADABLE = (OSError, ValueError, EOFError, zipfile.BadZipFile)
logger = logging.getLogger(__name__)


def max_digits() -> int:
    """How many digits one learner may add (``CNN_EXPLORER_MAX_CLASS_DIGITS``, default 200, at most 1,000)."""
    return max(0, min(int(float(os.environ.get(MAX_DIGITS_ENV, DEFAULT_MAX_DIGITS))), HARD_MAX_DIGITS))


@dataclass(frozen=True, repr=False)
class Digits:
    """Labelled digits, each with its id and whose workspace it is in; ``version`` names the files they came from."""

    uids: np.ndarray  # (N,) uint64
    labels: np.ndarray  # (N,) uint8
    images: np.ndarray  # (N, 28, 28) uint8, white ink on black like MNIST
    owners: tuple[str, ...]  # a workspace id per digit
    version: str = ""

    def __len__(self) -> int:
        return len(self.uids)

    def __repr__(self) -> str:
        return f"Digits({len(self)} from {len(set(self.owners))} workspace(s), version={self.version!r})"

    @property
    def nbytes(self) -> int:
        """What the digits hold in memory."""
        return self.uids.nbytes + self.labels.nbytes + self.images.nbytes + 64 * len(self.owners)

    def where(self, chosen: np.ndarray) -> Digits:
        """Only the digits ``chosen`` (a boolean mask or indices) picks, in that order."""
        indices = np.arange(len(self))[chosen]
        return Digits(self.uids[indices], self.labels[indices], self.images[indices],
                      tuple(self.owners[index] for index in indices), self.version)

    @classmethod
    def joined(cls, parts: Iterable[Digits], version: str = "") -> Digits:
        """Several sets as one, in order."""
        parts = list(parts)
        if not parts:
            return cls(*(empty(name) for name in SUMMARY), owners=(), version=version)
        return cls(*(np.concatenate([getattr(part, name) for part in parts]) for name in SUMMARY),
                   owners=sum((part.owners for part in parts), ()), version=version)


def empty(name: str) -> np.ndarray:
    """Member ``name`` holding no digit."""
    shape, kind = MEMBERS[name]
    return np.zeros((0, *shape), kind)


def check_label(label: object) -> int:
    """``label`` as a digit 0-9; a Refusal for anything else (nothing chosen, a bool, a string, 12)."""
    if label is None:
        raise Refusal("classroom.digits.no_label")
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= int(label) <= 9:
        raise Refusal("classroom.digits.bad_label", label=str(label)[:20])
    return int(label)


def digit_pictures(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The canvas's ``(280, 280, 4)`` (or RGB) uint8 pixels as the prepared 28x28 digit and the 140x140 raw drawing,
    both uint8; a Refusal for anything that is not the canvas's picture, or a blank one."""
    pixels = np.asarray(pixels)
    if (pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[:2] != (CANVAS_SIDE, CANVAS_SIDE)
            or pixels.shape[2] not in (3, 4)):
        raise Refusal("classroom.digits.not_a_drawing")
    prepared = prepare_digit(pixels)
    if prepared is None:
        raise Refusal("classroom.digits.blank")
    grey = pixels[:, :, :3].max(axis=2).astype(np.float32)  # white ink on the canvas's black
    if pixels.shape[2] == 4:
        grey *= pixels[:, :, 3] / np.float32(255)  # a transparent pixel is background
    drawing = grey.reshape(DRAWING_SIDE, 2, DRAWING_SIDE, 2).mean(axis=(1, 3))
    return np.round(prepared.image * 255).astype(np.uint8), np.round(drawing).astype(np.uint8)


def read_digits(path: Path, members: Iterable[str] = tuple(MEMBERS)) -> dict[str, np.ndarray]:
    """The chosen members of one digits file (none yet: empty ones); a Refusal for a file that is not one."""
    if not path.is_file():
        return {name: empty(name) for name in members}
    damaged = Refusal("classroom.digits.damaged")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if (not isinstance(archive, np.lib.npyio.NpzFile) or sorted(archive.files) != sorted(MEMBERS)
                    or sum(info.file_size for info in archive.zip.infolist()) > MAX_UNPACKED_BYTES):
                raise damaged
            arrays = {name: archive[name] for name in members}
    except UNREADABLE as error:
        raise damaged from error
    count = len(next(iter(arrays.values()), ()))
    for name, array in arrays.items():
        shape, kind = MEMBERS[name]
        if array.dtype != kind or array.shape != (count, *shape) or count > HARD_MAX_DIGITS:
            raise damaged
    return arrays


def _packed(arrays: dict[str, np.ndarray]) -> bytes:
    """The members as one compressed npz file's bytes."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def _new_uid(taken: np.ndarray) -> int:
    """A random 63-bit id that ``taken`` does not hold."""
    while (uid := secrets.randbits(63)) in taken:
        continue
    return uid


def add_digit(workspace: Workspace, pixels: np.ndarray, label: object) -> int:
    """Add the canvas's drawing as digit ``label`` to the learner's digits; how many they have now. A Refusal for a
    blank or foreign picture, a label outside 0-9, a drawing already added, a full set or a full workspace."""
    label = check_label(label)
    image, drawing = digit_pictures(pixels)
    with workspace.storing(0, new_models=0) as folder:
        path = folder / DIGITS_FILE
        arrays = read_digits(path)
        count = len(arrays["uids"])
        if count >= max_digits():
            raise Refusal("classroom.digits.full", limit=max_digits())
        if count and (arrays["images"] == image).all(axis=(1, 2)).any():
            raise Refusal("classroom.digits.duplicate")
        new = {"uids": np.array([_new_uid(arrays["uids"])], np.uint64), "labels": np.array([label], np.uint8),
               "images": image[None], "drawings": drawing[None], "added": np.array([time.time()])}
        data = _packed({name: np.concatenate([arrays[name], new[name]]) for name in MEMBERS})
        workspace.check_room(len(data) - (path.stat().st_size if path.is_file() else 0), new_models=0)
        write_atomically(path, lambda temporary: temporary.write_bytes(data))
    return count + 1


def own_digits(workspace: Workspace) -> Digits:
    """The learner's own digits, oldest first (a Refusal when their file is damaged)."""
    arrays = read_digits(workspace.models_dir / DIGITS_FILE, SUMMARY)
    return Digits(*(arrays[name] for name in SUMMARY), owners=(workspace.id,) * len(arrays["uids"]))


def remove_digits(workspace: Workspace, uids: Iterable[int]) -> int:
    """Take the digits with these ids out of the learner's set; how many were taken out. A Refusal when none of them
    is there (removed meanwhile, in another tab or by the teacher)."""
    wanted = np.array([int(uid) for uid in uids], np.uint64)
    gone = Refusal("classroom.digits.already_removed")
    if not wanted.size or not workspace.models_dir.is_dir():
        raise gone
    with workspace.shrinking() as folder:
        path = folder / DIGITS_FILE
        arrays = read_digits(path)
        kept = ~np.isin(arrays["uids"], wanted)
        if kept.all():
            raise gone
        if not kept.any():
            path.unlink()
        else:
            data = _packed({name: array[kept] for name, array in arrays.items()})
            write_atomically(path, lambda temporary: temporary.write_bytes(data))
    return int((~kept).sum())


def digit_files(models_root: Path) -> list[tuple[str, Path]]:
    """Where the digits are: each learner's file (classroom mode), else the single workspace's; owners first."""
    if not classroom_mode():
        return [(SINGLE, models_root / DIGITS_FILE)]
    folders = sorted(learner_folders(models_root / LEARNERS_DIR))
    return [(folder.name, folder / DIGITS_FILE) for folder in folders if is_workspace_id(folder.name)]


def digits_version(models_root: Path) -> str:
    """A name for the digits as they are now: each file's inode, time and size (a write replaces the file)."""
    stamps = []
    for owner, path in digit_files(models_root):
        try:
            found = path.stat()
        except OSError:  # no digits there (yet, or any more)
            continue
        stamps.append(f"{owner}:{found.st_ino}:{found.st_mtime_ns}:{found.st_size}")
    return hashlib.sha256("\n".join(stamps).encode()).hexdigest()[:16]


def class_digits(models_root: Path) -> Digits:
    """Every learner's digits, learner by learner in the order they added them (a damaged file is left out and
    logged); the version is taken before reading, so a change meanwhile shows as a newer one."""
    version, parts = digits_version(models_root), []
    for owner, path in digit_files(models_root):
        try:
            arrays = read_digits(path, SUMMARY)
        except Refusal:
            logger.warning("Left out a damaged class digits file of workspace %s", owner)
            continue
        parts.append(Digits(*(arrays[name] for name in SUMMARY), owners=(owner,) * len(arrays["uids"])))
    return Digits.joined(parts, version)


def mnist_npz(digits: Digits, x_train: np.ndarray, y_train: np.ndarray) -> bytes:
    """Keras's ``mnist.npz`` layout with ``digits`` as the test set (``x_test`` uint8 (N, 28, 28), ``y_test`` uint8
    (N,)) and the given training digits, so the file loads wherever MNIST does; a Refusal without digits."""
    if not len(digits):
        raise Refusal("classroom.digits.none_yet")
    return _packed({"x_train": np.asarray(x_train, np.uint8), "y_train": np.asarray(y_train, np.uint8),
                    "x_test": digits.images.astype(np.uint8), "y_test": digits.labels.astype(np.uint8)})
