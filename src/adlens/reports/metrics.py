"""Signage metrics from the event log, per ad and per screen, as audience-measurement products report them.

* **decisions**: decision events (per screen, also those where no ad was eligible).
* **impressions**: play events; a decision never played (``adlens decide`` on a photo)
  counts as one impression of its ad.
* **audience** (faces and watchers per decision, ages, genders): only where a camera looked; a
  screen without one (its slideshow logs ``"seen": false``) adds plays, not people.
* **OTS** (opportunities to see): people present while the ad showed (a play's ``ots``;
  for an unplayed decision, the faces of its audience).
* **watchers**: of those, people who looked at the screen; **watch rate** = watchers / OTS.
* **dwell**: person-seconds present; **attention**: person-seconds looking.
* **emotion mix**: the mean emotion of plays weighted by dwell (for an ad never played, the
  faces-weighted mean of its decisions' audiences).
* **rewards**: count and mean of the normalised rewards in [0, 1].
* **decisions by reason**: the first reason of each decision up to its first ``": "``
  (``"targets age 18-34: 2 of 3 faces match"`` counts as ``"targets age 18-34"``), and
  ``"no eligible ad"`` for decisions that showed nothing.

Everything is computed from :class:`~adlens.events.Event` lists whose payloads are typed
(the store reads them strictly: a malformed one fails with the event named, it never counts
as zero). An event at a time that cannot be real (before 2000, or more than a day ahead of
the clock: written before client times were checked) is left out and counted in ``skipped``.
Time series get one bucket per minute, hour, day, week or month, whichever keeps the
axis to a few hundred buckets at most over the events' actual span.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from adlens.audience import AudienceSummary
from adlens.events import DECISION, PLAY, REWARD, DecisionData, Event, PlayData, RewardData
from adlens.faces import EMOTIONS
from adlens.protocols import EventLog
from adlens.reports.buckets import bucket_for, floor_time, next_bucket
from adlens.times import plausible, read_limit

NO_AD = "no eligible ad"
NO_REASON = "(no reason given)"
NO_SCREEN = "(no screen)"


def reason_group(reason: str) -> str:
    """The part of a reason that names its kind: the text before the first ``": "`` (the counts after it vary)."""
    return reason.split(": ", 1)[0].strip() or NO_REASON


def _emotions(mix: Mapping[str, float]) -> np.ndarray | None:
    """The emotion mix as a vector in :data:`~adlens.faces.EMOTIONS` order; ``None`` when there is none."""
    vector = np.array([mix.get(e, 0.0) for e in EMOTIONS], dtype=np.float64)
    return vector if vector.sum() > 0 else None


@dataclass
class Exposure:
    """The metrics of one ad or one screen (``key``) over the report's period."""

    key: str
    decisions: int = 0
    impressions: int = 0
    seconds: float = 0.0
    ots: float = 0.0
    watchers: float = 0.0
    dwell: float = 0.0
    attention: float = 0.0
    rewards: int = 0
    reward_total: float = 0.0
    emotions: dict[str, float] = field(default_factory=dict)
    _played: np.ndarray = field(default_factory=lambda: np.zeros(len(EMOTIONS)), repr=False)
    _seen: np.ndarray = field(default_factory=lambda: np.zeros(len(EMOTIONS)), repr=False)

    @property
    def reward_mean(self) -> float | None:
        return self.reward_total / self.rewards if self.rewards else None

    @property
    def watch_rate(self) -> float | None:
        return self.watchers / self.ots if self.ots else None

    def add_impression(self, seconds: float, ots: float, watchers: float, dwell: float, attention: float,
                       emotions: np.ndarray | None, played: bool) -> None:
        """Count one impression; ``emotions`` weighs by dwell for a play, by people for a decision."""
        self.impressions += 1
        self.seconds += seconds
        self.ots += ots
        self.watchers += watchers
        self.dwell += dwell
        self.attention += attention
        if emotions is not None:
            if played:
                self._played += emotions * dwell
            else:
                self._seen += emotions * max(ots, 1.0)

    def finish(self) -> Exposure:
        """Fix the emotion mix from what was added."""
        mix = self._played if self._played.sum() > 0 else self._seen
        total = mix.sum()
        self.emotions = {e: round(float(p / total), 4) for e, p in zip(EMOTIONS, mix)} if total > 0 else {}
        return self

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able numbers (rounded)."""
        return {
            "key": self.key, "decisions": self.decisions, "impressions": self.impressions,
            "seconds": round(self.seconds, 2), "ots": round(self.ots, 2), "watchers": round(self.watchers, 2),
            "watch_rate": None if self.watch_rate is None else round(self.watch_rate, 4),
            "dwell": round(self.dwell, 2), "attention": round(self.attention, 2), "rewards": self.rewards,
            "reward_mean": None if self.reward_mean is None else round(self.reward_mean, 4),
            "emotions": self.emotions,
        }


@dataclass(frozen=True)
class TimeBucket:
    """The audience in one time bucket: decisions and plays, mean and peak faces and watchers per
    decision (``None`` when nobody was observed), and the OTS of the plays."""

    start: datetime
    decisions: int = 0
    plays: int = 0
    faces_mean: float | None = None
    watchers_mean: float | None = None
    faces_peak: int = 0
    ots: float = 0.0


@dataclass(frozen=True)
class LearningPoint:
    """One reward in order of its decision, with the running mean of all rewards so far."""

    at: datetime
    ad_id: str | None
    reward: float
    cumulative_mean: float


@dataclass
class Metrics:
    """Everything the report shows: totals, per ad, per screen, reasons, demographics, time series."""

    since: datetime | None
    until: datetime | None
    first: datetime | None = None
    last: datetime | None = None
    counts: dict[str, int] = field(default_factory=dict)
    total: Exposure = field(default_factory=lambda: Exposure("all"))
    ads: list[Exposure] = field(default_factory=list)
    screens: list[Exposure] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)
    ages: dict[str, int] = field(default_factory=dict)
    genders: dict[str, int] = field(default_factory=dict)
    bucket: str = "hour"
    timeline: list[TimeBucket] = field(default_factory=list)
    ad_share: list[tuple[datetime, dict[str, int]]] = field(default_factory=list)
    learning: list[LearningPoint] = field(default_factory=list)
    skipped: int = 0

    @property
    def empty(self) -> bool:
        return not any(self.counts.values())

    def to_dict(self) -> dict[str, Any]:
        """The metrics as JSON-able data (``adlens report --json``)."""
        def when(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment else None

        return {
            "since": when(self.since), "until": when(self.until), "first": when(self.first), "last": when(self.last),
            "counts": self.counts, "total": self.total.to_dict(), "ads": [a.to_dict() for a in self.ads],
            "screens": [s.to_dict() for s in self.screens], "reasons": self.reasons, "ages": self.ages,
            "genders": self.genders, "bucket": self.bucket,
            "timeline": [{**vars(b), "start": when(b.start)} for b in self.timeline],
            "ad_share": [{"start": when(start), "decisions": counts} for start, counts in self.ad_share],
            "learning": [{**vars(p), "at": when(p.at)} for p in self.learning],
            "skipped": self.skipped,
        }


class _Tally:
    """The running sums of :func:`compute_metrics`, one method per event kind."""

    def __init__(self, events: Sequence[Event], bucket: str) -> None:
        self.bucket = bucket
        self.decisions = {e.decision_id: e for e in events if e.kind == DECISION and e.decision_id}
        self.played = {e.decision_id for e in events if e.kind == PLAY and e.decision_id}
        self.total = Exposure("all")
        self.ads: dict[str, Exposure] = {}
        self.screens: dict[str, Exposure] = {}
        self.reasons: Counter[str] = Counter()
        self.ages: Counter[str] = Counter()
        self.genders: Counter[str] = Counter()
        self.kinds: dict[datetime, Counter[str]] = defaultdict(Counter)
        self.audiences: dict[datetime, list[tuple[float, float]]] = defaultdict(list)
        self.shares: dict[datetime, Counter[str]] = defaultdict(Counter)
        self.ots: dict[datetime, float] = defaultdict(float)
        self.rewards: list[tuple[datetime, str | None, float]] = []

    def targets(self, event: Event) -> list[Exposure]:
        """The exposures ``event`` counts in: the total, its screen and its ad (or its decision's)."""
        decision = self.decisions.get(event.decision_id) if event.decision_id else None
        ad = event.ad_id or (decision.ad_id if decision else None)
        screen = event.screen or (decision.screen if decision else None) or NO_SCREEN
        found = [self.total, self.screens.setdefault(screen, Exposure(screen))]
        return found + [self.ads.setdefault(ad, Exposure(ad))] if ad else found

    def observe(self, audience: AudienceSummary, start: datetime) -> None:
        if not audience.seen:  # a screen without a camera: its audience is unknown, not empty
            return
        self.audiences[start].append((float(audience.faces), float(audience.watchers)))
        self.ages.update(audience.ages)
        self.genders.update(audience.genders)

    def add(self, event: Event) -> None:
        start = floor_time(event.at, self.bucket)
        self.kinds[start][event.kind] += 1
        data = event.data
        if isinstance(data, DecisionData):
            self.decision(event, data, start)
        elif isinstance(data, PlayData):
            if event.decision_id not in self.decisions:  # no decision in view: the play's audience counts
                self.observe(data.audience, start)
            self.ots[start] += data.ots
            for exposure in self.targets(event):
                exposure.add_impression(event.value or data.duration, data.ots, data.watchers, data.dwell,
                                        data.attention, _emotions(data.emotions), played=True)
        elif isinstance(data, RewardData):
            value = min(event.value or 0.0, 1.0)
            for exposure in self.targets(event):
                exposure.rewards += 1
                exposure.reward_total += value
            decision = self.decisions.get(event.decision_id) if event.decision_id else None
            ad = event.ad_id or (decision.ad_id if decision else None)
            self.rewards.append((decision.at if decision else event.at, ad, value))

    def decision(self, event: Event, data: DecisionData, start: datetime) -> None:
        first = reason_group(data.reasons[0]) if data.reasons else NO_REASON
        self.reasons[first if event.ad_id else NO_AD] += 1
        self.observe(data.audience, start)
        for exposure in self.targets(event):
            exposure.decisions += 1
        if not event.ad_id:
            return
        self.shares[start][event.ad_id] += 1
        if event.decision_id not in self.played:  # never played (a photo): one impression of its audience
            for exposure in self.targets(event):
                exposure.add_impression(0.0, data.audience.faces, data.audience.watchers, 0.0, 0.0,
                                        _emotions(data.audience.emotions), played=False)


def compute_metrics(events: Iterable[Event], since: datetime | None = None,
                    until: datetime | None = None, now: datetime | None = None) -> Metrics:
    """The :class:`Metrics` of ``events`` (any order); ``since``/``until`` are only recorded.

    Events at impossible times (see the module docstring; ``now`` defaults to the clock)
    are left out and counted in :attr:`Metrics.skipped`.
    """
    limit = read_limit(now)
    given = list(events)
    events = sorted((e for e in given if plausible(e.at, limit)), key=lambda e: (e.at, e.id or 0))
    metrics = Metrics(since, until, counts={kind: 0 for kind in (DECISION, PLAY, REWARD)},
                      skipped=len(given) - len(events))
    if not events:
        return metrics
    metrics.first, metrics.last = events[0].at, events[-1].at
    metrics.bucket = bucket_for(metrics.last - metrics.first)
    tally = _Tally(events, metrics.bucket)
    for event in events:
        metrics.counts[event.kind] = metrics.counts.get(event.kind, 0) + 1
        tally.add(event)
    metrics.total = tally.total.finish()
    metrics.ads = sorted((a.finish() for a in tally.ads.values()), key=lambda a: (-a.impressions, a.key))
    metrics.screens = sorted((s.finish() for s in tally.screens.values()), key=lambda s: (-s.decisions, s.key))
    metrics.reasons = dict(tally.reasons.most_common())
    metrics.ages, metrics.genders = dict(tally.ages), dict(tally.genders)
    metrics.timeline = _timeline(metrics.first, metrics.last, metrics.bucket, tally)
    metrics.ad_share = [(b.start, dict(tally.shares.get(b.start, {}))) for b in metrics.timeline]
    metrics.learning = _learning(tally.rewards)
    return metrics


def _timeline(first: datetime, last: datetime, bucket: str, tally: _Tally) -> list[TimeBucket]:
    """One :class:`TimeBucket` per bucket from the first event's to the last's, empty ones included."""
    rows, start, end = [], floor_time(first, bucket), floor_time(last, bucket)
    while start <= end:
        seen, kinds = tally.audiences.get(start, ()), tally.kinds.get(start, Counter())
        faces = [f for f, _ in seen]
        rows.append(TimeBucket(
            start, kinds[DECISION], kinds[PLAY],
            float(np.mean(faces)) if seen else None, float(np.mean([w for _, w in seen])) if seen else None,
            int(max(faces, default=0)), tally.ots.get(start, 0.0),
        ))
        start = next_bucket(start, bucket)
    return rows


def _learning(rewards: list[tuple[datetime, str | None, float]]) -> list[LearningPoint]:
    points, total = [], 0.0
    for n, (at, ad, value) in enumerate(sorted(rewards, key=lambda r: r[0]), start=1):
        total += value
        points.append(LearningPoint(at, ad, value, total / n))
    return points


def load_metrics(store: EventLog, since: datetime | None = None, until: datetime | None = None) -> Metrics:
    """:func:`compute_metrics` over the store's events from ``since`` (inclusive) to ``until`` (exclusive)."""
    return compute_metrics(store.events(since=since, until=until), since, until)
