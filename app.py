"""CNN Explorer: navigation and page config only; each page lives in pages/."""

import streamlit as st

st.set_page_config(page_title="CNN Explorer", page_icon=":material/grid_on:", layout="wide")

navigation = st.navigation(
    [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/toy_convolution.py", title="Toy convolution", icon=":material/grid_on:"),
        st.Page("pages/draw_digit.py", title="Draw a digit", icon=":material/draw:"),
        st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    ]
)
navigation.run()
