"""The gallery part of the store: enrolled members, their consent, their encrypted face embeddings.

Only ciphertexts come in and go out (:class:`adlens.crypto.EmbeddingCipher` encrypts
before and decrypts after); this module never sees a face. Erasure is
:meth:`~adlens.store.customers.CustomersMixin.remove_customer`, which removes the
member, their embeddings and everything else about them in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from adlens.errors import InvalidInputError, NotFoundError
from adlens.store.base import check_id
from adlens.store.gallery_log import GalleryLogMixin, lock_gallery_log, log_embedding_changes
from adlens.store.models import (
    CustomerRow,
    EventRow,
    FaceEmbeddingRow,
    FeedbackRow,
    GalleryMemberRow,
)
from adlens.times import to_utc, utcnow

#: Embeddings kept per member: the newest ones, as a face changes over the years.
MAX_EMBEDDINGS = 10


@dataclass(frozen=True)
class GalleryMember:
    """An enrolled customer as stored: the consent they gave and how many embeddings they have."""

    customer: str
    consent_text: str
    consented_at: datetime
    expires_at: datetime | None
    enrolled_at: datetime
    updated_at: datetime
    embeddings: int


class GalleryMixin(GalleryLogMixin):
    """Enrolment with consent, and the unexpired members' encrypted embeddings."""

    def enrol_member(
        self,
        customer_id: str,
        consent_text: str,
        expires_at: datetime | None,
        ciphertexts: Sequence[bytes],
        session: Session | None = None,
        keep: int = MAX_EMBEDDINGS,
    ) -> GalleryMember:
        """Record consent now and add encrypted embeddings; return the member as now stored.

        A new consent replaces the previous one (text, time and expiry). Only the
        ``keep`` newest embeddings are kept. The customer must exist
        (:class:`~adlens.errors.NotFoundError` otherwise).
        """
        check_id(customer_id, "customer")
        if not consent_text or not consent_text.strip():
            raise InvalidInputError("consent text must not be empty")
        now = utcnow()
        with self._session(session) as s:
            self._lock_for_write(s)
            lock_gallery_log(s)
            if s.get(CustomerRow, customer_id) is None:
                raise NotFoundError(f"unknown customer {customer_id!r}")
            member = s.get(GalleryMemberRow, customer_id, with_for_update=True)
            if member is None:
                member = GalleryMemberRow(customer_id=customer_id, enrolled_at=now)
                s.add(member)
            member.consent_text = consent_text
            member.consented_at = now
            member.expires_at = None if expires_at is None else to_utc(expires_at)
            member.updated_at = now
            self._changes(s, "gallery")
            s.flush()
            s.add_all(FaceEmbeddingRow(customer_id=customer_id, ciphertext=bytes(c), created_at=now)
                      for c in ciphertexts)
            s.flush()
            held = list(s.scalars(select(FaceEmbeddingRow.id).where(FaceEmbeddingRow.customer_id == customer_id)
                                  .order_by(FaceEmbeddingRow.id.desc())))
            kept = held[:keep]
            # The new ones, the trimmed ones, and the kept old ones (their consent and expiry just changed).
            log_embedding_changes(s, held)
            s.execute(delete(FaceEmbeddingRow).where(FaceEmbeddingRow.customer_id == customer_id,
                                                      FaceEmbeddingRow.id.not_in(kept)))
            return GalleryMember(customer_id, member.consent_text, member.consented_at, member.expires_at,
                                 member.enrolled_at, member.updated_at, len(kept))

    def gallery_members(self) -> list[GalleryMember]:
        """Every enrolled member, expired or not, ordered by customer id."""
        counts = (select(FaceEmbeddingRow.customer_id, func.count().label("n"))
                  .group_by(FaceEmbeddingRow.customer_id).subquery())
        query = (select(GalleryMemberRow, func.coalesce(counts.c.n, 0))
                 .outerjoin(counts, counts.c.customer_id == GalleryMemberRow.customer_id)
                 .order_by(GalleryMemberRow.customer_id))
        with self.transaction() as s:
            return [GalleryMember(m.customer_id, m.consent_text, m.consented_at, m.expires_at, m.enrolled_at,
                                  m.updated_at, int(n)) for m, n in s.execute(query)]

    def gallery_rows(self, now: datetime | None = None) -> tuple[list[str], list[bytes], list[datetime | None]]:
        """The embeddings of members whose consent has not expired at ``now``.

        Returns parallel lists: customer id and ciphertext per embedding, and the
        member's expiry per embedding (so a cached index knows when to drop it).
        """
        now = to_utc(now or utcnow())
        query = (select(FaceEmbeddingRow.customer_id, FaceEmbeddingRow.ciphertext, GalleryMemberRow.expires_at)
                 .join(GalleryMemberRow, GalleryMemberRow.customer_id == FaceEmbeddingRow.customer_id)
                 .where(or_(GalleryMemberRow.expires_at.is_(None), GalleryMemberRow.expires_at > now))
                 .order_by(FaceEmbeddingRow.customer_id, FaceEmbeddingRow.id))
        with self.transaction() as s:
            rows = s.execute(query).all()
        return [r[0] for r in rows], [bytes(r[1]) for r in rows], [r[2] for r in rows]

    def footprint(self, customer_id: str, session: Session | None = None) -> dict[str, int]:
        """How many rows name ``customer_id``: consent (0 or 1), embeddings, feedback, events.

        What an erasure removes, counted before it (in the same transaction) and
        checked after it.
        """
        tables = {"consent": GalleryMemberRow.customer_id, "embeddings": FaceEmbeddingRow.customer_id,
                  "feedback": FeedbackRow.customer_id, "events": EventRow.customer_id}
        with self._session(session) as s:
            return {name: int(s.scalar(select(func.count()).where(column == customer_id)) or 0)
                    for name, column in tables.items()}

    def gallery_version(self) -> tuple[int, ...]:
        """A cheap fingerprint of the gallery that changes whenever an enrolment or erasure does.

        Member count, embedding count and newest embedding id: every enrolment adds
        embeddings (a new id), trimming and erasure lower a count. Each is answered from
        an index (well under a millisecond at 100k members), so a cached index can check
        it on every query; a scan for the newest ``updated_at`` took 8 ms at 100k.
        """
        # Three queries, not one: SQLite answers a lone count(*) or max(id) from an index,
        # but scans the table when they share a SELECT.
        queries = (select(func.count()).select_from(GalleryMemberRow),
                   select(func.count()).select_from(FaceEmbeddingRow), select(func.max(FaceEmbeddingRow.id)))
        with self.transaction() as s:
            return tuple(int(s.scalar(query) or 0) for query in queries)
