"""Labels for untagged products from their tagged neighbours: features, the voter, and predictions."""

from __future__ import annotations

import numpy as np
import pytest

from adlens.products.colours import COLOUR_NAMES
from adlens.products.labels import (
    CATEGORY_COLUMNS,
    COLOUR_COLUMNS,
    COLOUR_EMBEDDING_WEIGHT,
    LABEL_COLUMNS,
    is_colour_column,
    label_features,
    make_classifier,
    predict_labels,
)
from adlens.products.types import Aspects


def axis(i: int, dimensions: int = 8, wobble: float = 0.0) -> np.ndarray:
    """A unit vector close to axis ``i`` (``wobble`` leans it towards the next axis)."""
    vector = np.zeros(dimensions, np.float32)
    vector[i] = 1.0
    vector[(i + 1) % dimensions] = wobble
    return vector / np.linalg.norm(vector)


def product(i: int, wobble: float = 0.0, **colours: float) -> Aspects:
    return Aspects(colours={name.replace("_", " "): share for name, share in colours.items()},
                   embedding=axis(i, wobble=wobble))


@pytest.mark.parametrize(
    ("column", "expected"),
    [("baseColour", True), ("colour", True), ("color", True), ("articleType", False), ("Colour", False),
     ("masterCategory", False), ("price", False)],
)
def test_is_colour_column(column: str, expected: bool) -> None:
    assert is_colour_column(column) is expected


def test_label_columns_are_categories_then_colours() -> None:
    assert LABEL_COLUMNS == CATEGORY_COLUMNS + COLOUR_COLUMNS
    assert not set(CATEGORY_COLUMNS) & set(COLOUR_COLUMNS)


def test_category_features_are_the_embeddings() -> None:
    items = [product(0, red=1.0), product(3)]
    features = label_features(items, "articleType")
    np.testing.assert_array_equal(features, np.stack([axis(0), axis(3)]))


def test_colour_features_are_normalised_shares_then_weighted_embeddings() -> None:
    items = [product(0, red=3.0, navy_blue=4.0), product(1), product(2, unknown_shade=1.0, white=0.5)]
    features = label_features(items, "baseColour")
    width = len(COLOUR_NAMES)
    assert features.shape == (3, width + 8)
    shares = features[:, :width]
    red, navy, white = (COLOUR_NAMES.index(c) for c in ("red", "navy blue", "white"))
    assert shares[0, red] == pytest.approx(0.6) and shares[0, navy] == pytest.approx(0.8)
    np.testing.assert_array_equal(shares[1], 0.0)  # no colours: zeros, not NaN
    assert shares[2, white] == pytest.approx(1.0) and shares[2].sum() == pytest.approx(1.0)  # unknown names ignored
    np.testing.assert_allclose(features[:, width:], COLOUR_EMBEDDING_WEIGHT * np.stack([axis(0), axis(1), axis(2)]))


@pytest.mark.parametrize(("column", "shape"), [("articleType", (0, 0)), ("colour", (0, len(COLOUR_NAMES)))])
def test_features_of_nothing(column: str, shape: tuple[int, int]) -> None:
    assert label_features([], column).shape == shape


@pytest.mark.parametrize("column", ["articleType", "colour"])
def test_a_product_without_a_photo_cannot_be_featurised(column: str) -> None:
    with pytest.raises(ValueError, match="without a photo has no embedding"):
        label_features([product(0), Aspects(colours={"red": 1.0})], column)


def test_make_classifier() -> None:
    classifier = make_classifier(3)
    assert (classifier.n_neighbors, classifier.metric, classifier.weights, classifier.algorithm) == (
        3, "cosine", "distance", "brute")


TRAIN = [product(0), product(0, 0.1), product(0, 0.2), product(4), product(4, 0.1)]
TRAIN_LABELS = ["Shirts", "Shirts", "Shirts", "Bags", "Bags"]


@pytest.mark.parametrize(
    ("query", "n_neighbors", "expected"),
    [
        ([product(0, 0.05)], 3, [("Shirts", 1.0)]),  # all three neighbours are shirts
        ([product(4, 0.05)], 2, [("Bags", 1.0)]),
        ([product(0, 0.05), product(4, 0.05)], 2, [("Shirts", 1.0), ("Bags", 1.0)]),  # in query order
        ([], 3, []),
    ],
)
def test_predict_categories(query: list[Aspects], n_neighbors: int, expected: list[tuple[str, float]]) -> None:
    predicted = predict_labels(TRAIN, TRAIN_LABELS, query, "articleType", n_neighbors)
    assert [label for label, _ in predicted] == [label for label, _ in expected]
    assert [confidence for _, confidence in predicted] == pytest.approx([c for _, c in expected])


def test_confidence_is_the_weighted_vote_share() -> None:
    (label, confidence), = predict_labels(TRAIN, TRAIN_LABELS, [product(0, 0.05)], "articleType", n_neighbors=5)
    assert label == "Shirts" and 0.5 < confidence < 1.0  # the two bags vote too, but from further away


def test_more_neighbours_than_tagged_products_uses_them_all() -> None:
    (label, confidence), = predict_labels(TRAIN[:2], TRAIN_LABELS[:2], [product(4)], "articleType", n_neighbors=50)
    assert (label, confidence) == ("Shirts", 1.0)


def test_colour_is_decided_by_the_shares_not_the_shape() -> None:
    # Two navy products of different kinds, one red product of the query's own kind.
    train = [product(0, navy_blue=1.0), product(5, navy_blue=0.9, white=0.1), product(2, red=1.0)]
    (label, _), = predict_labels(train, ["Navy Blue", "Navy Blue", "Red"], [product(2, 0.05, navy_blue=1.0)],
                                 "baseColour", n_neighbors=1)
    assert label == "Navy Blue"
    (label, _), = predict_labels(train, ["Navy Blue", "Navy Blue", "Red"], [product(2, 0.05, navy_blue=1.0)],
                                 "articleType", n_neighbors=1)
    assert label == "Red"  # a category column looks at the embedding alone


@pytest.mark.parametrize(
    ("train", "labels", "query", "message"),
    [
        ([], [], [product(0)], "no tagged product to learn 'articleType' from"),
        (TRAIN, TRAIN_LABELS, [Aspects()], "without a photo"),
        ([Aspects(), product(0)], ["Shirts", "Bags"], [product(0)], "without a photo"),
    ],
)
def test_predict_refuses(train: list[Aspects], labels: list[str], query: list[Aspects], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        predict_labels(train, labels, query, "articleType", 3)
