"""Tests for adlens.pixels: conversion band by band equals conversion whole, and takes no wide copy."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image

from adlens.imageio import load_image
from imagecorpus import marked, png16


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: Image.fromarray(np.arange(60 * 50, dtype=np.uint16).reshape(60, 50) * 20), id="I;16"),
        pytest.param(lambda: Image.new("I", (50, 60), 70_000).point(lambda v: v), id="I-wide"),
        pytest.param(lambda: Image.fromarray(np.linspace(0, 2, 3000, dtype=np.float32).reshape(60, 50)), id="F"),
        pytest.param(lambda: marked(50, 60).convert("RGBA"), id="RGBA"),
        pytest.param(lambda: marked(50, 60).convert("CMYK"), id="CMYK"),
        pytest.param(lambda: marked(50, 60).quantize(4), id="P"),
    ],
)
@pytest.mark.parametrize("max_side", [0, 20])
def test_band_conversion_equals_whole(
    make: Callable[[], Image.Image], max_side: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    import adlens.pixels as pixels

    whole = load_image(make(), max_side=max_side)
    monkeypatch.setattr(pixels, "BLOCK", 120)  # bands of 2 rows (3 when reduced by 3)
    assert np.array_equal(load_image(make(), max_side=max_side), whole)
    # Pillow's reduce keeps a partial last block (17 columns); band reduction drops it (16)
    assert whole.shape in ([(60, 50, 3)] if max_side == 0 else [(20, 16, 3), (20, 17, 3)])


def test_sixteen_bit_png_takes_no_wide_copy() -> None:
    import tracemalloc

    data = png16(2000, 1500)
    tracemalloc.start()
    try:
        out = load_image(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.shape == (1500, 2000, 3)
    # the result and one band's temporaries; whole-image uint32 copies took 12+ B/px (36 MB here)
    assert peak < out.nbytes + 16_000_000
