"""How well a next-purchase model predicts, against two baselines: the brands' shares and the transition matrix.

:func:`evaluate` scores a fitted :class:`~adlens.uplift.nextpurchase.NextPurchaseModel` on
rows with known next brands (log loss, accuracy, top-2 accuracy); the baselines come from
the model's own training counts, so on held-out rows the comparison is fair.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from adlens.uplift.brands import brand_values, slots
from adlens.uplift.tables import require_columns

if TYPE_CHECKING:
    import pandas as pd

    from adlens.uplift.nextpurchase import NextPurchaseModel

#: Pseudo-count pulling the transition baseline's rows towards the overall shares (a brand with 3 owners).
SMOOTHING = 1.0
#: Probabilities are clipped here for the log loss, as scikit-learn does.
EPSILON = 1e-15


@dataclass(frozen=True)
class Scores:
    """How well one predictor did: log loss (``None`` where it gives no probabilities), accuracy, top-2."""

    log_loss: float | None
    accuracy: float
    top2_accuracy: float | None


@dataclass(frozen=True)
class Evaluation:
    """The model against its baselines on ``rows`` rows (``unknown``: next brands it never saw, always wrong).

    Baselines: ``shares`` (every row gets the brands' overall shares in training),
    ``transition`` (the training rows' P(next | current), smoothed towards the shares),
    ``stay`` (everyone buys their current brand again: an accuracy only).
    """

    rows: int
    unknown: int
    model: Scores
    baselines: dict[str, Scores]

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON: the model's scores at the top level, the baselines by name."""
        return {"rows": self.rows, "unknown_next": self.unknown, **asdict(self.model),
                "baselines": {name: asdict(scores) for name, scores in self.baselines.items()}}


def evaluate(model: NextPurchaseModel, frame: pd.DataFrame, next: str | None = None,
             source: str = "the table") -> Evaluation:
    """Score ``model`` on ``frame`` (which has its next brands in column ``next``) against the baselines.

    The baselines come from the model's own training counts, so on held-out rows the
    comparison is fair. Rows whose next brand the model never saw count as wrong and
    are left out of the log losses (their probability would be zero).
    """
    check_is_fitted(model, "estimator_")
    next = next or model.target_ or "next_manufacturer"
    require_columns(frame, [next], source)
    targets = brand_values(frame[next], "next brand", source, next)
    proba = model.predict_proba(frame, source=source)
    current = brand_values(frame[model.current], "current brand", source, model.current)
    truth = slots(model.classes_, targets)
    shares = model.transitions_.sum(axis=0) / model.transitions_.sum()
    counts = np.vstack([model.transitions_, np.zeros((1, len(shares)))])  # last row (-1): an unknown brand
    transition = (counts + SMOOTHING * shares) / (counts.sum(axis=1, keepdims=True) + SMOOTHING)
    slot = slots(model.brands_, current)
    return Evaluation(
        rows=len(targets), unknown=int((truth < 0).sum()), model=_scores(proba, truth),
        baselines={"shares": _scores(np.broadcast_to(shares, proba.shape), truth),
                   "transition": _scores(transition[slot], truth),
                   "stay": Scores(None, float(np.mean(targets == current)), None)})


def _scores(proba: np.ndarray, truth: np.ndarray) -> Scores:
    """Log loss over rows with a known truth (``truth`` ≥ 0), accuracy and top-2 over all rows."""
    known = truth >= 0
    rows = np.flatnonzero(known)
    p_true = proba[rows, truth[rows]]
    above = (proba[rows] > p_true[:, None]).sum(axis=1)
    tied_before = ((proba[rows] == p_true[:, None]) & (np.arange(proba.shape[1]) < truth[rows, None])).sum(axis=1)
    rank = above + tied_before  # 0 where argmax picks the truth
    n = len(truth)
    loss = float(-np.mean(np.log(np.clip(p_true, EPSILON, 1)))) if len(rows) else None
    return Scores(log_loss=loss, accuracy=float((rank < 1).sum() / n) if n else 0.0,
                  top2_accuracy=float((rank < 2).sum() / n) if n else 0.0)
