"""The words about training, made from data when they are shown, in the learner's language (``cnnlib.text.t``).

    status_line(progress)   "Epoch 3/10 · batch 12/74 of 50 · 1,520 images/s · 21 s elapsed · about 40 s left"
    run_label(2, hp)        "#2: He-normal, lr 0.001 cosine, batch 50, keep 0.75"

The trainer's events and ``Progress`` hold numbers and names only; every sentence the Train page, its figures and
the CLI show about them comes from here or straight from the catalogue (``cnnlib/locales/<language>/train.toml``).
"""

from __future__ import annotations

from collections.abc import Sequence

from cnnlib.text import t
from cnnlib.lessons.learned.confusion import CellDigits
from cnnlib.training.config import Hyperparameters, Preset, caption_values
from cnnlib.training.diagnosis import Diagnosis
from cnnlib.training.launcher import WorkerPlace
from cnnlib.training.progress import Ending, Phase, Progress, RunState
from cnnlib.training.runs import QueuePlace
from cnnlib.training.digits import validation_count

STATUS_SEPARATOR = " · "
AFTER_A_BATCH = (Phase.VALIDATING, Phase.REPLAY_TESTING, Phase.EVALUATING, Phase.SAVING)  # named on the status line


def preset_label(preset: Preset) -> str:
    """A preset's button label: "As in the tutorial", "Fast and stable", "Best accuracy"."""
    return t(f"train.preset.{preset}.label")


def preset_caption(preset: Preset) -> str:
    """What a preset sets, with its numbers, and what it reached here (``recipes.preset.<id>.caption``)."""
    return t(f"recipes.preset.{preset}.caption", **caption_values(preset))


def run_label(number: int, hp: Hyperparameters) -> str:
    """A run's name in this session: its number and recipe, "#1: He-normal, lr 0.001 cosine, batch 50, keep 0.75";
    a network of one's own design by its text instead of the keep probability it does not use."""
    return t(f"train.run.label.{'designed' if hp.layers else hp.lr_decay}", number=number,
             **{**hp.to_dict(), "init": t(f"train.run.init.{hp.init}")})


def device_text(device: dict) -> str:
    """Where training runs, from the trainer's device data: "CPU (2 threads)", "GPU (NVIDIA H200)"."""
    return t(f"train.device.{device['kind']}", **device)


def status_line(progress: Progress, place: QueuePlace | WorkerPlace = QueuePlace(0, 1)) -> str:
    """One line: where the run is, how fast, how long to go; ``place`` says where a waiting run waits (in this
    server's queue, or for a worker of the Ray cluster)."""
    if progress.state == RunState.QUEUED:
        return t("train.status.queued", ahead=place.ahead, max_running=place.max_running)
    if isinstance(place, WorkerPlace) and progress.phase == Phase.STARTING:
        return t("train.ray.waiting", ahead=place.ahead, free=place.free_cpus, total=place.total_cpus,
                 cpus=place.cpus_per_run)
    if progress.phase == Phase.STARTING:
        return t("train.status.starting")
    if progress.phase == Phase.REDRAWING:
        return t("train.status.redrawing", count=progress.redrawing_count)
    parts = [t("train.status.epoch", epoch=progress.epoch, epochs=progress.epochs),
             t("train.status.batch", batch=progress.batch, steps=progress.steps_per_epoch,
               batch_size=progress.batch_size)]
    if progress.images_per_second:
        parts.append(t("train.status.rate", rate=progress.images_per_second))
    parts.append(t("train.status.elapsed", seconds=progress.elapsed_s))
    if progress.eta_s is not None and progress.phase == Phase.TRAINING:
        parts.append(t("train.status.left", seconds=progress.eta_s))
    if progress.phase in AFTER_A_BATCH:
        parts.append(after_a_batch(progress))
    return STATUS_SEPARATOR.join(parts)


def after_a_batch(progress: Progress) -> str:
    """What a run does between batches or after the last: validating, testing a state for the replay (epoch 0: the
    untrained weights), testing (how far), saving."""
    key = "replay_testing_untrained" if progress.phase == Phase.REPLAY_TESTING and not progress.phase_epoch else \
        progress.phase
    return t(f"train.status.{key}", epoch=progress.phase_epoch, count=progress.phase_digits, done=progress.phase_done)


def ending_text(progress: Progress) -> str:
    """Why a run ended without finishing: the trainer's own words (a refusal's sentence, in the learner's language),
    or the app's for what it saw."""
    reason = t(progress.refusal_key, **progress.refusal_values) if progress.refusal_key else progress.message
    if progress.ending == Ending.TRAINER_ERROR:
        return reason
    return t(f"train.ending.{progress.ending}", signal=-(progress.exit_code or 0), code=progress.exit_code,
             reason=reason)


def run_outcome(progress: Progress, label: str) -> tuple[str, str] | None:
    """How a run that ended otherwise than as planned is told: ``("error", "Training failed: …")``, ``("info", …)``
    for a cancelled or stopped run; None for a run that is on or finished by itself."""
    if progress.state == RunState.CANCELLED:
        return "info", t("train.run.cancelled", label=label, message=ending_text(progress))
    if progress.state == RunState.FAILED:
        return "error", t("train.run.failed", message=ending_text(progress))
    if progress.stopped_early and progress.state == RunState.DONE:
        return "info", t("train.run.stopped", epoch=progress.epoch, batch=progress.batch)
    return None


def source_label(source: str) -> str:
    """A data source as the data selector offers it: "Offline subset: 4,000 training / 1,000 test digits, …"."""
    return t(f"train.data.option.{source}")


def data_caption(description: str, limit: int, test: int) -> str:
    """The chosen digits: the source's description, then how many train, validate (a twelfth of ``limit``) and test."""
    validation = validation_count(limit)
    return t("train.data.caption", description=description, train=limit - validation, validation=validation,
             test=test)


def run_caption(label: str, progress: Progress) -> str:
    """Which run this is, where it trains and on how many digits."""
    return t("train.run.caption", label=label, device=device_text(progress.device), count=progress.train_count,
             source=t(f"train.run.source.{progress.data_source}"))


def diagnosis_sentence(diagnosis: Diagnosis) -> str:
    """One finding with its numbers: "The cost is 55.3, 24 times the 2.30 of guessing at random."."""
    values = {name: ", ".join(map(str, value)) if isinstance(value, tuple) else value
              for name, value in diagnosis.values.items()}
    return t(f"train.diagnosis.reason.{diagnosis.reason}", **values)


def diagnosis_warning(findings: Sequence[Diagnosis]) -> str:
    """The warning for a failing run: the most serious sign as a title, every finding, then why it happens."""
    return t("train.diagnosis.warning", title=t(f"train.diagnosis.title.{findings[0].kind}"),
             findings=" ".join(map(diagnosis_sentence, findings)), why=t("train.diagnosis.why"))


def result_metrics(progress: Progress) -> list[tuple[str, str]]:
    """A finished run's numbers, each ``(label, value)``: test accuracy, epochs, time, misclassified digits."""
    return [(t("train.results.accuracy"), f"{progress.test_accuracy:.2%}"),
            (t("train.results.epochs"), f"{len(progress.epoch_costs)}"),
            (t("train.results.time"), t("train.results.seconds", seconds=progress.elapsed_s)),
            (t("train.results.misclassified"),
             t("train.results.misclassified_value", count=progress.misclassified_count, total=progress.test_count))]


def cell_titles(cell: CellDigits) -> list[str]:
    """Each digit of a confusion-matrix cell under its picture: its test index and how sure the network was."""
    return [t("train.results.cell_title", index=int(index), probability=float(sure))
            for index, sure in zip(cell.indices, cell.confidence)]


def cell_options(cell: CellDigits) -> dict[int, str]:
    """The digits of a cell to open, by test index: "x_test[17]: 93% sure it is a 2"."""
    return {int(index): t("train.results.cell_option", index=int(index), probability=float(sure),
                          predicted=cell.predicted_digit) for index, sure in zip(cell.indices, cell.confidence)}
