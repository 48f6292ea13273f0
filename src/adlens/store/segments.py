"""The segment part of the store: groups of customers with similar taste.

Segments are recomputed as a whole by clustering the profiles, so the only write is
:meth:`SegmentsMixin.replace_segments`, which swaps the old set for the new one and
re-assigns every customer in one transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from adlens.errors import InvalidInputError, NotFoundError
from adlens.store.base import StoreBase, chunks
from adlens.store.models import CustomerRow, SegmentRow
from adlens.times import utcnow


@dataclass(frozen=True)
class Segment:
    """A stored segment: its label, size, strongest aspects, centroid and 2-D plot position."""

    id: int
    label: str
    size: int
    top_aspects: list[tuple[str, float]]
    centroid: dict[str, float]
    x: float | None
    y: float | None
    created_at: datetime


def _to_segment(row: SegmentRow) -> Segment:
    return Segment(
        id=row.id,
        label=row.label,
        size=row.size,
        top_aspects=[(str(key), float(weight)) for key, weight in row.top_aspects or []],
        centroid=dict(row.centroid or {}),
        x=row.x,
        y=row.y,
        created_at=row.created_at,
    )


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _segment_row(index: int, segment: Mapping[str, Any], members: int) -> SegmentRow:
    if not isinstance(segment.get("label"), str):
        raise InvalidInputError(f"segment {index} needs a string 'label'")
    try:
        return SegmentRow(
            label=segment["label"],
            size=int(segment.get("size", members)),
            top_aspects=[[str(key), float(weight)] for key, weight in segment.get("top_aspects", [])],
            centroid={str(k): float(v) for k, v in segment.get("centroid", {}).items()},
            x=_optional_float(segment.get("x")),
            y=_optional_float(segment.get("y")),
            created_at=utcnow(),
        )
    except (TypeError, ValueError) as error:
        raise InvalidInputError(f"segment {index} is malformed: {error}") from error


class SegmentsMixin(StoreBase):
    """Customer segments: replaced as a whole, listed, and their members."""

    def replace_segments(
        self,
        segments: Sequence[Mapping[str, Any]],
        assignment: Mapping[str, int],
        session: Session | None = None,
    ) -> list[int]:
        """Replace all segments by ``segments`` and assign customers; returns the new ids in order.

        Each segment is a mapping with ``label`` and optionally ``size`` (default: the
        customers assigned to it), ``top_aspects`` (``[(key, weight), …]``),
        ``centroid`` (``{key: weight}``), ``x`` and ``y``. ``assignment`` maps a customer
        id to an index into ``segments``; customers left out get no segment. Unknown
        customers raise :class:`~adlens.errors.NotFoundError`, bad indices
        :class:`~adlens.errors.InvalidInputError`; either way nothing changes.
        """
        bad = {c: i for c, i in assignment.items() if not isinstance(i, int) or not 0 <= i < len(segments)}
        if bad:
            raise InvalidInputError(f"segment indices out of range 0..{len(segments) - 1}: {bad}")
        members = Counter(assignment.values())
        rows = [_segment_row(i, segment, members[i]) for i, segment in enumerate(segments)]
        with self._session(session) as s:
            self._lock_for_write(s)  # no customer may be added or erased between the check and the update
            missing = set(assignment)
            for part in chunks(sorted(assignment)):
                missing -= set(s.scalars(select(CustomerRow.id).where(CustomerRow.id.in_(part))))
            if missing:
                raise NotFoundError("unknown customers " + ", ".join(repr(c) for c in sorted(missing)[:10]))
            s.execute(update(CustomerRow).values(segment_id=None))
            s.execute(delete(SegmentRow))
            s.add_all(rows)
            s.flush()  # assigns the new ids
            groups: dict[int, list[str]] = {}
            for cid, index in sorted(assignment.items()):
                groups.setdefault(index, []).append(cid)
            for index, customers in groups.items():
                row = rows[index]
                for part in chunks(customers):
                    s.execute(update(CustomerRow).where(CustomerRow.id.in_(part)).values(segment_id=row.id))
            self._changes(s, "segments")  # e.g. cached mean uplift per segment must be re-read
            return [row.id for row in rows]

    def list_segments(self) -> list[Segment]:
        """Every segment, ordered by id."""
        with self.transaction() as s:
            return [_to_segment(r) for r in s.scalars(select(SegmentRow).order_by(SegmentRow.id))]

    def segment_members(self, segment_id: int) -> list[str]:
        """The ids (sorted) of the customers in segment ``segment_id``.

        :class:`~adlens.errors.NotFoundError` when there is no such segment.
        """
        with self.transaction() as s:
            if s.get(SegmentRow, segment_id) is None:
                raise NotFoundError(f"unknown segment {segment_id!r}")
            query = select(CustomerRow.id).where(CustomerRow.segment_id == segment_id)
            return sorted(s.scalars(query))
