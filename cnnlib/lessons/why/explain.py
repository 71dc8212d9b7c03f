"""Why this answer? Where a trained network looked, which maps mattered, and how little it takes to fool it.

Every function takes a loaded Keras model (``cnnlib.store.saved.load_model``) that is one chain of supported layers
from a 28x28 digit to ten scores, and a digit ``(28, 28)`` in [0, 1] as the preprocessing returns it.
``target=None`` means the predicted digit. Scores are the model's pre-softmax values: a last layer that applies
softmax is run without it, so a model that outputs probabilities is explained like one that outputs logits.

    occlusion_map(model, image, patch=6, stride=2)  (28, 28)  how much hiding each pixel costs the answer
    saliency_map(model, image, target, smooth=0)    (28, 28)  |d score / d pixel|, SmoothGrad with smooth > 0
    gradcam_map(model, image, target)               (28, 28)  Grad-CAM at the last convolution, upsampled
    knockout(model, image, layer, channels)         (10,)     probabilities with those channels set to 0
    nudge(model, image, target, epsilon)            (28, 28)  signed-gradient steps towards ``target``

The code is in three parts: ``network`` (the layers as steps, from the layer table), ``attribution`` (occlusion,
saliency, Grad-CAM) and ``interventions`` (knockout, filter edits, nudges). Everything runs eagerly, a batch at a
time: Streamlit clears Keras's session after every run (see MEASURED.md), so nothing here relies on a traced
``tf.function`` outliving a run; each run pays TensorFlow's kernel set-up again (``bench/explain_speed.py`` times
that). A model or a request a method cannot take is refused with a ``cnnlib.errors.Refusal``.
"""

from cnnlib.lessons.why.attribution import (Occlusion, bilinear_matrix, gradcam_map, occlusion, occlusion_map,
                                            patch_starts, saliency_map)
from cnnlib.lessons.why.interventions import (FilterEdit, KnockoutRanking, Nudge, edit_filter, first_conv_filters,
                                              knockout, knockout_ranking, nudge, nudge_towards, trained_filter)
from cnnlib.lessons.why.network import conv_layers, last_conv_layer, probabilities, scores

__all__ = ["FilterEdit", "KnockoutRanking", "Nudge", "Occlusion", "bilinear_matrix", "conv_layers", "edit_filter",
           "first_conv_filters", "gradcam_map", "knockout", "knockout_ranking", "last_conv_layer", "nudge",
           "nudge_towards", "occlusion", "occlusion_map", "patch_starts", "probabilities", "saliency_map", "scores",
           "trained_filter"]
