"""Category and colour for untagged products, from their visual neighbours among tagged ones.

A product photo's 1,024-d embedding says what kind of thing it is; its dominant
colours say what colour it is. For a category column the neighbours are found by
embedding alone; for a colour column by the colour shares, with the embedding as a
weaker tie-breaker (two navy shirts are closer than a navy shirt and a navy bag).
"""

from __future__ import annotations

from collections.abc import Sequence

from typing import TYPE_CHECKING

import numpy as np

from adlens.products.colours import COLOUR_NAMES
from adlens.products.types import Aspects

if TYPE_CHECKING:
    from sklearn.neighbors import KNeighborsClassifier

#: Catalogue columns that are labels a photo can predict, as found in common catalogues.
CATEGORY_COLUMNS = ("masterCategory", "subCategory", "articleType", "category", "subcategory", "type")
COLOUR_COLUMNS = ("baseColour", "colour", "color")
LABEL_COLUMNS = CATEGORY_COLUMNS + COLOUR_COLUMNS

#: How much the embedding counts next to the colour shares when predicting a colour.
COLOUR_EMBEDDING_WEIGHT = 0.35


def is_colour_column(column: str) -> bool:
    return column in COLOUR_COLUMNS


def label_features(aspects: Sequence[Aspects], column: str) -> np.ndarray:
    """The feature matrix used to predict ``column``: embeddings, plus colour shares for colours."""
    embeddings = np.stack([_embedding(a) for a in aspects]) if aspects else np.zeros((0, 0), np.float32)
    if not is_colour_column(column):
        return embeddings
    columns = {name: i for i, name in enumerate(COLOUR_NAMES)}
    shares = np.zeros((len(aspects), len(COLOUR_NAMES)), np.float32)
    for row, item in enumerate(aspects):
        for name, share in item.colours.items():
            if name in columns:
                shares[row, columns[name]] = share
    norms = np.linalg.norm(shares, axis=1, keepdims=True)
    shares = np.divide(shares, norms, out=np.zeros_like(shares), where=norms > 0)
    return np.hstack([shares, COLOUR_EMBEDDING_WEIGHT * embeddings])


def _embedding(aspects: Aspects) -> np.ndarray:
    if aspects.embedding is None:
        raise ValueError("a product without a photo has no embedding to predict labels from")
    return aspects.embedding


def make_classifier(n_neighbors: int) -> KNeighborsClassifier:
    """The nearest-neighbour voter: cosine distance, closer neighbours count more."""
    from sklearn.neighbors import KNeighborsClassifier  # scikit-learn sets KMP_* variables when imported

    return KNeighborsClassifier(n_neighbors=n_neighbors, metric="cosine", weights="distance", algorithm="brute")


def predict_labels(
    train: Sequence[Aspects], labels: Sequence[str], query: Sequence[Aspects], column: str, n_neighbors: int
) -> list[tuple[str, float]]:
    """Predict ``column`` for each of ``query`` from tagged ``train``: ``(label, confidence)`` pairs.

    Confidence is the distance-weighted share of the neighbours' votes for the winning label.
    """
    if not query:
        return []
    if not train:
        raise ValueError(f"no tagged product to learn {column!r} from")
    classifier = make_classifier(min(n_neighbors, len(train)))
    classifier.fit(label_features(train, column), np.asarray(labels))
    probabilities = classifier.predict_proba(label_features(query, column))
    best = probabilities.argmax(axis=1)
    return [(str(classifier.classes_[i]), float(p[i])) for i, p in zip(best, probabilities)]
