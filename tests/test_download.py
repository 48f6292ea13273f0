"""Tests for adlens.download: the remembered sha256 (downloads themselves are tested through the registry)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from adlens.download import sha256_of


PAYLOAD = b"tiny model bytes \x00\x01\x02" * 100
CORRUPT = b"not the model"


def test_sha256_of(tmp_path: Path) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(PAYLOAD)
    assert sha256_of(path) == hashlib.sha256(PAYLOAD).hexdigest()
    path.write_bytes(CORRUPT)  # another size: the remembered hash must not be reused
    assert sha256_of(path) == hashlib.sha256(CORRUPT).hexdigest()
