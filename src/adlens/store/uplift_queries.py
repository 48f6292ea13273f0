"""The uplift queries of the store: scores per customer, means per segment, targets within bounds.

What :mod:`adlens.store.uplift` saved under a campaign is read here: by a decision (the
scores of the customers in front of a screen), by segment (their mean), and as targets
for an offer (customers or segments whose predicted uplift lies within bounds, best first).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, overload

import numpy as np
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from adlens.errors import InvalidInputError
from adlens.store.base import StoreBase, chunks
from adlens.store.models import CustomerRow, UpliftScoreRow
from adlens.store.uplift import campaign_row

By = Literal["customer", "segment"]


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


def _check_bounds(minimum: float | None, maximum: float | None) -> None:
    """Refuse a bound that is not a finite number, and bounds in the wrong order."""
    for bound in (minimum, maximum):
        if bound is not None and not np.isfinite(bound):
            raise InvalidInputError(f"an uplift bound must be a finite number, not {bound!r}")
    if minimum is not None and maximum is not None and minimum > maximum:
        raise InvalidInputError(f"the minimum uplift {minimum:g} is above the maximum {maximum:g}")


def _segment_means(campaign: str) -> tuple[Select[Any, Any, Any], ColumnElement[Any]]:
    """The query of ``(segment id, mean uplift, scored customers)`` under ``campaign``, and its mean column.

    Only customers in a segment count.
    """
    mean = func.avg(UpliftScoreRow.uplift)
    query = (
        select(CustomerRow.segment_id, mean, func.count())
        .join(CustomerRow, CustomerRow.id == UpliftScoreRow.customer_id)
        .where(UpliftScoreRow.campaign == campaign, CustomerRow.segment_id.is_not(None))
        .group_by(CustomerRow.segment_id)
    )
    return query, mean


class UpliftQueriesMixin(StoreBase):
    """Reading stored uplift: per customer, its segment means, and targets within bounds."""

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
        query, _ = _segment_means(campaign)
        with self._connection(session) as connection:
            return {int(segment): (float(mean), int(n)) for segment, mean, n in connection.execute(query)}


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
            query, mean = _segment_means(campaign)
            query = query.order_by(mean.desc(), CustomerRow.segment_id)
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
            campaign_row(s, campaign)
            rows = s.execute(query).all()
        if by == "segment":
            return [SegmentUplift(int(segment), float(mean), int(n)) for segment, mean, n in rows]
        return [CustomerUplift(c, float(u), segment) for c, u, segment in rows]
