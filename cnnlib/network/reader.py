"""A trained network read layer by layer in numpy, for one digit at a time: every layer's output and its answer."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cnnlib.network.layers import (DIGIT_INPUTS, INPUT_LAYER, LOGITS, PROBABILITIES, SEQUENTIAL, Layer, Note,
                                   UnreadableModel, applies_softmax, class_name, layer_kind, layer_note, numpy_layer)
from cnnlib.network.ops import softmax
from cnnlib.server.blas import one_thread


@dataclass(frozen=True, repr=False)
class ModelReading:
    """What a trained network computes for one digit: every layer's output (batch axis dropped) and its answer."""

    activations: dict[str, np.ndarray]  # layer name -> (H, W, C) or (units,)
    probabilities: np.ndarray  # (10,), softmax of the logits
    kinds: dict[str, str]  # layer name -> one of KINDS' values, "logits" or "probabilities"
    notes: dict[str, Note] = field(default_factory=dict)  # layer name -> its line's catalogue key and values

    @property
    def prediction(self) -> int:
        """The most probable digit."""
        return int(np.argmax(self.probabilities))

    @property
    def confidence(self) -> float:
        """The probability of the predicted digit."""
        return float(self.probabilities[self.prediction])

    def __repr__(self) -> str:
        return f"ModelReading(prediction={self.prediction}, p={self.confidence:.3f}, layers={list(self.activations)})"


def chain_layers(model, refusal: str = "draw.error.not_a_chain") -> list:
    """The model's layers in order (input layers left out); UnreadableModel (the sentence ``refusal``, which names
    the layer as ``name`` or ``layer``) when they are not one chain, each reading the previous one's output."""
    layers = [layer for layer in model.layers if class_name(layer) != INPUT_LAYER]
    if class_name(model) == SEQUENTIAL:
        return layers
    previous = model.inputs[0] if len(model.inputs) == 1 else None
    for layer in layers:
        if previous is None or layer.input is not previous:
            raise UnreadableModel(refusal, name=layer.name, layer=layer.name)
        previous = layer.output
    return layers


def _layer_weights(layers: list, weights: list[np.ndarray] | None) -> list[list[np.ndarray]]:
    """Each layer's share of ``weights`` (the model's ``get_weights()`` order), or its own weights when None."""
    if weights is None:
        return [layer.get_weights() for layer in layers]
    counts = np.cumsum([0] + [len(layer.weights) for layer in layers])
    if counts[-1] != len(weights):
        raise UnreadableModel("draw.error.weights_mismatch", count=len(weights), expected=int(counts[-1]))
    return [[np.asarray(weight, np.float32) for weight in weights[start:stop]]
            for start, stop in zip(counts[:-1], counts[1:])]


class ModelProbe:
    """A trained Keras model read layer by layer: its weights copied into numpy once, for readings in ~1.5 ms.

    Why numpy and not one multi-output Keras model: Streamlit calls ``keras.backend.clear_session()`` after every
    run, and a Keras call after that took 24 ms median here (eager or ``tf.function``), the whole per-stroke
    budget; numpy with the same weights gives the same numbers (to float32 rounding; tests check every supported
    layer against Keras). ``weights`` (the model's ``get_weights()`` order) replace the model's own: an earlier
    epoch's. Any other layer, or a network that is not one chain, is refused with an ``UnreadableModel``.
    """

    def __init__(self, model, weights: list[np.ndarray] | None = None) -> None:
        if tuple(model.input_shape) not in DIGIT_INPUTS:
            raise UnreadableModel("draw.error.model_input", shape=tuple(model.input_shape), expected=DIGIT_INPUTS[0])
        layers = chain_layers(model)
        self.model, self.input_shape = model, tuple(model.input_shape[1:])
        self.layer_names = tuple(layer.name for layer in layers)
        shares = _layer_weights(layers, weights)
        numpy_layers = [numpy_layer(layer, share) for layer, share in zip(layers, shares)]
        unknown = [layer for layer, numpy_version in zip(layers, numpy_layers) if numpy_version is None]
        if unknown:
            raise UnreadableModel("draw.error.model_layer", name=unknown[0].name, kind=class_name(unknown[0]))
        self.numpy_layers: tuple[Layer, ...] = tuple(numpy_layers)
        self.conv_kernel = next((share[0] for layer, share in zip(layers, shares) if layer_kind(layer) == "conv"), None)
        self.notes = {layer.name: layer_note(layer) for layer in layers}
        kinds = [layer_kind(layer) for layer in layers]
        ends_in_softmax = applies_softmax(layers[-1])
        self.layer_kinds = tuple(kinds[:-1]) + ((PROBABILITIES if ends_in_softmax else LOGITS,)
                                                if kinds[-1] in ("dense", "activation") else kinds[-1:])
        if self.layer_kinds[-1] in (LOGITS, PROBABILITIES):
            self.notes[self.layer_names[-1]] = (f"draw.layer.{self.layer_kinds[-1]}", {})

    def __repr__(self) -> str:
        return f"ModelProbe({self.model.name}: {', '.join(self.layer_names)})"

    def with_weights(self, weights: list[np.ndarray]) -> ModelProbe:
        """The same network with other weights (the model's ``get_weights()`` order), e.g. after an earlier epoch."""
        return ModelProbe(self.model, weights)

    def first_layer_filters(self) -> np.ndarray | None:
        """The first conv layer's kernel (kh, kw, 1, F), or None if the model has none reading one channel."""
        kernel = self.conv_kernel
        return None if kernel is None or kernel.shape[2] != 1 else np.asarray(kernel)

    def read(self, image: np.ndarray) -> ModelReading:
        """Every layer's output and the ten probabilities for one (28, 28) digit (softmax of the logits unless the
        model applies softmax itself)."""
        batch = np.asarray(image, np.float32).reshape(1, *self.input_shape)  # (1, 28, 28, 1) or (1, 28, 28)
        activations = {}
        with one_thread():
            for name, layer in zip(self.layer_names, self.numpy_layers):
                batch = layer(batch)
                activations[name] = batch[0]
        last = activations[self.layer_names[-1]]
        probabilities = last if self.layer_kinds[-1] == PROBABILITIES else softmax(last)
        return ModelReading(activations, probabilities, dict(zip(self.layer_names, self.layer_kinds)), self.notes)
