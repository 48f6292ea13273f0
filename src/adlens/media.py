"""Which files on the server an import may name, and which the server may send back.

A local import (the CLI, the library, the demo) is the operator's own act on their own
machine: its photos may be anywhere, and their folders are recorded in the store so the
server can show them. An import uploaded through the API may name only the files sent
with it, or files under ``ADLENS_MEDIA_ROOTS``; anything else is refused with the same
answer whether or not it exists. The server sends a product photo or a creative only
from the data folder's uploads, ``ADLENS_MEDIA_ROOTS`` or a recorded folder. Symlinks
are resolved before every check, so a link cannot lead outside.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

from adlens.settings import Settings

#: Sub-folders of the data folder that hold what imports uploaded through the API.
UPLOAD_KINDS = ("catalog", "ads")


def real_path(path: str | Path) -> Path | None:
    """``path`` absolute with symlinks resolved, or ``None`` when it cannot be (a loop, a NUL byte)."""
    try:
        return Path(path).expanduser().resolve()
    except (OSError, RuntimeError, ValueError):
        return None


def inside(path: Path, roots: Iterable[Path]) -> bool:
    """Whether the real ``path`` is one of ``roots`` or lies under one (roots resolved too)."""
    real = real_path(path)
    if real is None:
        return False
    for root in roots:
        base = real_path(root)
        if base is not None and real.is_relative_to(base):
            return True
    return False


def confined(value: str, base: Path, roots: Sequence[Path]) -> Path | None:
    """The file ``value`` names (relative to ``base``), resolved, when it is a file under ``roots``; else ``None``.

    ``~`` is not expanded (it would be the server's home). Nothing outside ``roots``
    is looked at, so a refusal tells nothing about the server's files.
    """
    path = Path(value)
    real = real_path(path if path.is_absolute() else base / path)
    if real is None or not inside(real, roots):
        return None
    return real if real.is_file() else None


def not_uploaded(value: str) -> str:
    """Why an upload may not name ``value`` (shown as given, cut to 200 characters): the same words whether
    or not such a file exists on the server."""
    shown = value if len(value) <= 200 else value[:199] + "…"
    return f"{shown!r} is not one of the uploaded files"


def upload_roots(settings: Settings) -> list[Path]:
    """The data folder's upload folders and ``ADLENS_MEDIA_ROOTS``: what the server may always serve."""
    data = settings.data_dir.expanduser()
    return [data / kind for kind in UPLOAD_KINDS] + settings.media_root_dirs


class MediaFolders(Protocol):
    """Where the folders of local imports are recorded (the store)."""

    def media_folders(self) -> set[str]: ...


def served_file(path: str | None, settings: Settings, store: MediaFolders) -> Path | None:
    """The file at ``path`` if the server may send it, else ``None`` (missing or not allowed: the same answer).

    Allowed: a file under :func:`upload_roots`, or directly in a folder a local import
    recorded (:meth:`~adlens.store.Store.media_folders`).
    """
    real = real_path(path) if path else None
    if real is None or not real.is_file():
        return None
    if inside(real, upload_roots(settings)) or str(real.parent) in store.media_folders():
        return real
    return None


def hide_paths(data: Any, prefixes: Iterable[Path]) -> Any:
    """``data`` (JSON-like) with the server folders ``prefixes`` cut out of every string, leaving file names.

    A folder named alone becomes "the uploaded files".
    """
    folders = sorted({str(p) for prefix in prefixes for p in (prefix, real_path(prefix)) if p is not None},
                     key=len, reverse=True)

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            for folder in folders:
                value = value.replace(f"{folder}/", "").replace(folder, "the uploaded files")
            return value
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return walk(data)
