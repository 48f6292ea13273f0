"""What customers buy next: P(next manufacturer | current manufacturer, age, residence).

:class:`NextPurchaseModel` encodes a table's rows into a sparse design: the current brand
one-hot, the features (categorical one-hot, numeric as B-splines so age can bend), and
the features crossed with the current brand, so owners of each brand get their own age
curve and residence effect (how loyal Apple owners are can change with age in a way
Nokia owners' does not). A multinomial logistic regression on top gives calibrated
probabilities and fits a million rows in seconds: each row has a dozen non-zeros.

:func:`fit_next_purchase` validates a table, holds out a stratified share of it to
compare the model with two baselines (the brands' overall shares; the observed
transition matrix P(next | current), see :mod:`adlens.uplift.nextscores`) and refits
on every row. The brand and feature columns are read by :mod:`adlens.uplift.brands`.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder, SplineTransformer
from sklearn.utils.validation import check_is_fitted

from adlens.errors import InvalidInputError
from adlens.uplift.brands import brand_values, factorize, slots, split_features
from adlens.uplift.nextscores import Evaluation, evaluate
from adlens.uplift.tables import numeric_column, require_columns

if TYPE_CHECKING:
    import pandas as pd

KIND = "next-purchase"

log = logging.getLogger(__name__)


class NextPurchaseModel(ClassifierMixin, BaseEstimator):
    """P(next brand | current brand, features) by multinomial logistic regression, on the scikit-learn contract.

    ``fit(frame, y)`` takes a DataFrame holding the ``current`` brand column and the
    ``features`` columns, and the next brand of each row; ``predict_proba(frame)`` gives
    one column per brand in ``classes_`` (every brand seen as a next purchase). A brand
    unknown at predict time is scored from its owners' features alone.

    Args:
        current: the column with the brand owned now.
        features: the other columns the choice depends on (numeric or categorical).
        categorical: the features to one-hot encode; ``None`` decides per column (mostly
            numbers → numeric, so a typo in ``age`` is an error naming its line, not a category).
            Named columns missing from ``features`` are added to them.
        C: inverse L2 regularisation strength of the logistic regression.
        n_knots: knots of each numeric feature's cubic B-spline.
        interactions: cross the features with the current brand (a loyalty that varies with age).
        max_iter: iterations of the lbfgs solver.
        random_state: kept for the scikit-learn contract and held-out splits.

    Attributes after fit: ``classes_``, ``brands_`` (current brands seen), ``categorical_``,
    ``numeric_``, ``transitions_`` (counts, ``brands_`` × ``classes_``), ``target_`` (the
    next column's name when ``y`` had one), ``evaluation_`` (held-out scores set by
    :func:`fit_next_purchase`, else ``None``).
    """

    def __init__(self, current: str = "manufacturer", features: Sequence[str] = ("age", "residence"),
                 categorical: Sequence[str] | None = None, C: float = 1.0, n_knots: int = 5,
                 interactions: bool = True, max_iter: int = 1000, random_state: int | None = None) -> None:
        self.current = current
        self.features = features
        self.categorical = categorical
        self.C = C
        self.n_knots = n_knots
        self.interactions = interactions
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: Any, *, source: str = "the table") -> NextPurchaseModel:
        """Validate ``X`` (current brand and features) and ``y`` (next brands), encode them and fit."""
        frame = _frame(X)
        if self.C <= 0 or self.n_knots < 2 or self.max_iter < 1:
            raise InvalidInputError(f"C must be > 0, n_knots ≥ 2 and max_iter ≥ 1 (got {self.C}, {self.n_knots}, "
                                    f"{self.max_iter})")
        categorical, numeric = split_features(frame, self.current, self.features, self.categorical, source)
        self.categorical_, self.numeric_ = categorical, numeric
        current, inputs = self._clean(frame, source)
        targets = brand_values(y, "next brand", source, getattr(y, "name", None) or "y")
        if len(targets) != len(current):
            raise InvalidInputError(f"{len(targets)} next brands for {len(current)} rows")
        classes, codes = factorize(targets)
        if len(classes) < 2:
            raise InvalidInputError(f"{source}: every next brand is {classes[0]!r}; a model of what customers buy "
                                    "next needs at least two brands")
        self.brands_, _ = factorize(current)
        self.encoder_ = self._feature_encoder().fit(inputs) if categorical or numeric else None
        design = self._design(current, inputs)
        self.estimator_ = LogisticRegression(C=self.C, max_iter=self.max_iter, random_state=self.random_state)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            self.estimator_.fit(design, codes)  # integer labels: sorting a million strings again is slow
        if any(issubclass(w.category, ConvergenceWarning) for w in caught):
            log.warning("the next-purchase model did not converge in %d iterations; its probabilities may be "
                        "rough: raise max_iter or lower C", self.max_iter)
        self.classes_ = classes
        self.transitions_ = np.zeros((len(self.brands_), len(self.classes_)), dtype=np.int64)
        np.add.at(self.transitions_, (slots(self.brands_, current), codes), 1)
        self.target_ = getattr(y, "name", None)
        self.feature_names_in_ = np.array([self.current, *categorical, *numeric], dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self.evaluation_: dict[str, Any] | None = None
        return self

    def predict_proba(self, X: pd.DataFrame, *, source: str = "the table") -> np.ndarray:
        """P(next brand) per row, ``(n, len(classes_))``; rows sum to 1."""
        check_is_fitted(self, "estimator_")
        current, inputs = self._clean(_frame(X), source)
        return self.estimator_.predict_proba(self._design(current, inputs))

    def predict(self, X: pd.DataFrame, *, source: str = "the table") -> np.ndarray:
        """The most likely next brand of each row."""
        return self.classes_[np.argmax(self.predict_proba(X, source=source), axis=1)]

    def stay_proba(self, X: pd.DataFrame, proba: np.ndarray | None = None, *, source: str = "the table") -> np.ndarray:
        """P(next brand = current brand) per row; NaN where the current brand was never bought next in training.

        ``proba`` (this frame's :meth:`predict_proba`) saves predicting twice.
        """
        frame = _frame(X)
        current = brand_values(frame[self.current], "current brand", source, self.current)
        proba = self.predict_proba(frame, source=source) if proba is None else proba
        return _pick(proba, self.classes_, current)

    def _clean(self, frame: pd.DataFrame, source: str) -> tuple[np.ndarray, pd.DataFrame]:
        """The current brands and the features (text / float) of ``frame``; errors name the lines."""
        import pandas as pd

        require_columns(frame, [self.current, *self.categorical_, *self.numeric_], source)
        current = brand_values(frame[self.current], "current brand", source, self.current)
        inputs = pd.DataFrame(index=pd.RangeIndex(len(frame)))
        for column in self.categorical_:
            inputs[column] = brand_values(frame[column], "feature", source, column)
        for column in self.numeric_:
            inputs[column] = numeric_column(frame, column, source, allow_missing=False)
        return current, inputs

    def _feature_encoder(self) -> ColumnTransformer:
        parts: list[tuple[str, Any, list[str]]] = []
        if self.categorical_:
            parts.append(("categorical", OneHotEncoder(handle_unknown="ignore"), self.categorical_))
        if self.numeric_:
            parts.append(("numeric", SplineTransformer(n_knots=self.n_knots, degree=3, extrapolation="constant",
                                                       sparse_output=True), self.numeric_))
        return ColumnTransformer(parts, sparse_threshold=1.0)

    def _design(self, current: np.ndarray, inputs: pd.DataFrame) -> sp.csr_matrix:
        """``[brand one-hot | features | features × brand]``; an unknown brand's blocks stay zero."""
        n, known = len(current), len(self.brands_)
        slot = slots(self.brands_, current)
        mine = np.flatnonzero(slot >= 0)
        brands = sp.csr_matrix((np.ones(len(mine)), (mine, slot[mine])), shape=(n, known))
        if self.encoder_ is None:
            return brands
        features = sp.csr_matrix(self.encoder_.transform(inputs))
        if not self.interactions:
            return sp.hstack([brands, features], format="csr")
        width = features.shape[1]
        row = np.repeat(np.arange(n), np.diff(features.indptr))
        keep = slot[row] >= 0
        crossed = sp.csr_matrix((features.data[keep], (row[keep], features.indices[keep] + slot[row[keep]] * width)),
                                shape=(n, width * known))
        return sp.hstack([brands, features, crossed], format="csr")


def fit_next_purchase(frame: pd.DataFrame, current: str = "manufacturer", next: str = "next_manufacturer",
                      features: Sequence[str] = ("age", "residence"), categorical: Sequence[str] | None = None,
                      validation: float = 0.2, seed: int = 0, C: float = 1.0, source: str = "the table",
                      ) -> tuple[NextPurchaseModel, Evaluation | None]:
    """Fit a :class:`NextPurchaseModel` on ``frame``, evaluated on a held-out share first.

    Checks the columns and every value up front (errors name the CSV lines), holds out
    ``validation`` of the rows stratified by next brand (brands with one row stay in
    training) to :func:`evaluate` a model fitted on the rest, then refits on all rows.
    Returns the model (its ``evaluation_`` set) and the evaluation (``None`` when
    ``validation`` is 0).
    """
    if not 0 <= validation < 1:
        raise InvalidInputError(f"the validation share must be in [0, 1), not {validation}")
    features = list(features)
    clash = {current, next} & {*features, *(categorical or ())} | ({current} & {next})
    if clash:
        raise InvalidInputError(f"column {', '.join(map(repr, sorted(clash)))} cannot be both a brand column "
                                "and a feature (the next brand would leak into its own prediction)")
    require_columns(frame, [current, next, *features, *(categorical or ())], source)
    frame = frame.reset_index(drop=True)
    targets = brand_values(frame[next], "next brand", source, next)
    model = NextPurchaseModel(current=current, features=tuple(features),
                              categorical=None if categorical is None else tuple(categorical), C=C,
                              random_state=seed)
    held = stratified_holdout(targets, validation, seed)
    if validation > 0 and not held.any():
        raise InvalidInputError(f"{source} has too few rows ({len(frame)}) to hold out {validation:.0%} per brand: "
                                "give more rows or a validation share of 0")
    model.fit(frame, _named(targets, next), source=source)  # first on all rows: errors name the right lines
    evaluation = None
    if held.any():
        # the same columns as categorical, whatever the held-out rows alone would suggest
        trial = clone(model).set_params(categorical=tuple(model.categorical_))
        trial.fit(frame[~held], _named(targets[~held], next), source=source)
        evaluation = evaluate(trial, frame[held], next, source)
    model.evaluation_ = None if evaluation is None else evaluation.to_dict()
    return model, evaluation


def stratified_holdout(labels: np.ndarray, share: float, seed: int) -> np.ndarray:
    """A mask holding out ``share`` of each label's rows (rounded down, so a label keeps at least one)."""
    rng = np.random.default_rng(seed)
    held = np.zeros(len(labels), dtype=bool)
    _, inverse = np.unique(labels, return_inverse=True)
    for code in range(inverse.max() + 1 if len(labels) else 0):
        rows = np.flatnonzero(inverse == code)
        held[rng.permutation(rows)[: int(share * len(rows))]] = True
    return held


def _frame(X: Any) -> pd.DataFrame:
    import pandas as pd

    if not isinstance(X, pd.DataFrame):
        raise InvalidInputError("the next-purchase model takes a table (a pandas DataFrame) with named columns")
    return X.reset_index(drop=True)


def _named(values: np.ndarray, name: str) -> pd.Series:
    import pandas as pd

    return pd.Series(values, name=name)


def _pick(proba: np.ndarray, classes: np.ndarray, brands: np.ndarray) -> np.ndarray:
    """``proba[i, column of brands[i]]``, NaN where ``brands[i]`` is not a class."""
    slot = slots(classes, brands)
    return np.where(slot >= 0, proba[np.arange(len(brands)), np.maximum(slot, 0)], np.nan)
