"""The uplift report: one self-contained HTML file with the Qini curve, uplift by decile and the model card.

Plots are matplotlib figures drawn on the Agg canvas (never pyplot) and embedded as
base64 PNGs; every number comes from :mod:`adlens.uplift.metrics`, which takes it from
scikit-uplift.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure

from adlens.files import write_text_atomic
from adlens.reports import page
from adlens.reports.plots import png
from adlens.times import utcnow
from adlens.uplift.metrics import UpliftEvaluation, evaluate
from adlens.uplift.model import UpliftModel, read_campaign, score_frame

if TYPE_CHECKING:
    import pandas as pd

COLOURS = {"model": "#1f77b4", "oracle": "#2ca02c", "perfect": "#9a9a9a", "random": "#d62728",
           "observed": "#1f77b4", "predicted": "#ff7f0e"}


def qini_plot(result: UpliftEvaluation) -> str:
    """The Qini curves: the model's, the oracle's (when known), the perfect ranking's, and random targeting."""
    figure = Figure(figsize=(7.5, 4.5))
    axes = figure.add_subplot()
    axes.plot(result.perfect.x, result.perfect.y, color=COLOURS["perfect"], linestyle=":", label="perfect")
    if result.oracle is not None:
        axes.plot(result.oracle.x, result.oracle.y, color=COLOURS["oracle"],
                  label=f"oracle (true uplift): {result.oracle_qini_coefficient:.3f}")
    axes.plot(result.qini.x, result.qini.y, color=COLOURS["model"], linewidth=2,
              label=f"model: Qini coefficient {result.qini_coefficient:.3f}")
    end = result.qini.y[-1] if result.qini.y else 0.0
    axes.plot([0, 1], [0, end], color=COLOURS["random"], linestyle="--", label="random targeting")
    axes.axhline(0, color="#cccccc", linewidth=0.8)
    axes.set_xlabel("share of customers targeted, best predicted uplift first")
    axes.set_ylabel("incremental responders")
    axes.set_xlim(0, 1)
    axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)  # beside the plot: over no curve
    return png(figure)


def deciles_plot(result: UpliftEvaluation) -> str:
    """Observed uplift per decile of the ranking (bars, ± one standard error) and the mean predicted uplift."""
    figure = Figure(figsize=(7.5, 4))
    axes = figure.add_subplot()
    deciles = result.deciles
    x = np.arange(1, len(deciles) + 1)
    observed = np.array([np.nan if d["uplift"] is None else d["uplift"] for d in deciles], dtype=float)
    error = np.array([0.0 if d["std"] is None else d["std"] for d in deciles], dtype=float)
    axes.bar(x, observed, yerr=error, color=COLOURS["observed"], alpha=0.75, capsize=3, label="observed uplift")
    axes.plot(x, np.array([d["predicted"] for d in deciles], dtype=float), "o-", color=COLOURS["predicted"], label="mean predicted uplift")
    axes.axhline(result.ate, color=COLOURS["random"], linestyle="--", linewidth=1,
                 label=f"average uplift {result.ate:+.3f}")
    axes.axhline(0, color="#888888", linewidth=0.8)
    axes.set_xticks(x)
    axes.set_xlabel("decile of predicted uplift (1 = highest)")
    axes.set_ylabel("response rate, treated − control")
    axes.legend(loc="best", fontsize=8)
    return png(figure)


def distribution_plot(uplift: np.ndarray, truth: np.ndarray | None) -> str:
    """Histogram of the predicted uplift (and of the true uplift, when known)."""
    figure = Figure(figsize=(7.5, 3.5))
    axes = figure.add_subplot()
    values = [uplift] + ([truth] if truth is not None else [])
    low, high = float(min(v.min() for v in values)), float(max(v.max() for v in values))
    bins = np.linspace(low, high if high > low else low + 1e-6, 60).tolist()
    axes.hist(uplift, bins=bins, color=COLOURS["model"], alpha=0.7, label="predicted")
    if truth is not None:
        axes.hist(truth, bins=bins, color=COLOURS["oracle"], alpha=0.45, label="true")
    axes.axvline(0, color="#888888", linewidth=0.8)
    axes.set_xlabel("uplift: P(outcome | offer) − P(outcome | no offer)")
    axes.set_ylabel("customers")
    axes.legend(loc="best", fontsize=8)
    return png(figure)


def _rate(value: float | None, signed: bool = False) -> str:
    return "–" if value is None else (f"{value:+.1%}" if signed else f"{value:.1%}")


def _cards(result: UpliftEvaluation) -> list[tuple[str, str]]:
    items = [("customers", f"{result.rows:,}"), ("treated / control", f"{result.treated:,} / {result.control:,}"),
             ("average uplift", _rate(result.ate, signed=True)), ("Qini coefficient", f"{result.qini_coefficient:.3f}"),
             ("AUUC", f"{result.auuc:.3f}"), ("uplift@30%", _rate(result.uplift_at.get(0.3), signed=True))]
    if result.oracle_qini_coefficient is not None:
        items.append(("oracle Qini", f"{result.oracle_qini_coefficient:.3f}"))
        if result.oracle_qini_coefficient > 0:
            items.append(("share of oracle", f"{result.qini_coefficient / result.oracle_qini_coefficient:.0%}"))
    return items


def _deciles_table(result: UpliftEvaluation) -> str:
    rows = [[str(d["decile"]), f"{d['n_treatment']:,}", f"{d['n_control']:,}", _rate(d["response_treatment"]),
             _rate(d["response_control"]), _rate(d["uplift"], True), _rate(d["std"]), _rate(d["predicted"], True)]
            for d in result.deciles]
    return page.table(("decile", "treated", "control", "response treated", "response control", "observed uplift",
                       "std. error", "predicted uplift"), rows)


def _model_card(card: Mapping[str, Any]) -> str:
    rows = [("learner", f"{card.get('learner')} on {card.get('estimator')}"),
            ("treatment / outcome", f"{card.get('treatment')} / {card.get('outcome')}"),
            ("trained on", f"{card.get('rows', 0):,} rows, fitted {card.get('fitted_at', '–')}"),
            ("features", ", ".join(card.get("features", []))),
            ("never features", ", ".join(card.get("excluded", [])) or "–")]
    body = page.table(("", ""), rows)
    validation = card.get("validation")
    if validation and "qini_coefficient" in validation:
        response = validation["response_model"]
        line = (f"On {validation['rows']:,} held-out rows ({validation['share']:.0%}) the model's Qini coefficient "
                f"was {validation['qini_coefficient']:.3f} against {response['qini_coefficient']:.3f} for a response "
                "model that predicts the outcome and ignores the offer")
        if validation.get("oracle_qini_coefficient") is not None:
            line += f", and {validation['oracle_qini_coefficient']:.3f} for the oracle (true uplift)"
        body += page.note(line + ".")
    elif validation:
        body += page.note(f"Not validated: {validation.get('skipped')}.")
    return body


NOTES = ("The Qini curve counts the extra responders the offer brings when customers are targeted in the "
         "model's order; the random line is what targeting at random brings. The Qini coefficient is the area "
         "between the model's curve and the random line, as a share of that of the perfect ranking of these "
         "outcomes (1 is perfect, 0 random, negative worse than random). Uplift@30% is the treated response "
         "rate minus the control response rate among the top 30%. Customers with a negative predicted uplift "
         "(\"sleeping dogs\") are less likely to respond when offered: leave them out.")


def render_report(result: UpliftEvaluation, uplift: np.ndarray, card: Mapping[str, Any], source: str,
                  truth: np.ndarray | None = None) -> str:
    """The uplift report as one HTML document."""
    sections = [
        page.section("Summary", page.cards(_cards(result)) + page.note(NOTES)),
        page.section("Qini curve", page.figure(qini_plot(result), "Qini curve", "")),
        page.section("Uplift by decile", page.figure(deciles_plot(result), "uplift by decile", "")
                     + _deciles_table(result)),
        page.section("Predicted uplift", page.figure(distribution_plot(uplift, truth), "distribution of uplift", "")),
        page.section("The model", _model_card(card)),
    ]
    return page.document("adlens uplift report", f"Campaign table: {source}.", sections, utcnow())


def write_report(result: UpliftEvaluation, uplift: np.ndarray, card: Mapping[str, Any], source: str,
                 out_path: str | os.PathLike[str], truth: np.ndarray | None = None) -> Path:
    """Write the report to ``out_path`` atomically; returns the path."""
    return write_text_atomic(out_path, render_report(result, uplift, card, source, truth), "the uplift report")


def report_campaign(model: UpliftModel, frame: pd.DataFrame, out_path: str | os.PathLike[str], *,
                    source: str = "the table", treatment: str | None = None, outcome: str | None = None,
                    id_column: str | None = None, say: Callable[[str], None] | None = None,
                    ) -> tuple[UpliftEvaluation, pd.DataFrame]:
    """Score ``frame`` with ``model``, evaluate it and write the report; returns the metrics and the scores.

    The treatment, outcome and id columns default to those the model was fitted with.
    """
    say = say or (lambda _message: None)
    card = model.card_
    campaign = read_campaign(frame, treatment or card["treatment"], outcome or card["outcome"],
                             id_column or card.get("id_column"), source)
    say(f"scoring {len(frame):,} rows")
    scores = score_frame(model, frame, campaign.id_column, source)
    uplift = scores["uplift"].to_numpy()
    say("computing the metrics")
    result = evaluate(campaign.y, uplift, campaign.treatment, campaign.true_uplift, source)
    say("drawing the report")
    write_report(result, uplift, card, source, out_path, campaign.true_uplift)
    return result, scores
