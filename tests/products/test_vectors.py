"""AspectIndex: vocabulary, block and IDF weights, normalised rows, encoding of queries."""

from __future__ import annotations

import numpy as np
import pytest

from adlens.errors import InvalidInputError, NotFoundError
from adlens.products.vectors import KIND_WEIGHTS, AspectIndex, idf_weights

IDS = ["a", "b", "c", "d"]
VECTORS = [
    {"token:apparel": 1.0, "token:sneakers": 1.0, "colour:red": 0.6},
    {"token:apparel": 1.0, "token:sandals": 1.0, "colour:blue": 0.8},
    {"token:bags": 1.0, "concept:backpack": 0.9},
    {"token:apparel": 1.0, "token:sneakers": 1.0, "colour:blue": 0.5},
]


@pytest.fixture
def index() -> AspectIndex:
    return AspectIndex(IDS, VECTORS)


def test_shape_vocabulary_and_ids(index):
    assert len(index) == 4 and index.ids == IDS
    assert index.matrix.shape == (4, index.n_aspects) == (4, 7)
    assert set(index.keys) == {k for v in VECTORS for k in v}
    assert all(index.keys[col] == key for key, col in index.vocabulary.items())
    assert "a" in index and "z" not in index


def test_rows_are_unit_norm(index):
    norms = np.sqrt(np.asarray(index.matrix.multiply(index.matrix).sum(axis=1))).ravel()
    np.testing.assert_allclose(norms, 1.0, rtol=1e-6)


def test_common_aspects_weigh_less(index):
    weights = index.vector_of("a")
    assert weights["token:sneakers"] > weights["token:apparel"]  # apparel: 3 of 4 products
    assert index.idf[index.vocabulary["token:apparel"]] < index.idf[index.vocabulary["token:sneakers"]]


@pytest.mark.parametrize("kind", ["colour", "concept"])
def test_block_weights_below_tokens(kind):
    assert KIND_WEIGHTS[kind] < KIND_WEIGHTS["token"]
    index = AspectIndex(["x", "y"], [{"token:t": 1.0, f"{kind}:k": 1.0}, {"token:t": 1.0, f"{kind}:k": 1.0}])
    weights = index.vector_of("x")
    assert weights[f"{kind}:k"] == pytest.approx(weights["token:t"] * KIND_WEIGHTS[kind], rel=1e-6)


def test_idf_matches_smoothed_formula():
    np.testing.assert_allclose(idf_weights(np.array([1, 2, 4]), 4), np.log(5 / np.array([2, 3, 5])) + 1)


def test_encode_ignores_unknown_keys_and_matches_rows(index):
    query = index.encode({**VECTORS[0], "token:unheard-of": 3.0})
    assert query.shape == (index.n_aspects,)
    np.testing.assert_allclose(query, index.row("a").toarray().ravel(), rtol=1e-6)
    assert not index.encode({"token:unheard-of": 1.0}).any()


def test_row_and_vector_of_agree(index):
    row = index.row("c").toarray().ravel()
    assert {index.keys[i]: pytest.approx(float(w)) for i, w in enumerate(row) if w} == index.vector_of("c")


def test_unknown_product_is_not_found(index):
    with pytest.raises(NotFoundError, match="zzz"):
        index.row("zzz")
    assert index.rows_of(["zzz", "b"]).tolist() == [1]


@pytest.mark.parametrize(
    ("ids", "vectors", "message"),
    [(["a", "a"], [{}, {}], "unique"), (["a"], [{}, {}], "1 ids but 2")],
)
def test_invalid_input(ids, vectors, message):
    with pytest.raises(InvalidInputError, match=message):
        AspectIndex(ids, vectors)


def test_empty_vectors_and_empty_catalogue():
    index = AspectIndex(["x", "y"], [{}, {"token:t": 1.0}])
    assert index.vector_of("x") == {} and index.vector_of("y") == {"token:t": pytest.approx(1.0)}
    assert len(AspectIndex([], [])) == 0
