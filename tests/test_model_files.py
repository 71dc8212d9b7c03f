"""The allow-list check that runs before Keras reads a model file: what it lets through and what it refuses."""

import json
import zipfile

import keras
import pytest

from cnnlib.network.architecture import Hyperparameters, build_model
from cnnlib.store.checks import SUPPORTED_LAYERS, UnsupportedModel, check_architecture


def saved(model, tmp_path, name="m"):
    """``model`` saved as a .keras file in ``tmp_path``."""
    path = tmp_path / f"{name}.keras"
    model.save(path)
    return path


def test_the_tutorial_network_and_every_supported_layer_pass(tmp_path):
    check_architecture(saved(build_model(Hyperparameters(conv1_filters=8, conv2_filters=8, dense_units=16)), tmp_path))
    inputs = keras.Input((28, 28))
    x = keras.layers.Reshape((28, 28, 1))(inputs)
    x = keras.layers.Rescaling(1.0)(x)
    x = keras.layers.Conv2D(4, 5, strides=2, padding="valid", activation="tanh")(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.AveragePooling2D(2)(x)
    x = keras.layers.Conv2D(4, 3, activation="sigmoid")(x)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.1)(x)
    x = keras.layers.Dense(10)(x)
    outputs = keras.layers.Activation("softmax")(x)
    check_architecture(saved(keras.Model(inputs, outputs), tmp_path, "functional"))


def test_the_allow_list_is_the_layer_table_and_names_real_keras_classes():
    from cnnlib.network.layers import LAYERS

    assert SUPPORTED_LAYERS == tuple(LAYERS)
    assert all(issubclass(getattr(keras.layers, name), keras.layers.Layer) for name in SUPPORTED_LAYERS)


def test_a_lambda_layer_is_refused_before_any_of_its_code_runs(tmp_path):
    marker = tmp_path / "ran.txt"
    marker_name = str(marker)
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                              keras.layers.Lambda(lambda x: (open(marker_name, "w").write("ran"), x)[1]),
                              keras.layers.Dense(10)])
    marker.unlink(missing_ok=True)  # building the model called the lambda once
    path = saved(model, tmp_path)
    marker.unlink(missing_ok=True)
    with pytest.raises(UnsupportedModel, match="runs code"):
        check_architecture(path)
    assert not marker.exists()


def test_custom_layers_lookup_layers_and_unknown_activations_are_refused(tmp_path):
    @keras.saving.register_keras_serializable(package="Someone")
    class Doubler(keras.layers.Layer):
        def call(self, x):
            return 2 * x

    custom = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), Doubler(name="doubler"),
                               keras.layers.Dense(10)])
    with pytest.raises(UnsupportedModel, match="doubler .*custom object"):
        check_architecture(saved(custom, tmp_path, "custom"))
    gelu = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                             keras.layers.Dense(10, activation="gelu", name="odd")])
    with pytest.raises(UnsupportedModel, match="odd uses the activation gelu"):
        check_architecture(saved(gelu, tmp_path, "gelu"))


def test_an_edited_archive_naming_a_lookup_layer_is_refused(tmp_path):
    path = saved(keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)]), tmp_path)
    with zipfile.ZipFile(path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(files["config.json"])
    config["config"]["layers"][1]["class_name"] = "StringLookup"
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    with pytest.raises(UnsupportedModel, match="StringLookup"):
        check_architecture(path)


@pytest.mark.parametrize("content", [b"", b"just text", b"PK\x03\x04 broken zip"])
def test_files_that_are_not_keras_archives_get_a_sentence(tmp_path, content):
    path = tmp_path / "fake.keras"
    path.write_bytes(content)
    with pytest.raises(UnsupportedModel, match="fake.keras could not be loaded: it is not a Keras model"):
        check_architecture(path)
