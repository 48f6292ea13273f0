"""Cross-validation of the attribute head on the labelled faces, and its metrics.

Folds are made of faces, never of rows: a face's mirrored copy and the synthetic examples
made from it stay on its side of the split, so a fold is scored only on faces (and
accessories on faces) it has never seen. AUCs come with a 95% percentile-bootstrap interval
over faces.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from adlens.attributes.face_attributes import FACE_ATTRIBUTES
from adlens.evaluation.common import Track
from adlens.training.attributes import KIND_LABEL, Examples, untracked


def stratification_key(labels: np.ndarray) -> np.ndarray:
    """One class per face for stratified folds: its rarest positive label (hat, then beard, then eyewear) or none."""
    key = np.zeros(len(labels), np.int64)
    for rank, name in enumerate(("eyewear", "beard", "hat"), start=1):
        key[labels[:, FACE_ATTRIBUTES.index(name)] == 1] = rank
    return key


@dataclass
class CrossValidation:
    """Out-of-fold predictions: ``predicted`` and ``truth`` ``(n_faces, 3)`` of the real faces (unmirrored),
    and ``synthetic_predicted`` ``(m, 3)`` of the synthetic examples made from them, with ``synthetic_kind``."""

    predicted: np.ndarray
    truth: np.ndarray
    synthetic_predicted: np.ndarray
    synthetic_kind: np.ndarray


def cross_validate(
    examples: Examples,
    make_head: Callable[[], Any],
    *,
    folds: int = 5,
    seed: int = 0,
    synthetic: bool = True,
    synthetic_weight: float = 1.0,
    track: Track = untracked,
) -> CrossValidation:
    """Fold-by-fold predictions for every labelled face, folds stratified by face.

    A fold trains on every row made from the other folds' faces (their mirrored copies, the
    synthetic rows when ``synthetic``, weighted ``synthetic_weight``) and the extra faces; it
    scores its own faces' unmirrored real rows, and their synthetic rows separately.
    """
    real = np.flatnonzero((examples.kind == "real") & ~examples.mirrored)
    made = np.flatnonzero(examples.synthetic & ~examples.mirrored & (examples.source >= 0))
    truth = examples.labels[real]
    predicted = np.full(truth.shape, np.nan)
    synthetic_predicted = np.full((len(made), truth.shape[1]), np.nan)
    weights = np.where(examples.synthetic, synthetic_weight, 1.0)
    allowed = ~examples.synthetic | synthetic
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for _train, test in track(list(splitter.split(real, stratification_key(truth))), "cross-validation", folds):
        held_out = np.isin(examples.source, examples.source[real[test]])
        train = allowed & ~held_out
        head = make_head().fit(examples.features[train], examples.labels[train], weights[train])
        predicted[test] = head.predict_proba(examples.features[real[test]])
        scored = np.isin(examples.source[made], examples.source[real[test]])
        if scored.any():  # scikit-learn refuses to predict zero rows (a fold, or a recipe, without synthetic rows)
            synthetic_predicted[scored] = head.predict_proba(examples.features[made[scored]])
    return CrossValidation(predicted, truth, synthetic_predicted, examples.kind[made])


def cross_validation_metrics(result: CrossValidation, *, seed: int = 0, bootstrap: int = 2000) -> dict[str, Any]:
    """Per attribute: :func:`binary_metrics` on the real faces, and for eyewear and hat the AUC of
    telling the synthetic examples (made from held-out faces) from the held-out real negatives."""
    metrics: dict[str, Any] = {}
    for column, name in enumerate(FACE_ATTRIBUTES):
        truth, predicted = result.truth[:, column], result.predicted[:, column]
        metrics[name] = binary_metrics(truth, predicted, seed=seed, bootstrap=bootstrap)
    for kind, column in KIND_LABEL.items():
        positives = result.synthetic_predicted[result.synthetic_kind == kind, column]
        negatives = result.predicted[result.truth[:, column] == 0, column]
        if len(positives) and len(negatives):
            truth = np.r_[np.ones(len(positives)), np.zeros(len(negatives))]
            auc = roc_auc_score(truth, np.r_[positives, negatives])
            metrics[FACE_ATTRIBUTES[column]][f"auc_synthetic_{kind}_vs_real_negatives"] = round(float(auc), 4)
    return metrics


def binary_metrics(
    truth: np.ndarray, probability: np.ndarray, *, threshold: float = 0.5, bootstrap: int = 2000, seed: int = 0
) -> dict[str, Any]:
    """ROC AUC with a 95% percentile-bootstrap interval (faces resampled), precision and recall at ``threshold``."""
    known = ~np.isnan(truth)
    truth, probability = truth[known].astype(int), probability[known]
    positives = int(truth.sum())
    predicted = probability >= threshold
    hits = int((predicted & (truth == 1)).sum())
    aucs = bootstrap_auc(truth, probability, bootstrap, np.random.default_rng(seed))
    low, high = np.percentile(aucs, [2.5, 97.5]) if len(aucs) else (np.nan, np.nan)
    return {
        "auc": round(float(roc_auc_score(truth, probability)), 4),
        "auc_ci95": [round(float(low), 4), round(float(high), 4)],
        "precision": round(hits / int(predicted.sum()), 4) if predicted.any() else None,
        "recall": round(hits / positives, 4),
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
