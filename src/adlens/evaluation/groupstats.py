"""The statistics of the fairness report: per-group accuracy with 95% intervals, the largest gap, false matches.

Pure numpy on arrays the caller labelled: :mod:`adlens.evaluation.fairness` runs the
models, this module only counts. Gender accuracy gets a Wilson score interval, the age
MAE a seeded percentile bootstrap. False matches count, for every pair of different
faces, whether their embedding distance is within a threshold (``<=``, as the gallery
and ``adlens eval verify`` decide); pairs share faces, so their rates get no interval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from adlens.faces import AGE_BRACKETS, age_bracket

Z95 = 1.959963984540054
"""The standard normal quantile of a two-sided 95% interval."""
MIN_GROUP = 40
"""Groups with fewer faces are shown but left out of the largest gap (too noisy to compare)."""
BOOTSTRAP_RESAMPLES = 2000
ADULT = 18
"""The true age from which a face counts in the adults-only false matches."""
#: The issue's targets: largest gender-accuracy gap between groups of 40+, overall gender accuracy, age MAE.
TARGETS = {"gender_gap": 0.10, "gender_accuracy": 0.90, "age_mae": 5.0}
#: How the gaps are named in the page and on the terminal.
GAP_NAMES = {"gender_accuracy": "gender-accuracy", "age_mae": "age-MAE"}
#: Thresholds at which the false-match rate is also given, for the curves of the page.
CURVE_THRESHOLDS = tuple(round(0.30 + 0.01 * k, 2) for k in range(41))


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``successes / n`` (``(0, 1)`` when ``n`` is 0)."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def mae_interval(errors: np.ndarray, seed: int = 0, resamples: int = BOOTSTRAP_RESAMPLES) -> tuple[float, float]:
    """A 95% percentile-bootstrap interval of the mean of absolute ``errors`` (seeded: the same every run)."""
    errors = np.abs(np.asarray(errors, dtype=np.float64))
    if len(errors) == 0:
        raise ValueError("the MAE of no errors has no interval")
    rng = np.random.default_rng(seed)
    means = errors[rng.integers(0, len(errors), size=(resamples, len(errors)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def metrics(errors: np.ndarray, right: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """Size, age MAE and gender accuracy of one group, each with its 95% interval."""
    right = np.asarray(right, dtype=bool)
    n, correct = len(right), int(right.sum())
    return {
        "n": n,
        "age_mae": float(np.abs(errors).mean()),
        "age_mae_ci": list(mae_interval(errors, seed)),
        "gender_accuracy": correct / n,
        "gender_accuracy_ci": list(wilson(correct, n)),
    }


def largest_gap(groups: Mapping[str, Mapping[str, Any]], key: str, min_n: int = MIN_GROUP) -> dict[str, Any] | None:
    """The largest difference of ``key`` between groups of ``min_n`` faces or more, and which groups;
    ``None`` when fewer than two groups are that large."""
    sized = {name: row[key] for name, row in groups.items() if row["n"] >= min_n}
    if len(sized) < 2:
        return None
    low, high = min(sized, key=sized.__getitem__), max(sized, key=sized.__getitem__)
    return {"gap": sized[high] - sized[low], "low": {"group": low, "value": sized[low]},
            "high": {"group": high, "value": sized[high]}, "groups": len(sized), "min_n": min_n}


def pair_counts(embeddings: np.ndarray, labels: Sequence[str], thresholds: Sequence[float],
                block: int = 512) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Pairs of different faces and the pairs within each threshold, per pair of labels.

    Returns ``(names, pairs, matches)``: ``pairs[g, h]`` counts the pairs of a face labelled
    ``names[g]`` with one labelled ``names[h]`` (symmetric; the diagonal counts pairs within a
    label once), ``matches[k]`` the same for the pairs at distance ``<= thresholds[k]``. Works in
    blocks of rows, so memory stays ``block × len(embeddings)``.
    """
    x = np.asarray(embeddings, dtype=np.float64)
    names = sorted(set(labels))
    index = np.array([names.index(label) for label in labels], dtype=np.int64)
    cuts = np.asarray(thresholds, dtype=np.float64)
    if len(x) != len(index) or np.any(np.diff(cuts) < 0):
        raise ValueError("one label per embedding, and thresholds in increasing order")
    size, bins = len(names), len(cuts) + 1
    counts = np.zeros(size * size * bins, dtype=np.int64)
    squares = (x * x).sum(axis=1)
    for start in range(0, len(x), block):
        rows = np.arange(start, min(start + block, len(x)))
        later = np.arange(len(x))[None, :] > rows[:, None]
        distance = np.sqrt(np.maximum(squares[rows, None] + squares[None, :] - 2 * x[rows] @ x.T, 0.0))[later]
        pair = (index[rows, None] * size + index[None, :])[later]
        counts += np.bincount(pair * bins + np.searchsorted(cuts, distance, side="left"), minlength=len(counts))
    counted = counts.reshape(size, size, bins)
    within = np.moveaxis(np.cumsum(counted, axis=2)[:, :, :-1], 2, 0)

    def symmetric(table: np.ndarray) -> np.ndarray:
        both = table + np.swapaxes(table, -1, -2)
        diagonal = np.arange(size)
        both[..., diagonal, diagonal] //= 2
        return both

    return names, symmetric(counted.sum(axis=2)), symmetric(within)


def _pooled(table: np.ndarray, members: Sequence[int]) -> int:
    """The pairs of ``table`` (one of :func:`pair_counts`' symmetric tables) with both faces in ``members``."""
    chosen = np.asarray(members, dtype=np.int64)
    block = table[np.ix_(chosen, chosen)]
    return int(np.triu(block).sum())


def false_matches(embeddings: Sequence[np.ndarray | None], groups: Sequence[str], ethnicities: Sequence[str],
                  thresholds: Mapping[str, float]) -> dict[str, Any]:
    """False-match counts and rates at each named threshold between different faces (taken as strangers):
    within each group, within each ethnicity (both genders), within any same group, across groups, overall;
    with the rates at :data:`CURVE_THRESHOLDS` per ethnicity and overall. Faces without an embedding are left out."""
    kept = [k for k, e in enumerate(embeddings) if e is not None]
    faces = {g: sum(groups[k] == g for k in kept) for g in dict.fromkeys(groups)}
    named = sorted(set(thresholds.values()) | set(CURVE_THRESHOLDS))
    if len(kept) < 2:
        return {"faces": len(kept), "groups": {}, "ethnicities": {}, "all": None, "curves": None}
    vectors = np.stack([np.asarray(embeddings[k], dtype=np.float64) for k in kept])
    names, pairs, matches = pair_counts(vectors, [groups[k] for k in kept], named)
    ethnicity_of = {groups[k]: ethnicities[k] for k in kept}

    def rates(members: Sequence[int]) -> dict[str, Any]:
        total = _pooled(pairs, members)
        row: dict[str, Any] = {"pairs": total}
        for label, threshold in thresholds.items():
            found = _pooled(matches[named.index(threshold)], members)
            row[label] = {"matches": found, "rate": found / total if total else None}
        return row

    everyone = list(range(len(names)))
    result: dict[str, Any] = {
        "faces": len(kept),
        "groups": {g: {"faces": faces[g], **rates([names.index(g)])} for g in names},
        "ethnicities": {e: {"faces": sum(faces[g] for g in names if ethnicity_of[g] == e),
                            **rates([names.index(g) for g in names if ethnicity_of[g] == e])}
                        for e in dict.fromkeys(ethnicity_of[g] for g in names)},
        "all": rates(everyone),
    }
    same: dict[str, Any] = {"pairs": int(np.trace(pairs))}
    across: dict[str, Any] = {"pairs": result["all"]["pairs"] - same["pairs"]}
    for label, threshold in thresholds.items():
        diagonal = int(np.trace(matches[named.index(threshold)]))
        overall = result["all"][label]["matches"]
        same[label] = {"matches": diagonal, "rate": diagonal / same["pairs"] if same["pairs"] else None}
        across[label] = {"matches": overall - diagonal,
                         "rate": (overall - diagonal) / across["pairs"] if across["pairs"] else None}
    result["same_group"], result["different_groups"] = same, across
    curve = [named.index(t) for t in CURVE_THRESHOLDS]

    def curve_of(members: Sequence[int]) -> list[float | None]:
        total = _pooled(pairs, members)
        return [_pooled(matches[k], members) / total if total else None for k in curve]

    result["curves"] = {"thresholds": list(CURVE_THRESHOLDS), "all": curve_of(everyone),
                        "ethnicities": {e: curve_of([names.index(g) for g in names if ethnicity_of[g] == e])
                                        for e in result["ethnicities"]}}
    return result


def summarize(true_age: np.ndarray, predicted_age: np.ndarray, gender_right: np.ndarray, groups: Sequence[str],
              ethnicities: Sequence[str], embeddings: Sequence[np.ndarray | None], thresholds: Mapping[str, float],
              seed: int = 0) -> dict[str, Any]:
    """Every number of the fairness report from per-face arrays: overall, per group (in the order groups first
    appear), per true age bracket, the largest gaps, false matches and the targets' pass/fail."""
    errors = np.abs(np.asarray(predicted_age, dtype=np.float64) - np.asarray(true_age, dtype=np.float64))
    right = np.asarray(gender_right, dtype=bool)
    found = np.array([e is not None for e in embeddings])
    labels = np.asarray(groups)
    brackets = np.array([age_bracket(age) for age in true_age])

    def rows(keys: np.ndarray, order: Sequence[str]) -> dict[str, dict[str, Any]]:
        return {key: {**metrics(errors[keys == key], right[keys == key], seed),
                      "no_face": int((~found[keys == key]).sum())}
                for key in order if (keys == key).any()}

    per_group = rows(labels, sorted(set(groups), key=lambda g: (g.split("/")[0] != "male", g)))
    gaps = {key: largest_gap(per_group, key) for key in ("gender_accuracy", "age_mae")}
    overall = {**metrics(errors, right, seed), "no_face": int((~found).sum())}
    gender_gap = gaps["gender_accuracy"]
    targets = [
        _target("largest gender-accuracy gap, groups of 40+", None if gender_gap is None else gender_gap["gap"],
                "<=", TARGETS["gender_gap"]),
        _target("overall gender accuracy", overall["gender_accuracy"], ">=", TARGETS["gender_accuracy"]),
        _target("overall age MAE (years)", overall["age_mae"], "<=", TARGETS["age_mae"]),
    ]
    adults = [e if age >= ADULT else None for e, age in zip(embeddings, true_age)]
    # Children's faces lie close together in the embedding; members who enrol are adults.
    matches = {key: _in_order(false_matches(chosen, groups, ethnicities, thresholds), list(per_group))
               for key, chosen in (("false_matches", embeddings), ("false_matches_adults", adults))}
    return {
        "n": len(errors),
        "overall": overall,
        "groups": per_group,
        "age_brackets": rows(brackets, [label for label, _, _ in AGE_BRACKETS]),
        "gaps": gaps,
        **matches,
        "targets": targets,
    }


def _in_order(matches: dict[str, Any], order: Sequence[str]) -> dict[str, Any]:
    """``matches`` with its groups in ``order`` (the per-group table's)."""
    groups = matches["groups"]
    return {**matches, "groups": {name: groups[name] for name in order if name in groups}}


def _target(name: str, value: float | None, relation: str, bound: float) -> dict[str, Any]:
    """One target of the issue: the measured value, the bound and whether it holds (``None``: not measurable)."""
    passed = None if value is None else (value <= bound if relation == "<=" else value >= bound)
    return {"name": name, "value": value, "target": f"{relation} {bound:g}", "pass": passed}
