"""The MNIST data layer: sources, shapes, balance, validation and auto's offline fallback."""

import urllib.request

import numpy as np
import pytest

from cnnlib.mnist import data
from cnnlib.mnist.data import load_mnist, load_npz


@pytest.fixture(scope="module")
def offline():
    return load_mnist("offline")


def test_offline_split_is_real_balanced_and_fixed(offline):
    assert offline.x_train.shape == (4000, 28, 28) and offline.x_test.shape == (1000, 28, 28)
    assert offline.x_train.dtype == np.uint8 and offline.x_train.max() == 255 and offline.x_train.min() == 0
    assert offline.y_train.shape == (4000,) and set(np.unique(offline.y_test)) == set(range(10))
    assert list(offline.class_counts("train")) == [400] * 10
    assert list(offline.class_counts("test")) == [100] * 10
    again = load_mnist("offline")
    np.testing.assert_array_equal(again.y_train, offline.y_train)
    np.testing.assert_array_equal(again.x_test, offline.x_test)


def test_offline_train_and_test_do_not_overlap(offline):
    train = {image.tobytes() for image in offline.x_train}
    assert not any(image.tobytes() in train for image in offline.x_test)


def _write_npz(path, **overrides):
    arrays = {"x_train": np.zeros((12, 28, 28), np.uint8), "y_train": np.arange(12) % 10,  # the fewest accepted
              "x_test": np.zeros((2, 28, 28), np.uint8), "y_test": np.array([7, 9])}
    arrays.update(overrides)
    np.savez(path, **{key: value for key, value in arrays.items() if value is not None})
    return path


def test_npz_source_reads_keras_layout(tmp_path, monkeypatch):
    path = _write_npz(tmp_path / "mnist.npz")
    loaded = load_mnist("npz", path)
    assert loaded.source == "npz" and loaded.x_train.shape == (12, 28, 28) and list(loaded.y_test) == [7, 9]
    monkeypatch.setenv("CNN_EXPLORER_MNIST_NPZ", str(path))
    monkeypatch.setenv("CNN_EXPLORER_DATA", "auto")
    assert load_mnist("auto").source == "npz"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"y_test": None}, "lacks y_test"),
        ({"x_train": np.zeros((12, 28, 27), np.uint8)}, "x_train has shape (12, 28, 27)"),
        ({"x_train": np.zeros((11, 28, 28), np.uint8)}, "x_train holds 11 images; at least 12"),
        ({"x_test": np.zeros((0, 28, 28), np.uint8)}, "x_test holds 0 images; at least 1"),
        ({"x_test": np.zeros((2, 28, 28), np.float32)}, "x_test has dtype float32"),
        ({"y_train": np.arange(5)}, "y_train has shape (5,)"),
        ({"y_test": np.array([3, 10])}, "labels from 3 to 10"),
        ({"y_test": np.array([0.0, 1.0])}, "y_test has dtype float64"),
    ],
)
def test_npz_validation_says_exactly_what_is_wrong(tmp_path, overrides, message):
    path = _write_npz(tmp_path / "bad.npz", **overrides)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_npz(path)


def test_npz_that_is_missing_or_not_an_npz(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        load_npz(tmp_path / "nope.npz")
    (tmp_path / "junk.npz").write_text("hello")
    with pytest.raises(ValueError, match="not a readable .npz"):
        load_npz(tmp_path / "junk.npz")
    np.save(tmp_path / "one_array.npy", np.zeros(3))
    (tmp_path / "one_array.npy").rename(tmp_path / "one_array.npz")
    with pytest.raises(ValueError, match="not a readable .npz"):
        load_npz(tmp_path / "one_array.npz")


def test_unknown_source_and_npz_without_path(monkeypatch):
    monkeypatch.delenv("CNN_EXPLORER_MNIST_NPZ", raising=False)
    with pytest.raises(ValueError, match="Unknown data source"):
        load_mnist("imagenet")
    with pytest.raises(ValueError, match="needs a file"):
        load_mnist("npz")


def test_auto_falls_back_to_offline_with_the_reason(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.delenv("CNN_EXPLORER_MNIST_NPZ", raising=False)
    monkeypatch.setenv("CNN_EXPLORER_DATA", "auto")

    def no_network(*args, **kwargs):
        raise urllib.error.URLError(OSError(-3, "Temporary failure in name resolution"))

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    loaded = load_mnist("auto")
    assert loaded.source == "offline"
    assert loaded.notes == ("Full MNIST could not be downloaded: no network. Using the 5,000-digit offline subset.",)


def test_auto_uses_keras_cache_when_present(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.delenv("CNN_EXPLORER_MNIST_NPZ", raising=False)
    monkeypatch.setenv("CNN_EXPLORER_DATA", "auto")
    cache = data.keras_cache_path()
    cache.parent.mkdir(parents=True)
    _write_npz(cache)
    loaded = load_mnist("auto")
    assert loaded.source == "keras" and "Full MNIST" in loaded.description


def test_keras_download_rejects_a_damaged_file(tmp_path, monkeypatch):
    class FakeResponse:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self):
            return b"not mnist"

    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: FakeResponse())
    with pytest.raises(OSError, match="damaged"):
        data.download_keras_mnist(tmp_path / "mnist.npz", timeout_s=1)
    assert not (tmp_path / "mnist.npz").exists()


def test_an_uploaded_npz_is_validated_like_a_file_and_never_names_a_folder(tmp_path):
    good = _write_npz(tmp_path / "mine.npz").read_bytes()
    loaded = data.npz_from_upload(good, "mine.npz")
    assert loaded.x_train.shape == (12, 28, 28) and "mine.npz" in loaded.description
    assert str(tmp_path) not in loaded.description
    with pytest.raises(ValueError, match="notes.npz is not a readable .npz"):
        data.npz_from_upload(b"just some text", "notes.npz")
    with pytest.raises(ValueError, match="lacks x_test"):
        data.npz_from_upload(_write_npz(tmp_path / "partial.npz", x_test=None).read_bytes(), "partial.npz")


def test_oversized_uploads_and_zip_bombs_are_refused_before_unpacking(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="MB; MNIST files up to 50 MB"):
        data.npz_from_upload(b"0" * (data.MAX_NPZ_UPLOAD_BYTES + 1), "huge.npz")
    np.savez_compressed(tmp_path / "bomb.npz", x_train=np.zeros((2000, 28, 28), np.uint8), y_train=np.zeros(2000),
                        x_test=np.zeros((1, 28, 28), np.uint8), y_test=np.zeros(1))
    monkeypatch.setattr(data, "MAX_NPZ_UNPACKED_BYTES", 1_000_000)
    with pytest.raises(ValueError, match="would unpack to more than"):
        data.npz_from_upload((tmp_path / "bomb.npz").read_bytes(), "bomb.npz")


def test_the_data_folder_offers_its_npz_files_by_name_only(tmp_path, monkeypatch):
    monkeypatch.delenv("CNN_EXPLORER_DATA_DIR", raising=False)
    assert data.data_dir_files() == []
    _write_npz(tmp_path / "b.npz")
    _write_npz(tmp_path / "a.npz")
    (tmp_path / "notes.txt").write_text("not data")
    monkeypatch.setenv("CNN_EXPLORER_DATA_DIR", str(tmp_path))
    assert data.data_dir_files() == ["a.npz", "b.npz"]
    assert data.data_dir_path("a.npz") == tmp_path / "a.npz"
    for name in ("../a.npz", "/etc/passwd", "notes.txt"):
        with pytest.raises(ValueError, match="not one of the data files"):
            data.data_dir_path(name)


def test_an_upload_is_kept_under_a_safe_name(tmp_path):
    path = data.save_upload(b"bytes", "../../my data!.npz", tmp_path)
    assert path == tmp_path / "my-data.npz" and path.read_bytes() == b"bytes"
