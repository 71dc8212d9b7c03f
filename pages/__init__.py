"""What every page shares: the page list, the learner's language, and the server-wide MNIST cache.

Streamlit's legacy ``pages/`` discovery skips this file, so app.py and the page scripts can both import it.
"""

import os

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from cnnlib import text
from cnnlib.data import MnistData, load_mnist
from cnnlib.text import t

APP_NAVIGATION_KEY = "app_navigation_ran"  # set by app.py on every run
LANGUAGE_KEY = "app_language"  # also the sidebar switch's widget key
LANGUAGE_PARAM, LANGUAGE_ENV = "lang", "CNN_EXPLORER_LANG"
MNIST_CACHE_ENTRIES = 4  # sources or files kept in memory at once, server-wide


def session_language() -> str:
    """The language this learner's session reads."""
    return st.session_state.get(LANGUAGE_KEY, text.ENGLISH)


text.use_language(session_language)


def settle_language() -> None:
    """Choose the session's language on its first run (URL, then server setting, then browser); keep it in the URL.

    Streamlit drops query parameters when the learner moves to another page, so every run writes ``?lang=`` back:
    a reload or a shared link then opens in the same language.
    """
    if LANGUAGE_KEY not in st.session_state:
        st.session_state[LANGUAGE_KEY] = text.choose_language(
            st.query_params.get(LANGUAGE_PARAM), os.environ.get(LANGUAGE_ENV), st.context.locale)
    if st.query_params.get(LANGUAGE_PARAM) != st.session_state[LANGUAGE_KEY]:
        st.query_params[LANGUAGE_PARAM] = st.session_state[LANGUAGE_KEY]


def language_switch() -> None:
    """한국어 / English in the sidebar; switching reruns the page in the other language and keeps all the rest."""
    st.sidebar.radio(t("common.language_label"), text.LANGUAGES, key=LANGUAGE_KEY, horizontal=True,
                     format_func=lambda code: t(f"common.language.{code}"))


def app_pages() -> list[StreamlitPage]:
    """Every page, in the sidebar's order."""
    return [
        st.Page("pages/home.py", title=t("common.nav.home"), icon=":material/home:", default=True),
        st.Page("pages/toy_convolution.py", title=t("common.nav.toy"), icon=":material/grid_on:"),
        st.Page("pages/draw_digit.py", title=t("common.nav.draw"), icon=":material/draw:"),
        st.Page("pages/train.py", title=t("common.nav.train"), icon=":material/model_training:"),
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


@st.cache_resource(show_spinner=False, max_entries=MNIST_CACHE_ENTRIES)
def _cached_mnist(source: str, npz_path: str | None) -> MnistData:
    """MNIST from one source, loaded once per server."""
    return load_mnist(source, npz_path)


def cached_mnist(source: str = "auto", npz_path: str | None = None) -> MnistData:
    """MNIST from ``source`` (see ``cnnlib.data``), shared by every page and session; ValueError/OSError if it fails."""
    with st.spinner(t("common.loading_mnist")):
        return _cached_mnist(source, npz_path or None)
