"""The fairness statistics on synthetic numbers: intervals, per-group metrics, the gap, false-match counting."""

from __future__ import annotations

import numpy as np
import pytest

from adlens.evaluation.groupstats import (CURVE_THRESHOLDS, false_matches, largest_gap, mae_interval, metrics,
                                          pair_counts, summarize, wilson)


@pytest.mark.parametrize(("successes", "n", "expected"), [
    (5, 10, (0.2366, 0.7634)),
    (0, 10, (0.0, 0.2775)),
    (10, 10, (0.7225, 1.0)),
    (90, 100, (0.8256, 0.9448)),
    (0, 0, (0.0, 1.0)),
])
def test_wilson_interval(successes, n, expected):
    assert wilson(successes, n) == pytest.approx(expected, abs=1e-4)


def test_mae_interval_is_seeded_and_holds_the_mean():
    errors = np.random.default_rng(1).normal(0, 5, size=300)
    low, high = mae_interval(errors, seed=3)
    assert low < np.abs(errors).mean() < high
    assert (low, high) == mae_interval(errors, seed=3)
    assert mae_interval(np.full(7, 2.0)) == (2.0, 2.0)
    with pytest.raises(ValueError):
        mae_interval(np.array([]))


def test_metrics_of_one_group():
    row = metrics(np.array([1.0, -3.0, 2.0, 2.0]), np.array([True, True, False, True]))
    assert row["n"] == 4 and row["age_mae"] == 2.0 and row["gender_accuracy"] == 0.75
    assert row["gender_accuracy_ci"] == pytest.approx(list(wilson(3, 4)))
    assert row["age_mae_ci"][0] <= 2.0 <= row["age_mae_ci"][1]


@pytest.mark.parametrize(("sizes", "expected"), [
    ({"a": (50, 0.9), "b": (40, 0.7), "c": (39, 0.1)}, ("b", "a", 0.2, 2)),
    ({"a": (50, 0.9), "b": (12, 0.7)}, None),
    ({}, None),
])
def test_largest_gap_ignores_small_groups(sizes, expected):
    gap = largest_gap({name: {"n": n, "gender_accuracy": v} for name, (n, v) in sizes.items()}, "gender_accuracy")
    if expected is None:
        assert gap is None
    else:
        assert (gap["low"]["group"], gap["high"]["group"], gap["gap"], gap["groups"]) == pytest.approx(expected)


def test_pair_counts_agree_with_brute_force():
    rng = np.random.default_rng(0)
    vectors = rng.normal(0, 0.3, size=(37, 8))
    labels = [("a", "b", "c")[k % 3] for k in range(37)]
    thresholds = [0.6, 0.9, 1.2]
    names, pairs, matches = pair_counts(vectors, labels, thresholds, block=5)
    assert names == ["a", "b", "c"]
    for g, first in enumerate(names):
        for h, second in enumerate(names):
            chosen = [(i, j) for i in range(37) for j in range(i + 1, 37)
                      if {labels[i], labels[j]} == {first, second} and (first != second or labels[i] == first)]
            assert pairs[g, h] == len(chosen)
            for k, cut in enumerate(thresholds):
                assert matches[k, g, h] == sum(np.linalg.norm(vectors[i] - vectors[j]) <= cut for i, j in chosen)


def test_false_matches_show_a_group_whose_strangers_collide():
    # Group "x/close": four faces at the same point (every pair matches); "y/far": faces 10 apart; one no face.
    embeddings = [np.zeros(4)] * 4 + [np.eye(4)[k] * 10 for k in range(3)] + [None]
    groups = ["x/close"] * 4 + ["y/far"] * 4
    result = false_matches(embeddings, groups, ["close"] * 4 + ["far"] * 4, {"gallery": 0.5, "match": 0.6})
    assert result["faces"] == 7
    assert result["groups"]["x/close"] == {"faces": 4, "pairs": 6, "gallery": {"matches": 6, "rate": 1.0},
                                           "match": {"matches": 6, "rate": 1.0}}
    assert result["groups"]["y/far"]["pairs"] == 3 and result["groups"]["y/far"]["gallery"]["matches"] == 0
    assert result["same_group"]["pairs"] == 9 and result["different_groups"]["pairs"] == 12
    assert result["different_groups"]["gallery"]["matches"] == 0
    assert result["all"] == {"pairs": 21, "gallery": {"matches": 6, "rate": 6 / 21},
                             "match": {"matches": 6, "rate": 6 / 21}}
    assert result["ethnicities"]["close"]["pairs"] == 6
    assert len(result["curves"]["all"]) == len(CURVE_THRESHOLDS) and result["curves"]["ethnicities"]["far"][0] == 0


def test_false_matches_without_two_faces():
    result = false_matches([None, np.zeros(3)], ["a", "a"], ["e", "e"], {"gallery": 0.5})
    assert result["faces"] == 1 and result["all"] is None


def test_summarize_reports_groups_brackets_gaps_and_targets():
    rng = np.random.default_rng(2)
    n = 200
    groups = ["male/white"] * 100 + ["female/asian"] * 100
    true_age = rng.integers(1, 80, size=n).astype(float)
    right = np.r_[np.ones(170, bool), np.zeros(30, bool)]  # men all right, women 70%
    embeddings = [rng.normal(size=8) for _ in range(n - 3)] + [None] * 3
    result = summarize(true_age, true_age + 3.0, right, groups, [g.split("/")[1] for g in groups], embeddings,
                       {"gallery": 0.5, "match": 0.6})
    assert list(result["groups"]) == ["male/white", "female/asian"]
    assert result["groups"]["female/asian"]["no_face"] == 3 and result["overall"]["no_face"] == 3
    assert result["overall"]["age_mae"] == pytest.approx(3.0)
    assert sum(row["n"] for row in result["age_brackets"].values()) == n
    gap = result["gaps"]["gender_accuracy"]
    assert gap["high"]["group"] == "male/white" and gap["gap"] == pytest.approx(0.3)
    verdicts = {t["name"]: (t["value"], t["pass"]) for t in result["targets"]}
    assert verdicts == {"largest gender-accuracy gap, groups of 40+": (pytest.approx(0.3), False),
                        "overall gender accuracy": (0.85, False), "overall age MAE (years)": (pytest.approx(3.0), True)}
    assert result["false_matches"]["faces"] == n - 3
    assert result["false_matches_adults"]["faces"] == sum(age >= 18 for age in true_age[: n - 3])
