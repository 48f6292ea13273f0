"""``adlens report``: the HTML report of what the screens saw and did, and its metrics as JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from adlens.cli.common import handle_errors, out, write_json
from adlens.reports.period import WHEN_HELP, parse_period

Since = Annotated[str | None, typer.Option("--since", metavar="WHEN", help=f"Report events from then on. {WHEN_HELP}")]
Until = Annotated[str | None, typer.Option("--until", metavar="WHEN", help=f"Report events before then. {WHEN_HELP}")]
OutPath = Annotated[Path, typer.Option("--out", "-o", dir_okay=False, help="Where to write the HTML report.")]
JsonPath = Annotated[Path | None, typer.Option("--json", dir_okay=False, help="Also write the metrics as JSON here.")]


@handle_errors
def report(since: Since = None, until: Until = None, out_path: OutPath = Path("report.html"),
           json_path: JsonPath = None) -> None:
    """Write an HTML report: audience over time, demographics, emotions per ad, reasons, bandit learning.

    Per-ad and per-screen tables give impressions, opportunities to see, watchers, dwell and attention time, the emotion mix while each ad showed, and rewards.
    """
    from adlens.reports.html import write_html
    from adlens.reports.metrics import load_metrics
    from adlens.store import open_store

    start, end = parse_period(since, until)
    with open_store() as store:
        metrics = load_metrics(store, start, end)
    path = write_html(metrics, out_path)
    if json_path is not None:
        write_json(metrics.to_dict(), json_path)
    counts = metrics.counts
    out.print(f"report written to {path} ({counts['decision']} decisions, {counts['play']} plays, "
              f"{counts['reward']} rewards)", highlight=False, markup=False)
