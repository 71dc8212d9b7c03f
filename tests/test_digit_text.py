"""The Draw page's sentences built from data: the tutorial's numbers in words, in English."""

import numpy as np

from cnnlib.lessons.draw import words as digit_text

from cnnlib.network import reader

from cnnlib.lessons.draw import steps as draw_steps
from cnnlib.store.saved import SavedModel
from cnnlib.mnist.preprocess import prepare_digit


def tutorial_steps() -> draw_steps.TutorialSteps:
    """Section 2.2 with the tutorial's settings on a blank 28x28 digit: (1, 14, 14, 5), then (1, 7, 7, 5)."""
    return draw_steps.tutorial_steps(np.zeros((28, 28), np.float32), draw_steps.random_filters())


def test_conv_and_pool_in_the_tutorial_words():
    steps = tutorial_steps()
    assert digit_text.conv_text(steps, 2, "SAME") == (
        "`conv2d = tf.nn.conv2d(img, W1, strides=[1, 2, 2, 1], padding='SAME')`  \n"
        "`(1, 28, 28, 1)` ⊛ `(3, 3, 1, 5)` → `(1, 14, 14, 5)` → swapaxes → `(5, 14, 14, 1)`")
    assert digit_text.pool_text(steps, 2, 2, "VALID") == (
        "`pool = tf.nn.max_pool(conv2d, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding='VALID')`  \n"
        "`(1, 14, 14, 5)` → max-pool → `(1, 7, 7, 5)` → swapaxes → `(5, 7, 7, 1)`")
    assert digit_text.conv_maps_caption(steps).startswith("After `np.swapaxes(conv2d_img, 0, 3)`: 5 pictures of 14x14")
    assert digit_text.pool_maps_caption(steps, 2).startswith("Each 2x2 window keeps only its largest number, so the "
                                                              "maps shrink to 7x7")
    assert digit_text.filters_caption(steps).startswith("The filters `(3, 3, 1, 5)`, each above its feature map")


def test_where_the_filters_come_from():
    assert digit_text.random_filters_text(3, 5, 0).startswith("`tf.random_normal([3, 3, 1, 5], stddev=1)` with seed 0:")
    assert digit_text.trained_filters_text(5, 32, "fast", "3x3").startswith(
        "The first 5 of conv1's 32 trained 3x3 filters of the model **fast**, without its bias and ReLU")


def test_the_digit_view_counts_ink_with_the_one_threshold():
    image = np.zeros((28, 28), np.float32)
    image[10, 10:15] = [0.1, 0.19, 0.2, 0.5, 1.0]  # 0.2 and up is ink (preprocess.INK_THRESHOLD)
    text = digit_text.mnist_view_text(image)
    assert text.startswith("Shape `(1, 28, 28, 1)`: one image, 28 rows, 28 columns, 1 channel")
    assert text.endswith("3 of 784 pixels hold ink.")


def test_preparation_captions_follow_mnist_recipe():
    canvas = np.zeros((280, 280), np.uint8)
    canvas[40:200, 100:140] = 255  # a bar 160 high and 40 wide: fitted to 20x5
    captions = digit_text.preparation_captions(prepare_digit(canvas))
    assert captions[0] == "1. Crop to the ink: 160x40 pixels"
    assert captions[1] == "2. Fit in 20x20, keeping the shape: 20x5"
    assert captions[2].startswith("3. Centre of mass to (14, 14) in 28x28: now (1")


def test_model_labels_name_the_accuracy_only_when_known(tmp_path):
    saved = SavedModel("fast", tmp_path / "fast.keras", {"test_accuracy": 0.9812}, modified=0.0)
    assert digit_text.model_label(saved).endswith(", test accuracy 98.1%)")
    assert digit_text.model_label(SavedModel("old", tmp_path / "old.keras", {}, modified=0.0)).startswith("old (")
    assert "accuracy" not in digit_text.model_label(SavedModel("old", tmp_path / "old.keras", {}, modified=0.0))


def test_sample_caption_points_at_the_tutorial_image_only_in_full_mnist():
    assert digit_text.sample_caption(4000, "Offline subset.") == "Offline subset."
    full = digit_text.sample_caption(60_000, "Full MNIST.")
    assert full.startswith("The tutorial's `mnist.train.images[0]` is `x_train[5000]` here") and full.endswith(
        " Full MNIST.")


def test_each_layer_line_says_what_its_kind_does():
    reading = reader.ModelReading({"c": np.zeros((14, 14, 8)), "out": np.zeros(10)}, np.full(10, 0.1),
                                    {"c": "conv", "out": "logits"})
    assert digit_text.layer_text(reading, "c") == ("**c** `(1, 14, 14, 8)`: 3x3 filters, plus bias, then ReLU "
                                                   "(negative sums become 0, white).")
    assert digit_text.layer_text(reading, "out").startswith("**out** `(1, 10)`: one score per digit")
    assert digit_text.prediction_title(reading) == "Prediction: 0"
    assert digit_text.probability_text(reading) == "with probability **10.0%** (softmax of the logits)."


def test_the_replay_caption_says_when_each_epoch_was_tested_on_a_sample_of_the_test_digits():
    whole = digit_text.replay_caption(2, 8, 0.9712, 0)
    assert whole.startswith("Epoch 2 of 8: ") and whole.endswith("with test accuracy 97.1%.")
    assert digit_text.replay_caption(2, 8, 0.9712, 2000) == whole + (
        " Replay measures each epoch on the first 2,000 test digits, so that testing every epoch takes little time; "
        "the model's own test accuracy is measured on all of them.")
