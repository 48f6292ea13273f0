"""Every error body has one shape, ``{"error", "message"}`` (422s add ``details``), without pydantic's wording."""

from __future__ import annotations

import pytest

from adlens.api.errors import validation_response


def _shaped(response, status: int, code: str) -> dict:
    body = response.json()
    assert response.status_code == status and body["error"] == code, response.text
    assert set(body) <= {"error", "message", "details"} and body["message"]
    return body


@pytest.mark.parametrize(("path", "body", "field", "words"), [
    ("/v1/decide", {"faces": [{"box": [0, 0, 10, 10], "emotion": {"joy": 1}}]}, "faces.0.emotion", "unknown emotions"),
    ("/v1/reward", {"decision_id": "d", "value": -1}, "value", "greater than or equal to 0"),
    ("/v1/feedback", {"customer": "c\x00", "product": "p", "feedback": "like"}, "customer", "control characters"),
])
def test_422_names_the_field_without_pydantic_prefixes_or_links(api, path, body, field, words):
    response = api.post(path, json=body)
    found = _shaped(response, 422, "invalid_request")
    assert found["message"].startswith(f"{field}: ") and words in found["message"]
    assert "Value error" not in response.text and "errors.pydantic.dev" not in response.text
    assert all("url" not in d and "input" not in d for d in found["details"])


def test_a_query_parameter_problem_is_422_in_the_same_shape(api):
    found = _shaped(api.get("/v1/catalog", params={"limit": "many"}), 422, "invalid_request")
    assert found["message"].startswith("query.limit: ") and "url" not in found["details"][0]


def test_validation_response_keeps_limits_and_drops_the_rest():
    errors = [{"type": "value_error", "loc": ("body", "x"), "msg": "Value error, bad x", "input": "secret",
               "ctx": {"error": ValueError("bad x"), "le": 3}, "url": "https://errors.pydantic.dev/2/v/value_error"}]
    body = validation_response(errors).body.decode()
    assert '"message":"x: bad x"' in body and '"ctx":{"le":3}' in body
    assert "secret" not in body and "pydantic.dev" not in body


@pytest.mark.parametrize("headers", [{}, {"Content-Type": "multipart/form-data; boundary=b"}])
def test_413_has_the_shape_of_every_error(make_api, headers):
    api = make_api(max_upload_bytes=1_000)
    response = api.client.post("/v1/catalog", content=b"x" * 5_000, headers={**api.headers("admin"), **headers})
    assert _shaped(response, 413, "upload_too_large")["message"].startswith("the request body is larger than")
