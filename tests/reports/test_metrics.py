"""Signage metrics from synthetic decision, play and reward events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adlens.reports.metrics import (
    NO_AD, NO_SCREEN, compute_metrics, load_metrics, reason_group,
)
from adlens.store import Store
from adlens.events import DECISION, PLAY, REWARD, Event
from eventlog import decision_event, play_event, reward_event, summary

T0 = datetime(2026, 1, 1, 10, 0, 5, tzinfo=UTC)


def audience(faces: int, watchers: int, ages: dict | None = None, emotions: dict | None = None):
    return summary(faces, watchers, ages=ages, genders={"male": faces // 2, "female": faces - faces // 2},
                   emotions=emotions)


def decision(seconds: float, decision_id: str, ad: str | None, screen: str, reasons: list[str], **seen) -> Event:
    return decision_event(T0 + timedelta(seconds=seconds), screen, decision_id, ad, audience=audience(**seen),
                          reasons=reasons, features=[1.0])


def play(seconds: float, decision_id: str, ad: str, shown: float, ots: int, watchers: int, dwell: float,
         attention: float, emotions: dict) -> Event:
    return play_event(T0 + timedelta(seconds=seconds), None, decision_id, ad, value=shown, ots=ots,
                      watchers=watchers, dwell=dwell, attention=attention, emotions=emotions,
                      audience=audience(ots, watchers))


def reward(seconds: float, decision_id: str, ad: str | None, value: float) -> Event:
    return reward_event(T0 + timedelta(seconds=seconds), None, decision_id, ad, value=value, raw=value * 10)


def scenario() -> list[Event]:
    """d1 played twice on the door screen and rewarded; d2 decided on a photo (never played); d3 found no ad."""
    return [
        decision(0, "d1", "a", "door", ["targets young adults"], faces=2, watchers=1, ages={"18-24": 2},
                 emotions={"happy": 1.0}),
        play(1, "d1", "a", 10, 3, 2, 20.0, 8.0, {"happy": 0.5, "neutral": 0.5}),
        play(15, "d1", "a", 10, 1, 1, 10.0, 10.0, {"happy": 1.0}),
        reward(30, "d1", "a", 0.8),
        decision(60, "d2", "b", "window", ["fallback"], faces=4, watchers=3, ages={"35-44": 4},
                 emotions={"sad": 1.0}),
        reward(70, "d2", None, 0.2),
        decision(120, "d3", None, "door", [], faces=1, watchers=0),
    ]


def test_per_ad_metrics():
    metrics = compute_metrics(reversed(scenario()))
    ads = {a.key: a for a in metrics.ads}
    assert [a.key for a in metrics.ads] == ["a", "b"]  # most impressions first
    a, b = ads["a"], ads["b"]
    assert (a.decisions, a.impressions, a.seconds, a.ots, a.watchers, a.dwell, a.attention) == (1, 2, 20, 4, 3, 30, 18)
    assert a.emotions == pytest.approx({"happy": 2 / 3, "neutral": 1 / 3} | dict.fromkeys(
        ["angry", "disgust", "fear", "sad", "surprise"], 0.0), abs=1e-4)
    assert (a.rewards, a.reward_mean, a.watch_rate) == (1, pytest.approx(0.8), pytest.approx(0.75))
    # a decision never played is one impression, its audience the OTS, its audience's emotions the mix
    assert (b.decisions, b.impressions, b.seconds, b.ots, b.watchers, b.dwell) == (1, 1, 0, 4, 3, 0)
    assert b.emotions["sad"] == 1.0
    assert (b.rewards, b.reward_mean) == (1, pytest.approx(0.2))  # the reward named no ad: its decision's


def test_per_screen_totals_and_reasons():
    metrics = compute_metrics(scenario())
    screens = {s.key: s for s in metrics.screens}
    assert set(screens) == {"door", "window"}
    assert (screens["door"].decisions, screens["door"].impressions, screens["door"].rewards) == (2, 2, 1)
    assert (screens["window"].decisions, screens["window"].impressions, screens["window"].rewards) == (1, 1, 1)
    total = metrics.total
    assert (total.decisions, total.impressions, total.ots, total.watchers, total.rewards) == (3, 3, 8, 6, 2)
    assert total.reward_mean == pytest.approx(0.5)
    assert metrics.counts == {DECISION: 3, PLAY: 2, REWARD: 2}
    assert metrics.reasons == {"targets young adults": 1, "fallback": 1, NO_AD: 1}
    assert metrics.ages == {"18-24": 2, "35-44": 4}
    assert metrics.genders == {"male": 3, "female": 4}
    assert (metrics.first, metrics.last) == (T0, T0 + timedelta(seconds=120))


def test_time_series():
    metrics = compute_metrics(scenario())
    assert metrics.bucket == "minute"
    assert [b.start.minute for b in metrics.timeline] == [0, 1, 2]
    first, second, third = metrics.timeline
    assert (first.decisions, first.plays, first.faces_mean, first.watchers_mean, first.ots) == (1, 2, 2, 1, 4)
    assert (second.decisions, second.faces_mean, second.faces_peak) == (1, 4, 4)
    assert (third.decisions, third.faces_mean, third.watchers_mean) == (1, 1, 0)
    assert [(p.ad_id, p.reward, p.cumulative_mean) for p in metrics.learning] == [
        ("a", 0.8, pytest.approx(0.8)), ("b", 0.2, pytest.approx(0.5))]
    assert [counts for _, counts in metrics.ad_share] == [{"a": 1}, {"b": 1}, {}]  # one per bucket


def test_empty_buckets_are_kept():
    events = [decision(0, "d1", "a", "door", ["x"], faces=1, watchers=1),
              decision(5 * 3600, "d2", "a", "door", ["x"], faces=3, watchers=1)]
    metrics = compute_metrics(events)
    assert metrics.bucket == "hour" and len(metrics.timeline) == 6
    assert [b.faces_mean for b in metrics.timeline] == [1, None, None, None, None, 3]


def test_sparse_events_count_what_they_hold():
    events = [decision_event(T0, "door", "d1", "a"), play_event(T0, None, "d1", "a"),
              reward_event(T0, None, "gone", None, value=None)]
    metrics = compute_metrics(events)
    ad = metrics.ads[0]
    assert (ad.decisions, ad.impressions, ad.ots, ad.dwell, ad.emotions) == (1, 1, 0, 0, {})
    assert metrics.reasons == {"(no reason given)": 1}
    assert metrics.total.rewards == 1 and metrics.screens[-1].key in {"door", NO_SCREEN}
    assert metrics.to_dict()["ads"][0]["key"] == "a"


def test_no_events():
    metrics = compute_metrics([])
    assert metrics.empty and metrics.ads == [] and metrics.timeline == [] and metrics.learning == []
    assert metrics.to_dict()["counts"] == {DECISION: 0, PLAY: 0, REWARD: 0}


def test_load_metrics_from_the_store(store: Store):
    store.append_events(scenario())
    assert load_metrics(store).counts == {DECISION: 3, PLAY: 2, REWARD: 2}
    later = load_metrics(store, since=T0 + timedelta(seconds=50))
    assert later.counts == {DECISION: 2, PLAY: 0, REWARD: 1}
    assert later.since == T0 + timedelta(seconds=50)
    assert load_metrics(store, until=T0 + timedelta(seconds=50)).total.impressions == 2


@pytest.mark.parametrize(("reason", "group"), [
    ("targets age 18-34, female: 2 of 3 faces match", "targets age 18-34, female"),
    ("targets everyone", "targets everyone"),
    ("mood 'calm' fits the audience's emotion: 0.80", "mood 'calm' fits the audience's emotion"),
    (": odd", "(no reason given)"),
])
def test_reason_group(reason, group):
    assert reason_group(reason) == group


ABSURD = [datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), datetime(1, 1, 1, tzinfo=UTC),
          datetime(1999, 12, 31, tzinfo=UTC), datetime.now(UTC) + timedelta(days=2)]


def absurd_rows() -> list[Event]:
    """What a screen key could log before client times were checked: decisions and rewards at impossible times."""
    rows = []
    for n, at in enumerate(ABSURD):
        rows.append(decision_event(at, "door", f"x{n}", "a", audience=audience(2, 1), reasons=["targets x: 1"]))
        rows.append(reward_event(at, "door", f"x{n}", "a", value=1.0))
    return rows


def test_rows_at_impossible_times_are_left_out_and_counted(store: Store):
    store.append_events([*scenario(), *absurd_rows()])
    metrics = load_metrics(store)
    assert metrics.counts == {DECISION: 3, PLAY: 2, REWARD: 2} and metrics.skipped == 2 * len(ABSURD)
    assert metrics.first == T0 and metrics.bucket == "minute" and len(metrics.timeline) <= 200
    assert metrics.to_dict()["skipped"] == 8
    only = load_metrics(store, since=datetime(2030, 1, 1, tzinfo=UTC))
    assert only.empty and only.timeline == [] and only.skipped == 2


@pytest.mark.parametrize(("span", "bucket", "most"), [
    (timedelta(days=100), "day", 101), (timedelta(days=700), "week", 102), (timedelta(days=26 * 366), "month", 313),
])
def test_long_spans_get_coarser_buckets_never_one_per_day(span, bucket, most):
    start = datetime(2000, 1, 1, tzinfo=UTC)
    events = [decision_event(start, "door", "d0", "a"), decision_event(start + span / 2, "door", "d1", "a"),
              decision_event(start + span, "door", "d2", "a")]
    metrics = compute_metrics(events, now=start + span)
    assert metrics.bucket == bucket and len(metrics.timeline) <= most and metrics.skipped == 0
    starts = [b.start for b in metrics.timeline]
    assert starts == sorted(set(starts)) and starts[0] <= start and starts[-1] <= start + span
