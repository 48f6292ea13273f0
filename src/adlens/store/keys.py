"""The API-key part of the store: who may call the HTTP API, and in which role.

Only the SHA-256 of each key is stored (:mod:`adlens.api.keys` makes and checks
keys); a revoked key stays listed, with the time it was revoked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from adlens.errors import InvalidInputError, NotFoundError
from adlens.store.base import StoreBase
from adlens.store.models import ApiKeyRow
from adlens.store.roles import ROLES
from adlens.times import utcnow

@dataclass(frozen=True)
class ApiKey:
    """A stored key, without its secret."""

    id: str
    role: str
    name: str
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _to_key(row: ApiKeyRow) -> ApiKey:
    return ApiKey(row.id, row.role, row.name, row.created_at, row.revoked_at)


class KeysMixin(StoreBase):
    """Adding, finding, listing and revoking API keys."""

    def add_api_key(self, key_id: str, secret_sha256: str, role: str, name: str = "",
                    session: Session | None = None) -> ApiKey:
        """Store a new key's hash; :class:`~adlens.errors.InvalidInputError` for an unknown role."""
        if role not in ROLES:
            raise InvalidInputError(f"unknown role {role!r}: choose one of {', '.join(ROLES)}")
        if len(name) > 128:
            raise InvalidInputError("a key name is at most 128 characters")
        row = ApiKeyRow(id=key_id, secret_sha256=secret_sha256, role=role, name=name, created_at=utcnow())
        with self._session(session) as s:
            s.add(row)
            s.flush()
            return _to_key(row)

    def api_key_by_hash(self, secret_sha256: str, session: Session | None = None) -> ApiKey | None:
        """The key whose secret hashes to ``secret_sha256`` (revoked or not), or ``None``."""
        with self._session(session) as s:
            row = s.scalars(select(ApiKeyRow).where(ApiKeyRow.secret_sha256 == secret_sha256)).one_or_none()
            return None if row is None else _to_key(row)

    def list_api_keys(self, session: Session | None = None) -> list[ApiKey]:
        """Every key, oldest first."""
        with self._session(session) as s:
            return [_to_key(r) for r in s.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at, ApiKeyRow.id))]

    def revoke_api_key(self, key_id: str, session: Session | None = None) -> ApiKey:
        """Revoke a key (it stays listed); :class:`~adlens.errors.NotFoundError` when unknown."""
        with self._session(session) as s:
            row = s.get(ApiKeyRow, key_id)
            if row is None:
                raise NotFoundError(f"unknown API key id: {key_id!r} (adlens keys list shows them)")
            if row.revoked_at is None:
                row.revoked_at = utcnow()
                self._changes(s, "keys")  # key checkers forget their cached answers (a fleet's at once too)
            return _to_key(row)
