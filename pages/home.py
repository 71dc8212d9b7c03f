"""Home: what the app teaches, and the MNIST digits it uses. No TensorFlow here: this page must open fast."""

import streamlit as st

from cnnlib.mnist.data import MnistData
from cnnlib.figures.grids import image_grid
from cnnlib.mnist.figures import class_counts_figure
from cnnlib.text import t
from pages import cached_mnist, ensure_app_navigation
from pages.parts.errors import explained_errors
from pages.parts.state import init_page

ensure_app_navigation()

SAMPLE_COUNT = 30
init_page({})


def intro_panel() -> None:
    """What the app teaches and the three steps."""
    st.title(t("common.app_title"))
    st.markdown(t("home.intro"))
    steps = st.columns(3)
    for column, (page, step, icon) in zip(steps, (("toy_convolution", "toy", "grid_on"), ("draw_digit", "draw", "draw"),
                                                  ("train", "train", "model_training"))):
        column.page_link(f"pages/{page}.py", label=t(f"home.step.{step}"), icon=f":material/{icon}:")
        column.caption(t(f"home.step.{step}_caption"))


def data_panel(data: MnistData) -> None:
    """Which data set is active (and why), its class balance, and sample digits with their labels."""
    st.header(t("home.data_header"))
    st.markdown(data.description)
    for note in data.notes:
        st.info(note, icon=":material/wifi_off:")
    images, labels = data.x_train[:SAMPLE_COUNT], data.y_train[:SAMPLE_COUNT]
    st.caption(t("home.shapes", x_train=data.x_train.shape, y_train=data.y_train.shape, x_test=data.x_test.shape,
                 y_test=data.y_test.shape))
    st.plotly_chart(image_grid(images, [t("home.label", label=label) for label in labels], zmin=0, zmax=255),
                    key="home_sample_digits")
    left, right = st.columns(2)
    left.plotly_chart(class_counts_figure(data.class_counts("train"), t("home.train_counts")), key="home_train_counts")
    right.plotly_chart(class_counts_figure(data.class_counts("test"), t("home.test_counts")), key="home_test_counts")


intro_panel()
with explained_errors(within="common.mnist_failed"):
    data_panel(cached_mnist())
