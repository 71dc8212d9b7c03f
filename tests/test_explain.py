"""cnnlib.explain (cnnlib/lessons/why/): exact answers on a hand-built network, the sanity checks of Adebayo et al. 2018 and Petsiuk et al.
2018 on a briefly trained one, and the page's helpers (knockout ranking, filter editing, nudging)."""

import numpy as np
import pytest

from cnnlib import explain
from cnnlib.text import t

QUADRANT = 14  # the hand-built network reads rows and columns 0-13 only
FLOAT32_ROUNDING = 1e-5  # batched and single answers agree to this (summation order differs by CPU)


def quadrant_model(last_activation: str | None = None, functional: bool = False, flat: bool = False):
    """Keep the top-left quadrant, blank the rest (a Dense layer whose weights are a 0/1 diagonal), one 1x1 conv
    channel (weight 1, bias 0, ReLU), then ten scores from positive weights ``W`` ``(784, 10)``, bias 0:
    scores = W.T @ digit-in-the-quadrant, known exactly. Only layers of the app's table; ``flat``: a (28, 28) input."""
    import keras
    from keras import layers

    rng = np.random.default_rng(0)
    weights = np.abs(rng.normal(size=(28 * 28, 10))).astype(np.float32)
    inside = np.zeros((28, 28), np.float32)
    inside[:QUADRANT, :QUADRANT] = 1.0
    stack = [layers.Reshape((28 * 28,), name="row"), layers.Dense(28 * 28, name="quadrant"),
             layers.Reshape((28, 28, 1), name="square"),
             layers.Conv2D(1, 1, activation="relu", name="conv", kernel_initializer="ones"),
             layers.Flatten(name="flatten"),
             layers.Dense(10, activation=last_activation, name="scores")]
    inputs = keras.Input((28, 28) if flat else (28, 28, 1))
    if functional:
        x = inputs
        for layer in stack:
            x = layer(x)
        model = keras.Model(inputs, x)
    else:
        model = keras.Sequential([inputs, *stack])
    model.get_layer("quadrant").set_weights([np.diag(inside.ravel()), np.zeros(28 * 28, np.float32)])
    model.get_layer("scores").set_weights([weights, np.zeros(10, np.float32)])
    return model


@pytest.fixture(scope="module")
def known():
    return quadrant_model()


@pytest.fixture(scope="module")
def digit():
    """Ink everywhere, never 0, so every ReLU passes its gradient: the maps are exact."""
    return np.random.default_rng(1).uniform(0.1, 1.0, (28, 28)).astype(np.float32)


def outside_quadrant(map_: np.ndarray, margin: int = 0) -> np.ndarray:
    """Whether each value of ``map_`` at least ``margin`` pixels beyond the quadrant's edge is non-zero.

    Non-zero means above float32 rounding: a batch of images is summed in another order than one image alone, and
    the order depends on the CPU (AVX2 or AVX-512), so an unchanged answer can differ in its 6th decimal."""
    mask = np.ones((28, 28), bool)
    mask[:QUADRANT + margin, :QUADRANT + margin] = False
    return np.abs(map_[mask]) > FLOAT32_ROUNDING


def known_scores(model, image: np.ndarray) -> np.ndarray:
    """What the hand-built network computes, by hand."""
    weights = model.get_layer("scores").get_weights()[0]
    quadrant = np.zeros((28, 28), np.float32)
    quadrant[:QUADRANT, :QUADRANT] = image[:QUADRANT, :QUADRANT]
    return quadrant.reshape(-1) @ weights


# A network whose answer is known -----------------------------------------------------------------------------------

def test_the_hand_built_network_computes_what_it_should(known, digit):
    assert explain.scores(known, digit[None])[0] == pytest.approx(known_scores(known, digit), rel=1e-5)


def test_saliency_is_the_score_weights_inside_the_quadrant_and_zero_elsewhere(known, digit):
    target = int(np.argmax(known_scores(known, digit)))
    weights = known.get_layer("scores").get_weights()[0][:, target].reshape(28, 28)
    saliency = explain.saliency_map(known, digit)
    assert saliency[:QUADRANT, :QUADRANT] == pytest.approx(weights[:QUADRANT, :QUADRANT], rel=1e-5)
    assert not outside_quadrant(saliency).any()
    assert not outside_quadrant(explain.saliency_map(known, digit, target=3, smooth=8)).any()


def test_gradcam_is_the_channel_inside_the_quadrant_and_zero_elsewhere(known, digit):
    target = 4
    weight = known.get_layer("scores").get_weights()[0][:, target].mean()  # the mean gradient over the 28x28 map
    cam = explain.gradcam_map(known, digit, target=target)
    assert cam[:QUADRANT, :QUADRANT] == pytest.approx(weight * digit[:QUADRANT, :QUADRANT], rel=1e-4)
    assert not outside_quadrant(cam).any()


def test_occlusion_is_zero_where_no_patch_touches_the_quadrant(known, digit):
    aligned = explain.occlusion_map(known, digit, patch=2, stride=2)  # patches never straddle the quadrant's edge
    assert (aligned[:QUADRANT, :QUADRANT] != 0).all() and not outside_quadrant(aligned).any()
    default = explain.occlusion_map(known, digit)
    assert not outside_quadrant(default, margin=6 - 1).any()


def test_occlusion_reports_each_hidden_patch_and_its_answer(known, digit):
    found = explain.occlusion(known, digit, patch=6, stride=2)
    assert found.corners.shape == (144, 2) and found.probabilities.shape == (144, 10)
    hidden = digit.copy()
    row, column = found.corners[20]
    hidden[row:row + 6, column:column + 6] = 0
    assert found.probabilities[20] == pytest.approx(explain.probabilities(known, hidden), abs=FLOAT32_ROUNDING)
    nearest = found.nearest_patch()
    assert nearest.shape == (28, 28) and nearest[0, 0] == 0 and nearest[27, 27] == len(found.corners) - 1


def test_patches_start_everywhere_and_the_last_one_is_flush_with_the_edge():
    assert explain.patch_starts(6, 2) == list(range(0, 23, 2))
    assert explain.patch_starts(10, 4) == [0, 4, 8, 12, 16, 18]
    with pytest.raises(ValueError, match="The patch must be 1 to 28 pixels wide"):
        explain.patch_starts(30, 2)


def test_switching_off_the_only_channel_leaves_uniform_probabilities(known, digit):
    assert explain.knockout(known, digit, "conv", [0]) == pytest.approx(np.full(10, 0.1))
    assert explain.knockout(known, digit, "conv", []) == pytest.approx(explain.probabilities(known, digit))
    ranking = explain.knockout_ranking(known, digit, "conv")
    assert ranking.probabilities[0] == pytest.approx(np.full(10, 0.1))
    with pytest.raises(ValueError, match=r"Channel 1 does not exist: the layer conv has channels 0 to 0\."):
        explain.knockout(known, digit, "conv", [1])


def test_a_model_that_outputs_probabilities_is_explained_from_its_scores(known, digit):
    for variant in (quadrant_model("softmax"), quadrant_model("softmax", functional=True)):
        assert explain.scores(variant, digit[None]) == pytest.approx(explain.scores(known, digit[None]), rel=1e-5)
        assert explain.saliency_map(variant, digit) == pytest.approx(explain.saliency_map(known, digit), rel=1e-5)


def test_a_model_reading_flat_digits_is_explained_like_one_reading_a_channel(known, digit):
    flat = quadrant_model(flat=True)
    assert explain.scores(flat, digit[None]) == pytest.approx(explain.scores(known, digit[None]), rel=1e-5)
    assert explain.gradcam_map(flat, digit, target=4) == pytest.approx(explain.gradcam_map(known, digit, target=4),
                                                                       rel=1e-4)
    assert explain.knockout(flat, digit, "conv", [0]) == pytest.approx(np.full(10, 0.1))


def test_a_separate_softmax_layer_is_left_out():
    import keras

    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10),
                              keras.layers.Activation("softmax")])
    image = np.random.default_rng(2).random((28, 28)).astype(np.float32)
    assert explain.scores(model, image[None]) == pytest.approx(model.layers[1](image.reshape(1, -1)).numpy(),
                                                               rel=1e-5)


def test_methods_a_model_cannot_support_say_why():
    import keras

    dense_only = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    image = np.zeros((28, 28), np.float32)
    with pytest.raises(ValueError, match=t("why.error.no_conv")):
        explain.gradcam_map(dense_only, image)
    with pytest.raises(ValueError, match=t("why.error.no_filters")):
        explain.trained_filter(dense_only, 0)
    assert explain.saliency_map(dense_only, image).shape == (28, 28)  # the other methods still work
    cifar = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(10)])
    with pytest.raises(ValueError, match=r"expects inputs of shape \(None, 32, 32, 3\)"):
        explain.saliency_map(cifar, image)
    with pytest.raises(ValueError, match="must be a 28x28 picture"):
        explain.saliency_map(dense_only, np.zeros((20, 20)))


def test_a_model_that_is_not_one_chain_is_refused():
    import keras

    inputs = keras.Input((28, 28, 1))
    flat = keras.layers.Flatten()(inputs)
    branches = keras.layers.Add()([keras.layers.Dense(10)(flat), keras.layers.Dense(10)(flat)])
    with pytest.raises(ValueError, match="is not one chain of layers"):
        explain.saliency_map(keras.Model(inputs, branches), np.zeros((28, 28), np.float32))


def test_the_last_conv_is_found_by_type(known):
    assert explain.conv_layers(known) == ["conv"] and explain.last_conv_layer(known) == "conv"


def test_editing_the_one_by_one_filter_scales_the_map_and_the_scores(known, digit):
    assert explain.trained_filter(known, 0) == pytest.approx(np.ones((1, 1)))
    edit = explain.edit_filter(known, digit, 0, np.array([[2.0]]))
    quadrant = np.zeros((28, 28), np.float32)
    quadrant[:QUADRANT, :QUADRANT] = digit[:QUADRANT, :QUADRANT]
    assert edit.feature_map == pytest.approx(2 * quadrant, rel=1e-6)
    assert edit.probabilities == pytest.approx(explain.softmax(2 * known_scores(known, digit)), abs=1e-5)
    assert known.get_layer("conv").kernel.numpy().ravel() == pytest.approx([1.0])  # the model is unchanged
    with pytest.raises(ValueError, match=r"must be a 1x1 table, not \(3, 3\)"):
        explain.edit_filter(known, digit, 0, np.zeros((3, 3)))


def test_grad_cams_upsampling_matches_tensorflows_bilinear_resize():
    import tensorflow as tf

    small = np.random.default_rng(3).random((7, 7))
    matrix = explain.bilinear_matrix(7)
    expected = tf.image.resize(small[None, :, :, None], (28, 28), method="bilinear").numpy()[0, :, :, 0]
    assert matrix @ small @ matrix.T == pytest.approx(expected, abs=1e-5)
    assert explain.bilinear_matrix(2, 4) @ np.array([0.0, 1.0]) == pytest.approx([0, 0.25, 0.75, 1])


# A trained network --------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained(small_trained_model):
    return small_trained_model


@pytest.fixture(scope="module")
def test_digits(offline_mnist):
    return offline_mnist.x_test[:20].astype(np.float32) / 255


def test_the_trained_network_reads_digits(trained, offline_mnist):
    read = explain.scores(trained, offline_mnist.x_test / np.float32(255)).argmax(axis=1)
    accuracy = np.mean(read == offline_mnist.y_test)
    assert accuracy > 0.8


def test_the_knockout_ranking_agrees_with_switching_channels_off_one_at_a_time(trained, test_digits):
    image = test_digits[0]
    ranking = explain.knockout_ranking(trained, image, "conv2")
    assert ranking.base == pytest.approx(explain.probabilities(trained, image), abs=1e-5)
    top = int(ranking.ranked()[0])
    assert ranking.probabilities[top] == pytest.approx(explain.knockout(trained, image, "conv2", [top]), abs=1e-5)
    assert abs(ranking.changes[top]) == pytest.approx(np.abs(ranking.changes).max())


def test_editing_a_filter_back_to_its_trained_weights_changes_nothing(trained, test_digits):
    image = test_digits[1]
    kept = explain.edit_filter(trained, image, 5, explain.trained_filter(trained, 5))
    assert kept.probabilities == pytest.approx(explain.probabilities(trained, image), abs=1e-5)
    conv1 = trained.get_layer("conv1")(image[None, :, :, None]).numpy()[0, :, :, 5]
    assert kept.feature_map == pytest.approx(conv1, abs=1e-5)
    blank = explain.edit_filter(trained, image, 5, np.zeros_like(explain.trained_filter(trained, 5)))  # ReLU(bias) left
    assert blank.feature_map == pytest.approx(np.full((28, 28), max(trained.get_layer("conv1").bias.numpy()[5], 0)))


def spearman(first: np.ndarray, second: np.ndarray) -> float:
    """Spearman's rank correlation of two maps (tied values share their mean rank)."""
    def ranks(values: np.ndarray) -> np.ndarray:
        order = np.empty(values.size)
        order[np.argsort(values, kind="stable")] = np.arange(values.size)
        _, tie, = np.unique(values, return_inverse=True)
        return (np.bincount(tie, order) / np.bincount(tie))[tie]

    if first.min() == first.max() or second.min() == second.max():  # a blank map ranks nothing: nothing shared
        return 0.0
    return float(np.corrcoef(ranks(first.ravel()), ranks(second.ravel()))[0, 1])


def test_maps_fail_the_model_randomisation_test_of_adebayo_et_al(trained, test_digits):
    """Re-initialising every weight must change a map that explains the model; a map that copies the digit does not
    change at all (rank correlation 1.0), which is the failure this test exists to catch."""
    import keras

    keras.utils.set_random_seed(1)
    random = keras.models.clone_model(trained)  # same layers, freshly initialised weights
    saliency = [spearman(explain.saliency_map(trained, d), explain.saliency_map(random, d)) for d in test_digits]
    gradcam = [spearman(explain.gradcam_map(trained, d), explain.gradcam_map(random, d)) for d in test_digits]
    copies = [spearman(d, d) for d in test_digits]  # an "explanation" that is the digit itself, whatever the model
    assert np.median(saliency) < 0.5, saliency
    assert np.median(gradcam) < 0.9, gradcam
    assert copies == pytest.approx([1.0] * len(test_digits))


def deletion_curve_area(model, image: np.ndarray, order: np.ndarray, chunk: int = 28) -> float:
    """Petsiuk et al.'s deletion score: the answer's mean probability as pixels are set to 0 in ``order``,
    ``chunk`` at a time (lower: the map found what the answer rests on)."""
    target = int(np.argmax(explain.probabilities(model, image)))
    batch = np.repeat(image.reshape(1, -1), 784 // chunk + 1, axis=0)
    for step in range(1, len(batch)):
        batch[step, order[:step * chunk]] = 0.0
    return float(explain.softmax(explain.scores(model, batch.reshape(-1, 28, 28)))[:, target].mean())


@pytest.mark.parametrize("method", ["occlusion", "saliency"])
def test_hiding_the_most_attributed_pixels_first_lowers_the_answer_faster_than_random(trained, test_digits, method):
    rng = np.random.default_rng(0)
    compute = {"occlusion": explain.occlusion_map, "saliency": explain.saliency_map}[method]
    wins, digits = 0, test_digits[:12]
    for image in digits:
        attributed = deletion_curve_area(trained, image, np.argsort(-compute(trained, image).ravel(), kind="stable"))
        randomly = np.mean([deletion_curve_area(trained, image, rng.permutation(784)) for _ in range(3)])
        wins += attributed < randomly
    assert wins >= 0.9 * len(digits)


def ink_box(image: np.ndarray, margin: int = 2) -> np.ndarray:
    """``(28, 28)`` True inside the box around the digit's ink (pixels above 0.1), ``margin`` pixels wider."""
    rows, columns = np.flatnonzero(image.max(axis=1) > 0.1), np.flatnonzero(image.max(axis=0) > 0.1)
    box = np.zeros((28, 28), bool)
    box[max(rows[0] - margin, 0):rows[-1] + margin + 1, max(columns[0] - margin, 0):columns[-1] + margin + 1] = True
    return box


def test_most_of_grad_cams_mass_lies_on_the_digit(trained, test_digits):
    fractions = []
    for image in test_digits:
        cam = explain.gradcam_map(trained, image)
        fractions.append(cam[ink_box(image)].sum() / cam.sum() if cam.sum() > 0 else 0.0)
    assert np.mean(np.array(fractions) >= 0.6) >= 0.8, fractions


def test_a_nudge_reaches_its_target_within_the_budget_or_says_it_did_not(trained, test_digits):
    reached = 0
    for image in test_digits[:8]:
        target = (int(np.argmax(explain.probabilities(trained, image))) + 3) % 10
        nudged = explain.nudge_towards(trained, image, target, 0.3)
        assert np.abs(nudged.change).max() <= 0.3 + 1e-6
        assert 0 <= nudged.image.min() and nudged.image.max() <= 1
        assert nudged.reached == (int(np.argmax(explain.probabilities(trained, nudged.image))) == target)
        assert explain.nudge(trained, image, target, 0.3) == pytest.approx(nudged.image)
        reached += nudged.reached
    assert reached >= 6  # a budget of 0.3 fools a briefly trained network on most digits
    image = test_digits[0]
    other = (int(np.argmax(explain.probabilities(trained, image))) + 1) % 10
    untouched = explain.nudge_towards(trained, image, other, 0.0)
    assert not untouched.reached and untouched.steps == 0 and (untouched.image == image).all()
    with pytest.raises(ValueError, match="must be 0 to 9, not 12"):
        explain.nudge(trained, image, 12, 0.1)
