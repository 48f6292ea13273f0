"""Tests for adlens.imagedecode: only allowed decoders run, within the limits, at a reduced scale when asked."""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image

from adlens.errors import ImageTooLargeError, InvalidImageError
from adlens.imagedecode import decode
from adlens.imageio import decode_image, load_image
from adlens.settings import Settings
from imagecorpus import BGR_RED, REPROS, encode, jpeg_claiming, many_scan_jpeg, marked, png16, raw_png


def test_avif_when_pillow_has_it() -> None:
    from PIL import features

    if not features.check("avif"):
        pytest.skip("Pillow built without AVIF")
    out = load_image(encode(Image.new("RGB", (16, 8), (255, 0, 0)), "AVIF"))
    assert out.shape == (8, 16, 3) and [int(v) for v in out[4, 8]] == pytest.approx(BGR_RED, abs=8)


# --------------------------------------------------------------------------- issue 14: decoders cannot hurt


@pytest.mark.parametrize("name", list(REPROS))
def test_issue_repros_are_adlens_errors_in_adlens_words(name: str) -> None:
    with pytest.raises(InvalidImageError) as info:
        load_image(REPROS[name], name="upload.jpg")
    message = str(info.value)
    assert message.startswith("upload.jpg: ") and message.count("upload.jpg") == 1
    assert not any(word in message for word in ("<_io", "BytesIO", "Pillow", "PIL", "cannot identify"))
    assert info.value.reason == message.removeprefix("upload.jpg: ")


@pytest.mark.parametrize(
    "data, fragment",
    [
        pytest.param(many_scan_jpeg(101), "more than 100 scans", id="101-scans"),
        pytest.param(jpeg_claiming(7000, 7000, data_bytes=300), "file is truncated (300 bytes", id="7000-claimed"),
        pytest.param(jpeg_claiming(7000, 7000, progressive=True), "file is truncated", id="7000-progressive"),
        pytest.param(b"\x01\xda\x01\x01" + bytes(60), "SGI image, a format adlens does not read", id="sgi"),
    ],
)
def test_refused_before_decoding(data: bytes, fragment: str) -> None:
    with pytest.raises(InvalidImageError, match=re.escape(fragment)):
        load_image(data)


def test_many_scans_within_the_limit_decode() -> None:
    assert load_image(many_scan_jpeg(100)).shape == (32, 32, 3)


def test_no_decompression_bomb_warning() -> None:
    header = raw_png(10_000, 10_000, 8, 2)  # 100 MP: over Pillow's warning threshold, under our raised limit
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(InvalidImageError, match="PNG data is corrupt"):
            load_image(header, max_pixels=200_000_000)
        with pytest.raises(ImageTooLargeError):
            load_image(header)
    assert not [w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)]


# id -> (image, max_side, expected shape)
REDUCED: dict[str, tuple[Callable[[], Any], int, tuple[int, int, int]]] = {
    "jpeg-draft-quarter": (lambda: encode(half_red(1000, 600), "JPEG"), 250, (150, 250, 3)),
    "jpeg-draft-then-reduce": (lambda: encode(half_red(1000, 600), "JPEG"), 40, (25, 42, 3)),  # 1/8 while decoding, then 1/3
    "png-reduce-5": (lambda: encode(half_red(1000, 600), "PNG"), 200, (120, 200, 3)),
    "png-under-twice": (lambda: encode(marked(1000, 600), "PNG"), 600, (600, 1000, 3)),
    "png-16bit-resized-after": (lambda: png16(900, 300), 300, (100, 300, 3)),
    "palette-resized-after": (lambda: encode(marked(400, 200).quantize(8), "PNG"), 100, (50, 100, 3)),
    "exif-rotated": (lambda: encode(marked(400, 200), "JPEG", exif=_orientation_exif(6)), 100, (100, 50, 3)),
    "pil-image": (lambda: marked(400, 200), 100, (50, 100, 3)),
    "zero-is-full-size": (lambda: encode(marked(400, 200), "PNG"), 0, (200, 400, 3)),
}


def half_red(width: int, height: int) -> Image.Image:
    """Red on the left half, grey on the right."""
    im = Image.new("RGB", (width, height), (128, 128, 128))
    im.paste((255, 0, 0), (0, 0, width // 2, height))
    return im


def _orientation_exif(value: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = value
    return exif


@pytest.mark.parametrize("name", list(REDUCED))
def test_max_side_decodes_at_a_reduced_scale(name: str) -> None:
    make, side, shape = REDUCED[name]
    out = load_image(make(), max_side=side)
    assert out.shape == shape
    if name.startswith(("jpeg", "png-reduce")):  # the picture is reduced, not cropped
        middle = out.shape[0] // 2
        assert [int(v) for v in out[middle, 1]] == pytest.approx(BGR_RED, abs=8)
        assert [int(v) for v in out[middle, -2]] == pytest.approx((128, 128, 128), abs=8)


def test_caller_image_is_not_drafted() -> None:
    im = Image.open(io.BytesIO(encode(half_red(800, 400), "JPEG")))
    assert load_image(im, max_side=100).shape == (50, 100, 3)
    assert im.size == (800, 400) and load_image(im).shape == (400, 800, 3)


@pytest.mark.parametrize(("orientation", "shape", "corner"), [(1, (1000, 2000, 3), (0, 0)),
                                                              (6, (2000, 1000, 3), (0, -1)),
                                                              (8, (2000, 1000, 3), (-1, 0))])
def test_large_jpeg_drafted_and_still_oriented(orientation: int, shape: tuple[int, int, int],
                                               corner: tuple[int, int]) -> None:
    """A 4000-px JPEG with the default side (1920) decodes at half size, turned as its EXIF says."""
    im = Image.new("RGB", (4000, 2000), (128, 128, 128))
    im.paste((255, 0, 0), (0, 0, 400, 400))  # the file's top-left corner
    decoded = decode_image(encode(im, "JPEG", exif=_orientation_exif(orientation)),
                           max_side=Settings().decode_max_side)
    assert decoded.pixels.shape == shape and decoded.scale == 2.0
    assert (decoded.height, decoded.width) == (shape[0] * 2, shape[1] * 2)  # the picture's own size, turned
    y, x = corner
    assert [int(v) for v in decoded.pixels[y, x]] == pytest.approx(BGR_RED, abs=8)
    assert [int(v) for v in decoded.pixels[-1 - y, -1 - x]] == pytest.approx((128, 128, 128), abs=8)


@pytest.mark.parametrize(("size", "decoded"), [((4032, 3024), (2016, 1512)), ((3800, 2000), (3800, 2000))])
def test_default_side_halves_a_phone_photo(size: tuple[int, int], decoded: tuple[int, int]) -> None:
    """A 12-megapixel photo is decoded at half size (2016 px ≥ twice the detector's 960); under 3840 px, whole."""
    data = encode(Image.new("RGB", size, (90, 90, 90)), "JPEG")
    assert decode_image(data, max_side=Settings().decode_max_side).pixels.shape[1::-1] == decoded


def test_odd_sized_jpeg_is_drafted_too() -> None:
    """An odd side (2879 = 2 × 1439.5) still allows the half-size draft, not a full decode reduced after."""
    im = Image.open(io.BytesIO(encode(Image.new("RGB", (4032, 2879), (90, 90, 90)), "JPEG")))
    decoded = decode(im, "odd", 50_000_000, 1920)
    assert decoded.pixels.shape == (1440, 2016, 3) and im.size == (2016, 1440)  # drafted: Pillow's own size halved
