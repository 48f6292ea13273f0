"""Prometheus labels stay bounded whatever clients invent, and the access log holds no ids."""

from __future__ import annotations

import logging

from adlens.api import metrics as metrics_module


def test_invented_screens_share_one_series_past_the_cap(api, monkeypatch):
    monkeypatch.setattr(metrics_module, "MAX_SCREENS", 3)
    for i in range(6):
        assert api.post("/v1/decide", role="screen", json={"screen": f"made-up-{i}", "faces": []}).status_code == 200
    text = api.get("/metrics", role="analyst").text
    screens = {line.split('screen="')[1].split('"')[0] for line in text.splitlines()
               if line.startswith("adlens_decisions_total{")}
    assert screens == {"made-up-0", "made-up-1", "made-up-2", "other"}
    assert 'adlens_decisions_total{chosen="no",screen="other"} 3.0' in text


def test_odd_methods_are_counted_as_other(api):
    api.client.request("BREW", "/v1/ads", headers=api.headers("admin"))
    text = api.get("/metrics", role="analyst").text
    assert 'method="other"' in text and "BREW" not in text


def test_the_access_log_names_routes_not_ids(api, caplog):
    with caplog.at_level(logging.INFO, logger="adlens.access"):
        api.delete("/v1/customers/member-4711")
        api.get("/v1/catalog", params={"search": "member-4711"})
        api.client.get("/v1/customers/member-4711/recommendations")
    lines = [r.getMessage() for r in caplog.records if r.name == "adlens.access"]
    assert lines[0].startswith("DELETE /v1/customers/{customer_id} 404 ")
    assert lines[1].startswith("GET /v1/catalog 200 ")
    assert lines[2].startswith("GET /v1/customers/{customer_id}/recommendations 401 ")
    assert not any("4711" in line or "testclient" in line for line in lines)
