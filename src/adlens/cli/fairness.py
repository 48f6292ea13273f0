"""The terminal summary of ``adlens eval fairness``: models, targets, per-group table, false matches."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.table import Table

from adlens.cli.common import out
from adlens.evaluation.groupstats import GAP_NAMES


def _rate(cell: Mapping[str, Any] | None) -> str:
    return "-" if not cell or cell["rate"] is None else f"{cell['rate']:.2%}"


def print_fairness(result: Mapping[str, Any]) -> None:
    """Print the models used, the overall numbers and targets, and a table per gender × ethnicity group."""
    models, overall, cuts = result["models"], result["overall"], result["thresholds"]
    out.print(f"models: detector {models['detector']}, age {models['age']}, gender {models['gender']}, "
              f"embedding {models['embedder']}", highlight=False)
    if result.get("trained_on_utkface"):
        out.print(f"note: {', '.join(result['trained_on_utkface'])}: trained on UTKFace: on UTKFace photos these "
                  "figures are in-sample, not a clean test", highlight=False)
    out.print(f"{result['n']} faces of {result['n_files']} files ({overall['no_face']} without a detected face, "
              f"{len(result['bad_names'])} names not parsed, {len(result['skipped'])} unreadable): "
              f"gender accuracy {overall['gender_accuracy']:.3f}, age MAE {overall['age_mae']:.2f} years",
              highlight=False)
    _left_out(result)
    matches = result["false_matches"]
    groups = matches.get("groups", {})
    table = Table("group", "faces", "no face", "gender accuracy [95%]", "age MAE [95%]",
                  f"false match @{cuts['gallery']:g}", f"@{cuts['match']:g}")
    for name, row in result["groups"].items():
        low, high = row["gender_accuracy_ci"]
        mae_low, mae_high = row["age_mae_ci"]
        fm = groups.get(name, {})
        table.add_row(name, str(row["n"]), str(row["no_face"]),
                      f"{row['gender_accuracy']:.3f} [{low:.3f}, {high:.3f}]",
                      f"{row['age_mae']:.2f} [{mae_low:.2f}, {mae_high:.2f}]",
                      _rate(fm.get("gallery")), _rate(fm.get("match")))
    if matches.get("all") is not None:
        table.add_row("all pairs", "", "", "", "", _rate(matches["all"]["gallery"]), _rate(matches["all"]["match"]))
    out.print(table)
    for key, gap in result["gaps"].items():
        if gap is not None:
            out.print(f"largest {GAP_NAMES[key]} gap (groups of {gap['min_n']}+): {gap['gap']:.3f} "
                      f"({gap['low']['group']} {gap['low']['value']:.3f}, {gap['high']['group']} "
                      f"{gap['high']['value']:.3f})", highlight=False)
    for target in result["targets"]:
        verdict = "-" if target["pass"] is None else "[green]pass[/green]" if target["pass"] else "[red]FAIL[/red]"
        value = "-" if target["value"] is None else f"{target['value']:.3f}"
        out.print(f"target {target['name']}: {value} (required {target['target']}) {verdict}", highlight=False)


#: Files left out that the terminal names (the JSON and the page list them all).
SHOWN = 10


def _left_out(result: Mapping[str, Any]) -> None:
    """Name the files left out: names that do not parse, then files that could not be read."""
    rows = [(name, "name is not AGE_GENDER_RACE_DATE") for name in result["bad_names"]]
    rows += [(row["image"], row["error"]) for row in result["skipped"]]
    for name, why in rows[:SHOWN]:
        out.print(f"  left out: {name}: {why}", highlight=False)
    if len(rows) > SHOWN:
        out.print(f"  … and {len(rows) - SHOWN} more (all in --json and --out)", highlight=False)
