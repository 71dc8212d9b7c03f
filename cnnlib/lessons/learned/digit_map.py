"""Where each digit lies among the others: a 2-D map of the layer before the output, and how well it keeps classes
together.

    projection(model, images, method="tsne")   (N, 2)  a map of the digits, alike digits close together
    neighbour_agreement(points, labels, k=5)   float   the share of each digit's k nearest with its class
    place_on_map(points, indices)              (2,)    where a new digit goes: among its nearest digits

Measured on the offline subset's 1,000 test digits (``neighbour_agreement``, k=5: the share of each digit's 5
nearest digits on the map with its class; 2 CPU cores), from the layer before the output
(``cnnlib.lessons.learned.examples.features``); the raw pixels give 0.813:

    model (test accuracy)                    that layer itself   PCA             t-SNE (500 iterations)
    Fast and stable, 3 epochs (0.986)        0.974               0.794, 0.04 s   0.974, 1.6-3.3 s
    small tutorial network (0.962)           0.953               0.612           0.949
    the same, seed 1 (0.962)                 0.950               0.611           0.938

PCA's two directions mix classes; t-SNE (scikit-learn's Barnes-Hut; 1,000 iterations gave the same share in twice
the time) keeps as many neighbours in class as the layer itself does, so it is the default, seeded and on one
thread: the same model and digits give the same map, and a page may cache it by the model's file. One thread because
two OpenMP threads took 10-22 s whenever another process used a core (one: 2-3.3 s). Computing the layer for 1,000
digits adds 0.5-1 s. 2,000 digits took 7.7 s in all, 5,000 took 21 s, hence ``MAX_PROJECTED``. t-SNE cannot place a
new digit on an existing map: ``place_on_map`` puts it at the mean of its nearest digits' places
(``cnnlib.lessons.learned.examples.nearest``).
"""

from __future__ import annotations

import numpy as np

from cnnlib.errors import Refusal
from cnnlib.lessons.learned.examples import check_images, features

TSNE, PCA = "tsne", "pca"
TSNE_ITERATIONS = 500  # scikit-learn's least is 250; 500 kept the same neighbours as 1,000 in half the time
TSNE_SEED = 0  # the same map on every run, so a cached map and a new one agree
MAX_PROJECTED = 2_000  # digits one map takes at most: 7.7 s here (1,000: 2.5-4 s), within the page's 10 s
TSNE_THREADS = 1  # 2 OpenMP threads took 12-22 s here while another process used a core, 1 thread 2.5-3 s
DISTANCE_ROWS = 500  # rows of the distance matrix held at once by neighbour_agreement


def pca_map(rows: np.ndarray) -> np.ndarray:
    """``(N, 2)``: ``rows`` ``(N, D)`` centred and projected on their two main directions (their first two
    principal components, by SVD), each sign fixed so that its largest coordinate is positive."""
    centred = np.asarray(rows, np.float64) - np.mean(rows, axis=0)
    _, _, directions = np.linalg.svd(centred, full_matrices=False)
    points = centred @ directions[:2].T
    if points.shape[1] < 2:  # a layer of one value: a line
        points = np.pad(points, ((0, 0), (0, 2 - points.shape[1])))
    signs = np.sign(points[np.argmax(np.abs(points), axis=0), [0, 1]])
    return points * np.where(signs == 0, 1.0, signs)


def tsne_map(rows: np.ndarray, seed: int = TSNE_SEED) -> np.ndarray:
    """``(N, 2)``: t-SNE of ``rows`` ``(N, D)`` (perplexity 30, or less for a few digits; started from PCA)."""
    from sklearn.manifold import TSNE as TSNE_METHOD
    from threadpoolctl import threadpool_limits

    perplexity = min(30.0, (len(rows) - 1) / 3)
    method = TSNE_METHOD(n_components=2, perplexity=perplexity, init="pca", max_iter=TSNE_ITERATIONS,
                         random_state=seed)
    with threadpool_limits(limits=TSNE_THREADS, user_api="openmp"):
        return method.fit_transform(np.asarray(rows, np.float32)).astype(np.float64)


def projection(model, images: np.ndarray, method: str = TSNE) -> np.ndarray:
    """``(N, 2)``: the digits ``images`` ``(N, 28, 28)`` mapped from the layer before the output by t-SNE (or
    ``method="pca"``); a pure function of the model's weights and the digits."""
    images = check_images(images)
    if method not in (TSNE, PCA):
        raise Refusal("learned.error.method", method=method, methods=f"{TSNE}, {PCA}")
    if len(images) > MAX_PROJECTED:
        raise Refusal("learned.error.too_many", count=len(images), most=MAX_PROJECTED)
    rows = features(model, images)
    if method == PCA or len(images) < 4:  # t-SNE needs a perplexity of at least 1
        return pca_map(rows)
    return tsne_map(rows)


def neighbour_agreement(points: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    """The share of each point's ``k`` nearest other points (Euclidean) that have its label, over all points.
    Example: two far-apart pairs labelled 0, 0 and 1, 1 give 1.0 with k=1."""
    points, labels = np.asarray(points, np.float64), np.asarray(labels)
    if not 1 <= k < len(points):
        raise Refusal("learned.error.count", k=k)
    squares, same = np.sum(points ** 2, axis=1), 0
    for start in range(0, len(points), DISTANCE_ROWS):
        block = slice(start, start + DISTANCE_ROWS)
        distances = squares[block, None] + squares[None, :] - 2 * points[block] @ points.T  # (rows, N)
        distances[np.arange(len(distances)), np.arange(start, start + len(distances))] = np.inf  # not itself
        closest = np.argsort(distances, axis=1, kind="stable")[:, :k]
        same += int(np.sum(labels[closest] == labels[block, None]))
    return same / (len(points) * k)


def place_on_map(points: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """``(2,)``: where a new digit goes on a map ``points`` ``(N, 2)``: the mean place of its nearest digits
    ``indices`` (``nearest``'s answer)."""
    return np.mean(np.asarray(points)[np.asarray(indices)], axis=0)
