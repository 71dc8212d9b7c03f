"""CNN Explorer: page config, the learner's language and workspace, the teacher's key, and navigation; each page
lives in pages/."""

import streamlit as st

from cnnlib.server.heap import freeze_imported_objects
from cnnlib.text import t
from pages import app_pages, language_switch, settle_language, settle_workspace, workspace_panel
from pages.parts.state import NAVIGATION_RAN
from pages.parts.teacher_access import settle_teacher, teacher_notice

settle_language()
settle_workspace()
settle_teacher()
st.set_page_config(page_title=t("common.app_title"), page_icon=":material/grid_on:", layout="wide")
navigation = st.navigation(app_pages())
language_switch()
workspace_panel()
teacher_notice()
st.session_state[NAVIGATION_RAN] = True
navigation.run()
freeze_imported_objects()  # the collections Streamlit runs after each rerun then skip TensorFlow's objects
