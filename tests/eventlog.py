"""Builders of typed events for tests: a decision, a play and a reward with small defaults."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adlens.audience import AudienceSummary
from adlens.events import DECISION, PLAY, REWARD, Candidate, DecisionData, Event, PlayData, RewardData
from adlens.times import utcnow


def summary(faces: int = 0, watchers: int = 0, *, members: int = 0, ages: dict[str, int] | None = None,
            genders: dict[str, int] | None = None, emotions: dict[str, float] | None = None,
            attributes: dict[str, int] | None = None, minor_possible: bool = False, seen: bool = True,
            dominant_emotion: str | None = None) -> AudienceSummary:
    """An audience summary; unnamed columns are empty."""
    return AudienceSummary(faces=faces, watchers=watchers, members=members, ages=ages or {}, genders=genders or {},
                           emotions=emotions or {}, dominant_emotion=dominant_emotion,
                           attributes=attributes or {}, minor_possible=minor_possible, seen=seen)


def decision_event(at: datetime | None = None, screen: str | None = None, decision_id: str | None = None,
                   ad: str | None = None, creative: str | None = None, *, customer: str | None = None,
                   audience: AudienceSummary | None = None, reasons: list[str] | None = None,
                   features: list[float] | None = None, scores: dict[str, float] | None = None,
                   candidates: list[Candidate] | None = None, source: str = "test",
                   mode: str = "anonymous") -> Event:
    """A decision event (its creative ``c1`` when it names an ad and no creative)."""
    data = DecisionData(audience=audience or summary(), features=features or [], reasons=reasons or [],
                        scores=scores or {}, candidates=candidates or [], mode=mode, source=source)
    return Event(DECISION, at or utcnow(), screen, decision_id, ad, creative or ("c1" if ad else None), customer,
                 None, data)


def play_event(at: datetime | None = None, screen: str | None = None, decision_id: str | None = None,
               ad: str | None = None, creative: str | None = "c1", *, value: float | None = None,
               duration: float | None = None, ots: int = 0, watchers: int = 0, dwell: float = 0.0,
               attention: float = 0.0, emotions: dict[str, float] | None = None,
               audience: AudienceSummary | None = None, customer: str | None = None, **extra: Any) -> Event:
    """A play event; ``duration`` defaults to ``value`` (the column), and the audience to ``ots``/``watchers``."""
    data = PlayData(duration=duration if duration is not None else value or 0.0, ots=ots, watchers=watchers,
                    dwell=dwell, attention=attention, emotions=emotions or {},
                    audience=audience or summary(ots, watchers), **extra)
    return Event(PLAY, at or utcnow(), screen, decision_id, ad, creative, customer, value, data)


def reward_event(at: datetime | None = None, screen: str | None = None, decision_id: str | None = None,
                 ad: str | None = None, *, value: float | None = 1.0, kind: str = "dwell",
                 raw: float | None = None, customer: str | None = None) -> Event:
    """A reward event of ``kind`` (``raw`` defaults to ``value``)."""
    return Event(REWARD, at or utcnow(), screen, decision_id, ad, None, customer, value,
                 RewardData(kind=kind, raw=raw if raw is not None else value or 0.0))
