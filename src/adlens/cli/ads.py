"""``adlens ads …``: import the ad inventory, list it, show or remove an ad."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from adlens.cli.common import err, handle_errors, out, progress_bar, write_json

if TYPE_CHECKING:
    from adlens.ads.inventory import Ad, Conditions
    from adlens.store import Store

app = typer.Typer(help="The ad inventory: import it from YAML or JSON, list it, show or remove an ad.",
                  no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]
AdArgument = Annotated[str, typer.Argument(metavar="AD", help="Ad id.")]


def _store() -> Store:
    from adlens.cli.common import open_store

    return open_store()


@app.command("import")
@handle_errors
def import_(
    file: Annotated[Path, typer.Argument(help="Inventory file: YAML, or JSON when it ends in .json.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check everything, model faces included; "
                                          "write nothing.")] = False,
    json_output: JsonFlag = False,
) -> None:
    """Import (or re-import) ads: creatives are checked, model faces embedded and stored encrypted.

    Re-importing updates ads and never duplicates them; a model-face photo already imported is not analysed again. Every problem is listed with its place in the file; valid ads are imported, invalid ones skipped, and the exit code is 1 when anything was skipped.
    """
    from adlens.ads.importer import count_model_faces, import_inventory
    from adlens.ads.loading import load_inventory

    inventory = load_inventory(file)
    store = _store()
    with progress_bar() as progress:
        task = progress.add_task("model faces", total=count_model_faces(inventory) or None)
        report = import_inventory(store, inventory, dry_run=dry_run, advance=lambda n: progress.advance(task, n))
    if json_output:
        write_json(report.to_dict(), None)
    else:
        done = len(report.created) + len(report.updated) + len(report.unchanged)
        verb = "would be imported (dry run)" if dry_run else "imported"
        out.print(f"{done} ads {verb}: {len(report.created)} new, {len(report.updated)} updated, "
                  f"{len(report.unchanged)} unchanged; {len(report.skipped)} invalid (skipped)", highlight=False)
        for warning in report.warnings:
            err.print(f"[yellow]warning:[/yellow] {escape(warning)}", highlight=False)
        for problem in report.problems:
            err.print(f"[red]invalid:[/red] {escape(str(problem))}", highlight=False)
    if report.problems:
        raise typer.Exit(1)


def targeting_summary(conditions: Conditions) -> str:
    """One line for a targeting block: ``age 18-40, eyewear; screens entrance; 08:00-12:00; mon/tue``."""
    from adlens.ads.rules import describe

    parts = [describe(conditions, key) for key in conditions.person_keys()]
    if conditions.screens:
        parts.append("screens " + "/".join(conditions.screens))
    if conditions.time:
        parts.append(" ".join(conditions.time))
    if conditions.days:
        parts.append("/".join(conditions.days))
    return ", ".join(parts) or "everyone"


def _caps(ad: Ad) -> str:
    parts = []
    if ad.daily_cap is not None:
        parts.append(f"{ad.daily_cap}/day")
    if ad.frequency_cap is not None:
        parts.append(f"{ad.frequency_cap.count}/person/{ad.frequency_cap.hours:g}h")
    return ", ".join(parts) or "-"


@app.command("list")
@handle_errors
def list_(
    active: Annotated[bool, typer.Option("--active", help="Only active ads.")] = False,
    json_output: JsonFlag = False,
) -> None:
    """List ads: priority, caps, targeting, creatives, active (exclusions: adlens ads show)."""
    ads = _store().list_ads(active_only=active)
    if json_output:
        write_json([ad.to_json() for ad in ads], None)
        return
    table = Table(title=f"{len(ads)} ads", title_justify="left")
    table.add_column("id", no_wrap=True)
    for column in ("name", "priority", "caps", "targeting", "creatives", "active"):
        table.add_column(column)
    for ad in ads:
        faces = sum(c.has_face for c in ad.creatives)
        targeting = targeting_summary(ad.targeting) + ("; adults only" if ad.is_age_restricted else "")
        table.add_row(escape(ad.id), escape(ad.name), str(ad.priority), _caps(ad), escape(targeting),
                      f"{len(ad.creatives)}" + (f" ({faces} with face)" if faces else ""), "yes" if ad.active else "no")
    out.print(table)


@app.command()
@handle_errors
def show(ad_id: AdArgument, json_output: JsonFlag = False) -> None:
    """Show one ad: products, rules, caps and creatives."""
    ad = _store().get_ad(ad_id)
    if json_output:
        write_json(ad.to_json(), None)
        return
    out.print(f"[bold]{escape(ad.id)}[/bold]  {escape(ad.name)}{'' if ad.active else '  (inactive)'}",
              highlight=False)
    restricted = f"yes ({', '.join(ad.restricted_by) or 'flagged'})" if ad.is_age_restricted else "no"
    lines = {
        "products": ", ".join(ad.products) or "-",
        "categories": ", ".join(ad.categories) or "-",
        "age-restricted": restricted,
        "mood": ad.mood or "-",
        "priority": str(ad.priority),
        "caps": _caps(ad),
        "targeting": targeting_summary(ad.targeting),
        "excludes": targeting_summary(ad.exclude) if ad.exclude.person_keys() or ad.exclude.context_keys() else "-",
    }
    for key, value in lines.items():
        out.print(f"{key}: {escape(value)}", highlight=False)
    for creative in ad.creatives:
        extra = [f"{creative.duration:g} s" if creative.duration else "", "model face" if creative.has_face else "",
                 repr(creative.caption) if creative.caption else ""]
        details = ", ".join(e for e in extra if e)
        out.print(f"  creative {escape(creative.id)}: {escape(creative.image)}" + (f" ({escape(details)})"
                  if details else ""), highlight=False)


@app.command()
@handle_errors
def remove(ad_id: AdArgument) -> None:
    """Remove an ad with its creatives and learned engagement (logged events stay)."""
    _store().remove_ad(ad_id)
    out.print(f"removed {ad_id}", highlight=False, markup=False)
