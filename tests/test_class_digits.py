"""The class's own digits in cnnlib: kept in a learner's workspace within its quota and a cap, gathered for the class,
exported as an MNIST file the app itself accepts, scored per model with each digit asked once, the teacher's key,
a model shared with the class, and the board's tables."""

import hashlib
import io
import json
import os
import zipfile

import numpy as np
import pytest
from PIL import Image, ImageDraw

from cnnlib.classroom import board, digits as class_digits_module, teacher
from cnnlib.classroom.digits import (DIGITS_FILE, DRAWING_SIDE, Digits, add_digit, class_digits, digits_version,
                                     mnist_npz, own_digits, read_digits, remove_digits)
from cnnlib.classroom.scores import ClassScore, Predictions, known_score, model_score
from cnnlib.classroom.sharing import share_model
from cnnlib.errors import Refusal
from cnnlib.mnist.data import npz_from_upload
from cnnlib.server.cache import ByteCache
from cnnlib.store.saved import SavedModel, list_models
from cnnlib.store.workspace import QuotaFull, new_workspace_id, usage, workspace

SEVEN = [(70, 56), (210, 56), (126, 238)]
ONE = [(140, 40), (140, 240)]
FOUR = [(90, 40), (70, 150), (200, 150), (170, 60), (170, 240)]


def canvas(points, width: int = 18) -> np.ndarray:
    """The Draw page's canvas after a stroke through ``points``: (280, 280, 4) uint8, white ink on black."""
    picture = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    ImageDraw.Draw(picture).line(points, fill=(255, 255, 255, 255), width=width)
    return np.asarray(picture)


@pytest.fixture
def classroom(tmp_path, monkeypatch):
    """Classroom mode with its models folder; returns the folder."""
    monkeypatch.setenv("CNN_EXPLORER_CLASSROOM", "1")
    monkeypatch.delenv("CNN_EXPLORER_MAX_CLASS_DIGITS", raising=False)
    return tmp_path


def test_a_drawing_is_kept_as_the_prepared_digit_and_a_halved_drawing_counted_in_the_quota(classroom):
    learner = workspace(new_workspace_id(), classroom)
    assert not learner.models_dir.exists()  # made by the first thing stored, like a model
    assert add_digit(learner, canvas(SEVEN), 7) == 1 and add_digit(learner, canvas(ONE), np.int64(1)) == 2
    stored = read_digits(learner.models_dir / DIGITS_FILE)
    assert stored["labels"].tolist() == [7, 1] and stored["images"].shape == (2, 28, 28)
    assert stored["images"].dtype == np.uint8 and stored["images"].max() == 255
    assert stored["drawings"].shape == (2, DRAWING_SIDE, DRAWING_SIDE) and stored["drawings"][0, 28, 35:105].min() > 200
    assert len(set(stored["uids"].tolist())) == 2 and stored["added"].min() > 1.7e9
    mine = own_digits(learner)
    assert mine.labels.tolist() == [7, 1] and mine.owners == (learner.id,) * 2
    assert usage(learner.models_dir).bytes == (learner.models_dir / DIGITS_FILE).stat().st_size < 8_000
    assert usage(learner.models_dir).models == 0  # digits are not models


@pytest.mark.parametrize(("pixels", "label", "key"), [
    (canvas(SEVEN), None, "classroom.digits.no_label"), (canvas(SEVEN), True, "classroom.digits.bad_label"),
    (canvas(SEVEN), "7", "classroom.digits.bad_label"), (canvas(SEVEN), 10, "classroom.digits.bad_label"),
    (canvas(SEVEN), -1, "classroom.digits.bad_label"), (canvas(SEVEN), 7.0, "classroom.digits.bad_label"),
    (None, 7, "classroom.digits.not_a_drawing"),  # nothing drawn yet
    (np.zeros((28, 28), np.uint8), 7, "classroom.digits.not_a_drawing"),  # an MNIST sample is not a drawing
    (canvas(SEVEN).astype(np.float32), 7, "classroom.digits.not_a_drawing"),
    (np.zeros((560, 560, 4), np.uint8), 7, "classroom.digits.not_a_drawing"),
    (np.asarray(Image.new("RGBA", (280, 280), (0, 0, 0, 255))), 7, "classroom.digits.blank"),
])
def test_only_a_drawing_with_a_digit_0_to_9_is_added(classroom, pixels, label, key):
    learner = workspace(new_workspace_id(), classroom)
    with pytest.raises(Refusal) as refused:
        add_digit(learner, pixels, label)
    assert refused.value.key == key and str(refused.value)
    assert not learner.models_dir.exists()  # refused before anything was made


def test_the_same_drawing_twice_and_more_than_the_cap_are_refused_with_sentences(classroom, monkeypatch):
    monkeypatch.setenv("CNN_EXPLORER_MAX_CLASS_DIGITS", "2")
    learner = workspace(new_workspace_id(), classroom)
    add_digit(learner, canvas(SEVEN), 7)
    with pytest.raises(Refusal, match="among your digits already"):
        add_digit(learner, canvas(SEVEN), 1)
    add_digit(learner, canvas(ONE), 1)
    with pytest.raises(Refusal, match="You have added 2 digits, as many as one person may"):
        add_digit(learner, canvas(FOUR), 4)
    assert own_digits(learner).labels.tolist() == [7, 1]
    monkeypatch.setenv("CNN_EXPLORER_MAX_CLASS_DIGITS", "100000")
    assert class_digits_module.max_digits() == class_digits_module.HARD_MAX_DIGITS


def test_tabs_adding_at_once_lose_no_digit(classroom):
    import threading

    learner = workspace(new_workspace_id(), classroom)
    strokes = [[(40 + 20 * number, 40), (140, 240)] for number in range(8)]  # eight different drawings
    threads = [threading.Thread(target=add_digit, args=(learner, canvas(stroke), number))
               for number, stroke in enumerate(strokes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(own_digits(learner).labels.tolist()) == list(range(8))  # each add read the file the last one wrote


def test_a_full_workspace_refuses_a_digit_and_leaves_no_folder(classroom, monkeypatch):
    monkeypatch.setenv("CNN_EXPLORER_QUOTA_MB", "0.001")  # 1,048 bytes: less than one digit's file
    learner = workspace(new_workspace_id(), classroom)
    with pytest.raises(QuotaFull, match="MB"):
        add_digit(learner, canvas(SEVEN), 7)
    assert not learner.models_dir.exists()


def test_digits_are_removed_by_id_and_a_second_removal_says_they_are_gone(classroom):
    learner = workspace(new_workspace_id(), classroom)
    with pytest.raises(Refusal, match="gone already"):
        remove_digits(learner, [1])
    for points, label in ((SEVEN, 7), (ONE, 1), (FOUR, 4)):
        add_digit(learner, canvas(points), label)
    first, _, last = own_digits(learner).uids.tolist()
    assert remove_digits(learner, [first, last, 12345]) == 2 and own_digits(learner).labels.tolist() == [1]
    with pytest.raises(Refusal, match="gone already"):
        remove_digits(learner, [first])
    remove_digits(learner, own_digits(learner).uids.tolist())
    assert not (learner.models_dir / DIGITS_FILE).exists() and len(own_digits(learner)) == 0


def test_the_class_set_holds_every_learners_digits_and_its_version_follows_them(classroom):
    ann, ben = (workspace(new_workspace_id(), classroom) for _ in range(2))
    empty = class_digits(classroom)
    assert len(empty) == 0 and empty.images.shape == (0, 28, 28)
    add_digit(ann, canvas(SEVEN), 7)
    one = digits_version(classroom)
    add_digit(ben, canvas(ONE), 1)
    add_digit(ben, canvas(FOUR), 4)
    both = class_digits(classroom)
    assert both.version == digits_version(classroom) != one != empty.version
    assert sorted(zip(both.owners, both.labels.tolist())) == sorted([(ann.id, 7), (ben.id, 1), (ben.id, 4)])
    remove_digits(ben, [int(own_digits(ben).uids[0])])
    assert digits_version(classroom) not in (both.version, one) and len(class_digits(classroom)) == 2
    (ann.models_dir / DIGITS_FILE).write_bytes(b"not an npz")  # a damaged file is left out, the rest still counts
    assert class_digits(classroom).owners == (ben.id,)
    (classroom / "learners" / "not-an-id").mkdir()
    assert len(class_digits(classroom)) == 1


def test_without_classroom_mode_the_single_workspaces_digits_are_the_set(tmp_path, monkeypatch):
    monkeypatch.delenv("CNN_EXPLORER_CLASSROOM", raising=False)
    single = workspace(None, tmp_path)
    add_digit(single, canvas(SEVEN), 7)
    assert (tmp_path / DIGITS_FILE).is_file() and class_digits(tmp_path).labels.tolist() == [7]


@pytest.mark.parametrize("damage", ["extra member", "declared too big", "wrong dtype", "pickled"])
def test_a_digits_file_is_checked_before_it_is_read(tmp_path, damage):
    arrays = {name: class_digits_module.empty(name) for name in class_digits_module.MEMBERS}
    if damage == "extra member":
        arrays["more"] = np.zeros(3)
    elif damage == "wrong dtype":
        arrays["labels"] = np.zeros(0, np.int64)
    elif damage == "pickled":
        arrays["labels"] = np.array([{}], object)
    path = tmp_path / DIGITS_FILE
    np.savez(path, **arrays)
    if damage == "declared too big":  # the right members, one declaring more than any digits file may hold
        with zipfile.ZipFile(path, "w") as archive:
            for name in class_digits_module.MEMBERS:
                payload = b"\0" * (class_digits_module.MAX_UNPACKED_BYTES if name == "drawings" else 1)
                archive.writestr(f"{name}.npy", payload, zipfile.ZIP_DEFLATED)
    with pytest.raises(Refusal, match="could not be read"):
        read_digits(path)


def test_the_download_round_trips_through_the_apps_own_npz_checks(classroom, offline_mnist):
    learner = workspace(new_workspace_id(), classroom)
    for points, label in ((SEVEN, 7), (ONE, 1), (FOUR, 4)):
        add_digit(learner, canvas(points), label)
    digits = class_digits(classroom)
    data = mnist_npz(digits, offline_mnist.x_train, offline_mnist.y_train)
    checked = npz_from_upload(data, "class-digits.npz")  # what the Train page's upload does with it
    assert np.array_equal(checked.x_test, digits.images) and checked.y_test.tolist() == [7, 1, 4]
    assert np.array_equal(checked.x_train, offline_mnist.x_train) and len(checked.y_train) == 4000
    with np.load(io.BytesIO(data)) as raw:
        assert sorted(raw.files) == ["x_test", "x_train", "y_test", "y_train"]
        assert raw["x_test"].dtype == raw["y_test"].dtype == np.uint8 and raw["x_test"].shape == (3, 28, 28)
    with pytest.raises(Refusal, match="no digits to download"):
        mnist_npz(class_digits(classroom / "nobody"), offline_mnist.x_train, offline_mnist.y_train)


class AnswersByInk:
    """A stand-in for a Keras model: says 1 for a digit with little ink, else 7; counts the digits it was asked."""

    input_shape = (None, 28, 28, 1)

    def __init__(self) -> None:
        self.asked = 0

    def __call__(self, batch: np.ndarray, training: bool = False) -> np.ndarray:
        assert not training and batch.shape[1:] == (28, 28, 1) and batch.dtype == np.float32 and batch.max() <= 1
        self.asked += len(batch)
        answers = np.where(batch.reshape(len(batch), -1).mean(axis=1) < 0.1, 1, 7)
        return np.eye(10, dtype=np.float32)[answers]


def some_digits(labels, uids) -> Digits:
    """Digits with these labels and ids: a thin vertical bar for a 1, a filled block for anything else."""
    images = np.zeros((len(labels), 28, 28), np.uint8)
    for image, label in zip(images, labels):
        image[4:24, 13:15] = 255
        if label != 1:
            image[4:24, 6:22] = 255
    return Digits(np.array(uids, np.uint64), np.array(labels, np.uint8), images, ("a",) * len(labels), "v")


def test_each_digit_is_asked_once_per_model_file_and_the_score_names_the_misread():
    book, model = ByteCache(2**20), AnswersByInk()
    load = lambda: model  # noqa: E731
    first = some_digits([1, 7, 4], [30, 10, 20])
    assert known_score(book, "m.keras", 1.0, first) is None  # never asked: not worked out by a look-up
    score = model_score(book, "m.keras", 1.0, first, load)
    assert score == ClassScore(correct=2, total=3, misread=((2, 4, 7),)) and score.accuracy == pytest.approx(2 / 3)
    assert known_score(book, "m.keras", 1.0, first) == score and model.asked == 3
    more = some_digits([1, 7, 4, 1], [30, 10, 20, 40])  # one digit added: one more answer
    assert model_score(book, "m.keras", 1.0, more, load).correct == 3 and model.asked == 4
    assert model_score(book, "m.keras", 1.0, more.where(np.array([1, 3])), load).total == 2 and model.asked == 4
    assert model_score(book, "m.keras", 2.0, first, load).total == 3 and model.asked == 7  # saved again: asked again
    assert model_score(book, "m.keras", 1.0, some_digits([], []), load) is None
    refusal = Refusal("models.error.missing_file", file="gone.keras")
    assert model_score(book, "gone.keras", 1.0, first, lambda: refusal) is refusal


def test_kept_answers_are_looked_up_by_id_and_merged():
    kept = Predictions.none().merged(np.array([5, 1], np.uint64), np.array([3, 4]))
    assert kept.uids.tolist() == [1, 5] and kept.lookup(np.array([5, 2, 1], np.uint64)).tolist() == [3, -1, 4]
    assert kept.merged(np.array([5], np.uint64), np.array([9])).lookup(np.array([5], np.uint64)).tolist() == [9]
    assert Predictions.none().lookup(np.array([1], np.uint64)).tolist() == [-1]


def test_a_byte_cache_can_be_read_without_making_and_an_entry_replaced():
    cache = ByteCache(max_bytes=100)
    assert cache.peek("a") is None
    cache.put("a", "x", 40)
    cache.put("a", "y", 60)  # replaced: its old size no longer counts
    assert cache.peek("a") == "y" and cache.bytes == 60 and len(cache) == 1
    cache.put("b", "z", 50)  # a is the least recently used: dropped
    assert cache.peek("a") is None and cache.bytes == 50


def test_a_real_network_is_scored_on_drawn_digits(classroom, small_trained_model):
    learner = workspace(new_workspace_id(), classroom)
    for points, label in ((SEVEN, 7), (ONE, 1)):
        add_digit(learner, canvas(points), label)
    score = model_score(ByteCache(2**20), "small.keras", 1.0, class_digits(classroom), lambda: small_trained_model)
    assert score.total == 2 and score.correct + len(score.misread) == 2


@pytest.mark.parametrize(("classroom_on", "server_key", "given", "key"), [
    (False, "a-long-teacher-key", "a-long-teacher-key", "classroom.teacher.no_board"),
    (True, None, "anything", "classroom.teacher.no_board"),
    (True, "short", "short", "classroom.teacher.short_server_key"),
    (True, "a-long-teacher-key", "a-long-teacher-kez", "classroom.teacher.wrong_key"),
    (True, "a-long-teacher-key", "", "classroom.teacher.wrong_key"),
    (True, "a-long-teacher-key", ["a-long-teacher-key"], "classroom.teacher.wrong_key"),
    (True, "a-long-teacher-key", "a-long-teacher-key" * 100, "classroom.teacher.wrong_key"),
    (True, "a-long-teacher-key", "a-long-teacher-key", None),
])
def test_the_board_opens_for_the_servers_key_only(monkeypatch, classroom_on, server_key, given, key):
    monkeypatch.setenv("CNN_EXPLORER_CLASSROOM", "1" if classroom_on else "0")
    if server_key is None:
        monkeypatch.delenv("CNN_EXPLORER_TEACHER_KEY", raising=False)
    else:
        monkeypatch.setenv("CNN_EXPLORER_TEACHER_KEY", server_key)
    if key is None:
        teacher.check_teacher_key(given)
        assert teacher.is_teacher_key(given)
        return
    with pytest.raises(Refusal) as refused:
        teacher.check_teacher_key(given)
    assert refused.value.key == key and not teacher.is_teacher_key(given)
    assert server_key is None or server_key not in str(refused.value)  # a sentence never shows the key


def test_keys_are_compared_in_constant_time_as_digests(monkeypatch):
    monkeypatch.setenv("CNN_EXPLORER_CLASSROOM", "1")
    monkeypatch.setenv("CNN_EXPLORER_TEACHER_KEY", "a-long-teacher-key")
    compared = []
    monkeypatch.setattr(teacher.hmac, "compare_digest", lambda a, b: compared.append((a, b)) or a == b)
    assert not teacher.is_teacher_key("x")
    assert compared == [(hashlib.sha256(b"x").digest(), hashlib.sha256(b"a-long-teacher-key").digest())]


def tiny_saved_model(folder, name: str, accuracy: float | None, layers: str = "") -> SavedModel:
    """A small untrained network saved with a card and snapshots, as the trainer leaves one."""
    import keras

    from cnnlib.network.architecture import Hyperparameters, build_model
    from cnnlib.store.saved import save_model

    model = build_model(Hyperparameters(conv1_filters=4, conv2_filters=4, dense_units=8, layers=layers))
    card = {"hyperparameters": Hyperparameters(layers=layers).to_dict(), "epochs_completed": 2}
    saved = save_model(model, name, card | ({} if accuracy is None else {"test_accuracy": accuracy}), folder)
    (folder / f"{name}.epochs.npz").write_bytes(b"snapshots")
    keras.backend.clear_session()
    return saved


def test_a_learners_model_is_shared_with_its_card_and_snapshots_but_not_whose_it_was(classroom):
    learner = workspace(new_workspace_id(), classroom)
    learner.models_dir.mkdir(parents=True)
    tiny_saved_model(learner.models_dir, "mine", 0.9)
    assert share_model(learner, "mine") == "mine" and share_model(learner, "mine") == "mine-2"
    shared = classroom / "shared"
    assert sorted(path.name for path in shared.iterdir()) == [
        "mine-2.epochs.npz", "mine-2.json", "mine-2.keras", "mine.epochs.npz", "mine.json", "mine.keras"]
    card = json.loads((shared / "mine.json").read_text())
    assert card["test_accuracy"] == 0.9 and "shared_with_class" in card and learner.id not in json.dumps(card)
    assert (shared / "mine.keras").read_bytes() == (learner.models_dir / "mine.keras").read_bytes()
    assert [model.key for model in list_models(learner.models_dir, shared)][1:] == ["shared/mine-2", "shared/mine"]
    with pytest.raises(Refusal, match="no saved model named .gone."):
        share_model(learner, "gone")
    (learner.models_dir / "broken.keras").write_bytes(b"not a zip")
    with pytest.raises(Refusal, match="broken.keras"):
        share_model(learner, "broken")
    assert not (shared / "broken.keras").exists()


def test_the_boards_tables_rank_learners_by_the_class_digits_then_test_accuracy(classroom):
    ann, ben, cat = (workspace(new_workspace_id(), classroom) for _ in range(3))
    for learner in (ann, ben, cat):
        learner.models_dir.mkdir(parents=True)
    tiny_saved_model(ann.models_dir, "ann-old", 0.95)
    tiny_saved_model(ann.models_dir, "ann-new", 0.90, layers="conv:4:3,pool:2,dense:8")
    tiny_saved_model(ben.models_dir, "ben", 0.97)
    add_digit(cat, canvas(SEVEN), 7)
    digits = class_digits(classroom)
    work = {learner.id: learner for learner in board.class_work(classroom, digits)}
    assert work[ann.id].best.name == "ann-old" and work[cat.id].best is None and work[cat.id].drawn == 1
    scores = {ann.id: ClassScore(1, 1, ()), ben.id: ClassScore(0, 1, ((0, 7, 1),))}
    ranked = board.leaderboard(list(work.values()), scores)
    assert [(row["rank"], row["learner"], row["class digits"]) for row in ranked] == [
        (1, ann.id, "1 of 1 (100%)"), (2, ben.id, "0 of 1 (0%)")]
    rows = {row["learner"]: row for row in board.learners_table(list(work.values()), scores)}
    assert rows[ann.id]["models"] == 2 and rows[ann.id]["best test accuracy"] == "95.00%"
    recipe = "tutorial's network, lr 0.002, batch 64, 2 epoch(s)"
    assert rows[ann.id]["its recipe or design"] == recipe
    assert rows[cat.id]["class digits"] == "–" and rows[cat.id]["digits drawn"] == 1
    assert "conv:4:3,pool:2,dense:8" in board.recipe_text(next(m for m in work[ann.id].models if m.name == "ann-new"))


def test_the_board_removes_only_digits_it_offered(classroom):
    ann, ben = (workspace(new_workspace_id(), classroom) for _ in range(2))
    add_digit(ann, canvas(SEVEN), 7)
    add_digit(ben, canvas(ONE), 1)
    add_digit(ben, canvas(FOUR), 4)
    digits = class_digits(classroom)
    chosen = [board.digit_value(digits, index) for index in range(len(digits)) if digits.labels[index] != 4]
    assert board.remove_class_digits(classroom, chosen) == 2
    assert class_digits(classroom).labels.tolist() == [4]
    with pytest.raises(Refusal, match="gone already"):
        board.remove_class_digits(classroom, chosen)
    for forged in ("../../etc:1", f"{ann.id}:zz", f"{ann.id}:" + "f" * 17, "nothing"):
        with pytest.raises(Refusal):
            board.remove_class_digits(classroom, [forged])
    with pytest.raises(Refusal):
        board.parse_model_value("../x/model")
    assert os.listdir(classroom / "learners") and board.parse_model_value(f"{ann.id}/m") == (ann.id, "m")


def test_the_digits_are_one_small_png_with_a_title_over_each():
    from cnnlib.classroom.figures import MOST_SHOWN, digits_picture

    images = np.zeros((12, 28, 28), np.uint8)
    images[:, 4:24, 13:15] = 255
    png = digits_picture(images, [f"#{number}: 1" for number in range(12)], columns=10, tile_px=70)
    picture = np.asarray(Image.open(io.BytesIO(png)))
    assert png.startswith(b"\x89PNG") and 680 <= picture.shape[1] <= 700 and len(png) < 8_000  # 10 tiles of 70 px
    assert (picture[:20, :70] < 100).any()  # the first title's letters, dark on the title band
    assert (picture[30:80, 30:40] < 50).all(axis=-1).any()  # the first digit's ink: black, as MNIST's Greys draw it
    many = digits_picture(np.zeros((MOST_SHOWN + 50, 28, 28), np.uint8), ["x"] * (MOST_SHOWN + 50))
    assert np.asarray(Image.open(io.BytesIO(many))).shape[0] < 4_500  # only the first MOST_SHOWN are drawn
