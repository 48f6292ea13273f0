"""What customers buy next: P(next manufacturer | current manufacturer, age, residence).

:class:`NextPurchaseModel` encodes a table's rows into a sparse design: the current brand
one-hot, the features (categorical one-hot, numeric as B-splines so age can bend), and
the features crossed with the current brand, so owners of each brand get their own age
curve and residence effect (how loyal Apple owners are can change with age in a way
Nokia owners' does not). A multinomial logistic regression on top gives calibrated
probabilities and fits a million rows in seconds: each row has a dozen non-zeros.

:func:`fit_next_purchase` validates a table, holds out a stratified share of it to
compare the model with two baselines (the brands' overall shares; the observed
transition matrix P(next | current)) and refits on every row.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
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
from adlens.uplift.tables import lines, numeric_column, require_columns

if TYPE_CHECKING:
    import pandas as pd

KIND = "next-purchase"
#: A feature is taken as numeric (unless named categorical) when at least this share of its cells are numbers.
NUMERIC_SHARE = 0.5
#: Pseudo-count pulling the transition baseline's rows towards the overall shares (a brand with 3 owners).
SMOOTHING = 1.0
#: Probabilities are clipped here for the log loss, as scikit-learn does.
EPSILON = 1e-15

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
        classes, codes = _factorize(targets)
        if len(classes) < 2:
            raise InvalidInputError(f"{source}: every next brand is {classes[0]!r}; a model of what customers buy "
                                    "next needs at least two brands")
        self.brands_, _ = _factorize(current)
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


def split_features(frame: pd.DataFrame, current: str, features: Sequence[str], categorical: Sequence[str] | None,
                   source: str) -> tuple[list[str], list[str]]:
    """The features as ``(categorical, numeric)`` column lists, in the order given.

    With ``categorical`` named, every other feature is numeric; without, a feature is
    numeric when most of its cells are numbers (the rest then fail with their lines).
    """
    import pandas as pd

    names = list(dict.fromkeys([*features, *(categorical or ())]))
    if current in names:
        raise InvalidInputError(f"the current brand column {current!r} is already in the model: leave it out of "
                                "the features")
    require_columns(frame, [current, *names], source)
    if categorical is not None:
        return [c for c in names if c in categorical], [c for c in names if c not in categorical]
    numeric = []
    for column in names:
        cells = frame[column].dropna()
        numbers = pd.to_numeric(cells, errors="coerce").notna().sum()
        if len(cells) and numbers >= NUMERIC_SHARE * len(cells):
            numeric.append(column)
    return [c for c in names if c not in numeric], numeric


def brand_values(values: Any, role: str, source: str, column: str) -> np.ndarray:
    """``values`` as stripped text (an object array); an empty cell is an error naming its lines."""
    import pandas as pd

    series = pd.Series(np.asarray(values, dtype=object)).reset_index(drop=True)
    text = series.astype(str).str.strip()
    empty = (series.isna() | (text == "")).to_numpy()
    if empty.any():
        raise InvalidInputError(f"{source}: the {role} column {column!r} is empty on {lines(empty)}")
    return text.to_numpy(dtype=object)


def _frame(X: Any) -> pd.DataFrame:
    import pandas as pd

    if not isinstance(X, pd.DataFrame):
        raise InvalidInputError("the next-purchase model takes a table (a pandas DataFrame) with named columns")
    return X.reset_index(drop=True)


def _named(values: np.ndarray, name: str) -> pd.Series:
    import pandas as pd

    return pd.Series(values, name=name)


def slots(known: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The position of each of ``values`` in ``known`` (distinct), -1 where it is not there."""
    import pandas as pd

    return pd.Index(known).get_indexer(values)


def _factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sorted distinct ``values`` and each value's position among them (hashing: fast on text)."""
    import pandas as pd

    codes, distinct = pd.factorize(values, sort=True)
    return np.asarray(distinct, dtype=object), codes


def _pick(proba: np.ndarray, classes: np.ndarray, brands: np.ndarray) -> np.ndarray:
    """``proba[i, column of brands[i]]``, NaN where ``brands[i]`` is not a class."""
    slot = slots(classes, brands)
    return np.where(slot >= 0, proba[np.arange(len(brands)), np.maximum(slot, 0)], np.nan)


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
