"""Runs belong to a learner and end without loss: Stop in every phase, a dying trainer, a trainer kept ready.

The trainer here is ``tests/fake_trainer.py`` (the real protocol, scripted timing and faults), so each test takes a
second or two; the real trainer's own Stop and queue are covered in tests/test_train.py.
"""

from pathlib import Path
from types import SimpleNamespace
import threading
import time

import pytest
from conftest import FAKE_TRAINER, script

from cnnlib.training import runs, training_run
from cnnlib.training.config import TrainConfig
from cnnlib.training.progress import Ending, Phase, RunState
from cnnlib.training.runs import Launcher, RunBusy, RunRegistry, TrainingRun
from cnnlib.training.sentences import ending_text, run_outcome

WAIT_S = 30
PROMPT_S = 1.0  # what the registry's lock may take to answer while a trainer starts or ends elsewhere


@pytest.fixture
def registry(tmp_path, monkeypatch):
    """A one-at-a-time registry of fake trainers saving into a temporary folder; every run ends with the test."""
    monkeypatch.setenv("CNN_EXPLORER_MODELS_DIR", str(tmp_path))
    registry = RunRegistry(max_running=1, launcher=Launcher(FAKE_TRAINER))
    yield registry
    registry.shutdown()


def wait_for(run, condition, timeout_s: float = WAIT_S):
    """The run's progress once ``condition(progress)`` holds; fail with the run's ending if it never does."""
    deadline = time.monotonic() + timeout_s
    while not condition(progress := run.snapshot()):
        assert time.monotonic() < deadline, (progress.state, progress.phase, ending_text(progress))
        time.sleep(0.02)
    return progress


def finished(run):
    """The run's progress once it has finished and its thread is done."""
    assert run.wait(WAIT_S), run.snapshot()
    return run.snapshot()


def test_stop_before_the_first_batch_ends_at_once_as_stopped_not_failed(registry, monkeypatch):
    script(monkeypatch, start_s=30)
    run = registry.submit(TrainConfig(), "learner")
    wait_for(run, lambda progress: progress.phase == Phase.STARTING)
    run.stop()
    progress = finished(run)
    assert (progress.state, progress.ending) == (RunState.CANCELLED, Ending.BEFORE_START)
    assert run_outcome(progress, "#1")[0] == "info" and "before training began" in ending_text(progress)
    assert run._process.poll() is not None


def test_stop_while_training_answers_after_the_batch_and_saves(registry, monkeypatch, tmp_path):
    script(monkeypatch, batches=200)
    run = registry.submit(TrainConfig(model_name="m"), "learner")
    wait_for(run, lambda progress: progress.batches_done >= 2)
    run.stop()
    progress = finished(run)
    assert progress.state == RunState.DONE and progress.stopped_early and progress.test_accuracy == 0.9
    assert (tmp_path / "m.keras").is_file()


@pytest.mark.parametrize("phase", [Phase.EVALUATING, Phase.SAVING])
def test_stop_while_evaluating_or_saving_lets_it_finish(registry, monkeypatch, tmp_path, phase):
    monkeypatch.setattr(training_run, "STOP_ANSWER_TIMEOUT_S", 0.3)  # far shorter than evaluating and saving take here
    script(monkeypatch, eval_s=1.5, save_s=1.5)
    run = registry.submit(TrainConfig(model_name="m"), "learner")
    wait_for(run, lambda progress: progress.phase == phase)
    run.stop()
    progress = finished(run)
    assert progress.state == RunState.DONE and progress.ending is None and (tmp_path / "m.keras").is_file()


def test_stop_after_the_last_batch_lets_evaluation_and_saving_finish(registry, monkeypatch, tmp_path):
    script(monkeypatch, batches=3, pause_s=1.0)
    run = registry.submit(TrainConfig(model_name="m"), "learner")
    wait_for(run, lambda progress: progress.batches_done == 6)
    run.stop()
    progress = finished(run)
    assert progress.state == RunState.DONE and not progress.stopped_early and (tmp_path / "m.keras").is_file()


def test_a_trainer_that_ignores_stop_is_ended_and_says_so(registry, monkeypatch):
    monkeypatch.setattr(training_run, "STOP_ANSWER_TIMEOUT_S", 0.5)
    script(monkeypatch, batches=1000, ignore_stop=True)
    run = registry.submit(TrainConfig(), "learner")
    wait_for(run, lambda progress: progress.batches_done >= 1)
    run.stop()
    progress = finished(run)
    assert (progress.state, progress.ending) == (RunState.FAILED, Ending.NO_ANSWER)


def test_a_killed_trainer_fails_with_the_signal_and_the_next_run_starts(registry, monkeypatch):
    script(monkeypatch, die_at=3)
    killed = registry.submit(TrainConfig(), "a")
    script(monkeypatch)
    queued = registry.submit(TrainConfig(), "b")
    progress = finished(killed)
    assert (progress.state, progress.ending, progress.exit_code) == (RunState.FAILED, Ending.SIGNAL, -9)
    assert "killed by signal 9" in ending_text(progress)
    assert finished(queued).state == RunState.DONE


def test_a_trainer_that_cannot_start_fails_with_a_sentence_and_frees_its_slot(tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_EXPLORER_MODELS_DIR", str(tmp_path))
    registry = RunRegistry(max_running=1, launcher=Launcher((str(tmp_path / "no-such-python"),)))
    first, second = registry.submit(TrainConfig(), "a"), registry.submit(TrainConfig(), "b")
    for run in (first, second):
        progress = finished(run)
        assert (progress.state, progress.ending) == (RunState.FAILED, Ending.NOT_STARTED)
        assert ending_text(progress).startswith("The trainer process could not be started: No such file")
        assert str(tmp_path) not in ending_text(progress)
    registry.shutdown()


def test_an_event_the_server_cannot_read_still_settles_the_run(registry, monkeypatch):
    script(monkeypatch, bad_event=True)
    progress = finished(registry.submit(TrainConfig(), "learner"))
    assert (progress.state, progress.ending) == (RunState.FAILED, Ending.TRAINER_ERROR)
    assert not registry.active()


def test_a_model_that_cannot_be_saved_says_so_without_a_folder(registry, monkeypatch):
    script(monkeypatch, fail_saving="NotADirectoryError: Not a directory")
    progress = finished(registry.submit(TrainConfig(), "learner"))
    assert (progress.state, progress.ending) == (RunState.FAILED, Ending.SAVE_FAILED)
    assert ending_text(progress).startswith("The network was trained and tested, but the model could not be saved: "
                                            "NotADirectoryError: Not a directory.")


def test_each_learner_has_one_run_on_at_a_time_and_finds_it_again(registry, monkeypatch):
    script(monkeypatch, batches=200)
    mine = registry.submit(TrainConfig(), "a")
    with pytest.raises(RunBusy, match="already have a training"):
        registry.submit(TrainConfig(), "a")
    theirs = registry.submit(TrainConfig(), "b")
    assert registry.latest("a") is mine and registry.latest("b") is theirs and registry.latest("c") is None
    assert registry.runs("a") == [mine] and theirs.state == RunState.QUEUED
    mine.stop()
    finished(mine)
    again = registry.submit(TrainConfig(), "a")
    assert registry.latest("a") is again and (again.number, theirs.number) == (2, 1)


def test_a_cancel_and_a_start_never_race(registry, monkeypatch):
    script(monkeypatch, batches=2, batch_s=0.01)
    for attempt in range(6):  # Stop lands before, while or after the slot frees and the queued run starts
        first, second = registry.submit(TrainConfig(), "a"), registry.submit(TrainConfig(), "b")
        waiter = threading.Thread(target=first.wait, args=(WAIT_S,))
        waiter.start()
        time.sleep(0.1 * (attempt % 3))
        second.stop()
        waiter.join()
        progress = finished(second)
        assert (progress.ending == Ending.CANCELLED) == (second._process is None), (progress.state, progress.ending)


def test_a_trainer_is_kept_ready_and_used_by_the_next_run(registry, monkeypatch):
    script(monkeypatch)
    registry.keep_trainer_ready()
    ready = registry.launcher._spare.process
    run = registry.submit(TrainConfig(), "learner")
    assert run._process is ready
    assert finished(run).state == RunState.DONE
    wait_for(run, lambda _: registry.launcher._spare is not None)  # another is started once no run trains
    script(monkeypatch, batches=1)  # the environment changed: the one kept ready is not used
    stale = registry.launcher._spare.process
    run = registry.submit(TrainConfig(), "learner")
    assert run._process is not stale and finished(run).state == RunState.DONE


def test_only_the_newest_finished_runs_are_kept_per_learner_and_per_server(registry, monkeypatch):
    script(monkeypatch, batches=1, batch_s=0.0)
    monkeypatch.setattr(runs, "KEPT_RUNS", 2)
    monkeypatch.setattr(runs, "KEPT_RUNS_PER_SERVER", 3)
    for _ in range(3):
        finished(registry.submit(TrainConfig(), "a"))
    assert [run.number for run in registry.runs("a")] == [2, 3]
    for owner in "bc":
        finished(registry.submit(TrainConfig(), owner))
    assert [(run.owner, run.number) for run in registry.runs()] == [("a", 3), ("b", 1), ("c", 1)]


def test_messages_from_the_trainer_name_files_never_folders():
    from cnnlib.store.files import without_folders
    from cnnlib.training.cli import failure_message

    assert failure_message(NotADirectoryError(20, "Not a directory", "/srv/models/a.keras")) == (
        "NotADirectoryError: Not a directory")
    assert failure_message(ValueError("cannot read /srv/data/mnist.npz\nmore")) == "ValueError: cannot read mnist.npz"
    assert without_folders("--npz /tmp/x/missing.npz: no such file") == "--npz missing.npz: no such file"


def promptly(call):
    """``call()``'s result, asserting it came within ``PROMPT_S`` (from a thread, so a stuck lock fails, not hangs)."""
    result, started = [], time.monotonic()
    caller = threading.Thread(target=lambda: result.append(call()), daemon=True)
    caller.start()
    caller.join(PROMPT_S)
    assert result, f"no answer within {PROMPT_S} s: the registry's lock is held"
    return result[0], time.monotonic() - started


class EndsSlowly:
    """A stale trainer kept ready (started in another environment) whose end() blocks until released."""

    def __init__(self, folder: Path) -> None:
        self.process = SimpleNamespace(poll=lambda: None)
        self.stderr_path, self.environment = folder / "stale.log", {"seen": "another environment"}
        self.ending, self.released = threading.Event(), threading.Event()

    def end(self) -> None:
        self.ending.set()
        self.released.wait(WAIT_S)


def test_the_lock_is_free_while_a_stale_trainer_is_ended(registry, monkeypatch, tmp_path):
    script(monkeypatch, batches=3)
    stale = registry.launcher._spare = EndsSlowly(tmp_path)
    submitted = []
    submitter = threading.Thread(target=lambda: submitted.append(registry.submit(TrainConfig(), "a")))
    submitter.start()
    assert stale.ending.wait(WAIT_S)  # it is being ended now, and stays so until released
    run, _ = promptly(lambda: registry.latest("a"))
    progress, _ = promptly(run.snapshot)
    other, _ = promptly(lambda: registry.submit(TrainConfig(), "b"))
    assert progress.state == RunState.RUNNING and other.state == RunState.QUEUED and not stale.released.is_set()
    submitter.join(PROMPT_S)
    assert submitted == [run]  # Start does not wait for the stale trainer either: it is ended in the background
    stale.released.set()
    assert finished(run).state == RunState.DONE and finished(other).state == RunState.DONE


class SlowToStart(Launcher):
    """A launcher whose trainers take until released to start."""

    def __init__(self) -> None:
        super().__init__(FAKE_TRAINER)
        self.taking, self.released = threading.Event(), threading.Event()

    def take(self):
        self.taking.set()
        self.released.wait(WAIT_S)
        return super().take()


def test_no_lock_is_held_while_a_trainer_starts_and_a_stop_meanwhile_ends_it(tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_EXPLORER_MODELS_DIR", str(tmp_path))
    script(monkeypatch, batches=200)
    registry = RunRegistry(max_running=1, launcher=SlowToStart())
    submitter = threading.Thread(target=registry.submit, args=(TrainConfig(), "a"))
    submitter.start()
    try:
        assert registry.launcher.taking.wait(WAIT_S)
        run, _ = promptly(lambda: registry.latest("a"))
        assert promptly(run.snapshot)[0].phase == Phase.STARTING
        promptly(run.stop)
        registry.launcher.released.set()
        progress = finished(run)
        assert (progress.state, progress.ending) == (RunState.CANCELLED, Ending.BEFORE_START)
        assert run._process.wait(WAIT_S) is not None  # the trainer that came too late was ended, never trained
    finally:
        registry.launcher.released.set()
        submitter.join(WAIT_S)
        registry.shutdown()


def test_a_snapshot_shares_the_histories_it_reads_instead_of_copying_them(registry, monkeypatch):
    script(monkeypatch, batches=200)
    run = registry.submit(TrainConfig(), "learner")
    early = wait_for(run, lambda progress: progress.batches_done >= 2)
    seen = list(early.batch_costs)
    later = wait_for(run, lambda progress: progress.batches_done >= len(seen) + 3)
    assert list(early.batch_costs) == seen and len(early.batch_costs) == len(seen)  # fixed at its length
    assert list(later.batch_costs)[:len(seen)] == seen
    assert early.batch_costs._items is later.batch_costs._items is run._progress.batch_costs._items
    with pytest.raises(TypeError):
        early.batch_costs.append(1.0)  # a snapshot's series are read-only views
    run.stop()
    finished(run)


class CountingCondition(threading.Condition):
    """A Condition that counts how often a waiter went to sleep on it."""

    waits = 0

    def wait(self, timeout: float | None = None) -> bool:
        self.waits += 1
        return super().wait(timeout)


def test_a_waiter_sleeps_until_the_run_changes_and_wakes_at_once():
    changed = CountingCondition(threading.RLock())
    run = TrainingRun(1, TrainConfig(), changed, Launcher(FAKE_TRAINER))
    answers = []
    waiter = threading.Thread(target=lambda: answers.append(run.wait(WAIT_S)))
    waiter.start()
    time.sleep(0.5)
    assert changed.waits == 1 and not answers  # asleep since it started: no polling
    _, took = promptly(lambda: (run.stop(), waiter.join(PROMPT_S)))  # cancelling the queued run notifies
    assert answers == [True] and changed.waits == 1 and took < PROMPT_S


def test_a_new_run_is_waited_for_until_its_first_cost_and_no_longer(registry, monkeypatch):
    script(monkeypatch, batches=200, batch_s=0.3)
    run = registry.submit(TrainConfig(model_name="m"), "learner")
    progress = run.first_cost(WAIT_S)
    assert progress.batch_costs == [2.3]  # woken by the first batch (the second comes 0.3 s later), not the timeout
    progress, took = promptly(lambda: run.first_cost(WAIT_S))
    assert progress.batches_done <= 2 and took < PROMPT_S  # a cost is in: no waiting
    run.stop()
    assert finished(run).state == RunState.DONE


def test_a_run_without_a_first_cost_is_waited_for_no_longer_than_asked(registry, monkeypatch):
    script(monkeypatch, start_s=WAIT_S)
    run = registry.submit(TrainConfig(model_name="m"), "learner")
    progress, took = promptly(lambda: run.first_cost(0.3))
    assert not progress.batch_costs and 0.3 <= took < PROMPT_S
    run.stop()
