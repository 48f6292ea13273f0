"""Face embeddings encrypted at rest (Fernet: AES-128-CBC with an HMAC-SHA256 tag).

The key is ``ADLENS_GALLERY_KEY`` when set (share it between every process that uses
one PostgreSQL store); otherwise ``<data_dir>/gallery.key``, created with mode 0600
the first time something is encrypted. Without the key nothing stored can be read
back, which is the point: a copy of the database alone reveals no face.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
from cryptography.fernet import Fernet, InvalidToken

from adlens.errors import StoreError
from adlens.settings import Settings, get_settings

KEY_FILE = "gallery.key"


def key_path(settings: Settings) -> Path:
    """Where the key lives when ``ADLENS_GALLERY_KEY`` is not set."""
    return settings.data_dir.expanduser() / KEY_FILE


def _read_or_create_key(settings: Settings, create: bool) -> bytes | None:
    configured = settings.gallery_key.get_secret_value().strip()
    if configured:
        return configured.encode("ascii")
    path = key_path(settings)
    if path.exists():
        return path.read_bytes().strip()
    if not create:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    try:
        # O_EXCL: two processes creating the key at once must not end with two keys.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key + b"\n")
    return key


class EmbeddingCipher:
    """Encrypts float32 embeddings to opaque tokens and back."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self._fernet: Fernet | None = None

    def _get(self, create: bool) -> Fernet:
        if self._fernet is None:
            key = _read_or_create_key(self.settings, create)
            if key is None:
                raise StoreError(
                    f"no gallery key: set ADLENS_GALLERY_KEY or restore {key_path(self.settings)}; "
                    "without it stored face embeddings cannot be read"
                )
            try:
                self._fernet = Fernet(key)
            except ValueError as error:
                raise StoreError(f"the gallery key is not a valid Fernet key: {error}") from None
        return self._fernet

    def fingerprint(self) -> str | None:
        """A short digest of the key (never the key), ``None`` while there is none: names files made with it."""
        key = _read_or_create_key(self.settings, create=False)
        return None if key is None else hashlib.sha256(b"adlens-gallery-key:" + key).hexdigest()[:16]

    def encrypt(self, vector: np.ndarray) -> bytes:
        """An encrypted token for one embedding (float32, any length)."""
        data = np.ascontiguousarray(vector, dtype="<f4").tobytes()
        return self._get(create=True).encrypt(data)

    def decrypt(self, token: bytes) -> np.ndarray:
        """The float32 embedding in ``token``; :class:`StoreError` when the key does not fit."""
        try:
            data = self._get(create=False).decrypt(bytes(token))
        except InvalidToken:
            raise StoreError(
                "cannot decrypt a stored face embedding: the gallery key is not the one it was stored with"
            ) from None
        return np.frombuffer(data, dtype="<f4").astype(np.float32)

    def decrypt_many(self, tokens: list[bytes], dimensions: int = 128) -> np.ndarray:
        """``(n, dimensions)`` embeddings from ``n`` tokens."""
        if not tokens:
            return np.zeros((0, dimensions), dtype=np.float32)
        return np.stack([self.decrypt(t) for t in tokens])
