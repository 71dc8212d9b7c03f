"""The Train page's recipe panel: the one-click presets, every hyperparameter's widget, and previews of what the
recipe does to the training digits (redrawn as pen strokes, augmented)."""

import numpy as np
import streamlit as st

from cnnlib.training.recipe_figures import augmented_figure, redrawn_figure
from cnnlib.text import t
from cnnlib.training import sentences, widgets
from cnnlib.training.config import PRESETS, Preset, specs
from cnnlib.training.runs import latest_for
from pages import cached_mnist, current_workspace

PRESET_ICONS = {Preset.TUTORIAL: ":material/menu_book:", Preset.FAST: ":material/bolt:", Preset.BEST: ":material/star:"}
PREVIEW_DIGITS, PREVIEW_VERSIONS = 8, 2  # training digits the previews show, and augmented versions of each
PREVIEWS = {"drawn_share": "recipes.redrawn_preview", "augment": "recipes.preview"}  # field -> catalogue table


def use_preset(preset: Preset, stop_run: bool = False) -> None:
    """Set every hyperparameter widget to the preset (a button callback: it runs before the widgets are drawn). A
    preset's button brings its network (the tutorial's, or best's own design); the switch after a failed run
    (``stop_run``) changes the recipe and keeps the learner's own design, if any."""
    values = widgets.widget_values(PRESETS[preset])
    if stop_run:
        values.pop(widgets.widget_key("layers"))
        if (run := latest_for(current_workspace())) is not None:
            run.stop()
    st.session_state.update(values)


def recipe_panel() -> None:
    """The one-click presets, then every hyperparameter's widget (the Streamlit widget its field names)."""
    in_use, designed = widgets.preset_in_use(st.session_state), widgets.has_design(st.session_state)
    for column, preset in zip(st.columns(len(Preset)), Preset):
        column.button(sentences.preset_label(preset), key=f"train_preset_{preset}", on_click=use_preset,
                      args=(preset,), icon=PRESET_ICONS[preset], width="stretch",
                      type="primary" if preset == in_use else "secondary")
        column.caption(sentences.preset_caption(preset))
    main, schedule, more = widgets.LAYOUT
    slots = [*zip(st.columns(len(main)), main), *zip(st.columns([3, 2]), schedule)]
    with st.expander(t("train.layers_and_seed")):
        slots += zip(st.columns(len(more)), more)
    with st.expander(t("train.recipe_details")):
        for row in widgets.RECIPE_LAYOUT:
            slots += zip(st.columns(len(row)), row)
        previews = st.container()
    for column, name in slots:
        getattr(column, specs()[name].widget)(key=widgets.widget_key(name), **widgets.widget_arguments(name, designed))
    training_digits_previews(previews)


@st.cache_data(show_spinner=False)
def preview_figure(name: str):
    """The preview of field ``name`` on the offline subset's first training digits (augmenting imports Keras once)."""
    digits = cached_mnist("offline").x_train[:PREVIEW_DIGITS] / np.float32(255)
    return augmented_figure(digits, PREVIEW_VERSIONS) if name == "augment" else redrawn_figure(digits)


def training_digits_previews(container) -> None:
    """What the recipe does to the training digits, for each of redrawing and augmentation that it uses."""
    for name, table in PREVIEWS.items():
        if value := st.session_state[widgets.widget_key(name)]:
            container.markdown(t(f"{table}.header"))
            container.plotly_chart(preview_figure(name), key=f"train_{name}_preview", width="stretch")
            container.caption(t(f"{table}.caption", count=PREVIEW_DIGITS, rows=PREVIEW_VERSIONS, share=value))
