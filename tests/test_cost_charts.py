"""The Train page's cost charts (ECharts options): what they hold, what they leave out, in both languages."""

import numpy as np
import pytest

from cnnlib import text
from cnnlib.text import t
from cnnlib.training.cost_charts import (MAX_POINTS, cost_curve_alt, cost_curve_chart, every_kth, plottable_costs,
                                         runs_overlay_alt, runs_overlay_chart)
from cnnlib.training.diagnosis import CHANCE_COST
from cnnlib.training.progress import Progress


def progress_of(costs, epochs: int = 0, steps_per_epoch: int = 10) -> Progress:
    """A run's progress with these batch costs and ``epochs`` finished epochs."""
    progress = Progress()
    progress.steps_per_epoch = steps_per_epoch
    for cost in costs:
        progress.batch_costs.append(float(cost))
    for epoch in range(1, epochs + 1):
        progress.epoch_positions.append(float(epoch))
        progress.epoch_costs.append(1.0 / epoch)
        progress.val_accuracies.append(0.9 + epoch / 100)
    return progress


def columns_read(chart: dict) -> list[tuple[str, list[str]]]:
    """Each series' (encoded columns, its dataset's columns)."""
    return [(list(series["encode"].values()), list(chart["dataset"][series["datasetIndex"]]["source"].columns))
            for series in chart["series"]]


def test_every_kth_keeps_at_most_the_maximum_and_always_the_last():
    assert every_kth(list(range(5)), max_points=10) == [0, 1, 2, 3, 4]
    kept = every_kth(list(range(4999)), max_points=2000)
    assert len(kept) <= 2000 and kept[-1] == 4998 and len(set(np.diff(kept))) == 1


def test_costs_the_log_axis_cannot_show_become_gaps():
    costs = plottable_costs([2.3, float("inf"), float("nan"), 0.0, -1.0, 0.05])
    assert costs.dtype == np.float32
    assert costs[0] == pytest.approx(2.3) and costs[5] == pytest.approx(0.05)
    assert np.isnan(costs[1:5]).all()


def test_the_empty_curve_has_its_axes_series_and_guessing_level():
    chart = cost_curve_chart(Progress())
    assert [len(dataset["source"]) for dataset in chart["dataset"]] == [0, 0]
    assert [series["name"] for series in chart["series"]] == [t("train.figure.each_batch"), t("train.figure.smoothed"),
                                                              t("train.figure.epoch_mean"), t("train.figure.validation")]
    assert chart["yAxis"][0]["type"] == "log" and chart["yAxis"][1]["max"] == 100
    assert (chart["yAxis"][0]["min"], chart["yAxis"][0]["max"], chart["xAxis"]["max"]) == (0.1, 10, 1)  # scales shown
    assert chart["series"][1]["markLine"]["data"] == [{"yAxis": CHANCE_COST}]
    assert cost_curve_alt(Progress()) == t("train.figure.alt_empty")


def test_the_curve_holds_each_batch_and_epoch_with_validation_in_percent():
    progress = progress_of([2.3, 1.0, 0.5, 0.25] * 5, epochs=2)
    chart = cost_curve_chart(progress)
    batches, epochs = (dataset["source"] for dataset in chart["dataset"])
    assert len(batches) == 20 and batches.iloc[-1, 0] == pytest.approx(2.0)
    assert list(epochs.iloc[:, 2]) == pytest.approx([91.0, 92.0])
    for encoded, columns in columns_read(chart):
        assert set(encoded) <= set(columns), (encoded, columns)
    assert "max" not in chart["xAxis"] and "min" not in chart["yAxis"][0]  # the data sets the scales
    assert cost_curve_alt(progress).startswith("Cost curve: 20 batches")


def test_a_long_run_sends_at_most_max_points_and_says_so():
    chart = cost_curve_chart(progress_of(np.linspace(2.3, 0.1, 3 * MAX_POINTS + 1), steps_per_epoch=100))
    assert len(chart["dataset"][0]["source"]) <= MAX_POINTS
    assert chart["series"][0]["name"] == t("train.figure.each_batch_thinned", step=4)


def test_a_curve_that_exploded_says_so_without_a_number():
    progress = progress_of([2.3, float("inf"), float("nan")])
    assert cost_curve_alt(progress).endswith("cost -.")
    assert np.isnan(cost_curve_chart(progress)["dataset"][0]["source"].iloc[1:, 1]).all()


def test_the_overlay_gives_each_run_its_datasets_and_colour():
    runs = [("#1", progress_of([2.0, 1.0], epochs=1)), ("#2", progress_of([2.0, 0.5, 0.3], epochs=2))]
    chart = runs_overlay_chart(runs)
    assert len(chart["dataset"]) == 4 and [series["datasetIndex"] for series in chart["series"]] == [0, 1, 2, 3]
    assert chart["series"][0]["lineStyle"]["color"] != chart["series"][2]["lineStyle"]["color"]
    for encoded, columns in columns_read(chart):
        assert set(encoded) <= set(columns)
    assert "#1; #2" in runs_overlay_alt([label for label, _ in runs])


def test_the_charts_speak_korean(monkeypatch):
    monkeypatch.setattr(text, "_language_resolver", lambda: "ko")
    chart = cost_curve_chart(progress_of([2.3, 1.0], epochs=1))
    assert chart["xAxis"]["name"] == "에폭" and "에폭" in chart["dataset"][0]["source"].columns
    assert cost_curve_alt(progress_of([2.3, 1.0])).startswith("비용 곡선: 배치 2개")
