"""Progress folded from the trainer's events, the smoothed cost and the diagnosis: pure, no TensorFlow."""

import math

import numpy as np
import pytest

from cnnlib.training.diagnosis import CHANCE_COST, Sign, diagnose, smoothed
from cnnlib.training.history import History
from cnnlib.training.events import apply_event
from cnnlib.training.progress import Ending, Phase, Progress, RunState
from cnnlib.training.sentences import device_text, diagnosis_sentence

STARTED = {"event": "started", "device": {"kind": "cpu", "threads": 2}, "data_source": "offline", "train_count": 200,
           "validation_count": 18, "test_count": 1000, "epochs": 2, "batch_size": 100, "steps_per_epoch": 2}


def test_redrawing_before_the_first_batch_is_a_phase_of_its_own():
    progress = Progress(state=RunState.RUNNING, phase=Phase.STARTING)
    apply_event(progress, {"event": "redrawing", "count": 3667})
    assert (progress.phase, progress.redrawing_count) == (Phase.REDRAWING, 3667)
    apply_event(progress, STARTED)
    assert progress.phase == Phase.TRAINING


def test_apply_event_builds_the_snapshot_the_page_draws():
    progress = Progress(state=RunState.RUNNING)
    apply_event(progress, STARTED)
    for batch, (cost, t) in enumerate([(2.3, 0.5), (1.9, 0.6)], start=1):
        apply_event(progress, {"event": "batch", "epoch": 1, "batch": batch, "cost": cost, "t": t})
    apply_event(progress, {"event": "epoch", "epoch": 1, "cost": 2.1, "accuracy": 0.3, "val_cost": 1.8,
                           "val_accuracy": 0.5, "seconds": 0.6, "images_per_second": 333.0, "t": 0.7})
    assert (device_text(progress.device), progress.epoch, progress.batch) == ("CPU (2 threads)", 1, 2)
    assert progress.batch_positions == [0.5, 1.0]
    assert progress.images_per_second == pytest.approx(100 / 0.1)  # 1 batch of 100 in the 0.1 s between them
    assert progress.fraction_done == 0.5 and progress.eta_s == pytest.approx(0.2)
    assert progress.epoch_costs == [2.1] and progress.val_accuracies == [0.5] and progress.epoch_positions == [1.0]
    assert progress.epoch_times == [0.7]
    apply_event(progress, {"event": "evaluated", "test_accuracy": 0.9, "confusion": np.eye(10).tolist(),
                           "misclassified": [[3, 4, 9]], "misclassified_count": 1})
    apply_event(progress, {"event": "finished", "summary": {}})
    assert progress.state == "done" and progress.finished and progress.eta_s is None
    assert progress.misclassified == [[3, 4, 9]] and progress.phase == Phase.FINISHED


def test_stop_and_failure_events_settle_the_state():
    progress = Progress(state=RunState.RUNNING)
    apply_event(progress, {"event": "stopped", "epoch": 1, "batch": 3})
    assert progress.state == RunState.STOPPING and progress.stopped_early
    apply_event(progress, STARTED)  # a late "started" keeps the stop that was asked for
    assert progress.state == RunState.STOPPING
    apply_event(progress, {"event": "failed", "message": "ValueError: bad file"})
    assert (progress.state, progress.ending, progress.message) == ("failed", Ending.TRAINER_ERROR,
                                                                   "ValueError: bad file")
    apply_event(progress, {"event": "no such event"})  # ignored


def test_run_states_say_whether_a_run_trains_or_is_over():
    assert [state for state in RunState if state.training] == [RunState.RUNNING, RunState.STOPPING]
    assert [state for state in RunState if state.finished] == [RunState.DONE, RunState.FAILED, RunState.CANCELLED]
    assert RunState("queued") == "queued"  # a StrEnum: JSON and comparisons see the plain name


def test_smoothed_starts_at_the_first_cost_and_follows_the_trend():
    assert smoothed([2.0, 2.0, 2.0]) == pytest.approx([2.0, 2.0, 2.0])
    trend = smoothed([2.0, 1.0, 1.0, 1.0])
    assert trend[0] == 2.0 and 1.0 < trend[-1] < trend[1] < 2.0


def test_diagnose_spots_exploding_chance_and_dead_digits():
    healthy = Progress(batch_costs=[2.3, 1.5, 1.0, 0.6, 0.4, 0.3], val_accuracies=[0.9])
    assert diagnose(healthy) == []
    exploding = Progress(batch_costs=[60.0, 55.0, 50.0, 48.0, 45.0])
    assert diagnose(exploding)[0].kind == "exploding"
    recovered = Progress(batch_costs=[60.0] * 5 + [1.0] * 200, val_accuracies=[0.6])
    assert [d.kind for d in diagnose(recovered)] == ["exploded"]
    chance = Progress(batch_costs=[CHANCE_COST] * 120, val_accuracies=[0.1])
    assert [d.kind for d in diagnose(chance)] == ["chance"]
    confusion = np.zeros((10, 10), int)
    confusion[:, 8] = 100  # predicts 8 for everything
    dead = diagnose(Progress(confusion=confusion.tolist()))[0]
    assert "never predicts 0, 1, 2, 3, 4, 5, 6, 7, 9" in diagnosis_sentence(dead)
    assert diagnose(Progress(batch_costs=[2.0, math.nan]))[0].kind == "exploding"


def test_diagnoses_are_data_and_their_sentences_carry_the_numbers():
    exploding = diagnose(Progress(batch_costs=[60.0, 55.0, 50.0, 48.0, 45.0]))[0]
    assert exploding.kind == Sign.EXPLODING and exploding.values["cost"] > 4 * CHANCE_COST
    assert diagnosis_sentence(exploding) == (f"The cost is {exploding.values['cost']:,.1f}, "
                                             f"{exploding.values['cost'] / CHANCE_COST:,.0f} times the 2.30 of "
                                             "guessing at random.")
    stuck = diagnose(Progress(batch_costs=[CHANCE_COST] * 120))[0]
    assert diagnosis_sentence(stuck) == ("The cost is stuck at 2.30 = ln 10, the cost of guessing each digit with "
                                         "probability 1/10.")
    guessing = diagnose(Progress(val_accuracies=[0.5, 0.1]))[0]
    assert diagnosis_sentence(guessing) == ("Validation accuracy is 10% after 2 epoch(s): no better than guessing "
                                            "(10%).")
    assert diagnosis_sentence(diagnose(Progress(batch_costs=[math.inf]))[0]) == (
        "The cost became infinite or NaN: training diverged.")


def test_a_history_view_keeps_its_length_and_shares_the_items():
    live = History([1.0, 2.0])
    view = live.view()
    live.append(3.0)
    assert view == [1.0, 2.0] and len(view) == 2 and list(view) == [1.0, 2.0] and view[-1] == 2.0
    assert view[-5:] == [1.0, 2.0] and live[1:] == [2.0, 3.0] and np.asarray(view).tolist() == [1.0, 2.0]
    assert view._items is live._items and not History() and live == History([1.0, 2.0, 3.0])
    with pytest.raises(IndexError):
        view[2]
    with pytest.raises(TypeError):
        view.append(4.0)


def test_a_progress_snapshot_is_a_copy_whose_series_stop_where_they_were():
    progress = Progress(state=RunState.RUNNING)
    apply_event(progress, STARTED)
    apply_event(progress, {"event": "batch", "epoch": 1, "batch": 1, "cost": 2.3, "t": 0.5})
    snapshot = progress.snapshot()
    apply_event(progress, {"event": "batch", "epoch": 1, "batch": 2, "cost": 1.9, "t": 0.6})
    assert (snapshot.batch, snapshot.batches_done, snapshot.batch_costs) == (1, 1, [2.3])
    assert (progress.batch, progress.batches_done) == (2, 2)
    assert snapshot.batch_costs._items is progress.batch_costs._items  # shared, not copied
