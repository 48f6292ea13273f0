"""``adlens uplift next-purchase``: what customers buy next, and how loyal each brand's owners are."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from adlens.cli.common import err, handle_errors, out, write_json

KIND = "next-purchase"

next_app = typer.Typer(help="What customers buy next: P(next brand | current brand, age, residence), "
                            "and each brand's loyalty.", no_args_is_help=True)

Data = Annotated[Path, typer.Argument(metavar="DATA.csv", dir_okay=False,
                                      help="Purchases table (CSV): current brand, features, next brand.")]
ModelPath = Annotated[Path, typer.Argument(metavar="MODEL", dir_okay=False, help="A model file from 'fit'.")]
JsonPath = Annotated[Path | None, typer.Option("--json", dir_okay=False, help="Also write the numbers as JSON here.")]


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``adlens uplift``."""
    app.add_typer(next_app, name="next-purchase")


@next_app.command("fit")
@handle_errors
def fit(
    data: Data,
    current: Annotated[str, typer.Option("--current", help="Column with the brand owned now.")] = "manufacturer",
    next_column: Annotated[str, typer.Option("--next", help="Column with the brand bought next.")]
    = "next_manufacturer",
    features: Annotated[list[str] | None, typer.Option(
        "--features", help="Feature columns, comma-separated or repeated (default: age,residence); "
                           "'' for none.")] = None,
    categorical: Annotated[list[str] | None, typer.Option(
        "--categorical", help="Features to treat as categories (the others are numeric); by default a column "
                              "of mostly numbers is numeric.")] = None,
    validation: Annotated[float, typer.Option("--validation", help="Share of rows held out to evaluate "
                                                                   "(stratified by next brand); 0 for none.")]
    = 0.2,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the held-out split.")] = 0,
    out_path: Annotated[Path, typer.Option("--out", "-o", dir_okay=False, help="Where to write the model.")]
    = Path("next-purchase.model"),
    json_path: JsonPath = None,
) -> None:
    """Fit the next-purchase model on a table; print its held-out scores against two baselines."""
    from adlens.uplift.nextpurchase import fit_next_purchase
    from adlens.uplift.persist import save_model
    from adlens.uplift.tables import read_table, split_names

    frame = read_table(data)
    names = ["age", "residence"] if features is None else split_names(features)
    kinds = None if categorical is None else split_names(categorical)
    with err.status(f"fitting the next-purchase model on {len(frame):,} rows"):
        model, evaluation = fit_next_purchase(frame, current=current, next=next_column, features=names,
                                              categorical=kinds, validation=validation, seed=seed,
                                              source=str(data))
    path = save_model(model, out_path, KIND)
    described = ", ".join([*(f"{c} (categorical)" for c in model.categorical_),
                           *(f"{c} (numeric)" for c in model.numeric_)]) or "none"
    out.print(f"fitted on {len(frame):,} rows, {len(model.classes_)} brands; features: {described}",
              highlight=False, markup=False)
    if evaluation is None:
        out.print("no held-out evaluation (--validation 0)", highlight=False, markup=False)
    else:
        _print_scores(evaluation.to_dict(), f"held out {evaluation.rows:,} rows")
    out.print(f"model written to {path}", highlight=False, markup=False)
    if json_path is not None:
        write_json({"data": str(data), "rows": len(frame), "brands": [str(b) for b in model.classes_],
                    "current": current, "next": next_column, "categorical": model.categorical_,
                    "numeric": model.numeric_, "validation": validation, "seed": seed,
                    "held_out": model.evaluation_, "model": str(path)}, json_path)


@next_app.command("predict")
@handle_errors
def predict(
    model_path: ModelPath,
    data: Data,
    out_path: Annotated[Path | None, typer.Option("--out", "-o", dir_okay=False,
                                                  help="Write the predictions here as CSV (default: stdout).")]
    = None,
    top: Annotated[int, typer.Option("--top", min=1, help="How many likeliest next brands per row.")] = 1,
    id_column: Annotated[str | None, typer.Option(
        "--id", help="Column copied to the output to tell rows apart (default: customer_id when there).")] = None,
) -> None:
    """Per row: the likeliest next brand(s) with probabilities, P(stay) and one p_<brand> column per brand."""
    import numpy as np
    import pandas as pd

    from adlens.uplift.persist import load_model
    from adlens.uplift.features import pick_id_column
    from adlens.uplift.tables import read_table, write_table

    model = load_model(model_path, KIND)
    frame = read_table(data)
    id_column = pick_id_column(frame, id_column, str(data))
    proba = model.predict_proba(frame, source=str(data))
    stay = model.stay_proba(frame, proba, source=str(data))
    result = pd.DataFrame({id_column: frame[id_column].to_numpy()} if id_column else {})
    result[model.current] = frame[model.current].str.strip().to_numpy()
    ranked = np.argsort(-proba, axis=1, kind="stable")[:, : min(top, len(model.classes_))]
    for k in range(ranked.shape[1]):
        suffix = "" if k == 0 else f"_{k + 1}"
        result[f"next{suffix}"] = model.classes_[ranked[:, k]]
        result[f"p_next{suffix}"] = proba[np.arange(len(proba)), ranked[:, k]]
    result["p_stay"] = stay
    for j, brand in enumerate(model.classes_):
        result[f"p_{brand}"] = proba[:, j]
    unknown = sorted(set(result[model.current]) - set(model.brands_))
    if unknown:
        err.print(f"note: {int(result[model.current].isin(unknown).sum()):,} rows own a brand the model never saw "
                  f"({', '.join(unknown[:5])}{' …' if len(unknown) > 5 else ''}): predicted from their features "
                  "alone", highlight=False, markup=False)
    if out_path is None:
        typer.echo(result.to_csv(index=False, float_format="%.6g"), nl=False)
        return
    path = write_table(result, out_path, "the predictions")
    out.print(f"{len(result):,} predictions written to {path}", highlight=False, markup=False)


@next_app.command("report")
@handle_errors
def report(
    model_path: ModelPath,
    data: Data,
    out_path: Annotated[Path, typer.Option("--out", "-o", dir_okay=False, help="Where to write the HTML report.")]
    = Path("report.html"),
    json_path: JsonPath = None,
    next_column: Annotated[str | None, typer.Option(
        "--next", help="Column with the brand bought next (default: the one the model was fitted on).")] = None,
) -> None:
    """Write an HTML report: the loyalty matrix, loyalty per brand observed vs predicted, loyalty by age."""
    from adlens.files import write_text_atomic
    from adlens.uplift.loyalty_report import loyalty_report
    from adlens.uplift.persist import load_model
    from adlens.uplift.tables import read_table

    model = load_model(model_path, KIND)
    frame = read_table(data)
    with err.status(f"scoring {len(frame):,} rows and drawing the report"):
        html, numbers = loyalty_report(model, frame, next=next_column, source=str(data))
    path = write_text_atomic(out_path, html, "the report")
    if json_path is not None:
        write_json(numbers, json_path)
    out.print(f"report written to {path} ({len(frame):,} rows, {len(model.classes_)} brands)",
              highlight=False, markup=False)


def _print_scores(scores: dict[str, Any], label: str) -> None:
    base = scores["baselines"]
    out.print(f"{label}:\n"
              f"  log loss  {scores['log_loss']:.4f}  (brand shares {base['shares']['log_loss']:.4f}, "
              f"transition matrix {base['transition']['log_loss']:.4f}; lower is better)\n"
              f"  accuracy  {scores['accuracy']:.1%}  (brand shares {base['shares']['accuracy']:.1%}, "
              f"transition matrix {base['transition']['accuracy']:.1%}, stays {base['stay']['accuracy']:.1%})\n"
              f"  top-2     {scores['top2_accuracy']:.1%}", highlight=False, markup=False)
