"""Loyalty matrices, observed and predicted."""

from __future__ import annotations

import numpy as np
import pytest

from adlens.errors import InvalidInputError
from adlens.uplift.loyalty import OTHER, Transitions, loyalty_matrix
from purchases import PAIRS, table


def test_observed_matrix():
    matrix = loyalty_matrix(table(PAIRS))
    assert matrix.kind == "observed"
    assert matrix.current == ["A", "B", "D"]  # by owners, most first
    assert matrix.next == ["A", "B", "D", "C"]  # row brands first, then brands only bought next
    assert matrix.counts.tolist() == [[6, 3, 0, 1], [2, 2, 0, 0], [0, 0, 0, 1]]
    assert matrix.owners.tolist() == [10, 4, 1]
    assert matrix.loyalty() == {"A": 0.6, "B": 0.5, "D": 0.0}
    assert matrix.destinations("A") == [("B", 0.75), ("C", 0.25)]
    assert matrix.destinations("D") == [("C", 1.0)]
    data = matrix.to_dict()
    assert data["counts"][0] == [6, 3, 0, 1] and data["shares"][0] == [0.6, 0.3, 0.0, 0.1]


def test_observed_matrix_columns_are_configurable():
    frame = table(PAIRS).rename(columns={"manufacturer": "brand", "next_manufacturer": "then"})
    assert loyalty_matrix(frame, current="brand", next="then").owners.tolist() == [10, 4, 1]
    with pytest.raises(InvalidInputError, match="has no column 'next_manufacturer'"):
        loyalty_matrix(frame, current="brand")


def test_predicted_matrix(loyalty_model):
    frame = table(PAIRS)
    matrix = loyalty_matrix(frame, loyalty_model)
    assert matrix.kind == "predicted" and matrix.current == ["A", "B", "D"]
    assert matrix.owners == pytest.approx([10, 4, 1])
    assert matrix.shares.sum(axis=1) == pytest.approx(np.ones(3))
    assert matrix.loyalty()["A"] == pytest.approx(2 / 3, abs=0.1)
    assert matrix.loyalty()["D"] == 0.0  # never bought next: the model gives it no probability
    # no next column needed for a prediction
    assert loyalty_matrix(frame.drop(columns="next_manufacturer"), loyalty_model).owners == pytest.approx([10, 4, 1])


def test_top_lumps_the_rest_as_other():
    counts = np.arange(1, 26, dtype=float).reshape(5, 5)[::-1]
    brands = list("vwxyz")
    lumped = Transitions(brands, brands, counts, "observed").top(3)
    assert lumped.current == ["v", "w", "x", OTHER] and lumped.next == ["v", "w", "x", OTHER]
    assert lumped.counts.sum() == counts.sum()
    assert lumped.counts[3, 3] == counts[3:, 3:].sum()
    assert OTHER not in lumped.loyalty()


def test_reindex_fills_zeros():
    matrix = loyalty_matrix(table(PAIRS)).reindex(["B", "E"], ["B", "A", "E"])
    assert matrix.counts.tolist() == [[2, 2, 0], [0, 0, 0]]
