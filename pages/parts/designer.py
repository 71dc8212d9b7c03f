"""The Train page's "Design the network" panel: the network as a list of layers the learner edits (add, remove, move,
each layer's settings) above the 10-way output, which is always last; then its shapes, parameters and time per
epoch, live, and its Keras code to take home.

The design is the recipe's ``train_layers`` ("" while it is the tutorial's network of the chosen sizes:
``cnnlib.training.designer.recipe_layers_for``), so a preset resets it and Start trains it. Every edit is a callback
that changes the design the recipe holds, one layer or one setting at a time; an impossible design is kept as it is
and its sentence keeps Start off. Session-state keys: ``DEFAULTS`` (the page's ``init_page``), and
``train_design_<index>_<setting>`` for each row's widgets, written from the design on every run.
"""

from functools import partial

import streamlit as st

from cnnlib.errors import Refusal
from cnnlib.network.design import MAX_LAYERS, TracedDesign, keras_code, recipe_design, traced_design
from cnnlib.network.design_layers import Design, Logits
from cnnlib.text import t
from cnnlib.training import designer, widgets
from cnnlib.training.config import TrainConfig

LAYERS = widgets.widget_key("layers")  # the recipe's design as text
VERSION, KIND, POSITION = "train_design_version", "train_design_kind", "train_design_position"
OPEN = "train_design_open"  # the panel's switch: its rows are drawn only while it is on (an expander draws them shut)
DEFAULTS = {VERSION: 0, KIND: designer.kinds()[0], OPEN: False}  # the rows' version: renewed when layers come, go, move
MOVES = {"up": (-1, ":material/arrow_upward:"), "down": (1, ":material/arrow_downward:")}
ROW = [2, 8, 1.6]  # a row's columns: the layer's name and kind, its settings, its buttons
SETTINGS_PER_ROW = 5  # a convolution's


def current_design() -> Design:
    """The design the recipe holds (the tutorial's network of the chosen sizes while it has none of its own)."""
    return recipe_design(widgets.chosen_hyperparameters(st.session_state))


def store(design: Design, structure: bool = True) -> None:
    """Keep ``design`` in the recipe; a change of its layers (not of one setting) renews the rows' version, so a
    callback of a row drawn before it does nothing, and "Add a layer" goes to the end again."""
    st.session_state[LAYERS] = designer.recipe_layers_for(design, widgets.chosen_hyperparameters(st.session_state))
    if structure:
        st.session_state[VERSION] += 1
        st.session_state.pop(POSITION, None)


def changed(version: int, index: int, name: str) -> None:
    """A setting's callback: layer ``index`` takes the widget's new value."""
    if version == st.session_state[VERSION]:
        value = st.session_state[setting_key(index, name)]
        store(designer.with_setting(current_design(), index, name, value), structure=False)


def edit(version: int, how, *args) -> None:
    """A button's callback: the design becomes ``how(design, *args)`` (removed, moved)."""
    if version == st.session_state[VERSION]:
        store(how(current_design(), *args))


def add() -> None:
    """The "Add a layer" button: a layer of the chosen kind, where chosen."""
    design = current_design()
    store(designer.added(design, st.session_state.get(POSITION, len(design)), st.session_state[KIND]))


def back_to_tutorial() -> None:
    """The tutorial's network with the chosen sizes again."""
    st.session_state[LAYERS] = ""
    st.session_state[VERSION] += 1


def setting_key(index: int, name: str) -> str:
    """The widget key of one setting of layer ``index``: ``train_design_0_filters``."""
    return f"train_design_{index}_{name}"


def setting_widget(cell, index: int, setting: designer.Setting, version: int) -> None:
    """One setting's widget in ``cell``, showing the design's value: a number input, or a select box of choices."""
    key = setting_key(index, setting.name)
    st.session_state[key] = setting.value
    arguments = dict(label=t(f"design.setting.{setting.name}"), key=key, on_change=changed,
                     args=(version, index, setting.name))
    if setting.choices:
        cell.selectbox(options=setting.choices, **arguments)
    else:
        cell.number_input(min_value=setting.low, max_value=setting.high, step=setting.step, **arguments)


def layer_row(design: Design, index: int, name: str, version: int) -> None:
    """Layer ``index``: its name and kind, its settings, and up, down and remove."""
    layer = design[index]
    title, settings, buttons = st.columns(ROW, vertical_alignment="bottom")
    title.markdown(designer.layer_title(name, layer.WORD))
    for cell, setting in zip(settings.columns(SETTINGS_PER_ROW), designer.layer_settings(layer)):
        setting_widget(cell, index, setting, version)
    *moves, remove = buttons.columns(3)
    for column, (label, (step, icon)) in zip(moves, MOVES.items()):
        column.button("", key=f"train_design_{index}_{label}", icon=icon, help=t(f"design.editor.{label}"),
                      disabled=not 0 <= index + step < len(design), on_click=edit,
                      args=(version, designer.moved, index, step))
    remove.button("", key=f"train_design_{index}_remove", icon=":material/delete:", help=t("design.editor.remove"),
                  on_click=edit, args=(version, designer.removed, index))


def add_row(design: Design) -> None:
    """The output row, then "Add a layer" (its kind and where it goes) and "Back to the tutorial's network"."""
    title, caption = st.columns([ROW[0], sum(ROW[1:])], vertical_alignment="center")
    title.markdown(designer.layer_title(Logits.WORD, Logits.WORD))
    caption.caption(t("design.editor.output"))
    kind, where, button, back = st.columns([1.8, 1.8, 1.3, 2.6], vertical_alignment="bottom")
    kind.selectbox(t("design.editor.kind"), designer.kinds(), key=KIND, format_func=designer.kind_label)
    if st.session_state.get(POSITION) not in (positions := designer.insert_positions(design)):
        st.session_state.pop(POSITION, None)  # the design changed: the end again
    where.selectbox(t("design.editor.where"), positions, key=POSITION,
                    format_func=partial(designer.position_label, design))
    full = len(design) >= MAX_LAYERS
    button.button(t("design.editor.add"), key="train_design_add", icon=":material/add:", on_click=add, disabled=full,
                  help=t("design.editor.full", limit=MAX_LAYERS) if full else None)
    back.button(t("design.editor.back"), key="train_design_back", icon=":material/restart_alt:",
                on_click=back_to_tutorial, disabled=not widgets.has_design(st.session_state))


def traced_or_refusal(design: Design) -> tuple[TracedDesign | None, str | None]:
    """The design traced, or None and the sentence that says why it cannot be trained (shown as an error)."""
    try:
        return traced_design(design), None
    except Refusal as refusal:
        st.error(str(refusal), icon=":material/error:")
        return None, str(refusal)


def summary_panel(design: Design, traced: TracedDesign, config: TrainConfig | None) -> None:
    """Each layer's output shape, parameters and multiply-adds, the totals, an epoch's time for the chosen digits, and
    the Keras code."""
    digits = designer.trained_digits(config.train_limit if config else None)
    for column, (label, value) in zip(st.columns(3), designer.design_totals(traced, digits)):
        column.metric(label, value)
    if traced.slow:
        st.warning(designer.slow_warning(traced), icon=":material/hourglass_top:")
    st.dataframe(designer.design_table(traced), key="train_design_table", hide_index=True, width="stretch",
                 column_config={t(f"design.table.{name}"): st.column_config.NumberColumn(format="localized")
                                for name in designer.NUMBER_COLUMNS})
    st.markdown(t("design.code.header"))
    st.caption(t("design.code.caption"))
    st.code(keras_code(design), language="python")


def designer_panel(config: TrainConfig | None) -> str | None:
    """The panel behind its toggle; returns why Start must wait (an impossible design's sentence, shown even while
    the panel is closed), or None."""
    design, version = current_design(), st.session_state[VERSION]
    if not st.toggle(t("design.editor.header"), key=OPEN, help=t("design.editor.toggle")):
        return traced_or_refusal(design)[1]
    with st.container(border=True):
        st.caption(t("design.editor.intro"))
        for index, name in enumerate(designer.layer_names(design)):
            layer_row(design, index, name, version)
        add_row(design)
        traced, reason = traced_or_refusal(design)
        if traced:
            summary_panel(design, traced, config)
        return reason
