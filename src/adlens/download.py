"""Fetching and verifying model files: a streamed download, its sha256, one retry.

A file lands in place only whole (:func:`~adlens.files.atomic_path`) and is kept
only when its sha256 is the catalogue's (:mod:`adlens.modelspecs`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import urllib.request
import zipfile
from pathlib import Path

from adlens.errors import InvalidInputError
from adlens.files import atomic_path
from adlens.modelspecs import ModelSpec
from adlens.settings import Settings

_HASHES: dict[tuple[str, int, int], str] = {}


def sha256_of(path: Path) -> str:
    """The file's sha256, remembered per (path, size, mtime) for this process."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _HASHES:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        _HASHES[key] = digest.hexdigest()
    return _HASHES[key]


def download_verified(spec: ModelSpec, settings: Settings) -> tuple[Path | None, str]:
    """The verified download of ``spec`` in the cache, or ``None`` and why not (two tries).

    A spec with a :attr:`~adlens.modelspecs.ModelSpec.member` is fetched as its archive (kept in the
    cache, verified by its own sha256, so a second member is not fetched again) and the member extracted.
    """
    target = settings.model_cache_dir / spec.filename
    if not spec.member:
        return _fetch_verified(spec.url, target, spec.sha256, spec.size_bytes, settings)
    archive = settings.model_cache_dir / spec.url.rsplit("/", 1)[-1]
    if not (archive.is_file() and sha256_of(archive) == spec.archive_sha256):
        fetched, why = _fetch_verified(spec.url, archive, spec.archive_sha256, 0, settings)
        if fetched is None:
            return None, why
    try:
        extract_member(archive, spec.member, target)
    except InvalidInputError as error:
        return None, error.message
    if sha256_of(target) == spec.sha256:
        return target, ""
    digest = sha256_of(target)
    target.unlink()
    return None, f"{spec.member} in {archive.name} has sha256 {digest}, expected {spec.sha256}"


def _fetch_verified(url: str, target: Path, sha256: str, size: int, settings: Settings) -> tuple[Path | None, str]:
    """``url`` fetched into ``target`` and kept only if its sha256 is ``sha256`` (two tries)."""
    last_error = ""
    for _attempt in range(2):
        if target.exists():  # a corrupt copy: remove it, then fetch again once
            target.unlink()
        try:
            fetch(url, target, settings.download_timeout, size)
        except (OSError, InvalidInputError) as error:  # URLError and timeouts are OSErrors
            # atomic_path wraps an OSError met while writing: name the cause, as the network error it was.
            last_error = f"download failed: {error.__cause__ or error}"
            continue
        if sha256_of(target) == sha256:
            return target, ""
        last_error = f"downloaded file has sha256 {sha256_of(target)}, expected {sha256}"
    if target.exists():
        target.unlink()
    return None, last_error


def extract_member(archive: Path, member: str, target: Path) -> None:
    """Member ``member`` of the zip ``archive`` written to ``target``, which appears only once complete.

    Raises:
        InvalidInputError: ``archive`` is not a zip or has no ``member``.
    """
    try:
        with zipfile.ZipFile(archive) as bundle, bundle.open(member) as source:
            with atomic_path(target, "the extracted model") as partial, partial.open("wb") as out:
                shutil.copyfileobj(source, out, 1 << 20)
                out.flush()
                os.fsync(out.fileno())
    except (zipfile.BadZipFile, KeyError) as error:
        raise InvalidInputError(f"{archive.name} has no member {member} ({error})") from None


def fetch(url: str, target: Path, timeout: float, expected_size: int) -> None:
    """Stream ``url`` into ``target`` with a Rich progress bar; ``target`` appears only once complete.

    A network or disk error comes as the :class:`~adlens.errors.InvalidInputError` of
    :func:`~adlens.files.atomic_path`, the ``OSError`` as its cause.
    """
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    with atomic_path(target, "the downloaded model") as partial, partial.open("wb") as out:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or expected_size or 0)
            columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
            with Progress(*columns, transient=True) as progress:
                task = progress.add_task(f"downloading {target.name}", total=total or None)
                for block in iter(lambda: response.read(1 << 16), b""):
                    out.write(block)
                    progress.advance(task, len(block))
        out.flush()
        os.fsync(out.fileno())  # the rename must not outlive the bytes after a crash
