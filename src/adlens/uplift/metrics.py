"""How well uplift scores rank people, measured with scikit-uplift's metrics.

- **Qini coefficient** (``qini_auc_score``): the area between the model's Qini curve
  and the random line, divided by that of the perfect ranking of the observed
  outcomes: 1 is perfect, 0 random, below 0 worse than random.
- **AUUC** (``uplift_auc_score``): the same normalisation for the uplift curve.
- **uplift@k** (``uplift_at_k``, strategy ``overall``): response rate of the treated
  minus that of the control among the top ``k`` share by score.
- **Oracle**: when the true uplift is known (simulations), the same metrics for a
  ranking by it: the best any model could do on these outcomes.
- **Deciles** (``uplift_by_percentile``): observed response rates and uplift per tenth
  of the ranking, with the mean predicted uplift beside them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import numpy as np

from adlens.errors import InvalidInputError

KS = (0.1, 0.2, 0.3, 0.5)
"""The shares of the population uplift@k is reported for."""
CURVE_POINTS = 400
"""At most this many points of a curve are kept (plots and JSON), evenly spread."""

@contextmanager
def _quiet() -> Iterator[None]:
    # scikit-uplift 0.5.1 calls APIs that scikit-learn ≥ 1.8 and pandas ≥ 3 deprecate; the
    # results are right, the warnings are noise for a user.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*stable_cumsum")
        warnings.filterwarnings("ignore", message=".*inplace keyword")
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        yield


def _safe(compute: Callable[[], float]) -> float | None:
    with _quiet():
        try:
            value = compute()
        except (ValueError, ZeroDivisionError):
            return None
    return None if value is None or not np.isfinite(value) else value


def _uplift_at(y: np.ndarray, scores: np.ndarray, treatment: np.ndarray) -> dict[float, float | None]:
    """Uplift in the top share ``k`` of ``scores`` for each ``k`` in :data:`KS` (``None`` where undefined)."""
    from sklift.metrics import uplift_at_k

    def at(k: float) -> float:
        return float(uplift_at_k(y, scores, treatment, strategy="overall", k=k))

    return {k: _safe(partial(at, k)) for k in KS}


@dataclass(frozen=True)
class Curve:
    """A curve's points: ``x`` the share of the population targeted, ``y`` the incremental responders."""

    x: list[float]
    y: list[float]

    @classmethod
    def of(cls, x: np.ndarray, y: np.ndarray, population: int) -> Curve:
        """The curve through ``(x, y)`` (``x`` in people), thinned to :data:`CURVE_POINTS`."""
        keep = np.unique(np.linspace(0, len(x) - 1, min(len(x), CURVE_POINTS)).round().astype(int))
        return cls([round(float(v) / population, 5) for v in x[keep]], [round(float(v), 3) for v in y[keep]])


@dataclass(frozen=True)
class UpliftEvaluation:
    """The metrics of one ranking (predicted uplift) on one campaign table."""

    rows: int
    treated: int
    control: int
    response_treated: float
    response_control: float
    qini_coefficient: float
    auuc: float
    uplift_at: dict[float, float | None]
    deciles: list[dict[str, float | int | None]]
    qini: Curve
    perfect: Curve
    oracle_qini_coefficient: float | None = None
    oracle_auuc: float | None = None
    oracle: Curve | None = None
    oracle_uplift_at: dict[float, float | None] | None = None
    true_uplift_mean: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ate(self) -> float:
        """The observed average effect: treated response rate minus control response rate."""
        return self.response_treated - self.response_control

    def to_json(self, curves: bool = False) -> dict[str, Any]:
        """JSON-ready metrics: ``qini_coefficient``, ``auuc``, ``uplift_at_10`` … and the oracle's when known."""
        data: dict[str, Any] = {
            "rows": self.rows, "treated": self.treated, "control": self.control,
            "response_treated": round(self.response_treated, 6), "response_control": round(self.response_control, 6),
            "average_uplift": round(self.ate, 6),
            "qini_coefficient": round(self.qini_coefficient, 6), "auuc": round(self.auuc, 6),
        }
        for k, value in self.uplift_at.items():
            data[f"uplift_at_{round(k * 100)}"] = None if value is None else round(value, 6)
        if self.oracle_qini_coefficient is not None:
            data["oracle_qini_coefficient"] = round(self.oracle_qini_coefficient, 6)
            data["oracle_auuc"] = None if self.oracle_auuc is None else round(self.oracle_auuc, 6)
            data["qini_share_of_oracle"] = (round(self.qini_coefficient / self.oracle_qini_coefficient, 4)
                                            if self.oracle_qini_coefficient > 0 else None)
            for k, value in (self.oracle_uplift_at or {}).items():
                data[f"oracle_uplift_at_{round(k * 100)}"] = None if value is None else round(value, 6)
            data["true_uplift_mean"] = self.true_uplift_mean
        data.update(self.extra)
        data["deciles"] = self.deciles
        if curves:
            data["curves"] = {"qini": vars(self.qini), "perfect": vars(self.perfect),
                              **({"oracle": vars(self.oracle)} if self.oracle else {})}
        return data


def check_arms(y: np.ndarray, treatment: np.ndarray, source: str = "the table") -> None:
    """Raise unless both arms have rows and the outcome is not constant."""
    treated = int(treatment.sum())
    if treated == 0 or treated == len(treatment):
        empty = "treated" if treated == 0 else "control"
        raise InvalidInputError(f"{source}: the {empty} arm is empty ({len(treatment):,} rows, all "
                                f"{'control' if treated == 0 else 'treated'}): uplift needs both")
    if y.min() == y.max():
        raise InvalidInputError(f"{source}: the outcome is {int(y[0])} on every row: there is nothing to learn")


def _deciles(y: np.ndarray, uplift: np.ndarray, treatment: np.ndarray) -> list[dict[str, float | int | None]]:
    from sklift.metrics import uplift_by_percentile

    bins = min(10, len(y) - 1)  # scikit-uplift wants fewer bins than rows
    with _quiet():
        table = uplift_by_percentile(y, uplift, treatment, strategy="overall", bins=bins, std=True,
                                     string_percentiles=False)
    # scikit-uplift bins the ranking (best first) with np.array_split: the predicted mean per bin alike.
    predicted = [float(part.mean()) for part in np.array_split(np.sort(uplift)[::-1], bins)]

    def number(value: Any) -> float | None:
        return None if value is None or not np.isfinite(value) else round(float(value), 6)

    rows = []
    for i, (_, row) in enumerate(table.iterrows()):
        rows.append({"decile": i + 1, "n_treatment": int(row["n_treatment"]), "n_control": int(row["n_control"]),
                     "response_treatment": number(row["response_rate_treatment"]),
                     "response_control": number(row["response_rate_control"]),
                     "uplift": number(row["uplift"]), "std": number(row["std_uplift"]),
                     "predicted": round(predicted[i], 6)})
    return rows


def evaluate(y: np.ndarray, uplift: np.ndarray, treatment: np.ndarray, true_uplift: np.ndarray | None = None,
             source: str = "the table") -> UpliftEvaluation:
    """The metrics of ranking by ``uplift`` on outcomes ``y`` (0/1) under ``treatment`` (0/1)."""
    from sklift.metrics import perfect_qini_curve, qini_auc_score, qini_curve, uplift_auc_score

    y, treatment = np.asarray(y, dtype=np.int64), np.asarray(treatment, dtype=np.int64)
    uplift = np.asarray(uplift, dtype=np.float64)
    if not np.isfinite(uplift).all():
        raise InvalidInputError("the uplift scores hold NaN or infinite values")
    check_arms(y, treatment, source)
    n, treated = len(y), treatment == 1
    with _quiet():
        qini = float(qini_auc_score(y, uplift, treatment))
        auuc = float(uplift_auc_score(y, uplift, treatment))
        qini_x, qini_y = qini_curve(y, uplift, treatment)
        perfect_x, perfect_y = perfect_qini_curve(y, treatment)
    evaluation = UpliftEvaluation(
        rows=n, treated=int(treated.sum()), control=int((~treated).sum()),
        response_treated=float(y[treated].mean()), response_control=float(y[~treated].mean()),
        qini_coefficient=qini, auuc=auuc, uplift_at=_uplift_at(y, uplift, treatment),
        deciles=_deciles(y, uplift, treatment),
        qini=Curve.of(qini_x, qini_y, n), perfect=Curve.of(perfect_x, perfect_y, n))
    if true_uplift is None:
        return evaluation
    truth = np.asarray(true_uplift, dtype=np.float64)
    with _quiet():
        x, curve = qini_curve(y, truth, treatment)
        return replace(evaluation, oracle_qini_coefficient=float(qini_auc_score(y, truth, treatment)),
                       oracle_auuc=float(uplift_auc_score(y, truth, treatment)), oracle=Curve.of(x, curve, n),
                       oracle_uplift_at=_uplift_at(y, truth, treatment), true_uplift_mean=round(float(truth.mean()), 6))
