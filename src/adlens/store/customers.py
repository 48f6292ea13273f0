"""The customer part of the store: customers, their taste profiles, and their feedback.

Erasing a customer (:meth:`CustomersMixin.remove_customer`) removes every trace in one
transaction: the row with its profile, all its feedback, its gallery enrolment with
consent and encrypted embeddings (ON DELETE CASCADE, and deleted explicitly too),
every event that names them, their predicted uplift under every campaign (and their
part of each campaign's count and mean), and its share of its segment's size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute, Session

from adlens.errors import NotFoundError
from adlens.products.types import DISLIKE, LIKE, Feedback
from adlens.store.base import StoreBase, changed_rows, check_id
from adlens.store.gallery_log import lock_gallery_log, log_embedding_changes
from adlens.store.models import (
    CustomerRow,
    EventRow,
    FaceEmbeddingRow,
    FeedbackRow,
    GalleryMemberRow,
    ProductRow,
    SegmentRow,
)
from adlens.store.uplift import forget_customer_uplift
from adlens.times import to_utc, utcnow


@dataclass(frozen=True)
class Customer:
    """A customer as stored: their taste profile and which segment they fell in."""

    id: str
    created_at: datetime
    profile: dict[str, float]
    profile_updated_at: datetime | None
    feedback_count: int
    segment_id: int | None

    def summary(self) -> dict[str, Any]:
        """Id, number of answers, segment and when the profile last changed, as JSON-ready data."""
        updated = self.profile_updated_at
        return {"id": self.id, "feedback_count": self.feedback_count, "segment": self.segment_id,
                "profile_updated_at": updated.isoformat(timespec="seconds") if updated else None}


def _to_customer(row: CustomerRow) -> Customer:
    return Customer(
        id=row.id,
        created_at=row.created_at,
        profile=dict(row.profile or {}),
        profile_updated_at=row.profile_updated_at,
        feedback_count=row.feedback_count,
        segment_id=row.segment_id,
    )


def _exists(session: Session, column: InstrumentedAttribute[str], value: str) -> bool:
    return session.scalar(select(column).where(column == value)) is not None


def _require_customer(session: Session, customer_id: str) -> None:
    if not _exists(session, CustomerRow.id, customer_id):
        raise NotFoundError(f"unknown customer {customer_id!r}")


class CustomersMixin(StoreBase):
    """Customers, their profiles and their likes/dislikes."""

    # --- customers --------------------------------------------------------------

    def add_customer(self, customer_id: str, session: Session | None = None) -> bool:
        """Register ``customer_id``; ``True`` if it was created, ``False`` if it already existed."""
        check_id(customer_id, "customer")
        values = {"id": customer_id, "created_at": utcnow(), "profile": {}, "feedback_count": 0}
        with self._session(session) as s:
            dialect = s.get_bind().dialect.name
            if dialect in ("sqlite", "postgresql"):
                # INSERT … ON CONFLICT DO NOTHING: two requests adding the same new
                # customer at once must not fail on the primary key.
                insert = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(CustomerRow)
                statement = insert.values(**values).on_conflict_do_nothing(index_elements=["id"])
                return s.execute(statement.returning(CustomerRow.id)).scalar() is not None
            if s.get(CustomerRow, customer_id) is not None:
                return False
            s.add(CustomerRow(**values))
            return True

    def get_customer(self, customer_id: str, session: Session | None = None, for_update: bool = False) -> Customer:
        """The customer ``customer_id``; :class:`~adlens.errors.NotFoundError` if unknown.

        ``for_update`` locks the row (PostgreSQL) or the database for writing (SQLite) until
        the transaction ends, so two answers arriving at once for one customer cannot both
        fold into the same old profile.
        """
        with self._session(session) as s:
            if for_update:
                self._lock_for_write(s)
            row = s.get(CustomerRow, customer_id, with_for_update=for_update)
            if row is None:
                raise NotFoundError(f"unknown customer {customer_id!r}")
            return _to_customer(row)

    def list_customers(self) -> list[Customer]:
        """Every customer, ordered by id."""
        with self.transaction() as s:
            return [_to_customer(r) for r in s.scalars(select(CustomerRow).order_by(CustomerRow.id))]

    def customer_ids(self) -> set[str]:
        """The ids of every customer."""
        with self.transaction() as s:
            return set(s.scalars(select(CustomerRow.id)))

    def remove_customer(self, customer_id: str, session: Session | None = None) -> None:
        """Erase a customer: profile, feedback, gallery enrolment, events naming them, uplift scores, segment count."""
        with self._session(session) as s:
            self._lock_for_write(s)  # the segment and uplift figures read here are rewritten below
            lock_gallery_log(s)  # before any row lock, as enrolments take it (no deadlock between the two)
            row = s.get(CustomerRow, customer_id)
            if row is None:
                raise NotFoundError(f"unknown customer {customer_id!r}")
            segment_id = row.segment_id
            s.execute(delete(FeedbackRow).where(FeedbackRow.customer_id == customer_id))
            gone = list(s.scalars(select(FaceEmbeddingRow.id).where(FaceEmbeddingRow.customer_id == customer_id)))
            log_embedding_changes(s, gone)  # cached gallery indexes drop these without a rebuild
            s.execute(delete(FaceEmbeddingRow).where(FaceEmbeddingRow.customer_id == customer_id))
            s.execute(delete(GalleryMemberRow).where(GalleryMemberRow.customer_id == customer_id))
            self._changes(s, "gallery")
            s.execute(delete(EventRow).where(EventRow.customer_id == customer_id))
            if forget_customer_uplift(s, customer_id):
                self._changes(s, "uplift")
            s.delete(row)
            s.flush()
            if segment_id is not None:
                shrink = update(SegmentRow).where(SegmentRow.id == segment_id).values(size=SegmentRow.size - 1)
                s.execute(shrink)
                # A segment left empty would describe nobody but the erased customer.
                s.execute(delete(SegmentRow).where(SegmentRow.id == segment_id, SegmentRow.size <= 0))
                self._changes(s, "segments")

    def save_profile(
        self,
        customer_id: str,
        profile: dict[str, float],
        updated_at: datetime | None,
        feedback_count: int,
        session: Session | None = None,
    ) -> None:
        """Store a customer's taste profile, when it was computed and from how many feedback rows."""
        statement = (
            update(CustomerRow)
            .where(CustomerRow.id == customer_id)
            .values(
                profile={str(k): float(v) for k, v in profile.items()},
                profile_updated_at=None if updated_at is None else to_utc(updated_at),
                feedback_count=int(feedback_count),
            )
        )
        with self._session(session) as s:
            if changed_rows(s, statement) == 0:
                raise NotFoundError(f"unknown customer {customer_id!r}")

    def profiles(self) -> tuple[list[str], list[dict[str, float]]]:
        """The ids (sorted) of customers with a non-empty profile, and those profiles."""
        with self.transaction() as s:
            found = sorted((cid, p) for cid, p in s.execute(select(CustomerRow.id, CustomerRow.profile)) if p)
        return [cid for cid, _ in found], [dict(p) for _, p in found]

    # --- feedback ---------------------------------------------------------------

    def add_feedback(self, feedback: Feedback, session: Session | None = None) -> int:
        """Record a like or dislike and return its id.

        :class:`~adlens.errors.NotFoundError` names the customer or product when unknown.
        """
        with self._session(session) as s:
            _require_customer(s, feedback.customer)
            if not _exists(s, ProductRow.id, feedback.product):
                raise NotFoundError(f"unknown product {feedback.product!r}")
            row = FeedbackRow(
                customer_id=feedback.customer,
                product_id=feedback.product,
                value=feedback.value,
                created_at=feedback.at,
            )
            s.add(row)
            s.flush()
            return row.id

    def feedback_for(self, customer_id: str) -> list[Feedback]:
        """A customer's feedback, oldest first; :class:`~adlens.errors.NotFoundError` for an unknown customer."""
        query = (
            select(FeedbackRow)
            .where(FeedbackRow.customer_id == customer_id)
            .order_by(FeedbackRow.created_at, FeedbackRow.id)
        )
        with self.transaction() as s:
            _require_customer(s, customer_id)
            return [Feedback(r.customer_id, r.product_id, r.value, r.created_at) for r in s.scalars(query)]

    def rated_products(self, customer_id: str) -> set[str]:
        """The products a customer has liked or disliked (to leave them out of recommendations)."""
        query = select(FeedbackRow.product_id).where(FeedbackRow.customer_id == customer_id)
        with self.transaction() as s:
            _require_customer(s, customer_id)
            return set(s.scalars(query))

    def popularity(self) -> dict[str, tuple[int, int]]:
        """``{product_id: (likes, dislikes)}`` over all feedback; products never rated are absent.

        Counts rather than one score, so the caller can choose how to rank
        (net likes, a smoothed like ratio…).
        """
        likes = func.sum(case((FeedbackRow.value == LIKE, 1), else_=0))
        dislikes = func.sum(case((FeedbackRow.value == DISLIKE, 1), else_=0))
        query = select(FeedbackRow.product_id, likes, dislikes).group_by(FeedbackRow.product_id)
        with self.transaction() as s:
            return {pid: (int(n_like), int(n_dislike)) for pid, n_like, n_dislike in s.execute(query)}

    def count_feedback(self) -> int:
        """How many feedback rows the store holds."""
        with self.transaction() as s:
            return s.scalar(select(func.count()).select_from(FeedbackRow)) or 0
