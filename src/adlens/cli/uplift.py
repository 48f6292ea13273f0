"""``adlens uplift``: whom an offer actually moves (uplift), and what customers buy next."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from adlens.cli import uplift_next, uplift_offers
from adlens.cli.common import err, handle_errors, out, progress_bar, write_json

app = typer.Typer(help="Uplift modelling for targeted offers: simulate, fit, score, report; "
                       "next-purchase model; offers targeted by predicted uplift.", no_args_is_help=True)

DataArg = Annotated[Path, typer.Argument(metavar="DATA.csv", help="Campaign table (CSV with a header line).")]
ModelArg = Annotated[Path, typer.Argument(metavar="MODEL", help="A model file written by 'adlens uplift fit'.")]
Names = Annotated[list[str] | None, typer.Option(help="Column names: repeat the option or separate with commas.")]
IdOption = Annotated[str | None, typer.Option("--id", help="Column of customer ids (default: customer_id when "
                                                           "the table has it); never a feature.")]
JsonFile = Annotated[Path | None, typer.Option("--json", metavar="FILE", help="Also write the metrics as JSON here.")]
DEFAULT_MODEL = Path("uplift.model")


@contextmanager
def _stages(first: str) -> Iterator[Callable[[str], None]]:
    """A spinner on stderr whose text follows the work's stages."""
    with err.status(first) as status:
        yield lambda message: status.update(message)


def _pct(value: float | None, signed: bool = True) -> str:
    return "–" if value is None else (f"{value:+.2%}" if signed else f"{value:.2%}")


def _metrics_table(title: str, columns: dict[str, dict[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    for name in columns:
        table.add_column(name, justify="right")
    rows = [("Qini coefficient", "qini_coefficient", lambda v: f"{v:.4f}"), ("AUUC", "auuc", lambda v: f"{v:.4f}"),
            ("uplift@10%", "uplift_at_10", _pct), ("uplift@30%", "uplift_at_30", _pct),
            ("uplift@50%", "uplift_at_50", _pct)]
    for label, key, fmt in rows:
        table.add_row(label, *("–" if m.get(key) is None else fmt(m[key]) for m in columns.values()))
    return table


def _oracle_column(metrics: dict[str, Any]) -> dict[str, dict[str, Any]]:
    if metrics.get("oracle_qini_coefficient") is None:
        return {}
    return {"oracle (true uplift)": {key[len("oracle_"):]: value for key, value in metrics.items()
                                     if key.startswith("oracle_")}}


@app.command()
@handle_errors
def simulate(
    out_path: Annotated[Path, typer.Option("--out", metavar="DATA.csv", help="Where to write the campaign.")],
    n: Annotated[int, typer.Option("--n", min=1, help="Number of customers.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same table.")] = 0,
    treated_share: Annotated[float, typer.Option(min=0.01, max=0.99, help="Share offered at random.")] = 0.5,
    purchases: Annotated[Path | None, typer.Option(metavar="FILE.csv", help="Also write the same customers' "
                                                   "current and next phone manufacturer (for 'next-purchase').")]
    = None,
) -> None:
    """Write a synthetic telecom campaign with its known true uplift (columns treatment, outcome, true_uplift).

    Persuadables, sure things, lost causes and sleeping dogs are mixed by the customers'
    records (age, residence, phone, tenure, usage, bill, support calls, contract), so the
    uplift is learnable from them; true_uplift is each row's exact P(buy | offer) − P(buy | no offer).
    """
    from adlens.uplift.simulate import simulate as run
    from adlens.uplift.tables import write_table

    with _stages(f"simulating {n:,} customers"):
        result = run(n, seed, treated_share)
        write_table(result.campaign, out_path, "the campaign")
        if purchases is not None:
            write_table(result.purchases, purchases, "the purchases")
    campaign = result.campaign
    treated = campaign["treatment"] == 1
    observed = campaign["outcome"][treated].mean() - campaign["outcome"][~treated].mean()
    shares = ", ".join(f"{name} {share:.0%}" for name, share in result.group_shares().items())
    out.print(f"{n:,} customers written to {out_path} ({treated.mean():.0%} offered); {shares}; average uplift: "
              f"true {campaign['true_uplift'].mean():+.3f}, observed {observed:+.3f}", highlight=False)
    if purchases is not None:
        out.print(f"purchases written to {purchases}", highlight=False)


@app.command()
@handle_errors
def fit(
    data: DataArg,
    treatment: Annotated[str, typer.Option(help="Column of the treatment: 1 offered, 0 control.")],
    outcome: Annotated[str, typer.Option(help="Column of the outcome: 1 responded, 0 not.")],
    features: Names = None,
    exclude: Names = None,
    categorical: Annotated[list[str] | None, typer.Option(help="Text columns to one-hot encode (others must be "
                                                               "numeric).")] = None,
    id_column: IdOption = None,
    model: Annotated[str, typer.Option("--model", help="Learner: s, t, x or class-transform.")] = "t",
    estimator: Annotated[str, typer.Option(help="Base estimator: hgb (gradient boosting) or logistic.")] = "hgb",
    validation: Annotated[float, typer.Option(min=0.0, max=0.89, help="Share of rows held out to evaluate "
                                                                      "before refitting on all (0: none).")] = 0.2,
    seed: Annotated[int, typer.Option(help="Random seed (split and learner).")] = 0,
    out_path: Annotated[Path, typer.Option("--out", metavar="MODEL", help="Where to save the model.")]
    = DEFAULT_MODEL,
    json_path: JsonFile = None,
) -> None:
    """Fit an uplift model: who responds because of the offer, not who would respond anyway.

    Without --features every column is a feature except the treatment, the outcome, the
    id column, true_uplift and the --exclude columns. A share of rows is held out first to
    compare the model with a response model that ignores the offer (and with the true
    uplift, when the table has it); the saved model is refitted on every row.
    """
    from adlens.uplift.model import KIND, fit_campaign
    from adlens.uplift.persist import save_model
    from adlens.uplift.tables import read_table, split_names

    with _stages(f"reading {data}") as say:
        frame = read_table(data)
        fitted = fit_campaign(frame, treatment=treatment, outcome=outcome, features=split_names(features),
                              exclude=split_names(exclude), categorical=split_names(categorical),
                              id_column=id_column, learner=model, estimator=estimator, validation=validation,
                              seed=seed, source=str(data), progress=say)
        say(f"saving to {out_path}")
        save_model(fitted, out_path, KIND)
    card = fitted.card_
    out.print(f"{model} learner on {estimator} fitted on {card['rows']:,} rows with {len(card['features'])} "
              f"features; saved to {out_path}", highlight=False)
    checked = card.get("validation")
    if checked and "qini_coefficient" in checked:
        columns = {"uplift model": checked, "response model": checked["response_model"], **_oracle_column(checked)}
        out.print(_metrics_table(f"held-out {checked['share']:.0%} ({checked['rows']:,} rows)", columns))
    elif checked:
        err.print(f"not validated: {checked['skipped']}", highlight=False)
    if json_path is not None:
        write_json({"model": str(out_path), **card}, json_path)


def _load(path: Path) -> Any:
    from adlens.uplift.model import KIND
    from adlens.uplift.persist import load_model

    return load_model(path, KIND)


@app.command()
@handle_errors
def score(
    model_path: ModelArg,
    data: DataArg,
    out_path: Annotated[Path | None, typer.Option("--out", metavar="FILE.csv", help="Write the scores here "
                                                  "(default: CSV on stdout).")] = None,
    top: Annotated[float | None, typer.Option(metavar="PERCENT", min=0.01, max=100.0,
                                              help="Keep only the best PERCENT % by uplift: a targeting list.")]
    = None,
    id_column: IdOption = None,
    save: Annotated[str | None, typer.Option(metavar="CAMPAIGN", help="Also keep every row's uplift in the "
                                             "store under this campaign name, for offers targeted by uplift.")]
    = None,
) -> None:
    """Predict each customer's uplift: id, uplift, P(outcome) with and without the offer, rank.

    The table needs the model's feature columns (treatment and outcome are not needed).
    p_offer and p_no_offer come from the outcome models of the s, t and x learners (the
    X-learner refines the uplift beyond their difference); class-transform has none.
    """
    from adlens.uplift.model import score_frame, top_share
    from adlens.uplift.tables import read_table, write_table

    model = _load(model_path)
    with _stages(f"reading {data}") as say:
        frame = read_table(data)
        unseen = model.encoder_.unseen(frame)
        say(f"scoring {len(frame):,} rows")
        scores = score_frame(model, frame, id_column, str(data))
    for column, count in unseen.items():
        err.print(f"warning: {count:,} rows hold a {column!r} value the model never saw (scored as none of its "
                  "known values)", highlight=False)
    if save:
        _save_scores(scores, save, model_path)
    chosen = top_share(scores, top) if top is not None else scores
    if out_path is None:
        out.file.write(chosen.to_csv(index=False, float_format="%.6g"))
        return
    write_table(chosen, out_path, "the scores")
    what = f"the best {top:g}% ({len(chosen):,} of {len(scores):,})" if top is not None else f"{len(scores):,} rows"
    out.print(f"scores of {what} written to {out_path}", highlight=False)


def _save_scores(scores: Any, campaign: str, model_path: Path) -> None:
    from adlens.errors import InvalidInputError
    from adlens.cli.common import open_store

    id_column = scores.columns[0]
    if id_column == "line":
        raise InvalidInputError("--save needs customer ids: the table has no customer_id column (name one with --id)")
    ids = scores[id_column].fillna("").astype(str).str.strip()
    store = open_store()
    with progress_bar() as bar:
        task = bar.add_task(f"saving campaign {campaign}", total=len(scores))
        saved = store.save_uplift_scores(campaign, list(ids), scores["uplift"].to_numpy(), model=model_path.name[:200],
                                         progress=lambda done: bar.update(task, completed=done))
    out.print(f"{saved:,} uplift scores saved as campaign {campaign!r}: target offers at them with "
              f"'uplift: {{campaign: {campaign}, min: …}}' in an ad's targeting", highlight=False)


@app.command()
@handle_errors
def report(
    model_path: ModelArg,
    data: DataArg,
    out_path: Annotated[Path, typer.Option("--out", metavar="REPORT.html", help="Where to write the report.")]
    = Path("uplift-report.html"),
    json_path: JsonFile = None,
    targets: Annotated[Path | None, typer.Option(metavar="FILE.csv", help="Also write the targeting list: the "
                                                 "best --top % by predicted uplift.")] = None,
    top: Annotated[float, typer.Option(metavar="PERCENT", min=0.01, max=100.0, help="Share for --targets.")] = 30.0,
    treatment: Annotated[str | None, typer.Option(help="Treatment column (default: the one the model was "
                                                       "fitted with).")] = None,
    outcome: Annotated[str | None, typer.Option(help="Outcome column (default: the model's).")] = None,
    id_column: IdOption = None,
) -> None:
    """Evaluate a model on a campaign table: Qini curve, uplift by decile, AUUC, uplift@k, with plots.

    Use a table the model was not fitted on (another campaign, or a held-out part). When
    the table has true_uplift (a simulation), the oracle's Qini coefficient is reported too.
    """
    from adlens.uplift.model import top_share
    from adlens.uplift.report import report_campaign
    from adlens.uplift.tables import read_table, write_table

    model = _load(model_path)
    with _stages(f"reading {data}") as say:
        frame = read_table(data)
        result, scores = report_campaign(model, frame, out_path, source=str(data), treatment=treatment,
                                         outcome=outcome, id_column=id_column, say=say)
        if targets is not None:
            write_table(top_share(scores, top), targets, "the targeting list")
    metrics = result.to_json()
    out.print(_metrics_table(f"{data}: {result.rows:,} rows", {"uplift model": metrics, **_oracle_column(metrics)}))
    out.print(f"report written to {out_path}", highlight=False)
    if targets is not None:
        out.print(f"targeting list (best {top:g}%) written to {targets}", highlight=False)
    if json_path is not None:
        write_json({"data": str(data), "model": str(model_path), **metrics,
                    "model_card": {k: v for k, v in model.card_.items() if k != "validation"}}, json_path)


uplift_next.register(app)
uplift_offers.register(app)
