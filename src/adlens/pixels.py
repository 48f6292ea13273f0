"""Any pixels to a contiguous uint8 BGR array: a decoded Pillow image band by band, or a caller's numpy array.

Wide pixel types (16-bit, 32-bit, float) are scaled to 0..255, alpha is composited over
white, CMYK goes through its ICC profile. Conversions run over blocks of about
:data:`BLOCK` elements, so that a large or wide image never takes a full-size temporary.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import cv2
import numpy as np
from PIL import Image

from adlens.errors import ImageTooLargeError, InvalidImageError

BLOCK = 1 << 20  # elements converted at a time, so that wide pixel types never take a full-size copy


def image_error(label: str, reason: str, error: type[InvalidImageError] = InvalidImageError) -> InvalidImageError:
    """The error for ``label``; the reason alone is kept in ``error.reason`` for callers that name the file."""
    return error(f"{label}: {reason}", reason=reason)


def check_size(width: int, height: int, label: str, limit: int) -> None:
    """Refuse images with no pixels or with more than ``limit`` pixels."""
    if width <= 0 or height <= 0:
        raise image_error(label, f"image has no pixels ({width}x{height})")
    if width * height > limit:
        raise image_error(label, f"image is {width}x{height} = {width * height:,} pixels, more than the "
                          f"limit of {limit:,} pixels (raise ADLENS_MAX_PIXELS to allow it)", ImageTooLargeError)


def orient(bgr: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation to the decoded array, as :func:`PIL.ImageOps.exif_transpose` would."""
    if orientation == 1:
        return bgr
    view = {
        2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
        5: lambda a: a.transpose(1, 0, 2), 6: lambda a: a[::-1].transpose(1, 0, 2),
        7: lambda a: a[::-1, ::-1].transpose(1, 0, 2), 8: lambda a: a[:, ::-1].transpose(1, 0, 2),
    }[orientation](bgr)
    return np.ascontiguousarray(view)


def to_bgr(im: Image.Image, label: str, factor: int = 1) -> np.ndarray:
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
    step = max(factor, BLOCK // max(1, width) // factor * factor)
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
    """One band of :func:`to_bgr`; ``extrema`` (of the whole image) fixes how wide pixels are scaled."""
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
        raise image_error(label, f"unsupported image mode {mode!r}") from None
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


def from_array(arr: np.ndarray, limit: int, rgb_array: bool, label: str) -> np.ndarray:
    """Validate a (H,W), (H,W,1), (H,W,3) or (H,W,4) array and return BGR uint8."""
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 3, 4)):
        raise image_error(label, f"array of shape {arr.shape} is not an image: expected (H, W), (H, W, 1), "
                          "(H, W, 3) or (H, W, 4)")
    check_size(arr.shape[1], arr.shape[0], label, limit)
    pixels = _scale_to_uint8(arr, label)
    if pixels.ndim == 2 or pixels.shape[2] == 1:
        return cv2.cvtColor(np.ascontiguousarray(pixels.reshape(pixels.shape[:2])), cv2.COLOR_GRAY2BGR)
    if pixels.shape[2] == 4:
        return _over_white(pixels, bgr=rgb_array)
    out = np.ascontiguousarray(pixels[:, :, ::-1] if rgb_array else pixels)
    return out.copy() if np.shares_memory(out, arr) else out


def _blocks(arr: np.ndarray) -> Iterator[slice]:
    """Row ranges of ``arr`` holding about ``BLOCK`` elements each."""
    per_row = max(1, arr[:1].size)
    step = max(1, BLOCK // per_row)
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
            raise image_error(label, "image contains NaN or infinite values")
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
    raise image_error(label, f"unsupported pixel type {arr.dtype}")


def _over_white(rgba: np.ndarray, *, bgr: bool = False) -> np.ndarray:
    """Composite 4-channel uint8 pixels over white, dropping alpha (and swapping R and B when ``bgr``)."""
    colour = rgba[:, :, 2::-1] if bgr else rgba[:, :, :3]
    out = np.empty(colour.shape, np.uint8)
    for rows in _blocks(rgba):
        alpha = rgba[rows, :, 3:4].astype(np.uint32)
        out[rows] = (colour[rows].astype(np.uint32) * alpha + 255 * (255 - alpha) + 127) // 255
    return out
