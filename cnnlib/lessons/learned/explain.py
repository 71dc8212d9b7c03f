"""What did it learn? Each digit's ideal picture, each channel's favourite digits, where a digit lies among the
others, and the confusion matrix down to its digits.

Every function takes a loaded Keras model that the Why page can read (``cnnlib.lessons.why.network``: one chain of
supported layers from a 28x28 digit to ten scores, trained, uploaded or designed, its input (28, 28, 1) or
(28, 28)); ``images`` is an ``(N, 28, 28)`` array in [0, 1] (the test digits), ``image`` one ``(28, 28)`` digit.
Scores are pre-softmax values; a layer is named by its Keras name (``conv1``).

    class_images(model, steps=150, seed=0)                (10, 28, 28)  each digit's ideal picture, one batch
    class_image(model, digit, steps=150, seed=0)          (28, 28)      one digit's
    score_ranges(model, pictures, images, labels)         [ScoreRange]  their scores among the real digits'
    channel_image(model, layer, channel, steps=150)       (28, 28)      a channel's ideal picture
    top_examples(model, layer, channel, images, k=9)      (k,)          the digits a channel likes most
    nearest(model, image, images, k=9)                    (k,)          the digits nearest in the layer before
                                                                        the output
    projection(model, images)                             (N, 2)        a t-SNE map of that layer
    neighbour_agreement(points, labels, k=5)              float         how well a map keeps classes together
    confusion_cell(labels, predicted, true, predicted)    (n,)          the digits of one confusion-matrix cell

The code is in four parts: ``ideal`` (gradient ascent, a traced step over a batch), ``examples`` (values of a
layer over many digits, a batch at a time), ``digit_map`` (the 2-D map) and ``confusion``. A request a model or a
method cannot take is refused with a ``cnnlib.errors.Refusal`` (keys in ``locales/*/learned.toml`` and
``why.toml``).
"""

from cnnlib.lessons.learned.confusion import (CellDigits, answers, cell_digits, confusion_cell, confusion_matrix)
from cnnlib.lessons.learned.digit_map import neighbour_agreement, pca_map, place_on_map, projection, tsne_map
from cnnlib.lessons.learned.examples import channel_values, features, nearest, nearest_rows, top_examples
from cnnlib.lessons.learned.ideal import (Ascent, ScoreRange, channel_image, channel_images, class_image,
                                          class_images, class_score_range, real_scores, score_ranges)

__all__ = ["Ascent", "CellDigits", "ScoreRange", "answers", "cell_digits", "channel_image", "channel_images",
           "channel_values", "class_image", "class_images", "class_score_range", "confusion_cell",
           "confusion_matrix", "features", "nearest", "nearest_rows", "neighbour_agreement", "pca_map",
           "place_on_map", "projection", "real_scores", "score_ranges", "top_examples", "tsne_map"]
