"""The fairness report as one self-contained HTML page (``adlens eval fairness --out``).

Built from :func:`adlens.evaluation.fairness.evaluate_fairness`'s dict with the pieces of
every adlens report (:mod:`adlens.reports.page`: sections, cards, tables; plots as inline
base64 PNGs through :func:`adlens.reports.plots.png`), so the page can be mailed alone.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from adlens.evaluation.groupstats import GAP_NAMES, TARGETS
from adlens.files import write_text_atomic
from adlens.reports import page
from adlens.reports.plots import png
from adlens.times import utcnow

PASS_COLOUR, FAIL_COLOUR, GALLERY_COLOUR, MATCH_COLOUR = "#55a868", "#c44e52", "#4c72b0", "#dd8452"

LABELS_NOTE = (
    "Gender, age and ethnicity labels are read from the UTKFace file names (AGE_GENDER_RACE_DATE.jpg: gender 0 male, "
    "1 female; race 0 White, 1 Black, 2 Asian, 3 Indian, 4 Others) only to report on; nothing in adlens infers "
    "ethnicity. Photos go through the whole pipeline (detection, alignment, the models); where no face is found the "
    "photo is taken whole for age and gender (counted as 'no face') and has no embedding. Intervals are 95%: Wilson "
    "for accuracy, a seeded bootstrap for the age MAE."
)
STRANGERS_NOTE = (
    "Every pair of different photos is treated as two different people (UTKFace has no identity labels, so a few "
    "pairs may be the same person). A false match is a pair whose embedding distance is within the threshold: "
    "the gallery would take one stranger for the other. Pairs share photos, so the rates carry no interval."
)


def _ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _interval(row: Mapping[str, Any], key: str, digits: int) -> str:
    low, high = row[f"{key}_ci"]
    return f"{row[key]:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def _rate(cell: Mapping[str, Any] | None) -> str:
    if not cell or cell["rate"] is None:
        return "–"
    return f"{cell['rate']:.2%} ({cell['matches']:,})"


def metrics_figure(rows: Mapping[str, Mapping[str, Any]], title: str) -> Figure | None:
    """Gender accuracy and age MAE per row (group or bracket) with their 95% intervals and the targets."""
    if not rows:
        return None
    names = list(rows)[::-1]
    labels = [f"{name} (n={rows[name]['n']})" for name in names]
    figure = Figure(figsize=(10, 1.4 + 0.34 * len(names)), layout="constrained")
    left, right = figure.subplots(1, 2, sharey=True)
    for axes, key, target, good in ((left, "gender_accuracy", TARGETS["gender_accuracy"], np.greater_equal),
                                    (right, "age_mae", TARGETS["age_mae"], np.less_equal)):
        values = np.array([rows[name][key] for name in names])
        bounds = np.array([rows[name][f"{key}_ci"] for name in names]).T
        colours = [PASS_COLOUR if good(v, target) else FAIL_COLOUR for v in values]
        axes.barh(labels, values, xerr=np.abs(bounds - values), color=colours, capsize=3, alpha=0.85)
        axes.axvline(target, color="black", linestyle="--", linewidth=1, label=f"target {target:g}")
        axes.legend(loc="lower right", fontsize="small")
    left.set_xlim(0, 1)
    left.set_xlabel("gender accuracy (95% Wilson interval)")
    right.set_xlim(left=0)
    right.set_xlabel("age MAE, years (95% bootstrap interval)")
    figure.suptitle(title)
    return figure


def false_match_figure(matches: Mapping[str, Any], thresholds: Mapping[str, float],
                       who: str = "strangers") -> Figure | None:
    """False-match rates between strangers of the same group at the two thresholds, and per ethnicity over
    thresholds."""
    groups, curves = matches.get("groups") or {}, matches.get("curves")
    if not groups or curves is None:
        return None
    figure = Figure(figsize=(11, 1.8 + 0.3 * len(groups)), layout="constrained")
    bars, lines = figure.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    names = list(groups)[::-1]
    y = np.arange(len(names))
    for offset, (label, colour) in zip((0.2, -0.2), (("gallery", GALLERY_COLOUR), ("match", MATCH_COLOUR))):
        rates = [groups[n][label]["rate"] or 0.0 for n in names]
        bars.barh(y + offset, rates, height=0.4, color=colour, label=f"{label} threshold {thresholds[label]:g}")
        overall = matches["all"][label]["rate"]
        if overall is not None:
            bars.axvline(overall, color=colour, linestyle="--", linewidth=1, label=f"all pairs, {label}")
    bars.set_yticks(y, [f"{n} ({groups[n]['faces']})" for n in names])
    bars.set_xlabel("false-match rate between strangers of the same group")
    bars.legend(fontsize="small", loc="lower right")
    for ethnicity, rates in curves["ethnicities"].items():
        lines.plot(curves["thresholds"], [np.nan if r is None else r for r in rates], label=ethnicity)
    lines.plot(curves["thresholds"], [np.nan if r is None else r for r in curves["all"]], color="black",
               linestyle=":", label="all pairs")
    for label, colour in (("gallery", GALLERY_COLOUR), ("match", MATCH_COLOUR)):
        lines.axvline(thresholds[label], color=colour, linestyle="--", linewidth=1)
    lines.set_yscale("log")
    lines.set_xlabel("threshold (embedding distance)")
    lines.set_ylabel("false-match rate, same ethnicity")
    lines.legend(fontsize="small")
    figure.suptitle(f"False matches between {who}")
    return figure


def _metrics_table(rows: Mapping[str, Mapping[str, Any]], first: str) -> str:
    return page.table((first, "faces", "no face", "gender accuracy [95%]", "age MAE [95%]"),
                      ([name, str(row["n"]), str(row["no_face"]), _interval(row, "gender_accuracy", 3),
                        _interval(row, "age_mae", 2)] for name, row in rows.items()))


def _matches_table(matches: Mapping[str, Any]) -> str:
    if matches.get("all") is None:
        return page.note("Fewer than two faces with an embedding: no pairs to compare.", "none")
    rows = [(name, f"{row['faces']:,}", f"{row['pairs']:,}", _rate(row["gallery"]), _rate(row["match"]))
            for name, row in {**matches["groups"], **matches["ethnicities"]}.items()]
    rows += [(label, "", f"{matches[key]['pairs']:,}", _rate(matches[key]["gallery"]), _rate(matches[key]["match"]))
             for key, label in (("same_group", "any same group"), ("different_groups", "different groups"),
                                ("all", "all pairs"))]
    return page.table(("strangers", "faces", "pairs", "gallery threshold", "match threshold"), rows)


def _highest(matches: Mapping[str, Any]) -> str:
    """One sentence naming the group whose strangers match most often at the gallery threshold."""
    rated = {name: row["gallery"]["rate"] for name, row in matches.get("groups", {}).items()
             if row["gallery"]["rate"] is not None}
    overall = (matches.get("all") or {}).get("gallery", {}).get("rate")
    if not rated or not overall:
        return ""
    top, low = max(rated, key=rated.__getitem__), min(rated, key=rated.__getitem__)
    return (f"At the gallery threshold, strangers in {top} are taken for each other in {rated[top]:.2%} of pairs: "
            f"{rated[top] / overall:.1f}× the rate over all pairs ({overall:.2%}); the lowest is {low} "
            f"({rated[low]:.2%}).")


def render_fairness(result: Mapping[str, Any], generated: datetime | None = None) -> str:
    """The fairness report of ``result`` (:func:`~adlens.evaluation.fairness.evaluate_fairness`) as HTML."""
    overall, models, thresholds = result["overall"], result["models"], result["thresholds"]
    gap = result["gaps"]["gender_accuracy"]
    summary = page.cards([
        ("faces", f"{result['n']:,}"), ("gender accuracy", _ratio(overall["gender_accuracy"])),
        ("age MAE (years)", f"{overall['age_mae']:.2f}"), ("largest gender gap", _ratio(gap and gap["gap"])),
        ("no face found", str(overall["no_face"])), ("names not parsed", str(len(result["bad_names"]))),
        ("unreadable", str(len(result["skipped"]))),
    ])
    targets = page.table(("target", "measured", "required", "result"), (
        (t["name"], _ratio(t["value"]), t["target"], "–" if t["pass"] is None else "pass" if t["pass"] else "FAIL")
        for t in result["targets"]))
    gaps = [f"Largest {GAP_NAMES[key]} gap: {g['gap']:.3f} between {g['low']['group']} ({g['low']['value']:.3f}) and "
            f"{g['high']['group']} ({g['high']['value']:.3f}), over {g['groups']} groups of {g['min_n']}+ faces."
            for key, g in result["gaps"].items() if g is not None]
    matches, adults = result["false_matches"], result["false_matches_adults"]
    parts = [
        page.section("Summary", summary + targets + "".join(page.note(text) for text in gaps)
                     + page.note(_in_sample(result)) + page.note(LABELS_NOTE)),
        page.section("Gender × ethnicity groups", page.figure(
            _png(metrics_figure(result["groups"], "Per gender × ethnicity group")), "per group", "No groups.")
            + _metrics_table(result["groups"], "group")),
        page.section("Age brackets", page.figure(
            _png(metrics_figure(result["age_brackets"], "Per true age bracket")), "per age bracket", "No faces.")
            + _metrics_table(result["age_brackets"], "true age")),
        page.section("False matches between strangers", page.note(STRANGERS_NOTE) + page.note(_highest(matches))
                     + page.figure(_png(false_match_figure(matches, thresholds)), "false matches",
                                   "Too few faces with an embedding to compare.")
                     + _matches_table(matches)),
        page.section("False matches between adult strangers", page.note(
            "The same, among faces whose labelled age is 18 or more (members who enrol are adults; children's faces "
            "lie close together in the embedding). " + _highest(adults))
            + page.figure(_png(false_match_figure(adults, thresholds, "adult strangers")), "false matches of adults",
                          "Too few adult faces with an embedding to compare.")
            + _matches_table(adults)),
        page.section("Files left out", _left_out(result)),
    ]
    meta = (f"{result['n_files']:,} files; models: detector {models['detector']}, age {models['age']}, gender "
            f"{models['gender']}, embedding {models['embedder']}; gallery threshold {thresholds['gallery']:g}, "
            f"match threshold {thresholds['match']:g}.")
    return page.document("adlens fairness report", meta, parts, generated or utcnow())


def _in_sample(result: Mapping[str, Any]) -> str:
    names = result.get("trained_on_utkface") or []
    if not names:
        return ("The targets hold for faces the models were not trained on: check that the age and gender models "
                "never saw these photos.")
    return (f"{' and '.join(names)} {'was' if len(names) == 1 else 'were'} trained on UTKFace: on UTKFace photos "
            "these figures are in-sample (the model may have seen them), not a clean test.")


def _left_out(result: Mapping[str, Any]) -> str:
    rows = [(name, "name does not parse as AGE_GENDER_RACE_DATE") for name in result["bad_names"]]
    rows += [(row["image"], row["error"]) for row in result["skipped"]]
    if not rows:
        return page.note("None: every file parsed and was read.", "none")
    return page.table(("file", "why"), rows)


def _png(figure: Figure | None) -> str | None:
    return None if figure is None else png(figure)


def write_fairness(result: Mapping[str, Any], out_path: str | os.PathLike[str]) -> Path:
    """Write the fairness page of ``result`` to ``out_path`` (atomically, folders created) and return the path."""
    return write_text_atomic(out_path, render_fairness(result), "the fairness report")
