"""The tutorial's network (section 2.3), bugs fixed, in Keras 3.

    input  (N, 28, 28, 1)
    conv1  3x3x32, ReLU, SAME   -> (N, 28, 28, 32)
    pool1  2x2, stride 2, SAME  -> (N, 14, 14, 32)
    conv2  3x3x64, ReLU, SAME   -> (N, 14, 14, 64)
    pool2  2x2, stride 2, SAME  -> (N, 7, 7, 64)   (the tutorial assigned this to L1 and flattened 14x14x64)
    flatten                     -> (N, 3136)
    dense1 256, ReLU, dropout   -> (N, 256)
    dense2 256, ReLU, dropout   -> (N, 256)
    logits 10                   -> (N, 10)         (accuracy takes argmax of these, not of relu(logits))
"""

from __future__ import annotations

from cnnlib.training.config import Hyperparameters


def build_model(hp: Hyperparameters = Hyperparameters(), steps_per_epoch: int = 1):
    """A compiled ``keras.Sequential`` with the tutorial's architecture and named layers.

    ``steps_per_epoch`` matters only for ``lr_decay="cosine"``: the rate reaches 0 after ``epochs * steps_per_epoch``.
    """
    import keras
    from keras import layers

    keras.utils.set_random_seed(hp.seed)
    conv_init = _conv_initializers(hp.init, hp.seed)
    dropout_rate = 1.0 - hp.keep_prob
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1), name="image"),
            layers.Conv2D(hp.conv1_filters, 3, padding="same", activation="relu", name="conv1", **conv_init),
            layers.MaxPooling2D(2, strides=2, padding="same", name="pool1"),
            layers.Conv2D(hp.conv2_filters, 3, padding="same", activation="relu", name="conv2", **conv_init),
            layers.MaxPooling2D(2, strides=2, padding="same", name="pool2"),
            layers.Flatten(name="flatten"),
            layers.Dense(hp.dense_units, activation="relu", kernel_initializer="he_normal", name="dense1"),
            layers.Dropout(dropout_rate, seed=hp.seed, name="dropout1"),
            layers.Dense(hp.dense_units, activation="relu", kernel_initializer="he_normal", name="dense2"),
            layers.Dropout(dropout_rate, seed=hp.seed + 1, name="dropout2"),
            layers.Dense(10, name="logits"),
        ],
        name="tutorial_cnn",
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=_learning_rate(hp, steps_per_epoch)),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def _learning_rate(hp: Hyperparameters, steps_per_epoch: int):
    """Adam's rate: the constant ``hp.learning_rate``, or half a cosine from it down to 0 over the whole run."""
    import keras

    if hp.lr_decay == "cosine":
        return keras.optimizers.schedules.CosineDecay(hp.learning_rate, decay_steps=hp.epochs * steps_per_epoch)
    return hp.learning_rate


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
