"""``adlens uplift``: whom an offer actually moves (uplift), and what customers buy next."""

from __future__ import annotations

import typer

from adlens.cli import uplift_next, uplift_offers

app = typer.Typer(help="Uplift modelling for targeted offers: simulate, fit, score, report; "
                       "next-purchase model; offers targeted by predicted uplift.", no_args_is_help=True)

uplift_next.register(app)
uplift_offers.register(app)
