"""Files arriving in requests: images decoded off the event loop, imports' files saved to a folder.

An import's upload lives in its own folder under the data folder while the import
runs. A dry run's or a failed import's folder is deleted at once; after an import,
every uploaded file the store no longer names (rows skipped, photos replaced by a
re-import, model faces once embedded, the catalogue or inventory file itself) is.
"""

from __future__ import annotations

import re
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from starlette.datastructures import UploadFile
from starlette.concurrency import run_in_threadpool

from adlens.errors import AdlensError, InvalidImageError, InvalidInputError
from adlens.imagedecode import Decoded
from adlens.imageio import decode_image, display_name
from adlens.media import hide_paths, real_path
from adlens.times import utcnow

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
#: The file that marks an upload folder as in use by an import.
IN_USE = ".importing"
#: An upload still marked in use after this long belongs to an import that died: it is pruned.
ABANDONED_AFTER = timedelta(days=1)


async def read_image(upload: Any, max_pixels: int, max_side: int = 0) -> tuple[Decoded, str]:
    """The uploaded image decoded to BGR (EXIF-rotated, alpha over white…, reduced when its longer side is at
    least twice ``max_side``, with the picture's own size) and its file name, which errors name."""
    if not isinstance(upload, UploadFile):
        raise InvalidImageError("send the image as a file in the multipart field 'image'")
    data = await upload.read()
    name = display_name((upload.filename or "upload")[:200])
    if not data:
        raise InvalidImageError(f"{name} is empty (0 bytes)")
    image = await run_in_threadpool(decode_image, data, max_pixels=max_pixels, max_side=max_side, name=name)
    return image, name


def upload_folder(data_dir: Path, kind: str) -> Path:
    """A new folder under ``data_dir/kind`` for one upload's files, named by its time and marked in use.

    The mark keeps :func:`prune_uploads` away until :func:`finish_upload` or
    :func:`discard_upload`; a mark older than :data:`ABANDONED_AFTER` (a process that
    died mid-import) no longer does.
    """
    name = f"{utcnow():%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
    folder = data_dir.expanduser() / kind / name
    # Marked before it gets its name, so a prune never sees it unmarked.
    making = folder.with_name(f".{name}")
    making.mkdir(parents=True)
    (making / IN_USE).touch()
    making.rename(folder)
    return folder


def discard_upload(folder: Path) -> None:
    """Delete an upload's folder at once (a dry run, a failed import)."""
    shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def upload_guard(folder: Path, hidden: Sequence[Path]) -> Iterator[None]:
    """Around an upload's import: on failure delete ``folder``, and cut the server folders ``hidden`` out of
    an adlens error's message (a client learns file names, never where they are kept)."""
    try:
        yield
    except AdlensError as error:
        discard_upload(folder)
        error.message = hide_paths(error.message, hidden)
        error.args = (error.message,)
        raise
    except BaseException:
        discard_upload(folder)
        raise


def finish_upload(folder: Path, referenced: Callable[[], Iterable[str]]) -> int:
    """Unmark a finished upload and prune its kind's folders (:func:`prune_uploads`); files deleted."""
    (folder / IN_USE).unlink(missing_ok=True)
    return prune_uploads(folder.parent, referenced)


def prune_uploads(kind_folder: Path, referenced: Callable[[], Iterable[str]]) -> int:
    """Delete every uploaded file under ``kind_folder`` that the store no longer names; returns how many.

    ``referenced()`` gives the stored paths. Folders in use by an import are left alone;
    they are listed before the store is read, so an import that finishes meanwhile has
    its paths in what is read. Emptied folders go too.
    """
    if not kind_folder.is_dir():
        return 0
    candidates = [f for f in sorted(kind_folder.iterdir())
                  if f.is_dir() and not f.name.startswith(".") and not _in_use(f)]
    keep = {str(real) for real in map(real_path, referenced()) if real is not None}
    deleted = 0
    for folder in candidates:
        for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
            if path.is_dir() and not path.is_symlink():
                _remove_if_empty(path)
            elif path.is_symlink() or str(real_path(path)) not in keep:
                try:
                    path.unlink(missing_ok=True)
                    deleted += 1
                except OSError:
                    pass  # left for the next prune: the import itself went well
        _remove_if_empty(folder)
    return deleted


def _in_use(folder: Path) -> bool:
    try:
        marked = (folder / IN_USE).stat().st_mtime
    except OSError:
        return False
    return time.time() - marked < ABANDONED_AFTER.total_seconds()


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass  # not empty: it holds files still in use


def safe_name(name: str | None, fallback: str) -> str:
    """A file name safe to write inside a folder: the last path part, odd characters replaced."""
    base = Path((name or "").replace("\\", "/")).name
    cleaned = _UNSAFE.sub("_", base).strip("._")
    return cleaned[:120] or fallback


async def save_uploads(uploads: list[Any], folder: Path) -> dict[str, Path]:
    """Write each uploaded file into ``folder`` under its safe name; returns name → path."""
    folder.mkdir(parents=True, exist_ok=True)
    saved: dict[str, Path] = {}
    for i, upload in enumerate(uploads):
        if not isinstance(upload, UploadFile):
            raise InvalidInputError("files must be sent as multipart file fields")
        name = safe_name(upload.filename, f"file-{i}")
        if name in saved:
            raise InvalidInputError(f"two files are named {name!r}")
        path = folder / name
        path.write_bytes(await upload.read())
        saved[name] = path
    return saved
