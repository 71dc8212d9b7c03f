"""Home: what the app teaches, and the MNIST digits it uses. No TensorFlow here: this page must open fast."""

import streamlit as st

from cnnlib.data import MnistData, load_mnist
from cnnlib.plots import class_counts_bar, image_grid
from pages import ensure_app_navigation

ensure_app_navigation()

SAMPLE_COUNT = 30


@st.cache_resource(show_spinner="Loading MNIST…")
def mnist() -> MnistData:
    """MNIST from the active source, loaded once per server."""
    return load_mnist()


def intro_panel() -> None:
    """What the app teaches and the three steps."""
    st.title("CNN Explorer")
    st.markdown(
        "See how a convolutional neural network works, one number at a time. This app is the Korean "
        "TensorFlow tutorial *CNN 구현* made live in TensorFlow 2: you follow a 3x3 toy image through a "
        "convolution and a max-pool, then watch a digit you draw turn into feature maps, then train the "
        "tutorial's network on MNIST and ask it what you drew."
    )
    steps = st.columns(3)
    steps[0].page_link("pages/toy_convolution.py", label="1. Toy convolution", icon=":material/grid_on:")
    steps[0].caption("Every multiply-and-sum of a 3x3 image and a 2x2x1x3 filter bank, and where SAME padding goes.")
    steps[1].page_link("pages/draw_digit.py", label="2. Draw a digit", icon=":material/draw:")
    steps[1].caption("Your digit as MNIST sees it, its feature maps after conv and pool, and a trained model's answer.")
    steps[2].page_link("pages/train.py", label="3. Train", icon=":material/model_training:")
    steps[2].caption("Train the tutorial's conv-pool-conv-pool-FC-FC-FC network and watch its cost fall.")


def data_panel(data: MnistData) -> None:
    """Which data set is active (and why), its class balance, and sample digits with their labels."""
    st.header("The data")
    st.markdown(data.description)
    for note in data.notes:
        st.info(note, icon=":material/wifi_off:")
    images, labels = data.x_train[:SAMPLE_COUNT], data.y_train[:SAMPLE_COUNT]
    st.caption(f"x_train {data.x_train.shape} uint8 0..255, y_train {data.y_train.shape}; "
               f"x_test {data.x_test.shape}, y_test {data.y_test.shape}. "
               "The first digit is `x_train[0]`, the first training image. The tutorial's "
               "`mnist.train.images[0]` is full MNIST's `x_train[5000]`: TensorFlow 1's reader set the first "
               "5,000 training digits aside for validation.")
    st.plotly_chart(image_grid(images, [f"label {label}" for label in labels], zmin=0, zmax=255),
                    key="home_sample_digits")
    left, right = st.columns(2)
    left.plotly_chart(class_counts_bar(data.class_counts("train"), "Training digits per class"),
                      key="home_train_counts")
    right.plotly_chart(class_counts_bar(data.class_counts("test"), "Test digits per class"), key="home_test_counts")


intro_panel()
try:
    data_panel(mnist())
except ValueError as error:
    st.error(f"MNIST could not be loaded: {error}")
