"""The app's pages, shared by app.py and the page scripts. Streamlit's legacy ``pages/`` discovery skips this file."""

import streamlit as st
from streamlit.navigation.page import StreamlitPage

APP_NAVIGATION_KEY = "app_navigation_ran"  # set by app.py on every run


def app_pages() -> list[StreamlitPage]:
    """Every page, in the sidebar's order."""
    return [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/toy_convolution.py", title="Toy convolution", icon=":material/grid_on:"),
        st.Page("pages/draw_digit.py", title="Draw a digit", icon=":material/draw:"),
        st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    ]


def ensure_app_navigation() -> None:
    """Hand this page to app.py's navigation if Streamlit ran it as a legacy ``pages/`` page.

    Until some session on a server has run ``st.navigation``, Streamlit treats a ``pages/`` folder beside app.py as
    a legacy multipage app: the first visitor to a page's URL after a server start (a bookmark, a tab reconnecting
    after a restart) would get this page alone, without app.py's page config, under a sidebar of raw file names.
    Calling ``st.navigation`` switches the whole server to the app's pages; the rerun opens this page through app.py.
    """
    if APP_NAVIGATION_KEY not in st.session_state:
        st.navigation(app_pages(), position="hidden")
        st.rerun()
