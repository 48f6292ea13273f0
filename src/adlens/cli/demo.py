"""``adlens demo``: the whole engine on built-in defaults, in one command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from adlens.cli.common import err, handle_errors, out


@handle_errors
def demo(
    folder: Annotated[Path, typer.Option("--out", help="Folder for the demo store, pictures and report.")] = Path(
        "demo-output"
    ),
    days: Annotated[int, typer.Option(min=0, max=30, help="Days of simulated screen traffic for the report.")] = 1,
    seed: Annotated[int, typer.Option(help="Seed of the simulated traffic.")] = 7,
) -> None:
    """Run the whole engine on built-in defaults: a drawn shop, sample pictures, decisions and a report.

    Creates a fresh demo store inside the folder (your own store is not touched) with a generated catalogue and ad inventory, analyses the built-in sample pictures and decides the ad for each, writes them annotated with the chosen ad, simulates a day on two screens so the bandit learns, and writes the HTML report.
    """
    from adlens.demo import run_demo

    with err.status("starting the demo") as status:
        result = run_demo(folder, days=days, seed=seed, say=lambda message: status.update(message))
    table = Table("picture", "faces", "chosen ad", "why", title="decisions")
    for picture in result.pictures:
        why = "; ".join(picture.reasons[:2])
        table.add_row(picture.name, str(picture.faces), escape(picture.ad or "none"), escape(why))
    out.print(table)
    if result.simulated:
        out.print(f"simulated {result.simulated} decisions on 2 screens: mean reward "
                  f"{result.mean_reward_first:.2f} in the first tenth, {result.mean_reward_last:.2f} in the last",
                  highlight=False)
    out.print(f"annotated pictures: {folder / 'annotated'}", highlight=False)
    out.print(f"report:             {result.report}", highlight=False)
    out.print(f"demo store:         {result.store_url}", highlight=False)
