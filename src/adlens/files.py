"""Writing files so that nothing is lost: a reader never sees half a file.

:func:`atomic_path` hands out a temporary path next to the destination and renames it
into place once the writer is done; on any error the temporary file is removed and the
destination is left as it was.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from adlens.errors import InvalidInputError


@contextmanager
def atomic_path(target: str | os.PathLike[str], what: str = "the file", mode: int = 0o644) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target`` (folders created).

    ``mode`` is applied before the rename (``mkstemp`` makes files private). An
    unwritable destination is an :class:`~adlens.errors.InvalidInputError` naming ``what``.
    """
    path = Path(target).expanduser()
    temporary: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(descriptor)
        yield Path(temporary)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
        temporary = None
    except OSError as error:
        raise InvalidInputError(f"cannot write {what} to {path}: {error.strerror or error}") from error
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)


def write_text_atomic(target: str | os.PathLike[str], text: str, what: str = "the file") -> Path:
    """Write ``text`` (UTF-8) to ``target`` through :func:`atomic_path`; returns the path."""
    with atomic_path(target, what) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return Path(target).expanduser()
