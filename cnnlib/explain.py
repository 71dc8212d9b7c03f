"""``cnnlib.explain``: why a network answered as it did, and what it learned, as the README documents it for scripts.

Each function takes a model from ``cnnlib.models_store.load_model`` and a (28, 28) digit in [0, 1] (or an
(N, 28, 28) array of them); the code lives in ``cnnlib/lessons/why/`` (one answer) and ``cnnlib/lessons/learned/``
(what the network learned: ideal pictures, favourite digits, the digit map, the confusion matrix's digits).
"""

from cnnlib.lessons.learned.explain import (Ascent, CellDigits, ScoreRange, answers, cell_digits, channel_image,
                                            channel_images, channel_values, class_image, class_images,
                                            class_score_range, confusion_cell, confusion_matrix, features, nearest,
                                            nearest_rows, neighbour_agreement, place_on_map, projection,
                                            real_scores, score_ranges, top_examples)
from cnnlib.lessons.why.explain import (bilinear_matrix, conv_layers, edit_filter, first_conv_filters, gradcam_map,
                                        knockout, knockout_ranking, last_conv_layer, nudge, nudge_towards, occlusion,
                                        occlusion_map, patch_starts, probabilities, saliency_map, scores,
                                        trained_filter)
from cnnlib.network.ops import softmax

__all__ = ["Ascent", "CellDigits", "ScoreRange", "answers", "bilinear_matrix", "cell_digits", "channel_image",
           "channel_images", "channel_values", "class_image", "class_images", "class_score_range", "confusion_cell",
           "confusion_matrix", "conv_layers", "edit_filter", "features", "first_conv_filters", "gradcam_map",
           "knockout", "knockout_ranking", "last_conv_layer", "nearest", "nearest_rows", "neighbour_agreement",
           "nudge", "nudge_towards", "occlusion", "occlusion_map", "patch_starts", "place_on_map", "probabilities",
           "projection", "real_scores", "saliency_map", "score_ranges", "scores", "softmax", "top_examples",
           "trained_filter"]
