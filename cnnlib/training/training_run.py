"""One training run on the server: its config, its trainer process, the thread that follows it, its progress.

    run.snapshot()      # the progress as it is now, O(1): safe to read from any thread after the lock is released
    run.first_cost(0.4) # the progress once the first batch's cost is in (or 0.4 s later)
    run.stop()          # the child finishes its batch, evaluates, saves and exits
    run.wait(30)        # True once the run has finished and its thread is done

Every state change happens under the registry's lock, a ``threading.Condition`` that is notified whenever a run
changes, so waiters wake on news instead of polling. Nothing slow happens under it: the registry claims a slot under
the lock (``claim``), then the run starts its trainer outside it (``launch``); ending a child, asking it to stop and
waiting for it all happen outside the lock too.

Stop before the first batch ends the child at once ("stopped before training began"); Stop while training is
answered after the current batch, and what was learned is tested and saved; Stop once training is over lets
evaluation and saving finish. A child that does not answer Stop is terminated; one that dies becomes ``failed`` with
the last line it wrote to stderr (folders removed).
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import replace

from cnnlib.store.files import without_folders
from cnnlib.store.saved import models_dir
from cnnlib.training.config import TrainConfig
from cnnlib.training.launcher import Launcher, Trainer, WorkerPlace
from cnnlib.training.events import apply_event
from cnnlib.training.progress import Ending, Phase, Progress, RunState
from cnnlib.training.protocol import parse_event

STOP_ANSWER_TIMEOUT_S = 10.0  # one batch, or an epoch's validation, ends well within this even on a busy CPU
FINISH_TIMEOUT_S = 300.0  # once training is over: evaluate on the test digits and save (full MNIST: seconds)
AFTER_TRAINING = (Phase.EVALUATING, Phase.SAVING, Phase.FINISHED)


class TrainingRun:
    """One training: its config, its owner (a workspace id), its trainer process and its progress.

    ``changed`` is the registry's lock with its condition: every state change of every run happens under it.
    """

    def __init__(self, run_id: int, config: TrainConfig, changed: threading.Condition, launcher: Launcher,
                 owner: str | None = None, number: int = 1,
                 on_exit: Callable[[TrainingRun], None] | None = None) -> None:
        self.run_id, self.config, self.owner, self.number = run_id, config, owner, number
        self._progress = Progress(epochs=config.hp.epochs, batch_size=config.hp.batch_size)
        self._changed, self._launcher, self._on_exit = changed, launcher, on_exit
        self._trainer: Trainer | None = None
        self._following = False  # from claim until nothing of this run will change any more
        self._unanswered = False  # it did not answer Stop and was terminated

    def __repr__(self) -> str:
        return f"TrainingRun({self.run_id}, {self.owner}, {self._progress.state})"

    @property
    def _process(self) -> subprocess.Popen | None:
        """The trainer's child process, once the run started."""
        return self._trainer.process if self._trainer else None

    def claim(self) -> None:
        """Take a training slot (with the lock held): the run is running, starting; ``launch`` follows."""
        progress = self._progress
        progress.state, progress.phase, progress.started_at = RunState.RUNNING, Phase.STARTING, time.time()
        self._following = True
        self._changed.notify_all()

    def launch(self) -> None:
        """Hand the config to a trainer process and follow its events (without the lock held); a run that cannot
        start, or was stopped meanwhile, is settled here and frees its slot."""
        try:
            trainer = self._launcher.take()
        except OSError as error:
            return self._give_up(Ending.NOT_STARTED, without_folders(error.strerror or str(error)))
        with self._changed:
            self._trainer, wanted = trainer, not self._progress.finished
        if not wanted:  # stopped or discarded before its trainer came: nothing learned
            trainer.end()
            trainer.release()
            return self._give_up(Ending.BEFORE_START, "")
        config = replace(self.config, models_directory=self.config.models_directory or str(models_dir()))
        try:
            trainer.begin(config)
        except OSError:  # the child died already: the thread below reads why and settles the run
            pass
        threading.Thread(target=self._follow, name=f"train-run-{self.run_id}", daemon=True).start()

    def _give_up(self, ending: Ending, message: str) -> None:
        """Settle a run that got no trainer to follow (unless it is settled already); its slot is free."""
        with self._changed:
            if not self._progress.finished:
                self._progress.end(RunState.FAILED, ending, message)
            self._following = False
            self._changed.notify_all()

    def _follow(self) -> None:
        """Apply each JSON line the child prints; when its output ends, settle the run and free its slot."""
        failure = ""
        try:
            for line in self._trainer.process.stdout:
                event = parse_event(line)
                with self._changed:
                    if event is not None and not self._progress.finished:
                        apply_event(self._progress, event)
                        self._changed.notify_all()
        except Exception as error:  # noqa: BLE001 - whatever breaks here, the run must settle and free its slot
            failure = without_folders(f"{type(error).__name__}: {error}")
            self._trainer.end()
        finally:
            self._settle(self._trainer.process.wait(), failure)

    def _settle(self, returncode: int, failure: str) -> None:
        """Mark a run that ended without finishing as failed (with why), release its trainer, free its slot."""
        ending, message = (Ending.TRAINER_ERROR, failure) if failure else self._why_it_ended(returncode)
        with self._changed:
            if not self._progress.finished:
                self._progress.exit_code = returncode
                self._progress.end(RunState.FAILED, ending, message)
            self._changed.notify_all()
        self._trainer.release()
        try:
            if self._on_exit:
                self._on_exit(self)
        finally:
            with self._changed:
                self._following = False
                self._changed.notify_all()

    def _why_it_ended(self, returncode: int) -> tuple[Ending, str]:
        """Why the child exited without finishing: no answer to Stop, its last stderr line, a signal or a code."""
        if self._unanswered:
            return Ending.NO_ANSWER, ""
        if last_line := self._trainer.last_line():
            return Ending.TRAINER_ERROR, last_line
        return (Ending.SIGNAL if returncode < 0 else Ending.EXIT_CODE), ""

    def snapshot(self) -> Progress:
        """The progress as it is now, in O(1) (its series are views, not copies): safe to read after the lock."""
        with self._changed:
            return self._progress.snapshot()

    def first_cost(self, timeout: float) -> Progress:
        """The progress once the run has its first batch's cost or has finished, or as it is after ``timeout``
        seconds; wakes on news, never polls."""
        with self._changed:
            self._changed.wait_for(lambda: bool(self._progress.batch_costs) or self._progress.finished, timeout)
            return self._progress.snapshot()

    def worker_place(self) -> WorkerPlace | None:
        """Where the run waits for a worker once handed to a Ray cluster; None otherwise."""
        with self._changed:
            trainer = self._trainer
        return None if trainer is None else self._launcher.worker_place(trainer)

    @property
    def state(self) -> RunState:
        """The run's state (see RunState)."""
        with self._changed:
            return self._progress.state

    def stop(self) -> None:
        """Stop the run in whatever phase it is (see the module docstring); nothing happens once it is finished."""
        with self._changed:
            progress = self._progress
            if progress.state == RunState.QUEUED:
                progress.end(RunState.CANCELLED, Ending.CANCELLED)
            elif progress.state == RunState.RUNNING and not progress.batch_costs and progress.phase != Phase.SAVING:
                progress.end(RunState.CANCELLED, Ending.BEFORE_START)  # nothing learned yet: end the child now
            elif progress.state == RunState.RUNNING:
                progress.state = RunState.STOPPING
            else:
                return
            stopping = progress.state == RunState.STOPPING
            self._changed.notify_all()
        action = self._ask_to_stop if stopping else self._end_trainer
        threading.Thread(target=action, name=f"train-stop-{self.run_id}", daemon=True).start()

    def _end_trainer(self) -> None:
        """End the child of a run that has been settled (before it began training, or discarded)."""
        with self._changed:
            trainer = self._trainer
        if trainer is not None and trainer.process.poll() is None:
            trainer.end()

    def _ask_to_stop(self) -> None:
        """Send Stop; terminate the child if it does not answer within seconds, or does not finish after that."""
        try:
            self._trainer.ask_to_stop()
        except OSError:  # the child already exited; the following thread settles the run
            return
        with self._changed:
            answered = self._changed.wait_for(self._answered, timeout=STOP_ANSWER_TIMEOUT_S)
        if not answered:
            return self._terminate_unanswered()
        try:
            self._trainer.process.wait(timeout=FINISH_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._terminate_unanswered()

    def _answered(self) -> bool:
        """Whether the child answered Stop, is past training (evaluating, saving) and so will finish anyway, or is
        gone (settled); called with the lock held."""
        return self._progress.stopped_early or self._progress.phase in AFTER_TRAINING

    def _terminate_unanswered(self) -> None:
        """End a child that ignored Stop; the run fails with that reason."""
        self._unanswered = True
        self._trainer.end()

    def discard(self) -> None:
        """End the run now, saving nothing: cancel it if queued or still waiting for its trainer, end its child if
        one runs."""
        with self._changed:
            if self._progress.state == RunState.QUEUED:
                self._progress.end(RunState.CANCELLED, Ending.CANCELLED)
            elif self._trainer is None and self._progress.state.training:
                self._progress.end(RunState.CANCELLED, Ending.BEFORE_START)
            self._changed.notify_all()
        self._end_trainer()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run has finished and its thread is done (True), or ``timeout`` passed (False); wakes when
        the run changes, never polls."""
        with self._changed:
            return self._changed.wait_for(lambda: self._progress.finished and not self._following, timeout)
