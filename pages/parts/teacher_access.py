"""Who may open the teacher's board: a session whose address carried the server's teacher key (``?teacher=KEY``).

The key is checked at every run (``cnnlib.classroom.teacher``: classroom mode, ``CNN_EXPLORER_TEACHER_KEY`` set,
compared in constant time) and written back into the address on every page, as the learner's id is, since Streamlit
drops query parameters when the page changes. Only then does the navigation list the board; a wrong key gets a
sentence and no board.
"""

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from cnnlib.classroom.teacher import check_teacher_key, is_teacher_key
from cnnlib.errors import Refusal
from cnnlib.text import t
from pages.parts.state import TEACHER, TEACHER_REFUSAL

TEACHER_PARAM = "teacher"  # ?teacher=KEY


def settle_teacher() -> None:
    """Check this run's ``?teacher=`` (when the address has one) or the session's key; keep a valid one in the
    address, or the refusal that says why the board stays closed."""
    given = st.query_params.get(TEACHER_PARAM)
    st.session_state[TEACHER_REFUSAL] = None
    if given is not None:
        try:
            check_teacher_key(given)
        except Refusal as refusal:
            st.session_state[TEACHER], st.session_state[TEACHER_REFUSAL] = None, refusal
            return
        st.session_state[TEACHER] = given
    elif not is_teacher_key(st.session_state.get(TEACHER)):  # the server's key changed, or there never was one
        st.session_state[TEACHER] = None
    if (key := st.session_state.get(TEACHER)) and st.query_params.get(TEACHER_PARAM) != key:
        st.query_params[TEACHER_PARAM] = key


def is_teacher() -> bool:
    """Whether this session opened the board with the server's key (checked again now)."""
    return is_teacher_key(st.session_state.get(TEACHER))


def teacher_pages() -> list[StreamlitPage]:
    """The board's page for a teacher's session; nothing for anyone else."""
    if not is_teacher():
        return []
    return [st.Page("pages/teacher.py", title=t("classroom.board.nav"), icon=":material/school:")]


def teacher_notice() -> None:
    """Why a ``?teacher=`` did not open the board, at the top of the page; for the teacher, a word in the sidebar."""
    if (refusal := st.session_state.get(TEACHER_REFUSAL)) is not None:
        st.error(str(refusal), icon=":material/lock:")
    elif is_teacher():
        st.sidebar.caption(t("classroom.teacher.open"))
