"""The decision engine: audience → eligible ads → scores → the ad and creative to show, logged.

One :class:`Decider` serves a screen, the CLI or the API. For each decision it

1. evaluates every active ad's rules against the :class:`~adlens.ads.audience.Audience`
   (targeting, exclusions that always win, daily and per-person caps);
2. scores each eligible ad as a weighted sum of :data:`WEIGHTS`: rule affinity, the
   identified member's taste for the ad's products (members mode), how the ad's mood
   fits the group's emotion, learned engagement (LinUCB's upper confidence bound on
   the audience features) and the operator's priority;
3. picks the best, and its creative whose model face looks most like the viewer;
4. appends a decision event holding aggregate audience numbers, the features the
   bandit learns from, the reasons and the runners-up.

:meth:`Decider.reward` closes the loop: a dwell, click or purchase for a decision is
logged and folded into that ad's bandit arm, in one transaction.

A decision reads no inventory and no arm statistics from the store in the common case:
both are cached, and re-read when this process changed them (the store's
:meth:`~adlens.store.base.StoreBase.generation`) or :data:`REFRESH_SECONDS` have passed,
which is how an import or a reward handled by another process reaches this one. Ads
targeted by predicted uplift cost one query per campaign when members are present (their
scores), and segments' mean uplift per campaign is cached the same way. The
decision event itself is written before :meth:`Decider.decide` returns, so a reward may
follow at once, from any process.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from adlens.ads.audience import FEATURE_NAMES, Audience
from adlens.ads.bandit import LinUCB, normalise_reward
from adlens.ads.emotion import emotion_fit, emotion_table
from adlens.ads.lookalike import choose_creative
from adlens.ads.rules import Eligibility, RuleContext, UpliftOf, evaluate
from adlens.crypto import EmbeddingCipher
from adlens.errors import InvalidInputError, NotFoundError
from adlens.faces import Faces
from adlens.products.recommend import Recommender
from adlens.products.service import Shop
from adlens.settings import Settings, get_settings
from adlens.store.events import DECISION, PLAY, REWARD, Event
from adlens.times import check_time, utcnow

#: How much each score component counts in an ad's total (each component lies in [0, 1]).
WEIGHTS = {"rules": 1.0, "taste": 1.0, "emotion": 0.5, "engagement": 1.0, "priority": 0.5}
#: Runners-up kept in a decision's JSON and event.
MAX_CANDIDATES = 10
#: Seconds a decision may rely on the inventory and arm statistics read before: how soon
#: another process's import or reward counts here (this process's own count at once).
REFRESH_SECONDS = 1.0


@dataclass(frozen=True)
class _Cached:
    """A value read from the store, with the store generation and the monotonic time it was read at."""

    value: Any
    generation: Hashable
    read_at: float

    def fresh(self, generation: Hashable, now: float) -> bool:
        return generation == self.generation and now - self.read_at < REFRESH_SECONDS


@dataclass(frozen=True)
class Scored:
    """An eligible ad's score components with their total, and the reasons they give."""

    scores: dict[str, float]
    reasons: list[str]


@dataclass
class Decision:
    """The ad chosen for one audience, why, and what else was considered."""

    decision_id: str
    at: datetime
    screen: str
    ad: str | None
    creative: str | None
    creative_spec: dict[str, Any]
    reasons: list[str]
    scores: dict[str, float]
    candidates: list[dict[str, Any]]
    audience: dict[str, Any]
    members: list[str] = field(default_factory=list)
    ad_name: str = ""

    def to_json(self) -> dict[str, Any]:
        """The JSON ``adlens decide`` prints and the API returns."""
        return {
            "decision_id": self.decision_id, "at": self.at.isoformat(), "screen": self.screen,
            "ad": self.ad, "ad_name": self.ad_name, "creative": self.creative, "creative_spec": self.creative_spec,
            "reasons": self.reasons, "scores": self.scores, "candidates": self.candidates,
            "audience": self.audience, "members": self.members,
        }


class Decider:
    """Chooses ads for audiences over one store (see the module docstring).

    Args:
        store: an opened :class:`~adlens.store.Store`.
        settings: mode, thresholds and exploration rate.
        analyzer: the vision pipeline for :meth:`analyze` (created on first use,
            with embeddings: look-alike creatives and members need them).
        gallery: the member gallery (members mode; created on first use).
    """

    def __init__(self, store: Any, settings: Settings | None = None, analyzer: Any = None, gallery: Any = None) -> None:
        self.store = store
        self.settings = settings or get_settings()
        self._analyzer = analyzer
        self._gallery = gallery
        self.shop = Shop(store, self.settings)
        self.fit_table = emotion_table(self.settings)
        self._rotation = 0
        self._ads: tuple[Any, list[Any], dict[str, dict[str, np.ndarray]]] | None = None
        self._ads_checked: _Cached | None = None  # value: the version ``_ads`` was checked against
        self._arms: _Cached | None = None  # value: (LinUCB of the arms, the ad ids it holds)
        self._segment_means: dict[str, _Cached] = {}  # per uplift campaign: {segment id: mean uplift}
        self._cipher = EmbeddingCipher(self.settings)

    # --- image → audience ----------------------------------------------------------
    @property
    def analyzer(self) -> Any:
        if self._analyzer is None:
            from adlens.pipeline import Analyzer

            self._analyzer = Analyzer(self.settings, embed=True).load()
        return self._analyzer

    @property
    def gallery(self) -> Any:
        if self._gallery is None:
            from adlens.gallery import Gallery

            self._gallery = Gallery(self.store, self.settings, analyzer=self._analyzer)
        return self._gallery

    def analyze(self, image: np.ndarray, screen: str | None = None, at: datetime | None = None) -> Audience:
        """The audience of one decoded BGR frame."""
        faces = self.analyzer.analyze_array(image)
        return self.audience(faces, (image.shape[1], image.shape[0]), screen or self.settings.screen, at)

    def audience(self, faces: Faces, frame_size: tuple[int, int], screen: str, at: datetime | None = None) -> Audience:
        """The :class:`Audience` of ``faces``; in members mode, enrolled members are identified."""
        customers = None
        if self.settings.mode == "members" and len(faces) and faces.embeddings is not None:
            customers = [c for c, _ in self.gallery.identify_embeddings(faces.embeddings)]
        return Audience.from_faces(faces, frame_size, screen, at, customers)

    # --- the inventory, cached -----------------------------------------------------
    def _inventory(self) -> tuple[list[Any], dict[str, dict[str, np.ndarray]]]:
        now, generation = time.monotonic(), self.store.generation("ads")  # the generation before the read
        checked = self._ads_checked
        if self._ads is None or checked is None or not checked.fresh(generation, now):
            version = self.store.ads_version()
            if self._ads is None or self._ads[0] != version:
                ads = self.store.list_ads(active_only=True)
                tokens = self.store.creative_faces([ad.id for ad in ads])
                faces = {ad_id: {cid: self._cipher.decrypt(token) for cid, token in found.items()}
                         for ad_id, found in tokens.items()}
                self._ads, self._arms = (version, ads, faces), None
            self._ads_checked = _Cached(version, generation, now)
        return self._ads[1], self._ads[2]

    def _bandit(self, ids: list[str]) -> LinUCB:
        """The bandit over (at least) the arms ``ids``, from cached statistics (see the module docstring)."""
        now, generation = time.monotonic(), self.store.generation("arms")
        cached = self._arms
        if cached is None or not cached.fresh(generation, now) or not cached.value[1].issuperset(ids):
            dims = len(FEATURE_NAMES)
            # Every active ad's arm at once: the next audience makes other ads eligible.
            wanted = list(dict.fromkeys([*(ad.id for ad in self._inventory()[0]), *ids]))
            model = LinUCB.from_stats(self.store.arm_stats(wanted, dims=dims), dims=dims,
                                      alpha=self.settings.exploration)
            cached = self._arms = _Cached((model, frozenset(wanted)), generation, now)
        return cached.value[0]

    # --- the decision ----------------------------------------------------------------
    def decide(
        self,
        audience: Audience,
        *,
        source: str = "image",
        person_key: str | None = None,
        shown_to: Callable[[str, float], int] | None = None,
        log: bool = True,
    ) -> Decision:
        """Choose the ad and creative for ``audience``; log the decision unless ``log`` is false.

        ``person_key`` names who per-person caps count for when the main face is not an
        identified member (a signage track); ``shown_to(ad_id, hours)`` says how often
        that person saw the ad within ``hours`` (default: members' decision events).
        """
        ads, creative_faces = self._inventory()
        main = audience.main_face()
        member = audience.customers[main] if main is not None else None
        context = self._context(audience, member, shown_to)
        features = audience.features()
        verdicts = [evaluate(ad, audience, context, person_key=member or person_key) for ad in ads]
        eligible = [(ad, v) for ad, v in zip(ads, verdicts, strict=True) if v.eligible]
        scored = self._score(eligible, audience, member, features)
        candidates = [_candidate(ad, v, scored.get(ad.id)) for ad, v in zip(ads, verdicts, strict=True)]
        candidates.sort(key=lambda c: (not c["eligible"], -(c["score"] or 0.0), c["ad"]))

        decision = Decision(
            decision_id=uuid.uuid4().hex, at=audience.at, screen=audience.screen, ad=None, creative=None,
            creative_spec={}, reasons=[], scores={}, candidates=candidates[:MAX_CANDIDATES],
            audience=audience.summary(self.settings.adult_age), members=audience.members,
        )
        if not scored:
            decision.reasons = self._why_none(ads, verdicts, audience)
        else:
            best = max(eligible, key=lambda av: (scored[av[0].id].scores["total"], av[0].priority, av[0].id))
            ad, verdict = best
            viewer = audience.faces.embeddings[main] if main is not None and audience.faces.embeddings is not None \
                else None
            self._rotation += 1
            choice = choose_creative(ad, viewer, creative_faces.get(ad.id, {}), rotation=self._rotation)
            decision.ad, decision.ad_name, decision.creative = ad.id, ad.name, choice.creative_id
            decision.creative_spec = _creative_spec(ad, choice.creative_id, self.settings.ad_duration)
            decision.scores = scored[ad.id].scores
            decision.reasons = [r for r in (*verdict.reasons, *scored[ad.id].reasons, choice.reason) if r]
        if log:
            self._log(decision, features, member, source)
        return decision

    def _context(self, audience: Audience, member: str | None,
                 shown_to: Callable[[str, float], int] | None) -> RuleContext:
        now = audience.at
        midnight = now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
        cache: dict[str, int] = {}

        def impressions_today(ad_id: str) -> int:
            if ad_id not in cache:
                cache[ad_id] = self.store.count_events(DECISION, since=midnight, ad_id=ad_id)
            return cache[ad_id]

        def person_shown(person: str, ad_id: str, hours: float) -> int:
            if member is not None:  # then ``person`` is the member: count their own decisions
                return self.store.count_events(DECISION, since=now - timedelta(hours=hours), ad_id=ad_id,
                                               customer_id=person)
            return shown_to(ad_id, hours) if shown_to is not None else 0

        segments = {m: self.store.get_customer(m).segment_id for m in audience.members}
        return RuleContext(now=now, adult_age=self.settings.adult_age, impressions_today=impressions_today,
                           shown_to=person_shown, segments=segments,
                           uplift_of=self._uplift_of(audience.members, segments) if audience.members else None)

    def _uplift_of(self, members: list[str], segments: dict[str, int | None]) -> UpliftOf:
        """The members' predicted uplift, read when an ``uplift`` rule first asks: one query per campaign."""
        scores: dict[str, dict[str, float]] = {}

        def uplift_of(campaign: str, by: str, member: str) -> float | None:
            if by == "segment":
                segment = segments.get(member)
                return None if segment is None else self._segment_uplift(campaign).get(segment)
            if campaign not in scores:
                scores[campaign] = self.store.uplift_scores(campaign, members)
            return scores[campaign].get(member)

        return uplift_of

    def _segment_uplift(self, campaign: str) -> dict[int, float]:
        """``{segment id: mean predicted uplift}`` under ``campaign``, cached like the inventory."""
        now = time.monotonic()
        generation = (self.store.generation("uplift"), self.store.generation("segments"))
        cached = self._segment_means.get(campaign)
        if cached is None or not cached.fresh(generation, now):
            means = {segment: mean for segment, (mean, _n) in self.store.segment_uplift(campaign).items()}
            cached = self._segment_means[campaign] = _Cached(means, generation, now)
        return cached.value

    def _score(self, eligible: list[tuple[Any, Any]], audience: Audience, member: str | None,
               features: np.ndarray) -> dict[str, Scored]:
        if not eligible:
            return {}
        ids = [ad.id for ad, _ in eligible]
        bandit = self._bandit(ids)
        expected = bandit.expected_reward(features[None, :], ids)[0]
        upper = bandit.ucb(features[None, :], ids)[0]
        group = audience.group_emotion()
        taste = self._taste(member, [ad for ad, _ in eligible])
        scored = {}
        for i, (ad, verdict) in enumerate(eligible):
            parts = {
                "rules": float(verdict.affinity),
                "taste": taste.get(ad.id, (0.0, ""))[0],
                "emotion": float(emotion_fit(ad.mood, group, self.fit_table)),
                "engagement": float(np.clip(upper[i], 0.0, 1.0)),
                "priority": ad.priority / 10.0,
            }
            total = sum(WEIGHTS[k] * v for k, v in parts.items())
            reasons = []
            if taste.get(ad.id, (0.0, ""))[1]:
                reasons.append(taste[ad.id][1])
            if ad.mood and group is not None:
                reasons.append(f"mood '{ad.mood}' fits the audience's emotion: {parts['emotion']:.2f}")
            reasons.append(f"learned engagement {expected[i]:.2f} (upper bound {upper[i]:.2f})")
            scores = {**{k: round(v, 4) for k, v in parts.items()}, "expected": round(float(expected[i]), 4),
                      "total": round(total, 4)}
            scored[ad.id] = Scored(scores, reasons)
        return scored

    def _taste(self, member: str | None, ads: list[Any]) -> dict[str, tuple[float, str]]:
        """Per ad: how well its products suit the member's taste (best cosine) and the reason."""
        if member is None:
            return {}
        profile = self.store.get_customer(member).profile
        index = self.shop.index()
        if not profile or not len(index):
            return {}
        recommender = Recommender(index)
        if recommender.is_cold(profile):
            return {}
        found = {}
        for ad in ads:
            products = [p for p in ad.products if p in index]
            if not products:
                continue
            best = recommender.recommend(profile, 1, allowed=products)
            if best and best[0].score > 0 and not best[0].cold_start:
                found[ad.id] = (min(best[0].score, 1.0), f"member {member} {', '.join(best[0].reasons)}".strip())
        return found

    @staticmethod
    def _why_none(ads: list[Any], verdicts: list[Any], audience: Audience) -> list[str]:
        if not ads:
            return ["no active ad in the inventory: import one with adlens ads import"]
        reasons = [f"no eligible ad among {len(ads)} for {len(audience)} face(s)"]
        for ad, verdict in list(zip(ads, verdicts, strict=True))[:5]:
            reasons.append(f"{ad.id}: {'; '.join(verdict.reasons) or 'not eligible'}")
        return reasons

    def _log(self, decision: Decision, features: np.ndarray, member: str | None, source: str) -> None:
        data = {
            "audience": decision.audience, "features": [round(float(v), 6) for v in features],
            "reasons": decision.reasons, "scores": decision.scores, "candidates": decision.candidates,
            "mode": self.settings.mode, "source": source,
        }
        self.store.append_event(Event(
            DECISION, decision.at, decision.screen, decision.decision_id, decision.ad, decision.creative,
            member if self.settings.mode == "members" else None, None, data,
        ))

    # --- learning from what happened -------------------------------------------------
    def reward(self, decision_id: str, value: float, kind: str = "dwell", at: datetime | None = None) -> float:
        """Log a reward for a decision and fold it into the ad's bandit arm; returns it normalised to [0, 1].

        A decision takes one reward of each kind: a second, even sent at the same moment
        by another process, is :class:`~adlens.errors.ConflictError` and changes nothing
        (the store's unique index decides, and the arm is updated in the same transaction
        as the winner's event only). ``at`` (default now) must pass :func:`~adlens.times.check_time`.
        """
        normalised = normalise_reward(kind, value, self.settings.dwell_reward_seconds)
        at = utcnow() if at is None else check_time(at, "at")
        with self.store.transaction() as session:
            decision = self.store.decision_event(decision_id, session=session)
            if decision.ad_id is None:
                raise InvalidInputError(f"decision {decision_id} showed no ad, so there is nothing to reward")
            features = np.asarray(decision.data.get("features") or [], dtype=np.float64)
            if len(features) != len(FEATURE_NAMES):
                raise InvalidInputError(f"decision {decision_id} was logged without usable features")
            self.store.append_event(Event(
                REWARD, at, decision.screen, decision_id, decision.ad_id, decision.creative_id,
                decision.customer_id, normalised, {"kind": kind, "raw": float(value)},
            ), session=session)
            self.store.update_arm(decision.ad_id, features, normalised, dims=len(FEATURE_NAMES), session=session)
        return normalised


    def log_play(self, decision: Decision, duration: float, dwell: float, at: datetime | None = None) -> int:
        """Log that ``decision``'s ad played for ``duration`` s and its audience stayed ``dwell`` s.

        For a single-frame audience (a photo, the API): every face present is an
        opportunity to see for the whole dwell and every watcher an attentive one. The
        signage loop, which tracks people, logs its own finer play events instead.
        """
        if decision.ad is None:
            raise InvalidInputError(f"decision {decision.decision_id} showed no ad, so nothing played")
        if not (duration >= 0 and dwell >= 0):
            raise InvalidInputError("duration and dwell must be non-negative seconds")
        audience = decision.audience
        data = {"duration": float(duration), "ots": audience["faces"], "watchers": audience["watchers"],
                "dwell": float(dwell) * audience["faces"], "attention": float(dwell) * audience["watchers"],
                "emotions": audience.get("emotions", {}), "audience": audience}
        return self.store.append_event(Event(PLAY, at or decision.at + timedelta(seconds=duration), decision.screen,
                                             decision.decision_id, decision.ad, decision.creative, None,
                                             float(duration), data))

    # --- the slideshow of a screen without a camera --------------------------------------
    def slideshow(self, screen: str, at: datetime | None = None) -> list[Slide]:
        """Every creative a screen without a camera may play at ``at`` (default now), best ads first.

        The ads are exactly those a decision for an empty audience at ``screen`` and ``at``
        finds eligible (the same :func:`~adlens.ads.rules.evaluate`: screens, hours, days,
        exclusions, daily caps; person-level targeting, members-only included, needs
        someone present), less the age-restricted ones: without a camera nobody's age is
        checked, so they never play.
        """
        audience, ads, context = self._unseen(screen, at)
        slides = []
        for ad in sorted(ads, key=lambda a: (-a.priority, a.id)):
            if self._may_slide(ad, audience, context).eligible:
                slides.extend(Slide(ad.id, ad.name, c.id, c.caption, float(c.duration or self.settings.ad_duration))
                              for c in ad.creatives)
        return slides

    def play_slide(self, screen: str, ad_id: str, creative_id: str, at: datetime | None = None) -> Decision:
        """Log that a screen without a camera starts showing one slide, if it still may.

        The slide is checked against :meth:`slideshow`'s rules at ``at`` (a playlist can
        grow stale: hours end, caps fill). When allowed, a decision with source
        ``"slideshow"`` (which daily caps and reports count) and its play, planned for the
        creative's duration with nobody seen, are logged, and the decision is returned;
        otherwise nothing is logged and the decision has no ad and says why.
        Raises :class:`~adlens.errors.NotFoundError` for an ad not active or a creative it lacks.
        """
        audience, ads, context = self._unseen(screen, at)
        ad = next((a for a in ads if a.id == ad_id), None)
        if ad is None:
            raise NotFoundError(f"no active ad {ad_id!r}")
        if not any(c.id == creative_id for c in ad.creatives):
            raise NotFoundError(f"ad {ad_id!r} has no creative {creative_id!r}")
        decision = Decision(
            decision_id=uuid.uuid4().hex, at=audience.at, screen=screen, ad=None, creative=None, creative_spec={},
            reasons=[], scores={}, candidates=[],
            # Nobody was seen because nothing looked: reports must not average this in as zero people.
            audience={**audience.summary(self.settings.adult_age), "seen": False},
        )
        verdict = self._may_slide(ad, audience, context)
        if not verdict.eligible:
            decision.reasons = list(verdict.reasons)
        else:
            decision.ad, decision.ad_name, decision.creative = ad.id, ad.name, creative_id
            decision.creative_spec = _creative_spec(ad, creative_id, self.settings.ad_duration)
            decision.reasons = [*verdict.reasons, "slideshow: no camera"]
            decision.candidates = [_candidate(ad, verdict, None)]
            self._log(decision, audience.features(), None, SLIDESHOW)
            # Logged as it starts (a page may close mid-slide), so stamped then: caps count it at once.
            self.log_play(decision, decision.creative_spec["duration"], 0.0, at=decision.at)
        return decision

    @staticmethod
    def _may_slide(ad: Any, audience: Audience, context: RuleContext) -> Eligibility:
        """May ``ad`` play to nobody seen? A decision's rules, and never an age-restricted ad."""
        if ad.is_age_restricted:
            return Eligibility(ad.id, False, ["age-restricted: nobody's age is checked without a camera"])
        return evaluate(ad, audience, context)

    def _unseen(self, screen: str, at: datetime | None) -> tuple[Audience, list[Any], RuleContext]:
        """Nobody in front of ``screen`` at ``at``: the audience, the active ads and the rules' context."""
        audience = Audience.from_faces(Faces.empty(), (0, 0), screen, at)
        return audience, self._inventory()[0], self._context(audience, None, None)


#: What the slideshow's decision events name as their source.
SLIDESHOW = "slideshow"


@dataclass(frozen=True)
class Slide:
    """One creative of the slideshow of a screen without a camera."""

    ad: str
    ad_name: str
    creative: str
    caption: str | None
    duration: float

    def to_json(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"ad": self.ad, "ad_name": self.ad_name, "creative": self.creative, "caption": self.caption,
                "duration": self.duration}


def _candidate(ad: Any, verdict: Any, scored: Scored | None) -> dict[str, Any]:
    return {"ad": ad.id, "eligible": bool(verdict.eligible), "score": None if scored is None else scored.scores["total"],
            "scores": None if scored is None else dict(scored.scores), "reasons": list(verdict.reasons)}


def _creative_spec(ad: Any, creative_id: str | None, default_duration: float) -> dict[str, Any]:
    creative = next((c for c in ad.creatives if c.id == creative_id), None)
    if creative is None:
        return {}
    return {"image": str(creative.image), "caption": creative.caption,
            "duration": float(creative.duration or default_duration)}
