"""Tests for adlens.imageio: every kind of input, good and bad, built synthetically."""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from adlens.errors import ImageTooLargeError, InvalidImageError, InvalidInputError
from adlens.imageio import IMAGE_EXTENSIONS, display_name, iter_image_files, load_image
from imagecorpus import BGR_RED, encode, marked, raw_png

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
RGBA_FILE = SHARED / "data" / "faces_small" / "32bit.png"

# --------------------------------------------------------------------------- helpers


def png16_rgb() -> bytes:
    """2x2 16-bit RGB PNG, every pixel (65535, 32768, 0)."""
    row = b"\x00" + struct.pack(">HHH", 65535, 32768, 0) * 2
    return raw_png(2, 2, 16, 2, row * 2)


def png16_grey() -> bytes:
    """1x3 16-bit greyscale PNG with values 0, 32768, 65535."""
    row = b"\x00" + struct.pack(">HHH", 0, 32768, 65535)
    return raw_png(3, 1, 16, 0, row)


def palette_png(transparent: bool) -> bytes:
    im = Image.new("P", (2, 1))
    im.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    im.putdata([0, 1])
    return encode(im, "PNG", **({"transparency": 1} if transparent else {}))


def exif_jpeg(orientation: int) -> bytes:
    im = marked()
    exif = im.getexif()
    exif[0x0112] = orientation
    return encode(im, "JPEG", quality=95, exif=exif)


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (4, 4), c) for c in [(255, 0, 0), (0, 0, 255)]]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:])


def multipage_tiff() -> bytes:
    frames = [Image.new("RGB", (4, 4), c) for c in [(0, 255, 0), (0, 0, 255)]]
    return encode(frames[0], "TIFF", save_all=True, append_images=frames[1:])


def corner_bgr(out: np.ndarray, corner: str) -> np.ndarray:
    h, w = out.shape[:2]
    y = 2 if corner[0] == "t" else h - 3
    x = 2 if corner[1] == "l" else w - 3
    return out[y, x].astype(int)


# --------------------------------------------------------------------------- good inputs

WHITE = (255, 255, 255)

# id -> (source factory taking tmp_path, load_image kwargs, expected shape, pixel (y, x), expected BGR)
GOOD: dict[str, tuple[Callable[[Path], Any], dict, tuple, tuple[int, int], tuple[int, int, int]]] = {
    "mode-1": (lambda t: Image.new("1", (3, 2), 1), {}, (2, 3, 3), (0, 0), WHITE),
    "mode-L": (lambda t: Image.new("L", (3, 2), 77), {}, (2, 3, 3), (1, 2), (77, 77, 77)),
    "mode-LA-transparent": (lambda t: Image.new("LA", (2, 2), (0, 0)), {}, (2, 2, 3), (0, 0), WHITE),
    "mode-LA-opaque": (lambda t: Image.new("LA", (2, 2), (10, 255)), {}, (2, 2, 3), (0, 0), (10, 10, 10)),
    "mode-RGB": (lambda t: Image.new("RGB", (4, 3), (255, 0, 0)), {}, (3, 4, 3), (2, 3), BGR_RED),
    "mode-RGBA-half": (lambda t: Image.new("RGBA", (2, 2), (0, 0, 0, 128)), {}, (2, 2, 3), (0, 0), (127, 127, 127)),
    "mode-CMYK": (lambda t: Image.new("CMYK", (2, 2), (0, 255, 255, 0)), {}, (2, 2, 3), (0, 0), BGR_RED),
    "mode-YCbCr": (lambda t: Image.new("RGB", (2, 2), (255, 0, 0)).convert("YCbCr"), {}, (2, 2, 3), (0, 0), BGR_RED),
    "mode-I;16": (lambda t: Image.fromarray(np.full((2, 2), 65535, np.uint16)), {}, (2, 2, 3), (0, 0), WHITE),
    "mode-I;16B": (lambda t: Image.new("I;16B", (2, 2), 32768), {}, (2, 2, 3), (0, 0), (128, 128, 128)),
    "mode-I-16bit-range": (lambda t: Image.new("I", (2, 2), 65535), {}, (2, 2, 3), (0, 0), WHITE),
    "mode-I-dark-16bit": (lambda t: Image.new("I", (2, 2), 200), {}, (2, 2, 3), (0, 0), (1, 1, 1)),
    "mode-F-unit": (lambda t: Image.new("F", (2, 2), 0.5), {}, (2, 2, 3), (0, 0), (128, 128, 128)),
    "mode-F-clipped": (lambda t: Image.new("F", (2, 2), 300.0), {}, (2, 2, 3), (0, 0), WHITE),
    "mode-P": (lambda t: palette_png(False), {}, (1, 2, 3), (0, 1), (255, 0, 0)),
    "mode-P-transparent": (lambda t: palette_png(True), {}, (1, 2, 3), (0, 1), WHITE),
    "mode-P-opaque-index": (lambda t: palette_png(True), {}, (1, 2, 3), (0, 0), BGR_RED),
    "png-16bit-grey-0": (lambda t: png16_grey(), {}, (1, 3, 3), (0, 0), (0, 0, 0)),
    "png-16bit-grey-mid": (lambda t: png16_grey(), {}, (1, 3, 3), (0, 1), (128, 128, 128)),
    "png-16bit-grey-max": (lambda t: png16_grey(), {}, (1, 3, 3), (0, 2), WHITE),
    "png-16bit-rgb": (lambda t: png16_rgb(), {}, (2, 2, 3), (1, 1), (0, 128, 255)),
    "png-rgba-file": (
        lambda t: _file(t, "a.png", encode(Image.new("RGBA", (3, 3), (255, 0, 0, 0)), "PNG")),
        {}, (3, 3, 3), (1, 1), WHITE,
    ),
    "jpeg-cmyk-file": (
        lambda t: _file(t, "c.jpg", encode(Image.new("CMYK", (8, 8), (0, 0, 0, 255)), "JPEG")),
        {}, (8, 8, 3), (4, 4), (0, 0, 0),
    ),
    "gif-animated-first-frame": (lambda t: animated_gif(), {}, (4, 4, 3), (0, 0), BGR_RED),
    "tiff-multipage-first-frame": (lambda t: multipage_tiff(), {}, (4, 4, 3), (0, 0), (0, 255, 0)),
    "webp": (lambda t: encode(Image.new("RGB", (4, 4), (255, 0, 0)), "WEBP", lossless=True), {}, (4, 4, 3), (0, 0), BGR_RED),
    "bmp-1x1": (lambda t: encode(Image.new("RGB", (1, 1), (255, 0, 0)), "BMP"), {}, (1, 1, 3), (0, 0), BGR_RED),
    "bytearray": (lambda t: bytearray(encode(Image.new("L", (2, 2), 9), "PNG")), {}, (2, 2, 3), (0, 0), (9, 9, 9)),
    "memoryview": (lambda t: memoryview(encode(Image.new("L", (2, 2), 9), "PNG")), {}, (2, 2, 3), (0, 0), (9, 9, 9)),
    "str-path": (
        lambda t: str(_file(t, "s.PNG", encode(Image.new("RGB", (2, 2), (255, 0, 0)), "PNG"))),
        {}, (2, 2, 3), (0, 0), BGR_RED,
    ),
    "array-uint8-bgr": (lambda t: np.full((2, 3, 3), (0, 0, 255), np.uint8), {}, (2, 3, 3), (0, 0), BGR_RED),
    "array-uint8-rgb": (
        lambda t: np.full((2, 3, 3), (255, 0, 0), np.uint8), {"rgb_array": True}, (2, 3, 3), (0, 0), BGR_RED,
    ),
    "array-uint8-grey": (lambda t: np.full((2, 3), 40, np.uint8), {}, (2, 3, 3), (1, 1), (40, 40, 40)),
    "array-uint8-grey1": (lambda t: np.full((2, 3, 1), 40, np.uint8), {}, (2, 3, 3), (1, 1), (40, 40, 40)),
    "array-bgra-transparent": (lambda t: np.zeros((2, 2, 4), np.uint8), {}, (2, 2, 3), (0, 0), WHITE),
    "array-bgra-opaque": (
        lambda t: np.full((2, 2, 4), (0, 0, 255, 255), np.uint8), {}, (2, 2, 3), (0, 0), BGR_RED,
    ),
    "array-rgba-opaque": (
        lambda t: np.full((2, 2, 4), (255, 0, 0, 255), np.uint8), {"rgb_array": True}, (2, 2, 3), (0, 0), BGR_RED,
    ),
    "array-uint16": (lambda t: np.full((2, 2, 3), (0, 32768, 65535), np.uint16), {}, (2, 2, 3), (0, 0), (0, 128, 255)),
    "array-float-unit": (lambda t: np.full((2, 2), 1.0, np.float32), {}, (2, 2, 3), (0, 0), WHITE),
    "array-float-255": (lambda t: np.full((2, 2, 3), (0.0, 100.0, 400.0)), {}, (2, 2, 3), (0, 0), (0, 100, 255)),
    "array-float-negative": (lambda t: np.full((2, 2), -5.0), {}, (2, 2, 3), (0, 0), (0, 0, 0)),
    "array-bool": (lambda t: np.ones((2, 2), bool), {}, (2, 2, 3), (0, 0), WHITE),
    "array-int64-small": (lambda t: np.full((2, 2), 7, np.int64), {}, (2, 2, 3), (0, 0), (7, 7, 7)),
    "array-1x1": (lambda t: np.zeros((1, 1, 3), np.uint8), {}, (1, 1, 3), (0, 0), (0, 0, 0)),
}


def _file(tmp: Path, name: str, data: bytes) -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("name", list(GOOD))
def test_good_inputs(name: str, tmp_path: Path) -> None:
    make, kwargs, shape, (y, x), bgr = GOOD[name]
    out = load_image(make(tmp_path), **kwargs)
    assert out.dtype == np.uint8
    assert out.shape == shape
    assert out.flags.c_contiguous
    assert np.abs(out[y, x].astype(int) - np.array(bgr)).max() <= 2, out[y, x]


@pytest.mark.parametrize(
    "orientation, shape, corner",
    [(1, (20, 40, 3), "tl"), (3, (20, 40, 3), "br"), (6, (40, 20, 3), "tr"), (8, (40, 20, 3), "bl")],
)
def test_exif_orientation(orientation: int, shape: tuple, corner: str, tmp_path: Path) -> None:
    path = _file(tmp_path, f"o{orientation}.jpg", exif_jpeg(orientation))
    for source in (path, path.read_bytes()):
        out = load_image(source)
        assert out.shape == shape
        assert np.abs(corner_bgr(out, corner) - np.array(BGR_RED)).max() < 40
        for other in {"tl", "tr", "bl", "br"} - {corner}:
            assert np.abs(corner_bgr(out, other) - 128).max() < 40


@pytest.mark.parametrize("orientation", range(1, 9))
def test_all_exif_orientations_match_pillow(orientation: int) -> None:
    from PIL import ImageOps

    data = exif_jpeg(orientation)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB"))[:, :, ::-1]
    assert np.array_equal(load_image(data), expected)


def test_pil_image_input_is_not_closed() -> None:
    im = Image.new("RGB", (3, 3), (0, 255, 0))
    out = load_image(im)
    assert tuple(out[0, 0]) == (0, 255, 0)
    assert im.getpixel((0, 0)) == (0, 255, 0)


def test_array_input_is_copied() -> None:
    arr = np.zeros((2, 2, 3), np.uint8)
    out = load_image(arr)
    out[:] = 1
    assert arr.max() == 0


@pytest.mark.skipif(not RGBA_FILE.exists(), reason="shared dataset not present")
def test_real_rgba_file() -> None:
    out = load_image(RGBA_FILE)
    with Image.open(RGBA_FILE) as im:
        assert im.mode == "RGBA"
        rgba = np.asarray(im)
    assert out.shape == (rgba.shape[0], rgba.shape[1], 3)
    opaque = rgba[:, :, 3] == 255
    assert np.array_equal(out[opaque], rgba[opaque][:, 2::-1])


# --------------------------------------------------------------------------- bad inputs


def truncated(fmt: str) -> bytes:
    rng = np.random.default_rng(0)
    data = encode(Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)), fmt)
    return data[: len(data) * 2 // 3]


def _dir(t: Path) -> Path:
    (t / "folder.jpg").mkdir()
    return t / "folder.jpg"


# id -> (source factory, expected exception, substring of the message)
BAD: dict[str, tuple[Callable[[Path], Any], type[Exception], str]] = {
    "empty-file": (lambda t: _file(t, "empty.jpg", b""), InvalidImageError, "empty.jpg: file is empty"),
    "empty-bytes": (lambda t: b"", InvalidImageError, "empty"),
    "text-as-jpg": (lambda t: _file(t, "note.jpg", b"hello, not a picture\n"), InvalidImageError, "note.jpg: not a recognised"),
    "truncated-jpeg": (lambda t: _file(t, "cut.jpg", truncated("JPEG")), InvalidImageError, "cut.jpg: file is truncated"),
    "truncated-png": (lambda t: _file(t, "cut.png", truncated("PNG")), InvalidImageError, "cut.png: file is truncated"),
    "random-bytes": (lambda t: np.random.default_rng(1).bytes(1000), InvalidImageError, "not a recognised"),
    "corrupt-png-data": (
        lambda t: raw_png(4, 4, 8, 2, b"\x07" * 52), InvalidImageError, "image data",
    ),
    "directory": (_dir, InvalidImageError, "folder.jpg: is a directory"),
    "missing": (lambda t: t / "nope.png", InvalidImageError, "nope.png: no such file"),
    "zero-pixel-pil": (lambda t: Image.new("RGB", (0, 5)), InvalidImageError, "no pixels"),
    "zero-size-array": (lambda t: np.zeros((0, 4, 3), np.uint8), InvalidImageError, "no pixels"),
    "4d-array": (lambda t: np.zeros((1, 2, 2, 3), np.uint8), InvalidImageError, "shape (1, 2, 2, 3)"),
    "1d-array": (lambda t: np.zeros(5, np.uint8), InvalidImageError, "not an image"),
    "2-channel-array": (lambda t: np.zeros((2, 2, 2), np.uint8), InvalidImageError, "not an image"),
    "object-array": (lambda t: np.full((2, 2), None, object), InvalidImageError, "unsupported pixel type"),
    "nan-array": (lambda t: np.full((2, 2), np.nan), InvalidImageError, "NaN"),
    "not-an-image-type": (lambda t: 42, InvalidImageError, "int"),
    "huge-header-png": (
        lambda t: _file(t, "bomb.png", raw_png(100_000, 100_000, 8, 2)), ImageTooLargeError, "ADLENS_MAX_PIXELS",
    ),
    "huge-header-bytes": (lambda t: raw_png(100_000, 100_000, 8, 2), ImageTooLargeError, "ADLENS_MAX_PIXELS"),
    "over-default-limit": (lambda t: raw_png(8000, 7000, 8, 2), ImageTooLargeError, "8000x7000 = 56,000,000"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_inputs(name: str, tmp_path: Path) -> None:
    make, error, fragment = BAD[name]
    source = make(tmp_path)
    with pytest.raises(error) as info:
        load_image(source)
    assert fragment in str(info.value)


def test_huge_header_refused_before_any_decoder_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    import adlens.imageio as imageio

    def no_decoder(*args: Any) -> None:
        raise AssertionError("a decoder was opened")

    monkeypatch.setattr(imageio, "open_image", no_decoder)
    data = raw_png(100_000, 100_000, 8, 2)
    assert len(data) < 100
    with pytest.raises(ImageTooLargeError):
        load_image(data)


def test_pillow_globals_untouched() -> None:
    from PIL import ImageFile

    before = (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES)
    with pytest.raises(ImageTooLargeError):
        load_image(raw_png(100_000, 100_000, 8, 2))
    with pytest.raises(InvalidImageError):
        load_image(truncated("JPEG"))
    assert (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES) == before


# --------------------------------------------------------------------------- max_pixels


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(lambda: encode(Image.new("RGB", (10, 10)), "PNG"), id="bytes"),
        pytest.param(lambda: Image.new("RGB", (10, 10)), id="pil"),
        pytest.param(lambda: np.zeros((10, 10, 3), np.uint8), id="array"),
    ],
)
def test_max_pixels_keyword(source: Callable[[], Any]) -> None:
    assert load_image(source(), max_pixels=100).shape == (10, 10, 3)
    with pytest.raises(ImageTooLargeError) as info:
        load_image(source(), max_pixels=99)
    message = str(info.value)
    assert "10x10 = 100 pixels" in message and "99" in message and "ADLENS_MAX_PIXELS" in message


def test_max_pixels_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from adlens.settings import get_settings

    monkeypatch.setenv("ADLENS_MAX_PIXELS", "50")
    get_settings.cache_clear()
    try:
        with pytest.raises(ImageTooLargeError):
            load_image(np.zeros((10, 10), np.uint8))
        assert load_image(np.zeros((5, 10), np.uint8)).shape == (5, 10, 3)
    finally:
        get_settings.cache_clear()


# --------------------------------------------------------------------------- iter_image_files


def _tree(root: Path, names: list[str]) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")


def test_iter_image_files_nested_sorted_hidden(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        [
            "b.png", "a.JPG", "c.txt", ".hidden.jpg", "sub/z.webp", "sub/deeper/y.TIFF",
            ".cache/x.jpg", "sub/.git/w.png", "A/1.bmp", "notes.jpg.bak",
        ],
    )
    found = [p.relative_to(tmp_path).as_posix() for p in iter_image_files([tmp_path])]
    assert found == ["A/1.bmp", "a.JPG", "b.png", "sub/deeper/y.TIFF", "sub/z.webp"]
    assert found == [p.relative_to(tmp_path).as_posix() for p in iter_image_files([tmp_path])]


def test_iter_image_files_explicit_files_kept_in_order(tmp_path: Path) -> None:
    _tree(tmp_path, ["odd.xyz", "dir/k.png", "first.gif"])
    found = list(iter_image_files([tmp_path / "odd.xyz", str(tmp_path / "dir"), tmp_path / "first.gif"]))
    assert found == [tmp_path / "odd.xyz", tmp_path / "dir" / "k.png", tmp_path / "first.gif"]


def test_iter_image_files_single_path_and_empty(tmp_path: Path) -> None:
    _tree(tmp_path, ["one.pgm"])
    assert list(iter_image_files(tmp_path)) == [tmp_path / "one.pgm"]
    assert list(iter_image_files([])) == []


def test_iter_image_files_missing_path(tmp_path: Path) -> None:
    _tree(tmp_path, ["ok.png"])
    with pytest.raises(InvalidInputError, match="ghost"):
        iter_image_files([tmp_path / "ok.png", tmp_path / "ghost"])  # raised at call time


def test_image_extensions() -> None:
    assert {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm"} == set(
        IMAGE_EXTENSIONS
    )


def test_cmyk_jpeg_with_unusable_icc_profile_falls_back() -> None:
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()  # RGB profile on CMYK data
    data = encode(Image.new("CMYK", (4, 4), (0, 255, 255, 0)), "JPEG", icc_profile=icc)
    assert np.abs(load_image(data)[0, 0].astype(int) - np.array(BGR_RED)).max() <= 2


@pytest.mark.parametrize(
    "make, fragment",
    [
        pytest.param(lambda t: _file(t, "f.png", b"x") / "inside.png", "cannot read file", id="file-as-folder"),
        pytest.param(lambda t: str(t / "nul\0.png"), "cannot read file", id="nul-in-name"),
    ],
)
def test_unreadable_paths(make: Callable[[Path], Any], fragment: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidImageError, match=fragment):
        load_image(make(tmp_path))


def test_decode_slots_bound_concurrent_decodes(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    import adlens.imagedecode as imagedecode
    from adlens.settings import get_settings

    monkeypatch.setenv("ADLENS_DECODE_SLOTS", "1")
    get_settings.cache_clear()
    inside, most, lock, entered = [0], [0], threading.Lock(), threading.Event()
    original = imagedecode.to_bgr

    def counting(*args: Any) -> np.ndarray:
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        entered.wait(0.05)  # give the other threads a chance to come in if they could
        with lock:
            inside[0] -= 1
        return original(*args)

    monkeypatch.setattr(imagedecode, "to_bgr", counting)
    data = encode(marked(), "PNG")
    try:
        threads = [threading.Thread(target=load_image, args=(data,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        get_settings.cache_clear()
    assert most[0] == 1


@pytest.mark.parametrize(
    "raw, shown",
    [
        pytest.param(b"caf\xe9.jpg", "caf\\xe9.jpg", id="latin-1"),
        pytest.param("café.jpg".encode(), "café.jpg", id="utf-8"),
        pytest.param(b"two\nlines.jpg", "two\\x0alines.jpg", id="newline"),
    ],
)
def test_display_name(raw: bytes, shown: str) -> None:
    assert display_name(os.fsdecode(raw)) == shown
    assert display_name(Path(os.fsdecode(raw))) == shown


def test_broken_symlink(tmp_path: Path) -> None:
    (tmp_path / "gone.jpg").symlink_to(tmp_path / "nowhere.jpg")
    assert list(iter_image_files(tmp_path)) == [tmp_path / "gone.jpg"]
    with pytest.raises(InvalidImageError, match="gone.jpg: broken symbolic link"):
        load_image(tmp_path / "gone.jpg")


def test_path_errors_name_the_file_once(tmp_path: Path) -> None:
    path = _file(tmp_path, "text.jpg", b"hello")
    with pytest.raises(InvalidImageError) as info:
        load_image(path)
    assert str(info.value) == f"{path}: not a recognised image format"
    assert info.value.reason == "not a recognised image format"
