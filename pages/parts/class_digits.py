"""Under the Draw page's canvas: add the drawing to the class's digits (classroom mode) or one's own, saying which
digit it is; see, and delete, the digits one added. Only the canvas's own pixels (``draw_pixels``, checked when the
canvas sent them) can be added: never an MNIST sample or an uploaded photo."""

import streamlit as st

from cnnlib.classroom.digits import add_digit, max_digits, own_digits, remove_digits
from cnnlib.classroom.words import added_text, own_header, own_option, scope
from cnnlib.classroom.figures import digits_picture
from cnnlib.text import t
from pages import current_workspace
from pages.parts.errors import explained_errors, explanation
from pages.parts.saved_models import say

DIGITS = list(range(10))
LABEL, NOTICE, ADDED = "draw_class_label", "draw_class_notice", "draw_class_added"  # the chosen digit; what to say
DELETE_CHOICE = "draw_class_delete_choice"


def _add() -> None:
    """The Add button's callback: the canvas's last drawing with the chosen digit into the learner's set; what
    happened is kept for the panel to say (a callback cannot draw). The next drawing needs its digit chosen again."""
    label = st.session_state.get(LABEL)
    try:
        count = add_digit(current_workspace(), st.session_state.get("draw_pixels"), label)
    except Exception as error:  # noqa: BLE001 (worded, and a bug logged, by explanation)
        st.session_state[NOTICE] = explanation(error, files="workspace.not_writable")
        return
    st.session_state[ADDED] = (int(label), count)
    st.session_state[LABEL] = None


def _delete(uids: list[str]) -> None:
    """The Delete button's callback: the chosen digits out of the learner's set."""
    try:
        remove_digits(current_workspace(), [int(uid, 16) for uid in uids])
    except Exception as error:  # noqa: BLE001 (worded, and a bug logged, by explanation)
        st.session_state[NOTICE] = explanation(error, files="workspace.not_writable")
    st.session_state[DELETE_CHOICE] = []


def add_digit_panel(where) -> None:
    """Which digit the drawing is, and the button that adds it; what the last try did."""
    with where:
        st.subheader(t(f"classroom.add.header.{scope()}"))
        st.segmented_control(t("classroom.add.label"), DIGITS, key=LABEL)
        st.button(t(f"classroom.add.button.{scope()}"), key="draw_class_add", icon=":material/add_circle:",
                  on_click=_add, help=t("classroom.add.help"))
        say(NOTICE)
        if added := st.session_state.pop(ADDED, None):
            st.success(added_text(*added, limit=max_digits()), icon=":material/check_circle:")
        st.caption(t(f"classroom.add.caption.{scope()}"))
        own_digits_panel()


@explained_errors()
def own_digits_panel() -> None:
    """The learner's own digits, each with its number and label, and the digits they choose to delete."""
    digits = own_digits(current_workspace())
    if not len(digits):
        return
    values = {f"{int(uid):x}": index for index, uid in enumerate(digits.uids)}
    st.session_state[DELETE_CHOICE] = [value for value in st.session_state.get(DELETE_CHOICE, []) if value in values]
    with st.expander(own_header(len(digits), max_digits())):
        titles = [own_option(digits, index) for index in range(len(digits))]
        st.image(digits_picture(digits.images, titles, columns=8, tile_px=60))
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        chosen = left.multiselect(t("classroom.own.delete_choice"), list(values), key=DELETE_CHOICE,
                                  format_func=lambda value: titles[values[value]],
                                  placeholder=t("classroom.own.placeholder"))
        right.button(t("classroom.own.delete"), key="draw_class_delete", icon=":material/delete:",
                     disabled=not chosen, on_click=_delete, args=(chosen,))
