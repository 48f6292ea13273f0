"""/v1/reports: metrics JSON, plots as data URLs, the HTML report and live audience numbers."""

from __future__ import annotations

from datetime import timedelta

from adlens.store.events import DECISION, PLAY, REWARD, Event
from adlens.store.models import utcnow


def _log(store) -> None:
    now = utcnow()
    audience = {"faces": 2, "watchers": 1, "members": 0, "ages": {"25-34": 2}, "genders": {"male": 1, "female": 1},
                "emotions": {"happy": 0.8, "neutral": 0.2}, "dominant_emotion": "happy", "attributes": {},
                "minor_possible": False}
    store.append_events([
        Event(DECISION, now - timedelta(minutes=2), "entrance", "d1", None, None, None, None,
              {"audience": audience, "reasons": ["targets eyewear"], "features": [], "source": "api"}),
        Event(PLAY, now - timedelta(minutes=1), "entrance", "d1", None, None, None, 8.0,
              {"duration": 8.0, "ots": 2, "watchers": 1, "dwell": 10.0, "attention": 6.0,
               "emotions": {"happy": 1.0}, "audience": audience}),
        Event(REWARD, now, "entrance", "d1", None, None, None, 0.7, {"kind": "dwell", "raw": 7}),
    ])


def test_metrics_plots_html_and_live(api):
    _log(api.store)
    metrics = api.get("/v1/reports", role="analyst", params={"since": "1h"}).json()
    assert metrics["counts"] == {"decision": 1, "play": 1, "reward": 1}
    plots = api.get("/v1/reports/plots", role="analyst").json()["plots"]
    assert plots["audience"].startswith("data:image/png;base64,") and plots["demographics"]
    html = api.get("/v1/reports/html", role="analyst")
    assert html.status_code == 200 and "text/html" in html.headers["content-type"]
    assert "adlens report" in html.text
    live = api.get("/v1/reports/live", role="analyst", params={"minutes": 5}).json()
    assert live["decisions"] == 1 and live["faces"] == 2 and live["watchers"] == 1
    assert live["screens"][0]["screen"] == "entrance"
    old = api.get("/v1/reports/live", role="analyst", params={"minutes": 0.5}).json()
    assert old["decisions"] == 0


def test_bad_periods_are_400(api):
    assert api.get("/v1/reports", params={"since": "yesterday-ish"}).status_code == 400
    response = api.get("/v1/reports", params={"since": "1d", "until": "2d"})
    assert response.status_code == 400 and "must come before" in response.json()["message"]
