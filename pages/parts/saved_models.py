"""The Saved models panel and the upload helpers the Train and Draw pages share: act, receive, say, model_upload."""

import functools
from collections.abc import Callable

import streamlit as st

from cnnlib.store import uploads
from cnnlib.store.exchange import download_bytes
from cnnlib.store.saved import (SavedModel, delete_model, list_models, models_table, oldest_model, select_model,
                                 selected_model)
from cnnlib.store.workspace import QuotaFull, Workspace
from cnnlib.text import t
from cnnlib.training.designer import network_caption
from pages import current_workspace, workspace_folders
from pages.parts.class_scores import score_panel, with_scores
from pages.parts.errors import explanation
from pages.parts.state import CHOSEN_MODEL


def act(notice: str, action: Callable, *args) -> None:
    """A callback that changes the learner's workspace: do ``action``; what stops it (a refusal, a folder that
    cannot be written, a bug: see ``explanation``) is kept under ``notice`` for ``say`` to show, since a callback
    cannot draw."""
    try:
        action(*args)
    except Exception as error:  # noqa: BLE001 (worded, and a bug logged, by explanation)
        st.session_state[notice] = explanation(error, files="workspace.not_writable")


def use_model(key: str, learner: Workspace) -> None:
    """Make model ``key`` the one the Draw and Why pages read: for the workspace (``selected.txt``) and this session."""
    with learner.storing(0, new_models=0):  # a new learner's first choice makes their folder: the server's caps hold
        select_model(key, learner.models_dir, learner.shared_dir)
    st.session_state[CHOSEN_MODEL] = key


def receive(notice: str, upload_key: str, keep: Callable, target_key: str) -> None:
    """An uploader's callback: ``keep(upload, workspace)`` (see ``cnnlib.store.uploads``) puts what it kept in
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
    or delete it (the learner's own only); what its card says of its network. Widget keys ``<prefix>_model_choice``,
    ``_select``, ``_download``, ``_delete``; a refusal goes under ``notice``."""
    learner, by_key, choice_key = current_workspace(), {model.key: model for model in models}, f"{prefix}_model_choice"
    if st.session_state.get(choice_key) not in by_key:  # deleted meanwhile, here or in another tab
        st.session_state.pop(choice_key, None)
    choice, use, download, delete = st.columns([3, 2, 1.2, 1.2])  # the Use button's label fits in English
    chosen = by_key[choice.selectbox(t("train.models.choice"), list(by_key), key=choice_key,
                                     format_func=lambda key: by_key[key].label, label_visibility="collapsed")]
    use.button(t("train.models.use"), key=f"{prefix}_model_select", icon=":material/draw:", on_click=act,
               args=(notice, use_model, chosen.key, learner))
    download.download_button(t("train.models.download"), functools.partial(download_bytes, chosen.path),
                             file_name=f"{chosen.name}.zip", mime="application/zip", on_click="ignore",
                             key=f"{prefix}_model_download", icon=":material/download:",
                             help=t("train.models.download_help"))
    delete.button(t("train.models.delete"), key=f"{prefix}_model_delete", icon=":material/delete:",
                  disabled=chosen.shared, help=t("train.models.delete_help"), on_click=act,
                  args=(notice, delete_model, chosen.name, learner.models_dir))
    if caption := network_caption(chosen.metadata):
        st.caption(caption)
    score_panel(chosen, f"{prefix}_model")


def saved_models_panel(prefix: str) -> None:
    """Saved models, the learner's and the teacher's shared ones: which one the Draw page uses, take one home, bring
    your own, delete; a full workspace offers its oldest. Widget keys start with ``<prefix>_``."""
    st.subheader(t("train.models.header"))
    notice, folders = f"{prefix}_models_notice", workspace_folders()
    room_offer(f"{prefix}_quota_delete", notice)
    say(notice)
    if models := list_models(*folders):
        rows, scores = with_scores(models_table(models, selected_model(*folders)), models,
                                   st.session_state.get(f"{prefix}_model_choice") or models[0].key)
        st.dataframe(rows, key=f"{prefix}_models_table", hide_index=True, width="stretch",
                     column_config={t("train.models.column.accuracy"): st.column_config.NumberColumn(format="percent"),
                                    **({scores: st.column_config.TextColumn(help=t("classroom.score.column_help"))}
                                       if scores else {})})
        model_actions(prefix, notice, models)
    else:
        st.caption(t("train.models.none"))
    model_upload(f"{prefix}_model_upload", notice, f"{prefix}_model_choice")
