"""The teacher's board and the class's digits through AppTest: the key (none, wrong, right, kept across pages), the
counts, every learner's best model and the shared ones tested on the class's digits, removing digits, sharing a
model; a learner adding, seeing and deleting their own digits on the Draw page, and the scores beside a model."""

import re
import time
from pathlib import Path

import pytest
from conftest import APP_PATH
from streamlit.testing.v1 import AppTest
from test_class_digits import FOUR, ONE, SEVEN, canvas, tiny_saved_model
from test_pages import english_fragments, page_trouble, shown_texts

from cnnlib.classroom.digits import add_digit, class_digits, own_digits
from cnnlib.store.saved import list_models
from cnnlib.store.workspace import new_workspace_id, workspace
from cnnlib.training.runs import shutdown_all

KEY = "a-long-teacher-key"


@pytest.fixture
def classroom(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Classroom mode with a teacher key; the models folder."""
    monkeypatch.setenv("CNN_EXPLORER_CLASSROOM", "1")
    monkeypatch.setenv("CNN_EXPLORER_TEACHER_KEY", KEY)
    monkeypatch.setenv("CNN_EXPLORER_MODELS_DIR", str(tmp_path))
    monkeypatch.delenv("CNN_EXPLORER_MAX_CLASS_DIGITS", raising=False)
    return tmp_path


@pytest.fixture
def two_learners(classroom: Path):
    """Ann drew a 7 and has two models; Ben drew a 1 and a 4 and has none: their workspaces."""
    ann, ben = workspace(new_workspace_id(), classroom), workspace(new_workspace_id(), classroom)
    add_digit(ann, canvas(SEVEN), 7)
    add_digit(ben, canvas(ONE), 1)
    add_digit(ben, canvas(FOUR), 4)
    tiny_saved_model(ann.models_dir, "ann-first", 0.91)
    tiny_saved_model(ann.models_dir, "ann-best", 0.97)
    return ann, ben


def opened(query: dict, page: str | None = None) -> AppTest:
    """The app opened with these query parameters, then switched to ``page``."""
    at = AppTest.from_file(APP_PATH, default_timeout=90)
    for name, value in query.items():
        at.query_params[name] = value
    at.run()
    if page:
        at.switch_page(page).run()
    assert not page_trouble(at), page_trouble(at)
    return at


def table(at: AppTest, column: str):
    """The first table on the page with this column, as a pandas DataFrame (AppTest does not keep their keys)."""
    return next(frame.value for frame in at.dataframe if column in frame.value.columns)


def board(query: dict | None = None) -> AppTest:
    """The teacher's board, opened with the right key."""
    return opened({"teacher": KEY, **(query or {})}, "pages/teacher.py")


def test_without_a_key_no_board_is_offered(classroom):
    at = opened({})
    assert not at.error
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/teacher.py")


@pytest.mark.parametrize(("environment", "given", "sentence"), [
    ({}, "not-the-key", "That teacher key is not right"),
    ({}, KEY + "x", "That teacher key is not right"),
    ({"CNN_EXPLORER_TEACHER_KEY": ""}, KEY, "This server has no teacher's board"),
    ({"CNN_EXPLORER_CLASSROOM": "0"}, KEY, "This server has no teacher's board"),
    ({"CNN_EXPLORER_TEACHER_KEY": "short"}, "short", "must be at least 12 characters"),
])
def test_a_wrong_key_gets_a_sentence_and_no_board(classroom, monkeypatch, environment, given, sentence):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    at = opened({"teacher": given})
    assert len(at.error) == 1 and sentence in at.error[0].value and KEY not in at.error[0].value
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/teacher.py")


def test_the_right_key_opens_the_board_and_stays_in_the_address_across_pages(classroom, monkeypatch):
    at = opened({"teacher": KEY})
    assert "Teacher's board open" in at.sidebar.caption[-1].value and not at.error
    at.switch_page("pages/teacher.py").run()
    assert at.title[0].value == "Teacher's board" and at.query_params["teacher"] == KEY
    at.switch_page("pages/toy_convolution.py").run()
    assert at.query_params["teacher"] == KEY and "learner" in at.query_params
    at.switch_page("pages/teacher.py").run()
    assert at.title[0].value == "Teacher's board"
    monkeypatch.setenv("CNN_EXPLORER_TEACHER_KEY", "the-key-changed-meanwhile")
    at.run()  # the same session with the old key: the board closes at this very run
    assert "opens only from an address with the teacher key" in at.error[0].value and not at.title


def test_the_board_counts_learners_and_digits_and_tests_each_best_model_on_them(two_learners):
    ann, ben = two_learners
    at = board()
    assert {metric.label: metric.value for metric in at.metric} == {
        "Learners": "2", "Class digits": "3", "Models": "2", "Shared models": "0"}
    learners = table(at, "digits drawn").set_index("learner")
    assert learners.loc[ann.id, "models"] == 2 and learners.loc[ann.id, "best test accuracy"] == "97.00%"
    assert re.fullmatch(r"[0-3] of 3 \(\d+%\)", learners.loc[ann.id, "class digits"])
    assert learners.loc[ben.id, "class digits"] == "–" and learners.loc[ben.id, "digits drawn"] == 2
    recipe = "tutorial's network, lr 0.002, batch 64, 2 epoch(s)"
    assert learners.loc[ann.id, "its recipe or design"] == recipe
    leaders = table(at, "rank")
    assert leaders["learner"].tolist() == [ann.id] and leaders["model"].tolist() == ["ann-best"]
    assert [tab.label for tab in at.tabs] == ["1 (1)", "4 (1)", "7 (1)"]
    options = at.multiselect(key="teacher_remove_7").options
    assert options == [f"7, no. 0, drawn by {ann.id}"]


def test_the_teacher_removes_a_digit_and_shares_a_model_tested_on_the_class_digits(two_learners, classroom):
    ann, ben = two_learners
    at = board()
    four = at.multiselect(key="teacher_remove_4")
    four.set_value([four.options[0]]).run()  # the option's value is chosen through its label
    at.button(key="teacher_remove_button_4").click().run()
    assert not page_trouble(at) and at.success[0].value == "Removed 1 digit(s) from the class's set."
    assert own_digits(ben).labels.tolist() == [1] and len(class_digits(classroom)) == 2
    assert {metric.label: metric.value for metric in at.metric}["Class digits"] == "2"

    chooser = at.selectbox(key="teacher_share_choice")
    chooser.set_value(f"{ann.id}/ann-first").run()
    at.button(key="teacher_share").click().run()
    assert at.success[0].value == "Shared as ann-first: every learner can now choose it."
    assert [model.name for model in list_models(classroom / "shared")] == ["ann-first"]
    shared = table(at, "name")
    assert shared["name"].tolist() == ["ann-first"] and shared["class digits"][0].split(" of ")[1].startswith("2 (")
    learner_view = draw_page({"learner": ben.id})  # every learner can choose it now
    assert "ann-first (teacher's, read-only)" in str(learner_view.selectbox(key="draw_model").options)


def test_the_board_reads_as_korean_in_korean(two_learners):
    at = board({"lang": "ko"})
    assert at.title[0].value == "선생님 현황판"
    shown = "\n".join(shown_texts(at._tree))
    leaks = sorted({f"{key}: {fragment!r}" for fragment, key in english_fragments().items() if fragment in shown})
    assert leaks == [], "English text on the Korean board"


def draw_page(query: dict) -> AppTest:
    """The Draw page with a 7 drawn on the canvas (the pixels its last stroke left)."""
    at = opened(query, "pages/draw_digit.py")
    at.session_state["draw_pixels"] = canvas(SEVEN)
    at.run()
    return at


def test_a_learner_adds_sees_and_deletes_their_own_digits(classroom, monkeypatch):
    learner = new_workspace_id()
    at = draw_page({"learner": learner})
    at.button(key="draw_class_add").click().run()
    assert at.error[0].value == "Choose which digit your drawing is (0-9) first, then add it."
    at.segmented_control(key="draw_class_label").set_value(7)
    at.button(key="draw_class_add").click().run()
    assert at.success[0].value == "Added as a 7. You have added 1 of at most 200 digits."
    assert at.segmented_control(key="draw_class_label").value is None  # the next drawing needs its digit chosen
    assert "Your digits in the class's set (1 of 200)" in [expander.label for expander in at.expander]
    at.segmented_control(key="draw_class_label").set_value(1)
    at.button(key="draw_class_add").click().run()
    assert "among your digits already" in at.error[0].value
    monkeypatch.setenv("CNN_EXPLORER_MAX_CLASS_DIGITS", "1")
    at.session_state["draw_pixels"] = canvas(ONE)
    at.segmented_control(key="draw_class_label").set_value(1)
    at.button(key="draw_class_add").click().run()
    assert "You have added 1 digits, as many as one person may" in at.error[0].value
    choice = at.multiselect(key="draw_class_delete_choice")
    choice.set_value([choice.options[0]]).run()
    at.button(key="draw_class_delete").click().run()
    assert not page_trouble(at) and len(own_digits(workspace(learner, classroom))) == 0
    assert not any(expander.label.startswith("Your digits") for expander in at.expander)


def test_only_drawings_are_offered_for_the_class(classroom):
    at = draw_page({"learner": new_workspace_id()})
    at.segmented_control(key="draw_source").set_value("sample").run()  # an MNIST sample: nothing to add
    assert not [button for button in at.button if button.key == "draw_class_add"]


def test_a_models_score_on_the_class_digits_shows_beside_its_test_accuracy(two_learners):
    ann, _ = two_learners
    at = draw_page({"learner": ann.id})
    caption = next(caption.value for caption in at.caption if caption.value.startswith("Class digits: "))
    assert " of 3 read right (" in caption
    if (misread := 3 - int(caption.split()[2])) > 0:  # the misread ones, on request
        assert f"Misread digits ({misread}; the first {misread} shown" in " ".join(e.label for e in at.expander)
    at.switch_page("pages/train.py").run()
    models = table(at, "used by Draw")
    assert re.fullmatch(r"[0-3] of 3 \(\d+%\)", models["class digits"][0])  # the chosen (newest) one is tested
    assert any(caption.value.startswith("Class digits: ") for caption in at.caption)


def test_without_classroom_mode_the_learners_own_digits_serve(tmp_path, monkeypatch):
    monkeypatch.delenv("CNN_EXPLORER_CLASSROOM", raising=False)
    monkeypatch.setenv("CNN_EXPLORER_MODELS_DIR", str(tmp_path))
    at = draw_page({})
    assert at.subheader[0].value == "Add to your own test digits"
    at.segmented_control(key="draw_class_label").set_value(7)
    at.button(key="draw_class_add").click().run()
    assert at.success[0].value == "Added as a 7. You have 1 of at most 200 digits."
    tiny_saved_model(tmp_path, "mine", 0.9)
    at.run()
    assert any(caption.value.startswith("Your drawn digits: ") for caption in at.caption)


def test_a_finished_runs_results_show_its_score_on_the_drawn_digits(tmp_path, monkeypatch, fake_server):
    monkeypatch.delenv("CNN_EXPLORER_CLASSROOM", raising=False)
    monkeypatch.setenv("CNN_EXPLORER_MODELS_DIR", str(tmp_path))
    monkeypatch.setenv("CNN_EXPLORER_TRAINER_READY", "0")
    add_digit(workspace(None, tmp_path), canvas(SEVEN), 7)
    at = opened({}, "pages/train.py")
    at.button(key="train_start").click().run()
    deadline = time.monotonic() + 60
    while not any(metric.label.startswith("Test accuracy") for metric in at.metric):
        assert time.monotonic() < deadline, [error.value for error in at.error]
        time.sleep(1)
        at.run()  # the live fragment ticks once per run here
    [saved] = list_models(tmp_path)  # the fake trainer's file is no model: said, not a bug
    assert any(caption.value.startswith("Not tested on the drawn digits: ") for caption in at.caption)
    tiny_saved_model(tmp_path, saved.name, 0.9)  # a real network in its place
    at.run()
    assert any(re.fullmatch(r"Your drawn digits: [01] of 1 read right \(\d+\.\d%\)\.", caption.value)
               for caption in at.caption)
    assert not page_trouble(at)
    shutdown_all()
