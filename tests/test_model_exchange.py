"""A learner's own model coming in (checked, kept under a safe name) and a saved model going home (a zip)."""

import io
import zipfile

import keras
import numpy as np
import pytest

from cnnlib.network.architecture import Hyperparameters, build_model
from cnnlib.store.exchange import MAX_MODEL_UPLOAD_BYTES, accept_upload, download_bytes, safe_stem
from cnnlib.store.checks import UnsupportedModel


def keras_bytes(model, tmp_path) -> bytes:
    """``model`` saved as .keras, as the bytes a browser would upload."""
    path = tmp_path / "scratch.keras"
    model.save(path)
    return path.read_bytes()


@pytest.fixture(scope="module")
def tutorial(tmp_path_factory):
    return build_model(Hyperparameters(conv1_filters=4, conv2_filters=8, dense_units=16))


def test_a_supported_upload_is_kept_under_a_safe_free_name_with_a_card(tutorial, tmp_path):
    folder = tmp_path / "mine"
    data = keras_bytes(tutorial, tmp_path)
    first = accept_upload(data, "my model (2).keras", folder)
    second = accept_upload(data, "my model (2).keras", folder)
    assert first.name == "my-model-2.keras" and second.name == "my-model-2-2.keras"
    assert first.with_suffix(".json").is_file() and first.read_bytes() == data
    assert safe_stem("../../etc/passwd") == "passwd" and safe_stem("!!!.keras") == "model"


@pytest.mark.parametrize("name", ["_hidden.keras", "-x-.keras", "a.b.c.keras", "ü" * 70 + ".keras", "x" * 200,
                                  ".keras", "моя модель.keras", "..", "7 (1).npz"])
def test_every_upload_name_becomes_a_name_the_saved_models_accept(name):
    from cnnlib.store.files import NAME_PATTERN
    from cnnlib.store.saved import check_name

    assert NAME_PATTERN.fullmatch(safe_stem(name)) and check_name(safe_stem(name)) == safe_stem(name)


def test_uploads_that_are_not_digit_models_get_a_sentence(tmp_path):
    wrong_input = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(10)])
    with pytest.raises(UnsupportedModel, match=r"reads inputs of shape \(None, 32, 32, 3\)"):
        accept_upload(keras_bytes(wrong_input, tmp_path), "cifar.keras", tmp_path / "mine")
    wrong_output = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(3)])
    with pytest.raises(UnsupportedModel, match="needs 10 numbers"):
        accept_upload(keras_bytes(wrong_output, tmp_path), "three.keras", tmp_path / "mine")
    with pytest.raises(UnsupportedModel, match="notes.keras could not be loaded: it is not a Keras model"):
        accept_upload(b"hello, I am a text file", "notes.keras", tmp_path / "mine")
    with pytest.raises(UnsupportedModel, match="models up to 50 MB"):
        accept_upload(b"0" * (MAX_MODEL_UPLOAD_BYTES + 1), "huge.keras", tmp_path / "mine")
    assert not (tmp_path / "mine").exists()  # nothing refused was kept


def test_the_download_loads_and_predicts_the_same(tutorial, tmp_path):
    saved = tmp_path / "tutorial.keras"
    tutorial.save(saved)
    saved.with_suffix(".json").write_text('{"test_accuracy": 0.5}')
    with zipfile.ZipFile(io.BytesIO(download_bytes(saved))) as archive:
        assert sorted(archive.namelist()) == ["tutorial.json", "tutorial.keras"]
        archive.extractall(tmp_path / "home")
    again = keras.saving.load_model(tmp_path / "home" / "tutorial.keras")
    digits = np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32)
    np.testing.assert_allclose(again.predict(digits, verbose=0), tutorial.predict(digits, verbose=0), atol=1e-6)
