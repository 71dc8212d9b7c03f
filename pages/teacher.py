"""The teacher's board: the class at a glance, every learner's best model tested on the class's digits, the digits by
label (remove one), the shared models, the digits to take away as an MNIST file, and a learner's model shared."""

from collections.abc import Callable
from functools import partial

import streamlit as st

from cnnlib.classroom import board
from cnnlib.classroom.digits import Digits, mnist_npz
from cnnlib.classroom.figures import MOST_SHOWN, digits_picture
from cnnlib.classroom.sharing import share_model
from cnnlib.classroom.words import board_digit_option, board_digit_title, model_option
from cnnlib.store.saved import list_models, models_dir
from cnnlib.store.workspace import SHARED_DIR, workspace
from cnnlib.text import t
from pages import cached_mnist, ensure_app_navigation
from pages.parts.class_scores import current_digits, score_of
from pages.parts.errors import explained_errors, explanation
from pages.parts.state import init_page
from pages.parts.teacher_access import is_teacher

ensure_app_navigation()

NOTICE = "teacher_notice"  # (kind, sentence) of the last action: "success" or "error"
init_page({NOTICE: None})


def board_action(action: Callable[[], str]) -> None:
    """A board button's callback: the key checked again, then ``action``; what it says (or why it failed) kept."""
    if not is_teacher():
        st.session_state[NOTICE] = ("error", t("classroom.teacher.closed"))
        return
    try:
        st.session_state[NOTICE] = ("success", action())
    except Exception as error:  # noqa: BLE001 (worded, and a bug logged, by explanation)
        st.session_state[NOTICE] = ("error", explanation(error, files="workspace.not_writable"))


def notice_panel() -> None:
    """What the last action did, once."""
    if notice := st.session_state[NOTICE]:
        getattr(st, notice[0])(notice[1])
        st.session_state[NOTICE] = None


def scores_of(work: list[board.LearnerWork], shared: list, digits: Digits) -> dict:
    """Each learner's best model and each shared model tested on the class's digits, by learner id or model key."""
    with st.spinner(t("classroom.board.scoring")):
        scores = {learner.id: score_of(learner.best, digits) for learner in work if learner.best is not None}
        return scores | {model.key: score_of(model, digits) for model in shared}


def overview_panel(work: list[board.LearnerWork], digits: Digits, shared: list) -> None:
    """How many learners, class digits, models and shared models."""
    counts = (len(work), len(digits), sum(len(learner.models) for learner in work), len(shared))
    for column, name, count in zip(st.columns(4), ("learners", "digits", "models", "shared"), counts):
        column.metric(t(f"classroom.board.metric.{name}"), count)


def learners_panel(work: list[board.LearnerWork], scores: dict) -> None:
    """Every learner's work, and the leaderboard."""
    st.header(t("classroom.board.learners.header"))
    if not work:
        st.info(t("classroom.board.learners.none"))
        return
    st.dataframe(board.learners_table(work, scores), key="teacher_learners", hide_index=True, width="stretch")
    st.subheader(t("classroom.board.leaderboard.header"))
    st.caption(t("classroom.board.leaderboard.caption"))
    if ranked := board.leaderboard(work, scores):
        st.dataframe(ranked, key="teacher_leaderboard", hide_index=True, width="stretch")


def remove_digits(values: list[str], label: int) -> str:
    """Remove the chosen class digits; the sentence that says so."""
    removed = board.remove_class_digits(models_dir(), values)
    st.session_state[f"teacher_remove_{label}"] = []
    return t("classroom.board.digits.removed", count=removed)


def label_panel(digits: Digits, label: int, indices) -> None:
    """One label's class digits, each titled with its number and who drew it, and the ones to remove."""
    values = {board.digit_value(digits, index): (number, index) for number, index in enumerate(indices)}
    key = f"teacher_remove_{label}"
    st.session_state[key] = [value for value in st.session_state.get(key, []) if value in values]
    titles = [board_digit_title(digits, index, number) for number, index in enumerate(indices)]
    st.image(digits_picture(digits.images[indices], titles))
    if len(indices) > MOST_SHOWN:
        st.caption(t("classroom.board.digits.first_shown", shown=MOST_SHOWN, count=len(indices)))
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    chosen = left.multiselect(t("classroom.board.digits.remove_choice"), list(values), key=key,
                              format_func=lambda value: board_digit_option(digits, values[value][1], values[value][0]),
                              placeholder=t("classroom.own.placeholder"))
    right.button(t("classroom.board.digits.remove"), key=f"teacher_remove_button_{label}", icon=":material/delete:",
                 disabled=not chosen, on_click=board_action, args=(partial(remove_digits, chosen, label),))


def digits_panel(digits: Digits) -> None:
    """The class's digits by label, who drew each, and the power to remove them."""
    st.header(t("classroom.board.digits.header"))
    if not len(digits):
        st.info(t("classroom.board.digits.none"))
        return
    labelled = board.by_label(digits)
    tabs = st.tabs([t("classroom.board.digits.tab", digit=label, count=len(found))
                    for label, found in labelled.items()])
    for tab, (label, indices) in zip(tabs, labelled.items()):
        with tab:
            label_panel(digits, label, indices)


def download_panel(digits: Digits) -> None:
    """The class's digits as Keras's mnist.npz: the digits as its test set, the offline training digits to train on."""
    train = cached_mnist("offline")
    st.download_button(t("classroom.board.download.button"), key="teacher_download", icon=":material/download:",
                       data=partial(mnist_npz, digits, train.x_train, train.y_train), file_name="class-digits.npz",
                       mime="application/octet-stream", on_click="ignore", disabled=not len(digits))
    st.caption(t("classroom.board.download.caption", count=len(digits), train=len(train.x_train)))


def shared_panel(shared: list, scores: dict) -> None:
    """The teacher's shared models, each tested on the class's digits."""
    st.header(t("classroom.board.shared.header"))
    if shared:
        st.dataframe(board.shared_table(shared, scores), key="teacher_shared", hide_index=True, width="stretch")
    else:
        st.caption(t("classroom.board.shared.none"))


def share(value: str) -> str:
    """Share the chosen learner's model with the class; the sentence that says under which name."""
    owner, name = board.parse_model_value(value)
    return t("classroom.board.share.shared", name=share_model(workspace(owner, models_dir()), name))


def share_panel(work: list[board.LearnerWork]) -> None:
    """Choose a learner's model and share it with the class (copied into the shared folder)."""
    options = {board.model_value(learner.id, model): model_option(learner.id, model)
               for learner in work for model in learner.models}
    if not options:
        return
    st.subheader(t("classroom.board.share.header"))
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    value = left.selectbox(t("classroom.board.share.choice"), list(options), key="teacher_share_choice",
                           format_func=options.get)
    right.button(t("classroom.board.share.button"), key="teacher_share", icon=":material/share:",
                 on_click=board_action, args=(partial(share, value),), help=t("classroom.board.share.help"))


if not is_teacher():  # never listed then; a stale link or a key changed meanwhile
    st.error(t("classroom.teacher.closed"), icon=":material/lock:")
    st.stop()
st.title(t("classroom.board.title"))
st.markdown(t("classroom.board.intro"))
notice_panel()
with explained_errors():
    class_digits, shared_models = current_digits(), list_models(models_dir() / SHARED_DIR)
    learners = board.class_work(models_dir(), class_digits)
    overview_panel(learners, class_digits, shared_models)
    model_scores = scores_of(learners, shared_models, class_digits)
    learners_panel(learners, model_scores)
    digits_panel(class_digits)
    download_panel(class_digits)
    shared_panel(shared_models, model_scores)
    share_panel(learners)
