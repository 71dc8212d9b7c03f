"""The Train page against the fault catalogue of issue 10: each case ends in a sentence, never a traceback, and
nothing of the learner's is lost or shown to another learner.

Runs use ``tests/fake_trainer.py`` (the real protocol, scripted timing and faults) through a registry put in place
of the server's; a fault the real trainer meets (a models folder that cannot be written) is scripted with the line
the real trainer writes for the real error.
"""

import io
import tempfile
import time
from pathlib import Path

import keras
import numpy as np
import pytest
from conftest import APP_PATH, script
from streamlit.testing.v1 import AppTest

from cnnlib.mnist.data import MAX_NPZ_UPLOAD_BYTES
from cnnlib.store.saved import list_models, save_model
from cnnlib.training import runs
from cnnlib.training.cli import failure_message
from cnnlib.store.workspace import new_workspace_id, workspace

WAIT_S = 60


@pytest.fixture
def models(tmp_path, monkeypatch):
    """The models folder the page uses (single mode unless a test turns classroom mode on); no trainer is kept
    ready, since these tests start few real ones and a ready trainer would only take the CPU from them."""
    monkeypatch.setenv("CNN_EXPLORER_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("CNN_EXPLORER_TRAINER_READY", "0")
    monkeypatch.delenv("CNN_EXPLORER_CLASSROOM", raising=False)
    return tmp_path / "models"


def train_page(learner: str | None = None) -> AppTest:
    """A new browser session on the Train page (``learner``: its ?learner= id in classroom mode)."""
    at = AppTest.from_file(APP_PATH, default_timeout=60)
    if learner:
        at.query_params["learner"] = learner
    at.run().switch_page("pages/train.py").run()
    assert not at.exception
    return at


def refreshed_until(at: AppTest, condition, timeout_s: float = WAIT_S) -> AppTest:
    """Run the page (its live fragment ticks once per run) until ``condition(at)`` holds."""
    deadline = time.monotonic() + timeout_s
    while not condition(at.run()):
        assert not at.exception, at.exception
        assert time.monotonic() < deadline, [element.value for element in (*at.error, *at.info, *at.warning)]
        time.sleep(0.2)
    assert not at.exception
    return at


def shows(text: str):
    """A condition: some info, error, warning, caption or progress text on the page contains ``text``."""
    return lambda at: any(text in str(element.value) for element in (*at.info, *at.error, *at.warning, *at.caption)
                          ) or any(text in element.text for element in at.get("progress"))


def until_phase(registry, phase: str, timeout_s: float = WAIT_S) -> None:
    """Wait until the latest run is in ``phase``; for "training", until its first batch is done too (a Stop before
    it ends the run as stopped before training began)."""
    deadline = time.monotonic() + timeout_s
    while not in_phase(registry.runs()[-1].snapshot(), phase):
        assert time.monotonic() < deadline, registry.runs()[-1].snapshot()
        time.sleep(0.02)


def in_phase(progress, phase: str) -> bool:
    """Whether ``progress`` is in ``phase`` (in "training": with a batch done)."""
    return progress.phase == phase and (phase != "training" or bool(progress.batch_costs))


@pytest.mark.parametrize(("phase", "steps", "outcome"), [
    ("starting", {"start_s": 30}, "Stopped before training began"),
    ("training", {"batches": 500}, "Stopped by you"),
    ("evaluating", {"eval_s": 2}, None),
    ("saving", {"save_s": 2}, None),
])
def test_stop_in_every_phase_ends_in_a_sentence_and_keeps_what_was_learned(models, fake_server, monkeypatch, phase,
                                                                           steps, outcome):
    script(monkeypatch, **steps)
    at = train_page()
    at.button(key="train_start").click().run()
    until_phase(fake_server, phase)
    at.button(key="train_stop").click().run()
    if outcome:
        refreshed_until(at, shows(outcome))
    else:  # stopped once training was over: evaluation and saving finished
        refreshed_until(at, lambda page: any(metric.label.startswith("Test accuracy") for metric in page.metric))
    assert not at.error and bool(list_models(models)) == (phase != "starting")


def test_a_reload_finds_the_run_live_and_its_stop_still_works(models, fake_server, monkeypatch):
    script(monkeypatch, batches=2000)
    train_page().button(key="train_start").click().run()
    until_phase(fake_server, "training")
    reloaded = refreshed_until(train_page(), lambda at: not at.button(key="train_stop").disabled)
    assert reloaded.button(key="train_start").disabled and reloaded.get("plotly_chart")
    reloaded.button(key="train_stop").click().run()
    refreshed_until(reloaded, shows("Stopped by you"))


def test_two_learners_never_see_or_stop_each_others_runs_or_models(models, fake_server, monkeypatch):
    monkeypatch.setenv("CNN_EXPLORER_CLASSROOM", "1")
    script(monkeypatch, batches=2000)
    first, second = new_workspace_id(), new_workspace_id()
    a, b = train_page(first), train_page(second)
    a.button(key="train_start").click().run()
    until_phase(fake_server, "training")
    b.run()
    assert b.button(key="train_stop").disabled and shows("Press **Start training**")(b)
    b.button(key="train_start").click().run()
    assert shows("Waiting in the queue")(b) and not b.button(key="train_stop").disabled
    b.button(key="train_stop").click().run()  # cancels B's queued run, not A's
    refreshed_until(b, shows("Cancelled while waiting"))
    a.button(key="train_stop").click().run()
    refreshed_until(a, shows("Stopped by you"))
    assert [model.name for model in list_models(workspace(first, models).models_dir)] == [
        a.selectbox(key="train_model_choice").value]
    assert not list_models(workspace(second, models).models_dir) and not b.run().dataframe  # no Saved models table


def test_a_killed_trainer_says_so_and_the_next_start_works(models, fake_server, monkeypatch):
    script(monkeypatch, die_at=2)
    at = train_page()
    at.button(key="train_start").click().run()
    refreshed_until(at, shows("killed by signal 9"))
    script(monkeypatch)
    at.button(key="train_start").click().run()
    refreshed_until(at, lambda page: any(metric.label.startswith("Test accuracy") for metric in page.metric))


def save_error(folder: Path) -> BaseException:
    """The real error of saving a model into ``folder``."""
    try:
        save_model(tiny_model(), "unsaved", {}, folder)
    except Exception as error:  # noqa: BLE001 - whatever Keras and the file system raise is what the trainer meets
        return error
    raise AssertionError(f"{folder} took a model")


def test_a_models_folder_that_cannot_be_written_says_the_model_was_not_saved(models, fake_server, tmp_path,
                                                                             monkeypatch):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the models folder should be")
    monkeypatch.setenv("CNN_EXPLORER_MODELS_DIR", str(blocked))
    script(monkeypatch, fail_saving=failure_message(save_error(blocked)))  # the real trainer's line for that error
    at = train_page()
    at.button(key="train_start").click().run()
    refreshed_until(at, shows("could not be saved"))
    message = next(element.value for element in at.error if "could not be saved" in element.value)
    assert "Error: " in message and str(tmp_path) not in message  # the exception's kind and reason, no folder
    at.file_uploader(key="train_model_upload").upload("mine.keras", keras_file(tiny_model())).run()
    assert shows("could not be changed")(at) and str(tmp_path) not in at.error[0].value


def tiny_model(*middle):
    """A small digit model: 28x28 in, 10 out, with ``middle`` layers between."""
    return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), *middle, keras.layers.Dense(10)])


def keras_file(model) -> bytes:
    """The bytes of ``model`` saved as a .keras file."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.keras"
        model.save(path)
        return path.read_bytes()


def test_broken_and_misnamed_model_files_get_sentences(models):
    save_model(tiny_model(), "good", {"test_accuracy": 0.5}, models)
    save_model(tiny_model(), "badcard", {}, models)
    (models / "badcard.json").write_text("{not json")
    (models / "corrupt.keras").write_bytes(b"not a zip")
    (models / "my model.keras").write_bytes((models / "good.keras").read_bytes())
    marker = str(models.parent / "ran.txt")
    save_model(tiny_model(keras.layers.Lambda(lambda x: (open(marker, "w").write("ran"), x)[1])), "lambda", {}, models)
    at = train_page()
    assert len(at.dataframe[0].value) == 4  # "my model": a name the app never gives
    assert "my model" not in at.selectbox(key="train_model_choice").options
    for name in ("corrupt", "badcard", "lambda", "good"):
        at.selectbox(key="train_model_choice").set_value(name).run()
        at.button(key="train_model_select").click().run()
        assert not at.exception and not at.error
    at.selectbox(key="train_model_choice").set_value("good").run()
    (models / "good.keras").unlink()  # deleted meanwhile, in another tab
    at.button(key="train_model_delete").click().run()
    assert not at.exception and "already deleted" in at.error[0].value


def npz_bytes(**arrays) -> bytes:
    """An .npz file of ``arrays``."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


MNIST_LIKE = {"x_train": np.zeros((300, 28, 28), np.uint8), "y_train": np.arange(300) % 10,
              "x_test": np.zeros((50, 28, 28), np.uint8), "y_test": np.arange(50) % 10}


@pytest.mark.parametrize(("name", "data", "sentence"), [
    ("notmnist.npz", npz_bytes(a=np.zeros(3)), "lacks x_train"),
    ("text.npz", b"just some text, renamed", "is not a readable .npz file"),
    ("huge.npz", b"0" * (MAX_NPZ_UPLOAD_BYTES + 1), "MNIST files up to 50 MB are accepted"),
], ids=["not-mnist", "text", "too-big"])
def test_uploaded_npz_files_that_are_not_mnist_get_a_sentence(models, name, data, sentence):
    at = train_page()
    at.selectbox(key="train_data_source").set_value("npz").run()
    at.file_uploader(key="train_npz_upload").upload(name, data).run()
    assert not at.exception and sentence in at.error[0].value and at.button(key="train_start").disabled
    at.file_uploader(key="train_npz_upload").upload("mine.npz", npz_bytes(**MNIST_LIKE)).run()
    assert not at.error and any("The file mine.npz" in caption.value for caption in at.caption)
    assert not at.button(key="train_start").disabled and (models / "mine.npz").is_file()


def test_no_text_box_takes_a_path_and_the_data_folder_is_offered_by_name(models, tmp_path, monkeypatch):
    offered = tmp_path / "data"
    offered.mkdir()
    (offered / "mnist-small.npz").write_bytes(npz_bytes(**MNIST_LIKE))
    monkeypatch.setenv("CNN_EXPLORER_DATA_DIR", str(offered))
    at = train_page()
    at.selectbox(key="train_data_source").set_value("npz").run()
    assert not at.text_input and at.selectbox(key="train_npz_choice").options == ["mnist-small.npz", "Upload my own"]
    assert any("The file mnist-small.npz" in caption.value for caption in at.caption)
    assert not any(str(tmp_path) in element.value for element in (*at.caption, *at.markdown, *at.info))


def test_uploaded_models_are_checked_kept_and_counted_in_the_quota(models, monkeypatch):
    monkeypatch.setenv("CNN_EXPLORER_CLASSROOM", "1")
    monkeypatch.setenv("CNN_EXPLORER_QUOTA_MODELS", "1")
    learner = new_workspace_id()
    at = train_page(learner)
    upload = at.file_uploader(key="train_model_upload")
    upload.upload("notes.keras", b"text renamed .keras").run()
    assert "is not a Keras model" in at.error[0].value
    at.file_uploader(key="train_model_upload").upload("odd.keras", keras_file(tiny_model(
        keras.layers.Lambda(lambda x: x)))).run()
    assert "runs code" in at.error[0].value
    at.file_uploader(key="train_model_upload").upload("My Model (2).keras", keras_file(tiny_model())).run()
    assert not at.error and at.selectbox(key="train_model_choice").value == "My-Model-2"
    assert "limit of 1 models" in at.warning[0].value  # full now: says so, and offers the oldest
    at.button(key="train_start").click().run()
    assert "limit of 1 models" in at.error[0].value and not runs.server_registry().runs(learner)
    at.button(key="train_quota_delete").click().run()
    assert not at.exception and not at.warning and not list_models(workspace(learner, models).models_dir)
