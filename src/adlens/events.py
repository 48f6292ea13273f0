"""The event log's records: a decision, an ad's play and a reward, each with a typed payload.

The last stage of the flow (image → faces → audience → candidates → decision → events).
An :class:`Event` carries the columns every event has (kind, time, screen, decision, ad,
creative, member, value) and one payload whose type its kind fixes:

- :class:`DecisionData` for a decision: the :class:`~adlens.audience.AudienceSummary`, the
  bandit's features, the reasons, the scores and each :class:`Candidate` ad considered;
- :class:`PlayData` for a play: how long, who had the opportunity to see, who watched, dwell
  and attention, the emotions while it played;
- :class:`RewardData` for a reward: its kind and raw value.

Payloads are built once, by the decision engine and the signage loop, and read back
strictly by :func:`payload_from_json`: a stored payload that lacks a field or holds the
wrong type is an :class:`~adlens.errors.InvalidEventError` naming the event, never a 0
that quietly changes a report. Nothing here imports the store: the store persists these
types (:mod:`adlens.store.events`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

import numpy as np
from pydantic import Field, ValidationError

from adlens.audience import AudienceSummary, Count, Share
from adlens.columns import emotion_shares
from adlens.errors import InvalidEventError, InvalidInputError
from adlens.payload import Payload
from adlens.times import utcnow

DECISION = "decision"
PLAY = "play"
REWARD = "reward"
EVENT_KINDS = (DECISION, PLAY, REWARD)
#: Seconds, or person-seconds: finite and never negative.
Seconds = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]


class Candidate(Payload):
    """One ad the decision considered: eligible or not, its score components and the reasons."""

    ad: str
    eligible: bool
    score: float | None
    scores: dict[str, float] | None
    reasons: list[str]


class DecisionData(Payload):
    """What a decision event keeps: the audience in aggregate, what the bandit learns on, and why."""

    audience: AudienceSummary
    features: list[float]
    reasons: list[str]
    scores: dict[str, float]
    candidates: list[Candidate]
    mode: str
    source: str


class PlayData(Payload):
    """What a play event keeps: seconds shown (and planned), opportunities to see, watchers, person-seconds
    present (``dwell``) and looking (``attention``), the emotions while it played, and the audience."""

    duration: Seconds
    ots: Count
    watchers: Count
    dwell: Seconds
    attention: Seconds
    emotions: dict[str, Share]
    audience: AudienceSummary
    planned: Seconds | None = None

    @classmethod
    def of_frame(cls, audience: AudienceSummary, duration: float, dwell: float) -> PlayData:
        """A play to a single-frame audience (a photo, the API): every face present is an opportunity to see
        for the whole ``dwell`` and every watcher an attentive one."""
        return cls(duration=duration, ots=audience.faces, watchers=audience.watchers, dwell=dwell * audience.faces,
                   attention=dwell * audience.watchers, emotions=audience.emotions, audience=audience)

    @classmethod
    def of_tracks(cls, audience: AudienceSummary, seconds: float, planned: float, people: int, watchers: int,
                  dwell: float, attention: float, emotion: np.ndarray | None) -> PlayData:
        """A play whose audience was followed over time (the signage loop): sums over tracked people,
        rounded as stored, and their time-weighted mean emotion."""
        return cls(duration=round(seconds, 3), planned=planned, ots=people, watchers=watchers,
                   dwell=round(dwell, 3), attention=round(attention, 3),
                   emotions=emotion_shares(emotion) if emotion is not None else {}, audience=audience)


class RewardData(Payload):
    """What a reward event keeps: its kind (dwell, click, purchase) and the value as sent."""

    kind: str
    raw: float


EventData = DecisionData | PlayData | RewardData
#: Each event kind's payload type.
PAYLOADS: dict[str, type[EventData]] = {DECISION: DecisionData, PLAY: PlayData, REWARD: RewardData}


@dataclass(frozen=True)
class Event:
    """One event. ``customer_id`` only for an identified member (members mode); ``data`` is the kind's payload."""

    kind: str
    at: datetime = field(default_factory=utcnow)
    screen: str | None = None
    decision_id: str | None = None
    ad_id: str | None = None
    creative_id: str | None = None
    customer_id: str | None = None
    value: float | None = None
    data: EventData | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            raise InvalidInputError(f"unknown event kind {self.kind!r}; expected one of {', '.join(EVENT_KINDS)}")
        if not isinstance(self.data, PAYLOADS[self.kind]):
            raise InvalidInputError(f"a {self.kind} event takes a {PAYLOADS[self.kind].__name__}, "
                                    f"not {type(self.data).__name__}")

    def payload_json(self) -> dict[str, Any]:
        """The payload as stored JSON."""
        assert self.data is not None  # __post_init__ made sure
        return self.data.to_json()


def payload_from_json(kind: str, data: Any, event_id: int | None = None) -> EventData:
    """The ``kind`` event's payload read from stored JSON, strictly.

    Raises :class:`~adlens.errors.InvalidEventError` naming the event and what is wrong (a
    field missing, a number that is text…) when ``data`` is not what adlens writes.
    """
    if kind not in PAYLOADS:
        raise InvalidEventError(f"event {event_id} has an unknown kind {kind!r}")
    try:
        return PAYLOADS[kind].from_json(data)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'data'}: {e['msg']}"
                             for e in error.errors()[:3])
        raise InvalidEventError(f"event {event_id} ({kind}) holds data adlens did not write: {problems}") from None
