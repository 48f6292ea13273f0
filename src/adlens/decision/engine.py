"""The decision engine: audience → eligible ads → scores → the ad and creative to show, logged.

One :class:`Decider` serves a screen, the CLI or the API. For each decision it

1. evaluates every active ad's rules against the :class:`~adlens.audience.Audience`
   (targeting, exclusions that always win, daily and per-person caps; the store's
   counts through :func:`~adlens.decision.context.rule_context`);
2. scores each eligible ad (:mod:`adlens.decision.scoring`);
3. picks the best, and its creative whose model face looks most like the viewer;
4. builds the :class:`~adlens.decision.record.Decision`, whole, and appends a decision
   event (:class:`~adlens.events.DecisionData`) holding aggregate audience numbers, the
   features the bandit learns from, the reasons and the runners-up.

:meth:`Decider.reward` closes the loop: a dwell, click or purchase for a decision is
logged and folded into that ad's bandit arm, in one transaction. The inventory and the
arm statistics are cached (:mod:`adlens.decision.cache`). The decision event is written
before :meth:`Decider.decide` returns, so a reward may follow at once, from any process;
concurrent decisions share transactions (:meth:`Decider.choose`, :mod:`adlens.decision.journal`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from adlens.ads.emotion import emotion_table
from adlens.ads.bandit import normalise_reward
from adlens.ads.inventory import Ad
from adlens.ads.lookalike import choose_creative
from adlens.ads.rules import Eligibility, RuleContext, evaluate
from adlens.audience import FEATURE_NAMES, Audience
from adlens.decision.cache import StoreCache
from adlens.decision.context import rule_context
from adlens.decision.journal import Journal, Ticket
from adlens.decision.record import CreativeSpec, Decision
from adlens.decision.scoring import Scored, candidate, score, taste, why_none
from adlens.decision.slideshow import SLIDESHOW, Slide, may_slide, slides
from adlens.errors import InvalidInputError, NotFoundError
from adlens.events import DECISION, PLAY, REWARD, DecisionData, Event, PlayData, RewardData
from adlens.faces import Faces
from adlens.products.service import Shop
from adlens.protocols import ImageAnalyzer, MemberGallery
from adlens.settings import Settings, get_settings
from adlens.times import check_time, utcnow

if TYPE_CHECKING:
    from adlens.store import Store

#: Runners-up kept in a decision's JSON and event.
MAX_CANDIDATES = 10


class Decider:
    """Chooses ads for audiences over one store (see the module docstring).

    Args:
        store: an opened :class:`~adlens.store.Store`.
        settings: mode, thresholds and exploration rate.
        analyzer: the vision pipeline for :meth:`analyze` (created on first use,
            with embeddings: look-alike creatives and members need them).
        gallery: the member gallery (members mode; created on first use).
    """

    def __init__(self, store: Store, settings: Settings | None = None, analyzer: ImageAnalyzer | None = None,
                 gallery: MemberGallery | None = None) -> None:
        self.store = store
        self.settings = settings or get_settings()
        self._analyzer = analyzer
        self._gallery = gallery
        self.shop = Shop(store, self.settings)
        self.fit_table = emotion_table(self.settings)
        self.cache = StoreCache(store, self.settings)
        self.journal = Journal(store)
        self._rotation = 0

    # --- image → audience ----------------------------------------------------------
    @property
    def analyzer(self) -> ImageAnalyzer:
        """The vision pipeline (created and loaded on first use, with embeddings)."""
        if self._analyzer is None:
            from adlens.pipeline import analyzer_for

            self._analyzer = analyzer_for(self.settings)
        return self._analyzer

    @property
    def gallery(self) -> MemberGallery:
        """The member gallery (created on first use; members mode identifies through it)."""
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
        decision, ticket = self.choose(audience, source=source, person_key=person_key, shown_to=shown_to, log=log)
        if ticket is not None:
            self.journal.wait(ticket)
        return decision

    def choose(
        self,
        audience: Audience,
        *,
        source: str = "image",
        person_key: str | None = None,
        shown_to: Callable[[str, float], int] | None = None,
        log: bool = True,
    ) -> tuple[Decision, Ticket | None]:
        """:meth:`decide`, with the decision event only reserved in :attr:`journal`: the caller must call
        ``journal.wait(ticket)`` and answers once it returns (the event is then stored), after releasing its
        decision lock, so that one transaction may write the events of the decisions made meanwhile
        (:mod:`adlens.decision.journal`)."""
        ads, creative_faces = self.cache.inventory()
        main = audience.main_face()
        member = audience.customers[main] if main is not None else None
        context = rule_context(self.store, self.cache, audience, member, self.settings, shown_to,
                               self.journal.pending)
        features = audience.features()
        verdicts = [evaluate(ad, audience, context, person_key=member or person_key) for ad in ads]
        eligible = [(ad, v) for ad, v in zip(ads, verdicts, strict=True) if v.eligible]
        scored = self._score(eligible, audience, member, features)
        candidates = sorted((candidate(ad, v, scored.get(ad.id)) for ad, v in zip(ads, verdicts, strict=True)),
                            key=lambda c: (not c.eligible, -(c.score or 0.0), c.ad))
        summary = audience.summary(self.settings.adult_age, settings=self.settings)
        considered = Decision(uuid.uuid4().hex, audience.at, audience.screen, summary,
                              candidates=tuple(candidates[:MAX_CANDIDATES]), members=tuple(audience.members))
        if not scored:
            decision = replace(considered, reasons=tuple(why_none(ads, verdicts, len(audience))))
        else:
            ad, verdict = max(eligible, key=lambda av: (scored[av[0].id].scores["total"], av[0].priority, av[0].id))
            viewer = audience.faces.embeddings[main] if main is not None and audience.faces.embeddings is not None \
                else None
            self._rotation += 1
            choice = choose_creative(ad, viewer, creative_faces.get(ad.id, {}), rotation=self._rotation)
            decision = replace(
                considered, ad=ad.id, ad_name=ad.name, creative=choice.creative_id,
                creative_spec=self._creative_spec(ad, choice.creative_id), scores=scored[ad.id].scores,
                reasons=tuple(r for r in (*verdict.reasons, *scored[ad.id].reasons, choice.reason) if r),
            )
        return decision, (self.journal.reserve(self._event(decision, features, member, source)) if log else None)

    def _score(self, eligible: list[tuple[Ad, Eligibility]], audience: Audience, member: str | None,
               features: np.ndarray) -> dict[str, Scored]:
        if not eligible:
            return {}
        ads = [ad for ad, _ in eligible]
        liking = {} if member is None else taste(member, self.store.get_customer(member).profile, self.shop.index(),
                                                 ads)
        return score(eligible, audience, features, self.cache.bandit([ad.id for ad in ads]), liking,
                     self.fit_table)

    def _creative_spec(self, ad: Ad, creative_id: str | None) -> CreativeSpec | None:
        creative = next((c for c in ad.creatives if c.id == creative_id), None)
        if creative is None:
            return None
        return CreativeSpec(image=str(creative.image), caption=creative.caption,
                            duration=float(creative.duration or self.settings.ad_duration))

    def _event(self, decision: Decision, features: np.ndarray, member: str | None, source: str) -> Event:
        data = DecisionData(audience=decision.audience, features=[round(float(v), 6) for v in features],
                            reasons=list(decision.reasons), scores=decision.scores,
                            candidates=list(decision.candidates), mode=self.settings.mode, source=source)
        return Event(DECISION, decision.at, decision.screen, decision.decision_id, decision.ad, decision.creative,
                     member if self.settings.mode == "members" else None, None, data)

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
            assert isinstance(decision.data, DecisionData)  # the store read it as a decision's
            features = np.asarray(decision.data.features, dtype=np.float64)
            if len(features) != len(FEATURE_NAMES):
                raise InvalidInputError(f"decision {decision_id} was logged without usable features")
            self.store.append_event(Event(
                REWARD, at, decision.screen, decision_id, decision.ad_id, decision.creative_id,
                decision.customer_id, normalised, RewardData(kind=kind, raw=float(value)),
            ), session=session)
            self.store.update_arm(decision.ad_id, features, normalised, dims=len(FEATURE_NAMES), session=session)
        return normalised

    def log_play(self, decision: Decision, duration: float, dwell: float, at: datetime | None = None) -> int:
        """Log that ``decision``'s ad played for ``duration`` s and its audience stayed ``dwell`` s.

        For a single-frame audience (a photo, the API): :meth:`~adlens.events.PlayData.of_frame`.
        The signage loop, which tracks people, logs its own finer play events instead.
        """
        if decision.ad is None:
            raise InvalidInputError(f"decision {decision.decision_id} showed no ad, so nothing played")
        if not (duration >= 0 and dwell >= 0):
            raise InvalidInputError("duration and dwell must be non-negative seconds")
        data = PlayData.of_frame(decision.audience, float(duration), float(dwell))
        return int(self.store.append_event(Event(
            PLAY, at or decision.at + timedelta(seconds=duration), decision.screen, decision.decision_id,
            decision.ad, decision.creative, None, float(duration), data)))

    # --- the slideshow of a screen without a camera --------------------------------------
    def slideshow(self, screen: str, at: datetime | None = None) -> list[Slide]:
        """Every creative a screen without a camera may play at ``at`` (default now), best ads first
        (see :mod:`adlens.decision.slideshow`)."""
        audience, ads, context = self._unseen(screen, at)
        return slides(ads, audience, context, self.settings.ad_duration)

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
        verdict = may_slide(ad, audience, context)
        # Nobody was seen because nothing looked: reports must not average this in as zero people.
        summary = audience.summary(self.settings.adult_age, seen=False, settings=self.settings)
        unseen = Decision(uuid.uuid4().hex, audience.at, screen, summary)
        if not verdict.eligible:
            return replace(unseen, reasons=tuple(verdict.reasons))
        decision = replace(unseen, ad=ad.id, ad_name=ad.name, creative=creative_id,
                           creative_spec=self._creative_spec(ad, creative_id),
                           reasons=(*verdict.reasons, "slideshow: no camera"),
                           candidates=(candidate(ad, verdict, None),))
        self.journal.append(self._event(decision, audience.features(), None, SLIDESHOW))
        assert decision.creative_spec is not None  # the creative exists (checked above)
        # Logged as it starts (a page may close mid-slide), so stamped then: caps count it at once.
        self.log_play(decision, decision.creative_spec.duration, 0.0, at=decision.at)
        return decision

    def _unseen(self, screen: str, at: datetime | None) -> tuple[Audience, list[Ad], RuleContext]:
        """Nobody in front of ``screen`` at ``at``: the audience, the active ads and the rules' context."""
        audience = Audience.from_faces(Faces.empty(), (0, 0), screen, at)
        return audience, self.cache.inventory()[0], rule_context(self.store, self.cache, audience, None,
                                                                 self.settings)
