"""/v1/reports: metrics JSON, plots as data URLs, the HTML report and live audience numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from eventlog import decision_event, play_event, reward_event, summary
from adlens.times import utcnow


def _log(store) -> None:
    now = utcnow()
    audience = summary(2, 1, ages={"25-34": 2}, genders={"male": 1, "female": 1},
                       emotions={"happy": 0.8, "neutral": 0.2}, dominant_emotion="happy")
    store.append_events([
        decision_event(now - timedelta(minutes=2), "entrance", "d1", audience=audience, reasons=["targets eyewear"],
                       source="api"),
        play_event(now - timedelta(minutes=1), "entrance", "d1", None, None, value=8.0, ots=2, watchers=1,
                   dwell=10.0, attention=6.0, emotions={"happy": 1.0}, audience=audience),
        reward_event(now, "entrance", "d1", value=0.7, raw=7),
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


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/v1/decide", {"faces": [], "at": "9999-12-31T23:59:59"}, "at 9999-12-31T23:59:59"),
    ("/v1/decide", {"faces": [], "at": "0001-01-01T00:00:00"}, "at 0001-01-01"),
    ("/v1/decide", {"faces": [], "at": "9999-12-31T23:59:59-14:00"}, "at 9999-12-31"),
    ("/v1/feedback", {"customer": "ann", "product": "p1", "feedback": "like", "create_customer": True,
                      "at": "9999-12-31T23:59:59"}, "at 9999-12-31"),
])
def test_client_times_out_of_range_are_422_and_log_nothing(api, path, body, field):
    response = api.post(path, role="screen" if path == "/v1/decide" else "admin", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_time" and response.json()["message"].startswith(field)
    assert api.store.events() == [] and api.store.count_feedback() == 0


@pytest.mark.parametrize(("since", "until"), [("0001-01-01", None), ("9999-12-31", None), (None, "1970-01-01")])
def test_report_periods_out_of_range_are_422(api, since, until):
    params = {k: v for k, v in (("since", since), ("until", until)) if v}
    response = api.get("/v1/reports", role="analyst", params=params)
    assert response.status_code == 422 and response.json()["error"] == "invalid_time"
    assert response.json()["message"].startswith("since" if since else "until")


def test_rows_at_impossible_times_break_no_reader(api):
    """Rows an older adlens accepted (years 1 and 9999) stay in the log; every reader still answers."""
    _log(api.store)
    for n, at in enumerate([datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), datetime(1, 1, 1, tzinfo=UTC)]):
        api.store.append_events([decision_event(at, "entrance", f"x{n}"),
                                 reward_event(at, "entrance", f"x{n}", value=1.0)])
    metrics = api.get("/v1/reports", role="analyst").json()
    assert metrics["counts"] == {"decision": 1, "play": 1, "reward": 1} and metrics["skipped"] == 4
    for path in ("/v1/reports/plots", "/v1/reports/html", "/v1/ads", "/v1/reports/live"):
        assert api.get(path, role="analyst").status_code == 200, path
    assert api.get("/v1/reports", role="analyst", params={"until": "9999-12-31"}).status_code == 200
