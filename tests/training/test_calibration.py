"""Platt scaling, reliability and the false-alarm threshold of the attribute head."""

from __future__ import annotations

import numpy as np
import pytest

from adlens.training.calibration import apply_platt, false_alarm_threshold, logit, platt, reliability
from adlens.training.head import AttributeHead


def test_platt_recovers_a_known_miscalibration() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(0, 2, 20_000)
    truth = (rng.random(len(z)) < 1 / (1 + np.exp(-(0.5 * z - 1.0)))).astype(float)
    raw = 1 / (1 + np.exp(-z))  # over-confident and centred wrongly
    slope, intercept = platt(raw, truth)
    assert slope == pytest.approx(0.5, abs=0.05) and intercept == pytest.approx(-1.0, abs=0.08)
    fixed = apply_platt(raw, slope, intercept)
    assert reliability(truth, fixed)["brier"] < reliability(truth, raw)["brier"]
    assert reliability(truth, fixed)["ece"] < 0.02


def test_platt_leaves_unsure_labels_out_and_logit_is_bounded() -> None:
    truth = np.array([0, 1, np.nan, 0, 1, 1, 0, np.nan])
    probability = np.array([0.1, 0.9, 0.99, 0.3, 0.7, 0.8, 0.2, 0.0])
    assert np.isfinite(platt(probability, truth)).all()
    assert np.isfinite(logit(np.array([0.0, 1.0]))).all()


def test_reliability_table() -> None:
    table = reliability(np.array([0, 0, 1, 1.0]), np.array([0.05, 0.15, 0.85, 0.95]), bins=10)
    assert [row["faces"] for row in table["bins"]] == [1, 1, 1, 1]
    assert table["brier"] == pytest.approx(np.mean([0.05**2, 0.15**2, 0.15**2, 0.05**2]), abs=1e-4)


def test_false_alarm_threshold_is_the_lowest_on_the_grid() -> None:
    probability = np.array([0.1, 0.52, 0.58, 0.62, 0.9, 0.95])
    negatives = np.array([True, True, True, True, False, False])
    assert false_alarm_threshold(probability, negatives, rate=0.5) == 0.55  # at 0.5: 3 of 4 alarm; at 0.55: 2
    assert false_alarm_threshold(probability, negatives, rate=0.0) == 0.65
    assert false_alarm_threshold(probability, negatives, rate=1.0) == 0.5


def test_a_calibrated_head_folds_the_calibration_into_its_weights() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 6))
    Y = np.stack([X[:, 0] > 0, X[:, 1] > 0.5], 1).astype(float)
    head = AttributeHead(C=1.0).fit(X, Y)
    z = head.decision_function(X)
    head.calibrate([0.5, 2.0], [-1.0, 0.3])
    expected = 1 / (1 + np.exp(-(z * [0.5, 2.0] + [-1.0, 0.3])))
    np.testing.assert_allclose(head.predict_proba(X), expected, atol=1e-9)
    weights, bias = head.folded_weights()
    np.testing.assert_allclose(1 / (1 + np.exp(-(X @ weights + bias))), expected, atol=1e-9)
