"""Train: the tutorial's CNN on MNIST, live, in a child process (cnnlib/training/runs.py); runs are the learner's."""

import streamlit as st

from cnnlib.mnist.data import SOURCES
from cnnlib.training.cost_charts import cost_curve_alt, cost_curve_chart, runs_overlay_alt, runs_overlay_chart
from cnnlib.training.figures import misclassified_figure
from cnnlib.text import t
from cnnlib.training import sentences, sources, widgets
from cnnlib.training.config import DEFAULT_PRESET, PRESETS, Preset, TrainConfig
from cnnlib.training.progress import Progress, RunState, diagnose
from cnnlib.training.runs import TrainingRun, latest_for, server_registry, submit_for
from cnnlib.store.uploads import keep_npz
from pages import cached_mnist, current_workspace, ensure_app_navigation
from pages.parts import designer
from pages.parts.class_scores import run_score_panel
from pages.parts.confusion import cell_panel, chosen_cell
from pages.parts.errors import explained_errors
from pages.parts.recipe import recipe_panel, use_preset
from pages.parts.saved_models import act, receive, saved_models_panel, say
from pages.parts.state import init_page

ensure_app_navigation()

REFRESH_S, QUICK_REFRESH_S = 1.0, 0.1  # quick while a run starts (its first costs show at once), then every second
CHART_HEIGHT = 420  # the cost charts' height in pixels
FIRST_COST_WAIT_S = 0.4  # a run drawn for the first time waits this long for its first cost: drawn in the same run
MISCLASSIFIED_SHOWN = 30
CHOICE_DEFAULTS = {**widgets.widget_values(PRESETS[DEFAULT_PRESET]), "train_data_source": "auto",
                   "train_limit": None}
SESSION_DEFAULTS = {"train_rendered": None, "train_npz_file": None}  # what the live panel drew; the uploaded npz
CHOICES = "train_choices"  # the widgets' values, kept for the next visit: widgets forget a page the learner left
init_page({**SESSION_DEFAULTS, **designer.DEFAULTS, **CHOICE_DEFAULTS, **st.session_state.get(CHOICES, {})})


def npz_panel(column) -> str | None:
    """Which MNIST file: one the server offers or the learner's upload; its path, None until there is one."""
    if st.session_state.get("train_npz_choice") not in (choices := sources.npz_choices()):  # a file taken away
        st.session_state.pop("train_npz_choice", None)
    choice = column.selectbox(t("train.data.npz_choice"), choices, key="train_npz_choice",
                              format_func=sources.npz_choice_label)
    if choice != sources.UPLOAD:
        return sources.offered_path(choice)
    column.file_uploader(t("train.data.npz_upload"), type=["npz"], key="train_npz_upload", on_change=receive,
                         args=("train_data_notice", "train_npz_upload", keep_npz, "train_npz_file"))
    say("train_data_notice", column)
    return st.session_state["train_npz_file"]


def data_panel() -> TrainConfig | None:
    """Data source and training-set size; returns the whole run's config, or None when the data cannot be had."""
    left, right = st.columns([3, 2])
    source = left.selectbox(t("train.data.source"), SOURCES, key="train_data_source",
                            format_func=sentences.source_label)
    data = None  # until the chosen data is loaded; a refusal or a file that cannot be read is said
    with explained_errors(within="common.mnist_failed"):
        npz_path = npz_panel(left) if source == "npz" else None
        data = None if source == "npz" and npz_path is None else cached_mnist(source, npz_path)
    if data is None:
        return None
    available = len(data.x_train)
    st.session_state["train_limit"] = min(st.session_state["train_limit"] or available, available)
    limit = right.number_input(t("train.data.limit", available=available), min_value=min(100, available),
                               max_value=available, step=100, key="train_limit", help=t("train.data.limit_help"))
    st.caption(sentences.data_caption(data.description, limit, len(data.x_test)))
    for note in data.notes:
        st.info(note, icon=":material/wifi_off:")
    return TrainConfig(hp=widgets.chosen_hyperparameters(st.session_state), data_source=source, npz_path=npz_path,
                       train_limit=limit, models_directory=str(current_workspace().models_dir))


def controls_panel(config: TrainConfig | None, run: TrainingRun | None, blocked: str | None) -> None:
    """Start (once the data can be had and the design is possible: ``blocked`` says why not) and Stop; why a Start
    was refused."""
    active = run is not None and not run.state.finished
    left, right, reason = st.columns([1, 1, 4])
    left.button(t("train.controls.start"), key="train_start", type="primary",
                disabled=active or config is None or blocked is not None, icon=":material/play_arrow:",
                help=blocked, on_click=act, args=("train_start_notice", submit_for, current_workspace(), config))
    right.button(t("train.controls.stop"), key="train_stop", disabled=not active, icon=":material/stop:",
                 on_click=run.stop if active else None, help=t("train.controls.stop_help"))
    if blocked and not active:
        reason.caption(t("design.editor.start_blocked", reason=blocked))
    say("train_start_notice")


def progress_panel(run: TrainingRun, progress: Progress) -> None:
    """How the run ended, or its device, progress bar, diagnosis and cost curve."""
    label = sentences.run_label(run.number, run.config.hp)
    if progress.device:
        st.caption(sentences.run_caption(label, progress))
    if outcome := sentences.run_outcome(progress, label):
        getattr(st, outcome[0])(outcome[1])
    if progress.state == RunState.CANCELLED:
        return
    st.progress(progress.fraction_done, text=sentences.status_line(progress, server_registry().queue_place(run)))
    if findings := diagnose(progress):  # it explodes or sits at chance: say so, say why, offer the stable recipe
        st.warning(sentences.diagnosis_warning(findings), icon=":material/warning:")
        st.button(t("train.diagnosis.switch"), key="train_switch_to_stable", on_click=use_preset,
                  args=(Preset.FAST, True), icon=":material/bolt:")
    # drawn from the run's first tick, empty until the first cost; each tick updates the same chart in place
    st.echarts_chart(cost_curve_chart(progress), key="train_cost_curve", height=CHART_HEIGHT,
                     alt=cost_curve_alt(progress))


def live_panel() -> None:
    """The current run: refreshed by a fragment while it is on, drawn once when finished."""
    if (run := latest_for(current_workspace())) is None:  # and empty axes, so the browser has ECharts ready for Start
        st.info(t("train.controls.idle"))
        st.echarts_chart(cost_curve_chart(Progress()), key="train_cost_axes", height=CHART_HEIGHT,
                         alt=cost_curve_alt(Progress()))
        return
    before = st.session_state["train_rendered"]  # a run new to the page (Start was pressed) waits for its first cost
    progress = run.snapshot() if before and before[0] == run.run_id else run.first_cost(FIRST_COST_WAIT_S)
    st.session_state["train_rendered"] = (run.run_id, progress.milestone)
    if progress.finished and progress.model_name and before != st.session_state["train_rendered"]:
        st.session_state["train_model_choice"] = progress.model_name  # Saved models shows the new model
    every = None if progress.finished else REFRESH_S if progress.milestone[1] else QUICK_REFRESH_S
    st.fragment(live_fragment, run_every=every)(run)
    if progress.finished and progress.test_accuracy is not None:
        results_panel(run, progress)


@explained_errors()
def live_fragment(run: TrainingRun) -> None:
    """One tick: read the snapshot, redraw; a run that changed what the page shows redraws the whole page once."""
    progress, latest = run.snapshot(), latest_for(current_workspace())
    if st.session_state["train_rendered"] != (run.run_id, progress.milestone) or latest is not run:
        st.rerun()
    progress_panel(run, progress)


@explained_errors()
def run_panel(config: TrainConfig | None, blocked: str | None) -> None:
    """Start, Stop and the current run, as a fragment: a click on Start or Stop redraws these, not the whole page,
    so the browser has only the run's panel to draw when the first cost comes (the run's milestones, 3 s of
    training and its end, redraw the whole page)."""
    controls_panel(config, latest_for(current_workspace()), blocked)
    live_panel()


def results_panel(run: TrainingRun, progress: Progress) -> None:
    """Test accuracy, confusion matrix and misclassified test digits of a finished run."""
    for column, (label, value) in zip(st.columns(4), sentences.result_metrics(progress)):
        column.metric(label, value)
    run_score_panel(progress.model_name)
    left, right = st.columns(2)  # the matrix's eleven columns fit without scrolling
    clicked = chosen_cell(left, progress)
    right.markdown(t("train.results.mistakes", count=MISCLASSIFIED_SHOWN))
    if not progress.misclassified:
        right.success(t("train.results.none_wrong"))
    with explained_errors(right, within="train.results.reload_failed"):
        data = cached_mnist(progress.data_source, run.config.npz_path)
        if progress.misclassified:
            right.plotly_chart(misclassified_figure(data.x_test, progress.misclassified[:MISCLASSIFIED_SHOWN]),
                               key="train_misclassified")
    if clicked is not None:
        with explained_errors():
            cell_panel(progress, cached_mnist(progress.data_source, run.config.npz_path), clicked)


def overlay_panel() -> None:
    """The learner's recent runs, overlaid, to compare recipes."""
    runs = {sentences.run_label(run.number, run.config.hp): run
            for run in server_registry().runs(current_workspace().id)}
    if len(runs) < 2:
        return
    st.subheader(t("train.compare.header"))
    chosen = st.multiselect(t("train.compare.runs"), list(runs), default=list(runs)[-3:], key="train_overlay_runs")
    if chosen:
        st.echarts_chart(runs_overlay_chart([(label, runs[label].snapshot()) for label in chosen]),
                         key="train_overlay_chart", height=CHART_HEIGHT, alt=runs_overlay_alt(chosen))


st.title(t("train.title"))
st.markdown(t("train.intro"))
with explained_errors():
    recipe_panel()
    config = data_panel()
    blocked = designer.designer_panel(config)
    st.session_state[CHOICES] = {key: st.session_state[key] for key in CHOICE_DEFAULTS}
    st.fragment(run_panel)(config, blocked)
    overlay_panel()
    saved_models_panel("train")
    server_registry().keep_trainer_ready()  # a trainer waits with a network traced: Start answers at once
