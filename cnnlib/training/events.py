"""How each trainer event changes what the Train page knows of a run (``cnnlib.training.progress.Progress``); pure.

    apply_event(progress, {"event": "batch", "epoch": 1, "batch": 1, "cost": 2.3, "t": 0.4})

Events of unknown kinds are ignored; the kinds and their order are listed in ``cnnlib.training.progress``.
"""

from __future__ import annotations

from collections.abc import Callable

from cnnlib.training.progress import RATE_WINDOW_S, Ending, Event, Phase, Progress, RunState

STARTED_FIELDS = ("device", "data_source", "train_count", "validation_count", "test_count", "epochs", "batch_size",
                  "steps_per_epoch")


def _started(progress: Progress, event: dict) -> None:
    """The trainer has its data and model: sizes, device, steps (a Stop asked for meanwhile still holds)."""
    if progress.state != RunState.STOPPING:
        progress.state = RunState.RUNNING
    progress.phase = Phase.TRAINING
    for name in STARTED_FIELDS:
        setattr(progress, name, event[name])


def _redrawing(progress: Progress, event: dict) -> None:
    """The trainer redraws ``count`` training digits as pen strokes before its first batch."""
    progress.phase, progress.redrawing_count = Phase.REDRAWING, event["count"]


def _batch(progress: Progress, event: dict) -> None:
    """One more batch: its own cost and time; the speed over the last few seconds."""
    progress.phase, progress.epoch, progress.batch = Phase.TRAINING, event["epoch"], event["batch"]
    progress.batch_costs.append(event["cost"])
    progress.batch_times.append(event["t"])
    progress.images_per_second = _recent_rate(progress) or progress.images_per_second


def _epoch(progress: Progress, event: dict) -> None:
    """An epoch ended: its mean cost and validation accuracy, drawn where its last batch is."""
    progress.epoch_positions.append(progress.batch_positions[-1] if progress.batch_costs else event["epoch"])
    progress.epoch_costs.append(event["cost"])
    progress.val_accuracies.append(event["val_accuracy"])
    progress.epoch_times.append(event["t"])


def _testing(phase: Phase) -> Callable[[Progress, dict], None]:
    """A phase that tests digits after a batch: how many, of which done so far, for which epoch's weights."""

    def tested(progress: Progress, event: dict) -> None:
        progress.phase, progress.phase_digits = phase, event.get("count", 0)
        progress.phase_done, progress.phase_epoch = event.get("done", 0), event.get("epoch", progress.epoch)

    return tested


def _stopped(progress: Progress, event: dict) -> None:
    """The trainer answered Stop: it tests and saves what it learned."""
    progress.stopped_early, progress.state = True, RunState.STOPPING


def _evaluated(progress: Progress, event: dict) -> None:
    """Test accuracy, confusion matrix and the misclassified digits."""
    progress.test_accuracy, progress.confusion = event["test_accuracy"], event["confusion"]
    progress.misclassified, progress.misclassified_count = event["misclassified"], event["misclassified_count"]


def _saved(progress: Progress, event: dict) -> None:
    """Where the model went."""
    progress.model_name, progress.model_path = event["model_name"], event["model_path"]


def _failed(progress: Progress, event: dict) -> None:
    """The trainer gave up, with its reason (a refusal's key and values too); while saving, that means the learned
    model could not be kept: no room for it when the trainer refused, else a write that failed."""
    progress.refusal_key, progress.refusal_values = event.get("key", ""), event.get("values", {})
    saving = progress.phase == Phase.SAVING
    ending = (Ending.NO_ROOM if progress.refusal_key else Ending.SAVE_FAILED) if saving else Ending.TRAINER_ERROR
    progress.end(RunState.FAILED, ending, event["message"])


EVENT_HANDLERS: dict[str, Callable[[Progress, dict], None]] = {
    Event.REDRAWING: _redrawing,
    Event.STARTED: _started,
    Event.BATCH: _batch,
    Event.EPOCH: _epoch,
    Event.STOPPED: _stopped,
    Event.VALIDATING: _testing(Phase.VALIDATING),
    Event.REPLAY_TESTING: _testing(Phase.REPLAY_TESTING),
    Event.EVALUATING: _testing(Phase.EVALUATING),
    Event.EVALUATED: _evaluated,
    Event.SAVING: lambda progress, _: setattr(progress, "phase", Phase.SAVING),
    Event.SAVED: _saved,
    Event.FINISHED: lambda progress, _: progress.end(RunState.DONE),
    Event.FAILED: _failed,
}


def apply_event(progress: Progress, event: dict) -> None:
    """Fold one trainer event into ``progress``; events of unknown kinds are ignored."""
    handler = EVENT_HANDLERS.get(event.get("event"))
    if handler:
        handler(progress, event)


def _recent_rate(progress: Progress) -> float | None:
    """Images per second over this epoch's last few seconds of batches (so validation pauses do not count); reads
    only those batches' times, from the end."""
    times, last = progress.batch_times, progress.batch_times[-1]
    first, count = last, 1
    while count < min(progress.batch, len(times)) and last - times[-count - 1] <= RATE_WINDOW_S:
        count += 1
        first = times[-count]
    if count < 2 or last <= first:
        return None
    return (count - 1) * progress.batch_size / (last - first)
