"""Tests for adlens.imagecheck: what a header proves before any decoder runs."""

from __future__ import annotations

import io

import pytest

from adlens import imagecheck
from adlens.imagecheck import MAX_JPEG_SCANS, check_header
from imagecorpus import encode, jpeg_claiming, many_scan_jpeg, png16
from PIL import Image

# id -> (data, max_pixels, None or (fragment of the reason, too large))
CASES = {
    "png-ok": (png16(40, 30), 1200, None),
    "png-over": (png16(40, 30), 1199, ("40x30 = 1,200 pixels", True)),
    "png-cut-ihdr": (png16(40, 30)[:20], 10, None),
    "gif-over": (b"GIF89a\x10\x00\x10\x00" + bytes(10), 255, ("16x16", True)),
    "jpeg-ok": (encode(Image.new("RGB", (64, 48)), "JPEG"), 10_000, None),
    "jpeg-over": (jpeg_claiming(7000, 7000), 1_000_000, ("7000x7000", True)),
    "jpeg-too-short": (jpeg_claiming(640, 480, data_bytes=100), 10**9, ("100 bytes of picture data", False)),
    "jpeg-scans-at-limit": (many_scan_jpeg(MAX_JPEG_SCANS), 10**9, None),
    "jpeg-scans-over": (many_scan_jpeg(MAX_JPEG_SCANS + 1), 10**9, (f"more than {MAX_JPEG_SCANS} scans", False)),
    "jpeg-no-frame": (b"\xff\xd8\xff\xdb\x00\x84\x00", 10, None),
    "jpeg-zero-length-segment": (b"\xff\xd8\xff\xe0\x00\x00", 10, None),
    "text": (b"hello", 1, None),
    "empty": (b"", 1, None),
}


@pytest.mark.parametrize("name", list(CASES))
def test_check_header(name: str) -> None:
    data, max_pixels, expected = CASES[name]
    fh = io.BytesIO(data)
    fh.seek(5 if data else 0)
    problem = check_header(fh, max_pixels)
    assert fh.tell() == 0
    if expected is None:
        assert problem is None
    else:
        assert problem is not None and expected[0] in problem[0] and problem[1] is expected[1]


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 4096])
def test_scans_counted_across_chunk_boundaries(chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imagecheck, "_CHUNK", chunk)
    data = many_scan_jpeg(40)
    frame = imagecheck._frame(io.BytesIO(data))
    assert frame is not None
    scans, size = imagecheck._scan_count(io.BytesIO(data), frame[3])
    assert scans == 40 and size == len(data) - frame[3]
