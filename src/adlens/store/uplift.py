"""The uplift part of the store: each customer's predicted uplift, under named campaigns.

An uplift model scores customers (``adlens uplift score … --save CAMPAIGN``); the scores
are kept per campaign so that offers can target customers, or taste segments, whose
predicted uplift lies within bounds (the queries are in :mod:`adlens.store.uplift_queries`). Saving replaces a campaign's scores as a whole, in
one transaction, and registers customers the store does not know yet. A campaign row
keeps its figures (how many customers, their mean uplift, how many above 0), which
erasing a customer adjusts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from adlens.errors import InvalidInputError, NotFoundError
from adlens.store.base import StoreBase, changed_rows, check_id
from adlens.store.bulk import insert_customers, insert_scores
from adlens.store.models import UpliftCampaignRow, UpliftScoreRow
from adlens.times import utcnow

#: Rows per INSERT (an executemany): large enough to be fast, small enough for steady progress.
BATCH = 10_000
#: How many offending ids or rows an error message names.
SHOWN = 5


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


def campaign_row(session: Session, name: str) -> UpliftCampaignRow:
    """The row of campaign ``name``; :class:`~adlens.errors.NotFoundError` if it has no stored scores."""
    row = session.get(UpliftCampaignRow, name)
    if row is None:
        raise NotFoundError(f"unknown uplift campaign {name!r}")
    return row


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


class UpliftMixin(StoreBase):
    """Predicted uplift per customer under named campaigns: saving, listing and removing campaigns."""

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
                insert_customers(connection, part)
                insert_scores(connection, campaign, part, values[start : start + BATCH].tolist())
                done += len(part)
                if progress is not None:
                    progress(done)
            self._changes(s, "uplift")
        return done

    def list_uplift_campaigns(self) -> list[UpliftCampaign]:
        """Every campaign with stored scores, by name."""
        with self.transaction() as s:
            rows = s.scalars(select(UpliftCampaignRow).order_by(UpliftCampaignRow.name))
            return [_to_campaign(r) for r in rows]

    def get_uplift_campaign(self, name: str, session: Session | None = None) -> UpliftCampaign:
        """The campaign ``name``; :class:`~adlens.errors.NotFoundError` if it has no stored scores."""
        with self._session(session) as s:
            return _to_campaign(campaign_row(s, name))

    def remove_uplift_campaign(self, name: str, session: Session | None = None) -> int:
        """Delete campaign ``name`` and its scores; returns how many scores went.

        :class:`~adlens.errors.NotFoundError` when there is no such campaign.
        """
        with self._session(session) as s:
            campaign_row(s, name)
            removed = changed_rows(s, delete(UpliftScoreRow).where(UpliftScoreRow.campaign == name))
            s.execute(delete(UpliftCampaignRow).where(UpliftCampaignRow.name == name))
            self._changes(s, "uplift")
            return removed
