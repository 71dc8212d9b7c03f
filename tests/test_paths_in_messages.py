"""Messages never show where the server keeps its files: absolute or relative paths, quoted or not, with spaces."""

import pytest

from cnnlib.store.files import without_folders


@pytest.mark.parametrize(("message", "shown"), [
    ("[Errno 20] Not a directory: '/srv/my models/a.keras'", "[Errno 20] Not a directory: 'a.keras'"),
    ("Not a directory: {models}/learners/abc/a.keras", "Not a directory: a.keras"),
    ("could not open models/learners/abc/a.keras for writing", "could not open a.keras for writing"),
    ('Unable to open file (name = "../data/mnist.npz")', 'Unable to open file (name = "mnist.npz")'),
    ("--npz /tmp/x/missing.npz: no such file", "--npz missing.npz: no such file"),
    ("C:\\Users\\kim\\model.keras is damaged", "model.keras is damaged"),
    ("read and/or write failed at 1/2 of the file", "read and/or write failed at 1/2 of the file"),
    ("see https://keras.io/api/ for help", "see https://keras.io/api/ for help"),
], ids=["quoted-spaces", "models-folder-spaces", "relative", "quoted-relative", "tmp", "windows", "no-path", "url"])
def test_only_file_names_are_left(message, shown, tmp_path, monkeypatch):
    models = tmp_path / "my models"
    monkeypatch.setenv("CNN_EXPLORER_MODELS_DIR", str(models))
    result = without_folders(message.format(models=models))
    assert result == shown and str(tmp_path) not in result
