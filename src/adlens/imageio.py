"""The one place where user input becomes pixels.

:func:`load_image` accepts a path, encoded bytes, a Pillow image or a numpy
array and returns a contiguous ``uint8`` BGR array (OpenCV's convention);
:func:`decode_image` returns the same pixels with the size of the picture they
show, which differs when a large image was decoded at a reduced scale.
Every failure a user can cause becomes :class:`~adlens.errors.InvalidImageError`
(or :class:`~adlens.errors.ImageTooLargeError`) with a readable reason.
:func:`iter_image_files` expands files and folders into image files.

Importing this module changes nothing global: Pillow's limits and truncation
flag are left alone and no warning filter is touched.
"""

from __future__ import annotations

import importlib
import io
import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, Union

import cv2
import numpy as np
from PIL import Image

from adlens.errors import AdlensError, ImageTooLargeError, InvalidImageError, InvalidInputError
from adlens.imagecheck import check_header
from adlens.settings import get_settings

__all__ = [
    "IMAGE_EXTENSIONS", "Decoded", "ImageSource", "decode_image", "display_name", "iter_image_files", "load_image",
]

IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm"}
)

ImageSource = Union[str, os.PathLike, bytes, bytearray, memoryview, np.ndarray, Image.Image]

_ORIENTATION = 0x0112  # EXIF tag

# The Pillow formats adlens decodes (format id → plugin module). Others (EPS runs Ghostscript, and
# rarely used decoders are the least hardened) are refused by name before any of their code runs.
_FORMATS = {
    "JPEG": "JpegImagePlugin", "PNG": "PngImagePlugin", "GIF": "GifImagePlugin", "BMP": "BmpImagePlugin",
    "TIFF": "TiffImagePlugin", "WEBP": "WebPImagePlugin", "PPM": "PpmImagePlugin", "AVIF": "AvifImagePlugin",
}
_SUPPORTED = "JPEG, PNG, GIF, BMP, TIFF, WebP, AVIF and PPM/PGM/PBM"
_WEAK_SIGNATURES = frozenset({"CUR"})  # four bytes that TGA files start with too: not worth naming
_BLOCK = 1 << 20  # elements converted at a time, so that wide pixel types never take a full-size copy


@dataclass(frozen=True)
class Decoded:
    """Decoded pixels (uint8 BGR) and the size of the picture they show, after EXIF rotation.

    ``pixels`` is smaller than ``width`` × ``height`` when a large image was decoded at a
    reduced scale; multiply coordinates found in ``pixels`` by :attr:`scale` to get the picture's.
    """

    pixels: np.ndarray
    width: int
    height: int

    @property
    def scale(self) -> float:
        """The picture's width over the decoded width (1.0 when decoded at full size)."""
        return self.width / self.pixels.shape[1]


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
        pixels = _from_array(source, limit, rgb_array, label or "array")
        return Decoded(pixels, pixels.shape[1], pixels.shape[0])
    if isinstance(source, Image.Image):
        with _decode_slot():
            return _decode(source, label or "PIL image", limit, side, own=False)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        label = label or "image data"
        if not data:
            raise _bad(label, "image data is empty (0 bytes)")
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


def _bad(label: str, reason: str, error: type[InvalidImageError] = InvalidImageError) -> InvalidImageError:
    """The error for ``label``; the reason alone is kept in ``error.reason`` for callers that name the file."""
    return error(f"{label}: {reason}", reason=reason)


def _load_path(path: Path, label: str, limit: int, side: int) -> Decoded:
    """Check that ``path`` is a non-empty readable file, then decode it."""
    try:
        if path.is_dir():
            raise _bad(label, "is a directory, not an image file")
        if path.is_symlink() and not path.exists():
            raise _bad(label, "broken symbolic link (its target does not exist)")
        if path.stat().st_size == 0:
            raise _bad(label, "file is empty (0 bytes)")
        with path.open("rb") as fh:
            return _open_and_decode(fh, label, limit, side)
    except FileNotFoundError:
        raise _bad(label, "no such file") from None
    except (OSError, ValueError) as exc:  # permission denied, not a directory, NUL in name…
        reason = getattr(exc, "strerror", None) or str(exc)
        raise _bad(label, f"cannot read file ({reason})") from None


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
        raise _bad(label, reason, ImageTooLargeError if too_large else InvalidImageError)
    with _decode_slot():
        im = _open(fh, label)
        with im:
            return _decode(im, label, limit, side)


def _open(fh: BinaryIO, label: str) -> Image.Image:
    """Identify ``fh`` among the allowed formats, as :func:`PIL.Image.open` does, header only.

    Unlike ``Image.open`` this runs no decompression-bomb check (that would warn
    on stderr or raise in Pillow's words); :func:`_check_size` applies ours.
    """
    fh.seek(0)
    prefix = fh.read(16)
    failed = None
    for fmt, module in _FORMATS.items():
        opener = _opener(fmt, module)
        if opener is None:
            continue
        factory, accept = opener
        try:
            accepted = accept is None or accept(prefix)
        except Exception:  # noqa: BLE001 - a plugin's check must not decide how we fail
            accepted = False
        if not accepted or isinstance(accepted, str):
            continue
        fh.seek(0)
        try:
            return factory(fh, "")
        except Image.DecompressionBombError:
            raise _bad(label, "image is too large (its header claims an enormous size)",
                       ImageTooLargeError) from None
        except Exception:  # noqa: BLE001 - every decoder failure becomes our error; the next format may fit
            failed = failed or fmt
    if failed:
        raise _bad(label, f"not a valid {_format_name(failed)} file (its header is corrupt or uses a feature "
                   "adlens cannot read)")
    other = _lookalike(prefix)
    if other:
        raise _bad(label, f"this looks like a {other} image, a format adlens does not read (it reads "
                   f"{_SUPPORTED})")
    raise _bad(label, "not a recognised image format")


@lru_cache(maxsize=None)
def _opener(fmt: str, module: str):  # noqa: ANN202 - Pillow's (factory, accept) pair
    try:
        importlib.import_module(f"PIL.{module}")
    except ImportError:  # Pillow built without this codec
        return None
    return Image.OPEN.get(fmt)


def _lookalike(prefix: bytes) -> str | None:
    """The name of another format Pillow knows whose signature ``prefix`` has, for the message."""
    Image.init()
    for fmt, (_factory, accept) in list(Image.OPEN.items()):
        if fmt in _FORMATS or fmt in _WEAK_SIGNATURES or accept is None:
            continue
        try:
            if accept(prefix) is True:
                return _format_name(fmt)
        except Exception:  # noqa: BLE001
            continue
    return None


def _format_name(fmt: str | None) -> str:
    return {"WEBP": "WebP", "MPO": "JPEG", None: "image"}.get(fmt, fmt or "image")


def _decode(im: Image.Image, label: str, limit: int, side: int, *, own: bool = True) -> Decoded:
    """Check the size from the header, then load (reduced when ``side`` allows), convert and orient ``im``.

    A caller's image (``own`` false) is never drafted: that would change it in place.
    """
    _check_size(im.size[0], im.size[1], label, limit)
    tile = getattr(im, "_tile_size", None)  # a TIFF's tile buffer is allocated whole
    if isinstance(tile, tuple) and len(tile) == 2 and tile[0] * tile[1] > limit:
        raise _bad(label, f"TIFF tiles of {tile[0]}x{tile[1]} pixels are larger than the limit of {limit:,} "
                   "pixels", ImageTooLargeError)
    fmt = _format_name(im.format)
    width, height = im.size  # before any draft: the picture's own size
    try:
        factor = _reduction(im.size, side)
        if factor > 1 and own and im.format in ("JPEG", "MPO"):
            im.draft(None, (-(-im.size[0] // factor), -(-im.size[1] // factor)))
        im.load()
        factor = _reduction(im.size, side)
        if factor > 1 and im.mode in ("L", "LA", "RGB", "RGBA", "CMYK", "YCbCr", "I", "F"):
            im, factor = im.reduce(factor), 1
        orientation = _orientation(im)
        bgr = _to_bgr(im, label, min(factor, *im.size))
    except AdlensError:
        raise
    except MemoryError:
        raise _bad(label, f"not enough memory to decode this {im.size[0]}x{im.size[1]} image",
                   ImageTooLargeError) from None
    except Exception as exc:  # noqa: BLE001 - every decoder failure becomes our error
        truncated = isinstance(exc, EOFError) or "truncated" in str(exc).lower()
        reason = ("file is truncated" if truncated
                  else f"the {fmt} data is corrupt or uses a feature adlens cannot decode")
        raise _bad(label, reason) from None
    if orientation >= 5:  # a quarter turn: the picture's width is the file's height
        width, height = height, width
    return Decoded(_orient(bgr, orientation), width, height)


def _reduction(size: tuple[int, int], side: int) -> int:
    """The integer factor that keeps the longer side at least ``side`` (1: decode as is)."""
    return max(1, max(size) // side) if side > 0 else 1


def _check_size(width: int, height: int, label: str, limit: int) -> None:
    """Refuse images with no pixels or with more than ``limit`` pixels."""
    if width <= 0 or height <= 0:
        raise _bad(label, f"image has no pixels ({width}x{height})")
    if width * height > limit:
        raise _bad(label, f"image is {width}x{height} = {width * height:,} pixels, more than the "
                   f"limit of {limit:,} pixels (raise ADLENS_MAX_PIXELS to allow it)", ImageTooLargeError)


def _orientation(im: Image.Image) -> int:
    """The EXIF orientation (1-8); an unreadable EXIF block counts as upright."""
    try:
        value = int(im.getexif().get(_ORIENTATION, 1))
    except Exception:  # noqa: BLE001 - a corrupt EXIF block is not worth refusing the picture
        return 1
    return value if 1 <= value <= 8 else 1


def _orient(bgr: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation to the decoded array, as :func:`PIL.ImageOps.exif_transpose` would."""
    if orientation == 1:
        return bgr
    view = {
        2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
        5: lambda a: a.transpose(1, 0, 2), 6: lambda a: a[::-1].transpose(1, 0, 2),
        7: lambda a: a[::-1, ::-1].transpose(1, 0, 2), 8: lambda a: a[:, ::-1].transpose(1, 0, 2),
    }[orientation](bgr)
    return np.ascontiguousarray(view)


def _to_bgr(im: Image.Image, label: str, factor: int = 1) -> np.ndarray:
    """Convert a loaded Pillow image of any mode to a BGR uint8 array, a band of rows at a time.

    Converting whole would hold several full-size copies (16-bit or float
    pixels widened, RGBA composited, RGB swapped); by bands the peak is the
    decoded image plus the result. A ``factor`` over 1 (modes Pillow cannot
    reduce: palette, 1-bit, 16-bit) averages factor × factor blocks of each
    band; the last rows and columns that make no whole block are dropped.
    """
    mode = im.mode
    wide = mode == "F" or mode.startswith("I")
    extrema = _extrema(im) if wide else None
    width, height = (side - side % factor for side in im.size)
    out = np.empty((height // factor, width // factor, 3), np.uint8)
    step = max(factor, _BLOCK // max(1, width) // factor * factor)
    for top in range(0, height, step):
        bottom = min(height, top + step)
        box = (0, top, width, bottom)
        band = _band_to_bgr(im if box == (0, 0, *im.size) else im.crop(box), label, extrema)
        if factor > 1:
            band = cv2.resize(band, (width // factor, (bottom - top) // factor), interpolation=cv2.INTER_AREA)
        out[top // factor:bottom // factor] = band
    return out


def _extrema(im: Image.Image) -> tuple:
    """(min, max) of a one-band image; through numpy for the modes Pillow cannot measure (I;16B…)."""
    try:
        return im.getextrema()
    except ValueError:
        arr = np.asarray(im)
        return arr.min(), arr.max()


def _band_to_bgr(im: Image.Image, label: str, extrema: tuple | None) -> np.ndarray:
    """One band of :func:`_to_bgr`; ``extrema`` (of the whole image) fixes how wide pixels are scaled."""
    mode = im.mode
    if extrema is not None:
        return cv2.cvtColor(_scale_to_uint8(np.asarray(im), label, ints_are_16bit=True, extrema=extrema),
                            cv2.COLOR_GRAY2BGR)
    if mode == "CMYK":
        return cv2.cvtColor(np.asarray(_cmyk_to_rgb(im)), cv2.COLOR_RGB2BGR)
    if "A" in im.getbands() or "transparency" in im.info:
        try:
            rgba = np.asarray(im.convert("RGBA"))
        except ValueError:
            rgba = None
        if rgba is not None:
            return _over_white(rgba, bgr=True)
    if mode == "L":
        return cv2.cvtColor(np.asarray(im), cv2.COLOR_GRAY2BGR)
    try:
        rgb = im if mode == "RGB" else im.convert("RGB")
    except ValueError:
        raise _bad(label, f"unsupported image mode {mode!r}") from None
    return cv2.cvtColor(np.asarray(rgb), cv2.COLOR_RGB2BGR)


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


def _from_array(arr: np.ndarray, limit: int, rgb_array: bool, label: str) -> np.ndarray:
    """Validate a (H,W), (H,W,1), (H,W,3) or (H,W,4) array and return BGR uint8."""
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 3, 4)):
        raise _bad(label, f"array of shape {arr.shape} is not an image: expected (H, W), (H, W, 1), "
                   "(H, W, 3) or (H, W, 4)")
    _check_size(arr.shape[1], arr.shape[0], label, limit)
    pixels = _scale_to_uint8(arr, label)
    if pixels.ndim == 2 or pixels.shape[2] == 1:
        return cv2.cvtColor(np.ascontiguousarray(pixels.reshape(pixels.shape[:2])), cv2.COLOR_GRAY2BGR)
    if pixels.shape[2] == 4:
        return _over_white(pixels, bgr=rgb_array)
    out = np.ascontiguousarray(pixels[:, :, ::-1] if rgb_array else pixels)
    return out.copy() if np.shares_memory(out, arr) else out


def _blocks(arr: np.ndarray) -> Iterator[slice]:
    """Row ranges of ``arr`` holding about ``_BLOCK`` elements each."""
    per_row = max(1, arr[:1].size)
    step = max(1, _BLOCK // per_row)
    for start in range(0, arr.shape[0], step):
        yield slice(start, start + step)


def _map_blocks(arr: np.ndarray, convert) -> np.ndarray:  # noqa: ANN001 - an array → array function
    """``convert`` applied to blocks of rows into one uint8 array: temporaries stay small."""
    out = np.empty(arr.shape, np.uint8)
    for rows in _blocks(arr):
        out[rows] = convert(arr[rows])
    return out


def _scale_to_uint8(
    arr: np.ndarray, label: str, *, ints_are_16bit: bool = False, extrema: tuple | None = None
) -> np.ndarray:
    """Map any supported dtype to uint8.

    uint16 maps 0..65535 to 0..255; floats in 0..1 are multiplied by 255, other
    floats clipped. Other integers in 0..255 are kept (in 0..65535 when
    ``ints_are_16bit``, as for Pillow's ``I`` mode), in 0..65535 divided by 257,
    and anything wider stretched from its min..max range (``extrema`` when
    ``arr`` is a band of a larger image).
    """
    kind, size = arr.dtype.kind, arr.dtype.itemsize
    if kind == "u" and size == 1:
        return arr
    if kind == "b":
        return arr.astype(np.uint8) * np.uint8(255)
    if kind == "u" and size == 2:
        return _map_blocks(arr, lambda a: (a.astype(np.uint32) + 128) // 257)
    if kind == "f":
        if not np.isfinite(arr).all():
            raise _bad(label, "image contains NaN or infinite values")
        lo_f, hi_f = extrema if extrema is not None else (arr.min(), arr.max())
        scale = 255.0 if lo_f >= 0.0 and hi_f <= 1.0 else 1.0
        return _map_blocks(arr, lambda a: np.clip(np.rint(a.astype(np.float64) * scale), 0, 255))
    if kind in "iu":
        lo, hi = (int(v) for v in (extrema if extrema is not None else (arr.min(), arr.max())))
        if 0 <= lo and hi <= 255 and not ints_are_16bit:
            return arr.astype(np.uint8)
        if 0 <= lo and hi <= 65535:
            return _map_blocks(arr, lambda a: (a.astype(np.int64) + 128) // 257)
        span = max(hi - lo, 1)
        return _map_blocks(arr, lambda a: np.rint((a.astype(np.float64) - lo) * (255.0 / span)))
    raise _bad(label, f"unsupported pixel type {arr.dtype}")


def _over_white(rgba: np.ndarray, *, bgr: bool = False) -> np.ndarray:
    """Composite 4-channel uint8 pixels over white, dropping alpha (and swapping R and B when ``bgr``)."""
    colour = rgba[:, :, 2::-1] if bgr else rgba[:, :, :3]
    out = np.empty(colour.shape, np.uint8)
    for rows in _blocks(rgba):
        alpha = rgba[rows, :, 3:4].astype(np.uint32)
        out[rows] = (colour[rows].astype(np.uint32) * alpha + 255 * (255 - alpha) + 127) // 255
    return out


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
