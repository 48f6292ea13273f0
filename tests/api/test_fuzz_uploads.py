"""Fuzz: a subset of the seeded image corpus uploaded to /v1/analyze and /v1/decide: never a 5xx.

Each refusal is a JSON error naming the upload's file name, in adlens's words.
The library and the CLI take the whole corpus in tests/test_fuzz_images.py.
"""

from __future__ import annotations

import pytest

from helpers import MODELS
from imagecorpus import REPROS, corpus

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow's notes on corrupt EXIF and tags

# Every repro, every format header, and one in four of the rest: a few seconds through the real models.
SUBSET = [(name, data) for i, (name, data) in enumerate(corpus())
          if name in REPROS or name.startswith(("magic-", "huge-", "ok-")) or i % 4 == 0]


@pytest.mark.parametrize("route", ["/v1/analyze", "/v1/decide"])
def test_uploads_never_5xx(make_api, route):
    if not MODELS.is_dir():
        pytest.skip(f"models not found: {MODELS}")
    api = make_api(models=True, api_rate_limit=0)
    for name, data in SUBSET:
        upload = f"{name}.jpg"
        response = api.post(route, role="screen", files={"image": (upload, data, "image/jpeg")})
        assert response.status_code < 500, (name, response.status_code, response.text)
        if response.status_code >= 400:
            body = response.json()
            assert set(body) >= {"error", "message"}, body
            if body["error"] in ("invalid_image", "image_too_large"):
                assert body["message"].startswith(f"{upload}: ") and "image data" not in body["message"], body
                assert not any(word in body["message"] for word in ("<_io", "PIL", "Pillow")), body
