"""Train: the tutorial's CNN on MNIST, live. Training runs in a child process (cnnlib/training/runs.py), never here."""

import streamlit as st

from cnnlib import models_store
from cnnlib.data import SOURCES
from cnnlib.figures.training import confusion_figure, cost_curve_figure, misclassified_figure, runs_overlay_figure
from cnnlib.text import t
from cnnlib.training import sentences, widgets
from cnnlib.training.config import DEFAULT_PRESET, PRESETS, Preset, TrainConfig, specs
from cnnlib.training.progress import Progress, RunState, diagnose
from cnnlib.training.runs import TrainingRun, server_registry
from pages import cached_mnist, ensure_app_navigation

ensure_app_navigation()

REFRESH_S = 1.0
MISCLASSIFIED_SHOWN = 30
CHOICE_DEFAULTS = {**widgets.widget_values(PRESETS[DEFAULT_PRESET]), "train_data_source": "auto",
                   "train_npz_path": "", "train_limit": None}
SESSION_DEFAULTS = {"train_run_ids": (), "train_rendered": None}  # this session's runs; (run id, finished) drawn
PRESET_ICONS = {Preset.TUTORIAL: ":material/menu_book:", Preset.FAST: ":material/bolt:"}


def init_state() -> None:
    """Every session_state key this page uses, created once; the user's choices come back after leaving the page."""
    remembered = st.session_state.get("train_choices", {})  # outlives the widgets, which forget a left page
    for key, default in {**SESSION_DEFAULTS, **CHOICE_DEFAULTS, **remembered}.items():
        st.session_state.setdefault(key, default)


def use_preset(preset: Preset, stop_run: bool = False) -> None:
    """Set every hyperparameter widget to the preset (a button callback: it runs before the widgets are drawn)."""
    if stop_run and current_run() is not None:
        current_run().stop()
        st.session_state["train_rendered"] = None  # makes the live fragment redraw the whole page
    st.session_state.update(widgets.widget_values(PRESETS[preset]))


def current_run() -> TrainingRun | None:
    """This session's latest run."""
    ids = st.session_state["train_run_ids"]
    return server_registry().get(ids[-1]) if ids else None


def recipe_panel() -> None:
    """The one-click presets, then every hyperparameter's widget (the Streamlit widget its field names)."""
    for column, preset in zip(st.columns(len(Preset)), Preset):
        column.button(sentences.preset_label(preset), key=f"train_preset_{preset}", on_click=use_preset,
                      args=(preset,), icon=PRESET_ICONS[preset], width="stretch",
                      type="primary" if preset == DEFAULT_PRESET else "secondary")
        column.caption(sentences.preset_caption(preset))
    main, schedule, more = widgets.LAYOUT
    slots = [*zip(st.columns(len(main)), main), *zip(st.columns([3, 2]), schedule)]
    with st.expander(t("train.layers_and_seed")):
        slots += zip(st.columns(len(more)), more)
    for column, name in slots:
        getattr(column, specs()[name].widget)(key=widgets.widget_key(name), **widgets.widget_arguments(name))


def data_panel() -> TrainConfig | None:
    """Data source and training-set size; returns the whole run's config, or None when the data cannot be had."""
    left, right = st.columns([3, 2])
    source = left.selectbox(t("train.data.source"), SOURCES, key="train_data_source",
                            format_func=sentences.source_label)
    npz_path = left.text_input(t("train.data.npz_path"), key="train_npz_path") if source == "npz" else ""
    try:
        data = cached_mnist(source, npz_path)
    except (ValueError, OSError) as error:
        st.error(t("common.mnist_failed", reason=error))
        return None
    available = len(data.x_train)
    st.session_state["train_limit"] = min(st.session_state["train_limit"] or available, available)
    limit = right.number_input(t("train.data.limit", available=available), min_value=min(100, available),
                               max_value=available, step=100, key="train_limit", help=t("train.data.limit_help"))
    st.caption(sentences.data_caption(data.description, limit, len(data.x_test)))
    for note in data.notes:
        st.info(note, icon=":material/wifi_off:")
    return TrainConfig(hp=widgets.chosen_hyperparameters(st.session_state), data_source=source,
                       npz_path=npz_path or None, train_limit=limit)


def controls_panel(config: TrainConfig | None, run: TrainingRun | None) -> None:
    """Start (once the data can be had) and Stop."""
    active = run is not None and not run.state.finished
    left, right, _ = st.columns([1, 1, 4])
    if left.button(t("train.controls.start"), key="train_start", type="primary", disabled=active or config is None,
                   icon=":material/play_arrow:"):
        st.session_state["train_run_ids"] += (server_registry().submit(config).run_id,)
        st.rerun()
    right.button(t("train.controls.stop"), key="train_stop", disabled=not active, icon=":material/stop:",
                 on_click=run.stop if active else None, help=t("train.controls.stop_help"))


def progress_panel(run: TrainingRun, progress: Progress) -> None:
    """Device, progress bar, diagnosis and the cost curve of ``run``."""
    label = sentences.run_label(len(st.session_state["train_run_ids"]), run.config.hp)  # the latest run
    if progress.state == RunState.CANCELLED:
        st.info(t("train.run.cancelled", label=label, message=sentences.ending_text(progress)))
        return
    if progress.device:
        st.caption(sentences.run_caption(label, progress))
    if progress.state == RunState.FAILED:
        st.error(t("train.run.failed", message=sentences.ending_text(progress)))
    elif progress.stopped_early and progress.state == RunState.DONE:
        st.info(t("train.run.stopped", epoch=progress.epoch, batch=progress.batch))
    st.progress(progress.fraction_done, text=sentences.status_line(progress, server_registry().queue_place(run)))
    if findings := diagnose(progress):  # it explodes or sits at chance: say so, say why, offer the stable recipe
        st.warning(sentences.diagnosis_warning(findings), icon=":material/warning:")
        st.button(t("train.diagnosis.switch"), key="train_switch_to_stable", on_click=use_preset,
                  args=(Preset.FAST, True), icon=":material/bolt:")
    if progress.batch_costs:
        st.plotly_chart(cost_curve_figure(progress), key="train_cost_curve", width="stretch")


def live_panel() -> None:
    """The current run: refreshed every second by a fragment while it trains, drawn once when finished."""
    run = current_run()
    if run is None:
        st.info(t("train.controls.idle"))
        return
    progress = run.snapshot()
    if progress.finished and progress.model_name and st.session_state["train_rendered"] != (run.run_id, True):
        st.session_state["train_model_choice"] = progress.model_name  # Saved models shows the new model
    st.session_state["train_rendered"] = (run.run_id, progress.finished)
    st.fragment(live_fragment, run_every=None if progress.finished else REFRESH_S)(run)
    if progress.finished and progress.test_accuracy is not None:
        results_panel(run, progress)


def live_fragment(run: TrainingRun) -> None:
    """One tick: read the snapshot, redraw; a finished (or replaced) run redraws the whole page once."""
    progress = run.snapshot()
    if st.session_state["train_rendered"] != (run.run_id, progress.finished):
        st.rerun()
    progress_panel(run, progress)


def results_panel(run: TrainingRun, progress: Progress) -> None:
    """Test accuracy, confusion matrix and misclassified test digits of a finished run."""
    for column, (label, value) in zip(st.columns(4), sentences.result_metrics(progress)):
        column.metric(label, value)
    left, right = st.columns([2, 3])
    left.markdown(t("train.results.confusion"))
    left.plotly_chart(confusion_figure(progress.confusion), key="train_confusion", width="stretch")
    right.markdown(t("train.results.mistakes", count=MISCLASSIFIED_SHOWN))
    if not progress.misclassified:
        right.success(t("train.results.none_wrong"))
        return
    try:
        x_test = cached_mnist(progress.data_source, run.config.npz_path).x_test
    except (ValueError, OSError) as error:
        right.error(t("train.results.reload_failed", reason=error))
        return
    right.plotly_chart(misclassified_figure(x_test, progress.misclassified[:MISCLASSIFIED_SHOWN]),
                       key="train_misclassified")


def overlay_panel() -> None:
    """This session's runs, overlaid, to compare recipes."""
    runs = {sentences.run_label(number, run.config.hp): run
            for number, run in enumerate(map(server_registry().get, st.session_state["train_run_ids"]), start=1)}
    if len(runs) < 2:
        return
    st.subheader(t("train.compare.header"))
    chosen = st.multiselect(t("train.compare.runs"), list(runs), default=list(runs)[-3:], key="train_overlay_runs")
    if chosen:
        st.plotly_chart(runs_overlay_figure([(label, runs[label].snapshot()) for label in chosen]),
                        key="train_overlay_chart", width="stretch")


def models_panel() -> None:
    """Saved models: which one the Draw page uses, and delete."""
    st.subheader(t("train.models.header"))
    models = models_store.list_models()
    if not models:
        st.caption(t("train.models.none", folder=models_store.models_dir()))
        return
    st.dataframe(sentences.models_table(models, models_store.selected_model()), key="train_models_table",
                 hide_index=True, width="stretch",
                 column_config={t("train.models.column.accuracy"): st.column_config.NumberColumn(format="percent")})
    left, middle, right = st.columns([3, 1, 1])
    name = left.selectbox(t("train.models.choice"), [model.name for model in models], key="train_model_choice",
                          label_visibility="collapsed")
    middle.button(t("train.models.use"), key="train_model_select", icon=":material/draw:",
                  on_click=models_store.select_model, args=(name,))
    right.button(t("train.models.delete"), key="train_model_delete", icon=":material/delete:",
                 on_click=models_store.delete_model, args=(name,))


init_state()
st.title(t("train.title"))
st.markdown(t("train.intro"))
recipe_panel()
config = data_panel()
st.session_state["train_choices"] = {key: st.session_state[key] for key in CHOICE_DEFAULTS}  # see init_state
controls_panel(config, current_run())
live_panel()
overlay_panel()
models_panel()
