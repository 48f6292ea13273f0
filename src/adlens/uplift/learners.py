"""The uplift learners, on the scikit-learn contract, and the one factory that names them.

=================  ===========================================================================
name               approach
=================  ===========================================================================
``s``              one model with the treatment as a feature (scikit-uplift ``SoloModel``)
``t``              one model per arm, uplift = difference (scikit-uplift ``TwoModels``)
``x``              X-learner (Künzel et al., PNAS 2019): the T-learner's models impute each
                   person's effect, two regressors learn it, weighted by the treated share
``class-transform`` one classifier on the transformed class (scikit-uplift ``ClassTransformation``;
                   assumes about as many treated as control)
=================  ===========================================================================

The base estimator is scikit-learn's histogram gradient boosting (``hgb``: handles empty
cells, fast on millions of rows) or a logistic regression (``logistic``: linear, with
median imputation and scaling). scikit-uplift has no X-learner; :class:`XLearner` builds
one from its ``TwoModels`` and scikit-learn regressors rather than pulling in causalml
and its dependencies (xgboost, lightgbm, shap, numba…) for one learner.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted
from sklift.models import ClassTransformation, SoloModel, TwoModels

from adlens.errors import InvalidInputError, UnknownNameError

LEARNERS = ("s", "t", "x", "class-transform")
ESTIMATORS = ("hgb", "logistic")


def base_estimator(name: str, random_state: int | None, regressor: bool = False) -> BaseEstimator:
    """A fresh base estimator ``name`` (``hgb`` or ``logistic``), a classifier or a regressor."""
    if name == "hgb":
        kind = HistGradientBoostingRegressor if regressor else HistGradientBoostingClassifier
        # Small trees, a slow rate and early stopping on a tenth of the rows: uplift is a small
        # difference of two noisy responses, and fuller trees fit the noise on a few thousand rows.
        return kind(max_iter=200, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=50,
                    early_stopping=True, validation_fraction=0.1, n_iter_no_change=10, random_state=random_state)
    if name == "logistic":
        last = Ridge(alpha=1.0) if regressor else LogisticRegression(max_iter=1000)
        return make_pipeline(SimpleImputer(strategy="median"), StandardScaler(), last)
    raise UnknownNameError(f"unknown base estimator {name!r}; choose one of {', '.join(ESTIMATORS)}")


def make_learner(name: str, estimator: str = "hgb", random_state: int | None = None) -> BaseEstimator:
    """The unfitted uplift learner ``name`` (see :data:`LEARNERS`) on base estimator ``estimator``."""
    def make(regressor: bool = False) -> BaseEstimator:
        return base_estimator(estimator, random_state, regressor)

    if name == "s":
        # A linear model sees the treatment only as a shift unless it also gets X × treatment.
        return SoloModel(make(), method="treatment_interaction" if estimator == "logistic" else "dummy")
    if name == "t":
        return TwoModels(make(), make(), method="vanilla")
    if name == "x":
        return XLearner(make(), make(), make(regressor=True), make(regressor=True))
    if name == "class-transform":
        return ClassTransformation(make())
    raise UnknownNameError(f"unknown uplift learner {name!r}; choose one of {', '.join(LEARNERS)}")


class XLearner(BaseEstimator):
    """The X-learner for a randomised campaign (binary outcome and treatment).

    1. The outcome models μ₁ (treated) and μ₀ (control): a scikit-uplift ``TwoModels``.
    2. Imputed effects: D₁ = Y − μ₀(X) for the treated, D₀ = μ₁(X) − Y for the control;
       ``effect_trmnt`` learns τ₁ from D₁, ``effect_ctrl`` τ₀ from D₀.
    3. τ(x) = g·τ₀(x) + (1 − g)·τ₁(x) with g the treated share (the propensity of a
       randomised assignment): the arm with more data imputes the other's effects.
    """

    def __init__(self, estimator_trmnt: Any, estimator_ctrl: Any, effect_trmnt: Any, effect_ctrl: Any) -> None:
        self.estimator_trmnt = estimator_trmnt
        self.estimator_ctrl = estimator_ctrl
        self.effect_trmnt = effect_trmnt
        self.effect_ctrl = effect_ctrl

    def fit(self, X: np.ndarray, y: np.ndarray, treatment: np.ndarray) -> XLearner:
        """Fit the four models; returns ``self``."""
        y, treatment = np.asarray(y), np.asarray(treatment)
        treated = treatment == 1
        if treated.all() or not treated.any():
            raise InvalidInputError("the X-learner needs both treated and control rows")
        self.outcomes_ = TwoModels(clone(self.estimator_trmnt), clone(self.estimator_ctrl),
                                   method="vanilla").fit(X, y, treatment)
        mu1 = self.outcomes_.estimator_trmnt.predict_proba(X[~treated])[:, 1]
        mu0 = self.outcomes_.estimator_ctrl.predict_proba(X[treated])[:, 1]
        self.effect_trmnt_ = clone(self.effect_trmnt).fit(X[treated], y[treated] - mu0)
        self.effect_ctrl_ = clone(self.effect_ctrl).fit(X[~treated], mu1 - y[~treated])
        self.propensity_ = float(treated.mean())
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The predicted uplift of each row."""
        check_is_fitted(self, "propensity_")
        g = self.propensity_
        return g * self.effect_ctrl_.predict(X) + (1 - g) * self.effect_trmnt_.predict(X)

    def predict_outcomes(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(P(outcome | offer), P(outcome | no offer))`` from the first-stage models."""
        check_is_fitted(self, "outcomes_")
        return (self.outcomes_.estimator_trmnt.predict_proba(X)[:, 1],
                self.outcomes_.estimator_ctrl.predict_proba(X)[:, 1])


def predict_outcomes(learner: Any, X: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(P(outcome | offer), P(outcome | no offer))`` when the learner models both arms, else ``None``."""
    if isinstance(learner, XLearner):
        return learner.predict_outcomes(X)
    if isinstance(learner, TwoModels | SoloModel):
        learner.predict(X)
        found = learner.trmnt_preds_, learner.ctrl_preds_
        # scikit-uplift keeps the last predictions on the model: drop them so a saved model stays small.
        del learner.trmnt_preds_, learner.ctrl_preds_
        return found
    return None
