"""The fitted uplift model of a campaign: its features, its learner, and what it was evaluated at.

:func:`fit_campaign` reads the treatment and the outcome out of a campaign table,
chooses the features (:mod:`adlens.uplift.features`), holds out a share of the rows to
measure the learner against the oracle (when the true uplift is known) and against a
response model that ignores the treatment, then refits on every row. The returned
:class:`UpliftModel` carries that evaluation in its ``card_``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from adlens.errors import InvalidInputError
from adlens.times import utcnow
from adlens.uplift import learners
from adlens.uplift.features import TRUE_UPLIFT, FeatureEncoder, choose_columns, pick_id_column
from adlens.uplift.metrics import UpliftEvaluation, check_arms, evaluate
from adlens.uplift.tables import binary_column, numeric_column, require_columns

if TYPE_CHECKING:
    import pandas as pd

KIND = "uplift"
#: Validation is skipped (and said so) when the held-out part would have fewer rows per arm.
MIN_HELD_OUT = 100

Progress = Callable[[str], None]


class UpliftModel(BaseEstimator):
    """An uplift learner over a campaign table's feature columns (scikit-learn contract).

    ``fit(frame, y, treatment)`` takes the table (a DataFrame of text, as
    :func:`~adlens.uplift.tables.read_table` gives) with the outcome and treatment as
    0/1 arrays; ``predict(frame)`` returns the uplift per row: P(outcome | offer) −
    P(outcome | no offer).
    """

    def __init__(self, learner: str = "t", estimator: str = "hgb", numeric: Sequence[str] | None = None,
                 categorical: Sequence[str] | None = None, random_state: int | None = None) -> None:
        self.learner = learner
        self.estimator = estimator
        self.numeric = numeric
        self.categorical = categorical
        self.random_state = random_state

    def fit(self, frame: pd.DataFrame, y: np.ndarray, treatment: np.ndarray, source: str = "the table") -> UpliftModel:
        """Encode the features and fit the learner; returns ``self``."""
        y, treatment = np.asarray(y), np.asarray(treatment)
        if len(y) != len(frame) or len(treatment) != len(frame):
            raise InvalidInputError(f"{len(frame)} rows but {len(y)} outcomes and {len(treatment)} treatments")
        check_arms(y, treatment, source)
        learner = learners.make_learner(self.learner, self.estimator, self.random_state)
        self.encoder_ = FeatureEncoder(list(self.numeric or []), list(self.categorical or [])).fit(frame, source)
        if not self.encoder_.columns:
            raise InvalidInputError("an uplift model needs at least one feature column")
        self.learner_ = learner.fit(self.encoder_.transform(frame, source), y, treatment)
        self.card_: dict[str, Any] = {}
        return self

    @property
    def feature_names(self) -> list[str]:
        """The columns of the feature matrix (categorical levels as ``column=value``)."""
        check_is_fitted(self, "encoder_")
        return self.encoder_.names

    def predict(self, frame: pd.DataFrame, source: str = "the table") -> np.ndarray:
        """The predicted uplift of each row of ``frame``."""
        check_is_fitted(self, "learner_")
        return np.asarray(self.learner_.predict(self.encoder_.transform(frame, source)), dtype=np.float64)

    def predict_outcomes(self, frame: pd.DataFrame, source: str = "the table") -> tuple[np.ndarray, np.ndarray] | None:
        """``(P(outcome | offer), P(outcome | no offer))`` per row, when the learner models both (s, t, x)."""
        check_is_fitted(self, "learner_")
        return learners.predict_outcomes(self.learner_, self.encoder_.transform(frame, source))


@dataclass(frozen=True)
class Campaign:
    """A campaign table with its outcome, treatment, true uplift (if any) and ids (if any) read out."""

    frame: pd.DataFrame
    y: np.ndarray
    treatment: np.ndarray
    true_uplift: np.ndarray | None
    ids: np.ndarray | None
    id_column: str | None


def read_campaign(frame: pd.DataFrame, treatment: str, outcome: str, id_column: str | None = None,
                  source: str = "the table") -> Campaign:
    """Read the outcome and treatment (0/1 on every row), the true uplift and the ids out of ``frame``."""
    require_columns(frame, [treatment, outcome], source)
    y = binary_column(frame, outcome, source, "outcome")
    t = binary_column(frame, treatment, source, "treatment")
    check_arms(y, t, source)
    truth = numeric_column(frame, TRUE_UPLIFT, source, allow_missing=False) if TRUE_UPLIFT in frame.columns else None
    column = pick_id_column(frame, id_column, source)
    return Campaign(frame, y, t, truth, None if column is None else frame[column].to_numpy(dtype=object), column)


def _split(y: np.ndarray, treatment: np.ndarray, share: float, seed: int) -> tuple[np.ndarray, np.ndarray] | None:
    from sklearn.model_selection import train_test_split

    strata = treatment * 2 + y
    held = int(round(len(y) * share))
    counts = np.bincount(strata, minlength=4)
    if held < 2 * MIN_HELD_OUT or (counts[[0, 1]].sum() * share < MIN_HELD_OUT) \
            or (counts[[2, 3]].sum() * share < MIN_HELD_OUT):
        return None
    stratify = strata if counts[counts > 0].min() >= 2 else treatment
    return train_test_split(np.arange(len(y)), test_size=share, random_state=seed, stratify=stratify)


def _response_baseline(model: UpliftModel, train: pd.DataFrame, y: np.ndarray, test: pd.DataFrame) -> np.ndarray:
    """Scores of a response model (P(outcome) from the features, the treatment ignored) on ``test``."""
    classifier = learners.base_estimator(model.estimator, model.random_state)
    classifier.fit(model.encoder_.transform(train), y)
    return classifier.predict_proba(model.encoder_.transform(test))[:, 1]


def fit_campaign(frame: pd.DataFrame, *, treatment: str, outcome: str, features: Sequence[str] = (),
                 exclude: Sequence[str] = (), categorical: Sequence[str] = (), id_column: str | None = None,
                 learner: str = "t", estimator: str = "hgb", validation: float = 0.2, seed: int = 0,
                 source: str = "the table", progress: Progress | None = None) -> UpliftModel:
    """Fit an :class:`UpliftModel` on a campaign table, evaluated on a held-out ``validation`` share first.

    The evaluation (the learner's Qini coefficient, AUUC, uplift@k and deciles; the
    oracle's when the table has ``true_uplift``; a response model's) goes in the model's
    ``card_["validation"]``; the returned model is refitted on every row.
    """
    say = progress or (lambda _message: None)
    if learner not in learners.LEARNERS:
        raise InvalidInputError(f"unknown uplift learner {learner!r}; choose one of {', '.join(learners.LEARNERS)}")
    if estimator not in learners.ESTIMATORS:
        raise InvalidInputError(f"unknown base estimator {estimator!r}; choose one of "
                                f"{', '.join(learners.ESTIMATORS)}")
    if not 0.0 <= validation < 0.9:
        raise InvalidInputError(f"the validation share must be in [0, 0.9), not {validation}")
    campaign = read_campaign(frame, treatment, outcome, id_column, source)
    numeric, categorical_columns = choose_columns(
        list(frame.columns), treatment=treatment, outcome=outcome, features=features, exclude=exclude,
        categorical=categorical, id_column=campaign.id_column, source=source)
    model = UpliftModel(learner, estimator, numeric, categorical_columns, seed)
    card: dict[str, Any] = {"treatment": treatment, "outcome": outcome, "id_column": campaign.id_column,
                            "rows": len(frame), "learner": learner, "estimator": estimator, "seed": seed,
                            "features": numeric + categorical_columns, "categorical": categorical_columns,
                            "excluded": [c for c in frame.columns if c not in numeric + categorical_columns]}
    split = _split(campaign.y, campaign.treatment, validation, seed) if validation > 0 else None
    if split is not None:
        train, test = split
        say(f"fitting the {learner} learner on {len(train):,} rows")
        model.fit(frame.iloc[train], campaign.y[train], campaign.treatment[train], source)
        say(f"evaluating on {len(test):,} held-out rows")
        held_out = frame.iloc[test]
        truth = None if campaign.true_uplift is None else campaign.true_uplift[test]
        result = evaluate(campaign.y[test], model.predict(held_out), campaign.treatment[test], truth, source)
        say("fitting a response model (treatment ignored) for comparison")
        response = evaluate(campaign.y[test], _response_baseline(model, frame.iloc[train], campaign.y[train],
                                                                 held_out), campaign.treatment[test], None, source)
        card["validation"] = {"share": validation, **summary(result),
                              "response_model": {k: v for k, v in summary(response).items() if k != "rows"}}
    else:
        card["validation"] = None if validation == 0 else {
            "skipped": f"too few rows to hold out {validation:.0%} with {MIN_HELD_OUT} per arm"}
    say(f"fitting the {learner} learner on all {len(frame):,} rows")
    model.fit(frame, campaign.y, campaign.treatment, source)
    model.card_ = {**card, "fitted_at": utcnow().isoformat(timespec="seconds")}
    return model


def summary(result: UpliftEvaluation) -> dict[str, Any]:
    """The headline numbers of an evaluation (no deciles, no curves)."""
    return {k: v for k, v in result.to_json().items() if k != "deciles"}


def score_frame(model: UpliftModel, frame: pd.DataFrame, id_column: str | None = None,
                source: str = "the table") -> pd.DataFrame:
    """Per row: its id (or CSV line), predicted uplift, P(outcome) with and without the offer, rank."""
    import pandas as pd

    column = id_column or model.card_.get("id_column")
    if id_column:
        require_columns(frame, [id_column], source, "id column")
    uplift = model.predict(frame, source)
    scores = pd.DataFrame()
    if column and column in frame.columns:
        scores[column] = frame[column].to_numpy()
    else:
        scores["line"] = np.arange(2, len(frame) + 2)
    scores["uplift"] = uplift
    outcomes = model.predict_outcomes(frame, source)
    if outcomes is not None:
        scores["p_offer"], scores["p_no_offer"] = outcomes
    order = np.argsort(-uplift, kind="stable")
    rank = np.empty(len(uplift), dtype=np.int64)
    rank[order] = np.arange(1, len(uplift) + 1)
    scores["rank"] = rank
    return scores


def top_share(scores: pd.DataFrame, percent: float) -> pd.DataFrame:
    """The targeting list: the best ``percent`` % of ``scores`` by uplift (at least one row), best first."""
    if not 0 < percent <= 100:
        raise InvalidInputError(f"the share to target is a percentage in (0, 100], not {percent}")
    count = max(1, int(np.ceil(len(scores) * percent / 100)))
    return scores.sort_values("rank").head(count).reset_index(drop=True)
