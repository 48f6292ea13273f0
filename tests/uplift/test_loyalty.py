"""Loyalty matrices (observed and predicted), their plots and the HTML report."""

from __future__ import annotations

import base64

import numpy as np
import pandas as pd
import pytest

from adlens.errors import InvalidInputError
from adlens.uplift.loyalty import OTHER, Transitions, loyalty_matrix, loyalty_report, matrix_plot, stay_plot
from adlens.uplift.nextpurchase import fit_next_purchase


def table(pairs: dict[tuple[str, str], int], seed: int = 0) -> pd.DataFrame:
    """Rows ``current → next`` repeated as counted, with an age and a residence."""
    rows = [(a, b) for (a, b), n in pairs.items() for _ in range(n)]
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"manufacturer": [a for a, _ in rows], "next_manufacturer": [b for _, b in rows],
                         "age": rng.integers(18, 80, len(rows)).astype(str),
                         "residence": rng.choice(["city", "village"], len(rows))})


PAIRS = {("A", "A"): 6, ("A", "B"): 3, ("A", "C"): 1, ("B", "B"): 2, ("B", "A"): 2, ("D", "C"): 1}


def is_png(encoded: str | None) -> bool:
    return encoded is not None and base64.b64decode(encoded).startswith(b"\x89PNG")


@pytest.fixture(scope="module")
def model():
    frame = table({("A", "A"): 60, ("A", "B"): 30, ("B", "B"): 40, ("B", "A"): 20, ("C", "A"): 10, ("C", "C"): 10})
    return fit_next_purchase(frame, validation=0.2)[0]


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


def test_predicted_matrix(model):
    frame = table(PAIRS)
    matrix = loyalty_matrix(frame, model)
    assert matrix.kind == "predicted" and matrix.current == ["A", "B", "D"]
    assert matrix.owners == pytest.approx([10, 4, 1])
    assert matrix.shares.sum(axis=1) == pytest.approx(np.ones(3))
    assert matrix.loyalty()["A"] == pytest.approx(2 / 3, abs=0.1)
    assert matrix.loyalty()["D"] == 0.0  # never bought next: the model gives it no probability
    # no next column needed for a prediction
    assert loyalty_matrix(frame.drop(columns="next_manufacturer"), model).owners == pytest.approx([10, 4, 1])


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


@pytest.mark.parametrize("brands", [3, 15])
def test_matrix_plot(brands):
    rng = np.random.default_rng(0)
    names = [f"brand {i}" for i in range(brands)] + ["$pecial"]
    frame = pd.DataFrame({"manufacturer": rng.choice(names, 300), "next_manufacturer": rng.choice(names, 300)})
    assert is_png(matrix_plot(loyalty_matrix(frame)))
    assert matrix_plot(Transitions([], [], np.zeros((0, 0)), "observed")) is None


@pytest.mark.parametrize(("features", "feature", "drawn"), [
    (("age", "residence"), None, True),
    (("age", "residence"), "residence", True),
    ((), None, False),
])
def test_stay_plot(features, feature, drawn):
    frame = table({("A", "A"): 30, ("A", "B"): 20, ("B", "B"): 30, ("B", "A"): 20})
    model, _ = fit_next_purchase(frame, features=features, validation=0)
    assert is_png(stay_plot(model, frame, feature)) is drawn


def test_stay_plot_unknown_feature(model):
    with pytest.raises(InvalidInputError, match="not one of the model's features"):
        stay_plot(model, table(PAIRS), "income")


def test_report(model):
    frame = table(PAIRS)
    html, data = loyalty_report(model, frame, source="purchases.csv")
    for title in ("Summary", "Loyalty matrix", "Loyalty per brand", "Loyalty by feature", "Model"):
        assert f"<h2>{title}</h2>" in html
    assert html.count("data:image/png;base64,") == 3  # observed, predicted, by age
    assert "held out at fit" in html and "Observational" in html
    assert data["loyalty"] == {"A": 0.6, "B": 0.5, "D": 0.0}
    assert data["owners"] == {"A": 10, "B": 4, "D": 1}
    assert data["matrix"]["current"] == ["A", "B", "D"] and data["held_out"] == model.evaluation_
    assert data["baselines"]["shares"]["log_loss"] > 0 and 0 <= data["accuracy"] <= 1


def test_report_without_next_brands(model):
    html, data = loyalty_report(model, table(PAIRS).drop(columns="next_manufacturer"), source="now.csv")
    assert "now.csv has no column &#x27;next_manufacturer&#x27;" in html
    assert html.count("data:image/png;base64,") == 2
    assert data["loyalty"] == {} and data["matrix"] is None and data["log_loss"] is None
    assert set(data["loyalty_predicted"]) == {"A", "B", "D"}
