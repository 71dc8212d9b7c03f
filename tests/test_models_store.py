"""The models folder: listing newest first, atomic saves, safe loading with clear errors, the Draw page's choice."""

import json
import os
import zipfile

import pytest

from cnnlib.store import saved as saved_models


class FakeModel:
    """Stands in for a Keras model where only ``save`` matters (listing, metadata, selection)."""

    def save(self, path) -> None:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("config.json", "{}")


def _save(name: str, folder, mtime: float, metadata: dict | None = None):
    """Save a fake model and set its mtime, so 'newest' does not depend on the clock's resolution."""
    entry = saved_models.save_model(FakeModel(), name, metadata or {"name": name}, folder)
    os.utime(entry.path, (mtime, mtime))
    return entry


def test_models_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(saved_models.MODELS_DIR_ENV, str(tmp_path))
    assert saved_models.models_dir() == tmp_path
    monkeypatch.delenv(saved_models.MODELS_DIR_ENV)
    assert saved_models.models_dir() == saved_models.PROJECT_ROOT / "models"


def test_list_models_is_newest_first_with_metadata(tmp_path):
    _save("old", tmp_path, 1_000, {"test_accuracy": 0.9})
    _save("new", tmp_path, 2_000)
    (tmp_path / "new.json").write_text("{not json")
    models = saved_models.list_models(tmp_path)
    assert [model.name for model in models] == ["new", "old"]
    assert models[0].metadata == {} and models[1].metadata == {"test_accuracy": 0.9}
    assert saved_models.list_models(tmp_path / "missing") == []


def test_save_leaves_no_temporary_files(tmp_path):
    _save("m1", tmp_path, 1_000, {"epochs": 1})
    assert sorted(os.listdir(tmp_path)) == ["m1.json", "m1.keras"]
    assert json.loads((tmp_path / "m1.json").read_text()) == {"epochs": 1}


def test_failed_save_keeps_the_previous_model(tmp_path):
    _save("m1", tmp_path, 1_000)
    before = (tmp_path / "m1.keras").read_bytes()

    class Broken:
        def save(self, path):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        saved_models.save_model(Broken(), "m1", {}, tmp_path)
    assert (tmp_path / "m1.keras").read_bytes() == before
    assert not [name for name in os.listdir(tmp_path) if name.startswith(".")]


@pytest.mark.parametrize("name", ["", "../evil", ".hidden", "a/b", "x.keras", "a" * 101])
def test_unsafe_names_are_refused(tmp_path, name):
    with pytest.raises(ValueError, match="not a valid model name"):
        saved_models.save_model(FakeModel(), name, {}, tmp_path)


def test_selected_model_is_the_marked_one_else_the_newest(tmp_path):
    assert saved_models.selected_model(tmp_path) is None
    _save("old", tmp_path, 1_000)
    _save("new", tmp_path, 2_000)
    assert saved_models.selected_model(tmp_path).name == "new"
    saved_models.select_model("old", tmp_path)
    assert saved_models.selected_model(tmp_path).name == "old"
    saved_models.delete_model("old", tmp_path)
    assert saved_models.selected_model(tmp_path).name == "new"
    assert sorted(os.listdir(tmp_path)) == ["new.json", "new.keras"]
    with pytest.raises(ValueError, match="no saved model"):
        saved_models.select_model("old", tmp_path)


def test_loading_a_damaged_file_says_so(tmp_path):
    (tmp_path / "bad.keras").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="could not be loaded"):
        saved_models.load_model(tmp_path / "bad.keras")
    with pytest.raises(ValueError, match="does not exist"):
        saved_models.load_model(tmp_path / "gone.keras")


def test_the_model_file_is_written_before_its_card(tmp_path):
    class Checking(FakeModel):
        def save(self, path) -> None:
            assert not (tmp_path / "m1.json").exists(), "the card came first"
            super().save(path)

    saved_models.save_model(Checking(), "m1", {"epochs": 1}, tmp_path)
    assert (tmp_path / "m1.json").is_file()


def test_names_must_match_the_rule_whole_and_misfits_are_neither_listed_nor_touched(tmp_path):
    with pytest.raises(ValueError, match="not a valid model name"):
        saved_models.check_name("model\n")
    (tmp_path / "my model.keras").write_bytes(b"x")
    assert saved_models.list_models(tmp_path) == []
    for action in (saved_models.select_model, saved_models.delete_model):
        with pytest.raises(ValueError, match="'my model' is not a valid model name"):
            action("my model", tmp_path)


def test_deleting_removes_the_card_and_the_snapshots_and_twice_says_so(tmp_path):
    _save("m1", tmp_path, 1_000)
    (tmp_path / "m1.epochs.npz").write_bytes(b"x")
    saved_models.delete_model("m1", tmp_path)
    assert os.listdir(tmp_path) == []
    with pytest.raises(ValueError, match="'m1' was already deleted"):  # by another tab, meanwhile
        saved_models.delete_model("m1", tmp_path)
    with pytest.raises(ValueError, match="no saved model named 'm1'"):
        saved_models.select_model("m1", tmp_path)


def test_the_teachers_shared_models_are_listed_marked_and_can_be_chosen(tmp_path):
    mine, shared = tmp_path / "learners" / "abc", tmp_path / "shared"
    _save("own", mine, 2_000)
    _save("lesson", shared, 1_000)
    models = saved_models.list_models(mine, shared)
    assert [(model.key, model.shared, model.label) for model in models] == [
        ("own", False, "own"), ("shared/lesson", True, "lesson (teacher's, read-only)")]
    assert saved_models.list_models(mine) == models[:1]
    saved_models.select_model("shared/lesson", mine, shared)
    assert saved_models.selected_model(mine, shared).key == "shared/lesson"
    assert saved_models.find_model("shared/lesson", mine, shared).path == shared / "lesson.keras"
    with pytest.raises(ValueError, match="not a valid model name"):  # a shared model is never deleted from here
        saved_models.delete_model("shared/lesson", mine)
    assert saved_models.oldest_model(mine).name == "own" and saved_models.oldest_model(shared).name == "lesson"
    assert saved_models.models_table(models, models[1])[1]["used by Draw"] == "✓"


def test_a_lambda_model_is_refused_before_keras_reads_it(tmp_path):
    import keras

    marker = tmp_path / "ran.txt"
    marker_name = str(marker)  # a str, which Keras can serialise with the lambda
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                              keras.layers.Lambda(lambda x: (open(marker_name, "w").write("ran"), x)[1]),
                              keras.layers.Dense(10)])
    model.save(tmp_path / "lambda.keras")
    marker.unlink(missing_ok=True)
    with pytest.raises(ValueError, match="runs code or reads files"):
        saved_models.load_model(tmp_path / "lambda.keras")
    assert not marker.exists()


def test_every_listed_model_can_be_deleted_and_odd_names_are_not_listed(tmp_path):
    saved = _save("mine", tmp_path, 1_000)
    for odd in ("my model.keras", "-dash.keras", ".hidden.keras", "ünï.keras"):
        (tmp_path / odd).write_bytes(saved.path.read_bytes())
    listed = saved_models.list_models(tmp_path)
    assert [model.name for model in listed] == ["mine"]
    for model in listed:
        saved_models.delete_model(model.name, tmp_path)
    assert saved_models.list_models(tmp_path) == []
