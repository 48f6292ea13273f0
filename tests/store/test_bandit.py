"""The bandit's arms in the store, on SQLite and PostgreSQL: round trip, feature changes, concurrency."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from adlens.ads.bandit import ArmStats, LinUCB
from adlens.errors import InvalidInputError, NotFoundError
from adlens.store import Store
from adlens.store.models import AdRow, BanditArmRow


def add_ads(store: Store, *ids: str) -> None:
    with store.transaction() as session:
        session.add_all([AdRow(id=ad_id, name=ad_id, spec={}) for ad_id in ids])


def test_missing_arms_are_priors(store: Store) -> None:
    stats = store.arm_stats(["a", "b"], dims=3, ridge=2.0)
    assert list(stats) == ["a", "b"]
    assert np.array_equal(stats["a"].A, 2.0 * np.eye(3)) and not stats["a"].b.any() and stats["a"].pulls == 0


def test_updates_round_trip_and_match_the_model(store: Store) -> None:
    add_ads(store, "a", "b")
    rng = np.random.default_rng(0)
    X, arms, rewards = rng.random((12, 4)), ["a", "b", "a"] * 4, rng.random(12)
    for x, arm, reward in zip(X, arms, rewards):
        store.update_arm(arm, x, reward, dims=4)
    stored = store.arm_stats(["a", "b", "c"], dims=4)
    model = LinUCB().fit(X, arms, rewards)
    for arm in ("a", "b"):
        assert np.allclose(stored[arm].A, model.stats_[arm].A) and np.allclose(stored[arm].b, model.stats_[arm].b)
        assert stored[arm].pulls == model.stats_[arm].pulls
        assert stored[arm].reward_sum == pytest.approx(model.stats_[arm].reward_sum)
    assert stored["c"].pulls == 0
    rebuilt = LinUCB.from_stats(stored, 4)
    assert np.allclose(rebuilt.ucb(X, ["a", "b"]), model.ucb(X, ["a", "b"]))


def test_a_changed_feature_set_starts_the_arm_afresh(store: Store) -> None:
    add_ads(store, "a")
    store.update_arm("a", [1.0, 0.5, 0.0], 1.0)
    assert store.arm_stats(["a"], dims=3)["a"].pulls == 1
    assert store.arm_stats(["a"], dims=5)["a"].pulls == 0
    after = store.update_arm("a", np.ones(5), 0.0, dims=5)
    assert after.pulls == 1 and after.A.shape == (5, 5)
    assert store.arm_stats(["a"], dims=5)["a"].pulls == 1


def test_the_arm_goes_with_its_ad(store: Store) -> None:
    add_ads(store, "a")
    store.update_arm("a", [1.0, 1.0], 1.0)
    with store.transaction() as session:
        session.delete(session.get(AdRow, "a"))
    with store.transaction() as session:
        assert session.get(BanditArmRow, "a") is None


@pytest.mark.parametrize(
    ("ad_id", "x", "reward", "dims", "error", "message"),
    [
        ("ghost", [1.0, 0.0], 1.0, None, NotFoundError, "unknown ad"),
        ("a", [1.0, 0.0], 1.5, None, InvalidInputError, r"\[0, 1\]"),
        ("a", [1.0, 0.0], "lots", None, InvalidInputError, r"\[0, 1\]"),
        ("a", [1.0, np.nan], 1.0, None, InvalidInputError, "finite"),
        ("a", [1.0, 0.0], 1.0, 3, InvalidInputError, "3 finite numbers"),
        ("", [1.0, 0.0], 1.0, None, InvalidInputError, "non-empty"),
    ],
)
def test_update_validates(store: Store, ad_id, x, reward, dims, error, message) -> None:
    add_ads(store, "a")
    with pytest.raises(error, match=message):
        store.update_arm(ad_id, x, reward, dims=dims)
    assert store.arm_stats(["a"], dims=2)["a"].pulls == 0


def test_arm_stats_validates_dims(store: Store) -> None:
    with pytest.raises(InvalidInputError, match="dimensions"):
        store.arm_stats(["a"], dims=0)


def test_update_in_the_callers_transaction(store: Store) -> None:
    add_ads(store, "a")
    generation = store.generation("arms")
    with pytest.raises(RuntimeError):
        with store.transaction() as session:
            store.update_arm("a", [1.0], 1.0, session=session)
            raise RuntimeError("rolled back")
    assert store.arm_stats(["a"], dims=1)["a"].pulls == 0
    assert store.generation("arms") == generation
    with store.transaction() as session:
        store.update_arm("a", [1.0], 1.0, session=session)
        assert store.generation("arms") == generation  # not before the commit: a cache would re-read old rows
    assert store.generation("arms") != generation


def test_concurrent_updates_all_count(store: Store) -> None:
    add_ads(store, "a")
    per_thread, failures = 15, []

    def work() -> None:
        try:
            for _ in range(per_thread):
                store.update_arm("a", [1.0, 0.5], 1.0)
        except Exception as error:  # collected: an exception in a thread would otherwise vanish
            failures.append(error)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    stats = store.arm_stats(["a"], dims=2)["a"]
    assert stats.pulls == 2 * per_thread and stats.reward_sum == 2 * per_thread
    assert stats.A[0, 0] == pytest.approx(1 + 2 * per_thread)
    assert isinstance(stats, ArmStats)
