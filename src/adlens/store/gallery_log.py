"""The gallery's change log: what a cached index needs to follow the store without rebuilding.

Every transaction that adds, refreshes (a new consent or expiry) or removes embeddings
appends their ids to ``gallery_changes`` (:func:`log_embedding_changes`); a cached index
that holds sequence ``s`` asks :meth:`GalleryLogMixin.gallery_changes` for the ids
changed after ``s`` and re-reads just those rows. Applying a change means "make this id
look as it does in the store now" (added if present and unexpired, removed otherwise),
so replaying one twice or late is harmless. On PostgreSQL the writers of the log take a
transaction-level advisory lock before appending, so sequence numbers become visible in
commit order and a reader never skips one that commits late.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, or_, select, text
from sqlalchemy.orm import Session

from adlens.store.base import StoreBase, chunks
from adlens.store.models import FaceEmbeddingRow, GalleryChangeRow, GalleryMemberRow
from adlens.times import to_utc, utcnow

#: Log rows kept: a cache further behind than this reloads the whole gallery.
LOG_KEEP = 200_000
#: PostgreSQL advisory lock key serialising the log's writers ("adlens-gallery" in ASCII, truncated).
LOG_LOCK = 0x61646C656E73


def lock_gallery_log(session: Session) -> None:
    """On PostgreSQL, wait for the log's advisory lock until ``session``'s transaction ends (re-entrant).

    A transaction that will log takes it first, before any row lock, so two of them
    (an enrolment and an erasure of one member) always lock in the same order.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOG_LOCK})


def log_embedding_changes(session: Session, embedding_ids: Sequence[int]) -> None:
    """Append ``embedding_ids`` to the change log in ``session``'s transaction (oldest rows pruned)."""
    if not embedding_ids:
        return
    lock_gallery_log(session)
    session.execute(insert(GalleryChangeRow), [{"embedding_id": int(i)} for i in sorted(set(embedding_ids))])
    head = int(session.scalar(select(func.max(GalleryChangeRow.seq))) or 0)
    if head > LOG_KEEP:
        session.execute(delete(GalleryChangeRow).where(GalleryChangeRow.seq <= head - LOG_KEEP))


def _unexpired(now: datetime | None) -> ColumnElement[bool]:
    moment = to_utc(now or utcnow())
    return or_(GalleryMemberRow.expires_at.is_(None), GalleryMemberRow.expires_at > moment)


class GalleryLogMixin(StoreBase):
    """The change log's readers, and the embeddings by id."""

    def gallery_head(self) -> int:
        """The newest change-log sequence number (0 when nothing was logged): one index lookup."""
        with self.transaction() as s:
            return int(s.scalar(select(func.max(GalleryChangeRow.seq))) or 0)

    def gallery_changes(self, after: int) -> tuple[int, list[int]] | None:
        """``(head, ids)``: the embedding ids changed after sequence ``after``, and the sequence they reach.

        ``None`` when the log no longer reaches back to ``after`` (pruned) or ``after`` is
        ahead of it (another database): the caller must load the whole gallery.
        """
        with self.transaction() as s:
            oldest = s.scalar(select(func.min(GalleryChangeRow.seq)))
            rows = s.execute(select(GalleryChangeRow.seq, GalleryChangeRow.embedding_id)
                             .where(GalleryChangeRow.seq > after).order_by(GalleryChangeRow.seq)).all()
            head = int(s.scalar(select(func.max(GalleryChangeRow.seq))) or 0)
        if after > head or (oldest is not None and after < oldest - 1):
            return None
        return (rows[-1][0] if rows else after), sorted({int(r[1]) for r in rows})

    def gallery_embeddings(
        self, now: datetime | None = None, ids: Sequence[int] | None = None
    ) -> tuple[list[int], list[str], list[bytes]]:
        """Embedding id, customer and ciphertext of every embedding of an unexpired member (or of ``ids``).

        Parallel lists ordered by id; ids that are gone or expired are simply absent.
        """
        query = (select(FaceEmbeddingRow.id, FaceEmbeddingRow.customer_id, FaceEmbeddingRow.ciphertext)
                 .join(GalleryMemberRow, GalleryMemberRow.customer_id == FaceEmbeddingRow.customer_id)
                 .where(_unexpired(now)))
        rows: list[Any] = []
        with self.transaction() as s:
            if ids is None:
                rows = list(s.execute(query.order_by(FaceEmbeddingRow.id)).all())
            else:
                for part in chunks(sorted(set(int(i) for i in ids))):
                    rows.extend(s.execute(query.where(FaceEmbeddingRow.id.in_(part))).all())
                rows.sort(key=lambda r: r[0])
        return [int(r[0]) for r in rows], [r[1] for r in rows], [bytes(r[2]) for r in rows]

    def gallery_owners(self, ids: Sequence[int], now: datetime | None = None) -> dict[int, str]:
        """Which customer each of ``ids`` belongs to, for those still stored with unexpired consent.

        The last word before a match is returned: one primary-key lookup per id, so a
        cache that missed an erasure or an expiry still never names that person.
        """
        query = (select(FaceEmbeddingRow.id, FaceEmbeddingRow.customer_id)
                 .join(GalleryMemberRow, GalleryMemberRow.customer_id == FaceEmbeddingRow.customer_id)
                 .where(_unexpired(now)))
        found: dict[int, str] = {}
        if not ids:
            return found
        with self._connection(None) as connection:  # Core on a pooled connection: this runs on every match
            for part in chunks(sorted(set(int(i) for i in ids))):
                found.update((int(i), c) for i, c in connection.execute(query.where(FaceEmbeddingRow.id.in_(part))))
        return found
