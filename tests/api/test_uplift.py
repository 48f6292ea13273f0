"""/v1/uplift/campaigns: saved uplift scores, read by analysts, forgotten by an admin."""

from __future__ import annotations


def test_campaigns_targets_and_forget(api):
    assert api.get("/v1/uplift/campaigns", role="analyst").json() == {"campaigns": []}
    assert api.get("/v1/uplift/campaigns/spring", role="analyst").status_code == 404
    api.store.save_uplift_scores("spring", ["a", "b", "c"], [0.3, -0.1, 0.05], model="uplift.model")
    (campaign,) = api.get("/v1/uplift/campaigns", role="analyst").json()["campaigns"]
    assert campaign["campaign"] == "spring" and campaign["customers"] == 3
    found = api.get("/v1/uplift/campaigns/spring", role="analyst", params={"min": 0.05}).json()
    assert [t["customer"] for t in found["targets"]] == ["a", "c"] and found["customers"] == 3
    sleeping = api.get("/v1/uplift/campaigns/spring", role="analyst", params={"max": 0}).json()
    assert [t["customer"] for t in sleeping["targets"]] == ["b"]
    assert api.get("/v1/uplift/campaigns/spring", role="analyst", params={"min": 2}).status_code == 422
    bad = api.get("/v1/uplift/campaigns/spring", role="analyst", params={"min": 0.5, "max": 0.1})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_input"
    assert api.delete("/v1/uplift/campaigns/spring").json() == {"campaign": "spring", "removed": 3}
    assert api.get("/v1/uplift/campaigns", role="analyst").json() == {"campaigns": []}
