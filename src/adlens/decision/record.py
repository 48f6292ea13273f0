"""What a decision is: the ad and creative chosen for an audience, why, and what else was considered.

:class:`Decision` is built once, whole, by the engine (:mod:`adlens.decision.engine`) and
never changed afterwards; :meth:`Decision.to_json` is what ``adlens decide`` prints and
the API returns; its candidates (:class:`~adlens.events.Candidate`) and audience summary are also
what its decision event keeps (:class:`adlens.events.DecisionData`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from adlens.audience import AudienceSummary
from adlens.events import Candidate
from adlens.payload import Payload


class CreativeSpec(Payload):
    """How a screen shows the chosen creative: its image, caption and seconds on screen."""

    image: str
    caption: str | None
    duration: float


@dataclass(frozen=True)
class Decision:
    """The ad chosen for one audience (``ad`` is ``None`` when none could be), why, and the runners-up."""

    decision_id: str
    at: datetime
    screen: str
    audience: AudienceSummary
    ad: str | None = None
    ad_name: str = ""
    creative: str | None = None
    creative_spec: CreativeSpec | None = None
    reasons: tuple[str, ...] = ()
    scores: dict[str, float] = field(default_factory=dict)
    candidates: tuple[Candidate, ...] = ()
    members: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The JSON ``adlens decide`` prints and the API returns (``creative_spec`` is ``{}`` without an ad)."""
        return _json(
            self.decision_id, self.at.isoformat(), self.screen, self.audience.to_json(), ad=self.ad,
            ad_name=self.ad_name, creative=self.creative,
            creative_spec=self.creative_spec.to_json() if self.creative_spec is not None else {},
            reasons=list(self.reasons), scores=dict(self.scores),
            candidates=[c.to_json() for c in self.candidates], members=list(self.members),
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Decision:
        """The decision :meth:`to_json` wrote (strictly: a missing or mistyped field is a ``ValueError``)."""
        try:
            spec = data["creative_spec"]
            return cls(
                str(data["decision_id"]), datetime.fromisoformat(data["at"]), str(data["screen"]),
                AudienceSummary.from_json(data["audience"]), ad=data["ad"], ad_name=str(data["ad_name"]),
                creative=data["creative"], creative_spec=CreativeSpec.from_json(spec) if spec else None,
                reasons=tuple(data["reasons"]), scores={str(k): float(v) for k, v in data["scores"].items()},
                candidates=tuple(Candidate.from_json(c) for c in data["candidates"]),
                members=tuple(data["members"]),
            )
        except (KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"not a decision's JSON: {error!r}") from error


def idle_json(screen: str, reason: str) -> dict[str, Any]:
    """The JSON of no decision at all (a live screen showing nothing): :meth:`Decision.to_json`'s keys, empty."""
    return _json(None, None, screen, {}, reasons=[reason])


def _json(decision_id: str | None, at: str | None, screen: str, audience: dict[str, Any], *, ad: str | None = None,
          ad_name: str = "", creative: str | None = None, creative_spec: dict[str, Any] | None = None,
          reasons: list[str] | None = None, scores: dict[str, float] | None = None,
          candidates: list[dict[str, Any]] | None = None, members: list[str] | None = None) -> dict[str, Any]:
    """The one shape of a decision's JSON."""
    return {"decision_id": decision_id, "at": at, "screen": screen, "ad": ad, "ad_name": ad_name,
            "creative": creative, "creative_spec": creative_spec or {}, "reasons": reasons or [],
            "scores": scores or {}, "candidates": candidates or [], "audience": audience, "members": members or []}
