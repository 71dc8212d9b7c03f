"""CNN Explorer: page config, the learner's language and navigation only; each page lives in pages/."""

import streamlit as st

from cnnlib.text import t
from pages import APP_NAVIGATION_KEY, app_pages, language_switch, settle_language

settle_language()
st.set_page_config(page_title=t("common.app_title"), page_icon=":material/grid_on:", layout="wide")
navigation = st.navigation(app_pages())
language_switch()
st.session_state[APP_NAVIGATION_KEY] = True
navigation.run()
