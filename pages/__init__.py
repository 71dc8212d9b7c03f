"""What every page shares: the page list, the learner's language and workspace, and the server-wide MNIST cache.

Streamlit's legacy ``pages/`` discovery skips this file, so app.py and the page scripts can both import it.
"""

import functools
import os
from collections.abc import Callable

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from cnnlib import text, uploads
from cnnlib.data import MnistData, load_mnist
from cnnlib.model_exchange import download_bytes
from cnnlib.models_store import (SavedModel, delete_model, list_models, models_dir, models_table, oldest_model,
                                 select_model, selected_model)
from cnnlib.text import t
from cnnlib.workspace import (SINGLE, QuotaFull, Workspace, classroom_mode, is_workspace_id, new_workspace_id,
                              workspace, workspace_id_for_user)

APP_NAVIGATION_KEY = "app_navigation_ran"  # set by app.py on every run
LANGUAGE_KEY, LANGUAGE_SWITCH_KEY = "app_language", "app_language_switch"
LANGUAGE_PARAM, LANGUAGE_ENV = "lang", "CNN_EXPLORER_LANG"
WORKSPACE_KEY, WORKSPACE_PARAM = "app_workspace", "learner"
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


def _language_switched() -> None:
    """Switch callback: the new language for this session (kept apart from the widget, whose state Streamlit drops
    on runs that do not draw it)."""
    st.session_state[LANGUAGE_KEY] = st.session_state[LANGUAGE_SWITCH_KEY]


def language_switch() -> None:
    """한국어 / English in the sidebar; switching reruns the page in the other language and keeps all the rest."""
    st.session_state[LANGUAGE_SWITCH_KEY] = st.session_state[LANGUAGE_KEY]
    st.sidebar.radio(t("common.language_label"), text.LANGUAGES, key=LANGUAGE_SWITCH_KEY, horizontal=True,
                     format_func=lambda code: t(f"common.language.{code}"), on_change=_language_switched)


def _signed_in_identity() -> str | None:
    """The signed-in user's e-mail or subject when the server has Streamlit's sign-in configured, else None."""
    return (st.user.get("email") or st.user.get("sub")) if st.user.get("is_logged_in", False) else None


def _first_workspace_id() -> str:
    """The session's workspace on its first run: the single one, the signed-in user's, the URL's, or a new one."""
    if not classroom_mode():
        return SINGLE
    identity = _signed_in_identity()
    if identity:
        return workspace_id_for_user(identity)
    from_url = st.query_params.get(WORKSPACE_PARAM)
    return from_url if is_workspace_id(from_url) else new_workspace_id()


def settle_workspace() -> None:
    """Choose the session's workspace once and keep its id in the URL (``?learner=…``) across pages and reloads."""
    if WORKSPACE_KEY not in st.session_state:
        st.session_state[WORKSPACE_KEY] = _first_workspace_id()
    learner = st.session_state[WORKSPACE_KEY]
    if learner != SINGLE and not _signed_in_identity() and st.query_params.get(WORKSPACE_PARAM) != learner:
        st.query_params[WORKSPACE_PARAM] = learner


def current_workspace() -> Workspace:
    """This learner's workspace: their models folder and the teacher's shared one."""
    return workspace(st.session_state.get(WORKSPACE_KEY, SINGLE), models_dir())


def workspace_panel() -> None:
    """In classroom mode, the sidebar says whose workspace this is, how to come back, and how to invite others."""
    learner = current_workspace()
    if not learner.private:
        return
    st.sidebar.caption(t("workspace.yours", id=learner.id))
    share = (st.context.url or "").split("?")[0]
    if share:
        st.sidebar.caption(t("workspace.share", url=share))


def act(notice: str, action: Callable, *args) -> None:
    """A callback that changes the learner's workspace: do ``action``; a refusal (a ValueError's sentence) or a
    folder that cannot be written is kept under ``notice`` for ``say`` to show, since a callback cannot draw."""
    try:
        action(*args)
    except ValueError as error:
        st.session_state[notice] = str(error)
    except OSError as error:
        st.session_state[notice] = t("workspace.not_writable", reason=error.strerror or type(error).__name__)


def receive(notice: str, upload_key: str, keep: Callable, target_key: str) -> None:
    """An uploader's callback: ``keep(upload, workspace)`` (see ``cnnlib.uploads``) puts what it kept in
    ``target_key``; a refused file leaves None there and its sentence under ``notice``."""
    st.session_state[target_key] = None
    act(notice, lambda: st.session_state.update({target_key: keep(st.session_state[upload_key], current_workspace())}))


def say(notice: str, where=st) -> None:
    """Show, once, the refusal that ``act`` kept under ``notice``."""
    if message := st.session_state.pop(notice, None):
        where.error(message, icon=":material/error:")


def model_upload(key: str, notice: str, chosen_key: str) -> None:
    """An uploader for the learner's own ``.keras`` model: checked, kept in their workspace, then named under
    ``chosen_key`` (a refusal goes under ``notice``)."""
    st.file_uploader(t("workspace.upload.label"), type=["keras"], key=key, help=t("workspace.upload.help"),
                     on_change=receive, args=(notice, key, uploads.keep_model, chosen_key))


def room_offer(key: str, notice: str) -> None:
    """When the learner's workspace is full: say so, and offer its oldest model for deletion (a button ``key``)."""
    learner = current_workspace()
    try:
        learner.check_room()
    except QuotaFull as full:
        st.warning(str(full), icon=":material/inventory_2:")
        if oldest := oldest_model(learner.models_dir):
            st.button(t("workspace.delete_oldest", name=oldest.name), key=key, on_click=act,
                      args=(notice, delete_model, oldest.name, learner.models_dir))


def model_actions(prefix: str, notice: str, models: list[SavedModel]) -> None:
    """Choose one of ``models`` (the learner's and the teacher's shared ones); use it on the Draw page, take it home,
    or delete it (the learner's own only). Widget keys ``<prefix>_model_choice``, ``_select``, ``_download``,
    ``_delete``; a refusal goes under ``notice``."""
    learner, by_key, choice_key = current_workspace(), {model.key: model for model in models}, f"{prefix}_model_choice"
    if st.session_state.get(choice_key) not in by_key:  # deleted meanwhile, here or in another tab
        st.session_state.pop(choice_key, None)
    choice, use, download, delete = st.columns([3, 1, 1, 1])
    chosen = by_key[choice.selectbox(t("train.models.choice"), list(by_key), key=choice_key,
                                     format_func=lambda key: by_key[key].label, label_visibility="collapsed")]
    use.button(t("train.models.use"), key=f"{prefix}_model_select", icon=":material/draw:", on_click=act,
               args=(notice, select_model, chosen.key, learner.models_dir, learner.shared_dir))
    download.download_button(t("train.models.download"), functools.partial(download_bytes, chosen.path),
                             file_name=f"{chosen.name}.zip", mime="application/zip", on_click="ignore",
                             key=f"{prefix}_model_download", icon=":material/download:",
                             help=t("train.models.download_help"))
    delete.button(t("train.models.delete"), key=f"{prefix}_model_delete", icon=":material/delete:",
                  disabled=chosen.shared, help=t("train.models.delete_help"), on_click=act,
                  args=(notice, delete_model, chosen.name, learner.models_dir))


def saved_models_panel(prefix: str) -> None:
    """Saved models, the learner's and the teacher's shared ones: which one the Draw page uses, take one home, bring
    your own, delete; a full workspace offers its oldest. Widget keys start with ``<prefix>_``."""
    st.subheader(t("train.models.header"))
    notice, folders = f"{prefix}_models_notice", (current_workspace().models_dir, current_workspace().shared_dir)
    room_offer(f"{prefix}_quota_delete", notice)
    say(notice)
    if models := list_models(*folders):
        st.dataframe(models_table(models, selected_model(*folders)), key=f"{prefix}_models_table", hide_index=True,
                     width="stretch",
                     column_config={t("train.models.column.accuracy"): st.column_config.NumberColumn(format="percent")})
        model_actions(prefix, notice, models)
    else:
        st.caption(t("train.models.none"))
    model_upload(f"{prefix}_model_upload", notice, f"{prefix}_model_choice")


def app_pages() -> list[StreamlitPage]:
    """Every page, in the sidebar's order."""
    return [
        st.Page("pages/home.py", title=t("common.nav.home"), icon=":material/home:", default=True),
        st.Page("pages/toy_convolution.py", title=t("common.nav.toy"), icon=":material/grid_on:"),
        st.Page("pages/draw_digit.py", title=t("common.nav.draw"), icon=":material/draw:"),
        st.Page("pages/why_answer.py", title=t("common.nav.why"), icon=":material/psychology_alt:"),
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
