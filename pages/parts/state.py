"""The session-state keys that more than one page reads (or app.py and the pages), named once, and each page's start.

A key that one page alone uses starts with that page's prefix (``draw_``, ``why_``, ``train_``, ``toy_``) and is
named in that page; a key that pages share is named here and nowhere else. Every page calls ``init_page`` at its
top, before it draws anything.
"""

from collections.abc import Mapping

import streamlit as st

# app.py and every page (see pages/__init__.py)
NAVIGATION_RAN = "app_navigation_ran"  # set by app.py on every run: the page was opened through the app
LANGUAGE = "app_language"  # "ko" or "en": the language this session reads
LANGUAGE_SWITCH = "app_language_switch"  # the sidebar's language switch (a widget: its state is dropped off-page)
WORKSPACE = "app_workspace"  # the learner's workspace id (cnnlib.store.workspace)
TEACHER = "app_teacher"  # the teacher key this session opened the board with (checked at every run), or None
TEACHER_REFUSAL = "app_teacher_refusal"  # why this run's ?teacher= did not open the board, or None

# Draw a digit -> Why this answer? (and Train's Saved models, which can choose the model)
DIGIT = "digit_image"  # float32 (28, 28) in [0, 1], or None: the Draw page's digit, which the Why page explains
CHOSEN_MODEL = "chosen_model"  # the model the learner chose (its key, ``name`` or ``shared/name``); None: the
#                                workspace's selected one (pages/parts/models.py: chosen_model)

SHARED = {DIGIT: None, CHOSEN_MODEL: None}


def init_page(defaults: Mapping[str, object]) -> None:
    """The shared keys, then this page's ``defaults``: each keeps its value, or takes its default.

    Every key is assigned on every run, not only the first: Streamlit drops a widget's key on a run that does not
    draw that widget (a control hidden until there is a digit), and an assignment keeps it.
    """
    for key, value in {**SHARED, **defaults}.items():
        st.session_state[key] = st.session_state.get(key, value)
