"""``/v1/reports``: the report's metrics, its plots, the HTML report, and live audience numbers."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from adlens.api.auth import ANALYST, allow, get_service
from adlens.api.schemas import PRINTABLE
from adlens.reports.period import parse_period
from adlens.store.keys import ApiKey
from adlens.events import DecisionData
from adlens.times import read_limit, utcnow

if TYPE_CHECKING:
    from adlens.reports.metrics import Metrics

router = APIRouter(prefix="/v1/reports", tags=["reports"])
Reader = Annotated[ApiKey, Depends(allow(ANALYST))]
When = Annotated[str | None, Query(max_length=64, pattern=PRINTABLE,
                                   description="A date, an ISO 8601 date-time, or a time ago: 30m, 24h, 7d, 2w.")]


def _metrics(request: Request, since: str | None, until: str | None) -> Metrics:
    from adlens.reports.metrics import load_metrics

    start, end = parse_period(since, until)  # times out of range are refused there (adlens.times)
    return load_metrics(get_service(request).store, start, end)


@router.get("", summary="The report's metrics")
def metrics(request: Request, _key: Reader, since: When = None, until: When = None) -> dict[str, Any]:
    """What ``adlens report --json`` writes: totals, per ad and per screen, reasons, demographics, time series."""
    return _metrics(request, since, until).to_dict()


@router.get("/plots", summary="The report's plots as PNG data URLs")
async def plots(request: Request, _key: Reader, since: When = None, until: When = None) -> dict[str, Any]:
    """Audience over time, demographics, emotions per ad, reasons and the bandit's learning curve (``null``
    when there is nothing to draw)."""
    from adlens.reports.plots import report_plots

    found = await run_in_threadpool(lambda: report_plots(_metrics(request, since, until)))
    return {"plots": {name: None if png is None else f"data:image/png;base64,{png}" for name, png in found.items()}}


@router.get("/html", summary="The HTML report", response_class=HTMLResponse)
async def html(request: Request, _key: Reader, since: When = None, until: When = None) -> HTMLResponse:
    """The same self-contained HTML document ``adlens report`` writes."""
    from adlens.reports.html import render_report

    document = await run_in_threadpool(lambda: render_report(_metrics(request, since, until)))
    return HTMLResponse(document)


@router.get("/live", summary="Who is in front of the screens now")
def live(request: Request, _key: Reader, minutes: Annotated[float, Query(gt=0, le=1440)] = 5) -> dict[str, Any]:
    """The decisions of the last ``minutes``: how many, faces and watchers seen, and per screen the latest
    audience and ad."""
    service = get_service(request)
    count, faces, watchers, latest = service.store.decision_totals(utcnow() - timedelta(minutes=minutes),
                                                                   read_limit())
    screens = [{"screen": e.screen or "-", "at": e.at.isoformat(timespec="seconds"), "ad": e.ad_id,
                "audience": e.data.audience.to_json() if isinstance(e.data, DecisionData) else {}} for e in sorted(latest, key=lambda e: e.screen or "-")]
    return {"minutes": minutes, "decisions": count, "faces": faces, "watchers": watchers,
            "live_screens": service.live_screens, "screens": screens}
