"""Bounds at the edge: every number bounded, every id and search printable, on both stores (never a 500)."""

from __future__ import annotations

import pytest

from pydantic import ValidationError

from adlens.api.schemas import PRINTABLE, AudienceIn, FaceIn
from adlens.columns import ATTRIBUTE_NAMES

BOX = [10, 10, 50, 50]


@pytest.mark.parametrize(("face", "where"), [
    ({"box": [1e308, 1, 1, 1]}, "faces.0.box.0"),
    ({"box": [1, 1, 1e308, 1e308]}, "faces.0.box.2"),
    ({"box": [1, 1, -5, 5]}, "faces.0.box.2"),
    ({"box": BOX, "landmarks": [[1e300, 1e300]] * 5}, "faces.0.landmarks.0.0"),
    ({"box": BOX, "score": 1e308}, "faces.0.score"),
    ({"box": BOX, "age": 1e308}, "faces.0.age"),
])
def test_huge_numbers_in_audience_json_are_422(api, face, where):
    response = api.post("/v1/decide", role="screen", json={"faces": [face]})
    assert response.status_code == 422 and response.json()["message"].startswith(where), response.text


@pytest.mark.parametrize("text", ['{"faces": [{"box": [NaN, 1, 2, 2]}]}', '{"faces": [{"box": [1, 1, Infinity, 2]}]}'])
def test_nan_and_infinity_are_refused(api, text):
    response = api.client.post("/v1/decide", content=text,
                               headers={**api.headers("screen"), "Content-Type": "application/json"})
    assert response.status_code == 422, response.text


def test_audience_json_within_bounds_becomes_faces():
    faces = AudienceIn.model_validate({"faces": [{"box": [-20, 5, 99_999, 80]}]}).to_faces()
    assert len(faces) == 1 and faces.boxes[0, 2] == pytest.approx(99_999)


@pytest.fixture()
def both(make_api, store_url):
    """An app over SQLite or PostgreSQL, holding one product."""
    api = make_api(database_url=store_url)
    from adlens.products.types import Product

    api.store.upsert_product(Product(id="p1", name="Red shoe"))
    return api


@pytest.mark.parametrize(("path", "params"), [
    ("/v1/catalog", {"offset": 2**63}),
    ("/v1/catalog", {"offset": -1}),
    ("/v1/catalog", {"limit": 2**63}),
    ("/v1/catalog", {"search": "\x00"}),
    ("/v1/catalog", {"search": "a\nb"}),
    ("/v1/catalog", {"search": "x" * 201}),
    ("/v1/catalog/p%001", {}),
    ("/v1/catalog/p%001/aspects", {}),
    ("/v1/ads/a%00", {}),
    ("/v1/ads/a/creatives/c%00/image", {}),
    ("/v1/customers/c%00", {}),
    ("/v1/customers/c%00/recommendations", {}),
    ("/v1/uplift/campaigns/c%00", {}),
    ("/v1/customers/" + "c" * 129, {}),
    ("/v1/reports/live", {"minutes": "nan"}),
    ("/v1/uplift/campaigns/c", {"min": "inf"}),
])
def test_out_of_range_parameters_are_422(both, path, params):
    response = both.get(path, params=params)
    assert response.status_code == 422 and response.json()["error"] == "invalid_request", response.text


@pytest.mark.parametrize("path", ["/v1/customers/c%00", "/v1/gallery/c%00", "/v1/ads/a%00",
                                  "/v1/uplift/campaigns/c%00"])
def test_a_nul_in_an_id_to_delete_is_422(both, path):
    assert both.delete(path).status_code == 422


@pytest.mark.parametrize("search", ["%", "_", "%00", "\\"])
def test_search_matches_literally(both, search):
    body = both.get("/v1/catalog", params={"search": search}).json()
    assert body["total"] == 0 and body["items"] == []
    assert both.get("/v1/catalog", params={"search": "RED"}).json()["total"] == 1


def test_the_store_refuses_a_nul_in_a_search(both):
    from adlens.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="NUL"):
        both.store.list_products(search="\x00")


@pytest.mark.parametrize("params", [
    {"since": "0001-01-01T00:00:00+14:00"}, {"since": "0001-01-01"}, {"since": "99999999d"},
    {"since": "2026-01-01\x00"}, {"since": "9999-12-31"},
])
@pytest.mark.parametrize("route", ["/v1/reports", "/v1/reports/plots", "/v1/reports/html"])
def test_report_periods_at_the_calendar_edges_are_4xx(api, route, params):
    response = api.get(route, params=params, role="analyst")
    assert response.status_code in (400, 422)
    assert response.json()["error"] in ("invalid_input", "invalid_request", "invalid_time")


@pytest.mark.parametrize("until", ["9999-12-31T23:59:59-14:00", "9999-12-31"])
@pytest.mark.parametrize("route", ["/v1/reports", "/v1/reports/plots", "/v1/reports/html"])
def test_an_until_past_the_clock_is_cut_to_now(api, route, until):
    assert api.get(route, params={"until": until}, role="analyst").status_code == 200


def test_a_screen_id_with_control_characters_is_refused(api):
    response = api.post("/v1/decide", role="screen", files={"image": ("x.png", b"x", "image/png")},
                        data={"screen": "a\x00b"})
    assert response.status_code == 400 and "screen" in response.json()["message"]


def _bounded(schema: dict) -> bool:
    """Whether a parameter's schema bounds its value (strings by length, numbers by a maximum)."""
    options = schema.get("anyOf", [schema])
    return all(s.get("type") in ("boolean", "null") or "enum" in s or "const" in s
               or (s.get("type") == "string" and "maxLength" in s)
               or (s.get("type") in ("integer", "number") and ("maximum" in s or "exclusiveMaximum" in s))
               for s in options)


def test_every_parameter_of_every_route_is_bounded(api):
    paths = api.client.get("/openapi.json").json()["paths"]
    loose = [f"{method.upper()} {path} {p['name']}" for path, methods in paths.items()
             for method, operation in methods.items() for p in operation.get("parameters", [])
             if not _bounded(p["schema"])]
    assert loose == []


def test_every_path_id_refuses_control_characters(api):
    paths = api.client.get("/openapi.json").json()["paths"]
    ids = [p for methods in paths.values() for operation in methods.values()
           for p in operation.get("parameters", []) if p["in"] == "path"]
    assert ids and all(p["schema"].get("pattern") == PRINTABLE for p in ids)


@pytest.mark.parametrize(("field", "value"), [("customer", "c\x00"), ("customer", "c" * 129), ("consent", "yes\x00"),
                                              ("expires", "2030-01-01\n")])
def test_enrolment_fields_are_bounded_and_printable(both, field, value):
    form = {"customer": "c1", "consent": "I agree.\nSigned.", field: value}
    response = both.post("/v1/gallery", data=form, files={"images": ("x.png", b"x", "image/png")})
    assert response.status_code == 422 and response.json()["message"].startswith(f"{field}: "), response.text
    assert "pattern" not in response.json()["message"]


@pytest.mark.parametrize(("name", "value", "error"), [
    *((name, 0.7, None) for name in ATTRIBUTE_NAMES),
    *((name, 1.5, ValidationError) for name in ATTRIBUTE_NAMES),
])
def test_face_json_takes_every_declared_attribute(name, value, error):
    if error:
        with pytest.raises(error):
            FaceIn(box=BOX, **{name: value})
        return
    faces = AudienceIn(faces=[{"box": BOX, name: value}, {"box": BOX, name: 0.1}]).to_faces()
    assert faces.data[name].tolist() == pytest.approx([value, 0.1])

