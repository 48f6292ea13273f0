"""API keys and roles: every route but /healthz needs a key, and each role reaches only its routes."""

from __future__ import annotations

import pytest

from adlens.api.keys import KeyChecker, create_key, hash_key
from adlens.errors import AuthenticationError

A, S, N = "admin", "screen", "analyst"

#: Every API route with the roles that may call it (admin may call everything).
ROUTES = {
    ("GET", "/metrics"): {A, N},
    ("GET", "/v1/whoami"): {A, S, N},
    ("POST", "/v1/analyze"): {A, S},
    ("POST", "/v1/decide"): {A, S},
    ("POST", "/v1/reward"): {A, S},
    ("GET", "/v1/slideshow"): {A, S},
    ("POST", "/v1/slideshow/plays"): {A, S},
    ("GET", "/v1/ads"): {A, S, N},
    ("POST", "/v1/ads"): {A},
    ("GET", "/v1/ads/{ad_id}"): {A, S, N},
    ("DELETE", "/v1/ads/{ad_id}"): {A},
    ("GET", "/v1/ads/{ad_id}/creatives/{creative_id}/image"): {A, S, N},
    ("GET", "/v1/catalog"): {A, N},
    ("POST", "/v1/catalog"): {A},
    ("GET", "/v1/catalog/{product_id}"): {A, N},
    ("GET", "/v1/catalog/{product_id}/aspects"): {A, N},
    ("GET", "/v1/catalog/{product_id}/image"): {A, N},
    ("POST", "/v1/feedback"): {A},
    ("GET", "/v1/customers"): {A, N},
    ("GET", "/v1/customers/{customer_id}"): {A, N},
    ("DELETE", "/v1/customers/{customer_id}"): {A},
    ("GET", "/v1/customers/{customer_id}/recommendations"): {A, N},
    ("GET", "/v1/segments"): {A, N},
    ("POST", "/v1/segments"): {A},
    ("GET", "/v1/gallery"): {A},
    ("POST", "/v1/gallery"): {A},
    ("POST", "/v1/gallery/identify"): {A},
    ("DELETE", "/v1/gallery/{customer_id}"): {A},
    ("GET", "/v1/reports"): {A, N},
    ("GET", "/v1/reports/plots"): {A, N},
    ("GET", "/v1/reports/html"): {A, N},
    ("GET", "/v1/reports/live"): {A, N},
    ("GET", "/v1/uplift/campaigns"): {A, N},
    ("GET", "/v1/uplift/campaigns/{campaign}"): {A, N},
    ("DELETE", "/v1/uplift/campaigns/{campaign}"): {A},
}
PUBLIC = {("GET", "/healthz"), ("GET", "/"), ("GET", "/screen")}


def _concrete(path: str) -> str:
    return path.replace("{ad_id}", "nope").replace("{creative_id}", "x").replace("{product_id}", "nope") \
        .replace("{customer_id}", "nobody").replace("{campaign}", "nothing")


def test_every_route_has_its_roles_listed(api):
    paths = api.client.get("/openapi.json").json()["paths"]
    found = {(method.upper(), path) for path, methods in paths.items() for method in methods}
    assert found - PUBLIC == set(ROUTES)


@pytest.mark.parametrize(("method", "path"), sorted(ROUTES))
def test_no_key_or_a_bad_key_is_401(api, method, path):
    for headers in ({}, {"Authorization": "Bearer adl_nothing_here"}, {"Authorization": "Basic abc"}):
        response = api.client.request(method, _concrete(path), headers=headers)
        assert response.status_code == 401, response.text
        assert response.json()["error"] == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path"), sorted(ROUTES))
@pytest.mark.parametrize("role", [A, S, N])
def test_each_role_reaches_only_its_routes(api, method, path, role):
    response = api.client.request(method, _concrete(path), headers=api.headers(role))
    if role in ROUTES[(method, path)]:
        assert response.status_code not in (401, 403), response.text
    else:
        assert response.status_code == 403, response.text
        body = response.json()
        assert body["error"] == "forbidden" and role in body["message"]


def test_healthz_and_pages_need_no_key(api):
    health = api.client.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert health.json()["models_loaded"] is False
    for page in ("/", "/screen"):
        response = api.client.get(page)
        assert response.status_code == 200 and "text/html" in response.headers["content-type"]


def test_keys_are_stored_hashed_and_revocable(api):
    key = create_key(api.store, "screen", name="entrance")
    stored = api.store.list_api_keys()[-1]
    assert stored.role == "screen" and stored.name == "entrance" and key.split("_")[1] == stored.id
    assert api.store.api_key_by_hash(hash_key(key)).id == stored.id
    assert key not in repr(api.store.list_api_keys())
    checker = KeyChecker(api.store, cache_seconds=0)
    assert checker.check(key).role == "screen"
    api.store.revoke_api_key(stored.id)
    with pytest.raises(AuthenticationError, match="revoked"):
        checker.check(key)


def test_unknown_role_is_refused(api):
    from adlens.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="unknown role"):
        create_key(api.store, "root")


def test_whoami_says_role_mode_and_privacy(api):
    body = api.get("/v1/whoami", role="screen").json()
    assert body["role"] == "screen" and body["mode"] == "anonymous"
    assert body["privacy"]["images_kept"] is False and "Nobody is identified" in body["privacy"]["notice"]


UPLOAD = {"Content-Type": "multipart/form-data; boundary=b", "Content-Length": "100000"}
BODY = [{"type": "http.request", "body": b"x" * 1000, "more_body": True}]


@pytest.mark.parametrize(("role", "status"), [(None, 401), ("bad", 401), (S, 403), (N, 403)])
def test_the_key_and_role_are_checked_before_any_body_is_read(api, role, status):
    from .conftest import call_asgi

    headers = {**UPLOAD, **({"Authorization": "Bearer adl_x_y"} if role == "bad" else
                            api.headers(role) if role else {})}
    for path in ("/v1/catalog", "/v1/ads", "/v1/gallery"):
        answer = call_asgi(api.client.app, "POST", path, headers, BODY, hang=True)
        assert answer.status == status and answer.reads == 0, (path, answer)


def test_an_admin_upload_is_read(api):
    from .conftest import call_asgi

    answer = call_asgi(api.client.app, "POST", "/v1/catalog", {**UPLOAD, **api.headers(A)},
                       [{"type": "http.request", "body": b"--b--\r\n", "more_body": False}])
    assert answer.reads >= 1 and answer.status == 422


def test_invalid_keys_are_limited_by_client_address_before_any_lookup(make_api, monkeypatch):
    api = make_api(api_address_failures=0.001, api_address_burst=3)
    looked_up = []
    monkeypatch.setattr(api.store, "api_key_by_hash", lambda digest: looked_up.append(digest))
    codes = [api.client.get("/v1/ads", headers={"Authorization": f"Bearer adl_guess_{i}"}).status_code
             for i in range(6)]
    assert codes == [401, 401, 401, 429, 429, 429] and len(looked_up) == 3
    limited = api.client.get("/v1/ads", headers={"Authorization": "Bearer adl_guess_9"})
    assert limited.json()["error"] == "rate_limited" and int(limited.headers["retry-after"]) >= 1
    assert api.client.get("/healthz").status_code == 200  # no key needed, nothing to guess


def test_valid_keys_spend_nothing_from_their_address(make_api):
    api = make_api(api_address_failures=0.001, api_address_burst=1)
    assert all(api.get("/v1/whoami").status_code == 200 for _ in range(5))


def test_a_key_is_remembered_only_while_its_cached_answer_is_fresh(api):
    key = create_key(api.store, "screen")
    checker = KeyChecker(api.store, cache_seconds=5.0)
    assert checker.remembered(None) and checker.remembered("")  # no key: refused without a store read
    assert not checker.remembered(key)
    checker.check(key)
    assert checker.remembered(key)
    assert not KeyChecker(api.store, cache_seconds=0).remembered(key)
    with pytest.raises(AuthenticationError):
        checker.check("adl_x_y")
    assert checker.remembered("adl_x_y")  # a refusal is remembered as well


def test_a_revoked_key_is_refused_on_the_event_loop_path_once_its_answer_expires(make_api):
    api = make_api()
    key = create_key(api.store, "screen")
    headers = {"Authorization": f"Bearer {key}"}
    assert api.client.get("/v1/whoami", headers=headers).status_code == 200  # checked once, in the pool
    assert api.client.get("/v1/whoami", headers=headers).status_code == 200  # remembered: on the loop
    api.store.revoke_api_key(key.split("_")[1])
    api.service.keys._cache.clear()  # as CACHE_SECONDS passing would
    response = api.client.get("/v1/whoami", headers=headers)
    assert response.status_code == 401 and "revoked" in response.json()["message"]


def test_a_revocation_through_the_store_is_refused_at_once(make_api):
    """The server's own store (or a fleet's bus, which moves its ``keys`` generation) empties the key cache."""
    api = make_api()
    key = create_key(api.store, "screen")
    headers = {"Authorization": f"Bearer {key}"}
    assert api.client.get("/v1/whoami", headers=headers).status_code == 200
    assert api.service.keys.remembered(key)
    api.store.revoke_api_key(key.split("_")[1])  # no waiting out CACHE_SECONDS
    assert not api.service.keys.remembered(key)
    assert api.client.get("/v1/whoami", headers=headers).status_code == 401


def test_a_keys_notice_from_elsewhere_empties_the_cache(api):
    key = create_key(api.store, "screen")
    checker = KeyChecker(api.store, cache_seconds=60.0)
    checker.check(key)
    assert checker.remembered(key)
    api.store.moved(["ads"])
    assert checker.remembered(key)  # other topics leave it alone
    api.store.moved(["keys"])  # what a fleet's bus does on another process's revocation
    assert not checker.remembered(key)
