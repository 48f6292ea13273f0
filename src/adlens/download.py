"""Fetching and verifying model files: a streamed download, its sha256, one retry.

A file lands in place only whole (:func:`~adlens.files.atomic_path`) and is kept
only when its sha256 is the catalogue's (:mod:`adlens.modelspecs`).
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
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
    """The verified download of ``spec`` in the cache, or ``None`` and why not (two tries)."""
    target = settings.model_cache_dir / spec.filename
    last_error = ""
    for _attempt in range(2):
        if target.exists():  # a corrupt copy: remove it, then fetch again once
            target.unlink()
        try:
            fetch(spec.url, target, settings.download_timeout, spec.size_bytes)
        except (OSError, InvalidInputError) as error:  # URLError and timeouts are OSErrors
            # atomic_path wraps an OSError met while writing: name the cause, as the network error it was.
            last_error = f"download failed: {error.__cause__ or error}"
            continue
        if sha256_of(target) == spec.sha256:
            return target, ""
        last_error = f"downloaded file has sha256 {sha256_of(target)}, expected {spec.sha256}"
    if target.exists():
        target.unlink()
    return None, last_error


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
