"""Limits and errors at the edge: body size, pixel count, request rate, JSON errors and never a traceback."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from adlens.api.limits import RateLimiter
from adlens.errors import RateLimitedError


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((height, width, 3), np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_body_over_the_limit_is_413(make_api):
    api = make_api(max_upload_bytes=10_000)
    response = api.post("/v1/analyze", files={"image": ("big.bin", b"x" * 20_000, "image/png")})
    assert response.status_code == 413 and response.json()["error"] == "upload_too_large"


def test_a_chunked_body_over_the_limit_is_413(make_api):
    api = make_api(max_upload_bytes=10_000)

    def chunks():
        for _ in range(5):
            yield b"{" * 4000

    response = api.client.post("/v1/decide", content=chunks(),
                               headers={**api.headers("screen"), "Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["error"] == "upload_too_large"


def test_too_many_pixels_is_413_before_any_model_runs(make_api):
    api = make_api(max_pixels=10_000)
    response = api.post("/v1/analyze", role="screen", files={"image": ("wide.png", _png(200, 100), "image/png")})
    assert response.status_code == 413 and response.json()["error"] == "image_too_large"


@pytest.mark.parametrize(("data", "code"), [
    (b"", "invalid_image"), (b"not an image at all", "invalid_image"), (_png(64, 64)[:40], "invalid_image"),
])
def test_bad_images_are_422(api, data, code):
    response = api.post("/v1/analyze", files={"image": ("x.png", data, "image/png")})
    assert response.status_code == 422 and response.json()["error"] == code


def test_rate_limit_per_key_is_429_with_retry_after(make_api):
    api = make_api(api_rate_limit=1, api_rate_burst=3)
    codes = [api.get("/v1/whoami", role="analyst").status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3] == 429
    limited = api.get("/v1/whoami", role="analyst")
    assert limited.json()["error"] == "rate_limited" and int(limited.headers["retry-after"]) >= 1
    assert api.get("/v1/whoami", role="screen").status_code == 200  # another key has its own bucket


def test_rate_limiter_refills_and_zero_means_off():
    now = [0.0]
    limiter = RateLimiter(2.0, 2, clock=lambda: now[0])
    limiter.hit("k")
    limiter.hit("k")
    with pytest.raises(RateLimitedError) as caught:
        limiter.hit("k")
    assert 0 < caught.value.retry_after <= 0.5
    now[0] = 0.5
    limiter.hit("k")
    off = RateLimiter(0, 1)
    for _ in range(100):
        off.hit("k")


def test_unknown_route_and_wrong_method_are_json(api):
    missing = api.get("/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    wrong = api.client.put("/v1/ads", headers=api.headers("admin"))
    assert wrong.status_code == 405 and wrong.json()["error"] == "method_not_allowed"


def test_an_unexpected_error_is_500_without_a_traceback(api, monkeypatch, caplog):
    def broken(*_args, **_kwargs):
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(api.store, "get_customer", broken)
    with caplog.at_level("ERROR", logger="adlens.api"):
        response = api.get("/v1/customers/member-4711")
    assert response.status_code == 500
    assert response.json()["error"] == "internal_error"
    assert "secret" not in response.text and "Traceback" not in response.text
    assert caplog.records[0].getMessage() == "unexpected error in GET /v1/customers/{customer_id}"


def test_image_routes_without_models_are_503(api):
    response = api.post("/v1/analyze", files={"image": ("x.png", _png(64, 64), "image/png")})
    assert response.status_code == 503 and response.json()["error"] == "model_unavailable"


def test_metrics_count_requests_by_route_template(api):
    api.get("/v1/ads/some-ad")
    text = api.get("/metrics", role="analyst").text
    assert 'route="/v1/ads/{ad_id}"' in text and "some-ad" not in text
    assert "adlens_http_request_duration_seconds_bucket" in text


def test_a_json_body_has_a_smaller_limit_than_uploads(make_api):
    api = make_api(max_json_bytes=2_000, max_upload_bytes=100_000)
    audience = {"faces": [{"box": [i, i, 10, 10]} for i in range(100)]}  # about 3 kB
    response = api.post("/v1/decide", role="screen", json=audience)
    assert response.status_code == 413 and "ADLENS_MAX_JSON_BYTES" in response.json()["message"]
    upload = api.post("/v1/analyze", role="screen", files={"image": ("x.png", _png(64, 64), "image/png")})
    assert upload.status_code == 503  # past the JSON limit, under the upload limit: it reached the route


def test_a_streamed_json_body_is_cut_off_at_its_limit_before_it_is_parsed(make_api):
    from .conftest import call_asgi

    api = make_api(max_json_bytes=2_000)
    chunk = {"type": "http.request", "body": b"[" * 1_000, "more_body": True}
    answer = call_asgi(api.client.app, "POST", "/v1/decide",
                       {**api.headers("screen"), "Content-Type": "application/json"}, [chunk] * 50, hang=True)
    assert answer.status == 413 and answer.reads <= 4 and b"upload_too_large" in answer.body


def test_a_body_that_does_not_arrive_in_time_is_408(make_api):
    from .conftest import call_asgi

    api = make_api(api_body_timeout=0.2)
    for kind, start in (("application/json", b"{"), ("multipart/form-data; boundary=b", b"--b\r\n")):
        answer = call_asgi(api.client.app, "POST", "/v1/decide", {**api.headers("screen"), "Content-Type": kind},
                           [{"type": "http.request", "body": start, "more_body": True}], hang=True)
        assert answer.status == 408 and b'"request_timeout"' in answer.body, answer


@pytest.mark.parametrize(("path", "kind"), [
    ("/v1/decide", "application/json"), ("/v1/decide", "multipart/form-data; boundary=b"),
    ("/v1/analyze", "multipart/form-data; boundary=b"), ("/v1/reward", "application/json"),
    ("/v1/catalog", "multipart/form-data; boundary=b"),
])
def test_a_client_leaving_mid_body_is_one_line_at_info(api, caplog, path, kind):
    from .conftest import call_asgi

    with caplog.at_level("DEBUG", logger="adlens"):
        call_asgi(api.client.app, "POST", path, {**api.headers("admin"), "Content-Type": kind},
                  [{"type": "http.request", "body": b'--b\r\nContent-Disposition: form-data; name="image"; '
                    b'filename="x.png"\r\n\r\n\x89PNG' if "multipart" in kind else b'{"faces"', "more_body": True}])
    api_records = [r for r in caplog.records if r.name == "adlens.api"]
    assert [r.levelname for r in api_records] == ["INFO"], [r.getMessage() for r in api_records]
    assert "client left" in api_records[0].getMessage() and not api_records[0].exc_info


def test_rate_limiter_forgets_idle_names_past_its_bound():
    now = [0.0]
    limiter = RateLimiter(1.0, 2, clock=lambda: now[0], max_names=10)
    for i in range(10):
        limiter.hit(f"name-{i}")
    now[0] = 100.0  # every bucket has refilled
    limiter.hit("another")
    assert len(limiter._buckets) == 1
    limiter.check("another")  # checking takes nothing
    limiter.hit("another")
    with pytest.raises(RateLimitedError):
        limiter.check("another")


def test_an_11_5_mb_audience_json_is_refused_unparsed(api, monkeypatch):
    from adlens.api import schemas

    parsed = []
    monkeypatch.setattr(schemas.AudienceIn, "model_validate_json", classmethod(lambda cls, data: parsed.append(1)))
    body = b'{"faces": [' + b'{"box": [1, 2, 3, 4]},' * 550_000 + b'{"box": [1, 2, 3, 4]}]}'
    assert len(body) > 11_500_000
    response = api.client.post("/v1/decide", content=body,
                               headers={**api.headers("screen"), "Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["error"] == "upload_too_large" and not parsed
