"""The append-only event log: decisions, ad plays and rewards (:class:`adlens.events.Event`), persisted.

Events are only ever inserted (a database trigger refuses updates). They leave the
log in two ways only: erasure of the member they name
(:meth:`~adlens.store.customers.CustomersMixin.remove_customer`) and
:meth:`EventsMixin.prune_events` for a retention period.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from adlens.errors import ConflictError, NotFoundError, StoreError
from adlens.events import DECISION, Event, RewardData, payload_from_json
from adlens.store.base import StoreBase, changed_rows
from adlens.store.models import EventRow
from adlens.times import read_limit, to_utc

# A Core insert: one per decision, where the ORM's unit of work would cost more than the write.
_INSERT = insert(EventRow.__table__)


def _to_row(e: Event) -> dict[str, Any]:
    reward_kind = e.data.kind if isinstance(e.data, RewardData) and e.decision_id is not None else None
    return {"kind": e.kind, "at": to_utc(e.at), "screen": e.screen, "decision_id": e.decision_id, "ad_id": e.ad_id,
            "creative_id": e.creative_id, "customer_id": e.customer_id, "value": e.value, "data": e.payload_json(),
            "reward_kind": None if reward_kind is None else str(reward_kind)[:32]}


def _conflict(rows: list[dict[str, Any]]) -> ConflictError:
    """What a clash on the one unique index of events (a decision's reward of one kind) means."""
    rewards = [r for r in rows if r["reward_kind"] is not None]
    if len(rewards) == 1:
        return ConflictError(f"decision {rewards[0]['decision_id']} already has a {rewards[0]['reward_kind']} reward")
    return ConflictError("a decision already has a reward of one of these kinds")


def _to_event(row: EventRow) -> Event:
    """The stored row as an :class:`Event`, its payload read strictly (:func:`~adlens.events.payload_from_json`)."""
    return Event(row.kind, row.at, row.screen, row.decision_id, row.ad_id, row.creative_id, row.customer_id,
                 row.value, payload_from_json(row.kind, row.data, row.id), row.id)


class EventsMixin(StoreBase):
    """Append and read events."""

    def append_events(self, events: Iterable[Event], session: Session | None = None) -> list[int]:
        """Insert ``events`` in one transaction and return their ids (committed on return unless ``session``).

        A second reward of one kind for one decision is :class:`~adlens.errors.ConflictError`,
        however many processes insert at once (a unique index decides), and nothing is written.
        """
        rows = [_to_row(e) for e in events]
        if not rows:
            return []
        with self._connection(session) as connection:
            try:
                if len(rows) == 1:  # the common case, a decision: the driver reports the id without RETURNING
                    key = connection.execute(_INSERT, rows[0]).inserted_primary_key
                    if key is None:  # only an executemany or a table without a key reports none
                        raise StoreError("the database did not report the new event's id")
                    return [int(key[0])]
                inserted = connection.execute(_INSERT.returning(EventRow.id, sort_by_parameter_order=True), rows)
                return [int(i) for i in inserted.scalars()]
            except IntegrityError as error:  # the transaction is spoilt: the caller's ``with`` rolls it back
                raise _conflict(rows) from error

    def append_event(self, event: Event, session: Session | None = None) -> int:
        """Insert one event and return its id."""
        return self.append_events([event], session)[0]

    def events(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        kinds: Iterable[str] | None = None,
        screen: str | None = None,
        ad_id: str | None = None,
        decision_id: str | None = None,
        session: Session | None = None,
    ) -> list[Event]:
        """Events oldest first, filtered by time (``since`` ≤ at < ``until``), kind, screen, ad or decision."""
        query = select(EventRow).order_by(EventRow.at, EventRow.id)
        if since is not None:
            query = query.where(EventRow.at >= to_utc(since))
        if until is not None:
            query = query.where(EventRow.at < to_utc(until))
        if kinds is not None:
            query = query.where(EventRow.kind.in_(list(kinds)))
        if screen is not None:
            query = query.where(EventRow.screen == screen)
        if ad_id is not None:
            query = query.where(EventRow.ad_id == ad_id)
        if decision_id is not None:
            query = query.where(EventRow.decision_id == decision_id)
        with self._session(session) as s:
            return [_to_event(row) for row in s.scalars(query)]

    def decision_event(self, decision_id: str, session: Session | None = None) -> Event:
        """The decision event ``decision_id``; :class:`NotFoundError` when there is none."""
        found = self.events(kinds=[DECISION], decision_id=decision_id, session=session)
        if not found:
            raise NotFoundError(f"unknown decision {decision_id!r}")
        return found[0]

    def decision_totals(
        self, since: datetime, until: datetime, session: Session | None = None,
    ) -> tuple[int, int, int, list[Event]]:
        """Decisions in ``since`` ≤ at < ``until``: how many, the faces and watchers their audiences saw,
        and each screen's latest decision.

        Summed in SQL, so a busy period costs a few rows read, not every decision's JSON (the
        operator page asks for this every few seconds).
        """
        window = (EventRow.kind == DECISION, EventRow.at >= to_utc(since), EventRow.at < to_utc(until))
        totals = select(func.count(), *(func.coalesce(func.sum(EventRow.data[("audience", name)].as_float()), 0)
                                        for name in ("faces", "watchers"))).where(*window)
        last = select(EventRow.screen, func.max(EventRow.at).label("at")).where(*window).group_by(
            EventRow.screen).subquery()
        same_screen = or_(EventRow.screen == last.c.screen, and_(EventRow.screen.is_(None), last.c.screen.is_(None)))
        newest = select(EventRow).join(last, and_(same_screen, EventRow.at == last.c.at)).where(
            EventRow.kind == DECISION).order_by(EventRow.id)
        with self._session(session) as s:
            count, faces, watchers = s.execute(totals).one()
            latest = {row.screen: _to_event(row) for row in s.scalars(newest)}  # a tie in time: the last id
        return int(count), int(faces or 0), int(watchers or 0), list(latest.values())

    def count_events(
        self, kind: str, since: datetime | None = None, ad_id: str | None = None,
        customer_id: str | None = None, session: Session | None = None,
    ) -> int:
        """How many ``kind`` events since ``since``, for one ad and/or one member (caps count these).

        Events stamped more than a day ahead of the clock (impossible, see :mod:`adlens.times`)
        are not counted: one would otherwise fill a daily cap for good.
        """
        query = select(func.count()).select_from(EventRow).where(EventRow.kind == kind,
                                                                  EventRow.at <= read_limit())
        if since is not None:
            query = query.where(EventRow.at >= to_utc(since))
        if ad_id is not None:
            query = query.where(EventRow.ad_id == ad_id)
        if customer_id is not None:
            query = query.where(EventRow.customer_id == customer_id)
        with self._session(session) as s:
            return int(s.scalar(query) or 0)

    def prune_events(self, before: datetime, session: Session | None = None) -> int:
        """Delete events older than ``before`` (a retention period); returns how many went."""
        with self._session(session) as s:
            return changed_rows(s, delete(EventRow).where(EventRow.at < to_utc(before)))
