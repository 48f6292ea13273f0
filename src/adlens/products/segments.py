"""Customer segments: k-means over taste profiles, named after what each group likes.

Profiles are vectorised over their shared vocabulary and L2-normalised, so k-means on
them groups customers by the direction of their taste, not by how many answers they
gave. Unless told how many segments to make, :class:`Segmenter` tries 2 to
``max_segments`` and keeps the k with the best silhouette.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction import DictVectorizer
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import normalize
from sklearn.utils.validation import check_is_fitted

from adlens.errors import InvalidInputError
from adlens.products.types import split_key

MIN_PROFILES = 3
TOP_ASPECTS = 8
LABEL_WORDS = 3
CENTROID_ASPECTS = 100
#: Silhouette is O(n²): above this many profiles it is estimated on a seeded sample.
SILHOUETTE_SAMPLE = 5000
_DENSE_LIMIT = 20_000_000


class Segmenter(ClusterMixin, BaseEstimator):
    """Groups taste profiles (``{aspect key: weight}``) into named segments with k-means.

    Attributes after :meth:`fit`: ``labels_`` (segment per profile; -1 for an empty
    profile, which has no taste to place), ``n_segments_``, ``silhouette_``,
    ``segments_`` (per segment, largest first: ``label``, ``size``, ``top_aspects``,
    ``centroid``, ``x``, ``y``) and ``embedding_2d_`` (the profiles' PCA projection;
    NaN rows for empty profiles).
    """

    def __init__(self, n_segments: int | None = None, max_segments: int = 8, random_state: int = 0) -> None:
        self.n_segments = n_segments
        self.max_segments = max_segments
        self.random_state = random_state

    def fit(self, profiles: Sequence[Mapping[str, float]], y: Any = None) -> Segmenter:
        """Vectorise, choose k (best silhouette over 2..min(max_segments, n-1), unless given), cluster."""
        present = np.array([any(w for w in p.values()) for p in profiles], dtype=bool)
        n = int(present.sum())
        if n < MIN_PROFILES:
            raise InvalidInputError(
                f"segmenting needs at least {MIN_PROFILES} customers with a taste profile, got {n}"
            )
        if self.n_segments is not None and not 2 <= self.n_segments <= n - 1:
            raise InvalidInputError(f"the number of segments must be between 2 and {n - 1}, not {self.n_segments}")
        if self.n_segments is None and self.max_segments < 2:
            raise InvalidInputError(f"max_segments must be at least 2, not {self.max_segments}")
        self.vectorizer_ = DictVectorizer(sparse=True)
        data = normalize(self.vectorizer_.fit_transform([p for p, keep in zip(profiles, present) if keep]))

        candidates = [self.n_segments] if self.n_segments else range(2, min(self.max_segments, n - 1) + 1)
        # The first k with the highest silhouette (max keeps the earliest of equal scores).
        self.kmeans_, score = max((self._cluster(data, k) for k in candidates), key=lambda fit: fit[1])
        if not self.n_segments and not np.isfinite(score):
            raise InvalidInputError("the taste profiles are too alike to split into segments")

        # relabel by size, largest first, so segment 0 is the main audience on every run
        raw = self.kmeans_.labels_
        sizes = np.bincount(raw, minlength=self.kmeans_.n_clusters)
        order = np.lexsort((np.arange(len(sizes)), -sizes))
        order = order[sizes[order] > 0]
        self.relabel_ = np.full(len(sizes), -1, dtype=np.int64)
        self.relabel_[order] = np.arange(len(order))
        self.labels_ = np.full(len(profiles), -1, dtype=np.int64)
        self.labels_[present] = self.relabel_[raw]
        self.n_segments_ = len(order)
        self.silhouette_ = float(score) if np.isfinite(score) else float("nan")  # a given k that found one group

        dense = data.toarray() if data.shape[0] * data.shape[1] <= _DENSE_LIMIT else data
        components = min(2, data.shape[0], data.shape[1])
        self.pca_ = PCA(n_components=components, svd_solver="full" if not sp.issparse(dense) else "arpack",
                        random_state=self.random_state).fit(dense)
        self.embedding_2d_ = np.full((len(profiles), 2), np.nan)
        self.embedding_2d_[present] = self._project(dense)
        centres = self.kmeans_.cluster_centers_[order]
        xy = self._project(centres)
        self.segments_ = self._describe(centres, sizes[order], xy)
        return self

    def _cluster(self, data: sp.csr_matrix, k: int) -> tuple[KMeans, float]:
        """k-means with ``k`` clusters and its silhouette (-inf when it found a single cluster)."""
        with warnings.catch_warnings():  # duplicate profiles: fewer distinct points than k
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = KMeans(n_clusters=k, n_init=10, random_state=self.random_state).fit(data)
        if len(np.unique(model.labels_)) < 2:
            return model, -np.inf
        sample = SILHOUETTE_SAMPLE if data.shape[0] > SILHOUETTE_SAMPLE else None
        return model, float(silhouette_score(data, model.labels_, sample_size=sample, random_state=self.random_state))

    def _project(self, rows: Any) -> np.ndarray:
        projected = self.pca_.transform(rows)
        return np.pad(projected, ((0, 0), (0, 2 - projected.shape[1])))

    def _describe(self, centres: np.ndarray, sizes: np.ndarray, xy: np.ndarray) -> list[dict[str, Any]]:
        keys = self.vectorizer_.feature_names_
        segments: list[dict[str, Any]] = []
        used: set[str] = set()
        for centre, size, (x, y) in zip(centres, sizes, xy):
            ranked = np.argsort(-centre, kind="stable")
            top = [(keys[i], float(centre[i])) for i in ranked[:TOP_ASPECTS] if centre[i] > 0]
            names = list(dict.fromkeys(split_key(key)[1] for key, _ in top))
            label = " · ".join(names[:LABEL_WORDS]) or "no clear taste"
            label = label if label not in used else f"{label} ({len(segments) + 1})"
            used.add(label)
            strongest = np.argsort(-np.abs(centre), kind="stable")[:CENTROID_ASPECTS]
            segments.append({
                "label": label,
                "size": int(size),
                "top_aspects": [[key, round(w, 4)] for key, w in top],
                "centroid": {keys[i]: round(float(centre[i]), 6) for i in strongest if abs(centre[i]) >= 1e-6},
                "x": float(x),
                "y": float(y),
            })
        return segments

    def predict(self, profiles: Sequence[Mapping[str, float]]) -> np.ndarray:
        """The segment of each profile (nearest centroid); -1 when none of its aspects is known to the fit."""
        check_is_fitted(self, "labels_")
        if not profiles:
            return np.zeros(0, dtype=np.int64)
        data = normalize(self.vectorizer_.transform(profiles))
        labels = self.relabel_[self.kmeans_.predict(data)]
        labels[data.getnnz(axis=1) == 0] = -1
        return labels

    def plot(self, path: str | Path, customer_ids: Sequence[str] | None = None) -> Path:
        """Draw the profiles' 2-D projection coloured by segment, centroids labelled; write a PNG to ``path``.

        Uses matplotlib's object API with the Agg canvas, so no global backend changes.
        ``customer_ids`` (one per fitted profile) are written next to their points when
        there are at most 60 of them.
        """
        check_is_fitted(self, "labels_")
        from matplotlib import colormaps
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        if customer_ids is not None and len(customer_ids) != len(self.labels_):
            raise InvalidInputError(f"{len(customer_ids)} customer ids for {len(self.labels_)} profiles")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        figure = Figure(figsize=(8, 6), dpi=100)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        palette = colormaps["tab10"]
        shown = self.labels_ >= 0
        for label, segment in enumerate(self.segments_):
            colour = palette(label % 10)
            points = self.embedding_2d_[self.labels_ == label]
            axes.scatter(points[:, 0], points[:, 1], s=18, alpha=0.6, color=colour,
                         label=f"{segment['label']} ({segment['size']})")
            axes.scatter([segment["x"]], [segment["y"]], s=160, marker="X", color=colour, edgecolors="black")
            axes.annotate(f"{segment['label']} ({segment['size']})", (segment["x"], segment["y"]),
                          textcoords="offset points", xytext=(8, 8), fontsize=9, weight="bold")
        if customer_ids is not None and shown.sum() <= 60:
            for cid, (x, y) in zip(np.asarray(customer_ids)[shown], self.embedding_2d_[shown]):
                axes.annotate(str(cid), (x, y), textcoords="offset points", xytext=(3, -9), fontsize=7)
        axes.margins(0.15)  # room for the centroid labels
        axes.set_title(f"{self.n_segments_} segments, silhouette {self.silhouette_:.2f}")
        axes.set_xlabel("component 1")
        axes.set_ylabel("component 2")
        axes.legend(loc="best", fontsize=8)
        figure.tight_layout()
        figure.savefig(path, format="png", bbox_inches="tight")  # long segment labels stay whole
        return path
