"""Reading predicted uplift from the store, on SQLite and PostgreSQL: segment means and targets."""

from __future__ import annotations

import math

import pytest

from adlens.errors import InvalidInputError, NotFoundError
from adlens.store import Store
from adlens.store.uplift_queries import CustomerUplift, SegmentUplift
from helpers import segment_ids


def test_segment_means_count_scored_members_only(segmented: Store) -> None:
    sporty, classic = segment_ids(segmented)
    means = segmented.segment_uplift("spring")
    assert means.keys() == {sporty, classic}
    assert means[sporty] == (pytest.approx(0.2), 2)
    assert means[classic] == (pytest.approx(-0.1), 2)
    assert segmented.segment_uplift("unknown") == {}


def test_new_segments_move_the_segments_generation(segmented: Store) -> None:
    before = segmented.generation("segments")
    segmented.replace_segments([{"label": "all"}], {"a": 0, "c": 0})
    assert segmented.generation("segments") != before
    (only,) = segment_ids(segmented)
    assert segmented.segment_uplift("spring") == {only: (pytest.approx(0.125), 2)}


@pytest.mark.parametrize(("minimum", "maximum", "limit", "expected"), [
    (None, None, None, ["a", "b", "e", "c", "d"]),
    (0.05, None, None, ["a", "b"]),
    (None, 0.0, None, ["c", "d"]),
    (-0.1, 0.1, None, ["b", "e", "c"]),  # bounds are inclusive
    (None, None, 2, ["a", "b"]),
    (0.5, None, None, []),
])
def test_customer_targets_best_first(segmented: Store, minimum: float | None, maximum: float | None,
                                     limit: int | None, expected: list[str]) -> None:
    targets = segmented.uplift_targets("spring", minimum, maximum, limit=limit)
    assert [t.customer_id for t in targets] == expected
    assert all(isinstance(t, CustomerUplift) for t in targets)


def test_customer_target_carries_its_segment(segmented: Store) -> None:
    sporty, _ = segment_ids(segmented)
    best, *_, unsegmented = segmented.uplift_targets("spring", -0.1)
    assert best == CustomerUplift("a", pytest.approx(0.30), sporty)
    assert unsegmented.customer_id == "c"
    assert segmented.uplift_targets("spring", 0.0, 0.05)[0].to_dict() == {"customer": "e", "uplift": 0.02,
                                                                        "segment": None}


def test_segment_targets(segmented: Store) -> None:
    sporty, classic = segment_ids(segmented)
    everyone = segmented.uplift_targets("spring", by="segment")
    assert everyone == [SegmentUplift(sporty, pytest.approx(0.2), 2), SegmentUplift(classic, pytest.approx(-0.1), 2)]
    assert [s.segment_id for s in segmented.uplift_targets("spring", 0.0, by="segment")] == [sporty]
    assert [s.segment_id for s in segmented.uplift_targets("spring", maximum=0.0, by="segment")] == [classic]
    assert segmented.uplift_targets("spring", by="segment", limit=1)[0].to_dict() == {
        "segment": sporty, "mean_uplift": 0.2, "customers": 2}


@pytest.mark.parametrize(("arguments", "error", "message"), [
    ({"campaign": "autumn"}, NotFoundError, "unknown uplift campaign 'autumn'"),
    ({"minimum": 0.2, "maximum": 0.1}, InvalidInputError, "minimum uplift 0.2 is above the maximum 0.1"),
    ({"minimum": math.nan}, InvalidInputError, "finite number"),
    ({"by": "store"}, InvalidInputError, "by 'customer' or 'segment'"),
    ({"limit": 0}, InvalidInputError, "at least 1"),
])
def test_bad_target_queries(segmented: Store, arguments: dict, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        segmented.uplift_targets(**{"campaign": "spring"} | arguments)
