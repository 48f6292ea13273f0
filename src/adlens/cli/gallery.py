"""``adlens gallery ...``: enrol consenting customers, identify them, list, erase, calibrate the threshold."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from adlens.cli.common import distance_meaning, handle_errors, out, progress_bar, track, write_json

if TYPE_CHECKING:
    from adlens.gallery.service import Gallery

app = typer.Typer(
    help="The consented customer gallery (ADLENS_MODE=members): enrol, identify, list, delete, calibrate.",
    no_args_is_help=True,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]
ImageFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A photo.")]


def _gallery() -> Gallery:
    from adlens.gallery.service import Gallery
    from adlens.cli.common import open_store

    return Gallery(open_store())


def _when(moment: Any) -> str:
    return moment.isoformat(timespec="seconds") if moment is not None else "-"


@app.command()
@handle_errors
def enrol(
    customer: Annotated[str, typer.Argument(help="Customer id (created when new).")],
    images: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, metavar="IMAGE...",
                                                 help="Photos showing only this person's face.")],
    consent: Annotated[str, typer.Option("--consent", help="The consent text the customer agreed to (stored).")],
    expires: Annotated[str | None, typer.Option(
        "--expires", help="When the consent ends: YYYY-MM-DD (00:00 UTC) or an ISO 8601 date-time.")] = None,
) -> None:
    """Enrol a customer who consented: one encrypted face embedding per photo, never the photo.

    Every photo must show exactly one face; otherwise nothing is stored and each bad photo is named. Enrolling again adds photos (the newest 10 are kept) and records the new consent.
    """
    from adlens.products.feedback import parse_time

    moment = parse_time(expires) if expires else None
    gallery = _gallery()
    with progress_bar() as progress:
        task = progress.add_task("analysing photos", total=len(images))
        result = gallery.enrol(customer, images, consent, moment, advance=lambda: progress.advance(task))
    until = f"until {_when(result.expires_at)}" if result.expires_at else "with no expiry"
    out.print(f"enrolled {customer}: {result.added} embeddings added, {result.total} held, consent recorded "
              f"{_when(result.consented_at)} {until}", highlight=False, markup=False)


@app.command()
@handle_errors
def identify(image: ImageFile, json_output: JsonFlag = False) -> None:
    """Who is in a photo: an enrolled, consenting customer, or unknown (members mode only)."""
    gallery = _gallery()
    matches = gallery.identify(image)
    if json_output:
        write_json([m.to_dict() for m in matches], None)
        return
    threshold = gallery.settings.gallery_threshold
    table = Table("face", "customer", "distance", "box x, y, w, h", title_justify="left",
                  title=f"{len(matches)} faces; distance: {distance_meaning(threshold, 'an enrolled member')}")
    for match in matches:
        distance = "-" if match.distance is None else f"{match.distance:.2f}"
        who = escape(match.customer) if match.customer else "[dim]unknown[/dim]"
        table.add_row(str(match.face), who, distance, ", ".join(f"{v:.0f}" for v in match.box))
    out.print(table)


@app.command("list")
@handle_errors
def list_members(json_output: JsonFlag = False) -> None:
    """List enrolled customers with their consent and expiry (embeddings are never shown)."""
    members = _gallery().members()
    if json_output:
        write_json([m.to_dict() for m in members], None)
        return
    table = Table("customer", "embeddings", "consented (UTC)", "expires (UTC)", "status", "consent text",
                  title=f"{len(members)} enrolled customers", title_justify="left")
    for member in members:
        expires = member.expires_at.strftime("%Y-%m-%d %H:%M") if member.expires_at else "never"
        table.add_row(escape(member.customer), str(member.embeddings), member.consented_at.strftime("%Y-%m-%d %H:%M"),
                      expires, "expired" if member.expired else "active", escape(member.consent_text))
    out.print(table)


@app.command()
@handle_errors
def delete(customer: Annotated[str, typer.Argument(help="Customer id.")]) -> None:
    """Erase a customer completely, in any mode: embeddings, consent, profile, feedback and their events."""
    erased = _gallery().delete(customer)
    consent = "yes" if erased["consent"] else "none"
    out.print(f"erased {customer}: {erased['embeddings']} embeddings, consent {consent}, "
              f"{erased['feedback']} feedback answers, {erased['events']} events, and the customer profile",
              highlight=False, markup=False)


@app.command()
@handle_errors
def calibrate(
    folder: Annotated[Path, typer.Argument(exists=True, file_okay=False,
                                           help="One sub-folder of photos per person.")],
    strangers: Annotated[Path | None, typer.Option(
        "--strangers", exists=True, help="Photos of people in none of the sub-folders (every face is used).")] = None,
    distinct: Annotated[bool, typer.Option(
        "--distinct-strangers",
        help="Each stranger face is a different person: also pair strangers together.")] = False,
    json_output: JsonFlag = False,
) -> None:
    """Measure false accepts and false rejects per match threshold, and recommend one.

    Genuine pairs are two photos of one person, impostor pairs two different people. The recommendation has the lowest false reject rate while at most 0.1% of impostor pairs match (or the equal-error point).
    """
    from adlens.gallery.calibration import calibrate_folders
    from adlens.pipeline import analyzer_for
    from adlens.settings import get_settings

    settings = get_settings()
    analyzer = analyzer_for(settings, attributes=[])
    result = calibrate_folders(folder, strangers, analyzer, settings.gallery_threshold, distinct, track=track)
    if json_output:
        write_json(result, None)
        return
    out.print(f"{result['people']} people, {result['photos']} photos, {result['stranger_faces']} stranger faces: "
              f"{result['genuine_pairs']} genuine and {result['impostor_pairs']} impostor pairs", highlight=False)
    table = Table("threshold", "FAR (false accept)", "FRR (false reject)")
    for row in result["table"]:
        table.add_row(f"{row['threshold']:.2f}", f"{row['far']:.4%}", f"{row['frr']:.2%}")
    out.print(table)
    for name in ("recommended", "equal_error", "current"):
        point = result[name]
        note = f" ({point['rule']})" if "rule" in point else ""
        out.print(f"{name.replace('_', ' ')}: {point['threshold']:.3f}: FAR {point['far']:.4%}, "
                  f"FRR {point['frr']:.2%}{note}", highlight=False, markup=False)
    if result["skipped"]:
        out.print(f"{len(result['skipped'])} photos skipped (unreadable or no face); --json lists them",
                  highlight=False)
