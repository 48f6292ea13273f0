"""API keys: made once and shown once, stored hashed, checked on every request.

A key reads ``adl_<id>_<secret>``: the id names it in lists and logs, the secret is
32 random bytes. The store keeps only the SHA-256 of the whole key; a key carries
enough entropy that a plain hash (rather than a slow password hash) is safe, and it
keeps the check cheap enough for every request. This module imports no web framework,
so ``adlens keys`` stays light.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from typing import Protocol

from adlens.errors import AuthenticationError
from adlens.store.keys import ROLES, ApiKey


class KeyStore(Protocol):
    """Where key hashes live: the store's API-key table."""

    def add_api_key(self, key_id: str, secret_sha256: str, role: str, name: str = "") -> ApiKey: ...

    def api_key_by_hash(self, secret_sha256: str) -> ApiKey | None: ...

    def generation(self, topic: str) -> int: ...

PREFIX = "adl"
#: Seconds a checked key is trusted before the store is asked again. A revocation committed through
#: the same store object, or announced on a fleet's bus (``docs/fleet.md``), empties the cache at once;
#: one made elsewhere reaches a worker within this time.
CACHE_SECONDS = 5.0


def hash_key(key: str) -> str:
    """The SHA-256 (hex) under which ``key`` is stored."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(store: KeyStore, role: str, name: str = "") -> str:
    """Make a key for ``role``, store its hash, and return the key itself (the only time it exists)."""
    key_id = secrets.token_hex(6)
    key = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    store.add_api_key(key_id, hash_key(key), role, name)
    return key


class KeyChecker:
    """Checks presented keys against the store, remembering answers for :data:`CACHE_SECONDS`."""

    def __init__(self, store: KeyStore, cache_seconds: float = CACHE_SECONDS) -> None:
        self.store = store
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, ApiKey | None]] = {}
        self._lock = threading.Lock()
        self._generation = store.generation("keys")

    def _current(self) -> None:
        """Forget every cached answer once a key was revoked since they were cached (the store's ``keys``
        generation moved: a revocation through this store, or one a fleet's bus announced)."""
        generation = self.store.generation("keys")
        if generation != self._generation:
            with self._lock:
                self._cache.clear()
                self._generation = generation

    def remembered(self, key: str | None) -> bool:
        """True when checking ``key`` now reads nothing from the store (its answer is cached and fresh, or
        there is no key): :meth:`check` then costs no I/O."""
        if not key:
            return True
        self._current()
        cached = self._cache.get(hash_key(key))
        # A margin, so the answer is still fresh when check() runs a moment later.
        return cached is not None and time.monotonic() - cached[0] < self.cache_seconds - 0.5

    def check(self, key: str | None) -> ApiKey:
        """The active key ``key`` names; :class:`~adlens.errors.AuthenticationError` otherwise."""
        if not key:
            raise AuthenticationError("an API key is required: send 'Authorization: Bearer KEY' "
                                      "(create one with: adlens keys create ROLE)")
        digest = hash_key(key)
        now = time.monotonic()
        self._current()
        with self._lock:
            cached = self._cache.get(digest)
        if cached is None or now - cached[0] > self.cache_seconds:
            found = self.store.api_key_by_hash(digest)
            with self._lock:
                if len(self._cache) > 10_000:  # bounded: random bad keys must not grow it forever
                    self._cache.clear()
                self._cache[digest] = (now, found)
        else:
            found = cached[1]
        if found is None or not found.active:
            raise AuthenticationError("invalid or revoked API key")
        return found


__all__ = ["ROLES", "ApiKey", "KeyChecker", "create_key", "hash_key"]
