"""The confusion matrix down to its digits: the table a learner clicks, the cell's test digits with how sure the
network was (the surest first), and the choice of one to open on the Draw page."""

from __future__ import annotations

import numpy as np
from streamlit.testing.v1 import AppTest

from cnnlib import explain
from cnnlib.store.saved import save_model
from cnnlib.training.figures import confusion_table


def cell_script(model_path: str, clicked: tuple[int, int]) -> None:
    """The Train page's cell panel for a finished run of the model at ``model_path``, ``clicked`` chosen."""
    from cnnlib.training.progress import Progress
    from pages import cached_mnist
    from pages.parts.confusion import cell_panel

    cell_panel(Progress(model_path=model_path), cached_mnist("offline"), clicked)


def test_the_table_shades_each_count_and_keeps_rows_true_and_columns_predicted():
    matrix = np.diag(np.full(10, 90))
    matrix[3, 5] = 7
    table = confusion_table(matrix)
    assert table.data.loc["3", "5"] == 7 and list(table.data.columns) == [str(digit) for digit in range(10)]
    styles = {cell: dict(pairs) for cell, pairs in table._compute().ctx.items()}  # (row, column): {property: value}
    assert styles[(0, 0)]["color"] == "white" and styles[(3, 5)]["color"] == "black"  # a full cell dark, white text
    assert styles[(0, 1)]["background-color"] != styles[(0, 0)]["background-color"]


def test_a_clicked_cell_shows_its_digits_the_surest_first_to_open_one(small_trained_model, offline_mnist, tmp_path):
    path = save_model(small_trained_model, "cells", {"test_accuracy": 0.9}, tmp_path).path
    answers = explain.answers(small_trained_model, offline_mnist.x_test / np.float32(255))
    predicted = np.argmax(answers, axis=1)
    off = explain.confusion_matrix(offline_mnist.y_test, predicted) * (1 - np.eye(10, dtype=int))
    true, wrong = np.unravel_index(np.argmax(off), off.shape)  # the most confused pair
    at = AppTest.from_function(cell_script, args=(str(path), (int(true), int(wrong))), default_timeout=60).run()
    assert not at.exception
    assert at.markdown[0].value.startswith(f"**{true} → {wrong}**: {off[true, wrong]:,} test digit(s)")
    options = at.selectbox(key="train_cell_digit").options
    cell = explain.cell_digits(offline_mnist.y_test, answers, int(true), int(wrong))
    assert len(options) == min(off[true, wrong], 30)
    assert options[0].startswith(f"x_test[{cell.indices[0]}]: ") and all(
        offline_mnist.y_test[index] == true and predicted[index] == wrong for index in cell.indices)
    assert list(cell.confidence) == sorted(cell.confidence, reverse=True)
