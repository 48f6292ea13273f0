"""Files arriving in requests: images decoded off the event loop, other files saved to a folder."""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

import numpy as np
from starlette.datastructures import UploadFile
from starlette.concurrency import run_in_threadpool

from adlens.errors import InvalidImageError, InvalidInputError
from adlens.imageio import display_name, load_image
from adlens.store.models import utcnow

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


async def read_image(upload: Any, max_pixels: int, max_side: int = 0) -> tuple[np.ndarray, str]:
    """The uploaded image decoded to BGR (EXIF-rotated, alpha over white…, reduced when its longer side is at
    least twice ``max_side``) and its file name, which errors name."""
    if not isinstance(upload, UploadFile):
        raise InvalidImageError("send the image as a file in the multipart field 'image'")
    data = await upload.read()
    name = display_name((upload.filename or "upload")[:200])
    if not data:
        raise InvalidImageError(f"{name} is empty (0 bytes)")
    image = await run_in_threadpool(load_image, data, max_pixels=max_pixels, max_side=max_side, name=name)
    return image, name


def upload_folder(data_dir: Path, kind: str) -> Path:
    """A new folder under ``data_dir/kind`` for one upload's files, named by its time (they stay: screens and
    the catalogue show them)."""
    return data_dir / kind / f"{utcnow():%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


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
