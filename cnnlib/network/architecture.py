"""The tutorial's network (section 2.3), bugs fixed, in Keras 3, and what trains it: Adam's schedule, augmentation.

    input  (N, 28, 28, 1)
    conv1  3x3x32, ReLU, SAME   -> (N, 28, 28, 32)    (kernel_size sets 3x3 or 5x5 for both convs)
    pool1  2x2, stride 2, SAME  -> (N, 14, 14, 32)
    conv2  3x3x64, ReLU, SAME   -> (N, 14, 14, 64)
    pool2  2x2, stride 2, SAME  -> (N, 7, 7, 64)   (the tutorial assigned this to L1 and flattened 14x14x64)
    flatten                     -> (N, 3136)
    dense1 256, ReLU, dropout   -> (N, 256)
    dense2 256, ReLU, dropout   -> (N, 256)
    logits 10                   -> (N, 10)         (accuracy takes argmax of these, not of relu(logits))

With ``hp.layers`` set, the network is the learner's design instead (``cnnlib.network.design``: the same names,
initialisers and output); empty, it is the one above with ``hp``'s sizes, weight for weight as it always was.

The cost is the tutorial's softmax cross-entropy of the logits against one-hot targets (``one_hot``), smoothed by
``label_smoothing``: with 0.1 the right digit's target is 0.91 and each other digit's 0.01.
With ``augment`` the network trains inside ``training_model``: random shifts, turns and zooms of each batch in front
of it, active only while training. The network alone is what is saved and read everywhere.
"""

from __future__ import annotations

import numpy as np

from cnnlib.network.design import built_layers, recipe_design
from cnnlib.network.design_layers import Conv, Dense, Design, Dropout, Logits, keras_arguments, keras_class
from cnnlib.training.config import Hyperparameters

WARMUP_START = 0.1  # the warm-up rises from a tenth of the learning rate to all of it
SHIFT, TURN, ZOOM = 0.08, 0.03, 0.08  # up to 8% of the side (2.2 pixels), 0.03 of a full turn (11°), 8% bigger/smaller


def build_model(hp: Hyperparameters = Hyperparameters(), steps_per_epoch: int = 1):
    """A compiled ``keras.Sequential`` of ``hp``'s network (its design, else the tutorial's) with named layers.

    ``steps_per_epoch`` matters only for a schedule: the warm-up and the cosine span ``epochs * steps_per_epoch``.
    """
    import keras

    keras.utils.set_random_seed(hp.seed)
    model = keras.Sequential([keras.Input(shape=(28, 28, 1), name="image"), *keras_layers(recipe_design(hp), hp)],
                             name="designed_cnn" if hp.layers.strip() else "tutorial_cnn")
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate(hp, hp.epochs * steps_per_epoch),
                                      beta_1=hp.beta_1, beta_2=hp.beta_2)
    # Keras's own cost, not a function of ours: a downloaded model then loads with plain keras.saving.load_model
    cost = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=hp.label_smoothing)
    model.compile(optimizer=optimizer, loss=cost, metrics=["accuracy"])
    return model


def keras_layers(design: Design, hp: Hyperparameters) -> list:
    """The Keras layers of ``design``, named as ``cnnlib.network.design.built_layers`` names them: convolutions with
    ``hp.init``'s initialisers (one set shared by all, as the tutorial's two always had), dense layers He-normal, the
    output Keras's default, dropout1 seeded with ``hp.seed``, dropout2 with ``hp.seed + 1``, …"""
    from keras import layers

    conv, dropouts, built = _conv_initializers(hp.init, hp.seed), 0, []
    for name, layer, _ in built_layers(design):
        arguments = {**keras_arguments(layer), "name": name}
        if isinstance(layer, Conv):
            arguments.update(conv)
        elif isinstance(layer, Dropout):
            arguments["seed"], dropouts = hp.seed + dropouts, dropouts + 1
        elif isinstance(layer, Dense) and not isinstance(layer, Logits):
            arguments["kernel_initializer"] = "he_normal"
        built.append(getattr(layers, keras_class(layer))(**arguments))
    return built


def one_hot(labels: np.ndarray) -> np.ndarray:
    """Digit labels ``(N,)`` -> the cost's targets ``(N, 10)`` float32, one-hot like the tutorial's ``Y``: 3 becomes
    [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]."""
    return np.eye(10, dtype=np.float32)[np.asarray(labels)]


def learning_rate(hp: Hyperparameters, total_steps: int):
    """Adam's rate: constant, or a linear warm-up over ``hp.warmup`` of the steps then constant or half a cosine to 0.

    The tutorial's recipe (no warm-up, no decay) gets the plain number; warm-up then cosine is the "one-cycle" rate.
    """
    import keras

    if hp.lr_decay == "none" and hp.warmup == 0:
        return hp.learning_rate
    warmup_steps = round(total_steps * hp.warmup)
    return keras.optimizers.schedules.CosineDecay(
        hp.learning_rate * WARMUP_START if warmup_steps else hp.learning_rate,
        decay_steps=max(1, total_steps - warmup_steps), alpha=0.0 if hp.lr_decay == "cosine" else 1.0,
        warmup_target=hp.learning_rate if warmup_steps else None, warmup_steps=warmup_steps)


def augmentation_layers(seed: int) -> list:
    """Random shift, turn and zoom of each digit (black fill); Keras applies them only when ``training=True``."""
    from keras import layers

    return [layers.RandomTranslation(SHIFT, SHIFT, fill_mode="constant", seed=seed, name="shift"),
            layers.RandomRotation(TURN, fill_mode="constant", seed=seed + 1, name="turn"),
            layers.RandomZoom(ZOOM, ZOOM, fill_mode="constant", seed=seed + 2, name="zoom")]


def augmented_digits(images: np.ndarray, versions: int = 3, seed: int = 0) -> np.ndarray:
    """``(N, 28, 28)`` digits in 0..1 -> ``(versions, N, 28, 28)``: random versions of each, as training sees them."""
    import keras

    augment = keras.Sequential(augmentation_layers(seed))
    batch = np.asarray(images, np.float32)[..., np.newaxis]
    return np.stack([keras.ops.convert_to_numpy(augment(batch, training=True))[..., 0] for _ in range(versions)])


def training_model(model, hp: Hyperparameters):
    """What ``fit`` trains: ``model`` itself, or with ``hp.augment`` the augmentation in front of it.

    The wrapper shares the network's layers and optimizer, so training it trains ``model``; save ``model`` alone.
    """
    if not hp.augment:
        return model
    import keras

    wrapper = keras.Sequential([keras.Input(shape=(28, 28, 1), name="image"), *augmentation_layers(hp.seed),
                                model], name="augmented_training")
    wrapper.compile(optimizer=model.optimizer, loss=model.loss, metrics=["accuracy"])
    return wrapper


def _conv_initializers(init: str, seed: int) -> dict:
    """Kernel and bias initialisers for the conv layers: the tutorial's N(0, 1) or He-normal with zero biases."""
    import keras

    if init == "tutorial":
        return {
            "kernel_initializer": keras.initializers.RandomNormal(stddev=1.0, seed=seed),
            "bias_initializer": keras.initializers.RandomNormal(stddev=1.0, seed=seed + 1),
        }
    if init == "he":
        return {"kernel_initializer": keras.initializers.HeNormal(seed=seed), "bias_initializer": "zeros"}
    raise ValueError(f"Unknown initialisation {init!r}: choose 'tutorial' or 'he'.")
