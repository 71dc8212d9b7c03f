"""A network made ready before its run: what a trainer kept ready (``python -m cnnlib.train --serve``) prepares.

    ready = prepare(TrainConfig())     # the default run's data loaded and redrawn, its network's steps traced
    train(config, emit, ready=ready)   # trains that very network when the recipe and data match

``prepare`` loads the data, redraws its training digits and traces a network's training, validation and prediction
steps on blank digits of the run's shapes (about 0.6 s of the first batch here), then sets the network back to the
values it was built with, and builds that run's training batches. A run that asks for that recipe and data trains
that very network as it is on those batches (or given the starting values of a network built for the run, when only
its seed or initialisation differ, on batches of its own), so its results are the same; any other run builds its
own. A trainer serves one run, so the network is never handed out twice.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from cnnlib.mnist.data import MnistData, load_mnist
from cnnlib.network.architecture import build_model, one_hot, training_model
from cnnlib.network.snapshots import TEST_BATCH
from cnnlib.training.config import Hyperparameters, TrainConfig
from cnnlib.training.digits import blank_digits, redrawn_training_digits, split_training_data, steps_per_epoch, \
    training_batches
from cnnlib.training.trainer import training_strategy

STARTING_VALUES_ONLY = ("seed", "init")  # hyperparameters that change a network's starting values, not its steps


@dataclass(frozen=True, repr=False)
class ReadyNetwork:
    """What ``prepare`` made for the run it expects: that run's data, and a network with its steps already traced."""

    config: TrainConfig
    data: MnistData
    drawn: np.ndarray | None  # its training digits redrawn as pen strokes, when its recipe shows some so
    steps_per_epoch: int
    model: object  # the network (keras.Sequential), as build_model makes it
    trainee: object  # what fit trains: the network, or the network inside the augmentation, as built
    batches: object  # the expected run's training batches (``training_batches``: its map functions traced)
    train_count: int  # the training digits they hold

    def __repr__(self) -> str:
        return f"ReadyNetwork({self.data!r}, {self.steps_per_epoch} steps an epoch)"

    def holds_data_of(self, config: TrainConfig) -> bool:
        """Whether ``config`` asks for the digits loaded here."""
        return (config.data_source, config.npz_path) == (self.config.data_source, self.config.npz_path)

    def holds_drawn_of(self, config: TrainConfig, train_count: int) -> bool:
        """Whether a run of ``config`` on its first ``train_count`` training digits can show the digits redrawn here
        (any share above 0: the share only decides how often each is shown)."""
        return (self.drawn is not None and bool(config.hp.drawn_share) and self.holds_data_of(config)
                and len(self.drawn) == train_count)

    def holds_batches_of(self, config: TrainConfig, train_count: int) -> bool:
        """Whether a run of ``config`` on its first ``train_count`` training digits trains on the batches built here:
        the same digits, recipe and seed."""
        return self.holds_data_of(config) and config.hp == self.config.hp and train_count == self.train_count

    def serves(self, hp: Hyperparameters, steps: int) -> bool:
        """Whether training ``hp`` for ``steps`` batches an epoch runs the steps traced here (only seeds differ)."""
        neutral = {name: getattr(self.config.hp, name) for name in STARTING_VALUES_ONLY}
        return steps == self.steps_per_epoch and replace(hp, **neutral) == self.config.hp

    def starts_as(self, hp: Hyperparameters) -> bool:
        """Whether a network built for ``hp`` would start from this one's values (same seed and initialisation)."""
        return all(getattr(hp, name) == getattr(self.config.hp, name) for name in STARTING_VALUES_ONLY)

    def start_from(self, trainee) -> tuple:
        """``(network, trainee)`` from here, set to the starting values of ``trainee``, a network built for the run
        (weights, seed generators' states, an untouched Adam)."""
        trainee.optimizer.build(trainee.trainable_variables)
        set_values(self.trainee, all_variables(trainee))
        return self.model, self.trainee


def all_variables(trainee) -> list:
    """A compiled network's variables and its optimizer's, in a fixed order."""
    return trainee.variables + trainee.optimizer.variables


def set_values(trainee, values: list) -> None:
    """Give every variable of ``all_variables(trainee)`` its value from ``values``, in order."""
    for variable, value in zip(all_variables(trainee), values, strict=True):
        variable.assign(value)


def prepare(config: TrainConfig) -> ReadyNetwork:
    """Load ``config``'s data and trace a network's steps for it on blank digits: full and last batches, validation,
    test predictions (the last, partial batch makes Keras trace a step for any batch size)."""
    data = load_mnist(config.data_source, config.npz_path)
    arrays = split_training_data(data, config.train_limit)
    hp = config.hp
    strategy, _ = training_strategy()
    steps = steps_per_epoch(len(arrays.x_train), hp.batch_size)
    drawn = redrawn_training_digits(arrays.x_train, hp, emit=lambda event: None)
    with strategy.scope():
        model = build_model(hp, steps_per_epoch=steps)
        trainee = training_model(model, hp)
        trainee.optimizer.build(trainee.trainable_variables)
    batches = training_batches(arrays.x_train, arrays.y_train, drawn, hp)  # after the seed: 40 ms off the first cost
    starting = [variable.numpy() for variable in all_variables(trainee)]
    blank_x, blank_y = blank_digits(2 * hp.batch_size + len(arrays.x_train) % hp.batch_size)
    blank_x_val, blank_y_val = blank_digits(len(arrays.x_val))
    trainee.fit(training_batches(blank_x, blank_y, None if drawn is None else blank_x, hp), epochs=1,
                validation_data=(blank_x_val, one_hot(blank_y_val)), shuffle=False, verbose=0)
    for network in {id(model): model, id(trainee): trainee}.values():
        network.predict(blank_digits(len(arrays.x_test))[0], batch_size=TEST_BATCH, verbose=0)
    set_values(trainee, starting)  # as built: a run of this very recipe starts at once (0.05-0.2 s of assigning)
    return ReadyNetwork(config, data, drawn, steps, model, trainee, batches, len(arrays.x_train))
