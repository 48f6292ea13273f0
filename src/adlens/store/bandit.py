"""The bandit part of the store: each ad's LinUCB statistics, updated atomically.

A reward can arrive in any process (an API worker, ``adlens reward``), so an arm is
never cached and written back later: :meth:`BanditMixin.update_arm` reads, updates and
writes one row inside one transaction with the row locked. The row is first created
if missing (``INSERT … ON CONFLICT DO NOTHING``), which on SQLite also takes the
database's write lock before anything is read, so concurrent writers queue instead
of one of them losing its update. Readers may cache arms briefly (a decision does, for
a second): a committed update moves the store's ``"arms"``
:meth:`~adlens.store.base.StoreBase.generation`, so caches in the same process see it at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from adlens.ads.arms import ArmStats
from adlens.errors import InvalidInputError, NotFoundError, StoreError
from adlens.store.base import StoreBase, check_id, chunks
from adlens.store.models import BanditArmRow
from adlens.times import utcnow

#: The dialects whose INSERT has ON CONFLICT DO NOTHING.
_INSERTS: dict[str, Callable[[type[BanditArmRow]], postgresql.Insert | sqlite.Insert]] = {
    "postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _stats(row: BanditArmRow, dims: int, ridge: float) -> ArmStats:
    """The row's statistics, or a fresh prior when it was learnt on another feature set."""
    if row.dims != dims:
        return ArmStats.prior(dims, ridge)
    try:
        return ArmStats.from_bytes(dims, row.a_matrix, row.b_vector, row.pulls or 0, row.reward_sum or 0.0)
    except ValueError as error:
        raise StoreError(f"the bandit arm of ad {row.ad_id!r} is corrupt: {error}") from error


def _check_dims(dims: int) -> int:
    if isinstance(dims, bool) or not isinstance(dims, (int, np.integer)) or dims < 1:
        raise InvalidInputError(f"an arm needs a positive number of dimensions, not {dims!r}")
    return int(dims)


class BanditMixin(StoreBase):
    """Per-ad arm statistics of the LinUCB bandit (:mod:`adlens.ads.bandit`)."""

    def arm_stats(
        self, ad_ids: Iterable[str], dims: int, ridge: float = 1.0, session: Session | None = None
    ) -> dict[str, ArmStats]:
        """The statistics of each of ``ad_ids``; an arm never pulled, or stored with another number of
        dimensions than ``dims`` (the feature set changed), is a fresh prior (``ridge·I``, 0)."""
        dims = _check_dims(dims)
        ids = list(dict.fromkeys(check_id(ad_id, "ad") for ad_id in ad_ids))
        found: dict[str, ArmStats] = {}
        with self._session(session) as s:
            for part in chunks(ids):
                for row in s.scalars(select(BanditArmRow).where(BanditArmRow.ad_id.in_(part))):
                    found[row.ad_id] = _stats(row, dims, ridge)
        return {ad_id: found.get(ad_id) or ArmStats.prior(dims, ridge) for ad_id in ids}

    def update_arm(
        self, ad_id: str, x: Any, reward: float, dims: int | None = None, ridge: float = 1.0,
        session: Session | None = None,
    ) -> ArmStats:
        """Add one (context ``x``, ``reward`` in [0, 1]) to the arm of ``ad_id`` and return its new statistics.

        Read, update and write happen in one transaction with the row locked, so
        concurrent rewards all count; an arm stored with another number of dimensions
        restarts from the prior. :class:`~adlens.errors.NotFoundError` when the ad does not exist.
        """
        check_id(ad_id, "ad")
        vector = np.asarray(x, dtype=np.float64).reshape(-1)
        dims = _check_dims(len(vector) if dims is None else dims)
        if vector.shape != (dims,) or not np.all(np.isfinite(vector)):
            raise InvalidInputError(f"the context must be {dims} finite numbers, got shape {vector.shape}")
        try:
            value = float(reward)
        except (TypeError, ValueError):
            raise InvalidInputError(f"a reward must be a number in [0, 1], not {reward!r}") from None
        if not 0.0 <= value <= 1.0:
            raise InvalidInputError(f"a reward must be a number in [0, 1], not {reward!r}")

        with self._session(session) as s:
            row = self._locked_arm(s, ad_id, dims, ridge)
            stats = _stats(row, dims, ridge)
            stats.update(vector[None, :], np.array([value]))
            row.dims = dims
            row.a_matrix, row.b_vector = stats.to_bytes()
            row.pulls, row.reward_sum, row.updated_at = stats.pulls, stats.reward_sum, utcnow()
            s.flush()
            self._changes(s, "arms")
        return stats

    def _locked_arm(self, s: Session, ad_id: str, dims: int, ridge: float) -> BanditArmRow:
        """The arm's row, created as a prior when missing, locked until the transaction ends."""
        self._lock_for_write(s)
        prior = ArmStats.prior(dims, ridge)
        a_bytes, b_bytes = prior.to_bytes()
        values = {"ad_id": ad_id, "dims": dims, "a_matrix": a_bytes, "b_vector": b_bytes, "pulls": 0,
                  "reward_sum": 0.0, "updated_at": utcnow()}
        insert = _INSERTS.get(s.get_bind().dialect.name)
        try:
            if insert is not None:
                s.execute(insert(BanditArmRow).values(**values).on_conflict_do_nothing(index_elements=["ad_id"]))
            elif s.get(BanditArmRow, ad_id) is None:  # other backends: no upsert, a plain insert if absent
                s.add(BanditArmRow(**values))
                s.flush()
        except IntegrityError as error:  # the primary key cannot clash here: only the ad's foreign key can fail
            raise NotFoundError(f"unknown ad {ad_id!r}") from error
        query = (select(BanditArmRow).where(BanditArmRow.ad_id == ad_id).with_for_update()
                 .execution_options(populate_existing=True))
        return s.scalars(query).one()
