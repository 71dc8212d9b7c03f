"""A model's weights (``model.weights.h5``), checked before Keras reads them: their size against the parameter count
the architecture gives, and the HDF5 file holding nothing but plain datasets.

Keras reads each dataset of a layer whole before it compares its shape with the layer's, and a dataset may declare
gigabytes while storing a few bytes (compressed, or never written: read as its fill value). So the member is first
copied out (``cnnlib.store.archive.extract``: its size and checksum checked), then opened with h5py: at most
``MAX_ENTRIES`` groups and datasets, hard links only, every dataset numeric, unfiltered, neither external nor
virtual, declaring no more bytes than it stores, and all of them together no more than the file holds. h5py is
imported lazily, as Keras is.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

from cnnlib.errors import Refusal
from cnnlib.network.settings import shown
from cnnlib.store.archive import WEIGHTS, checked_archive, extract, weights_range

MAX_ENTRIES = 10_000  # groups and datasets: Keras writes about 8 per layer with an optimizer's slots


def _links(weights) -> list[tuple[str, object]]:
    """Every link in the HDF5 file with its kind, up to ``MAX_ENTRIES``; a Refusal past that."""
    found = []

    def visit(name: str, link: object) -> bool | None:
        """Keep one link; stop (anything but None) past ``MAX_ENTRIES``."""
        found.append((name, link))
        return True if len(found) > MAX_ENTRIES else None

    weights.visititems_links(visit)
    if len(found) > MAX_ENTRIES:
        raise Refusal("model_files.weights_unreadable", limit=MAX_ENTRIES)
    return found


def _declared_bytes(weights, name: str, link: object) -> int:
    """The bytes reading the entry ``name`` takes (0 for a group); a Refusal for anything Keras does not write."""
    import h5py

    item = weights[name] if isinstance(link, h5py.HardLink) else None
    if isinstance(item, h5py.Group):
        return 0
    plain = (isinstance(item, h5py.Dataset) and item.shape is not None and item.dtype.kind in "biuf"
             and not item.external and not item.is_virtual and not item.id.get_create_plist().get_nfilters())
    declared = math.prod(item.shape) * item.dtype.itemsize if plain else 0
    if not plain or declared > item.id.get_storage_size():
        raise Refusal("model_files.weights_layout", item=shown(name))
    return declared


def _check_hdf5(path: Path) -> None:
    """Refuse a weights file holding anything but plain datasets, or declaring more than it holds."""
    import h5py

    try:
        with h5py.File(path, "r") as weights:
            declared = sum(_declared_bytes(weights, name, link) for name, link in _links(weights))
    except Refusal:
        raise
    except (OSError, KeyError, ValueError, RuntimeError, TypeError) as error:
        raise Refusal("model_files.weights_unreadable", limit=MAX_ENTRIES) from error
    if declared > path.stat().st_size:
        raise Refusal("model_files.weights_layout", item="/")


def check_weights(path: Path, parameters: int) -> None:
    """Refuse weights whose size does not fit ``parameters``, or whose HDF5 file is not plain (``_check_hdf5``)."""
    with checked_archive(path) as archive:
        size = archive.getinfo(WEIGHTS).file_size
        low, high = weights_range(parameters)
        if not low <= size <= high:
            raise Refusal("model_files.weights_size", size=size / 2**20, count=parameters, low=low / 2**20,
                          high=high / 2**20)
        with tempfile.TemporaryDirectory() as scratch:
            copy = Path(scratch) / WEIGHTS
            with copy.open("wb") as sink:
                extract(archive, WEIGHTS, sink)
            _check_hdf5(copy)
