"""CNN Explorer: navigation and page config only; each page lives in pages/."""

import streamlit as st

from pages import APP_NAVIGATION_KEY, app_pages

st.set_page_config(page_title="CNN Explorer", page_icon=":material/grid_on:", layout="wide")

navigation = st.navigation(app_pages())
st.session_state[APP_NAVIGATION_KEY] = True
navigation.run()
