"""A ``.keras`` file's zip, checked before anything in it is read: its directory, its members and their sizes.

Keras 3 writes exactly three members, uncompressed: ``config.json`` (the architecture, a few kB),
``metadata.json`` (its version and date) and ``model.weights.h5``. Keras then trusts the zip: it reads
``config.json`` and the weights whole (``read()`` inflates the stream to its end, however much it declares), and
extracts every member to disk when there are more than three. So before Keras opens it, a file must

- end in a plain zip end record for three members with a small directory (``zipfile`` would otherwise parse a
  directory of any size, one Python object per entry);
- hold exactly those three names, once each;
- declare each member no larger than a model the app opens can need, so three members cap the total too;
- be stored, or deflated at most ``MAX_RATIO`` to 1 (above ``RATIO_FLOOR``);
- inflate each member Keras reads to exactly its declared size, with its checksum (``extract``, a chunk at a time).

Every refusal is a ``Refusal`` with a catalogue key; ``cnnlib.store.checks`` adds the learner's file name.
"""

from __future__ import annotations

import copy
import os
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from cnnlib.errors import Refusal
from cnnlib.network.settings import shown

CONFIG, METADATA, WEIGHTS = MEMBERS = ("config.json", "metadata.json", "model.weights.h5")
MAX_PARAMETERS = 5_000_000  # the largest network the app offers has 3.9 M; its epoch snapshots are 15 MB each
BYTES_PER_PARAMETER = 4  # float32
WEIGHT_COPIES = 6  # the weights and up to five optimizer slots each (Adam keeps 2; with amsgrad and EMA, 5)
WEIGHTS_OVERHEAD = 2**20  # HDF5 groups and headers: about 5 kB per layer with an optimizer, measured
MAX_CONFIG_BYTES = 256 * 2**10  # a real architecture is a few kB (the tutorial's: 8 kB)
MAX_METADATA_BYTES = 64 * 2**10  # Keras writes about 64 bytes
MAX_RATIO, RATIO_FLOOR = 20, 2**20  # trained float32 weights deflate about 1.1 to 1; zeros 1000 to 1
MAX_DIRECTORY_BYTES = 4 * 2**10  # three entries take about 200 bytes
CHUNK = 2**20  # what ``extract`` inflates at a time
NOT_KERAS = "models.error.not_keras"  # the one sentence for a file that is no Keras archive
END_RECORD = struct.Struct("<4s4H2LH")  # the zip's end of central directory record, 22 bytes
END_SIGNATURE, ZIP64_LOCATOR, LOCATOR_SIZE = b"PK\x05\x06", b"PK\x06\x07", 20  # a zip64 locator precedes it


def weights_range(parameters: int) -> tuple[int, int]:
    """The bytes a weights member of a model with ``parameters`` may take: each weight once, at least; at most six
    times (optimizer slots) plus the file's own headers."""
    weights = parameters * BYTES_PER_PARAMETER
    return weights, weights * WEIGHT_COPIES + WEIGHTS_OVERHEAD


LIMITS = {CONFIG: MAX_CONFIG_BYTES, METADATA: MAX_METADATA_BYTES, WEIGHTS: weights_range(MAX_PARAMETERS)[1]}


def _end_record(path: Path) -> tuple[int, int]:
    """The member count and directory size in the zip's end record; NOT_KERAS unless the file ends in a plain one
    (no comment, no zip64), which is then the one ``zipfile`` reads."""
    try:
        with path.open("rb") as file:
            size = file.seek(0, os.SEEK_END)
            file.seek(max(0, size - END_RECORD.size - LOCATOR_SIZE))
            tail = file.read()
    except OSError as error:
        raise Refusal(NOT_KERAS) from error
    if len(tail) < END_RECORD.size:
        raise Refusal(NOT_KERAS)
    signature, _, _, _, members, directory, _, comment = END_RECORD.unpack(tail[-END_RECORD.size:])
    if signature != END_SIGNATURE or comment or tail[:-END_RECORD.size][:4] == ZIP64_LOCATOR:
        raise Refusal(NOT_KERAS)
    return members, directory


def _check_names(names: list[str]) -> None:
    """Refuse any members but Keras's three, once each."""
    if len(names) != len(MEMBERS):
        raise Refusal("model_files.member_count", count=len(names))
    if sorted(names) != sorted(MEMBERS):
        raise Refusal("model_files.members", names=", ".join(shown(name) for name in names))


def _check_member(info: zipfile.ZipInfo) -> None:
    """Refuse a member packed as Keras never packs one, larger than it may be, or inflating too far."""
    member, stored = info.filename, info.compress_type == zipfile.ZIP_STORED
    if info.flag_bits & 0x1 or not (stored or info.compress_type == zipfile.ZIP_DEFLATED):
        raise Refusal("model_files.packing", member=member)
    if info.file_size > LIMITS[member]:
        raise Refusal("model_files.too_big" if member == CONFIG else "model_files.member_too_big", member=member,
                      size=info.file_size / 2**20, limit=LIMITS[member] / 2**20)
    if stored and info.file_size != info.compress_size:
        raise Refusal("model_files.damaged_part", member=member)
    if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * info.compress_size:
        raise Refusal("model_files.compressed", member=member, ratio=info.file_size / max(1, info.compress_size),
                      limit=MAX_RATIO)


@contextmanager
def checked_archive(path: Path) -> Iterator[zipfile.ZipFile]:
    """The zip in ``path``, open, once its end record, names and members passed the checks; a Refusal otherwise."""
    members, directory = _end_record(path)
    if members != len(MEMBERS) or directory > MAX_DIRECTORY_BYTES:
        raise Refusal("model_files.member_count", count=members)
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, ValueError, EOFError, struct.error, zipfile.BadZipFile) as error:
        raise Refusal(NOT_KERAS) from error
    with archive:
        _check_names(archive.namelist())
        for info in archive.infolist():
            _check_member(info)
        yield archive


def extract(archive: zipfile.ZipFile, member: str, sink: BinaryIO) -> None:
    """Copy ``member`` into ``sink`` a chunk at a time; a Refusal when it inflates to more or fewer bytes than it
    declares or its checksum differs, so that what Keras later reads in one piece is exactly the declared size."""
    info = copy.copy(archive.getinfo(member))
    declared, info.file_size = info.file_size, info.file_size + 1  # read one byte past the end, to see if it is one
    copied = 0
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(CHUNK):
                copied += sink.write(chunk)
    except (OSError, EOFError, RuntimeError, zlib.error, zipfile.BadZipFile) as error:
        raise Refusal("model_files.damaged_part", member=member) from error
    if copied != declared:
        raise Refusal("model_files.damaged_part", member=member)
