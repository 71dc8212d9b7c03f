"""Crafted .keras files a curious learner could upload (issue 20): each is refused with its sentence before Keras
reads any of it, the server process does not grow, and a real model still loads."""

import io
import json
import subprocess
import sys
import tempfile
import warnings
import zipfile
import zlib
from pathlib import Path

import h5py
import keras
import pytest

from cnnlib import text
from cnnlib.store.checks import UnsupportedModel, check_architecture
from cnnlib.store.saved import load_model

ROOT = Path(__file__).resolve().parents[1]
L = keras.layers
CONFIG, METADATA, WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
MAX_PEAK_RISE_MB = 20


def real_members(folder: Path) -> dict[str, bytes]:
    """The members of a small digit model as Keras saves it: (28, 28, 1) -> conv (4 3x3) -> flat -> out (10)."""
    model = keras.Sequential([keras.Input((28, 28, 1), name="digit"), L.Conv2D(4, 3, name="conv"),
                              L.Flatten(name="flat"), L.Dense(10, name="out")])
    path = folder / "real.keras"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture(scope="module")
def real(tmp_path_factory) -> dict[str, bytes]:
    """The real model's members (``real_members``), made once."""
    return real_members(tmp_path_factory.mktemp("real"))


def zipped(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_STORED, comment: bytes = b"") -> bytes:
    """A zip of ``members`` (name, bytes), in that order, each packed with ``method``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive, warnings.catch_warnings(action="ignore"):  # duplicates too
        for name, data in members:
            archive.writestr(name, data)
        archive.comment = comment
    return buffer.getvalue()


def with_members(real: dict[str, bytes], **replaced: bytes) -> bytes:
    """The real model's three members, some ``replaced`` (``config``, ``weights``), stored as Keras stores them."""
    return zipped([(CONFIG, replaced.get("config", real[CONFIG])), (METADATA, real[METADATA]),
                   (WEIGHTS, replaced.get("weights", real[WEIGHTS]))])


def declared(data: bytes, member: str, size: int, crc: int | None = None) -> bytes:
    """``data`` with the central directory saying ``member`` is ``size`` bytes (and has checksum ``crc``)."""
    data, name = bytearray(data), member.encode()
    start = data.index(b"PK\x01\x02")
    while data[start + 46:start + 46 + len(name)] != name:
        start = data.index(b"PK\x01\x02", start + 4)
    data[start + 24:start + 28] = size.to_bytes(4, "little")
    if crc is not None:
        data[start + 16:start + 20] = crc.to_bytes(4, "little")
    return bytes(data)


def edited(real: dict[str, bytes], edit) -> bytes:
    """The real model with ``edit(config)`` applied to its architecture."""
    config = json.loads(real[CONFIG])
    edit(config)
    return with_members(real, config=json.dumps(config).encode())


def entry_of(config: dict, name: str) -> dict:
    """The serialised object of the layer called ``name`` in a Sequential architecture."""
    return next(entry for entry in config["config"]["layers"] if entry["config"]["name"] == name)


def setting(name: str, **values):
    """An edit setting ``values`` on layer ``name``, every ``build_config`` dropped (only the edit is refused)."""
    def edit(config: dict) -> None:
        entry_of(config, name)["config"].update(values)
        for entry in config["config"]["layers"]:
            entry.pop("build_config", None)
    return edit


def serialised(name: str, **values):
    """An edit setting ``values`` on the serialised object of layer ``name`` (its module, its config…)."""
    return lambda config: entry_of(config, name).update(values)


def weights_edited(real: dict[str, bytes], edit) -> bytes:
    """The real model with ``edit(h5 file)`` applied to its weights."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / WEIGHTS
        path.write_bytes(real[WEIGHTS])
        with h5py.File(path, "r+") as weights:
            edit(weights)
        return with_members(real, weights=path.read_bytes())


def unwritten_kernel(weights: h5py.File) -> None:
    """The dense kernel replaced by 400 MB that were never written (HDF5 reads them as its fill value)."""
    del weights["layers/dense/vars/0"]
    weights.create_dataset("layers/dense/vars/0", shape=(10**8,), dtype="float32")


def gzip_kernel(weights: h5py.File) -> None:
    """The dense kernel replaced by 100 MB of gzip-compressed zeros, one chunk of them written."""
    del weights["layers/dense/vars/0"]
    kernel = weights.create_dataset("layers/dense/vars/0", shape=(25 * 10**6,), dtype="float32",
                                    chunks=(10**6,), compression="gzip")
    kernel[:10**6] = 0


def linked_kernel(weights: h5py.File) -> None:
    """The dense kernel replaced by a soft link to the conv kernel."""
    del weights["layers/dense/vars/0"]
    weights["layers/dense/vars/0"] = h5py.SoftLink("/layers/conv2d/vars/0")


def hidden_tail(real: dict[str, bytes]) -> bytes:
    """The weights deflated with 64 MiB of zeros after them, the directory declaring only the real weights: Keras's
    ``read()`` would inflate it all."""
    data = zipped([(CONFIG, real[CONFIG]), (METADATA, real[METADATA]), (WEIGHTS, real[WEIGHTS] + bytes(64 * 2**20))],
                  zipfile.ZIP_DEFLATED)
    return declared(data, WEIGHTS, len(real[WEIGHTS]), zlib.crc32(real[WEIGHTS]))


def two_outputs(real: dict[str, bytes]) -> bytes:
    """A Functional model answering twice from one flattened digit: not one chain."""
    inputs = keras.Input((28, 28, 1))
    flat = L.Flatten()(inputs)
    with tempfile.TemporaryDirectory() as folder:
        keras.Model(inputs, [L.Dense(10)(flat), L.Dense(10)(flat)]).save(Path(folder) / "two.keras")
        return (Path(folder) / "two.keras").read_bytes()


def bare_layer(real: dict[str, bytes]) -> bytes:
    """An architecture that is one Dense layer, not a model."""
    return with_members(real, config=json.dumps(json.loads(real[CONFIG])["config"]["layers"][-1]).encode())


def members(real: dict[str, bytes], *extra: tuple[str, bytes], method: int = zipfile.ZIP_STORED) -> bytes:
    """The real members and ``extra`` ones, each packed with ``method``."""
    return zipped([*real.items(), *extra], method)


HOSTILE = {  # name: (how the file is made from the real model's members, the refusal's catalogue key)
    "dense of a million units": (lambda real: edited(real, setting("out", units=10**6)), "model_files.setting"),
    "wide conv into a dense layer": (lambda real: edited(real, setting("conv", filters=1024, padding="same")),
                                     "model_files.too_many_parameters"),
    "50,000 nested lists": (lambda real: with_members(real, config=b"[" * 50_000 + b"]" * 50_000),
                            "model_files.too_deep"),
    "an extra member": (lambda real: members(real, ("assets/evil.bin", b"x")), "model_files.member_count"),
    "200 members": (lambda real: members(real, *((f"junk/{i}", b"") for i in range(197))), "model_files.member_count"),
    "a duplicate member": (lambda real: zipped([(CONFIG, real[CONFIG]), (CONFIG, b"{}"), (WEIGHTS, real[WEIGHTS])]),
                           "model_files.members"),
    "weights compressed 1000 to 1": (lambda real: members({**real, WEIGHTS: bytes(16 * 2**20)},
                                                          method=zipfile.ZIP_DEFLATED), "model_files.compressed"),
    "weights declaring 3.5 GiB": (lambda real: declared(with_members(real), WEIGHTS, 7 * 2**29),
                                  "model_files.member_too_big"),
    "weights inflating past their size": (hidden_tail, "model_files.damaged_part"),
    "a bzip2 member": (lambda real: members({CONFIG: real[CONFIG], WEIGHTS: real[WEIGHTS]}, (METADATA, b"{}"),
                                            method=zipfile.ZIP_BZIP2), "model_files.packing"),
    "a zip comment": (lambda real: zipped(list(real.items()), comment=b"hello"), "models.error.not_keras"),
    "wrong input shape": (lambda real: edited(real, setting("digit", batch_shape=[None, 32, 32, 3])),
                          "model_exchange.wrong_input"),
    "11 outputs": (lambda real: edited(real, setting("out", units=11)), "model_exchange.wrong_output"),
    "a billion filters": (lambda real: edited(real, setting("conv", filters=10**9)), "model_files.setting"),
    "kernel size abc": (lambda real: edited(real, setting("conv", kernel_size="abc")), "model_files.setting"),
    "negative units": (lambda real: edited(real, setting("out", units=-10)), "model_files.setting"),
    "units as a float": (lambda real: edited(real, setting("out", units=10.0)), "model_files.setting"),
    "units as text": (lambda real: edited(real, setting("out", units="10")), "model_files.setting"),
    "padding full": (lambda real: edited(real, setting("conv", padding="full")), "model_files.setting"),
    "strided and dilated": (lambda real: edited(real, setting("conv", strides=2, dilation_rate=2)),
                            "model_files.impossible"),
    "an activation object": (lambda real: edited(real, setting("out", activation={"class_name": "Gelu"})),
                             "model_files.setting"),
    "an extra lora rank": (lambda real: edited(real, setting("out", lora_rank=10**6)), "model_files.setting"),
    "a quantized dtype": (lambda real: edited(real, setting("out", dtype={
        "module": "keras", "class_name": "DTypePolicy", "config": {"name": "int8_from_float32"},
        "registered_name": None})), "model_files.setting"),
    "an unknown setting": (lambda real: edited(real, setting("out", input_shape=[None, 10**6])),
                           "model_files.unknown_setting"),
    "a missing setting": (lambda real: edited(real, lambda config: entry_of(config, "out")["config"].pop("units")),
                          "model_files.missing_setting"),
    "a build config for a million inputs": (lambda real: edited(real, serialised(
        "out", build_config={"input_shape": [None, 10**6]})), "model_files.setting"),
    "a layer from keras_hub": (lambda real: edited(real, serialised("out", module="keras_hub.layers")),
                               "model_files.custom"),
    "an initializer from another module": (lambda real: edited(real, setting("out", kernel_initializer={
        "module": "keras_evil.initializers", "class_name": "Zeros", "config": {}, "registered_name": None})),
        "model_files.custom"),
    "a layer config that is text": (lambda real: edited(real, serialised("out", config="x")), "models.error.not_keras"),
    "an architecture that is a list": (lambda real: with_members(real, config=b"[]"), "models.error.not_keras"),
    "a bare layer": (bare_layer, "model_files.not_a_model"),
    "two outputs": (two_outputs, "model_files.not_a_chain"),
    "weights too small for the layers": (lambda real: edited(real, setting("conv", filters=64)),
                                         "model_files.weights_size"),
    "a dataset never written": (lambda real: weights_edited(real, unwritten_kernel), "model_files.weights_layout"),
    "a gzip dataset": (lambda real: weights_edited(real, gzip_kernel), "model_files.weights_layout"),
    "a linked dataset": (lambda real: weights_edited(real, linked_kernel), "model_files.weights_layout"),
    "not a zip": (lambda real: b"hello", "models.error.not_keras"),
}
WORST = ("dense of a million units", "wide conv into a dense layer", "50,000 nested lists", "200 members",
         "weights compressed 1000 to 1", "weights declaring 3.5 GiB", "weights inflating past their size",
         "a dataset never written", "a gzip dataset", "a billion filters", "a build config for a million inputs")


@pytest.fixture(scope="module")
def hostile(real, tmp_path_factory) -> dict[str, Path]:
    """Every crafted file, written as ``<name>.keras`` in a folder of its own."""
    folder = tmp_path_factory.mktemp("hostile")
    paths = {name: folder / f"{name}.keras" for name in HOSTILE}
    for name, (craft, _) in HOSTILE.items():
        paths[name].write_bytes(craft(real))
    return paths


@pytest.mark.parametrize("name", list(HOSTILE))
def test_each_crafted_file_is_refused_with_its_sentence(name, hostile, monkeypatch):
    with pytest.raises(UnsupportedModel) as refused:
        check_architecture(hostile[name])
    assert refused.value.key == HOSTILE[name][1], refused.value
    sentence = str(refused.value)
    assert str(hostile[name].parent) not in sentence and "Traceback" not in sentence
    if "{file}" in text.catalogue(text.ENGLISH)[refused.value.key]:
        assert f"{name}.keras" in sentence
    monkeypatch.setattr(text, "_language_resolver", lambda: text.KOREAN)
    assert str(refused.value) != sentence  # worded in Korean too


@pytest.mark.parametrize("name", ["a billion filters", "weights declaring 3.5 GiB", "a dataset never written"])
def test_the_app_loader_refuses_them_before_keras(name, hostile):
    with pytest.raises(UnsupportedModel) as refused:
        load_model(hostile[name])
    assert refused.value.key == HOSTILE[name][1]


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED], ids=["as saved", "deflated"])
def test_a_real_model_still_loads(real, tmp_path, method):
    path = tmp_path / "real.keras"
    path.write_bytes(members(real, method=method))
    check_architecture(path)
    assert load_model(path).count_params() == 4 * 9 + 4 + 26 * 26 * 4 * 10 + 10


MEASURE = """
import sys
sys.path.insert(0, "tests")
from cnnlib.errors import Refusal
from cnnlib.store.checks import check_architecture
from peak_memory import peak_kb, reset_peak

check_architecture(sys.argv[1])  # every module, h5py included, loaded before the measurement
reset_peak()  # the peak restarts from what the process holds now
before = peak_kb()
for path in sys.argv[2:]:
    try:
        check_architecture(path)
    except Refusal:
        pass
    else:
        raise SystemExit(f"accepted: {path}")
print((peak_kb() - before) / 1024)
"""


def test_refusing_the_worst_files_does_not_grow_the_process(real, hostile, tmp_path):
    good = tmp_path / "good.keras"
    good.write_bytes(with_members(real))
    run = subprocess.run([sys.executable, "-c", MEASURE, str(good), *(str(hostile[name]) for name in WORST)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert float(run.stdout) <= MAX_PEAK_RISE_MB, f"peak memory rose by {run.stdout.strip()} MB"


def test_the_kernel_never_written_declares_400_mb_and_stores_nothing(hostile, tmp_path):
    copy = tmp_path / WEIGHTS
    with zipfile.ZipFile(hostile["a dataset never written"]) as archive:
        copy.write_bytes(archive.read(WEIGHTS))
    with h5py.File(copy, "r") as weights:
        kernel = weights["layers/dense/vars/0"]
        assert kernel.shape == (10**8,) and kernel.id.get_storage_size() == 0  # what Keras would read whole


def test_a_sentence_names_the_learners_file_and_no_folder(hostile, tmp_path):
    path = tmp_path / "my folder" / "my model.keras"
    path.parent.mkdir()
    path.write_bytes(hostile["weights declaring 3.5 GiB"].read_bytes())
    with pytest.raises(UnsupportedModel) as refused:
        check_architecture(path)
    assert "my model.keras" in str(refused.value) and "my folder" not in str(refused.value)
