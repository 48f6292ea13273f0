"""The demo's offers part: a simulated telecom campaign, its uplift model and report, and brand loyalty.

Everything lands in ``folder/offers``: the campaign and a second, independent campaign
to evaluate on (the first one fits the model), the purchases table, the model files,
the uplift report with its targeting list (the best 30% by predicted uplift) and the
loyalty report. Fixed seeds: the same demo twice gives the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CUSTOMERS = 20_000
TARGET_PERCENT = 30.0


@dataclass(frozen=True)
class OffersResult:
    """Where the offers part put its files, and the headline numbers."""

    folder: Path
    uplift_report: Path
    targets: Path
    loyalty_report: Path
    qini: float
    oracle_qini: float
    response_qini: float
    uplift_at_30: float
    loyalty: dict[str, float]


def run_offers(folder: Path, seed: int = 7, say: Callable[[str], None] = lambda _: None) -> OffersResult:
    """Simulate, fit, evaluate and report (see the module docstring); returns the paths and numbers."""
    from adlens.files import write_text_atomic
    from adlens.uplift.loyalty_report import loyalty_report
    from adlens.uplift.model import KIND, fit_campaign, top_share
    from adlens.uplift.nextpurchase import fit_next_purchase
    from adlens.uplift.persist import save_model
    from adlens.uplift.report import report_campaign
    from adlens.uplift.simulate import simulate
    from adlens.uplift.tables import read_table, write_table

    folder = Path(folder) / "offers"
    say(f"simulating two campaigns of {CUSTOMERS:,} customers")
    first, second = simulate(CUSTOMERS, seed), simulate(CUSTOMERS, seed + 1)
    campaign = read_table(write_table(first.campaign, folder / "campaign.csv", "the campaign"))
    later = read_table(write_table(second.campaign, folder / "next-campaign.csv", "the campaign"))
    purchases = read_table(write_table(first.purchases, folder / "purchases.csv", "the purchases"))

    say("fitting the uplift model")
    model = fit_campaign(campaign, treatment="treatment", outcome="outcome", learner="t", seed=seed,
                         source="campaign.csv")
    save_model(model, folder / "uplift.model", KIND)
    result, scores = report_campaign(model, later, folder / "uplift-report.html", source="next-campaign.csv",
                                     say=say)
    targets = write_table(top_share(scores, TARGET_PERCENT), folder / "targets.csv", "the targeting list")

    say("fitting the next-purchase model")
    next_model, _ = fit_next_purchase(purchases, seed=seed, source="purchases.csv")
    save_model(next_model, folder / "next-purchase.model", "next-purchase")
    html, numbers = loyalty_report(next_model, purchases, source="purchases.csv")
    loyalty = write_text_atomic(folder / "loyalty-report.html", html, "the loyalty report")
    validation = model.card_["validation"]
    return OffersResult(folder, folder / "uplift-report.html", targets, loyalty, result.qini_coefficient,
                        result.oracle_qini_coefficient or 0.0, validation["response_model"]["qini_coefficient"],
                        result.uplift_at[0.3] or 0.0, dict(numbers["loyalty"]))
