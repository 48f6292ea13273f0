"""The next-purchase HTML report: the loyalty matrix plots, P(stay) by feature, and the model's scores.

:func:`loyalty_report` draws on the observed and predicted :class:`~adlens.uplift.loyalty.Transitions`
of a table and on the model's held-out evaluation, as one self-contained HTML page.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from adlens.errors import InvalidInputError
from adlens.uplift.brands import brand_values
from adlens.uplift.loyalty import MATRIX_BRANDS, OTHER, Transitions, loyalty_matrix
from adlens.uplift.nextpurchase import NextPurchaseModel
from adlens.uplift.nextscores import evaluate
from adlens.uplift.tables import numeric_column

if TYPE_CHECKING:
    import pandas as pd

#: Brands drawn in the plot of P(stay) by a feature.
CURVE_BRANDS = 8
#: Rows the partial dependence averages over, and points along a numeric feature.
CURVE_SAMPLE = 400
CURVE_POINTS = 30
#: Values of a categorical feature drawn (the most frequent).
CURVE_VALUES = 12


def matrix_plot(transitions: Transitions, brands: int = MATRIX_BRANDS) -> str | None:
    """A heatmap of P(next | current), each cell's share written in it, the diagonal (loyalty) outlined."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    from adlens.reports.plots import png

    if not transitions.current:
        return None
    shown = transitions.top(brands)
    shares = shown.shares
    rows, columns = len(shown.current), len(shown.next)
    figure = Figure(figsize=(2.2 + 0.75 * columns, 1.4 + 0.55 * rows), layout="constrained")
    axes = figure.subplots()
    image = axes.imshow(shares, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    size = 9 if columns <= 8 else 7
    for i in range(rows):
        for j in range(columns):
            share = shares[i, j]
            text = f"{share:.0%}" if share >= 0.005 or share == 0 else "<1%"
            axes.text(j, i, text, ha="center", va="center", fontsize=size,
                      color="white" if share > 0.6 else "#222")
        if shown.current[i] != OTHER:
            axes.add_patch(Rectangle((i - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="#c44e52", linewidth=2))
    axes.set_yticks(range(rows), [f"{_label(b)} ({owners:,.0f})" for b, owners in zip(shown.current, shown.owners)])
    axes.set_xticks(range(columns), [_label(b) for b in shown.next], rotation=45 if columns > 6 else 0,
                    ha="right" if columns > 6 else "center")
    axes.set_xlabel("next brand")
    axes.set_ylabel("current brand (owners)")
    figure.colorbar(image, ax=axes, label="share of owners", shrink=0.8)
    axes.set_title("Loyalty matrix: where owners go next (observed)" if shown.kind == "observed"
                   else "Loyalty matrix: the model's mean P(next | current)")
    return png(figure)


def stay_curves(model: NextPurchaseModel, frame: pd.DataFrame, feature: str, brands: Sequence[str],
                values: Sequence[Any], sample: int = CURVE_SAMPLE, seed: int = 0,
                source: str = "the table") -> np.ndarray:
    """Predicted P(stay) per brand (rows) at each of ``values`` of ``feature`` (columns).

    A partial dependence: a sample of ``frame``'s rows is given each brand and each
    value in turn, everything else kept, and the predictions averaged.
    """
    import pandas as pd

    frame = frame.reset_index(drop=True)
    rows = frame.sample(n=min(sample, len(frame)), random_state=seed) if len(frame) > sample else frame
    grid = pd.concat([rows] * (len(brands) * len(values)), ignore_index=True)
    grid[model.current] = np.repeat(np.asarray(brands, dtype=object), len(values) * len(rows))
    grid[feature] = np.tile(np.repeat(np.asarray(values, dtype=object), len(rows)), len(brands))
    if feature in model.numeric_:
        grid[feature] = grid[feature].astype(float)
    stay = model.stay_proba(grid, source=source)
    return stay.reshape(len(brands), len(values), len(rows)).mean(axis=2)


def stay_plot(model: NextPurchaseModel, frame: pd.DataFrame, feature: str | None = None,
              brands: int = CURVE_BRANDS, source: str = "the table") -> str | None:
    """Predicted P(stay) by ``feature`` (default: the first numeric feature, else the first categorical) per brand.

    Lines along a numeric feature's 2nd–98th percentile; grouped bars for a categorical
    one (its 12 most frequent values).
    ``None`` when the model has no features.
    """
    from matplotlib.figure import Figure

    from adlens.reports.plots import png

    feature = feature or next(iter([*model.numeric_, *model.categorical_]), None)
    if feature is None:
        return None
    if feature not in (*model.numeric_, *model.categorical_):
        raise InvalidInputError(f"{feature!r} is not one of the model's features")
    owners = model.transitions_.sum(axis=1)
    named = [b for b in model.brands_[np.argsort(-owners, kind="stable")] if b in set(model.classes_)][:brands]
    if not named:
        return None
    if feature in model.numeric_:
        observed = numeric_column(frame.reset_index(drop=True), feature, source, allow_missing=False)
        low, high = np.percentile(observed, [2, 98])
        values = np.linspace(low, high, CURVE_POINTS) if high > low else np.array([low])
    else:
        import pandas as pd

        counted = pd.Series(brand_values(frame[feature], "feature", source, feature)).value_counts()
        values = np.array(sorted(counted.index[:CURVE_VALUES]), dtype=object)
    curves = stay_curves(model, frame, feature, named, list(values), source=source)
    figure = Figure(figsize=(9, 4.5), layout="constrained")
    axes = figure.subplots()
    if feature in model.numeric_:
        for brand, curve in zip(named, curves):
            axes.plot(values, curve, label=_label(brand), linewidth=2)
        axes.set_xlabel(feature)
    else:
        width = 0.8 / len(named)
        for k, (brand, curve) in enumerate(zip(named, curves)):
            axes.bar(np.arange(len(values)) + (k - (len(named) - 1) / 2) * width, curve, width, label=_label(brand))
        axes.set_xticks(range(len(values)), [_label(str(v)) for v in values])
        axes.set_xlabel(feature)
    axes.set_ylim(0, 1)
    axes.set_ylabel("predicted P(buys the same brand again)")
    axes.legend(title="current brand", loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    axes.set_title(f"Loyalty by {feature} (the model, other features as in the table)")
    return png(figure)


def loyalty_report(model: NextPurchaseModel, frame: pd.DataFrame, next: str | None = None,
                   source: str = "the table", generated: datetime | None = None) -> tuple[str, dict[str, Any]]:
    """The HTML report of ``model`` on ``frame`` and its numbers as plain data.

    With the next brands in the table (column ``next``, default the one the model was
    fitted on) the report compares observed and predicted loyalty and scores the model
    on these rows; without, it shows the predictions alone. The held-out scores from
    fitting, when the model carries them, are the headline.
    """
    from adlens.reports import page
    from adlens.times import utcnow

    frame = frame.reset_index(drop=True)
    next = next or model.target_ or "next_manufacturer"
    has_next = next in frame.columns
    predicted = loyalty_matrix(frame, model, source=source)
    observed = loyalty_matrix(frame, current=model.current, next=next, source=source) if has_next else None
    here = evaluate(model, frame, next, source) if has_next else None
    held = model.evaluation_
    data = {
        "rows": len(frame), "brands": [str(b) for b in model.classes_], "current": model.current, "next": next,
        "owners": {b: int(round(n)) for b, n in zip(predicted.current, predicted.owners)},
        "loyalty": observed.loyalty() if observed else {},
        "loyalty_predicted": predicted.loyalty(),
        "matrix": observed.to_dict() if observed else None,
        "matrix_predicted": predicted.to_dict(),
        "log_loss": here.model.log_loss if here else None,
        "accuracy": here.model.accuracy if here else None,
        "top2_accuracy": here.model.top2_accuracy if here else None,
        "baselines": here.to_dict()["baselines"] if here else None,
        "held_out": held,
    }
    headline = held or (here.to_dict() if here else None)
    where = "held out at fit" if held else "on this table"
    items = [("rows", f"{len(frame):,}"), ("brands", str(len(model.classes_)))]
    if headline:
        base = headline["baselines"]
        items += [(f"log loss {where} (shares {_number(base['shares']['log_loss'])}, "
                   f"transitions {_number(base['transition']['log_loss'])})", _number(headline["log_loss"])),
                  (f"accuracy {where} (transitions {_number(base['transition']['accuracy'], True)}, "
                   f"stay {_number(base['stay']['accuracy'], True)})", _number(headline["accuracy"], True)),
                  (f"top-2 accuracy {where}", _number(headline["top2_accuracy"], True))]
    sections = [page.section("Summary", page.cards(items) + page.note(
        "Log loss: lower is better; the model should beat both baselines (the brands' overall shares, and "
        "the observed transition matrix P(next | current) alone)."))]
    matrices = page.figure(matrix_plot(observed), "observed loyalty matrix", "") if observed else page.note(
        f"{source} has no column {next!r}: the observed matrix needs the brands bought next.", "none")
    matrices += page.figure(matrix_plot(predicted), "predicted loyalty matrix", "No rows to draw.")
    sections.append(page.section("Loyalty matrix", page.note(
        "Each row is the owners of one brand; each cell the share of them who bought the column's brand next. "
        "The outlined diagonal is loyalty: the share who bought the same brand again.") + matrices))
    sections.append(page.section("Loyalty per brand", _brand_table(predicted, observed)))
    sections.append(page.section("Loyalty by feature", page.figure(
        stay_plot(model, frame, source=source), "predicted loyalty by feature", "The model has no features.")))
    sections.append(page.section("Model", _model_table(model, held, here) + page.note(
        "Observational: the model says who tends to stay with which brand, not what an offer would change. "
        "For that, use an uplift model fitted on a randomised campaign.")))
    html = page.document("Next purchase and loyalty", f"{source}, {len(frame):,} rows; current brand "
                         f"{model.current!r}.", sections, generated or utcnow())
    return html, data


def _brand_table(predicted: Transitions, observed: Transitions | None) -> str:
    from adlens.reports import page

    stays = predicted.loyalty()
    seen = observed.loyalty() if observed else {}
    rows = []
    for brand, owners in zip(predicted.current, predicted.owners):
        leavers = (observed or predicted).destinations(brand)
        rows.append([brand, f"{owners:,.0f}", f"{seen[brand]:.1%}" if brand in seen else "–",
                     f"{stays[brand]:.1%}", ", ".join(f"{b} {s:.0%}" for b, s in leavers) or "–"])
    goes = "where leavers go" + ("" if observed else " (predicted)")
    return page.table(["brand", "owners", "loyalty observed", "loyalty predicted", goes], rows)


def _model_table(model: NextPurchaseModel, held: dict[str, Any] | None, here: Any) -> str:
    from adlens.reports import page

    rows = []
    for label, result in (("held out at fit", held), ("this table", here.to_dict() if here else None)):
        if result is None:
            continue
        for name, scores in (("model", result), *result["baselines"].items()):
            rows.append([f"{name} ({label}, {result['rows']:,} rows)", _number(scores["log_loss"]),
                         _number(scores["accuracy"], True), _number(scores["top2_accuracy"], True)])
    features = ", ".join([*(f"{c} (categorical)" for c in model.categorical_),
                          *(f"{c} (numeric, spline)" for c in model.numeric_)]) or "none"
    described = page.note(f"Multinomial logistic regression on the current brand {model.current!r} and "
                          f"{features}{', crossed with the current brand' if model.interactions else ''}; "
                          f"C = {model.C}.")
    if not rows:
        return described
    return described + page.table(["predictor", "log loss", "accuracy", "top-2 accuracy"], rows)


def _number(value: float | None, percent: bool = False) -> str:
    """A score as ``0.9123`` or ``65.8%``; ``–`` for none."""
    return "–" if value is None else (f"{value:.1%}" if percent else f"{value:.4f}")


def _label(text: str) -> str:
    """A brand name short enough for an axis."""
    from adlens.reports.plots import short_label

    return short_label(text, 24)
