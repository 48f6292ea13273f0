"""The one place where user input becomes pixels.

:func:`load_image` accepts a path, encoded bytes, a Pillow image or a numpy
array and returns a contiguous ``uint8`` BGR array (OpenCV's convention);
:func:`decode_image` returns the same pixels with the size of the picture they
show, which differs when a large image was decoded at a reduced scale.
Every failure a user can cause becomes :class:`~adlens.errors.InvalidImageError`
(or :class:`~adlens.errors.ImageTooLargeError`) with a readable reason.
:func:`iter_image_files` expands files and folders into image files.
Decoding itself is fenced in :mod:`adlens.imagedecode`, pixel conversion in :mod:`adlens.pixels`.

Importing this module changes nothing global: Pillow's limits and truncation
flag are left alone and no warning filter is touched.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, Union

import cv2
import numpy as np
from PIL import Image

from adlens.errors import ImageTooLargeError, InvalidImageError, InvalidInputError
from adlens.imagecheck import check_header
from adlens.imagedecode import Decoded, decode, open_image
from adlens.pixels import from_array, image_error
from adlens.settings import get_settings

__all__ = [
    "IMAGE_EXTENSIONS", "ImageSource", "decode_image", "display_name", "iter_image_files", "load_image", "save_image",
]

IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm"}
)

ImageSource = Union[str, os.PathLike, bytes, bytearray, memoryview, np.ndarray, Image.Image]


def load_image(
    source: ImageSource,
    *,
    max_pixels: int | None = None,
    max_side: int | None = None,
    name: str | None = None,
    rgb_array: bool = False,
) -> np.ndarray:
    """Return a contiguous uint8 BGR array (H, W, 3), OpenCV's convention: :func:`decode_image`'s pixels."""
    return decode_image(source, max_pixels=max_pixels, max_side=max_side, name=name, rgb_array=rgb_array).pixels


def decode_image(
    source: ImageSource,
    *,
    max_pixels: int | None = None,
    max_side: int | None = None,
    name: str | None = None,
    rgb_array: bool = False,
) -> Decoded:
    """Decode ``source`` to a contiguous uint8 BGR array (H, W, 3) with the size of the picture.

    ``source`` is a file path, encoded image bytes, a Pillow image or a numpy
    array. Arrays are read as BGR/BGRA unless ``rgb_array`` is true. Images
    with more than ``max_pixels`` pixels (default ``ADLENS_MAX_PIXELS``) are
    refused before their pixel data is decoded. With ``max_side``, an image
    whose longer side is at least twice that is decoded at 1/2, 1/3… of its
    size (a JPEG at 1/2, 1/4 or 1/8 while decoding), never below ``max_side``.
    ``name`` names the image in error messages (default: the path, or "image
    data"). EXIF orientation is applied, alpha is composited over white and
    the first frame of animations is used. Every failure is an
    :class:`~adlens.errors.InvalidImageError` in adlens's words.
    """
    limit = get_settings().max_pixels if max_pixels is None else int(max_pixels)
    side = int(max_side or 0)
    label = display_name(name) if name else None
    if isinstance(source, np.ndarray):
        pixels = from_array(source, limit, rgb_array, label or "array")
        return Decoded(pixels, pixels.shape[1], pixels.shape[0])
    if isinstance(source, Image.Image):
        with _decode_slot():
            return decode(source, label or "PIL image", limit, side, own=False)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        label = label or "image data"
        if not data:
            raise image_error(label, "image data is empty (0 bytes)")
        return _open_and_decode(io.BytesIO(data), label, limit, side)
    if isinstance(source, (str, os.PathLike)):
        return _load_path(Path(source), label or display_name(source), limit, side)
    raise InvalidImageError(f"cannot read an image from a {type(source).__name__}")


def display_name(path: str | os.PathLike[str]) -> str:
    """``path`` as printable text: bytes that are not UTF-8 and control characters become ``\\xNN``."""
    text = os.fspath(path)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() or c == " " else f"\\x{ord(c):02x}" for c in text)


def _load_path(path: Path, label: str, limit: int, side: int) -> Decoded:
    """Check that ``path`` is a non-empty readable file, then decode it."""
    try:
        if path.is_dir():
            raise image_error(label, "is a directory, not an image file")
        if path.is_symlink() and not path.exists():
            raise image_error(label, "broken symbolic link (its target does not exist)")
        if path.stat().st_size == 0:
            raise image_error(label, "file is empty (0 bytes)")
        with path.open("rb") as fh:
            return _open_and_decode(fh, label, limit, side)
    except FileNotFoundError:
        raise image_error(label, "no such file") from None
    except (OSError, ValueError) as exc:  # permission denied, not a directory, NUL in name…
        reason = getattr(exc, "strerror", None) or str(exc)
        raise image_error(label, f"cannot read file ({reason})") from None


@lru_cache(maxsize=8)
def _slots(count: int) -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(count)


@contextmanager
def _decode_slot() -> Iterator[None]:
    """At most ``ADLENS_DECODE_SLOTS`` decodes at once in this process: each may take hundreds of MB."""
    with _slots(get_settings().decode_slots):
        yield


def _open_and_decode(fh: BinaryIO, label: str, limit: int, side: int) -> Decoded:
    """Check the header, open the data lazily with an allowed decoder, and decode it."""
    problem = check_header(fh, limit)
    if problem is not None:
        reason, too_large = problem
        raise image_error(label, reason, ImageTooLargeError if too_large else InvalidImageError)
    with _decode_slot():
        im = open_image(fh, label)
        with im:
            return decode(im, label, limit, side)


def iter_image_files(paths: Iterable[str | os.PathLike] | str | os.PathLike) -> Iterator[Path]:
    """Expand files and folders (recursively) into image files, in a stable order.

    Folders are walked depth-first with entries sorted by name; files are kept
    when their extension is in :data:`IMAGE_EXTENSIONS` (case-insensitive) and
    names starting with ``.`` are skipped; a broken symbolic link with an image
    extension is yielded (loading it says why it cannot be read). A file named
    explicitly is yielded whatever its extension. Every path is checked before anything is yielded:
    a missing one raises :class:`~adlens.errors.InvalidInputError`.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    roots = [Path(p) for p in paths]
    for root in roots:
        if not root.exists():
            raise InvalidInputError(f"{root}: no such file or folder")
    return _walk_all(roots)


def _walk_all(roots: list[Path]) -> Iterator[Path]:
    for root in roots:
        if root.is_dir():
            yield from _walk_dir(root, set())
        else:
            yield root


def _walk_dir(folder: Path, seen: set[Path]) -> Iterator[Path]:
    """Yield image files under ``folder``; ``seen`` guards against symlink loops."""
    real = folder.resolve()
    if real in seen:
        return
    seen.add(real)
    try:
        entries = sorted(folder.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        raise InvalidInputError(f"{folder}: cannot list folder ({exc.strerror or exc})") from None
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            yield from _walk_dir(entry, seen)
        elif entry.suffix.lower() in IMAGE_EXTENSIONS and (entry.is_file() or entry.is_symlink()):
            yield entry  # a broken link is yielded too: the loader says what is wrong with it


def save_image(path: Path, image: np.ndarray) -> Path:
    """Write a BGR image (format by suffix, folder created); :class:`InvalidInputError` when it cannot be written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        written = cv2.imwrite(str(path), image)
    except cv2.error:  # OpenCV raises for a suffix it has no writer for
        written = False
    if not written:
        raise InvalidInputError(f"cannot write {path} (use a .png or .jpg name in a writable folder)")
    return path
