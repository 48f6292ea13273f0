"""The product side wired together: feedback → profiles → recommendations, similar products, segments.

Only this module combines the store with the in-memory maths; the CLI (and later the
HTTP API) call it. Each answer is recorded and folded into the customer's profile in
one transaction, so a profile never disagrees with the feedback it was built from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from adlens.errors import InvalidInputError, NotFoundError
from adlens.products import profiles
from adlens.products.catalog import RowProblem, split_problems
from adlens.products.feedback import now
from adlens.products.profiles import Profile
from adlens.products.recommend import Recommendation, Recommender, Shuffler, similar
from adlens.products.segments import Segmenter
from adlens.products.types import DISLIKE, LIKE, Feedback, Product, split_key
from adlens.products.vectors import AspectIndex
from adlens.settings import Settings, get_settings
from adlens.times import check_time, plausible, read_limit

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from adlens.store import Customer, Segment, Store

#: Answers written per transaction in a batch import.
FEEDBACK_BATCH = 500


@dataclass
class Recommendations:
    """What ``recommend`` answers: the ranked products and, at cold start, what they are based on."""

    customer: str
    items: list[Recommendation]
    cold_start: bool = False
    note: str = ""
    names: dict[str, str] = field(default_factory=dict)


@dataclass
class FeedbackReport:
    """What a batch of answers did."""

    added: int = 0
    customers: int = 0
    problems: list[RowProblem] = field(default_factory=list)


class Shop:
    """Customers' answers, taste profiles and what to show them, over one store."""

    def __init__(self, store: Store, settings: Settings | None = None) -> None:
        self.store = store
        self.settings = settings or get_settings()
        self._index: tuple[str, AspectIndex] | None = None
        self._shuffler: Shuffler | None = None

    # --- the catalogue as vectors --------------------------------------------------

    def index(self) -> AspectIndex:
        """The catalogue's aspect index, rebuilt only when the catalogue changed."""
        version = self.store.catalogue_version()
        if self._index is None or self._index[0] != version:
            ids, vectors = self.store.aspect_rows()
            self._index = (version, AspectIndex(ids, vectors))
        return self._index[1]

    def popularity(self) -> dict[str, float]:
        """Product → likes minus ``dislike_weight`` × dislikes, over every customer."""
        weight = self.settings.dislike_weight
        return {pid: likes - weight * dislikes for pid, (likes, dislikes) in self.store.popularity().items()}

    # --- customers and feedback ------------------------------------------------------

    def add_customer(self, customer: str) -> bool:
        """Add a customer id; ``False`` when it was already there."""
        return self.store.add_customer(customer)

    def add_feedback(
        self, customer: str, product: str, value: int, at: datetime | None = None, create_customer: bool = False
    ) -> Profile:
        """Record one like (+1) or dislike (-1) and update the customer's profile in the same transaction.

        ``at`` (default now) must pass :func:`~adlens.times.check_time`: from 2000 to a few minutes ahead.
        """
        at = now() if at is None else check_time(at, "at")
        with self.store.transaction() as session:
            if create_customer:
                self.store.add_customer(customer, session=session)
            stored = self._customer(customer, session, for_update=True)
            item = self.store.get_product(product, session=session)
            self.store.add_feedback(Feedback(customer, product, value, at), session=session)
            profile = profiles.update(_profile(stored), item.aspects.vector(), value, at,
                                      self.settings.profile_half_life_days, self.settings.dislike_weight)
            self.store.save_profile(customer, profile.weights, profile.updated_at, profile.count, session=session)
        return profile

    def _customer(self, customer: str, session: Session | None = None, for_update: bool = False) -> Customer:
        try:
            return self.store.get_customer(customer, session=session, for_update=for_update)
        except NotFoundError:
            raise NotFoundError(
                f"unknown customer {customer!r}: add it first (adlens customers add {customer})"
            ) from None

    def import_feedback(
        self,
        items: Iterable[tuple[int, Feedback] | RowProblem],
        create_customers: bool = False,
        advance: Callable[[int], None] | None = None,
    ) -> FeedbackReport:
        """Record a batch of answers; unknown ids and bad rows are reported with their lines and skipped."""
        answers, problems = split_problems(items)
        report = FeedbackReport(problems=problems)
        if advance and report.problems:
            advance(len(report.problems))
        known_products = self.store.has_products({fb.product for _, fb in answers})
        known_customers = self.store.customer_ids()
        touched: set[str] = set()
        for start in range(0, len(answers), FEEDBACK_BATCH):
            batch = answers[start:start + FEEDBACK_BATCH]
            valid = []
            for line, fb in batch:
                if fb.product not in known_products:
                    report.problems.append(RowProblem(line, fb.product, f"unknown product {fb.product!r}",
                                                      "unknown id"))
                elif fb.customer not in known_customers and not create_customers:
                    report.problems.append(RowProblem(line, fb.product, f"unknown customer {fb.customer!r} "
                                                      "(--create-customers adds them)", "unknown id"))
                else:
                    valid.append(fb)
            self._record(valid, known_customers)
            report.added += len(valid)
            touched.update(fb.customer for fb in valid)
            if advance:
                advance(len(batch))
        report.customers = len(touched)
        report.problems.sort(key=lambda p: p.line)
        return report

    def _record(self, answers: Sequence[Feedback], known_customers: set[str]) -> None:
        """Write answers and their customers' updated profiles in one transaction."""
        if not answers:
            return
        vectors = {p.id: p.aspects.vector() for p in self.store.get_products({fb.product for fb in answers})}
        with self.store.transaction() as session:
            current: dict[str, Profile] = {}
            for fb in answers:
                if fb.customer not in known_customers:
                    self.store.add_customer(fb.customer, session=session)
                    known_customers.add(fb.customer)
                if fb.customer not in current:
                    stored = self.store.get_customer(fb.customer, session=session, for_update=True)
                    current[fb.customer] = _profile(stored)
                self.store.add_feedback(fb, session=session)
                current[fb.customer] = profiles.update(
                    current[fb.customer], vectors[fb.product], fb.value, fb.at,
                    self.settings.profile_half_life_days, self.settings.dislike_weight,
                )
            for customer, profile in current.items():
                self.store.save_profile(customer, profile.weights, profile.updated_at, profile.count, session=session)

    def taste(self, customer: str, top: int = 8) -> dict[str, list[tuple[str, float]]]:
        """A customer's strongest liked and disliked aspects (names without their kind)."""
        weights = self._customer(customer).profile
        ranked = sorted(weights.items(), key=lambda kv: -abs(kv[1]))

        def side(sign: int) -> list[tuple[str, float]]:
            chosen: dict[str, float] = {}
            for key, weight in ranked:
                name = split_key(key)[1]
                if weight * sign > 0 and name not in chosen:
                    chosen[name] = round(weight, 4)
            return list(chosen.items())[:top]

        return {"likes": side(LIKE), "dislikes": side(DISLIKE)}

    # --- recommendations ---------------------------------------------------------------

    def recommend(self, customer: str, k: int = 10) -> Recommendations:
        """The ``k`` best unrated products for ``customer``, with reasons; says so at cold start.

        Without a usable profile, a customer placed in a segment gets what suits the
        segment's centroid; anyone else the most liked products.
        """
        stored = self._customer(customer)
        index = self.index()
        if not len(index):
            raise InvalidInputError("the catalogue is empty: import products first (adlens catalog import)")
        rated = self.store.rated_products(customer)
        recommender = Recommender(index)
        popularity = self.popularity()
        items = recommender.recommend(stored.profile, k, exclude=rated, popularity=popularity)
        result = Recommendations(customer, items)
        if items and items[0].cold_start:
            result.cold_start = True
            segment = self._segment(stored.segment_id)
            if segment is not None and segment.centroid:
                result.items = recommender.recommend(segment.centroid, k, exclude=rated, popularity=popularity)
                result.note = f"no taste profile for {customer} yet: products suiting their segment '{segment.label}'"
            elif popularity:
                result.note = f"no feedback from {customer} yet: the most liked products"
            else:
                result.note = f"no feedback from {customer} yet and none in the store: a fixed varied selection"
        result.names = {p.id: p.name for p in self.store.get_products([r.product for r in result.items])}
        return result

    def next_product(self, customer: str, skip: Iterable[str] = (),
                     rng: np.random.Generator | None = None) -> Product | None:
        """The next product to ask ``customer`` about (the Shuffler's choice), or ``None`` when all are rated.

        ``skip``: products passed over in this session, not to be shown again.

        Mostly the best unrated match for the customer's taste; sometimes, and always at
        cold start, a product from a part of the catalogue they have not seen yet.
        """
        stored = self._customer(customer)
        index = self.index()
        if self._shuffler is None or self._shuffler.recommender.index is not index:
            self._shuffler = Shuffler(Recommender(index), popularity=self.popularity())
        chosen = self._shuffler.next(stored.profile, self.store.rated_products(customer) | set(skip),
                                     rng or np.random.default_rng())
        return None if chosen is None else self.store.get_product(chosen)

    def _segment(self, segment_id: int | None) -> Segment | None:
        if segment_id is None:
            return None
        return next((s for s in self.store.list_segments() if s.id == segment_id), None)

    def similar(self, product: str, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` products whose photos look most like ``product``'s (cosine of visual embeddings)."""
        item = self.store.get_product(product)
        if item.aspects.embedding is None:
            raise InvalidInputError(f"product {product!r} has no photo, so nothing looks like it")
        ids, embeddings = self.store.embeddings()
        return similar(embeddings, ids, product, k)

    # --- segments ------------------------------------------------------------------------

    def segment(self, n_segments: int | None = None, plot: Path | None = None) -> dict[str, Any]:
        """Cluster the customers' profiles, store the segments and assignments, optionally plot them."""
        ids, weights = self.store.profiles()
        model = Segmenter(n_segments=n_segments).fit(weights)
        assignment = {cid: int(label) for cid, label in zip(ids, model.labels_) if label >= 0}
        segment_ids = self.store.replace_segments(model.segments_, assignment)
        if plot is not None:
            model.plot(plot, customer_ids=ids)
        segments = [{"id": sid} | s for sid, s in zip(segment_ids, model.segments_)]
        return {
            "n_segments": model.n_segments_, "n_customers": len(assignment),
            "silhouette": round(model.silhouette_, 4), "segments": segments,
        }


def _profile(customer: Any) -> Profile:
    updated = customer.profile_updated_at
    if updated is not None and not plausible(updated, read_limit()):
        # A time no answer can have (written before times were checked) would decay every
        # later answer to nothing: the next answer's own time takes its place.
        updated = None
    return Profile(dict(customer.profile), updated, customer.feedback_count)
