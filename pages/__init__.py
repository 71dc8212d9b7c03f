"""What every page shares: the page list, the learner's language and workspace, and the server-wide MNIST cache.

Streamlit's legacy ``pages/`` discovery skips this file, so app.py and the page scripts can both import it.
"""

import os
from pathlib import Path

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from cnnlib import text
from cnnlib.errors import Refusal
from cnnlib.mnist.data import MnistData, load_mnist
from cnnlib.server.cache import ByteCache, cached_in
from cnnlib.server.limits import mnist_cache_bytes
from cnnlib.store.identity import signed_in_workspace_id
from cnnlib.store.saved import models_dir
from cnnlib.text import t
from cnnlib.store.workspace import SINGLE, Workspace, classroom_mode, is_workspace_id, new_workspace_id, workspace
from pages.parts.state import LANGUAGE, LANGUAGE_SWITCH, NAVIGATION_RAN, WORKSPACE
from pages.parts.teacher_access import settle_teacher, teacher_pages

LANGUAGE_PARAM, LANGUAGE_ENV, WORKSPACE_PARAM = "lang", "CNN_EXPLORER_LANG", "learner"  # ?lang=ko&learner=…
SECRETS_SECTION = "cnn_explorer"  # the app's own part of .streamlit/secrets.toml (beside Streamlit's [auth])
SIGN_IN, SIGN_OUT = "sign_in", "sign_out"  # the buttons' widget keys
MNIST_CACHE = ByteCache(mnist_cache_bytes())  # data sets kept in memory, server-wide: CNN_EXPLORER_MNIST_CACHE_MB


def session_language() -> str:
    """The language this learner's session reads."""
    return st.session_state.get(LANGUAGE, text.ENGLISH)


text.use_language(session_language)


def settle_language() -> None:
    """Choose the session's language on its first run (URL, then server setting, then browser); keep it in the URL.

    Streamlit drops query parameters when the learner moves to another page, so every run writes ``?lang=`` back:
    a reload or a shared link then opens in the same language.
    """
    if LANGUAGE not in st.session_state:
        st.session_state[LANGUAGE] = text.choose_language(
            st.query_params.get(LANGUAGE_PARAM), os.environ.get(LANGUAGE_ENV), st.context.locale)
    if st.query_params.get(LANGUAGE_PARAM) != st.session_state[LANGUAGE]:
        st.query_params[LANGUAGE_PARAM] = st.session_state[LANGUAGE]


def _language_switched() -> None:
    """Switch callback: the new language for this session (kept apart from the widget, whose state Streamlit drops
    on runs that do not draw it)."""
    st.session_state[LANGUAGE] = st.session_state[LANGUAGE_SWITCH]


def language_switch() -> None:
    """한국어 / English in the sidebar; switching reruns the page in the other language and keeps all the rest."""
    st.session_state[LANGUAGE_SWITCH] = st.session_state[LANGUAGE]
    st.sidebar.radio(t("common.language_label"), text.LANGUAGES, key=LANGUAGE_SWITCH, horizontal=True,
                     format_func=lambda code: t(f"common.language.{code}"), on_change=_language_switched)


def sign_in_configured() -> bool:
    """Whether the server has Streamlit's sign-in configured: an ``[auth]`` section in ``.streamlit/secrets.toml``."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:  # no secrets file at all
        return False


def _workspace_secret() -> object:
    """The server's workspace secret, ``[cnn_explorer] workspace_secret`` in ``.streamlit/secrets.toml``."""
    return (st.secrets.get(SECRETS_SECTION) or {}).get("workspace_secret")


def _signed_in_workspace_id() -> str:
    """The signed-in learner's workspace id (``cnnlib.store.identity``); without a usable sign-in, the sign-in
    offer or the sentence that says why, and the page stops there."""
    if not st.user.get("is_logged_in", False):
        st.info(t("sign_in.prompt"))
        st.button(t("sign_in.button"), key=SIGN_IN, icon=":material/login:", on_click=st.login)
        st.stop()
    try:
        learner = signed_in_workspace_id(st.user.to_dict(), _workspace_secret())
    except Refusal as refusal:
        st.error(str(refusal))
        st.button(t("sign_in.sign_out"), key=SIGN_OUT, on_click=st.logout)
        st.stop()
    return learner if classroom_mode() else SINGLE


def _first_workspace_id() -> str:
    """The session's workspace on its first run without sign-in: the single one, the URL's, or a new one."""
    if not classroom_mode():
        return SINGLE
    from_url = st.query_params.get(WORKSPACE_PARAM)
    return from_url if is_workspace_id(from_url) else new_workspace_id()


def settle_workspace() -> None:
    """Choose the session's workspace: with sign-in configured, the signed-in learner's at every run (``?learner=``
    ignored); otherwise once per session, its id kept in the URL (``?learner=…``) across pages and reloads."""
    if sign_in_configured():
        st.session_state[WORKSPACE] = _signed_in_workspace_id()
        st.query_params.pop(WORKSPACE_PARAM, None)
        return
    if WORKSPACE not in st.session_state:
        st.session_state[WORKSPACE] = _first_workspace_id()
    learner = st.session_state[WORKSPACE]
    if learner != SINGLE and st.query_params.get(WORKSPACE_PARAM) != learner:
        st.query_params[WORKSPACE_PARAM] = learner


def current_workspace() -> Workspace:
    """This learner's workspace: their models folder and the teacher's shared one."""
    return workspace(st.session_state.get(WORKSPACE, SINGLE), models_dir())


def workspace_folders() -> tuple[Path, Path]:
    """Where this learner's models are: their own folder, then the teacher's shared one."""
    learner = current_workspace()
    return learner.models_dir, learner.shared_dir


def workspace_panel() -> None:
    """The sidebar says who is signed in (when sign-in is configured), or, in classroom mode, whose workspace this
    is, how to come back, and how to invite others."""
    if sign_in_configured():
        who = st.user.get("name") or st.user.get("email") or st.user.get("sub")
        st.sidebar.caption(t("sign_in.signed_in", name=who))
        st.sidebar.button(t("sign_in.sign_out"), key=SIGN_OUT, icon=":material/logout:", on_click=st.logout)
        return
    learner = current_workspace()
    if not learner.private:
        return
    st.sidebar.caption(t("workspace.yours", id=learner.id))
    share = (st.context.url or "").split("?")[0]
    if share:
        st.sidebar.caption(t("workspace.share", url=share))


def app_pages() -> list[StreamlitPage]:
    """Every page, in the sidebar's order."""
    return [
        st.Page("pages/home.py", title=t("common.nav.home"), icon=":material/home:", default=True),
        st.Page("pages/toy_convolution.py", title=t("common.nav.toy"), icon=":material/grid_on:"),
        st.Page("pages/draw_digit.py", title=t("common.nav.draw"), icon=":material/draw:"),
        st.Page("pages/why_answer.py", title=t("common.nav.why"), icon=":material/psychology_alt:"),
        st.Page("pages/learned.py", title=t("common.nav.learned"), icon=":material/insights:"),
        st.Page("pages/train.py", title=t("common.nav.train"), icon=":material/model_training:"),
    ] + teacher_pages()  # the teacher's board, for a session that opened it with the key only


def ensure_app_navigation() -> None:
    """Hand this page to app.py's navigation if Streamlit ran it as a legacy ``pages/`` page.

    Until some session on a server has run ``st.navigation``, Streamlit treats a ``pages/`` folder beside app.py as
    a legacy multipage app: the first visitor to a page's URL after a server start (a bookmark, a tab reconnecting
    after a restart) would get this page alone, without app.py's page config, under a sidebar of raw file names.
    Calling ``st.navigation`` switches the whole server to the app's pages; the rerun opens this page through app.py.
    """
    if NAVIGATION_RAN not in st.session_state:
        settle_teacher()  # a teacher's first visit after a server start: the board must be among the pages
        st.navigation(app_pages(), position="hidden")
        st.rerun()


def mnist_bytes(data: MnistData) -> int:
    """What a data set holds in memory: its images and labels."""
    return sum(array.nbytes for array in (data.x_train, data.y_train, data.x_test, data.y_test))


@cached_in(MNIST_CACHE, mnist_bytes)
def _cached_mnist(source: str, npz_path: str | None) -> MnistData:
    """MNIST from one source, loaded once per server while it fits in ``MNIST_CACHE`` (default 512 MB)."""
    return load_mnist(source, npz_path)


def cached_mnist(source: str = "auto", npz_path: str | None = None) -> MnistData:
    """MNIST from ``source`` (see ``cnnlib.mnist.data``), shared by every page and session; Refusal or OSError if it
    cannot be had (pages/parts/errors.py words either)."""
    with st.spinner(t("common.loading_mnist")):
        return _cached_mnist(source, npz_path or None)
