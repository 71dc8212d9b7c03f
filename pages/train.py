"""Train: the tutorial's CNN on MNIST, live. Training runs in a child process (cnnlib/progress.py), never here."""

from dataclasses import replace

import streamlit as st

from cnnlib import models_store
from cnnlib.data import SOURCES, MnistData, load_mnist
from cnnlib.model import TUTORIAL, Hyperparameters
from cnnlib.figures.grids import image_grid
from cnnlib.figures.training import train_confusion_heatmap, train_cost_curve, train_overlay
from cnnlib.progress import CHANCE_COST, Progress, RunRegistry, TrainingRun, diagnose, smoothed
from cnnlib.train import FAST_AND_STABLE, TrainConfig, validation_count
from pages import ensure_app_navigation

ensure_app_navigation()

REFRESH_S = 1.0
MISCLASSIFIED_SHOWN = 30
BATCH_SIZES = (16, 32, 50, 64, 100, 128, 256, 512)
LEARNING_RATES = (1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1)
CONV1_FILTERS, CONV2_FILTERS, DENSE_UNITS = (8, 16, 32, 64), (16, 32, 64, 128), (64, 128, 256, 512)
INIT_LABELS = {"tutorial": "N(0, 1) filters and biases, as the tutorial's tf.random_normal",
               "he": "He-normal filters, zero biases"}
DECAY_LABELS = {"none": "constant", "cosine": "cosine decay to 0"}
SOURCE_LABELS = {"auto": "Automatic: full MNIST if it can be had, else the offline subset",
                 "offline": "Offline subset: 4,000 training / 1,000 test digits, no network",
                 "keras": "Full MNIST: 60,000 / 10,000 (Keras's copy, downloaded once)",
                 "npz": "A local MNIST .npz file"}
DIAGNOSIS_TITLES = {"exploding": "The cost is exploding.", "exploded": "The cost exploded at the start.",
                    "chance": "The network is guessing.", "dead": "Some digits are never predicted."}
WIDGET_FIELDS = {"train_epochs": "epochs", "train_batch_size": "batch_size", "train_learning_rate": "learning_rate",
                 "train_keep_prob": "keep_prob", "train_init": "init", "train_conv1_filters": "conv1_filters",
                 "train_conv2_filters": "conv2_filters", "train_dense_units": "dense_units", "train_seed": "seed",
                 "train_lr_decay": "lr_decay"}


@st.cache_resource
def registry() -> RunRegistry:
    """Every training on this server (all browser sessions share it, so the one-at-a-time limit holds)."""
    return RunRegistry()


@st.cache_resource(show_spinner="Loading MNIST…")
def mnist(source: str, npz_path: str | None) -> MnistData:
    """MNIST from one source, loaded once per server (for its size and the misclassified digits)."""
    return load_mnist(source, npz_path or None)


def init_state() -> None:
    """Every session_state key this page uses, created once; the user's choices come back after leaving the page."""
    defaults = {key: getattr(FAST_AND_STABLE, field_name) for key, field_name in WIDGET_FIELDS.items()}
    defaults.update(train_data_source="auto", train_npz_path="", train_limit=None)
    # Streamlit forgets a widget's value when its page is left; this plain copy outlives that.
    choices = st.session_state.setdefault("train_choices", {})
    for key, default in defaults.items():
        st.session_state.setdefault(key, choices.get(key, default))
    st.session_state.setdefault("train_run_ids", [])  # this browser session's runs, oldest first
    st.session_state.setdefault("train_rendered", None)  # (run id, finished) as the last full run drew it


def remember_choices() -> None:
    """Copy the widgets' values where leaving the page cannot erase them."""
    keys = [*WIDGET_FIELDS, "train_data_source", "train_npz_path", "train_limit"]
    st.session_state["train_choices"] = {key: st.session_state[key] for key in keys if key in st.session_state}


def apply_preset(hp: Hyperparameters) -> None:
    """Set every hyperparameter widget to ``hp`` (a button callback, so it runs before the widgets)."""
    for key, field_name in WIDGET_FIELDS.items():
        st.session_state[key] = getattr(hp, field_name)


def current_run() -> TrainingRun | None:
    """This session's latest run, if the server still has it."""
    ids = st.session_state["train_run_ids"]
    return registry().get(ids[-1]) if ids else None


def tutorial_mark(value, tutorial_value) -> str:
    """``value`` with "(tutorial)" after it when it is the tutorial's choice."""
    return f"{value:g} (tutorial)" if value == tutorial_value else f"{value:g}"


def intro_panel() -> None:
    """What this page does and what the tutorial did."""
    st.title("Train the tutorial's network")
    st.markdown(
        "The tutorial's network, with its bugs fixed: conv 3x3x32 → max-pool → conv 3x3x64 → max-pool → "
        "FC 256 → FC 256 → FC 10, with dropout. Shapes: (28, 28, 1) → (28, 28, 32) → (14, 14, 32) → "
        "(14, 14, 64) → (7, 7, 64) → 3,136 → 256 → 256 → 10. The tutorial trained it for 50 epochs with "
        "Adam 0.01 and printed one batch's cost every 5 epochs; here you watch **every batch's own cost** as it "
        "trains, in a separate process at full TensorFlow speed, and the model is saved for the *Draw a digit* page."
    )


def presets_panel() -> None:
    """The two one-click recipes."""
    left, right = st.columns(2)
    left.button("As in the tutorial", key="train_preset_tutorial", on_click=apply_preset, args=(TUTORIAL,),
                icon=":material/menu_book:", width="stretch")
    left.caption("50 epochs, batch 100, Adam 0.01, keep 0.75, filters from N(0, 1). Often stays at chance: see why.")
    right.button("Fast and stable", key="train_preset_fast", on_click=apply_preset, args=(FAST_AND_STABLE,),
                 icon=":material/bolt:", width="stretch", type="primary")
    fast = FAST_AND_STABLE
    right.caption(f"{fast.epochs} epochs, batch {fast.batch_size}, Adam {fast.learning_rate:g} with cosine decay, "
                  f"keep {fast.keep_prob:g}, He-normal filters: 0.97+ on the offline subset in well under a minute.")


def hyperparameters_panel() -> Hyperparameters:
    """Widgets for every hyperparameter, the tutorial's values marked; returns the choice."""
    columns = st.columns(4)
    columns[0].number_input("Epochs (tutorial: 50)", min_value=1, max_value=500, step=1, key="train_epochs")
    columns[1].select_slider("Batch size", BATCH_SIZES, key="train_batch_size",
                             format_func=lambda v: tutorial_mark(v, TUTORIAL.batch_size))
    columns[2].select_slider("Adam learning rate", LEARNING_RATES, key="train_learning_rate",
                             format_func=lambda v: tutorial_mark(v, TUTORIAL.learning_rate))
    columns[3].slider("Dropout keep probability (tutorial: 0.75)", 0.3, 1.0, step=0.05, key="train_keep_prob",
                      help="Each FC unit is kept with this probability while training; 1 means no dropout. "
                           "Test accuracy is always measured with dropout off.")
    left, right = st.columns([3, 2])
    left.radio("Initial conv filters", list(INIT_LABELS), key="train_init", horizontal=True,
               format_func=lambda v: INIT_LABELS[v] + (" (tutorial)" if v == TUTORIAL.init else ""))
    right.radio("Learning rate over the run", list(DECAY_LABELS), key="train_lr_decay", horizontal=True,
                format_func=lambda v: DECAY_LABELS[v] + (" (tutorial)" if v == TUTORIAL.lr_decay else ""),
                help="Cosine: full rate at the first batch, falling smoothly to 0 at the last, so the final "
                     "epochs polish instead of bouncing around.")
    with st.expander("Layer sizes and seed"):
        columns = st.columns(4)
        columns[0].select_slider("conv1 filters", CONV1_FILTERS, key="train_conv1_filters",
                                 format_func=lambda v: tutorial_mark(v, TUTORIAL.conv1_filters))
        columns[1].select_slider("conv2 filters", CONV2_FILTERS, key="train_conv2_filters",
                                 format_func=lambda v: tutorial_mark(v, TUTORIAL.conv2_filters))
        columns[2].select_slider("FC units (both layers)", DENSE_UNITS, key="train_dense_units",
                                 format_func=lambda v: tutorial_mark(v, TUTORIAL.dense_units))
        columns[3].number_input("Random seed", min_value=0, max_value=2**31 - 1, step=1, key="train_seed",
                                help="Initial weights, dropout masks and batch order.")
    return Hyperparameters(**{field_name: st.session_state[key] for key, field_name in WIDGET_FIELDS.items()})


def data_panel() -> tuple[MnistData | None, TrainConfig | None]:
    """Data source and training-set size; returns the data and a config without hyperparameters, or Nones."""
    left, right = st.columns([3, 2])
    source = left.selectbox("Data", SOURCES, key="train_data_source", format_func=SOURCE_LABELS.get)
    npz_path = left.text_input("Path of the .npz file", key="train_npz_path") if source == "npz" else ""
    try:
        data = mnist(source, npz_path)
    except (ValueError, OSError) as error:
        st.error(f"MNIST could not be loaded: {error}")
        return None, None
    available = len(data.x_train)
    if st.session_state["train_limit"] is None or st.session_state["train_limit"] > available:
        st.session_state["train_limit"] = available
    limit = right.number_input(f"Training digits (of {available:,})", min_value=min(100, available),
                               max_value=available, step=100,
                               key="train_limit", help="The first N training digits; the first twelfth of them "
                                                       "is held out for validation, as TF1's 55,000 / 5,000.")
    validation = validation_count(limit)
    st.caption(f"{data.description} Training on {limit - validation:,}, validating on {validation:,}, "
               f"testing on {len(data.x_test):,}.")
    for note in data.notes:
        st.info(note, icon=":material/wifi_off:")
    return data, TrainConfig(data_source=source, npz_path=npz_path or None, train_limit=limit)


def controls_panel(config: TrainConfig, run: TrainingRun | None) -> None:
    """Start and Stop."""
    active = run is not None and run.state in ("queued", "running", "stopping")
    left, right, _ = st.columns([1, 1, 4])
    if left.button("Start training", key="train_start", type="primary", disabled=active, icon=":material/play_arrow:"):
        start_run(config)
    right.button("Stop", key="train_stop", disabled=not active, icon=":material/stop:",
                 on_click=run.stop if active else None,
                 help="Finishes the current batch, then measures test accuracy and saves what was learned.")


def start_run(config: TrainConfig) -> None:
    """Submit a run to the server's registry and remember it in this session; rerun to show it."""
    hp = config.hp
    label = (f"#{len(st.session_state['train_run_ids']) + 1}: {hp.init}, lr {hp.learning_rate:g}"
             f"{' cosine' if hp.lr_decay == 'cosine' else ''}, batch {hp.batch_size}, keep {hp.keep_prob:g}")
    run = registry().submit(config, label)
    st.session_state["train_run_ids"].append(run.run_id)
    st.rerun()


def status_line(progress: Progress, run: TrainingRun) -> str:
    """One line: where the run is, how fast, how long to go."""
    if progress.state == "queued":
        ahead = registry().queue_position(run) + len(registry().active())
        return (f"Waiting in the queue: {ahead} training(s) ahead of yours (at most {registry().max_running} "
                "per server, so they do not slow each other to a crawl). It starts by itself.")
    if progress.phase == "starting":
        return "Starting TensorFlow and loading the digits in the trainer process…"
    parts = [f"Epoch {progress.epoch}/{progress.epochs}",
             f"batch {progress.batch}/{progress.steps_per_epoch} of {progress.batch_size}"]
    if progress.images_per_second:
        parts.append(f"{progress.images_per_second:,.0f} images/s")
    parts.append(f"{progress.elapsed_s:,.0f} s elapsed")
    if progress.eta_s is not None and progress.phase == "training":
        parts.append(f"about {progress.eta_s:,.0f} s left")
    phases = {"evaluating": " · measuring test accuracy…", "saving": " · saving the model…"}
    phase = phases.get(progress.phase, "")
    return " · ".join(parts) + phase


def cost_figure(progress: Progress):
    """The live cost curve of one run."""
    return train_cost_curve(progress.batch_positions, progress.batch_costs, smoothed(progress.batch_costs),
                            progress.epoch_positions, progress.epoch_costs, progress.val_accuracies, CHANCE_COST)


def progress_panel(run: TrainingRun, progress: Progress) -> None:
    """Device, progress bar, diagnosis and the cost curve of ``run``."""
    if progress.state == "cancelled":
        st.info(f"Run {run.label}: {progress.message}")
        return
    if progress.device:
        st.caption(f"Run {run.label} · training on **{progress.device}** · {progress.train_count:,} digits "
                   f"({progress.data_source})")
    if progress.state == "failed":
        st.error(f"Training failed: {progress.message}")
    elif progress.stopped_early and progress.state == "done":
        st.info(f"Stopped by you in epoch {progress.epoch}, after batch {progress.batch}; what it had learned "
                "was tested and saved.")
    st.progress(progress.fraction_done, text=status_line(progress, run))
    diagnosis_panel(progress)
    if progress.batch_costs:
        st.plotly_chart(cost_figure(progress), key="train_cost_curve", width="stretch")


def diagnosis_panel(progress: Progress) -> None:
    """When the run explodes or sits at chance: say so, say why, and offer the stable recipe."""
    findings = diagnose(progress)
    if not findings:
        return
    title = DIAGNOSIS_TITLES[findings[0].kind]
    st.warning(
        f"**{title}** {' '.join(finding.summary for finding in findings)}\n\n"
        "Why: the tutorial draws its conv filters and biases from a normal distribution with σ = 1 "
        "(`tf.random_normal`). A 3x3x32 filter then sums 9 pixels with weights of size 1, and conv2 sums "
        "288 such outputs, so the activations and the first logits are in the tens or hundreds: the softmax "
        "is certain and wrong, the cost is huge, and many ReLUs are pushed where they never fire again. "
        "Adam's step of 0.01 is then too big to settle: some seeds never leave chance (10% accuracy, cost "
        "ln 10 = 2.30), others lose whole digits. On the offline subset, seeds 0, 1 and 2 of the tutorial's recipe "
        "reached 62%, 92% and 93% after 50 epochs; Fast and stable reaches 97-98% in 10. He-normal filters "
        "(σ = √(2 / fan-in), about 0.47 for conv1 and 0.08 for conv2) with zero biases, and Adam 0.001, keep the "
        "signal the same size layer after layer.",
        icon=":material/warning:",
    )
    st.button("Switch to Fast and stable", key="train_switch_to_stable", on_click=switch_to_stable,
              icon=":material/bolt:")


def switch_to_stable() -> None:
    """Stop the failing run and set the widgets to the stable preset (a callback: runs before the widgets)."""
    run = current_run()
    if run is not None:
        run.stop()
    apply_preset(FAST_AND_STABLE)
    st.session_state["train_rendered"] = None  # makes the live fragment redraw the whole page


def live_panel() -> None:
    """The current run: refreshed every second by a fragment while it trains, drawn once when finished."""
    run = current_run()
    if run is None:
        st.info("Press **Start training** to train. Leaving this page does not stop a run; come back to see it.")
        return
    progress = run.snapshot()
    just_finished = progress.finished and st.session_state["train_rendered"] != (run.run_id, True)
    if just_finished and progress.model_name:
        st.session_state["train_model_choice"] = progress.model_name  # Saved models shows the new model
    st.session_state["train_rendered"] = (run.run_id, progress.finished)
    if progress.finished:
        progress_panel(run, progress)
        results_panel(run, progress)
    else:
        st.fragment(live_fragment, run_every=REFRESH_S)()


def live_fragment() -> None:
    """One tick: read the snapshot, redraw; a finished (or replaced) run redraws the whole page once."""
    run = current_run()
    progress = run.snapshot() if run else None
    if run is None or st.session_state["train_rendered"] != (run.run_id, progress.finished):
        st.rerun()
    progress_panel(run, progress)


def results_panel(run: TrainingRun, progress: Progress) -> None:
    """Test accuracy, confusion matrix and misclassified test digits of a finished run."""
    if progress.test_accuracy is None:
        return
    columns = st.columns(4)
    columns[0].metric("Test accuracy (dropout off)", f"{progress.test_accuracy:.2%}")
    columns[1].metric("Epochs trained", f"{len(progress.epoch_costs)}")
    columns[2].metric("Time, with start-up", f"{progress.elapsed_s:,.0f} s")
    columns[3].metric("Misclassified", f"{progress.misclassified_count:,} of {progress.test_count:,}")
    left, right = st.columns([2, 3])
    left.markdown("**Confusion matrix** (rows: true digit, columns: predicted)")
    left.plotly_chart(train_confusion_heatmap(progress.confusion), key="train_confusion", width="stretch")
    right.markdown(f"**Misclassified test digits** (first {MISCLASSIFIED_SHOWN}): true → predicted")
    misclassified_grid(right, run, progress)


def misclassified_grid(container, run: TrainingRun, progress: Progress) -> None:
    """The first misclassified test digits with their true and predicted labels."""
    if not progress.misclassified:
        container.success("No test digit was misclassified.")
        return
    try:
        data = mnist(progress.data_source, run.config.npz_path)
    except (ValueError, OSError) as error:
        container.error(f"The test digits could not be loaded again: {error}")
        return
    shown = progress.misclassified[:MISCLASSIFIED_SHOWN]
    images = data.x_test[[index for index, _, _ in shown]]
    titles = [f"{true} → {predicted}" for _, true, predicted in shown]
    container.plotly_chart(image_grid(images, titles, columns=10, zmin=0, zmax=255, tile_px=70),
                           key="train_misclassified")


def overlay_panel() -> None:
    """This session's runs, overlaid, to compare recipes."""
    runs = [run for run in map(registry().get, st.session_state["train_run_ids"]) if run is not None]
    if len(runs) < 2:
        return
    st.subheader("Compare this session's runs")
    labels = {run.label: run for run in runs}
    chosen = st.multiselect("Runs", list(labels), default=list(labels)[-3:], key="train_overlay_runs")
    curves = []
    for label in chosen:
        progress = labels[label].snapshot()
        curves.append((label, progress.batch_positions, smoothed(progress.batch_costs), progress.epoch_positions,
                       progress.val_accuracies))
    if curves:
        st.plotly_chart(train_overlay(curves), key="train_overlay_chart", width="stretch")


def models_panel() -> None:
    """Saved models: which one the Draw page uses, and delete."""
    st.subheader("Saved models")
    models = models_store.list_models()
    if not models:
        st.caption(f"None yet in {models_store.models_dir()}. Every run saves one, also a stopped one.")
        return
    chosen = models_store.selected_model()
    rows = [{"name": model.name, "used by Draw": "✓" if chosen and model.name == chosen.name else "",
             "test accuracy": model.metadata.get("test_accuracy"), "data": model.metadata.get("data_source"),
             "epochs": model.metadata.get("epochs_completed"), "date": model.metadata.get("date")}
            for model in models]
    st.dataframe(rows, key="train_models_table", hide_index=True, width="stretch",
                 column_config={"test accuracy": st.column_config.NumberColumn(format="percent")})
    names = [model.name for model in models]
    left, middle, right = st.columns([3, 1, 1])
    name = left.selectbox("Model", names, key="train_model_choice", label_visibility="collapsed")
    if middle.button("Use on the Draw page", key="train_model_select", icon=":material/draw:"):
        models_store.select_model(name)
        st.rerun()
    if right.button("Delete", key="train_model_delete", icon=":material/delete:"):
        models_store.delete_model(name)
        st.rerun()


init_state()
intro_panel()
presets_panel()
hyperparameters = hyperparameters_panel()
data, base_config = data_panel()
remember_choices()
if base_config is not None:
    controls_panel(replace(base_config, hp=hyperparameters), current_run())
live_panel()
overlay_panel()
models_panel()
