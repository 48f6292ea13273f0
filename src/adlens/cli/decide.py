"""``adlens decide`` and ``adlens reward``: choose the ad for a picture, and learn from what happened."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from adlens.cli.common import err, handle_errors, out
from adlens.imageio import load_image, save_image
from adlens.settings import get_settings

if TYPE_CHECKING:
    from adlens.decision import Decision


class RewardKind(str, Enum):
    dwell = "dwell"
    click = "click"
    purchase = "purchase"


def print_decision(decision: Decision) -> None:
    """The human-readable form of a decision: the ad, why, and the runners-up."""
    if decision.ad is None:
        out.print("[bold]no ad[/bold] — nothing is eligible", highlight=False)
    else:
        name = f" ({escape(decision.ad_name)})" if decision.ad_name else ""
        out.print(f"[bold]{escape(decision.ad)}[/bold]{name}, creative {escape(str(decision.creative))}",
                  highlight=False)
    for reason in decision.reasons:
        out.print(f"  • {escape(reason)}", highlight=False)
    audience = decision.audience
    out.print(f"audience: {audience.faces} face(s), {audience.watchers} watching"
              + (f", mostly {audience.dominant_emotion}" if audience.dominant_emotion else ""),
              highlight=False)
    if decision.candidates:
        table = Table("ad", "eligible", "score", "why", title="candidates")
        for c in decision.candidates:
            score = "" if c.score is None else f"{c.score:.3f}"
            table.add_row(escape(c.ad), "yes" if c.eligible else "no", score, escape("; ".join(c.reasons)))
        out.print(table)
    out.print(f"decision id: {decision.decision_id}", highlight=False)


@handle_errors
def decide(
    image: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A photo or camera frame.")],
    screen: Annotated[str | None, typer.Option(help="Screen id (default: ADLENS_SCREEN).")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the decision as JSON.")] = False,
    annotated: Annotated[
        Path | None, typer.Option("--out", help="Also write the picture with its faces, titled with the chosen ad.")
    ] = None,
) -> None:
    """Choose the ad and creative to show to the people in a picture, explain why, and log the decision.

    Every active ad's rules are checked against the audience (exclusions always win), the eligible ones are scored (rule affinity, member taste, emotion fit, learned engagement, priority) and the best is chosen, with the creative whose model face looks most like the viewer.

    The decision id it prints is what adlens reward takes.
    """
    from adlens.decision import Decider
    from adlens.cli.common import open_store

    frame = load_image(image, max_pixels=get_settings().max_pixels)
    with open_store() as store:
        decider = Decider(store)
        audience = decider.analyze(frame, screen)
        decision = decider.decide(audience, source="image")
    if annotated is not None:
        from adlens.annotate import annotate

        title = decision.ad_name or decision.ad or "no eligible ad"
        save_image(annotated, annotate(frame, audience.faces, title=f"ad: {title}"))
        err.print(f"annotated picture written to {annotated}", highlight=False)
    if json_output:
        out.print(json.dumps(decision.to_json()), highlight=False, markup=False)
    else:
        print_decision(decision)


@handle_errors
def reward(
    decision_id: Annotated[str, typer.Argument(help="The id adlens decide (or the API) returned.")],
    value: Annotated[float, typer.Argument(help="Dwell in seconds, or 1/0 for a click or a purchase.")],
    kind: Annotated[RewardKind, typer.Option(help="What happened.")] = RewardKind.dwell,
) -> None:
    """Tell adlens how a decision went, so it learns which ads engage which audiences.

    A dwell of ADLENS_DWELL_REWARD_SECONDS or more counts as a full reward; a click or a purchase counts 1. Each decision takes one reward of each kind.
    """
    from adlens.decision import Decider
    from adlens.cli.common import open_store

    with open_store() as store:
        normalised = Decider(store).reward(decision_id, value, kind.value)
    out.print(f"reward {normalised:.2f} ({kind.value} {value:g}) recorded for decision {decision_id}",
              highlight=False)
