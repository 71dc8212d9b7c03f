"""``cnnlib.explain``: why a network answered as it did, as the README documents it for scripts.

Each function takes a model from ``cnnlib.models_store.load_model`` and a (28, 28) digit in [0, 1]; the code lives
in ``cnnlib/lessons/why/``.
"""

from cnnlib.lessons.why.explain import (bilinear_matrix, conv_layers, edit_filter, first_conv_filters, gradcam_map,
                                        knockout, knockout_ranking, last_conv_layer, nudge, nudge_towards, occlusion,
                                        occlusion_map, patch_starts, probabilities, saliency_map, scores,
                                        trained_filter)
from cnnlib.network.ops import softmax

__all__ = ["bilinear_matrix", "conv_layers", "edit_filter", "first_conv_filters", "gradcam_map", "knockout",
           "knockout_ranking", "last_conv_layer", "nudge", "nudge_towards", "occlusion", "occlusion_map",
           "patch_starts", "probabilities", "saliency_map", "scores", "softmax", "trained_filter"]
