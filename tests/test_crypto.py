"""Embeddings encrypted at rest: round trips, the key file, and every way a token cannot be read."""

from __future__ import annotations

import stat
from pathlib import Path

import numpy as np
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from adlens.crypto import KEY_FILE, EmbeddingCipher, key_path
from adlens.errors import StoreError
from adlens.settings import Settings


def settings(folder: Path, key: str = "") -> Settings:
    """Settings with their own data folder and ``gallery_key`` (empty: the key file)."""
    return Settings(data_dir=folder, gallery_key=SecretStr(key))


@pytest.mark.parametrize(
    "vector",
    [
        np.arange(128, dtype=np.float32) / 7,
        np.array([0.0, -1.5, 3.25], dtype=np.float64),  # any float dtype comes back as float32
        np.zeros(0, dtype=np.float32),
        np.linspace(-1, 1, 512, dtype=np.float32)[::2],  # not contiguous
    ],
)
def test_round_trip(tmp_path: Path, vector: np.ndarray) -> None:
    cipher = EmbeddingCipher(settings(tmp_path))
    token = cipher.encrypt(vector)
    plain = vector.astype(np.float32).tobytes()
    assert isinstance(token, bytes) and (not plain or plain not in token)
    back = cipher.decrypt(token)
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, vector.astype(np.float32))


def test_key_file_is_created_once_private_and_reused(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "data"
    config = settings(folder)
    assert key_path(config) == folder / KEY_FILE and not key_path(config).exists()
    token = EmbeddingCipher(config).encrypt(np.ones(4))
    key = key_path(config).read_bytes()
    assert stat.S_IMODE(key_path(config).stat().st_mode) == 0o600
    Fernet(key.strip())  # a valid Fernet key, written with a trailing newline
    assert key.endswith(b"\n")
    # A second cipher (another process) reads the same key instead of making its own.
    again = EmbeddingCipher(config)
    np.testing.assert_array_equal(again.decrypt(token), np.ones(4, np.float32))
    again.encrypt(np.ones(4))
    assert key_path(config).read_bytes() == key


def test_configured_key_is_used_and_no_file_written(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    token = EmbeddingCipher(settings(tmp_path, f"  {key}\n")).encrypt(np.full(3, 2.0))
    assert not (tmp_path / KEY_FILE).exists()
    np.testing.assert_array_equal(Fernet(key).decrypt(token), np.full(3, 2.0, "<f4").tobytes())
    np.testing.assert_array_equal(EmbeddingCipher(settings(tmp_path / "elsewhere", key)).decrypt(token),
                                  np.full(3, 2.0, np.float32))


def tampered(token: bytes) -> bytes:
    """``token`` with one byte of its ciphertext changed (still valid base64)."""
    raw = bytearray(token)
    middle = len(raw) // 2
    raw[middle] = ord("A") if raw[middle] != ord("A") else ord("B")
    return bytes(raw)


@pytest.mark.parametrize(
    ("reader_key", "change", "message"),
    [
        ("other", lambda t: t, "not the one it was stored with"),  # wrong key
        ("same", tampered, "not the one it was stored with"),  # the HMAC tag no longer fits
        ("same", lambda t: t[:-4], "not the one it was stored with"),  # truncated
        ("same", lambda t: b"not a token", "not the one it was stored with"),
        ("invalid", lambda t: t, "not a valid Fernet key"),
        ("none", lambda t: t, "no gallery key"),  # decrypting never creates a key
    ],
)
def test_unreadable_tokens(tmp_path: Path, reader_key: str, change, message: str) -> None:
    key = Fernet.generate_key().decode()
    token = EmbeddingCipher(settings(tmp_path, key)).encrypt(np.ones(8))
    keys = {"same": key, "other": Fernet.generate_key().decode(), "invalid": "not-a-fernet-key", "none": ""}
    reader = EmbeddingCipher(settings(tmp_path / "reader", keys[reader_key]))
    with pytest.raises(StoreError, match=message):
        reader.decrypt(change(token))
    if reader_key == "none":
        assert not (tmp_path / "reader" / KEY_FILE).exists()


def test_no_key_message_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=str(tmp_path / KEY_FILE).replace("\\", "\\\\")):
        EmbeddingCipher(settings(tmp_path)).decrypt(b"token")


def test_a_key_file_made_by_another_process_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two processes creating the key at once: the one that loses the O_EXCL race uses the winner's key."""
    config = settings(tmp_path)
    winner = Fernet.generate_key()
    real_exists = Path.exists
    calls: list[Path] = []

    def exists_then_race(path: Path) -> bool:
        if path == key_path(config) and not calls:
            calls.append(path)
            path.write_bytes(winner + b"\n")  # the other process writes between our check and our open
            return False
        return real_exists(path)

    monkeypatch.setattr(Path, "exists", exists_then_race)
    token = EmbeddingCipher(config).encrypt(np.ones(2))
    assert key_path(config).read_bytes() == winner + b"\n"
    np.testing.assert_array_equal(np.frombuffer(Fernet(winner).decrypt(token), "<f4"), [1.0, 1.0])


@pytest.mark.parametrize(("count", "dimensions", "shape"), [(0, 128, (0, 128)), (0, 4, (0, 4)), (3, 128, (3, 128))])
def test_decrypt_many(tmp_path: Path, count: int, dimensions: int, shape: tuple[int, int]) -> None:
    cipher = EmbeddingCipher(settings(tmp_path))
    vectors = np.random.default_rng(0).normal(size=(count, 128)).astype(np.float32)
    out = cipher.decrypt_many([cipher.encrypt(v) for v in vectors], dimensions)
    assert out.shape == shape and out.dtype == np.float32
    np.testing.assert_array_equal(out, vectors[:, : shape[1]])


def test_fingerprint_names_the_key_without_revealing_it(tmp_path) -> None:
    assert EmbeddingCipher(settings(tmp_path)).fingerprint() is None  # no key yet: none is created
    assert not key_path(settings(tmp_path)).exists()
    one, two = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    first = EmbeddingCipher(settings(tmp_path, one)).fingerprint()
    assert first == EmbeddingCipher(settings(tmp_path, one)).fingerprint() != EmbeddingCipher(
        settings(tmp_path, two)).fingerprint()
    assert first is not None and len(first) == 16 and first not in one
