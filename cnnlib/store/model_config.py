"""A model's architecture (``config.json``), checked object by object before Keras builds anything from it.

Keras deserialises the architecture and builds each layer as it goes (a Dense layer of a million units is allocated
before any check of its own could refuse it), so the app reads the architecture first:

- nested at most ``MAX_DEPTH`` deep, counted in the bytes before ``json.loads`` recurses into them;
- one Sequential or Functional model (its module exactly as Keras 3 writes it) of at most ``MAX_LAYERS`` layers in
  one chain, from a 28x28 grey digit (``DIGIT_INPUTS``) to 10 numbers (``DIGIT_OUTPUT``);
- every layer a class of the layer table from ``keras.layers``, with every setting known and within its rule;
  every nested object (initialiser, regulariser, constraint, dtype policy) a plain Keras class from its own module;
- every layer's output shape and parameter count computed from its settings (``cnnlib.network.layers.trace``), the
  shapes Keras would build from (``build_config``, a Functional model's links) equal to them, and at most
  ``MAX_PARAMETERS`` parameters in all.

The optimizer (``compile_config``) is never read: models are loaded with ``compile=False``.
"""

from __future__ import annotations

import json
import re

import numpy as np

from cnnlib.errors import Refusal
from cnnlib.network.layers import (ACTIVATIONS, DIGIT_INPUTS, DIGIT_OUTPUT, DTYPE_POLICY, FUNCTIONAL, INPUT_LAYER,
                                   KERAS_TENSOR, LAYER_MODULE, LAYERS, MODELS, POLICY_MODULE, RUNS_CODE, trace)
from cnnlib.network.settings import (DTYPE, FLAG, MAX_NAME, NAME, POLICIES, Rule, Settings, check_settings, is_number,
                                     label, layer_name, one_of, shown)
from cnnlib.network.shapes import Shape
from cnnlib.store.archive import MAX_PARAMETERS, NOT_KERAS

MAX_DEPTH = 64  # how deep lists and objects nest in config.json: Keras's own go about 10 deep
MAX_LAYERS = 100  # a digit network the app can show layer by layer has a few dozen at most
STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+(?:"|\\?\Z)', re.DOTALL)  # a string, or one left open to the end
WEIGHT_SETTINGS = {  # what a layer's ``*_initializer``, ``*_regularizer`` and ``*_constraint`` may be, by module
    "initializer": ("keras.initializers", {
        "HeNormal", "HeUniform", "GlorotNormal", "GlorotUniform", "LecunNormal", "LecunUniform", "Zeros", "Ones",
        "RandomNormal", "RandomUniform", "TruncatedNormal", "Constant", "VarianceScaling", "Orthogonal"}),
    "regularizer": ("keras.regularizers", {"L1", "L2", "L1L2"}),
    "constraint": ("keras.constraints", {"MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm"}),
}
LAYER_MODULES = {INPUT_LAYER: LAYER_MODULE, **{kind: LAYER_MODULE for kind in LAYERS}}
OBJECT_KEYS = {"module", "class_name", "config", "registered_name", "shared_object_id"}
ENTRY_KEYS = {"module", "class_name", "config", "registered_name", "build_config", "name", "inbound_nodes"}
MODEL_KEYS = {"module", "class_name", "config", "registered_name", "build_config", "compile_config"}
LISTED = Rule(lambda value: value is None or isinstance(value, list), "null, […]")
MODEL_RULES = {"name": NAME, "trainable": FLAG, "dtype": DTYPE, "layers": Rule(lambda value: isinstance(value, list),
               "[…]"), "build_input_shape": LISTED, "input_layers": LISTED, "output_layers": LISTED}
INPUT_RULES = {"name": NAME, "dtype": DTYPE, "batch_shape": LISTED, "sparse": one_of(False), "ragged": one_of(False),
               "optional": one_of(False)}


def nesting_depth(text: bytes) -> int:
    """How deeply ``[`` and ``{`` nest in JSON ``text``, brackets inside strings left out: ``b'{"a": [1, "]"]}'``
    -> 2."""
    brackets = np.frombuffer(re.sub(rb"[^\[\]{}]", b"", STRING.sub(b"", text)), np.uint8)
    steps = np.where((brackets == ord("[")) | (brackets == ord("{")), 1, -1)
    return int(np.cumsum(steps).max(initial=0))


def parse(text: bytes) -> object:
    """config.json's content, its nesting checked before ``json.loads`` recurses into it; a Refusal otherwise."""
    if nesting_depth(text) > MAX_DEPTH:
        raise Refusal("model_files.too_deep", limit=MAX_DEPTH)
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:
        raise Refusal(NOT_KERAS) from error


def _check_keys(node: dict, allowed: set[str], layer: str) -> None:
    """Refuse a key of a serialised object that Keras 3 does not write there."""
    unknown = sorted(str(key) for key in node if key not in allowed)
    if unknown:
        raise Refusal("model_files.unknown_setting", layer=layer, setting=shown(unknown[0]))


def _check_class(layer: str, node: dict, modules: dict[str, str]) -> None:
    """Refuse an object whose class runs code, is registered as custom or comes from another module than the one
    Keras 3 writes for it (``modules``), or is not in ``modules``."""
    kind = node.get("class_name")
    if kind in RUNS_CODE:
        raise Refusal("model_files.runs_code", layer=layer, kind=kind)
    if node.get("registered_name") not in (None, kind) or (kind in modules and node.get("module") != modules[kind]):
        raise Refusal("model_files.custom", layer=layer, kind=label(kind), supported=", ".join(LAYERS))
    if kind not in modules:
        raise Refusal("model_files.unsupported", layer=layer, kind=label(kind), supported=", ".join(LAYERS))


def _is_plain(value: object) -> bool:
    """A setting of an initialiser, regulariser or constraint: a number, flag, null, short text or a few axes."""
    if isinstance(value, list):
        return len(value) <= 4 and all(type(item) is int for item in value)
    return value is None or type(value) is bool or is_number(value, -1e12, 1e12) or (
        isinstance(value, str) and len(value) <= MAX_NAME)


def _check_object(layer: str, key: str, node: dict) -> None:
    """Refuse a nested object (``key`` names its setting) that is not a plain Keras class of its kind."""
    module, classes = ((POLICY_MODULE, {DTYPE_POLICY}) if key == "dtype" else
                       WEIGHT_SETTINGS.get(key.rsplit("_", 1)[-1], ("", set())))
    kind, config = node.get("class_name"), node.get("config")
    _check_keys(node, OBJECT_KEYS, layer)
    if node.get("registered_name") not in (None, kind) or node.get("module") != module:
        raise Refusal("model_files.custom", layer=layer, kind=label(kind), supported=", ".join(LAYERS))
    if kind not in classes:
        raise Refusal("model_files.setting", layer=layer, setting=key, value=shown(kind),
                      allowed=", ".join(sorted(classes)))
    plain = isinstance(config, dict) and all(_is_plain(value) for value in config.values())
    if not plain or (kind == DTYPE_POLICY and config.get("name") not in POLICIES):
        raise Refusal("model_files.setting", layer=layer, setting=key, value=shown(config),
                      allowed=", ".join(POLICIES) if kind == DTYPE_POLICY else "{…}")


def _check_objects(layer: str, settings: Settings) -> None:
    """Refuse any nested object in a layer's or model's settings that is not a plain Keras class of its kind."""
    for key, value in settings.items():
        if isinstance(value, dict):
            _check_object(layer, key, value)


def _model(architecture: object) -> dict:
    """The model object of config.json: a Sequential or Functional model with known keys and settings."""
    if not isinstance(architecture, dict) or not isinstance(architecture.get("config"), dict):
        raise Refusal(NOT_KERAS)
    config = architecture["config"]
    if architecture.get("class_name") not in MODELS:
        raise Refusal("model_files.not_a_model", kind=label(architecture.get("class_name")))
    _check_class(layer_name(config), architecture, MODELS)
    _check_keys(architecture, MODEL_KEYS, layer_name(config))
    check_settings(config, MODEL_RULES)
    _check_objects(layer_name(config), config)
    return architecture


def _entries(config: dict) -> list[dict]:
    """The model's layers, each an object with settings, at most ``MAX_LAYERS``, the first its input."""
    entries = config["layers"]
    if len(entries) > MAX_LAYERS:
        raise Refusal("model_files.too_many_layers", count=len(entries), limit=MAX_LAYERS)
    if not entries or not all(isinstance(entry, dict) and isinstance(entry.get("config"), dict) for entry in entries):
        raise Refusal(NOT_KERAS)
    for entry in entries:
        _check_class(layer_name(entry["config"]), entry, LAYER_MODULES)
        _check_keys(entry, ENTRY_KEYS, layer_name(entry["config"]))
    if entries[0]["class_name"] != INPUT_LAYER:
        raise Refusal("model_exchange.wrong_input", shape=None)
    return entries


def _is_batch_shape(batch: object) -> bool:
    """Whether ``batch`` is a short shape of ints, its batch axis null: ``[null, 28, 28, 1]``."""
    return (isinstance(batch, list) and 0 < len(batch) <= 6 and batch[0] is None
            and all(type(side) is int for side in batch[1:]))


def _input_shape(entry: dict) -> Shape:
    """The digit's shape the model reads, batch axis left out: ``(28, 28, 1)`` or ``(28, 28)``."""
    settings = entry["config"]
    check_settings(settings, INPUT_RULES)
    _check_objects(layer_name(settings), settings)
    batch = settings.get("batch_shape")
    if not _is_batch_shape(batch) or tuple(batch) not in DIGIT_INPUTS:
        raise Refusal("model_exchange.wrong_input", shape=tuple(batch) if _is_batch_shape(batch) else shown(batch))
    return tuple(batch[1:])


def _check_build(layer: str, build: object, shape: Shape) -> None:
    """Refuse a ``build_config`` that would build a layer for another input than the one that reaches it."""
    expected = {"input_shape": [None, *shape]}
    if build is not None and build != expected and build != {"input_shape": None}:
        raise Refusal("model_files.setting", layer=layer, setting="build_config", value=shown(build),
                      allowed=shown(expected))


def _tensor_source(argument: object) -> object:
    """The layer output a Functional link reads (``keras_history``: name, call, output), or None for anything but a
    plain link. Its ``shape`` is a placeholder Keras replaces with that output."""
    config = argument.get("config") if isinstance(argument, dict) else None
    if (not isinstance(config, dict) or argument.get("class_name") != KERAS_TENSOR or set(argument) - {
            "class_name", "config"} or set(config) - {"shape", "dtype", "keras_history"}):
        return None
    return config.get("keras_history")


def _reads(entry: dict, source: object) -> bool:
    """Whether a Functional layer is called once, on the output of layer ``source``, and on nothing else (its other
    call arguments flags or nulls)."""
    nodes = entry.get("inbound_nodes")
    node = nodes[0] if isinstance(nodes, list) and len(nodes) == 1 and isinstance(nodes[0], dict) else {}
    arguments, options = node.get("args"), node.get("kwargs", {})
    if set(node) - {"args", "kwargs"} or not isinstance(arguments, list) or len(arguments) != 1:
        return False
    plain = isinstance(options, dict) and all(value is None or type(value) is bool for value in options.values())
    return plain and _tensor_source(arguments[0]) == [source, 0, 0]


def _check_chain(config: dict, entries: list[dict]) -> None:
    """Refuse a Functional model that is not one chain: each layer called once on the one before, input to output."""
    names = [entry.get("name") for entry in entries]
    for entry, source in zip(entries[1:], names):
        if not _reads(entry, source):
            raise Refusal("model_files.not_a_chain", layer=layer_name(entry["config"]))
    links = config.get("input_layers"), config.get("output_layers")
    ends = ([names[0], 0, 0], [[names[0], 0, 0]]), ([names[-1], 0, 0], [[names[-1], 0, 0]])
    unique = all(isinstance(name, str) for name in names) and len(set(names)) == len(names)
    if not unique or entries[0].get("inbound_nodes") or not all(link in end for link, end in zip(links, ends)):
        raise Refusal("model_files.not_a_chain", layer=layer_name(entries[-1]["config"]))


def _check_layers(model: dict, entries: list[dict], inputs: list[Shape]) -> None:
    """Refuse an unknown activation, an odd nested object or a shape Keras would build from that is not the one
    traced."""
    for entry, shape in zip(entries[1:], inputs):
        layer, settings = layer_name(entry["config"]), entry["config"]
        activation = settings.get("activation", "linear")
        if activation not in ACTIVATIONS:
            raise Refusal("model_files.activation", layer=layer, activation=activation,
                          supported=", ".join(sorted(ACTIVATIONS)))
        _check_objects(layer, settings)
        _check_build(layer, entry.get("build_config"), shape)
    config, name = model["config"], layer_name(model["config"])
    _check_build(name, model.get("build_config"), inputs[0])
    if config.get("build_input_shape") not in (None, [None, *inputs[0]]):
        raise Refusal("model_files.setting", layer=name, setting="build_input_shape",
                      value=shown(config["build_input_shape"]), allowed=shown([None, *inputs[0]]))


def check_model(architecture: object) -> int:
    """The parameter count of the model config.json describes, once every object, setting and shape in it passed
    the checks above; a Refusal for the first that did not."""
    model = _model(architecture)
    entries = _entries(model["config"])
    if model["class_name"] == FUNCTIONAL:
        _check_chain(model["config"], entries)
    inputs = [_input_shape(entries[0])]
    traced = trace([(entry["class_name"], entry["config"]) for entry in entries[1:]], inputs[0])
    inputs += [shape for shape, _ in traced]
    _check_layers(model, entries, inputs)
    if (None, *inputs[-1]) != DIGIT_OUTPUT:
        raise Refusal("model_exchange.wrong_output", shape=(None, *inputs[-1]))
    parameters = sum(count for _, count in traced)
    if parameters > MAX_PARAMETERS:
        raise Refusal("model_files.too_many_parameters", count=parameters, limit=MAX_PARAMETERS)
    return parameters
