"""The loyalty plots and the next-purchase HTML report."""

from __future__ import annotations

import base64

import numpy as np
import pandas as pd
import pytest

from adlens.errors import InvalidInputError
from adlens.uplift.loyalty import Transitions, loyalty_matrix
from adlens.uplift.loyalty_report import loyalty_report, matrix_plot, stay_plot
from adlens.uplift.nextpurchase import fit_next_purchase
from purchases import PAIRS, table


def is_png(encoded: str | None) -> bool:
    return encoded is not None and base64.b64decode(encoded).startswith(b"\x89PNG")


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


def test_stay_plot_unknown_feature(loyalty_model):
    with pytest.raises(InvalidInputError, match="not one of the model's features"):
        stay_plot(loyalty_model, table(PAIRS), "income")


def test_report(loyalty_model):
    frame = table(PAIRS)
    html, data = loyalty_report(loyalty_model, frame, source="purchases.csv")
    for title in ("Summary", "Loyalty matrix", "Loyalty per brand", "Loyalty by feature", "Model"):
        assert f"<h2>{title}</h2>" in html
    assert html.count("data:image/png;base64,") == 3  # observed, predicted, by age
    assert "held out at fit" in html and "Observational" in html
    assert data["loyalty"] == {"A": 0.6, "B": 0.5, "D": 0.0}
    assert data["owners"] == {"A": 10, "B": 4, "D": 1}
    assert data["matrix"]["current"] == ["A", "B", "D"] and data["held_out"] == loyalty_model.evaluation_
    assert data["baselines"]["shares"]["log_loss"] > 0 and 0 <= data["accuracy"] <= 1


def test_report_without_next_brands(loyalty_model):
    html, data = loyalty_report(loyalty_model, table(PAIRS).drop(columns="next_manufacturer"), source="now.csv")
    assert "now.csv has no column &#x27;next_manufacturer&#x27;" in html
    assert html.count("data:image/png;base64,") == 2
    assert data["loyalty"] == {} and data["matrix"] is None and data["log_loss"] is None
    assert set(data["loyalty_predicted"]) == {"A", "B", "D"}
