"""Malformed and awkward images built in code from a fixed seed (no binary files in the repository).

:func:`corpus` returns a few hundred ``(name, bytes)`` pairs: the repros of issue 14, wrong headers of
every format Pillow knows, truncations, bit flips, huge claimed sizes, a progressive JPEG with thousands of
scans, 16-bit, CMYK, alpha and EXIF-rotated pictures. The fuzz tests feed them to the library, the CLI
and the API; :func:`jpeg_claiming`, :func:`many_scan_jpeg`, :func:`png16`, :func:`raw_png` and :func:`marked`
also serve the decoding tests.
"""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import numpy as np
from PIL import Image

SEED = 14
#: Pure red in OpenCV's channel order.
BGR_RED = (0, 0, 255)


def encode(im: Image.Image, fmt: str, **kw: Any) -> bytes:
    """``im`` saved in ``fmt`` to bytes."""
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk with its CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def raw_png(width: int, height: int, depth: int, colour: int, rows: bytes = b"") -> bytes:
    """A PNG built by hand: IHDR with any size, IDAT holding ``rows`` (may be empty)."""
    return _png(width, height, depth, colour, zlib.compress(rows) if rows else b"")


def png16(width: int, height: int) -> bytes:
    """A 16-bit greyscale PNG of a horizontal ramp, built row by row (a 7000×7000 one is a few hundred KB)."""
    row = b"\x00" + np.linspace(0, 65535, width).astype(">u2").tobytes()
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    return _png(width, height, 16, 0, data)


def _png(width: int, height: int, depth: int, colour: int, idat: bytes) -> bytes:
    """Signature, IHDR, the compressed ``idat`` (no IDAT chunk when empty) and IEND."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    chunks = png_chunk(b"IHDR", ihdr) + (png_chunk(b"IDAT", idat) if idat else b"")
    return b"\x89PNG\r\n\x1a\n" + chunks + png_chunk(b"IEND", b"")


def marked(width: int = 40, height: int = 20) -> Image.Image:
    """Grey image with a pure red block in its top-left corner."""
    im = Image.new("RGB", (width, height), (128, 128, 128))
    im.paste((255, 0, 0), (0, 0, 8, 8))
    return im


def _noise(width: int, height: int, mode: str = "RGB", seed: int = SEED) -> Image.Image:
    rng = np.random.default_rng(seed)
    channels = len(Image.new(mode, (1, 1)).getbands())
    shape = (height, width, channels) if channels > 1 else (height, width)
    return Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode)


def jpeg_claiming(width: int, height: int, progressive: bool = False, data_bytes: int = 0) -> bytes:
    """A JPEG header (tables, SOF, SOS) that claims ``width``×``height``, with ``data_bytes`` of scan data."""
    data = bytearray(encode(_noise(64, 64), "JPEG", progressive=progressive))
    sof = next(i for i in range(2, len(data) - 1) if data[i] == 0xFF and data[i + 1] in (0xC0, 0xC2))
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    sos = data.index(b"\xff\xda")
    length = struct.unpack(">H", data[sos + 2:sos + 4])[0]
    return bytes(data[:sos + 2 + length + data_bytes])


def many_scan_jpeg(scans: int, size: int = 32) -> bytes:
    """A small progressive JPEG whose shortest scan is repeated until it has ``scans`` scans."""
    data = encode(_noise(size, size), "JPEG", progressive=True, quality=90)
    starts = [i for i in range(len(data) - 1) if data[i:i + 2] == b"\xff\xda"]
    ends = starts[1:] + [len(data) - 2]
    start, end = min(zip(starts, ends), key=lambda se: se[1] - se[0])
    extra = max(0, scans - len(starts))
    return data[:end] + data[start:end] * extra + data[end:]


def exif_rotated(orientation: int) -> bytes:
    """A small JPEG with an EXIF orientation tag."""
    im = _noise(24, 16)
    exif = im.getexif()
    exif[0x0112] = orientation
    return encode(im, "JPEG", exif=exif)


# What issue 14 reproduced: each escaped load_image as OSError, ValueError, NotImplementedError…
REPROS: dict[str, bytes] = {
    "repro-jpeg-dqt-cut": b"\xff\xd8\xff\xdb\x00\x84\x00",
    "repro-ppm-junk": b"P6\n4 4\n255\n" + b"\x00junk",
    "repro-ppm-bad-maxval": b"P6\n4 4\n0\n" + b"\x00" * 48,
    "repro-webp-junk": b"RIFF\x20\x00\x00\x00WEBPVP8 \x14\x00\x00\x00" + b"junk" * 8,
    "repro-sgi-junk": b"\x01\xda\x01\x01\x00\x03\x00\x10\x00\x10\x00\x03" + b"\x00" * 100,
    "repro-dds-header": b"DDS |\x00\x00\x00\x07\x10\x08\x00\x10\x00\x00\x00\x10\x00\x00\x00" + b"\x00" * 108,
    "repro-avif-junk": b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + b"\x00" * 64,
    "repro-jpeg-7000-header": jpeg_claiming(7000, 7000, data_bytes=300),
    "repro-jpeg-7000-progressive-header": jpeg_claiming(7000, 7000, progressive=True),
    "repro-jpeg-5000-scans": many_scan_jpeg(5000),
}

# Leading bytes of formats Pillow knows (and a few it does not), each followed by junk.
MAGICS: dict[str, bytes] = {
    "jpeg": b"\xff\xd8\xff\xe0", "png": b"\x89PNG\r\n\x1a\n", "gif87": b"GIF87a", "gif89": b"GIF89a",
    "bmp": b"BM", "tiff-le": b"II*\x00", "tiff-be": b"MM\x00*", "bigtiff": b"II+\x00",
    "webp": b"RIFF\x00\x00\x00\x00WEBP", "ppm": b"P6\n", "pgm": b"P5\n", "pbm": b"P4\n", "pfm": b"Pf\n",
    "pam": b"P7\n", "ico": b"\x00\x00\x01\x00", "cur": b"\x00\x00\x02\x00", "icns": b"icns",
    "psd": b"8BPS", "pcx": b"\x0a\x05\x01\x08", "dcx": b"\xb1\x68\xde\x3a", "sgi": b"\x01\xda",
    "dds": b"DDS ", "eps": b"%!PS-Adobe-3.0 EPSF-3.0", "eps-binary": b"\xc5\xd0\xd3\xc6",
    "fits": b"SIMPLE  =                    T", "fli": b"\x00\x00\x00\x00\x11\xaf", "ftex": b"FTEX",
    "gbr": b"\x00\x00\x00\x1c\x00\x00\x00\x02", "im": b"Image type: ", "iptc": b"\x1c\x01",
    "jpeg2000": b"\x00\x00\x00\x0cjP  \r\n\x87\n", "j2k": b"\xff\x4f\xff\x51", "mcidas": b"\x00\x00\x00\x00\x00\x00\x00\x04",
    "msp": b"DanM", "pixar": b"\x80\xe8\x00\x00", "qoi": b"qoif", "sun": b"\x59\xa6\x6a\x95",
    "tga": b"\x00\x00\x02\x00\x00\x00\x00\x00", "xbm": b"#define im_width 8\n", "xpm": b"/* XPM */",
    "xvthumb": b"P7 332", "blp": b"BLP2", "spider": struct.pack(">f", 1.0) * 5, "wmf": b"\xd7\xcd\xc6\x9a",
    "avif": b"\x00\x00\x00\x1cftypavif", "heic": b"\x00\x00\x00\x18ftypheic", "mpo": b"\xff\xd8\xff\xe1",
    "gd": b"\xff\xfe\x00\x10\x00\x10\x00", "palm": b"\x00\x10\x00\x10", "pdf": b"%PDF-1.4", "svg": b"<svg ",
}


def _valid() -> dict[str, bytes]:
    """Well-formed pictures of awkward kinds (all must decode)."""
    rgba = _noise(20, 12, "RGBA")
    return {
        "ok-jpeg": encode(_noise(32, 24), "JPEG"),
        "ok-jpeg-progressive": encode(_noise(32, 24), "JPEG", progressive=True),
        "ok-jpeg-cmyk": encode(_noise(16, 16, "CMYK"), "JPEG"),
        "ok-jpeg-grey": encode(_noise(16, 16, "L"), "JPEG"),
        "ok-png-rgba": encode(rgba, "PNG"),
        "ok-png-la": encode(rgba.convert("LA"), "PNG"),
        "ok-png-palette": encode(_noise(16, 16).quantize(16), "PNG"),
        "ok-png-16bit": png16(32, 16),
        "ok-png-1bit": encode(_noise(16, 16).convert("1"), "PNG"),
        "ok-gif": encode(_noise(16, 16).quantize(8), "GIF"),
        "ok-bmp": encode(_noise(16, 16), "BMP"),
        "ok-tiff": encode(_noise(16, 16), "TIFF"),
        "ok-tiff-cmyk": encode(_noise(16, 16, "CMYK"), "TIFF"),
        "ok-tiff-16bit": encode(Image.fromarray(np.full((8, 8), 40000, np.uint16)), "TIFF"),
        "ok-tiff-float": encode(Image.fromarray(np.full((8, 8), 0.5, np.float32)), "TIFF"),
        "ok-webp": encode(_noise(16, 16), "WEBP"),
        "ok-webp-alpha": encode(rgba, "WEBP", lossless=True),
        "ok-ppm": encode(_noise(8, 8), "PPM"),
        "ok-pgm": encode(_noise(8, 8, "L"), "PPM"),
        **{f"ok-exif-{o}": exif_rotated(o) for o in range(1, 9)},
    }


def _huge_claims() -> dict[str, bytes]:
    """Headers claiming huge or zero sizes over next to no data."""
    ihdr = lambda w, h, depth=8, colour=2: png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, 0))
    sig = b"\x89PNG\r\n\x1a\n"
    return {
        "huge-png-100k": sig + ihdr(100_000, 100_000) + png_chunk(b"IEND", b""),
        "huge-png-7000-16bit-empty": sig + ihdr(7000, 7000, 16, 0) + png_chunk(b"IEND", b""),
        "huge-png-zero-width": sig + ihdr(0, 10) + png_chunk(b"IEND", b""),
        "huge-png-max-int": sig + ihdr(0x7FFFFFFF, 0x7FFFFFFF) + png_chunk(b"IEND", b""),
        "huge-jpeg-65535": jpeg_claiming(65535, 65535),
        "huge-jpeg-7000x1": jpeg_claiming(7000, 1),
        "huge-jpeg-zero": jpeg_claiming(0, 16),
        "huge-gif": b"GIF89a" + struct.pack("<HH", 65535, 65535) + b"\x00\x00\x00;",
        "huge-bmp": b"BM" + struct.pack("<IHHI", 0, 0, 0, 54) + struct.pack("<IiiHHIIiiII", 40, 60000, 60000, 1, 24, 0, 0, 0, 0, 0, 0),
        "huge-ppm": b"P6\n60000 60000\n255\n\x00\x00\x00",
        "huge-ppm-negative": b"P6\n-5 4\n255\n\x00\x00\x00",
        "huge-pgm-16bit": b"P5\n7000 7000\n65535\n\x00\x00",
        "huge-tiff": encode(Image.new("L", (8, 8)), "TIFF").replace(struct.pack("<HHII", 256, 3, 1, 8), struct.pack("<HHII", 256, 4, 1, 1_000_000), 1),
        "huge-webp-vp8x": b"RIFF\x20\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff",
    }


def corpus(size: int = 300) -> list[tuple[str, bytes]]:
    """About ``size`` named byte strings: valid awkward pictures, repros, wrong headers, truncations, flips."""
    rng = np.random.default_rng(SEED)
    valid = _valid()
    items: dict[str, bytes] = {**valid, **REPROS, **_huge_claims()}
    for name, magic in MAGICS.items():
        items[f"magic-{name}-junk"] = magic + rng.bytes(int(rng.integers(0, 200)))
        items[f"magic-{name}-only"] = magic
    items["empty"] = b""
    items["text"] = b"hello, not a picture\n"
    sources = list(valid.items())
    while len(items) < size:
        name, data = sources[int(rng.integers(len(sources)))]
        kind = int(rng.integers(3))
        if kind == 0:  # truncated
            cut = int(rng.integers(1, len(data)))
            items[f"cut-{name}-{cut}"] = data[:cut]
        elif kind == 1:  # bit flips
            flipped = bytearray(data)
            for _ in range(int(rng.integers(1, 9))):
                i = int(rng.integers(len(flipped)))
                flipped[i] ^= 1 << int(rng.integers(8))
            items[f"flip-{name}-{len(items)}"] = bytes(flipped)
        else:  # a run of junk in the middle
            start = int(rng.integers(len(data)))
            junk = rng.bytes(int(rng.integers(1, 64)))
            items[f"junk-{name}-{start}"] = data[:start] + junk + data[start + len(junk):]
    return list(items.items())
