"""The uplift part of the store: each customer's predicted uplift, under named campaigns.

An uplift model scores customers (``adlens uplift score … --save CAMPAIGN``); the scores
are kept per campaign so that offers can target customers, or taste segments, whose
predicted uplift lies within bounds. Saving replaces a campaign's scores as a whole, in
one transaction, and registers customers the store does not know yet. A campaign row
keeps its figures (how many customers, their mean uplift, how many above 0), which
erasing a customer adjusts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, overload

import numpy as np
from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Dialect,
    Float,
    String,
    Table,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from adlens.errors import InvalidInputError, NotFoundError
from adlens.store.base import StoreBase, check_id, chunks
from adlens.store.models import CustomerRow, UpliftCampaignRow, UpliftScoreRow
from adlens.store.sqltypes import UTCDateTime
from adlens.times import utcnow

#: Rows per INSERT (an executemany): large enough to be fast, small enough for steady progress.
BATCH = 10_000
#: How many offending ids or rows an error message names.
SHOWN = 5

By = Literal["customer", "segment"]


@dataclass(frozen=True)
class UpliftCampaign:
    """A stored set of predicted uplifts: which model made them, when, and their figures."""

    name: str
    model: str
    scored_at: datetime
    customers: int
    mean_uplift: float | None
    positive: int

    @property
    def share_positive(self) -> float | None:
        """The share of scored customers whose predicted uplift is above 0 (``None`` when none is scored)."""
        return self.positive / self.customers if self.customers else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        share = self.share_positive
        return {"campaign": self.name, "model": self.model, "scored_at": self.scored_at.isoformat(timespec="seconds"),
                "customers": self.customers,
                "mean_uplift": None if self.mean_uplift is None else round(self.mean_uplift, 6),
                "share_positive": None if share is None else round(share, 6)}


@dataclass(frozen=True)
class CustomerUplift:
    """One scored customer: their predicted uplift and their taste segment (if any)."""

    customer_id: str
    uplift: float
    segment_id: int | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"customer": self.customer_id, "uplift": round(self.uplift, 6), "segment": self.segment_id}


@dataclass(frozen=True)
class SegmentUplift:
    """One taste segment: the mean predicted uplift of its scored customers, and how many they are."""

    segment_id: int
    mean_uplift: float
    customers: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"segment": self.segment_id, "mean_uplift": round(self.mean_uplift, 6), "customers": self.customers}


def _to_campaign(row: UpliftCampaignRow) -> UpliftCampaign:
    return UpliftCampaign(row.name, row.model, row.scored_at, row.customers, row.mean_uplift, row.positive)


def _named(items: Sequence[object]) -> str:
    shown = ", ".join(repr(i) for i in items[:SHOWN])
    return shown + (f" and {len(items) - SHOWN} more" if len(items) > SHOWN else "")


def _checked_ids(customer_ids: Iterable[str]) -> list[str]:
    ids = list(customer_ids)
    bad = [c for c in ids if not isinstance(c, str) or not c.strip() or len(c) > 128]
    if bad:
        raise InvalidInputError(f"{len(bad)} customer id(s) are not non-blank strings of at most 128 characters: "
                                f"{_named(bad)}")
    if len(set(ids)) != len(ids):
        repeated = sorted(c for c, n in Counter(ids).items() if n > 1)
        raise InvalidInputError(f"{len(repeated)} customer id(s) appear more than once: {_named(repeated)}")
    return ids


def _checked_values(uplift: Sequence[float] | np.ndarray, ids: list[str]) -> np.ndarray:
    try:
        values = np.asarray(uplift, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InvalidInputError(f"uplift values must be numbers: {error}") from None
    if values.ndim != 1 or len(values) != len(ids):
        raise InvalidInputError(f"{len(ids)} customer ids but uplift values of shape {values.shape}: "
                                "one value per customer is expected")
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        raise InvalidInputError(f"{len(bad)} uplift value(s) are not finite numbers, for customer(s) "
                                f"{_named([ids[i] for i in bad])}")
    return values


def _check_bounds(minimum: float | None, maximum: float | None) -> None:
    for bound in (minimum, maximum):
        if bound is not None and not np.isfinite(bound):
            raise InvalidInputError(f"an uplift bound must be a finite number, not {bound!r}")
    if minimum is not None and maximum is not None and minimum > maximum:
        raise InvalidInputError(f"the minimum uplift {minimum:g} is above the maximum {maximum:g}")


def forget_customer_uplift(session: Session, customer_id: str) -> bool:
    """Delete ``customer_id``'s scores and take them out of their campaigns' figures (erasure).

    Runs in the caller's ``session``; ``True`` when the customer had scores.
    """
    query = select(UpliftScoreRow.campaign, UpliftScoreRow.uplift).where(UpliftScoreRow.customer_id == customer_id)
    scored = session.execute(query).all()
    if not scored:
        return False
    session.execute(delete(UpliftScoreRow).where(UpliftScoreRow.customer_id == customer_id))
    for campaign, value in scored:
        row = session.get(UpliftCampaignRow, campaign, with_for_update=True)
        if row is None:
            continue
        left = row.customers - 1
        if left <= 0 or row.mean_uplift is None:
            row.customers, row.mean_uplift, row.positive = 0, None, 0
        else:
            # The mean without this customer's value: exact up to rounding, and no rescan of the campaign.
            row.mean_uplift = (row.mean_uplift * row.customers - value) / left
            row.customers, row.positive = left, row.positive - int(value > 0)
    session.flush()
    return True


def _executemany(connection: Connection, table: Table, names: Sequence[str], rows: list[tuple[Any, ...]],
                 on_conflict_ignore: str | None = None) -> None:
    """Insert ``rows`` (tuples of the columns ``names``) into ``table`` through the driver's own executemany.

    SQLAlchemy's executemany processes every value of every row in Python, which costs
    more than the insert itself at a million rows; so the values must be ready for the
    driver already (text, floats, and constants processed once, see :func:`_driver_value`).
    ``on_conflict_ignore`` names a key column whose conflicts are skipped (SQLite).
    """
    if not rows:
        return
    values = {name: bindparam(name) for name in names}
    if on_conflict_ignore is not None:
        statement: Any = sqlite.insert(table).values(values).on_conflict_do_nothing(index_elements=[on_conflict_ignore])
    else:
        statement = insert(table).values(values)
    compiled = statement.compile(dialect=connection.dialect)
    if not compiled.positional:
        connection.exec_driver_sql(compiled.string, [dict(zip(names, row, strict=True)) for row in rows])
        return
    order = [names.index(name) for name in compiled.positiontup or []]
    if order != list(range(len(names))):
        rows = [tuple(row[i] for i in order) for row in rows]
    connection.exec_driver_sql(compiled.string, rows)


def _driver_value(column: Column[Any], value: Any, dialect: Dialect) -> Any:
    """``value`` as the driver receives it for ``column`` (what SQLAlchemy would do per row)."""
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    return value if process is None else process(value)


def _unnest(name: str, item: Any) -> Any:
    return func.unnest(bindparam(name, type_=ARRAY(item)))


def _insert_customers(connection: Connection, ids: Sequence[str]) -> None:
    """Register the customers among ``ids`` the store lacks (another process may add some meanwhile)."""
    customers = CustomerRow.__table__
    now, dialect = utcnow(), connection.dialect
    if dialect.name == "postgresql":
        # The ids as one array parameter: an executemany costs a round trip per row.
        rows = select(_unnest("ids", String), literal(now, UTCDateTime), literal({}, JSON), literal(0))
        statement = postgresql.insert(customers).from_select(["id", "created_at", "profile", "feedback_count"], rows)
        connection.execute(statement.on_conflict_do_nothing(index_elements=["id"]), {"ids": list(ids)})
        return
    known = set(connection.scalars(select(CustomerRow.id).where(CustomerRow.id.in_(ids))))
    created = _driver_value(customers.c.created_at, now, dialect)
    profile = _driver_value(customers.c.profile, {}, dialect)
    _executemany(connection, customers, ("id", "created_at", "profile", "feedback_count"),
                 [(c, created, profile, 0) for c in ids if c not in known],
                 on_conflict_ignore="id" if dialect.name == "sqlite" else None)


def _insert_scores(connection: Connection, campaign: str, ids: Sequence[str], values: list[float]) -> None:
    scores = UpliftScoreRow.__table__
    if connection.dialect.name == "postgresql":
        rows = select(literal(campaign, String), _unnest("ids", String), _unnest("values", Float))
        statement = insert(scores).from_select(["campaign", "customer_id", "uplift"], rows)
        connection.execute(statement, {"ids": list(ids), "values": values})
        return
    _executemany(connection, scores, ("campaign", "customer_id", "uplift"),
                 [(campaign, c, v) for c, v in zip(ids, values, strict=True)])


class UpliftMixin(StoreBase):
    """Predicted uplift per customer under named campaigns; its segment means; targets within bounds."""

    def save_uplift_scores(
        self,
        campaign: str,
        customer_ids: Sequence[str],
        uplift: Sequence[float] | np.ndarray,
        *,
        model: str = "",
        progress: Callable[[int], None] | None = None,
        session: Session | None = None,
    ) -> int:
        """Replace campaign ``campaign``'s scores by ``uplift`` per customer; returns how many were saved.

        Customers not yet in the store are registered. Everything happens in one
        transaction: an error leaves the previous scores as they were. ``model`` names
        what made the scores (e.g. the model file). ``progress(n)`` is called after each
        batch of :data:`BATCH` rows with the number saved so far. Blank, over-long or
        repeated ids, a length mismatch or non-finite values are an
        :class:`~adlens.errors.InvalidInputError` naming them; nothing is written then.
        """
        check_id(campaign, "campaign")
        if not isinstance(model, str) or len(model) > 512:
            raise InvalidInputError("the model description must be a string of at most 512 characters")
        ids = _checked_ids(customer_ids)
        values = _checked_values(uplift, ids)
        if not ids:
            raise InvalidInputError(f"no uplift scores to save for campaign {campaign!r}")
        figures = {"customers": len(ids), "mean_uplift": float(values.mean()), "positive": int((values > 0).sum())}
        with self._session(session) as s:
            connection = s.connection()
            connection.execute(delete(UpliftScoreRow).where(UpliftScoreRow.campaign == campaign))
            connection.execute(delete(UpliftCampaignRow).where(UpliftCampaignRow.name == campaign))
            connection.execute(insert(UpliftCampaignRow.__table__).values(
                name=campaign, model=model, scored_at=utcnow(), **figures))
            done = 0
            for start in range(0, len(ids), BATCH):
                part = ids[start : start + BATCH]
                _insert_customers(connection, part)
                _insert_scores(connection, campaign, part, values[start : start + BATCH].tolist())
                done += len(part)
                if progress is not None:
                    progress(done)
            self._changes(s, "uplift")
        return done

    def uplift_scores(self, campaign: str, customer_ids: Iterable[str],
                      session: Session | None = None) -> dict[str, float]:
        """``{customer id: predicted uplift}`` under ``campaign`` for those of ``customer_ids`` it scored.

        An unknown campaign scored nobody: the answer is empty (a decision must not fail
        on a campaign not scored yet).
        """
        wanted = sorted(set(customer_ids))
        found: dict[str, float] = {}
        with self._connection(session) as connection:
            for part in chunks(wanted):
                query = select(UpliftScoreRow.customer_id, UpliftScoreRow.uplift).where(
                    UpliftScoreRow.campaign == campaign, UpliftScoreRow.customer_id.in_(part))
                found.update((c, float(u)) for c, u in connection.execute(query))
        return found

    def segment_uplift(self, campaign: str, session: Session | None = None) -> dict[int, tuple[float, int]]:
        """``{segment id: (mean predicted uplift, scored customers)}`` under ``campaign``.

        Only customers in a segment count; an unknown campaign gives ``{}``.
        """
        query = (
            select(CustomerRow.segment_id, func.avg(UpliftScoreRow.uplift), func.count())
            .join(CustomerRow, CustomerRow.id == UpliftScoreRow.customer_id)
            .where(UpliftScoreRow.campaign == campaign, CustomerRow.segment_id.is_not(None))
            .group_by(CustomerRow.segment_id)
        )
        with self._connection(session) as connection:
            return {int(segment): (float(mean), int(n)) for segment, mean, n in connection.execute(query)}

    def list_uplift_campaigns(self) -> list[UpliftCampaign]:
        """Every campaign with stored scores, by name."""
        with self.transaction() as s:
            rows = s.scalars(select(UpliftCampaignRow).order_by(UpliftCampaignRow.name))
            return [_to_campaign(r) for r in rows]

    def get_uplift_campaign(self, name: str, session: Session | None = None) -> UpliftCampaign:
        """The campaign ``name``; :class:`~adlens.errors.NotFoundError` if it has no stored scores."""
        with self._session(session) as s:
            row = s.get(UpliftCampaignRow, name)
            if row is None:
                raise NotFoundError(f"unknown uplift campaign {name!r}")
            return _to_campaign(row)

    def remove_uplift_campaign(self, name: str, session: Session | None = None) -> int:
        """Delete campaign ``name`` and its scores; returns how many scores went.

        :class:`~adlens.errors.NotFoundError` when there is no such campaign.
        """
        with self._session(session) as s:
            if s.get(UpliftCampaignRow, name) is None:
                raise NotFoundError(f"unknown uplift campaign {name!r}")
            removed = s.execute(delete(UpliftScoreRow).where(UpliftScoreRow.campaign == name)).rowcount
            s.execute(delete(UpliftCampaignRow).where(UpliftCampaignRow.name == name))
            self._changes(s, "uplift")
            return int(removed or 0)

    @overload
    def uplift_targets(self, campaign: str, minimum: float | None = None, maximum: float | None = None,
                       by: Literal["customer"] = "customer", limit: int | None = None) -> list[CustomerUplift]: ...

    @overload
    def uplift_targets(self, campaign: str, minimum: float | None = None, maximum: float | None = None, *,
                       by: Literal["segment"], limit: int | None = None) -> list[SegmentUplift]: ...

    def uplift_targets(self, campaign: str, minimum: float | None = None, maximum: float | None = None,
                       by: By = "customer", limit: int | None = None) -> list[CustomerUplift] | list[SegmentUplift]:
        """Whom to target: customers (``by="customer"``) or segments (their mean) with uplift in bounds, best first.

        ``minimum`` and ``maximum`` are inclusive; ``None`` leaves that side open. Ties
        are ordered by id; ``limit`` keeps the first ones. An unknown campaign is a
        :class:`~adlens.errors.NotFoundError`; bounds in the wrong order, an unknown
        ``by`` or a ``limit`` below 1 an :class:`~adlens.errors.InvalidInputError`.
        """
        _check_bounds(minimum, maximum)
        if by not in ("customer", "segment"):
            raise InvalidInputError(f"targets are by 'customer' or 'segment', not {by!r}")
        if limit is not None and limit < 1:
            raise InvalidInputError(f"the limit must be at least 1, not {limit}")
        if by == "segment":
            mean = func.avg(UpliftScoreRow.uplift)
            query = (
                select(CustomerRow.segment_id, mean, func.count())
                .join(CustomerRow, CustomerRow.id == UpliftScoreRow.customer_id)
                .where(UpliftScoreRow.campaign == campaign, CustomerRow.segment_id.is_not(None))
                .group_by(CustomerRow.segment_id)
                .order_by(mean.desc(), CustomerRow.segment_id)
            )
            if minimum is not None:
                query = query.having(mean >= minimum)
            if maximum is not None:
                query = query.having(mean <= maximum)
        else:
            query = (
                select(UpliftScoreRow.customer_id, UpliftScoreRow.uplift, CustomerRow.segment_id)
                .join(CustomerRow, CustomerRow.id == UpliftScoreRow.customer_id)
                .where(UpliftScoreRow.campaign == campaign)
                .order_by(UpliftScoreRow.uplift.desc(), UpliftScoreRow.customer_id)
            )
            if minimum is not None:
                query = query.where(UpliftScoreRow.uplift >= minimum)
            if maximum is not None:
                query = query.where(UpliftScoreRow.uplift <= maximum)
        if limit is not None:
            query = query.limit(limit)
        with self.transaction() as s:
            if s.get(UpliftCampaignRow, campaign) is None:
                raise NotFoundError(f"unknown uplift campaign {campaign!r}")
            rows = s.execute(query).all()
        if by == "segment":
            return [SegmentUplift(int(segment), float(mean), int(n)) for segment, mean, n in rows]
        return [CustomerUplift(c, float(u), segment) for c, u, segment in rows]
