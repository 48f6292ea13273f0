"""The learning part of ad choice: a disjoint LinUCB bandit over audience features.

Each ad is an *arm* with its own ridge regression from the audience vector
(:data:`~adlens.audience.FEATURE_NAMES`) to the reward it earns (Li et al. 2010,
"A contextual-bandit approach to personalized news article recommendation", algorithm 1).
An arm is its sufficient statistics only: ``A = ridge·I + Σ x xᵀ`` and ``b = Σ r x``.
The upper confidence bound of arm ``a`` for context ``x`` is ``θₐ·x + α·sqrt(xᵀ Aₐ⁻¹ x)``
with ``θₐ = Aₐ⁻¹ bₐ``: the expected reward plus an exploration bonus that shrinks as
the arm is tried in contexts like ``x``.

Why hand-written with numpy rather than a library object: the statistics of one arm
must be updated atomically, in the database, by whichever process receives a reward
(an API worker, ``adlens reward`` on the CLI). A pickled model held by one process
cannot do that; :class:`ArmStats` rows (:mod:`adlens.store.bandit`) can, and
:meth:`LinUCB.from_stats` rebuilds the model from them for a decision.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator

from adlens.ads.arms import ArmStats
from adlens.errors import InvalidInputError
from adlens.settings import get_settings

REWARD_KINDS = ("dwell", "click", "purchase")


def _check_X(X: Any, dims: int | None = None) -> np.ndarray:
    array = np.asarray(X, dtype=np.float64)
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or array.shape[1] == 0:
        raise InvalidInputError(f"contexts must be an (n_samples, n_features) array, got shape {array.shape}")
    if dims is not None and array.shape[1] != dims:
        raise InvalidInputError(f"contexts have {array.shape[1]} features; the bandit was fitted on {dims}")
    if not np.all(np.isfinite(array)):
        raise InvalidInputError("contexts contain NaN or infinite values")
    return array


def _check_arms(arms: Iterable[Any], what: str = "arm") -> list[str]:
    ids = list(arms)
    for arm in ids:
        if not isinstance(arm, str) or not arm:
            raise InvalidInputError(f"{what} ids must be non-empty strings, not {arm!r}")
    return [str(arm) for arm in ids]  # numpy's str_ → str, so ids compare and serialise plainly


class LinUCB(BaseEstimator):  # type: ignore[misc]  # scikit-learn ships no type hints
    """Disjoint LinUCB: one ridge regression per arm (ad id), chosen by upper confidence bound.

    ``alpha`` scales the exploration bonus (``settings.exploration``; 0 only exploits);
    ``ridge`` is the prior precision (``A`` starts at ``ridge·I``). Attributes after
    :meth:`fit`, :meth:`partial_fit` or :meth:`from_stats`: ``stats_`` (arm id →
    :class:`ArmStats`) and ``n_features_in_``. An arm never seen scores its prior:
    expected reward 0 and bonus ``alpha·sqrt(x·x / ridge)``, the optimism that gets it
    tried (so an unfitted bandit can already score, every arm alike).
    """

    def __init__(self, alpha: float = 1.0, ridge: float = 1.0) -> None:
        self.alpha = alpha
        self.ridge = ridge

    # --- learning ---------------------------------------------------------------------
    def fit(self, X: Any, arms: Sequence[str], rewards: Any) -> LinUCB:
        """Learn from scratch on contexts ``X`` (n × d), the arm pulled for each, and its reward in [0, 1]."""
        self._check_params()
        X, ids, r = self._check_data(X, arms, rewards, dims=None)
        if X.shape[0] == 0:
            raise InvalidInputError("fit needs at least one (context, arm, reward) sample")
        self.stats_: dict[str, ArmStats] = {}
        self.n_features_in_ = int(X.shape[1])
        self._cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        return self._learn(X, ids, r)

    def partial_fit(self, X: Any, arms: Sequence[str], rewards: Any) -> LinUCB:
        """Add samples to what was learnt (the first call on an unfitted bandit behaves like :meth:`fit`)."""
        if not hasattr(self, "stats_"):
            return self.fit(X, arms, rewards)
        X, ids, r = self._check_data(X, arms, rewards, dims=self.n_features_in_)
        return self._learn(X, ids, r)

    @classmethod
    def from_stats(cls, stats: Mapping[str, ArmStats], dims: int, alpha: float = 1.0, ridge: float = 1.0) -> LinUCB:
        """A bandit made of stored arms (e.g. :meth:`~adlens.store.bandit.BanditMixin.arm_stats`)."""
        model = cls(alpha=alpha, ridge=ridge)
        model._check_params()
        if dims < 1:
            raise InvalidInputError(f"a bandit needs at least one feature, not {dims}")
        for arm, arm_stats in stats.items():
            if arm_stats.dims != dims or arm_stats.A.shape != (dims, dims):
                raise InvalidInputError(f"arm {arm!r} has {arm_stats.dims} dimensions, not {dims}")
        _check_arms(stats)
        model.stats_ = {arm: ArmStats(s.A.copy(), s.b.copy(), s.pulls, s.reward_sum) for arm, s in stats.items()}
        model.n_features_in_ = int(dims)
        model._cache = {}
        return model

    def arm(self, arm: str) -> ArmStats:
        """The statistics of ``arm`` (its prior when never pulled)."""
        found = getattr(self, "stats_", {}).get(arm)
        return found if found is not None else ArmStats.prior(self._dims(), self.ridge)

    # --- scoring ----------------------------------------------------------------------
    def expected_reward(self, X: Any, arms: Sequence[str] | None = None) -> np.ndarray:
        """``θₐ·x`` per sample and arm: (n_samples, n_arms)."""
        return self._scores(X, arms)[0]

    def exploration_bonus(self, X: Any, arms: Sequence[str] | None = None) -> np.ndarray:
        """``alpha·sqrt(xᵀ Aₐ⁻¹ x)`` per sample and arm: (n_samples, n_arms)."""
        return self._scores(X, arms)[1]

    def ucb(self, X: Any, arms: Sequence[str] | None = None) -> np.ndarray:
        """The upper confidence bound (expected reward + bonus) per sample and arm: (n_samples, n_arms)."""
        mean, bonus = self._scores(X, arms)
        return mean + bonus

    def estimate(self, X: Any, arms: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`expected_reward` and :meth:`exploration_bonus` at once (one solve), each (n_samples, n_arms)."""
        return self._scores(X, arms)

    def predict(self, X: Any, arms: Sequence[str] | None = None) -> np.ndarray:
        """The arm with the highest UCB for each sample (ties: the first in ``arms``); ``arms`` defaults
        to every arm seen, sorted."""
        ids = self._arm_list(arms)
        if not ids:
            raise InvalidInputError("no arms to choose from")
        scores = self.ucb(X, ids)
        chosen: np.ndarray = np.asarray(ids, dtype=object)[np.argmax(scores, axis=1)]
        return chosen

    # --- internals --------------------------------------------------------------------
    def _check_params(self) -> None:
        for name, low, inclusive in (("alpha", 0.0, True), ("ridge", 0.0, False)):
            value = getattr(self, name)
            ok = isinstance(value, (int, float, np.number)) and not isinstance(value, bool) and math.isfinite(value)
            if not ok or value < low or (value == low and not inclusive):
                raise InvalidInputError(f"{name} must be a finite number {'≥' if inclusive else '>'} 0, not {value!r}")

    def _check_data(
        self, X: Any, arms: Sequence[str], rewards: Any, dims: int | None
    ) -> tuple[np.ndarray, list[str], np.ndarray]:
        X = _check_X(X, dims)
        ids = _check_arms([arms] if isinstance(arms, str) else arms)
        r = np.atleast_1d(np.asarray(rewards, dtype=np.float64))
        if r.ndim != 1 or not len(ids) == len(r) == X.shape[0]:
            raise InvalidInputError(f"{X.shape[0]} contexts, {len(ids)} arms and {r.size} rewards: they must match")
        if not np.all(np.isfinite(r)) or np.any((r < 0) | (r > 1)):
            raise InvalidInputError("rewards must be finite numbers in [0, 1] (see normalise_reward)")
        return X, ids, r

    def _check_query(self, X: Any, arms: Sequence[str] | None) -> tuple[np.ndarray, list[str]]:
        self._check_params()
        return _check_X(X, getattr(self, "n_features_in_", None)), self._arm_list(arms)

    def _arm_list(self, arms: Sequence[str] | None) -> list[str]:
        if arms is None:
            return sorted(getattr(self, "stats_", {}))
        return _check_arms([arms] if isinstance(arms, str) else arms)

    def _dims(self) -> int:
        if not hasattr(self, "n_features_in_"):
            raise InvalidInputError("the bandit has no dimensions yet: fit it or build it with from_stats")
        return self.n_features_in_

    def _learn(self, X: np.ndarray, ids: list[str], r: np.ndarray) -> LinUCB:
        column = np.asarray(ids, dtype=object)
        for arm in dict.fromkeys(ids):  # first-seen order, each arm once
            rows = column == arm
            self.stats_.setdefault(arm, ArmStats.prior(self.n_features_in_, self.ridge)).update(X[rows], r[rows])
            self._cache.pop(arm, None)
        return self

    def _scores(self, X: Any, arms: Sequence[str] | None) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Expected reward and exploration bonus, each (n_samples, n_arms)."""
        X, ids = self._check_query(X, arms)
        inverses, thetas = self._solved(ids, X.shape[1])
        mean = X @ thetas.T
        # xᵀ A⁻¹ x for every (sample, arm) pair: (K, n, d) · (n, d) summed over d
        quadratic = np.sum((X @ inverses) * X, axis=-1).T
        return mean, float(self.alpha) * np.sqrt(np.maximum(quadratic, 0.0))

    def _solved(self, ids: list[str], dims: int) -> tuple[np.ndarray, np.ndarray]:
        """``A⁻¹`` (K × d × d) and ``θ`` (K × d) of the arms ``ids``; inverses are cached until an arm
        learns again, and the missing ones are inverted in one batch (a decision may rebuild hundreds)."""
        if not hasattr(self, "_cache"):
            self._cache = {}
        cache, stats = self._cache, getattr(self, "stats_", {})
        missing = [arm for arm in dict.fromkeys(ids) if arm in stats and arm not in cache]
        if missing:
            inverses = np.linalg.inv(np.stack([stats[arm].A for arm in missing]))
            inverses = (inverses + inverses.transpose(0, 2, 1)) / 2  # A is symmetric: keep A⁻¹ so despite rounding
            for arm, inverse in zip(missing, inverses):
                cache[arm] = (inverse, inverse @ stats[arm].b)
        prior = (np.eye(dims) / float(self.ridge), np.zeros(dims))  # an unseen arm: nothing to invert
        solved = [cache.get(arm, prior) for arm in ids]
        if not solved:
            return np.zeros((0, dims, dims)), np.zeros((0, dims))
        return np.stack([inverse for inverse, _ in solved]), np.stack([theta for _, theta in solved])


def normalise_reward(kind: str, raw: Any, dwell_seconds: float | None = None) -> float:
    """A reward in [0, 1] from what was observed: ``dwell`` seconds (``min(raw / dwell_seconds, 1)``,
    ``dwell_seconds`` defaulting to ``settings.dwell_reward_seconds``), a ``click`` (true/false, or a
    value in [0, 1]; more than 1 counts as clicked) or a ``purchase`` (any amount > 0 is 1).
    Anything else, negative or not a number, is an :class:`~adlens.errors.InvalidInputError`."""
    if kind not in REWARD_KINDS:
        raise InvalidInputError(f"unknown reward kind {kind!r}; expected one of {', '.join(REWARD_KINDS)}")
    if isinstance(raw, str) and raw.strip().lower() in {"true", "yes", "false", "no"}:
        if kind != "click":
            raise InvalidInputError(f"a {kind} reward needs a number, not {raw!r}")
        raw = raw.strip().lower() in {"true", "yes"}
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise InvalidInputError(f"a {kind} reward needs a number, not {raw!r}") from None
    if not math.isfinite(value) or value < 0:
        raise InvalidInputError(f"a {kind} reward must be a finite number ≥ 0, not {raw!r}")
    if kind == "dwell":
        if dwell_seconds is None:
            dwell_seconds = get_settings().dwell_reward_seconds
        if not dwell_seconds > 0:
            raise InvalidInputError(f"dwell_seconds must be > 0, not {dwell_seconds}")
        return min(value / float(dwell_seconds), 1.0)
    if kind == "click":
        return min(value, 1.0)
    return 1.0 if value > 0 else 0.0
