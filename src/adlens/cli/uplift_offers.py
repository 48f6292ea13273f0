"""``adlens uplift campaigns | targets | forget``: the stored uplift scores that offers are targeted by.

``adlens uplift score MODEL DATA.csv --save CAMPAIGN`` keeps each customer's predicted
uplift under a campaign name; these commands list the campaigns, show whom (customers or
taste segments) a campaign's scores put within bounds, and forget a campaign.
"""

from __future__ import annotations

import csv
import io
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from adlens.cli.common import err, handle_errors, out, write_json

if TYPE_CHECKING:
    from adlens.store import Store

#: Rows a targets table prints when neither ``--limit`` nor ``--out`` is given.
SHOWN = 20

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]
CampaignArgument = Annotated[str, typer.Argument(metavar="CAMPAIGN", help="Campaign name (as saved by score --save).")]


class By(str, Enum):
    """Whom targets are: single customers, or taste segments by their mean."""

    customer = "customer"
    segment = "segment"


def _store() -> Store:
    from adlens.cli.common import open_store

    return open_store()


def _number(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _cell(value: Any) -> str:
    return "-" if value is None else escape(str(value))


@handle_errors
def campaigns(json_output: JsonFlag = False) -> None:
    """List the stored uplift campaigns: model, customers scored, mean uplift, share above 0, when."""
    found = _store().list_uplift_campaigns()
    if json_output:
        write_json([c.to_dict() for c in found], None)
        return
    if not found:
        out.print("no uplift campaigns: save one with adlens uplift score MODEL DATA.csv --save CAMPAIGN",
                  highlight=False)
        return
    table = Table(title=f"{len(found)} uplift campaign(s)", title_justify="left")
    table.add_column("campaign", no_wrap=True)
    for column in ("model", "customers", "mean uplift", "share > 0", "scored at (UTC)"):
        table.add_column(column, justify="right" if column in ("customers", "mean uplift", "share > 0") else "left")
    for c in found:
        share = c.share_positive
        table.add_row(escape(c.name), escape(c.model or "-"), str(c.customers), _number(c.mean_uplift),
                      "-" if share is None else f"{share:.1%}", f"{c.scored_at:%Y-%m-%d %H:%M}")
    out.print(table)


def _csv(rows: list[dict[str, Any]], header: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


@handle_errors
def targets(
    campaign: CampaignArgument,
    minimum: Annotated[float | None, typer.Option("--min", help="Lowest predicted uplift (inclusive).")] = None,
    maximum: Annotated[float | None, typer.Option("--max", help="Highest predicted uplift (inclusive).")] = None,
    by: Annotated[By, typer.Option("--by", help="Customers, or taste segments by their mean uplift.")] = By.customer,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most this many, best first.")] = None,
    out_path: Annotated[Path | None, typer.Option("--out", help="Write them all as CSV to this file.")] = None,
    json_output: JsonFlag = False,
) -> None:
    """Whom a campaign's predicted uplift puts within [--min, --max]: customers or segments, best first.

    Without --limit or --out the table shows the first 20; --json and --out give them all.
    """
    store = _store()
    found = store.uplift_targets(campaign, minimum, maximum, by=by.value, limit=limit)
    rows = [t.to_dict() for t in found]
    header = ["customer", "uplift", "segment"] if by is By.customer else ["segment", "mean_uplift", "customers"]
    if out_path is not None:
        from adlens.files import write_text_atomic

        write_text_atomic(out_path, _csv(rows, header), "the targets")
        err.print(f"{len(rows)} {by.value} target(s) written to {out_path}", highlight=False, markup=False)
    if json_output:
        write_json({"campaign": campaign, "by": by.value, "min": minimum, "max": maximum, "count": len(rows),
                    "targets": rows}, None)
        return
    if out_path is not None:
        return
    bounds = " and ".join(f"{name} {value:g}" for name, value in (("≥", minimum), ("≤", maximum))
                          if value is not None)
    title = f"{len(rows)} {by.value}(s) of campaign {campaign}" + (f" with uplift {bounds}" if bounds else "")
    table = Table(title=escape(title), title_justify="left")
    for column in header:
        table.add_column(column.replace("_", " "), justify="left" if column == header[0] else "right")
    shown = rows if limit is not None else rows[:SHOWN]
    for row in shown:
        table.add_row(*(_number(row[k]) if k == header[1] else _cell(row[k]) for k in header))
    out.print(table)
    if len(shown) < len(rows):
        err.print(f"… and {len(rows) - len(shown)} more: --limit N to show more, --out FILE.csv for all",
                  highlight=False, markup=False)


@handle_errors
def forget(campaign: CampaignArgument) -> None:
    """Delete a campaign's stored uplift scores (the customers stay); offers targeting it then match nobody."""
    removed = _store().remove_uplift_campaign(campaign)
    out.print(f"forgot campaign {campaign} ({removed} scores)", highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``adlens uplift``."""
    app.command()(campaigns)
    app.command()(targets)
    app.command()(forget)
