"""What did it learn? Each digit's ideal picture, each channel's favourite digits, where your digit lies among a
thousand test digits and which ones it resembles."""

import numpy as np
import streamlit as st

from cnnlib import explain
from cnnlib.errors import Refusal
from cnnlib.lessons.learned import views
from cnnlib.store.saved import list_models
from cnnlib.text import t
from pages import cached_mnist, ensure_app_navigation, workspace_folders
from pages.parts.errors import explained_errors
from pages.parts.models import chosen_model, explained_model
from pages.parts.state import DIGIT, init_page

ensure_app_navigation()

LOOKED_AT = 1000  # test digits the gallery's ranges, the favourites and the map are measured on
FAVOURITES, NEAREST = 9, 9
init_page({"learned_layer": None, "learned_channel": 0, "learned_gallery": False})


def test_digits() -> tuple[np.ndarray, np.ndarray]:
    """The first ``LOOKED_AT`` test digits, (N, 28, 28) in [0, 1], and their labels."""
    data = cached_mnist()
    return data.x_test[:LOOKED_AT] / np.float32(255), data.y_test[:LOOKED_AT]


@st.cache_data(max_entries=8, show_spinner=False)
def ideal_gallery(path: str, modified: float) -> tuple[np.ndarray, list]:
    """The ten ideal pictures of a saved model and where each score lies among the real digits of its class."""
    model = explained_model(path, modified, None)
    pictures = explain.class_images(model)
    return pictures, explain.score_ranges(model, pictures, *test_digits())


@st.cache_data(max_entries=32, show_spinner=False)
def favourites(path: str, modified: float, layer: str, channel: int) -> tuple[np.ndarray, np.ndarray]:
    """A channel's ideal picture and the indices of its favourite test digits."""
    model = explained_model(path, modified, None)
    return (explain.channel_image(model, layer, channel),
            explain.top_examples(model, layer, channel, test_digits()[0], FAVOURITES))


@st.cache_data(max_entries=8, show_spinner=False)
def digit_map(path: str, modified: float) -> np.ndarray:
    """The map of the test digits for a saved model (t-SNE of the layer before the output), once per model file."""
    return explain.projection(explained_model(path, modified, None), test_digits()[0])


def chosen() -> tuple[object, str, float] | None:
    """The chosen model (as ``cnnlib.explain`` reads it), its path and modification time; None after saying how to
    get one."""
    found = chosen_model(list_models(*workspace_folders()))
    if found is None:
        st.info(t("learned.empty.model"), icon=":material/info:")
        st.page_link("pages/train.py", label=t("why.empty.train_link"), icon=":material/model_training:")
        return None
    model = explained_model(str(found.path), found.modified, None)
    if isinstance(model, Refusal):
        st.error(str(model))
        return None
    st.caption(t("learned.model", model=found.name))
    return model, str(found.path), found.modified


@st.fragment
@explained_errors()
def gallery_panel(path: str, modified: float) -> None:
    """Each digit's ideal picture, found on request (about 10 s), with its score against the real digits."""
    st.header(t("learned.gallery.header"))
    st.markdown(t("learned.gallery.intro"))
    if not st.button(t("learned.gallery.find"), key="learned_find", icon=":material/auto_awesome:") and \
            not st.session_state["learned_gallery"]:
        return
    st.session_state["learned_gallery"] = True
    with st.spinner(t("learned.gallery.finding")):
        pictures, ranges = ideal_gallery(path, modified)
    st.plotly_chart(views.pictures_figure(pictures, views.gallery_titles(ranges)), key="learned_pictures")
    st.markdown("\n".join(f"- {views.gallery_caption(found)}" for found in ranges))


@st.fragment
@explained_errors()
def channel_panel(model, path: str, modified: float) -> None:
    """One conv channel: its ideal picture beside the test digits it responds to most."""
    st.header(t("learned.channel.header"))
    layers = explain.conv_layers(model)
    if not layers:
        st.info(t("learned.channel.no_conv"))
        return
    left, right = st.columns([1, 2])
    if st.session_state["learned_layer"] not in layers:
        st.session_state["learned_layer"] = layers[-1]  # the last: its channels answer to whole strokes
    layer = left.selectbox(t("learned.channel.layer"), layers, key="learned_layer")
    count = views.channel_count(model, layer)
    st.session_state["learned_channel"] = min(st.session_state["learned_channel"], count - 1)
    channel = left.number_input(t("learned.channel.channel", last=count - 1), 0, count - 1, key="learned_channel")
    with st.spinner(t("learned.channel.finding")):
        picture, best = favourites(path, modified, layer, int(channel))
    left.plotly_chart(views.pictures_figure(picture[None], [t("learned.channel.ideal")], 1), key="learned_ideal")
    images, labels = test_digits()
    right.markdown(t("learned.channel.favourites", count=len(best), layer=layer, channel=channel, total=LOOKED_AT))
    right.plotly_chart(views.pictures_figure(images[best], views.nearest_titles(best, labels), columns=5),
                       key="learned_favourites")


@st.fragment
@explained_errors()
def map_panel(model, path: str, modified: float) -> None:
    """The test digits mapped from the layer before the output, the learner's digit as a star, its nearest ones."""
    st.header(t("learned.map.header"))
    st.markdown(t("learned.map.intro", count=LOOKED_AT))
    with st.spinner(t("learned.map.drawing")):
        points = digit_map(path, modified)
    images, labels = test_digits()
    image = st.session_state[DIGIT]
    near = None if image is None else explain.nearest(model, np.asarray(image, np.float32), images, NEAREST)
    mine = None if near is None else explain.place_on_map(points, near)
    st.plotly_chart(views.map_figure(points, labels, mine), key="learned_map")
    if near is None:
        st.info(t("learned.map.no_digit"), icon=":material/draw:")
        return
    st.markdown(t("learned.nearest.header", count=NEAREST))
    st.plotly_chart(views.pictures_figure(images[near], views.nearest_titles(near, labels), columns=NEAREST),
                    key="learned_nearest")


st.title(t("learned.title"))
st.markdown(t("learned.intro"))
with explained_errors():
    found = chosen()
if found is not None:
    model, path, modified = found
    gallery_panel(path, modified)
    channel_panel(model, path, modified)
    map_panel(model, path, modified)
