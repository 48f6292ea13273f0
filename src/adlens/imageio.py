"""The one place where user input becomes pixels.

:func:`load_image` accepts a path, encoded bytes, a Pillow image or a numpy
array and returns a contiguous ``uint8`` BGR array (OpenCV's convention).
Every failure a user can cause becomes :class:`~adlens.errors.InvalidImageError`
(or :class:`~adlens.errors.ImageTooLargeError`) with a readable reason.
:func:`iter_image_files` expands files and folders into image files.

Importing this module changes nothing global: Pillow's limits and truncation
flag are left alone and no warning filter is touched.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from adlens.errors import ImageTooLargeError, InvalidImageError, InvalidInputError
from adlens.settings import get_settings

__all__ = ["IMAGE_EXTENSIONS", "ImageSource", "iter_image_files", "load_image"]

IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm"}
)

ImageSource = Union[str, os.PathLike, bytes, bytearray, memoryview, np.ndarray, Image.Image]

_ORIENTATION = 0x0112  # EXIF tag

# What Pillow raises for data it cannot decode (UnidentifiedImageError is an OSError).
_DECODE_ERRORS = (OSError, SyntaxError, EOFError, ValueError, struct.error, zlib.error, IndexError)


def load_image(
    source: ImageSource, *, max_pixels: int | None = None, rgb_array: bool = False
) -> np.ndarray:
    """Return a contiguous uint8 BGR array (H, W, 3), OpenCV's convention.

    ``source`` is a file path, encoded image bytes, a Pillow image or a numpy
    array. Arrays are read as BGR/BGRA unless ``rgb_array`` is true. Images
    with more than ``max_pixels`` pixels (default ``ADLENS_MAX_PIXELS``) are
    refused before their pixel data is decoded. EXIF orientation is applied,
    alpha is composited over white and the first frame of animations is used.
    """
    limit = get_settings().max_pixels if max_pixels is None else int(max_pixels)
    if isinstance(source, np.ndarray):
        return _from_array(source, limit, rgb_array)
    if isinstance(source, Image.Image):
        return _decode(source, "PIL image", limit)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if not data:
            raise InvalidImageError("image data is empty (0 bytes)")
        return _open_and_decode(io.BytesIO(data), "image data", limit)
    if isinstance(source, (str, os.PathLike)):
        return _load_path(Path(source), limit)
    raise InvalidImageError(f"cannot read an image from a {type(source).__name__}")


def _load_path(path: Path, limit: int) -> np.ndarray:
    """Check that ``path`` is a non-empty readable file, then decode it."""
    label = str(path)
    if path.is_dir():
        raise InvalidImageError(f"{label}: is a directory, not an image file")
    try:
        if path.stat().st_size == 0:
            raise InvalidImageError(f"{label}: file is empty (0 bytes)")
        with path.open("rb") as fh:
            return _open_and_decode(fh, label, limit)
    except FileNotFoundError:
        raise InvalidImageError(f"{label}: no such file") from None
    except (OSError, ValueError) as exc:  # permission denied, not a directory, NUL in name…
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InvalidImageError(f"{label}: cannot read file ({reason})") from None


def _open_and_decode(fh: io.BufferedIOBase | io.BytesIO, label: str, limit: int) -> np.ndarray:
    """Open encoded data lazily (header only) and decode it; always closes the image."""
    # No warning filter here: warnings.catch_warnings is process-wide and not
    # thread-safe. Our own limit is checked from the header in _decode; Pillow's
    # hard decompression-bomb limit (2x its MAX_IMAGE_PIXELS) still applies.
    try:
        with Image.open(fh) as im:
            return _decode(im, label, limit)
    except Image.DecompressionBombError as exc:
        raise ImageTooLargeError(
            f"{label}: image is too large: {exc} Pillow's decompression-bomb limit "
            f"applies as well as ADLENS_MAX_PIXELS ({limit:,} pixels)"
        ) from None
    except UnidentifiedImageError:
        raise InvalidImageError(f"{label}: not a recognised image format") from None


def _decode(im: Image.Image, label: str, limit: int) -> np.ndarray:
    """Check the size from the header, then load, orient and convert ``im``."""
    _check_size(im.size[0], im.size[1], label, limit)
    try:
        im.load()
        im = _exif_transpose(im)
        rgb = _to_rgb(im, label)
    except _DECODE_ERRORS as exc:
        reason = "file is truncated" if "truncated" in str(exc).lower() else "corrupt image data"
        raise InvalidImageError(f"{label}: {reason} ({exc})") from None
    return np.ascontiguousarray(rgb[:, :, ::-1])


def _check_size(width: int, height: int, label: str, limit: int) -> None:
    """Refuse images with no pixels or with more than ``limit`` pixels."""
    if width <= 0 or height <= 0:
        raise InvalidImageError(f"{label}: image has no pixels ({width}x{height})")
    if width * height > limit:
        raise ImageTooLargeError(
            f"{label}: image is {width}x{height} = {width * height:,} pixels, more than the "
            f"limit of {limit:,} pixels (raise ADLENS_MAX_PIXELS to allow it)"
        )


def _exif_transpose(im: Image.Image) -> Image.Image:
    """Apply the EXIF orientation; an unreadable EXIF block leaves the image as is."""
    try:
        if im.getexif().get(_ORIENTATION, 1) == 1:
            return im  # exif_transpose would copy the pixels for nothing
        return ImageOps.exif_transpose(im) or im
    except (ValueError, TypeError, KeyError, SyntaxError, struct.error):
        return im


def _to_rgb(im: Image.Image, label: str) -> np.ndarray:
    """Convert a loaded Pillow image of any mode to an RGB uint8 array."""
    mode = im.mode
    if mode == "F" or mode.startswith("I"):
        return _grey_to_rgb(_scale_to_uint8(np.asarray(im), label, ints_are_16bit=True))
    if mode == "CMYK":
        return np.asarray(_cmyk_to_rgb(im))
    has_alpha = "A" in im.getbands() or "transparency" in im.info
    if has_alpha:
        try:
            rgba = np.asarray(im.convert("RGBA"))
        except ValueError:
            rgba = None
        if rgba is not None:
            return _over_white(rgba)
    try:
        return np.asarray(im.convert("RGB"))
    except ValueError:
        raise InvalidImageError(f"{label}: unsupported image mode {mode!r}") from None


def _cmyk_to_rgb(im: Image.Image) -> Image.Image:
    """CMYK → RGB through the embedded ICC profile when there is one, else Pillow's formula."""
    icc = im.info.get("icc_profile")
    if not icc:
        return im.convert("RGB")
    try:
        from PIL import ImageCms
    except ImportError:  # Pillow built without littlecms
        return im.convert("RGB")
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        out = ImageCms.profileToProfile(im, src, ImageCms.createProfile("sRGB"), outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        out = None
    return out if out is not None else im.convert("RGB")


def _from_array(arr: np.ndarray, limit: int, rgb_array: bool) -> np.ndarray:
    """Validate a (H,W), (H,W,1), (H,W,3) or (H,W,4) array and return BGR uint8."""
    label = "array"
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 3, 4)):
        raise InvalidImageError(
            f"array of shape {arr.shape} is not an image: expected (H, W), (H, W, 1), "
            "(H, W, 3) or (H, W, 4)"
        )
    _check_size(arr.shape[1], arr.shape[0], label, limit)
    pixels = _scale_to_uint8(arr, label)
    if pixels.ndim == 2 or pixels.shape[2] == 1:
        return _grey_to_rgb(pixels.reshape(pixels.shape[:2]))
    if pixels.shape[2] == 4:
        pixels = _over_white(pixels)
    out = np.ascontiguousarray(pixels[:, :, ::-1] if rgb_array else pixels)
    return out.copy() if np.shares_memory(out, arr) else out


def _scale_to_uint8(arr: np.ndarray, label: str, *, ints_are_16bit: bool = False) -> np.ndarray:
    """Map any supported dtype to uint8.

    uint16 maps 0..65535 to 0..255; floats in 0..1 are multiplied by 255, other
    floats clipped. Other integers in 0..255 are kept (in 0..65535 when
    ``ints_are_16bit``, as for Pillow's ``I`` mode), in 0..65535 divided by 257,
    and anything wider stretched from its min..max range.
    """
    kind, size = arr.dtype.kind, arr.dtype.itemsize
    if kind == "u" and size == 1:
        return arr
    if kind == "b":
        return arr.astype(np.uint8) * np.uint8(255)
    if kind == "u" and size == 2:
        return ((arr.astype(np.uint32) + 128) // 257).astype(np.uint8)
    if kind == "f":
        if not np.isfinite(arr).all():
            raise InvalidImageError(f"{label}: image contains NaN or infinite values")
        values = arr.astype(np.float64)
        if values.min() >= 0.0 and values.max() <= 1.0:
            values = values * 255.0
        return np.clip(np.rint(values), 0, 255).astype(np.uint8)
    if kind in "iu":
        lo, hi = int(arr.min()), int(arr.max())
        if 0 <= lo and hi <= 255 and not ints_are_16bit:
            return arr.astype(np.uint8)
        if 0 <= lo and hi <= 65535:
            return ((arr.astype(np.int64) + 128) // 257).astype(np.uint8)
        span = max(hi - lo, 1)
        return np.rint((arr.astype(np.float64) - lo) * (255.0 / span)).astype(np.uint8)
    raise InvalidImageError(f"{label}: unsupported pixel type {arr.dtype}")


def _grey_to_rgb(grey: np.ndarray) -> np.ndarray:
    """Repeat one uint8 channel three times."""
    return np.repeat(grey[:, :, None], 3, axis=2)


def _over_white(rgba: np.ndarray) -> np.ndarray:
    """Composite 4-channel uint8 pixels over white and drop the alpha channel."""
    colour = rgba[:, :, :3].astype(np.uint32)
    alpha = rgba[:, :, 3:4].astype(np.uint32)
    out = (colour * alpha + 255 * (255 - alpha) + 127) // 255
    return out.astype(np.uint8)


def iter_image_files(paths: Iterable[str | os.PathLike] | str | os.PathLike) -> Iterator[Path]:
    """Expand files and folders (recursively) into image files, in a stable order.

    Folders are walked depth-first with entries sorted by name; files are kept
    when their extension is in :data:`IMAGE_EXTENSIONS` (case-insensitive) and
    names starting with ``.`` are skipped. A file named explicitly is yielded
    whatever its extension. Every path is checked before anything is yielded:
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
        elif entry.is_file() and entry.suffix.lower() in IMAGE_EXTENSIONS:
            yield entry


def save_image(path: Path, image: np.ndarray) -> Path:
    """Write a BGR image (format by suffix, folder created); :class:`InvalidInputError` when it cannot be written."""
    import cv2

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        written = cv2.imwrite(str(path), image)
    except cv2.error:  # OpenCV raises for a suffix it has no writer for
        written = False
    if not written:
        raise InvalidInputError(f"cannot write {path} (use a .png or .jpg name in a writable folder)")
    return path
