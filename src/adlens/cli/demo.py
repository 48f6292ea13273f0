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

    Creates a fresh demo store inside the folder (your own store is not touched) with a generated catalogue and ad inventory, analyses the built-in sample pictures and decides the ad for each, writes them annotated with the chosen ad, simulates a day on two screens so the bandit learns, and writes the HTML report. Then it simulates a telecom campaign, fits an uplift model, reports it on a second campaign with a targeting list, and reports brand loyalty.
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
    offers = result.offers
    if offers is not None:
        out.print(f"offers: on a second simulated campaign the uplift model's Qini coefficient is {offers.qini:.3f} "
                  f"(the true uplift's {offers.oracle_qini:.3f}; a response model's {offers.response_qini:.3f} "
                  f"held out); offering the best 30% gains {offers.uplift_at_30:+.1%} response", highlight=False)
    out.print(f"annotated pictures: {folder / 'annotated'}", highlight=False)
    out.print(f"report:             {result.report}", highlight=False)
    if offers is not None:
        out.print(f"uplift report:      {offers.uplift_report}", highlight=False)
        out.print(f"targeting list:     {offers.targets}", highlight=False)
        out.print(f"loyalty report:     {offers.loyalty_report}", highlight=False)
    out.print(f"demo store:         {result.store_url}", highlight=False)
