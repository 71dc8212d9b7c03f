"""Why this answer? Where the network looked, which maps mattered, what one filter does, how little fools it."""

import numpy as np
import pandas as pd
import streamlit as st

from cnnlib import explain
from cnnlib.errors import Refusal
from cnnlib.lessons.why import figures
from cnnlib.lessons.why import words as why_text
from cnnlib.store.saved import list_models
from cnnlib.text import t
from pages import ensure_app_navigation, workspace_folders
from pages.parts.errors import explained_errors
from pages.parts.models import chosen_model, epoch_slider, explained_model
from pages.parts.state import DIGIT, init_page

ensure_app_navigation()

DIGITS = list(range(10))
DEFAULTS = {"why_patch": 6, "why_stride": 2, "why_smooth": False, "why_samples": 16, "why_filter": 0,
            "why_filter_version": 0, "why_epsilon": 0.2}
init_page(DEFAULTS)


def digit_and_model() -> tuple[np.ndarray, object, str] | None:
    """The Draw page's digit and the chosen model (loaded, as it was after the epoch the replay slider shows), or
    None after saying how to get what is missing."""
    image = st.session_state[DIGIT]
    if image is None:
        st.info(t("why.empty.digit"), icon=":material/draw:")
        st.page_link("pages/draw_digit.py", label=t("why.empty.draw_link"), icon=":material/draw:")
        return None
    chosen = chosen_model(list_models(*workspace_folders()))
    if chosen is None:
        st.info(t("why.empty.model"), icon=":material/info:")
        st.page_link("pages/train.py", label=t("why.empty.train_link"), icon=":material/model_training:")
        return None
    replayed = epoch_slider("why_epoch", chosen)
    with st.spinner(t("why.empty.loading")):
        model = explained_model(str(chosen.path), chosen.modified, None if replayed is None else replayed[0])
    if isinstance(model, Refusal):
        st.error(str(model))
        return None
    return np.asarray(image, np.float32), model, chosen.name


def answer_panel(image: np.ndarray, model, name: str) -> int:
    """The network's answer and the digit the maps explain (the predicted one unless the learner picks another)."""
    probabilities = explain.probabilities(model, image)
    predicted = int(np.argmax(probabilities))
    left, right = st.columns(2)
    left.markdown(t("why.answer.prediction", model=name, digit=predicted, probability=probabilities[predicted]))
    chosen = left.segmented_control(t("why.answer.target"), DIGITS, key="why_target", help=t("why.answer.target_help"))
    target = predicted if chosen is None else chosen
    left.caption(why_text.target_caption(probabilities, target))
    right.plotly_chart(figures.probabilities_figure({t("why.answer.probabilities"): probabilities}),
                       key="why_probabilities")
    return target


@st.fragment
@explained_errors()
def occlusion_panel(image: np.ndarray, model, target: int) -> None:
    """Hide a patch everywhere in turn and map how much the target's probability drops."""
    st.header(t("why.occlusion.header"))
    controls, view = st.columns([1, 2])
    patch = controls.slider(t("why.occlusion.patch"), 2, 10, key="why_patch")
    stride = controls.slider(t("why.occlusion.stride"), 1, 4, key="why_stride")
    found = explain.occlusion(model, image, patch, stride, target)
    view.plotly_chart(figures.occlusion_figure(image, found), key="why_occlusion", width="content")
    controls.caption(t("why.occlusion.caption", patch=patch, stride=stride, count=len(found.corners), digit=target))


@st.fragment
@explained_errors()
def gradient_panel(image: np.ndarray, model, target: int) -> None:
    """Saliency (or SmoothGrad) and Grad-CAM side by side."""
    st.header(t("why.gradients.header"))
    saliency, gradcam = st.columns(2)
    smooth = saliency.toggle(t("why.gradients.smooth"), key="why_smooth", help=t("why.gradients.smooth_help"))
    samples = saliency.slider(t("why.gradients.samples"), 4, 50, key="why_samples", disabled=not smooth)
    saliency.subheader(t("why.gradients.smoothgrad_title", samples=samples) if smooth else
                       t("why.gradients.saliency_title"))
    heat = explain.saliency_map(model, image, target, samples if smooth else 0)
    saliency.plotly_chart(figures.overlay_figure(image, heat), key="why_saliency", width="content")
    saliency.caption(t("why.gradients.saliency_caption", digit=target))
    try:
        layer = explain.last_conv_layer(model)
        cam = explain.gradcam_map(model, image, target)
    except Refusal as refusal:  # a model without a convolution: said, not an error
        gradcam.info(str(refusal), icon=":material/info:")
        return
    gradcam.subheader(t("why.gradients.gradcam_title", layer=layer))
    gradcam.plotly_chart(figures.overlay_figure(image, cam), key="why_gradcam", width="content")
    gradcam.caption(t("why.gradients.gradcam_caption", layer=layer, digit=target))


@st.fragment
@explained_errors()
def knockout_panel(image: np.ndarray, model, target: int) -> None:
    """Switch chosen maps of a conv layer off; rank every map of it by what switching it off alone does."""
    st.header(t("why.knockout.header"))
    layers = explain.conv_layers(model)
    if not layers:
        st.info(t("why.error.no_conv_knockout"), icon=":material/info:")
        return
    if st.session_state.get("why_layer") not in layers:
        st.session_state["why_layer"] = layers[0]
    left, right = st.columns(2)
    layer = left.segmented_control(t("why.knockout.layer"), layers, key="why_layer") or layers[0]
    ranking = explain.knockout_ranking(model, image, layer, target)
    count = len(ranking.probabilities)
    channels = left.multiselect(t("why.knockout.channels", layer=layer), list(range(count)),
                                key=f"why_channels_{layer}")
    after = explain.knockout(model, image, layer, channels)
    left.plotly_chart(figures.probabilities_figure({t("why.knockout.before"): ranking.base,
                                                    t("why.knockout.after"): after}), key="why_knockout")
    left.caption(why_text.knockout_caption(layer, channels, after))
    right.subheader(t("why.knockout.ranking_header"))
    right.plotly_chart(figures.ranking_figure(ranking), key="why_ranking")
    right.caption(t("why.knockout.ranking_caption", layer=layer, count=count, digit=target))


@st.fragment
@explained_errors()
def filter_panel(image: np.ndarray, model, name: str) -> None:
    """Edit one filter of the first conv layer in a table; its feature map and the answer follow."""
    st.header(t("why.filter.header"))
    try:
        layer = explain.first_conv_filters(model)
    except Refusal as refusal:  # a model without a convolution: said, not an error
        st.info(str(refusal), icon=":material/info:")
        return
    left, middle, right = st.columns([1, 1, 2])
    index = left.number_input(t("why.filter.index", layer=layer.name), 0, layer.filters - 1, key="why_filter")
    trained = explain.trained_filter(model, index)
    left.button(t("why.filter.restore"), key="why_filter_restore", icon=":material/restore:",  # a new, fresh table
                on_click=lambda: st.session_state.update(why_filter_version=st.session_state["why_filter_version"] + 1))
    edited = left.data_editor(pd.DataFrame(trained), hide_index=True,
                              key=f"why_filter_table_{name}_{index}_{st.session_state['why_filter_version']}")
    left.caption(t("why.filter.table_caption", rows=trained.shape[0], columns=trained.shape[1], index=index,
                   layer=layer.name))
    edit = explain.edit_filter(model, image, index, edited.to_numpy(np.float32))
    middle.plotly_chart(figures.filter_map_figure(edit.feature_map, t("why.filter.map_title", index=index,
                                                                      layer=layer.name)), key="why_filter_map")
    before = explain.probabilities(model, image)
    series = {t("why.filter.trained"): before, t("why.filter.edited"): edit.probabilities}
    right.plotly_chart(figures.probabilities_figure(series), key="why_filter_probabilities")
    right.caption(why_text.filter_caption(edit, before))


@st.fragment
@explained_errors()
def nudge_panel(image: np.ndarray, model) -> None:
    """Signed-gradient steps towards a digit the learner picks, within a budget: the nudged digit and its answer."""
    st.header(t("why.nudge.header"))
    probabilities = explain.probabilities(model, image)
    if st.session_state.get("why_nudge_target") is None:
        st.session_state["why_nudge_target"] = int(np.argsort(probabilities)[-2])  # the runner-up: the nearest
    left, right = st.columns(2)
    target = left.segmented_control(t("why.nudge.target"), DIGITS, key="why_nudge_target")
    epsilon = right.slider(t("why.nudge.epsilon"), 0.0, 0.3, step=0.01, key="why_epsilon")
    nudged = explain.nudge_towards(model, image, target, epsilon)
    kind, sentence = why_text.nudge_outcome(nudged)
    getattr(left, kind)(sentence)
    right.caption(t("why.nudge.caption", target=target))
    digits, change = figures.nudge_figures(nudged)
    pictures, difference, bars = st.columns([2, 1, 2])
    pictures.plotly_chart(digits, key="why_nudge_digits", width="content")
    difference.plotly_chart(change, key="why_nudge_change", width="content")
    bars.plotly_chart(figures.probabilities_figure({t("why.nudge.before"): probabilities,
                                                    t("why.nudge.after"): nudged.probabilities}), key="why_nudge_bars")


st.title(t("why.title"))
st.markdown(t("why.intro"))
target = None  # the digit the panels explain, once there are a digit and a model that answers for it
with explained_errors():  # a model this page cannot take apart (or a bug): a sentence, and no panels after it
    if (found := digit_and_model()) is not None:
        image, model, name = found
        target = answer_panel(image, model, name)
if target is not None:
    occlusion_panel(image, model, target)
    gradient_panel(image, model, target)
    knockout_panel(image, model, target)
    filter_panel(image, model, name)
    nudge_panel(image, model)
