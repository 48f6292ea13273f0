"""Predicted uplift in the store, on SQLite and PostgreSQL: saving, replacing, campaigns, erasure."""

from __future__ import annotations

import math

import numpy as np
import pytest

from adlens.errors import InvalidInputError, NotFoundError
from adlens.store import Store
from helpers import scored_uplift, segment_ids


def test_save_registers_customers_and_keeps_figures(store: Store) -> None:
    store.add_customer("known")
    before = store.generation("uplift")
    assert scored_uplift(store, known=0.2, new1=-0.1, new2=0.05) == 3
    assert store.generation("uplift") != before
    assert store.customer_ids() == {"known", "new1", "new2"}
    assert store.uplift_scores("spring", ["new1", "known", "stranger"]) == pytest.approx({"new1": -0.1, "known": 0.2})
    assert store.uplift_scores("never-scored", ["known"]) == {}
    campaign = store.get_uplift_campaign("spring")
    assert (campaign.name, campaign.model, campaign.customers, campaign.positive) == ("spring", "t-learner.joblib", 3, 2)
    assert campaign.mean_uplift == pytest.approx(0.05)
    assert campaign.share_positive == pytest.approx(2 / 3)
    assert campaign.scored_at.tzinfo is not None
    data = campaign.to_dict()
    assert data["campaign"] == "spring" and data["customers"] == 3 and data["share_positive"] == pytest.approx(0.666667)
    assert [c.name for c in store.list_uplift_campaigns()] == ["spring"]


def test_saving_again_replaces_the_campaign_and_leaves_others(store: Store) -> None:
    scored_uplift(store, a=0.1, b=0.2)
    scored_uplift(store, "autumn", a=-0.3)
    scored_uplift(store, b=0.4, c=0.0)
    assert store.uplift_scores("spring", "abc") == pytest.approx({"b": 0.4, "c": 0.0})
    assert store.uplift_scores("autumn", "abc") == pytest.approx({"a": -0.3})
    spring = store.get_uplift_campaign("spring")
    assert (spring.customers, spring.positive, spring.mean_uplift) == (2, 1, pytest.approx(0.2))
    assert [c.name for c in store.list_uplift_campaigns()] == ["autumn", "spring"]


def test_a_failed_save_changes_nothing(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    scored_uplift(store, a=0.1)
    monkeypatch.setattr("adlens.store.uplift.BATCH", 2)
    generation = store.generation("uplift")

    def fail_after_the_first_batch(done: int) -> None:
        raise RuntimeError(f"interrupted after {done}")

    with pytest.raises(RuntimeError, match="after 2"):
        store.save_uplift_scores("spring", ["b", "c", "d"], [0.1, 0.2, 0.3], progress=fail_after_the_first_batch)
    assert store.customer_ids() == {"a"}  # b and c, registered in the failed transaction, are gone
    assert store.uplift_scores("spring", "abcd") == pytest.approx({"a": 0.1})
    assert store.get_uplift_campaign("spring").customers == 1
    assert store.generation("uplift") == generation


def test_thousands_of_rows_are_saved_in_batches(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("adlens.store.uplift.BATCH", 1000)
    ids = [f"c{i:05d}" for i in range(2500)]
    values = np.random.default_rng(7).uniform(-0.2, 0.3, len(ids))
    store.add_customer("c00010")  # already known: registered once, scored like the others
    done: list[int] = []
    assert store.save_uplift_scores("big", ids, values, progress=done.append) == 2500
    assert done == [1000, 2000, 2500]
    assert len(store.customer_ids()) == 2500
    campaign = store.get_uplift_campaign("big")
    assert campaign.customers == 2500 and campaign.positive == int((values > 0).sum())
    assert campaign.mean_uplift == pytest.approx(values.mean())
    found = store.uplift_scores("big", ids)
    assert len(found) == 2500 and found["c01234"] == pytest.approx(values[1234])


@pytest.mark.parametrize(("campaign", "ids", "values", "message"), [
    ("spring", ["a", " "], [0.1, 0.2], "not non-blank strings.*' '"),
    ("spring", ["a", "b", "a", "b"], [0.1, 0.2, 0.3, 0.4], "2 customer id.*more than once: 'a', 'b'"),
    ("spring", ["a", "x" * 129], [0.1, 0.2], "at most 128 characters"),
    ("spring", ["a", 7], [0.1, 0.2], "not non-blank strings.*7"),
    ("spring", ["a", "b"], [0.1, math.nan], "not finite numbers, for customer.*'b'"),
    ("spring", ["a", "b"], [0.1, math.inf], "not finite"),
    ("spring", ["a", "b"], [0.1], "2 customer ids but uplift values of shape"),
    ("spring", ["a"], ["high"], "must be numbers"),
    ("spring", [], [], "no uplift scores to save"),
    ("", ["a"], [0.1], "campaign id must be a non-empty string"),
])
def test_invalid_scores_are_refused_and_nothing_is_written(store: Store, campaign: str, ids: list, values: list,
                                                          message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        store.save_uplift_scores(campaign, ids, values)
    assert store.customer_ids() == set() and store.list_uplift_campaigns() == []


def test_erasure_removes_scores_and_keeps_campaign_figures_true(segmented: Store) -> None:
    scored_uplift(segmented, "autumn", a=0.5, f=-0.5)
    generation = segmented.generation("uplift")
    segmented.remove_customer("a")
    assert segmented.generation("uplift") != generation
    assert segmented.uplift_scores("spring", "abcdef") == pytest.approx({"b": 0.10, "c": -0.05, "d": -0.15, "e": 0.02})
    spring = segmented.get_uplift_campaign("spring")
    assert (spring.customers, spring.positive) == (4, 2)
    assert spring.mean_uplift == pytest.approx(np.mean([0.10, -0.05, -0.15, 0.02]))
    autumn = segmented.get_uplift_campaign("autumn")
    assert (autumn.customers, autumn.positive, autumn.mean_uplift) == (1, 0, pytest.approx(-0.5))
    sporty, _ = segment_ids(segmented)
    assert segmented.segment_uplift("spring")[sporty] == (pytest.approx(0.10), 1)

    segmented.remove_customer("f")
    emptied = segmented.get_uplift_campaign("autumn")
    assert (emptied.customers, emptied.positive, emptied.mean_uplift, emptied.share_positive) == (0, 0, None, None)
    assert segmented.uplift_targets("autumn") == []


def test_erasing_an_unscored_customer_leaves_the_uplift_generation(segmented: Store) -> None:
    generation = segmented.generation("uplift")
    segmented.remove_customer("f")
    assert segmented.generation("uplift") == generation


def test_forget_a_campaign(segmented: Store) -> None:
    scored_uplift(segmented, "autumn", a=0.5)
    assert segmented.remove_uplift_campaign("spring") == 5
    assert [c.name for c in segmented.list_uplift_campaigns()] == ["autumn"]
    assert segmented.uplift_scores("spring", "abcde") == {}
    assert segmented.customer_ids() == set("abcdef")  # customers stay
    with pytest.raises(NotFoundError, match="unknown uplift campaign 'spring'"):
        segmented.remove_uplift_campaign("spring")
    with pytest.raises(NotFoundError, match="unknown uplift campaign 'spring'"):
        segmented.get_uplift_campaign("spring")


def test_scores_go_with_their_customer_and_campaign_rows(segmented: Store) -> None:
    """ON DELETE CASCADE holds even when rows are deleted behind the store's back."""
    from sqlalchemy import delete, func, select

    from adlens.store.models import CustomerRow, UpliftCampaignRow, UpliftScoreRow

    with segmented.transaction() as session:
        session.execute(delete(CustomerRow).where(CustomerRow.id == "b"))
    assert "b" not in segmented.uplift_scores("spring", "ab")
    with segmented.transaction() as session:
        session.execute(delete(UpliftCampaignRow))
        assert session.scalar(select(func.count()).select_from(UpliftScoreRow)) == 0
