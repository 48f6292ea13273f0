"""The metrics come from scikit-uplift; these tests pin what adlens builds around them."""

from __future__ import annotations

import numpy as np
import pytest

from adlens.errors import InvalidInputError
from adlens.uplift.metrics import CURVE_POINTS, KS, evaluate


def campaign(n: int = 4_000, seed: int = 0):
    rng = np.random.default_rng(seed)
    truth = rng.choice([-0.2, 0.0, 0.4], n)
    t = rng.integers(0, 2, n)
    y = (rng.random(n) < 0.3 + t * truth).astype(int)
    return y, t, truth


def test_json_has_the_keys_the_issue_names_and_the_oracle_when_known():
    y, t, truth = campaign()
    data = evaluate(y, truth + np.random.default_rng(1).normal(0, 0.2, len(y)), t, truth).to_json()
    for key in ("qini_coefficient", "auuc", "uplift_at_30", "oracle_qini_coefficient", "oracle_auuc",
                "qini_share_of_oracle", "oracle_uplift_at_30", "average_uplift", "deciles"):
        assert key in data
    assert [f"uplift_at_{round(k * 100)}" for k in KS] == [k for k in data if k.startswith("uplift_at_")]
    assert 0 < data["qini_coefficient"] < data["oracle_qini_coefficient"]
    assert "oracle_qini_coefficient" not in evaluate(y, truth, t).to_json()


def test_a_ranking_by_truth_beats_a_random_one_and_deciles_follow_it():
    y, t, truth = campaign()
    best = evaluate(y, truth, t)
    random = evaluate(y, np.random.default_rng(2).random(len(y)), t)
    assert best.qini_coefficient > 0.2 > abs(random.qini_coefficient)
    deciles = best.deciles
    assert len(deciles) == 10 and sum(d["n_treatment"] + d["n_control"] for d in deciles) == len(y)
    assert deciles[0]["uplift"] > 0.25 and deciles[-1]["uplift"] < -0.1
    assert deciles[0]["predicted"] == pytest.approx(0.4)
    assert best.ate == pytest.approx(y[t == 1].mean() - y[t == 0].mean())


def test_curves_are_thinned_and_start_at_zero():
    y, t, truth = campaign(20_000)
    result = evaluate(y, truth + np.random.default_rng(1).normal(0, 0.1, len(y)), t)
    assert len(result.qini.x) <= CURVE_POINTS and result.qini.x[0] == 0 and result.qini.x[-1] == 1
    assert "curves" in result.to_json(curves=True) and "curves" not in result.to_json()


@pytest.mark.parametrize(("t", "y", "message"), [
    ([1, 1, 1, 1], [0, 1, 0, 1], "the control arm is empty"),
    ([0, 0, 0, 0], [0, 1, 0, 1], "the treated arm is empty"),
    ([0, 1, 0, 1], [1, 1, 1, 1], "the outcome is 1 on every row"),
])
def test_degenerate_campaigns(t, y, message):
    with pytest.raises(InvalidInputError, match=message):
        evaluate(np.array(y), np.arange(4.0), np.array(t))


def test_non_finite_scores_are_refused():
    with pytest.raises(InvalidInputError, match="NaN"):
        evaluate(np.array([0, 1, 0, 1]), np.array([0.1, np.nan, 0.2, 0.3]), np.array([0, 0, 1, 1]))


def test_tiny_campaign_still_evaluates():
    result = evaluate(np.array([0, 1, 1, 0, 1]), np.array([0.5, 0.4, 0.3, 0.2, 0.1]), np.array([1, 1, 0, 0, 1]))
    assert len(result.deciles) == 4 and np.isfinite(result.qini_coefficient)
