"""The Train page's confusion matrix down to its digits: click a cell, see its test digits with how sure the network
was, open one on the Draw page (and from there Why this answer?)."""

from pathlib import Path

import numpy as np
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from cnnlib import explain
from cnnlib.errors import Refusal
from cnnlib.lessons.learned.confusion import CELL_DIGITS_SHOWN
from cnnlib.mnist.data import MnistData
from cnnlib.text import t
from cnnlib.training.figures import confusion_table, digit_pictures
from cnnlib.training.progress import Progress
from cnnlib.training.sentences import cell_options, cell_titles
from pages.parts.models import explained_model

CELL_PX = 40  # a column of the confusion table: ten of them and the true digit fit the results' left column


@st.cache_data(max_entries=8, show_spinner=False)
def test_answers(model_path: str, modified: float, x_test: np.ndarray) -> np.ndarray | Refusal:
    """(N, 10): the saved model's probabilities for every test digit, once per model file and test set; or why the
    model cannot be read."""
    model = explained_model(model_path, modified, None)
    return model if isinstance(model, Refusal) else explain.answers(model, np.asarray(x_test, np.float32) / 255)


def chosen_cell(where: DeltaGenerator, progress: Progress) -> tuple[int, int] | None:
    """The matrix as a table whose cells can be clicked; the (true, predicted) digits of the cell clicked, or None."""
    where.markdown(t("train.results.confusion"))
    narrow = {str(digit): st.column_config.NumberColumn(width=CELL_PX) for digit in range(10)}
    event = where.dataframe(confusion_table(progress.confusion), key="train_confusion", on_select="rerun",
                            selection_mode="single-cell", column_config={"_index": st.column_config.Column(
                                width=CELL_PX), **narrow}, width="content")
    cells = event.selection.cells
    return (int(cells[0][0]), int(cells[0][1])) if cells else None


def open_on_draw_page(index: int) -> None:
    """Show test digit ``index`` on the Draw page, as an MNIST sample from the test digits."""
    st.session_state.update(draw_source="sample", draw_sample_split="test", draw_sample_index=index)
    st.switch_page("pages/draw_digit.py")


def cell_panel(progress: Progress, data: MnistData, clicked: tuple[int, int]) -> None:
    """The ``clicked`` cell's test digits (true, predicted), the surest answers first, and a way to open one."""
    path = Path(progress.model_path) if progress.model_path else None
    answers = test_answers(str(path), path.stat().st_mtime, data.x_test) if path and path.is_file() else None
    if not isinstance(answers, np.ndarray):
        st.info(str(answers) if answers is not None else t("train.results.cell_no_model"))
        return
    cell = explain.cell_digits(data.y_test, answers, *clicked)
    st.markdown(t("train.results.cell_header", true=cell.true_digit, predicted=cell.predicted_digit,
                  count=cell.count, shown=CELL_DIGITS_SHOWN))
    if not cell.count:
        st.caption(t("train.results.cell_empty", true=cell.true_digit, predicted=cell.predicted_digit))
        return
    st.plotly_chart(digit_pictures(data.x_test[cell.indices], cell_titles(cell)), key="train_cell_digits")
    options = cell_options(cell)
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    index = left.selectbox(t("train.results.cell_choose"), list(options), format_func=options.get,
                           key="train_cell_digit")
    if right.button(t("train.results.cell_open"), key="train_cell_open", icon=":material/draw:",
                    help=t("train.results.cell_open_help")):
        open_on_draw_page(index)
