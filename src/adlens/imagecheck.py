"""Cheap checks of images: encoded headers before any decoder runs, decoded arrays before any model.

Every model validates its input through :func:`check_bgr`, so a wrong array is refused
the same way, with the same message, whichever model sees it first.

A decoder trusts the size a header claims and allocates for it; a progressive
JPEG is decoded once per scan. :func:`check_header` reads the few bytes that
say how large a PNG, GIF or JPEG claims to be, how many scans a JPEG has and
whether its compressed data could possibly hold that many pixels, so that a
631-byte file claiming 7000×7000 or a 2 MB file of 50,000 scans is refused in
milliseconds instead of costing hundreds of MB or seconds of CPU.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

import numpy as np

from adlens.errors import InvalidImageError

# No photo needs more: encoders write 1 (baseline) to about 10-20 scans (progressive). libjpeg-turbo's
# own optional limit is 500; each scan is a pass over the whole picture.
MAX_JPEG_SCANS = 100

_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_ARITHMETIC = frozenset({0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})
_CHUNK = 1 << 20


def check_bgr(image: np.ndarray) -> None:
    """Raise :class:`InvalidImageError` unless ``image`` is a uint8 ``(H, W, 3)`` array."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        shape = getattr(image, "shape", None)
        raise InvalidImageError(f"expected a uint8 BGR image of shape (H, W, 3), got {shape} (use load_image)")


def check_header(fh: BinaryIO, max_pixels: int) -> tuple[str, bool] | None:
    """Why the data in ``fh`` must not be decoded, as (reason, too large), or None; ``fh`` is rewound.

    Only what the header proves is refused: a claimed size over ``max_pixels``,
    a JPEG of more than :data:`MAX_JPEG_SCANS` scans, or a JPEG whose data is
    too short for its size (a Huffman-coded block takes at least one bit).
    """
    fh.seek(0)
    head = fh.read(32)
    try:
        if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR" and len(head) >= 24:
            width, height = struct.unpack(">II", head[16:24])
            return _too_large(width, height, max_pixels)
        if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
            width, height = struct.unpack("<HH", head[6:10])
            return _too_large(width, height, max_pixels)
        if head.startswith(b"\xff\xd8"):
            return _check_jpeg(fh, max_pixels)
        return None
    finally:
        fh.seek(0)


def _too_large(width: int, height: int, max_pixels: int) -> tuple[str, bool] | None:
    if width * height > max_pixels:
        return (f"image is {width}x{height} = {width * height:,} pixels, more than the limit of "
                f"{max_pixels:,} pixels (raise ADLENS_MAX_PIXELS to allow it)", True)
    return None


def _check_jpeg(fh: BinaryIO, max_pixels: int) -> tuple[str, bool] | None:
    """Walk the JPEG segments up to the first scan, then count scans and compressed bytes."""
    frame = _frame(fh)
    if frame is None:
        return None  # no frame or scan header: the decoder gives its own error
    width, height, arithmetic, data_start = frame
    too_large = _too_large(width, height, max_pixels)
    if too_large:
        return too_large
    scans, data_bytes = _scan_count(fh, data_start)
    if scans > MAX_JPEG_SCANS:
        return (f"JPEG has more than {MAX_JPEG_SCANS} scans (no photo needs that many; refused before "
                "decoding)", False)
    blocks = -(-width // 8) * -(-height // 8)
    if not arithmetic and data_bytes * 8 < blocks:
        return (f"file is truncated ({data_bytes:,} bytes of picture data cannot hold "
                f"{width}x{height} pixels)", False)
    return None


def _frame(fh: BinaryIO) -> tuple[int, int, bool, int] | None:
    """(width, height, arithmetic coding, offset after the first scan header) or None."""
    fh.seek(2)
    width = height = -1
    arithmetic = False
    for _ in range(10_000):
        byte = fh.read(1)
        if not byte:
            return None
        if byte != b"\xff":
            continue
        marker = fh.read(1)
        while marker == b"\xff":
            marker = fh.read(1)
        if not marker:
            return None
        code = marker[0]
        if code in _STANDALONE or code == 0x00:
            continue
        if code == 0xD9:
            return None
        raw = fh.read(2)
        if len(raw) < 2:
            return None
        length = struct.unpack(">H", raw)[0]
        if length < 2:
            return None
        if code in _SOF:
            body = fh.read(5)
            if len(body) < 5:
                return None
            height, width = struct.unpack(">HH", body[1:5])
            arithmetic = code in _ARITHMETIC
            fh.seek(length - 7, 1)
        elif code == 0xDA:
            if width < 0:
                return None
            fh.seek(length - 2, 1)
            return width, height, arithmetic, fh.tell()
        else:
            fh.seek(length - 2, 1)
    return None


def _scan_count(fh: BinaryIO, start: int) -> tuple[int, int]:
    """(scans, bytes after the first scan header): 1 + start-of-scan markers after ``start``.

    Counting stops once the scans pass :data:`MAX_JPEG_SCANS`: the file is refused anyway.
    """
    fh.seek(start)
    scans, size, tail = 1, 0, b""
    while chunk := fh.read(_CHUNK):
        size += len(chunk)
        data = tail + chunk
        scans += data.count(b"\xff\xda")
        tail = data[-1:]  # a marker split across two chunks is counted in the next
        if scans > MAX_JPEG_SCANS:
            break
    return scans, size
