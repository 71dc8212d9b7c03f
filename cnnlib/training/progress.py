"""What the Train page knows about one run, folded from the trainer's events; pure: no processes, no threads.

    progress = Progress(state=RunState.RUNNING)
    apply_event(progress, {"event": "batch", "epoch": 1, "batch": 1, "cost": 2.3, "t": 0.4})   # cnnlib.training.events
    progress.snapshot()               # a copy to read after the lock is released, O(1) (histories are views)

Events (``Event``), in order: maybe ``redrawing`` (training digits being redrawn as pen strokes, how many),
``started`` (device, data sizes, steps per epoch), ``batch`` (each batch's own cost),
``epoch`` (mean cost, validation accuracy, images/s), with between an epoch's last batch and its ``epoch``
``validating`` (Keras tests the validation digits) and ``replay_testing`` (a kept state tested for replay, also after
the last epoch for the untrained weights), maybe ``stopped`` (the answer to Stop), ``evaluating`` (again after each
thousand test digits, with how many are done), ``evaluated`` (test accuracy with dropout off, confusion matrix,
misclassified test digits), ``saving``, ``saved``, ``finished``; or, at any point, ``failed``. Events and Progress hold numbers and names, never sentences:
``cnnlib.training.sentences`` words them in the learner's language when the page shows them. The series that grow
with every batch are ``History`` objects (append-only), so a snapshot shares them instead of copying them; the
smoothed cost and the diagnosis are in ``cnnlib.training.diagnosis`` (importable from here too).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum

from cnnlib.training.diagnosis import diagnose  # noqa: F401 - pages/train.py imports it from here
from cnnlib.training.history import History, as_history

RATE_WINDOW_S = 3.0  # seconds of batches the speed is measured over (cnnlib.training.events)
QUICK_UPDATES_S = 3.0  # seconds of training the Train page follows closely, then once a second


class RunState(StrEnum):
    """Where a run is: queued, then running (stopping once asked to stop), at last done or failed; or cancelled."""

    QUEUED = "queued"
    RUNNING = "running"
    STOPPING = "stopping"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def training(self) -> bool:
        """True while a trainer process works on the run."""
        return self in (RunState.RUNNING, RunState.STOPPING)

    @property
    def finished(self) -> bool:
        """True once the run is done, failed, or was cancelled before it started."""
        return self in (RunState.DONE, RunState.FAILED, RunState.CANCELLED)


class Phase(StrEnum):
    """What a running trainer is busy with."""

    WAITING = "waiting"
    STARTING = "starting"  # importing TensorFlow, loading the digits
    REDRAWING = "redrawing"  # redrawing training digits as pen strokes (cnnlib.mnist.strokes)
    TRAINING = "training"
    VALIDATING = "validating"  # Keras tests the validation digits after an epoch's last batch
    REPLAY_TESTING = "replay_testing"  # a kept state tested on the replay's sample of test digits
    EVALUATING = "evaluating"
    SAVING = "saving"
    FINISHED = "finished"


class Event(StrEnum):
    """The kinds of event the trainer emits (the ``event`` entry of each)."""

    REDRAWING = "redrawing"
    STARTED = "started"
    BATCH = "batch"
    EPOCH = "epoch"
    STOPPED = "stopped"
    VALIDATING = "validating"
    REPLAY_TESTING = "replay_testing"
    EVALUATING = "evaluating"
    EVALUATED = "evaluated"
    SAVING = "saving"
    SAVED = "saved"
    FINISHED = "finished"
    FAILED = "failed"


class Ending(StrEnum):
    """Why a run ended without finishing; the words are ``train.ending.<name>`` in the catalogue."""

    TRAINER_ERROR = "trainer_error"  # the trainer's own line (exception text, folders removed) is in Progress.message
    SAVE_FAILED = "save_failed"  # trained and tested, but the model could not be written (why: Progress.message)
    NO_ROOM = "no_room"  # trained and tested, but the learner's workspace had no room left for it (why: the refusal)
    NOT_STARTED = "not_started"  # no trainer process could be started (why: Progress.message)
    NO_ANSWER = "no_answer"  # it did not answer Stop, so it was terminated
    SIGNAL = "signal"  # killed by signal -Progress.exit_code
    EXIT_CODE = "exit_code"  # exited with Progress.exit_code, saying nothing
    CANCELLED = "cancelled"  # cancelled while waiting in the queue
    BEFORE_START = "before_start"  # stopped before its first batch: nothing learned, nothing to save


@dataclass
class Progress:
    """What the page shows about one run; built from the trainer's events by ``apply_event``."""

    state: RunState = RunState.QUEUED
    phase: Phase = Phase.WAITING
    ending: Ending | None = None  # set when the run failed or was cancelled
    message: str = ""  # the trainer's own words about a failure
    refusal_key: str = ""  # when the trainer refused something: the catalogue key of why, worded when shown
    refusal_values: dict = field(default_factory=dict)  # and that sentence's values
    exit_code: int | None = None
    device: dict = field(default_factory=dict)  # {"kind": "cpu", "threads": 2} or {"kind": "gpu", "name": ..., ...}
    data_source: str = ""
    redrawing_count: int = 0  # training digits being redrawn as pen strokes before training
    train_count: int = 0
    validation_count: int = 0
    test_count: int = 0
    epochs: int = 0
    batch_size: int = 0
    steps_per_epoch: int = 0
    epoch: int = 0  # 1-based epoch in progress
    batch: int = 0  # batches done in that epoch
    phase_epoch: int = 0  # the epoch whose weights a replay test measures (0: the untrained ones)
    phase_digits: int = 0  # digits the phase after a batch tests: validation, replay's sample, the test set
    phase_done: int = 0  # of which tested so far (the test set's, counted as it goes)
    batch_costs: History = field(default_factory=History)  # each batch's own cost
    batch_times: History = field(default_factory=History)  # seconds since training began, per batch
    epoch_costs: History = field(default_factory=History)  # mean cost of each finished epoch
    epoch_positions: History = field(default_factory=History)  # where each epoch ended (a stopped one: early)
    epoch_times: History = field(default_factory=History)  # seconds since training began, at each epoch's end
    val_accuracies: History = field(default_factory=History)
    images_per_second: float | None = None
    started_at: float | None = None  # time.time() when the child was started
    finished_at: float | None = None
    stopped_early: bool = False
    test_accuracy: float | None = None
    confusion: list[list[int]] | None = None
    misclassified: list[list[int]] = field(default_factory=list)  # [test index, true digit, predicted digit]
    misclassified_count: int = 0
    model_name: str = ""
    model_path: str = ""

    def __post_init__(self) -> None:
        """Lists given for the series (a test's, a figure's) become Histories."""
        for name in HISTORIES:
            setattr(self, name, as_history(getattr(self, name)))

    def snapshot(self) -> Progress:
        """A copy to read after the lock is released, in O(1): values copied, each series a view of it as it is now.

        Values that are lists or dicts (device, confusion, misclassified) are shared: events replace them, never
        change them in place, and readers must not change them either."""
        return replace(self, **{name: getattr(self, name).view() for name in HISTORIES})

    @property
    def finished(self) -> bool:
        """True once the run is done, failed, or was cancelled before it started."""
        return self.state.finished

    @property
    def milestone(self) -> tuple[bool, bool]:
        """What changes how the Train page follows a run: whether it has finished, and whether it has trained for
        ``QUICK_UPDATES_S`` (until then the page redraws it quickly, so the first costs show at once)."""
        return self.finished, bool(self.batch_times) and self.batch_times[-1] >= QUICK_UPDATES_S

    @property
    def batches_done(self) -> int:
        """Batches trained so far, over all epochs."""
        return len(self.batch_costs)

    @property
    def batch_positions(self) -> list[float]:
        """Each batch's place on an epoch axis: batch 37 of 37 in epoch 1 sits at 1.0."""
        steps = max(self.steps_per_epoch, 1)
        return [(index + 1) / steps for index in range(len(self.batch_costs))]

    @property
    def elapsed_s(self) -> float:
        """Seconds since the child was started (until it finished)."""
        if self.started_at is None:
            return 0.0
        return (self.finished_at or time.time()) - self.started_at

    @property
    def fraction_done(self) -> float:
        """Share of all planned batches trained, 0..1."""
        total = self.epochs * self.steps_per_epoch
        return min(1.0, self.batches_done / total) if total else 0.0

    @property
    def eta_s(self) -> float | None:
        """Seconds of training left at the current speed (validation not counted)."""
        if not self.images_per_second or self.finished:
            return None
        batches_left = self.epochs * self.steps_per_epoch - self.batches_done
        return batches_left * self.batch_size / self.images_per_second

    def end(self, state: RunState, ending: Ending | None = None, message: str = "") -> None:
        """Settle the run as ``state`` now, with why it ended when it did not finish."""
        self.state, self.phase, self.finished_at = state, Phase.FINISHED, time.time()
        self.ending, self.message = ending, message


HISTORIES = tuple(item.name for item in fields(Progress) if item.type == "History")
