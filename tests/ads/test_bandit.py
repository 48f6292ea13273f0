"""LinUCB: learning on a small simulation, fit/partial_fit, validation, storage format, rewards."""

from __future__ import annotations

import math

import numpy as np
import pytest

from adlens.audience import FEATURE_NAMES
from adlens.ads.bandit import ArmStats, LinUCB, normalise_reward
from adlens.errors import InvalidInputError

# Three ads, three features (bias, share of young, share of old): each ad's true click rate is linear.
TRUE = {"young": np.array([0.1, 0.6, 0.0]), "old": np.array([0.1, 0.0, 0.5]), "anyone": np.array([0.3, 0.0, 0.0])}


def contexts(rng: np.random.Generator, n: int) -> np.ndarray:
    young = rng.random(n)
    return np.column_stack([np.ones(n), young, 1 - young])


def best_arm(x: np.ndarray) -> str:
    return max(TRUE, key=lambda arm: TRUE[arm] @ x)


def simulate(model: LinUCB, rounds: int, seed: int = 0) -> LinUCB:
    rng = np.random.default_rng(seed)
    for x in contexts(rng, rounds):
        arm = model.predict(x, list(TRUE))[0]
        model.partial_fit(x[None], [arm], [float(rng.random() < TRUE[arm] @ x)])
    return model


@pytest.mark.parametrize("seed", [0, 3])
def test_converges_to_the_best_arm_per_context(seed):
    model = simulate(LinUCB(alpha=1.0), 1500, seed)
    greedy = LinUCB.from_stats(model.stats_, 3, alpha=0.0)
    # contexts where the best arm is clearly better (by 0.1): near the boundary either choice is fine
    candidates = contexts(np.random.default_rng(1), 400)
    test = [x for x in candidates if np.diff(np.sort([w @ x for w in TRUE.values()]))[-1] > 0.1]
    assert len(test) > 100
    assert np.mean([greedy.predict(x)[0] == best_arm(x) for x in test]) > 0.85
    assert sum(s.pulls for s in model.stats_.values()) == 1500
    assert model.stats_[best_arm(np.array([1, 1.0, 0]))].pulls > 100


def test_fit_equals_partial_fit_in_pieces():
    rng = np.random.default_rng(3)
    X, arms, rewards = rng.random((60, 4)), rng.choice(["a", "b", "c"], 60).tolist(), rng.random(60)
    whole = LinUCB(alpha=0.7, ridge=2.0).fit(X, arms, rewards)
    pieces = LinUCB(alpha=0.7, ridge=2.0)
    for start in range(0, 60, 7):
        pieces.partial_fit(X[start:start + 7], arms[start:start + 7], rewards[start:start + 7])
    assert set(whole.stats_) == set(pieces.stats_) == {"a", "b", "c"}
    for arm in whole.stats_:
        assert np.allclose(whole.stats_[arm].A, pieces.stats_[arm].A)
        assert np.allclose(whole.stats_[arm].b, pieces.stats_[arm].b)
        assert whole.stats_[arm].pulls == pieces.stats_[arm].pulls
    assert np.allclose(whole.ucb(X), pieces.ucb(X))
    # fit starts over
    assert sum(s.pulls for s in whole.fit(X[:5], arms[:5], rewards[:5]).stats_.values()) == 5


def test_ucb_is_expected_reward_plus_bonus_and_matches_the_closed_form():
    rng = np.random.default_rng(4)
    X, arms, rewards = rng.random((30, 3)), ["a"] * 30, rng.random(30)
    model = LinUCB(alpha=0.5, ridge=1.5).fit(X, arms, rewards)
    A = 1.5 * np.eye(3) + X.T @ X
    theta = np.linalg.solve(A, X.T @ rewards)
    x = rng.random(3)
    assert model.expected_reward(x, ["a"])[0, 0] == pytest.approx(theta @ x)
    assert model.exploration_bonus(x, ["a"])[0, 0] == pytest.approx(0.5 * math.sqrt(x @ np.linalg.solve(A, x)))
    assert np.allclose(model.ucb(X, ["a"]), model.expected_reward(X, ["a"]) + model.exploration_bonus(X, ["a"]))
    mean, bonus = model.estimate(X, ["a", "unseen"])  # both at once, as a decision asks
    assert np.array_equal(mean, model.expected_reward(X, ["a", "unseen"]))
    assert np.array_equal(bonus, model.exploration_bonus(X, ["a", "unseen"]))


def test_an_unseen_arm_is_optimistic():
    model = LinUCB(alpha=2.0, ridge=4.0).fit(np.ones((5, 2)), ["seen"] * 5, np.zeros(5))
    x = np.array([0.6, 0.8])
    assert model.expected_reward(x, ["new"])[0, 0] == 0
    assert model.exploration_bonus(x, ["new"])[0, 0] == pytest.approx(2.0 * math.sqrt(x @ x / 4.0))
    assert model.predict(x, ["seen", "new"])[0] == "new"
    assert LinUCB().ucb(x, ["a", "b"]).shape == (1, 2)  # an unfitted bandit scores every arm by its prior


def test_from_stats_rebuilds_the_same_bandit():
    rng = np.random.default_rng(5)
    X = rng.random((40, len(FEATURE_NAMES)))
    model = LinUCB(alpha=0.4).fit(X, rng.choice(["a", "b"], 40).tolist(), rng.random(40))
    rebuilt = LinUCB.from_stats(model.stats_, len(FEATURE_NAMES), alpha=0.4)
    assert np.allclose(model.ucb(X, ["a", "b", "c"]), rebuilt.ucb(X, ["a", "b", "c"]))
    rebuilt.partial_fit(X[:1], ["a"], [1.0])
    assert model.stats_["a"].pulls + 1 == rebuilt.stats_["a"].pulls  # copies, not shared arrays
    with pytest.raises(InvalidInputError, match="dimensions"):
        LinUCB.from_stats(model.stats_, 3)


def test_arm_stats_bytes_round_trip():
    stats = ArmStats.prior(4, 2.0)
    stats.update(np.arange(8.0).reshape(2, 4), np.array([0.5, 1.0]))
    a_bytes, b_bytes = stats.to_bytes()
    assert len(a_bytes) == 16 * 8 and len(b_bytes) == 4 * 8
    back = ArmStats.from_bytes(4, a_bytes, b_bytes, stats.pulls, stats.reward_sum)
    assert np.array_equal(back.A, stats.A) and np.array_equal(back.b, stats.b)
    assert (back.pulls, back.reward_sum) == (2, 1.5)
    assert np.frombuffer(a_bytes, "<f8")[0] == 2.0 + 0 + 16  # ridge + 0² + 4²
    with pytest.raises(ValueError, match="do not fit"):
        ArmStats.from_bytes(3, a_bytes, b_bytes)


@pytest.mark.parametrize(
    ("X", "arms", "rewards", "message"),
    [
        (np.ones((2, 3)), ["a"], [0.5, 0.5], "must match"),
        (np.ones((2, 3)), ["a", "b"], [0.5], "must match"),
        (np.ones((2, 3)), ["a", ""], [0.5, 0.5], "non-empty strings"),
        (np.ones((2, 3)), ["a", 3], [0.5, 0.5], "non-empty strings"),
        (np.ones((2, 3)), ["a", "b"], [0.5, 1.5], r"in \[0, 1\]"),
        (np.ones((2, 3)), ["a", "b"], [0.5, -0.1], r"in \[0, 1\]"),
        (np.ones((2, 3)), ["a", "b"], [0.5, np.nan], r"in \[0, 1\]"),
        ([[1.0, np.inf, 0.0], [1, 1, 1]], ["a", "b"], [0.5, 0.5], "NaN or infinite"),
        (np.ones((2, 2, 2)), ["a", "b"], [0.5, 0.5], "array"),
        (np.ones((0, 3)), [], [], "at least one"),
    ],
)
def test_fit_validates(X, arms, rewards, message):
    with pytest.raises(InvalidInputError, match=message):
        LinUCB().fit(X, arms, rewards)


@pytest.mark.parametrize(("params", "message"), [({"alpha": -1.0}, "alpha"), ({"alpha": math.nan}, "alpha"),
                                                 ({"alpha": "1"}, "alpha"), ({"ridge": 0.0}, "ridge")])
def test_bad_parameters(params, message):
    with pytest.raises(InvalidInputError, match=message):
        LinUCB(**params).fit(np.ones((1, 2)), ["a"], [1.0])


def test_scoring_validates():
    model = LinUCB().fit(np.ones((3, 2)), ["a", "b", "a"], [1.0, 0.0, 1.0])
    with pytest.raises(InvalidInputError, match="fitted on 2"):
        model.ucb(np.ones((1, 3)))
    with pytest.raises(InvalidInputError, match="fitted on 2"):
        model.partial_fit(np.ones((1, 3)), ["a"], [1.0])
    with pytest.raises(InvalidInputError, match="no arms"):
        LinUCB().predict(np.ones((1, 2)))
    assert model.get_params() == {"alpha": 1.0, "ridge": 1.0}
    assert list(model.predict(np.ones((2, 2)))) in (["a", "a"], ["b", "b"])


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("dwell", 5, 0.5), ("dwell", 0, 0.0), ("dwell", 25.0, 1.0), ("dwell", "2.5", 0.25),
        ("click", True, 1.0), ("click", False, 0.0), ("click", 1, 1.0), ("click", 0.3, 0.3), ("click", 3, 1.0),
        ("click", "yes", 1.0), ("click", "false", 0.0),
        ("purchase", 19.99, 1.0), ("purchase", 1, 1.0), ("purchase", 0, 0.0),
        ("dwell", -1, InvalidInputError), ("dwell", math.nan, InvalidInputError), ("click", "maybe", InvalidInputError),
        ("purchase", math.inf, InvalidInputError), ("purchase", "yes", InvalidInputError),
        ("like", 1, InvalidInputError), ("click", None, InvalidInputError),
    ],
)
def test_normalise_reward(kind, raw, expected):
    if expected is InvalidInputError:
        with pytest.raises(InvalidInputError):
            normalise_reward(kind, raw, dwell_seconds=10)
    else:
        assert normalise_reward(kind, raw, dwell_seconds=10) == pytest.approx(expected)


def test_dwell_defaults_to_the_setting(monkeypatch):
    from adlens.settings import get_settings

    monkeypatch.setenv("ADLENS_DWELL_REWARD_SECONDS", "4")
    get_settings.cache_clear()
    try:
        assert normalise_reward("dwell", 2) == 0.5
    finally:
        monkeypatch.delenv("ADLENS_DWELL_REWARD_SECONDS")
        get_settings.cache_clear()
