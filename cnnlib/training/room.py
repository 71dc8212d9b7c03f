"""The disk a run will take, planned before it starts and checked again before it saves.

    parameter_count(Hyperparameters())       923,530: the app's default network (5x5 filters, 32 and 64, 256 units)
    parameter_count(replace(hp, layers="conv:8:3,pool:2,dense:64"))   101,146: a learner's design
    run_bytes(923_530, 50)                   about 99 MB: its model file (11 MB) and 50 epoch snapshots (1.8 MB each)
    planned_snapshots(workspace, config)     how many weight states the run may keep so that it fits

A run keeps at most ``config.snapshots`` states (``cnnlib.network.snapshots.MAX_SNAPSHOTS``, 50) spread over its
epochs. When its model and those states do not fit in the learner's room (their quota, the server's disk), it keeps
fewer, down to two (the untrained weights and the last epoch); when not even that fits, it is refused with a sentence
before it starts. The trainer checks the room again just before it saves (``cnnlib.training.trainer.save``): the
workspace may have filled meanwhile.
"""

from __future__ import annotations

from cnnlib.network.design import recipe_design, traced_design
from cnnlib.network.snapshots import kept_epochs
from cnnlib.store.workspace import MB, QuotaFull, Workspace
from cnnlib.training.config import Hyperparameters, TrainConfig

MODEL_BYTES_PER_WEIGHT = 12  # a .keras file: float32 weights and Adam's two moments (measured 12.05 for the default)
MODEL_OVERHEAD_BYTES = 256 * 2**10  # its config, metadata and HDF5 headers (0.13 MB measured for a small network)
STATE_BYTES_PER_WEIGHT = 2  # a snapshot keeps float16 weights
STATE_OVERHEAD_BYTES = 4 * 2**10  # an npz member's headers, a dozen members a state
CARD_BYTES = 16 * 2**10  # the JSON card beside the model
FEWEST_STATES = 2  # the untrained weights and the last epoch


def parameter_count(hp: Hyperparameters) -> int:
    """The weights of ``hp``'s network (its design, else the tutorial's with its sizes), counted without building it:
    923,530 for the default 5x5 filters, 32 and 64 of them, 256 units (``cnnlib.network.design.traced_design``)."""
    return traced_design(recipe_design(hp)).parameters


def model_bytes(weights: int) -> int:
    """The model file and its card, for a network of ``weights`` weights."""
    return MODEL_BYTES_PER_WEIGHT * weights + MODEL_OVERHEAD_BYTES + CARD_BYTES


def state_bytes(weights: int) -> int:
    """One epoch's snapshot of a network of ``weights`` weights."""
    return STATE_BYTES_PER_WEIGHT * weights + STATE_OVERHEAD_BYTES


def run_bytes(weights: int, states: int) -> int:
    """What a run leaves on disk: the model, its card and ``states`` epoch snapshots."""
    return model_bytes(weights) + states * state_bytes(weights)


def planned_snapshots(workspace: Workspace, config: TrainConfig) -> int:
    """How many weight states ``config``'s run keeps: all it asks for (at most ``config.snapshots``) when they fit in
    ``workspace``'s room, else as many as fit; QuotaFull with a sentence when not even two do."""
    wanted = len(kept_epochs(config.hp.epochs, config.snapshots))
    left = workspace.room_left()
    if left is None:
        return wanted
    weights = parameter_count(config.hp)
    fitting = (left - model_bytes(weights)) // state_bytes(weights)
    if fitting < FEWEST_STATES:
        raise QuotaFull("workspace.run_too_big", needed=run_bytes(weights, FEWEST_STATES) / MB,
                        left=max(0, left) / MB)
    return min(wanted, fitting)
