"""How a run trains: the Keras fit on the best device with its progress callback, the evaluation, the saved model.

    model, summary = train(TrainConfig(data_source="offline"), emit=print)

``train`` emits the events listed in ``cnnlib.training.progress`` (plain dicts of numbers and names) and returns the
trained model with a summary (test accuracy, epochs, seconds, images/s, data source, model path, and ``not_redrawn``:
how many training digits the recipe could not redraw as pen strokes and showed as they were, blank ones or dots that
thin away). Beside the model it saves the weights and test accuracy after the epochs it keeps (every one of a short
run, at most ``config.snapshots`` spread over a long one: ``cnnlib.network.snapshots``); the JSON card lists those
accuracies and epochs. It saves only when the workspace has room (``cnnlib.training.room``). With augmentation on,
``fit`` trains the network inside ``cnnlib.network.architecture.training_model``; the network alone is saved. The
digits come from ``cnnlib.training.digits``, each batch's own cost from ``cnnlib.training.recorder``, a network traced
ahead of time from ``cnnlib.training.ready``.

TensorFlow is imported only inside the functions that train, so the page can import this module cheaply.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import numpy as np

from cnnlib.mnist.data import MnistData, load_mnist
from cnnlib.mnist.strokes import kept_count
from cnnlib.network.architecture import build_model, one_hot, training_model
from cnnlib.network.snapshots import TEST_BATCH, EpochSnapshots, save_snapshots, snapshot_callback
from cnnlib.store.saved import SavedModel, save_model
from cnnlib.store.workspace import workspace_at
from cnnlib.training.config import Hyperparameters, TrainConfig
from cnnlib.training.digits import (Emit, TrainingData, redrawn_training_digits, split_training_data, steps_per_epoch,
                                    training_batches)
from cnnlib.training.progress import Event
from cnnlib.training.recorder import BatchRecorder, keras_callback
from cnnlib.training.room import run_bytes

if TYPE_CHECKING:
    from cnnlib.training.ready import ReadyNetwork

MAX_MISCLASSIFIED_SENT = 500
EVALUATED_AT_ONCE = 2000  # test digits between two progress events of the final test (a large test set takes long)
INTRA_OP_THREADS_ENV = "TF_NUM_INTRAOP_THREADS"  # TensorFlow reads it when it starts (a Ray trainer actor sets it)


def training_strategy():
    """(strategy, device): MirroredStrategy over several GPUs, one GPU, or the CPU; ``device`` says which, as data."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        tf.config.experimental.set_memory_growth(gpu, True)  # leave the rest to the Draw page and others
    if not gpus:
        threads = (tf.config.threading.get_intra_op_parallelism_threads() or
                   int(os.environ.get(INTRA_OP_THREADS_ENV, 0)) or len(os.sched_getaffinity(0)))
        return tf.distribute.get_strategy(), {"kind": "cpu", "threads": threads}
    name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
    if len(gpus) == 1:
        return tf.distribute.get_strategy(), {"kind": "gpu", "name": name}
    return tf.distribute.MirroredStrategy(), {"kind": "gpus", "name": name, "count": len(gpus)}


def evaluate(model, x_test: np.ndarray, y_test: np.ndarray, emit: Emit = lambda event: None) -> dict:
    """Test accuracy with dropout off, the 10x10 confusion matrix (rows true, columns predicted), the mistakes;
    ``emit`` hears how many digits are done before each ``EVALUATED_AT_ONCE`` of them."""
    predicted = []
    for start in range(0, max(len(x_test), 1), EVALUATED_AT_ONCE):
        emit({"event": Event.EVALUATING, "done": start, "count": len(x_test)})
        logits = model.predict(x_test[start:start + EVALUATED_AT_ONCE], batch_size=TEST_BATCH, verbose=0)  # (n, 10)
        predicted.append(np.argmax(logits, axis=1))  # predict runs with training=False: dropout off
    predicted = np.concatenate(predicted)
    confusion = np.bincount(y_test * 10 + predicted, minlength=100).reshape(10, 10)
    wrong = np.flatnonzero(predicted != y_test)
    return {"event": Event.EVALUATED, "test_accuracy": float(np.mean(predicted == y_test)),
            "confusion": confusion.tolist(), "misclassified_count": int(len(wrong)),
            "misclassified": [[int(i), int(y_test[i]), int(predicted[i])] for i in wrong[:MAX_MISCLASSIFIED_SENT]]}


def save(model, config: TrainConfig, summary: dict, data: MnistData, snapshots: EpochSnapshots) -> SavedModel:
    """Save the model and its JSON card (hyperparameters, data, accuracy, date) atomically, then its kept epochs'
    weights, once the workspace's room for all of them is checked under its lock (QuotaFull when it filled since the
    run started: nothing is written)."""
    path = config.output_path()
    card = {"hyperparameters": config.hp.to_dict(), "data_source": data.source,
            "data_description": data.description, "train_limit": config.train_limit,
            "test_accuracy": summary["test_accuracy"], "epoch_test_accuracies": snapshots.test_accuracies,
            "snapshot_epochs": list(snapshots.kept), "epochs_completed": summary["epochs"],
            "stopped_early": summary["stopped_early"], "device": summary["device"],
            "seconds": summary["seconds"], "images_per_second": summary["images_per_second"],
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    needed = run_bytes(model.count_params(), len(snapshots.weights))
    with workspace_at(path.parent, config.workspace_id).storing(needed) as folder:
        saved = save_model(model, path.stem, card, directory=folder)
        save_snapshots(saved.path, snapshots)
    return saved


def network_for(hp: Hyperparameters, steps: int, strategy, ready: ReadyNetwork | None) -> tuple:
    """``(network, trainee)`` for a run of ``hp`` with ``steps`` batches an epoch: the ready one as it is when it was
    built for this very recipe, the ready one given a new network's values when only the seed or initialisation
    differ, else a new one."""
    if ready is not None and ready.serves(hp, steps) and ready.starts_as(hp):
        return ready.model, ready.trainee
    with strategy.scope():
        model = build_model(hp, steps_per_epoch=steps)
        trainee = training_model(model, hp)
    if ready is not None and ready.serves(hp, steps):
        return ready.start_from(trainee)
    return model, trainee


def fit(config: TrainConfig, arrays: TrainingData, emit: Emit, stop_requested: threading.Event, source: str,
        ready: ReadyNetwork | None = None, drawn: np.ndarray | None = None):
    """Build the model on the best device (or start the ready one from its values), emit ``started``, fit with
    progress and epoch snapshots (at most ``config.snapshots`` states, spread over the epochs); ``drawn``: the
    training digits redrawn as pen strokes, when the recipe shows some.

    Returns ``(model, recorder, device, snapshots)``; ``model`` is the network alone, without augmentation.
    """
    hp, (strategy, device) = config.hp, training_strategy()
    steps = steps_per_epoch(len(arrays.x_train), hp.batch_size)
    model, trainee = network_for(hp, steps, strategy, ready)
    emit({"event": Event.STARTED, "device": device, "data_source": source, "train_count": len(arrays.x_train),
          "validation_count": len(arrays.x_val), "test_count": len(arrays.x_test), "epochs": hp.epochs,
          "batch_size": hp.batch_size, "steps_per_epoch": steps, "hyperparameters": hp.to_dict()})
    recorder = BatchRecorder(emit, stop_requested, len(arrays.x_train), hp.batch_size, len(arrays.x_val))
    recorded = snapshot_callback(arrays.x_test, arrays.y_test, hp.epochs, config.snapshots, emit)
    # the batches come after the network, whose seed (Keras's global one) decides their order too
    batches = ready.batches if ready is not None and ready.holds_batches_of(config, len(arrays.x_train)) else \
        training_batches(arrays.x_train, arrays.y_train, drawn, hp)
    trainee.fit(batches, epochs=hp.epochs, validation_data=(arrays.x_val, one_hot(arrays.y_val)), shuffle=False,
                verbose=0, callbacks=[keras_callback(recorder), recorded])  # shuffled by the batches
    return model, recorder, device, recorded.snapshots


def train(config: TrainConfig, emit: Emit, stop_requested: threading.Event | None = None,
          ready: ReadyNetwork | None = None):
    """Load data (or take the ready network's), train, evaluate and save; emit events on the way; return ``(model,
    summary)``."""
    started = time.perf_counter()
    data = ready.data if ready is not None and ready.holds_data_of(config) else load_mnist(config.data_source,
                                                                                          config.npz_path)
    arrays = split_training_data(data, config.train_limit)
    drawn = ready.drawn if ready is not None and ready.holds_drawn_of(config, len(arrays.x_train)) else \
        redrawn_training_digits(arrays.x_train, config.hp, emit)
    model, recorder, device, snapshots = fit(config, arrays, emit, stop_requested or threading.Event(),
                                             data.source, ready, drawn)
    evaluation = evaluate(model, arrays.x_test, arrays.y_test, emit)
    emit(evaluation)
    summary = {"test_accuracy": evaluation["test_accuracy"], "epochs": recorder.epochs_done,
               "seconds": round(time.perf_counter() - started, 2), "images_per_second": recorder.images_per_second,
               "data_source": data.source, "model_path": None, "stopped_early": recorder.stopped,
               "device": device, "train_count": len(arrays.x_train),
               "not_redrawn": 0 if drawn is None else kept_count(arrays.x_train, drawn)}
    emit({"event": Event.SAVING})
    saved = save(model, config, summary, data, snapshots)
    summary["model_path"] = str(saved.path)
    emit({"event": Event.SAVED, "model_name": saved.name, "model_path": str(saved.path)})
    emit({"event": Event.FINISHED, "summary": summary})
    return model, summary
