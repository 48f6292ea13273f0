"""Tests for adlens.imagecheck: what a header proves before any decoder runs."""

from __future__ import annotations

import io

import numpy as np
import pytest

from adlens import imagecheck
from adlens.errors import InvalidImageError
from adlens.imagecheck import MAX_JPEG_SCANS, check_bgr, check_header
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


# --------------------------------------------------------------------------- decoded arrays (check_bgr)

BGR_CASES = [
    (np.zeros((4, 5, 3), np.uint8), None),
    (np.zeros((1, 1, 3), np.uint8), None),
    (np.zeros((4, 5), np.uint8), "(4, 5)"),
    (np.zeros((4, 5, 4), np.uint8), "(4, 5, 4)"),
    (np.zeros((4, 5, 3), np.float32), "(4, 5, 3)"),
    ("x.jpg", "None"),
]


@pytest.mark.parametrize(("image", "shape_in_message"), BGR_CASES, ids=["ok", "1x1", "grey", "bgra", "float", "path"])
def test_check_bgr(image, shape_in_message):
    if shape_in_message is None:
        assert check_bgr(image) is None
        return
    with pytest.raises(InvalidImageError, match="use load_image") as info:
        check_bgr(image)
    assert shape_in_message in info.value.message


@pytest.mark.parametrize("model", ["detector", "attributes", "aligner"])
def test_every_model_refuses_through_check_bgr(model):
    """The same refusal, before any weights are read, whichever model sees the bad array."""
    from adlens.attributes import create_attribute_model
    from adlens.detectors import create_detector
    from adlens.chips import FaceAligner
    from adlens.faces import Faces

    bad = np.zeros((4, 5), np.uint8)
    call = {
        "detector": lambda: create_detector("yunet").detect(bad),
        "attributes": lambda: create_attribute_model("age-mobilenet").predict(bad, Faces.empty()),
        "aligner": lambda: FaceAligner().chips(bad, Faces.empty()),
    }[model]
    with pytest.raises(InvalidImageError, match=r"expected a uint8 BGR image of shape \(H, W, 3\), got \(4, 5\)"):
        call()
