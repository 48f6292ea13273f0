"""Cross-validation of the attribute head on the labelled faces, and its metrics.

Folds are made of faces, never of rows: a face's mirrored copy and the synthetic examples
made from it stay on its side of the split, so a fold is scored only on faces (and
accessories on faces) it has never seen. AUCs come with a 95% percentile-bootstrap interval
over faces.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from adlens.attributes.face_attributes import FACE_ATTRIBUTES
from adlens.evaluation.common import Track
from adlens.training.attributes import KIND_LABEL, Examples, untracked
from adlens.training.calibration import apply_platt, false_alarm_threshold, platt, reliability


def stratification_key(labels: np.ndarray) -> np.ndarray:
    """One class per face for stratified folds: its rarest positive label (hat, then beard, then eyewear) or none."""
    key = np.zeros(len(labels), np.int64)
    for rank, name in enumerate(("eyewear", "beard", "hat"), start=1):
        key[labels[:, FACE_ATTRIBUTES.index(name)] == 1] = rank
    return key


@dataclass
class CrossValidation:
    """Out-of-fold predictions: ``predicted`` and ``truth`` ``(n_faces, 3)`` of the real faces (unmirrored),
    with each face's ``dataset`` and ``male`` label, and ``synthetic_predicted`` ``(m, 3)`` of the synthetic
    examples made from them, with ``synthetic_kind`` and ``synthetic_dataset``."""

    predicted: np.ndarray
    truth: np.ndarray
    synthetic_predicted: np.ndarray
    synthetic_kind: np.ndarray
    dataset: np.ndarray | None = None
    male: np.ndarray | None = None
    synthetic_dataset: np.ndarray | None = None

    def subset(self, dataset: str) -> CrossValidation:
        """The faces of one data set (and the synthetic examples made from them)."""
        assert self.dataset is not None and self.synthetic_dataset is not None
        faces, made = self.dataset == dataset, self.synthetic_dataset == dataset
        male = None if self.male is None else self.male[faces]
        return CrossValidation(self.predicted[faces], self.truth[faces], self.synthetic_predicted[made],
                               self.synthetic_kind[made], self.dataset[faces], male, self.synthetic_dataset[made])


def _test_folds(examples: Examples, real: np.ndarray, scheme: str, folds: int, seed: int) -> list[np.ndarray]:
    """Indices into ``real`` of each fold's test faces.

    ``together``: stratified folds over every data set's faces (by data set and rarest label);
    ``apart``: one fold per data set, so each is scored by a head trained on the others only.
    """
    dataset = examples.dataset[real]
    names = list(dict.fromkeys(dataset.tolist()))
    if scheme == "apart":
        if len(names) < 2:
            raise ValueError("folds that keep data sets apart need at least two data sets")
        return [np.flatnonzero(dataset == name) for name in names]
    if scheme != "together":
        raise ValueError(f"scheme must be 'together' or 'apart', not {scheme!r}")
    key = np.array([names.index(d) for d in dataset]) * 4 + stratification_key(examples.labels[real])
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return [test for _train, test in splitter.split(real, key)]


def cross_validate(
    examples: Examples,
    make_head: Callable[[], Any],
    *,
    folds: int = 5,
    seed: int = 0,
    synthetic: bool = True,
    synthetic_weight: float = 1.0,
    scheme: str = "together",
    row_weight: np.ndarray | None = None,
    track: Track = untracked,
) -> CrossValidation:
    """Fold-by-fold predictions for every labelled face (folds of faces: see :func:`_test_folds`).

    A fold trains on every row made from the other folds' faces (their mirrored copies, the
    synthetic rows when ``synthetic``, weighted ``synthetic_weight``) and the extra faces; it
    scores its own faces' unmirrored real rows, and their synthetic rows separately. ``row_weight``
    (one per row, default 1) multiplies every row's weight.
    """
    real = np.flatnonzero((examples.kind == "real") & ~examples.mirrored)
    made = np.flatnonzero(examples.synthetic & ~examples.mirrored & (examples.source >= 0))
    truth = examples.labels[real]
    predicted = np.full(truth.shape, np.nan)
    synthetic_predicted = np.full((len(made), truth.shape[1]), np.nan)
    weights = np.where(examples.synthetic, synthetic_weight, 1.0)
    if row_weight is not None:
        weights = weights * row_weight
    allowed = ~examples.synthetic | synthetic
    tests = _test_folds(examples, real, scheme, folds, seed)
    for test in track(tests, f"cross-validation ({scheme})", len(tests)):
        held_out = np.isin(examples.source, examples.source[real[test]])
        train = allowed & ~held_out
        head = make_head().fit(examples.features[train], examples.labels[train], weights[train])
        predicted[test] = head.predict_proba(examples.features[real[test]])
        scored = np.isin(examples.source[made], examples.source[real[test]])
        if scored.any():  # scikit-learn refuses to predict zero rows (a fold, or a recipe, without synthetic rows)
            synthetic_predicted[scored] = head.predict_proba(examples.features[made[scored]])
    return CrossValidation(predicted, truth, synthetic_predicted, examples.kind[made], examples.dataset[real],
                           examples.male[real], examples.dataset[made])


#: The false alarms the targets bound: (name, attribute scored, faces counted) — the beard on women
#: (male = 0, beard = 0) and the hat on bare heads (hat = 0).
FALSE_ALARMS = (("beard_on_women", "beard"), ("hat_on_bare_heads", "hat"))


def false_alarm_rates(result: CrossValidation, thresholds: dict[str, float]) -> dict[str, dict[str, Any]]:
    """Share of :data:`FALSE_ALARMS` faces at or above their attribute's threshold (none: no such faces)."""
    rates: dict[str, dict[str, Any]] = {}
    for name, attribute in FALSE_ALARMS:
        column = FACE_ATTRIBUTES.index(attribute)
        faces = result.truth[:, column] == 0
        if attribute == "beard":
            faces &= result.male == 0 if result.male is not None else np.zeros(len(faces), bool)
        if faces.any():
            alarms = result.predicted[faces, column] >= thresholds[attribute]
            rates[name] = {"rate": round(float(alarms.mean()), 4), "faces": int(faces.sum()),
                           "threshold": thresholds[attribute]}
    return rates


def cross_validation_metrics(
    result: CrossValidation, *, seed: int = 0, bootstrap: int = 2000, thresholds: dict[str, float] | None = None
) -> dict[str, Any]:
    """Per attribute: :func:`binary_metrics` on the real faces (at its threshold, 0.5 by default), and for
    eyewear and hat the AUC of telling the synthetic examples (made from held-out faces) from the
    held-out real negatives; with ``false_alarms`` the :func:`false_alarm_rates`."""
    thresholds = thresholds or {name: 0.5 for name in FACE_ATTRIBUTES}
    metrics: dict[str, Any] = {}
    for column, name in enumerate(FACE_ATTRIBUTES):
        truth, predicted = result.truth[:, column], result.predicted[:, column]
        metrics[name] = binary_metrics(truth, predicted, seed=seed, bootstrap=bootstrap, threshold=thresholds[name])
    for kind, column in KIND_LABEL.items():
        positives = result.synthetic_predicted[result.synthetic_kind == kind, column]
        negatives = result.predicted[result.truth[:, column] == 0, column]
        if len(positives) and len(negatives):
            truth = np.r_[np.ones(len(positives)), np.zeros(len(negatives))]
            auc = roc_auc_score(truth, np.r_[positives, negatives])
            metrics[FACE_ATTRIBUTES[column]][f"auc_synthetic_{kind}_vs_real_negatives"] = round(float(auc), 4)
    if alarms := false_alarm_rates(result, thresholds):
        metrics["false_alarms"] = alarms
    return metrics


def metrics_by_dataset(result: CrossValidation, **options: Any) -> dict[str, dict[str, Any]]:
    """:func:`cross_validation_metrics` of each data set's faces."""
    assert result.dataset is not None
    return {name: cross_validation_metrics(result.subset(name), **options)
            for name in dict.fromkeys(result.dataset.tolist())}


def binary_metrics(
    truth: np.ndarray, probability: np.ndarray, *, threshold: float = 0.5, bootstrap: int = 2000, seed: int = 0
) -> dict[str, Any]:
    """ROC AUC with a 95% percentile-bootstrap interval (faces resampled), precision and recall at ``threshold``."""
    known = ~np.isnan(truth)
    truth, probability = truth[known].astype(int), probability[known]
    positives = int(truth.sum())
    if positives in (0, len(truth)):
        return {"auc": None, "auc_ci95": [None, None], "precision": None, "recall": None,
                "positives": positives, "negatives": int(len(truth) - positives)}
    predicted = probability >= threshold
    hits = int((predicted & (truth == 1)).sum())
    aucs = bootstrap_auc(truth, probability, bootstrap, np.random.default_rng(seed))
    low, high = np.percentile(aucs, [2.5, 97.5]) if len(aucs) else (np.nan, np.nan)
    return {
        "auc": round(float(roc_auc_score(truth, probability)), 4),
        "auc_ci95": [round(float(low), 4), round(float(high), 4)],
        "precision": round(hits / int(predicted.sum()), 4) if predicted.any() else None,
        "recall": round(hits / positives, 4),
        "threshold": threshold,
        "positives": positives,
        "negatives": int(len(truth) - positives),
    }


def bootstrap_auc(truth: np.ndarray, probability: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """ROC AUCs of ``resamples`` bootstrap resamples (resamples with one class only are dropped).

    All resamples at once, by the rank-sum (Mann–Whitney) form of the AUC, ties ranked by their mean.
    """
    from scipy.stats import rankdata

    rows = rng.integers(len(truth), size=(resamples, len(truth)))
    labels, ranks = truth[rows], rankdata(probability[rows], axis=1)
    positives = labels.sum(axis=1)
    negatives = len(truth) - positives
    usable = (positives > 0) & (negatives > 0)
    rank_sum = (ranks * labels).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives)
    return auc[usable]


def _calibrated(result: CrossValidation, slopes: np.ndarray, intercepts: np.ndarray) -> CrossValidation:
    return replace(result, predicted=apply_platt(result.predicted, slopes, intercepts),
                   synthetic_predicted=apply_platt(result.synthetic_predicted, slopes, intercepts))


def data_weights(examples: Examples, data_weight: float) -> np.ndarray:
    """Per row: ``data_weight`` for the rows made from the first data set's faces (real and synthetic), else 1
    (all 1 with one data set)."""
    sets = examples.datasets()
    return np.where(examples.dataset == sets[0], data_weight, 1.0) if len(sets) > 1 else np.ones(len(examples))


def validate(
    examples: Examples, make_head: Callable[[], Any], config: Any, track: Track = untracked
) -> tuple[dict[str, Any], dict[str, Any], dict[str, float]]:
    """Cross-validation, calibration and thresholds of a recipe (``config``: an
    :class:`~adlens.training.recipe.AttributeTraining`).

    Folds over every data set together (``recipe``; with one data set and synthetic rows, the
    same without them, ``without_synthetic``), and with two data sets or more, folds that keep them apart (``apart``: each set
    scored by a head trained on the others). Platt scaling is fitted on the ``recipe`` folds'
    out-of-fold values of every real face; the beard and hat thresholds are the lowest (from
    0.5, in steps of 0.05) at which at most ``config.false_alarm_rate`` of women (beard) and of
    bare heads (hat) alarm out of fold; eyewear's is 0.5. Every figure is of calibrated probabilities.
    """
    def run(synthetic: bool, scheme: str) -> CrossValidation:
        return cross_validate(examples, make_head, folds=config.folds, seed=config.seed, synthetic=synthetic,
                              synthetic_weight=config.synthetic_weight, scheme=scheme,
                              row_weight=data_weights(examples, config.data_weight), track=track)

    together = run(True, "together")
    fitted = [platt(together.predicted[:, c], together.truth[:, c]) for c in range(len(FACE_ATTRIBUTES))]
    slopes, intercepts = np.array([f[0] for f in fitted]), np.array([f[1] for f in fitted])
    calibrated = _calibrated(together, slopes, intercepts)
    thresholds = {name: 0.5 for name in FACE_ATTRIBUTES}
    for _alarm, name in FALSE_ALARMS:
        column = FACE_ATTRIBUTES.index(name)
        negatives = calibrated.truth[:, column] == 0
        if name == "beard":
            negatives &= calibrated.male == 0
        if negatives.any():
            thresholds[name] = false_alarm_threshold(calibrated.predicted[:, column], negatives,
                                                     rate=config.false_alarm_rate)
    options = {"seed": config.seed, "bootstrap": config.bootstrap, "thresholds": thresholds}
    validation = {"recipe": metrics_by_dataset(calibrated, **options)}
    if examples.synthetic.any() and len(examples.datasets()) == 1:  # with more sets: five more fits, left out
        plain = run(False, "together")
        refit = [platt(plain.predicted[:, c], plain.truth[:, c]) for c in range(len(FACE_ATTRIBUTES))]
        validation["without_synthetic"] = metrics_by_dataset(
            _calibrated(plain, np.array([f[0] for f in refit]), np.array([f[1] for f in refit])), **options)
    if len(examples.datasets()) > 1:
        validation["apart"] = metrics_by_dataset(_calibrated(run(True, "apart"), slopes, intercepts), **options)
    calibration: dict[str, Any] = {}
    for column, name in enumerate(FACE_ATTRIBUTES):
        calibration[name] = {"slope": round(float(slopes[column]), 6), "intercept": round(float(intercepts[column]), 6)}
        for dataset in examples.datasets():
            raw, fixed = together.subset(dataset), calibrated.subset(dataset)
            calibration[name][dataset] = {
                "before": {k: v for k, v in reliability(raw.truth[:, column], raw.predicted[:, column]).items()
                           if k != "bins"},
                "after": reliability(fixed.truth[:, column], fixed.predicted[:, column]),
            }
    return validation, calibration, thresholds
