"""Choosing the match threshold: false accepts and false rejects measured on labelled faces.

A folder holds one sub-folder per person; every pair of faces of one person is a
*genuine* pair, every pair of faces of two people an *impostor* pair, and every face
of ``strangers`` (people in none of the sub-folders) is an impostor against everyone.
FAR is the share of impostor pairs within the threshold (a stranger taken for a
member: the error that matters for privacy), FRR the share of genuine pairs beyond it
(a member not recognised: they are treated as anonymous). The recommendation is the
threshold with the lowest FRR while FAR ≤ :data:`TARGET_FAR`, or the equal-error
point when no threshold keeps FAR that low.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from adlens.errors import InvalidInputError
from adlens.evaluation.common import Track, no_track
from adlens.imageio import iter_image_files

if TYPE_CHECKING:
    from adlens.pipeline import Analyzer


#: Largest false accept rate the recommended threshold may have (0.1%).
TARGET_FAR = 0.001
#: Thresholds the report tabulates.
THRESHOLDS = tuple(round(0.40 + 0.05 * i, 2) for i in range(7))


@dataclass
class Faceset:
    """Embeddings of a labelled folder: per person (largest face per photo), strangers (every face)."""

    people: dict[str, np.ndarray]
    strangers: np.ndarray
    stranger_groups: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)


def embed_folders(folder: Path, strangers: Path | None, analyzer: Analyzer, track: Track = no_track) -> Faceset:
    """Embed ``folder`` (a sub-folder per person) and ``strangers`` with ``analyzer`` (``embed=True``).

    Each person photo contributes its largest face (a bystander must not become a
    genuine pair); each stranger photo every face. Unreadable photos and photos
    without a face are listed in :attr:`Faceset.skipped`. A stranger's group is the
    sub-folder it lies in, relative to ``strangers`` (to report FAR per group).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InvalidInputError(f"{folder}: not a folder")
    jobs: list[tuple[str | None, Path]] = [(p.name, f) for p in sorted(folder.iterdir()) if p.is_dir() and not p.name.startswith(".")
            for f in iter_image_files([p])]
    if not jobs:
        raise InvalidInputError(f"{folder} holds no person sub-folders with photos")
    if strangers is not None:
        jobs += [(None, f) for f in iter_image_files([strangers])]
    people: dict[str, list[np.ndarray]] = {}
    others: list[np.ndarray] = []
    groups: list[str] = []
    skipped: list[dict[str, str]] = []
    for person, path in track(jobs, "embedding faces", len(jobs)):
        analysis, _ = analyzer.analyze_file(path)
        faces = analysis.faces
        if analysis.error or len(faces) == 0:
            skipped.append({"image": str(path), "error": analysis.error or "no face found"})
            continue
        embeddings = faces.embeddings
        if embeddings is None:
            raise InvalidInputError("calibration needs an analyzer with embeddings: Analyzer(embed=True)")
        if person is not None:
            people.setdefault(person, []).append(embeddings[int(np.argmax(faces.areas))])
            continue
        group = str(path.parent.relative_to(strangers)) if strangers is not None and strangers.is_dir() else "."
        others.extend(embeddings)
        groups.extend([group] * len(faces))
    stacked = np.asarray(others, dtype=np.float32).reshape(-1, 128)
    return Faceset({p: np.asarray(v, dtype=np.float32) for p, v in people.items()}, stacked, groups, skipped)


def pair_distances(faceset: Faceset, distinct_strangers: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Genuine distances, impostor distances, and each impostor pair's stranger group.

    Impostor pairs: faces of two different people, and every stranger face against
    every person photo; with ``distinct_strangers`` (each stranger face is a different
    person) also every two stranger faces. A pair's group is its stranger's (both
    strangers' when they share it), else ``""``.
    """
    names = sorted(faceset.people)
    vectors = np.concatenate([faceset.people[n] for n in names]).reshape(-1, 128) if names \
        else np.zeros((0, 128), np.float32)
    owner = np.repeat(np.arange(len(names)), [len(faceset.people[n]) for n in names])
    upper = np.triu_indices(len(vectors), k=1)
    between = _cross(vectors, vectors)[upper]
    same = owner[upper[0]] == owner[upper[1]]
    strangers, groups = faceset.strangers, np.asarray(faceset.stranger_groups, dtype=object)
    impostor = [between[~same], _cross(strangers, vectors).ravel()]
    pair_groups = [np.full(int((~same).sum()), "", dtype=object), np.repeat(groups, len(vectors))]
    if distinct_strangers and len(strangers) > 1:
        pairs = np.triu_indices(len(strangers), k=1)
        impostor.append(_cross(strangers, strangers)[pairs])
        a, b = groups[pairs[0]], groups[pairs[1]]
        pair_groups.append(np.where(a == b, a, ""))
    return between[same], np.concatenate(impostor), np.concatenate(pair_groups)


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances between every row of ``a`` and of ``b`` (via the dot product: fits 2,000²)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None] - 2.0 * a @ b.T
    return np.sqrt(np.maximum(squared, 0.0))


def rates(genuine: np.ndarray, impostor: np.ndarray, threshold: float) -> tuple[float, float]:
    """``(FAR, FRR)`` when distance ≤ ``threshold`` means "same person"."""
    far = float(np.mean(impostor <= threshold)) if len(impostor) else 0.0
    frr = float(np.mean(genuine > threshold)) if len(genuine) else 0.0
    return far, frr


def calibrate(genuine: np.ndarray, impostor: np.ndarray, current: float,
              target_far: float = TARGET_FAR) -> dict[str, Any]:
    """The threshold table, the recommended threshold and the current one's rates.

    Uses :func:`sklearn.metrics.roc_curve` on ``-distance``: the recommendation is the
    largest-TPR point with FAR ≤ ``target_far`` (ties: the largest threshold), or the
    equal-error point when none has; any threshold in the gap up to the next measured
    distance scores the same, so the middle of that gap (``range``) is recommended.
    Needs at least one genuine and one impostor pair.
    """
    from sklearn.metrics import roc_curve

    genuine, impostor = np.asarray(genuine, float), np.asarray(impostor, float)
    if not len(genuine) or not len(impostor):
        raise InvalidInputError(f"calibration needs genuine and impostor pairs, got {len(genuine)} and "
                                f"{len(impostor)}: give at least one person two photos, and two people")
    truth = np.r_[np.ones(len(genuine)), np.zeros(len(impostor))]
    fpr, tpr, scores = roc_curve(truth, -np.r_[genuine, impostor], drop_intermediate=False)
    finite = np.isfinite(scores)
    fpr, tpr, distances = fpr[finite], tpr[finite], -scores[finite]
    eer_at = int(np.argmin(np.abs(fpr - (1 - tpr))))
    allowed = np.flatnonzero(fpr <= target_far)
    if len(allowed) and tpr[allowed].max() > 0:
        best = allowed[tpr[allowed] == tpr[allowed].max()]
        chosen, rule = int(best[np.argmax(distances[best])]), f"lowest FRR at FAR <= {target_far:g}"
    else:
        chosen, rule = eer_at, "equal error rate (no threshold reaches the FAR target)"
    # Every threshold up to the next measured distance has the same rates: take the middle of that gap.
    upper = float(distances[chosen + 1]) if chosen + 1 < len(distances) else float(distances[chosen])
    recommended = (float(distances[chosen]) + upper) / 2
    far, frr = rates(genuine, impostor, recommended)
    current_far, current_frr = rates(genuine, impostor, current)
    return {
        "genuine_pairs": int(len(genuine)),
        "impostor_pairs": int(len(impostor)),
        "genuine_distance": _summary(genuine),
        "impostor_distance": _summary(impostor),
        "table": [dict(zip(("threshold", "far", "frr"), (t, *rates(genuine, impostor, t)))) for t in THRESHOLDS],
        "recommended": {"threshold": round(recommended, 4), "far": far, "frr": frr, "rule": rule,
                        "range": [round(float(distances[chosen]), 4), round(upper, 4)]},
        "equal_error": {"threshold": round(float(distances[eer_at]), 4), "far": float(fpr[eer_at]),
                        "frr": float(1 - tpr[eer_at])},
        "current": {"threshold": current, "far": current_far, "frr": current_frr},
    }


def _summary(values: np.ndarray) -> dict[str, float]:
    return {"min": round(float(values.min()), 4), "p1": round(float(np.percentile(values, 1)), 4),
            "median": round(float(np.median(values)), 4), "p99": round(float(np.percentile(values, 99)), 4),
            "max": round(float(values.max()), 4)}


def calibrate_folders(folder: Path, strangers: Path | None, analyzer: Analyzer, current: float,
                      distinct_strangers: bool = False, track: Track = no_track) -> dict[str, Any]:
    """Embed the folders, then :func:`calibrate`; adds counts, skipped photos and FAR per stranger group."""
    faceset = embed_folders(folder, strangers, analyzer, track)
    genuine, impostor, pair_groups = pair_distances(faceset, distinct_strangers)
    report = calibrate(genuine, impostor, current)
    recommended = report["recommended"]["threshold"]
    by_group = {}
    for group in sorted(set(faceset.stranger_groups)):
        chosen = impostor[pair_groups == group]
        by_group[group] = {"faces": faceset.stranger_groups.count(group), "impostor_pairs": int(len(chosen)),
                           "far_at_current": rates(np.zeros(0), chosen, current)[0],
                           "far_at_recommended": rates(np.zeros(0), chosen, recommended)[0]}
    return {"people": len(faceset.people), "photos": int(sum(len(v) for v in faceset.people.values())),
            "stranger_faces": int(len(faceset.strangers)), "distinct_strangers": distinct_strangers, **report,
            "strangers_by_group": by_group, "skipped": faceset.skipped}


__all__ = ["TARGET_FAR", "THRESHOLDS", "Faceset", "calibrate", "calibrate_folders", "embed_folders",
           "pair_distances", "rates"]
