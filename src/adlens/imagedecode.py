"""Pillow, fenced: open an image with an allowed decoder only, and decode it within the pixel limit.

:func:`open_image` identifies the data among the formats adlens reads and refuses the
others by name before any of their code runs; :func:`decode` checks the size from the
header, decodes at a reduced scale when allowed, applies the EXIF orientation and
returns :class:`Decoded` pixels.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache
from typing import BinaryIO

import numpy as np
from PIL import Image

from adlens.errors import AdlensError, ImageTooLargeError
from adlens.pixels import check_size, image_error, orient, to_bgr

_ORIENTATION = 0x0112  # EXIF tag

# The Pillow formats adlens decodes (format id → plugin module). Others (EPS runs Ghostscript, and
# rarely used decoders are the least hardened) are refused by name before any of their code runs.
_FORMATS = {
    "JPEG": "JpegImagePlugin", "PNG": "PngImagePlugin", "GIF": "GifImagePlugin", "BMP": "BmpImagePlugin",
    "TIFF": "TiffImagePlugin", "WEBP": "WebPImagePlugin", "PPM": "PpmImagePlugin", "AVIF": "AvifImagePlugin",
}
_SUPPORTED = "JPEG, PNG, GIF, BMP, TIFF, WebP, AVIF and PPM/PGM/PBM"
_WEAK_SIGNATURES = frozenset({"CUR"})  # four bytes that TGA files start with too: not worth naming


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


def open_image(fh: BinaryIO, label: str) -> Image.Image:
    """Identify ``fh`` among the allowed formats, as :func:`PIL.Image.open` does, header only.

    Unlike ``Image.open`` this runs no decompression-bomb check (that would warn
    on stderr or raise in Pillow's words); :func:`check_size` applies ours.
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
            raise image_error(label, "image is too large (its header claims an enormous size)",
                              ImageTooLargeError) from None
        except Exception:  # noqa: BLE001 - every decoder failure becomes our error; the next format may fit
            failed = failed or fmt
    if failed:
        raise image_error(label, f"not a valid {_format_name(failed)} file (its header is corrupt or uses a feature "
                          "adlens cannot read)")
    other = _lookalike(prefix)
    if other:
        raise image_error(label, f"this looks like a {other} image, a format adlens does not read (it reads "
                          f"{_SUPPORTED})")
    raise image_error(label, "not a recognised image format")


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


def decode(im: Image.Image, label: str, limit: int, side: int, *, own: bool = True) -> Decoded:
    """Check the size from the header, then load (reduced when ``side`` allows), convert and orient ``im``.

    A caller's image (``own`` false) is never drafted: that would change it in place.
    """
    check_size(im.size[0], im.size[1], label, limit)
    tile = getattr(im, "_tile_size", None)  # a TIFF's tile buffer is allocated whole
    if isinstance(tile, tuple) and len(tile) == 2 and tile[0] * tile[1] > limit:
        raise image_error(label, f"TIFF tiles of {tile[0]}x{tile[1]} pixels are larger than the limit of {limit:,} "
                          "pixels", ImageTooLargeError)
    fmt = _format_name(im.format)
    width, height = im.size  # before any draft: the picture's own size
    try:
        factor = _reduction(im.size, side)
        if factor > 1 and own and im.format in ("JPEG", "MPO"):
            # Pillow drafts at the largest 1/2, 1/4, 1/8 that both sides allow: rounding a side up would
            # forbid 1/2 for any odd side (a 4032×2879 photo would then decode whole and be reduced after).
            im.draft(None, (im.size[0] // factor, im.size[1] // factor))
        im.load()
        factor = _reduction(im.size, side)
        if factor > 1 and im.mode in ("L", "LA", "RGB", "RGBA", "CMYK", "YCbCr", "I", "F"):
            im, factor = im.reduce(factor), 1
        orientation = _orientation(im)
        bgr = to_bgr(im, label, min(factor, *im.size))
    except AdlensError:
        raise
    except MemoryError:
        raise image_error(label, f"not enough memory to decode this {im.size[0]}x{im.size[1]} image",
                          ImageTooLargeError) from None
    except Exception as exc:  # noqa: BLE001 - every decoder failure becomes our error
        truncated = isinstance(exc, EOFError) or "truncated" in str(exc).lower()
        reason = ("file is truncated" if truncated
                  else f"the {fmt} data is corrupt or uses a feature adlens cannot decode")
        raise image_error(label, reason) from None
    if orientation >= 5:  # a quarter turn: the picture's width is the file's height
        width, height = height, width
    return Decoded(orient(bgr, orientation), width, height)


def _reduction(size: tuple[int, int], side: int) -> int:
    """The integer factor that keeps the longer side at least ``side`` (1: decode as is)."""
    return max(1, max(size) // side) if side > 0 else 1


def _orientation(im: Image.Image) -> int:
    """The EXIF orientation (1-8); an unreadable EXIF block counts as upright."""
    try:
        value = int(im.getexif().get(_ORIENTATION, 1))
    except Exception:  # noqa: BLE001 - a corrupt EXIF block is not worth refusing the picture
        return 1
    return value if 1 <= value <= 8 else 1
