"""The decision engine's view of the store: the inventory, the bandit and segments' uplift, cached.

A decision reads no inventory and no arm statistics from the store in the common case:
:class:`StoreCache` keeps both, and re-reads them when this process changed them (the
store's :meth:`~adlens.store.base.StoreBase.generation`) or :data:`REFRESH_SECONDS` have
passed, which is how an import or a reward handled by another process reaches this one.
Segments' mean uplift per campaign is cached the same way.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import numpy as np

from adlens.ads.bandit import LinUCB
from adlens.ads.inventory import Ad
from adlens.audience import FEATURE_NAMES
from adlens.crypto import EmbeddingCipher
from adlens.settings import Settings

if TYPE_CHECKING:
    from adlens.store import Store

#: Seconds a decision may rely on the inventory and arm statistics read before: how soon
#: another process's import or reward counts here (this process's own count at once).
REFRESH_SECONDS = 1.0

T = TypeVar("T")
#: Per ad id, its creatives' decrypted model-face embeddings by creative id.
CreativeFaces = dict[str, dict[str, np.ndarray]]


@dataclass(frozen=True)
class Cached(Generic[T]):
    """A value read from the store, with the store generation and the monotonic time it was read at."""

    value: T
    generation: Hashable
    read_at: float

    def fresh(self, generation: Hashable, now: float) -> bool:
        """Still good: the store's generation is unchanged and :data:`REFRESH_SECONDS` have not passed."""
        return generation == self.generation and now - self.read_at < REFRESH_SECONDS


@dataclass(frozen=True)
class _Inventory:
    version: Any
    ads: list[Ad]
    faces: CreativeFaces


class StoreCache:
    """What decisions read from ``store``, cached per the module docstring."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._cipher = EmbeddingCipher(settings)
        self._ads: _Inventory | None = None
        self._ads_checked: Cached[Any] | None = None  # value: the version ``_ads`` was checked against
        self._arms: Cached[tuple[LinUCB, frozenset[str]]] | None = None
        self._segment_means: dict[str, Cached[dict[int, float]]] = {}

    def inventory(self) -> tuple[list[Ad], CreativeFaces]:
        """The active ads and their creatives' model faces."""
        now, generation = time.monotonic(), self.store.generation("ads")  # the generation before the read
        checked = self._ads_checked
        if self._ads is None or checked is None or not checked.fresh(generation, now):
            version = self.store.ads_version()
            if self._ads is None or self._ads.version != version:
                ads = self.store.list_ads(active_only=True)
                tokens = self.store.creative_faces([ad.id for ad in ads])
                faces = {ad_id: {cid: self._cipher.decrypt(token) for cid, token in found.items()}
                         for ad_id, found in tokens.items()}
                self._ads, self._arms = _Inventory(version, ads, faces), None
            self._ads_checked = Cached(version, generation, now)
        return self._ads.ads, self._ads.faces

    def bandit(self, ids: list[str]) -> LinUCB:
        """The bandit over (at least) the arms ``ids``, from cached statistics."""
        now, generation = time.monotonic(), self.store.generation("arms")
        cached = self._arms
        if cached is None or not cached.fresh(generation, now) or not cached.value[1].issuperset(ids):
            dims = len(FEATURE_NAMES)
            # Every active ad's arm at once: the next audience makes other ads eligible.
            wanted = list(dict.fromkeys([*(ad.id for ad in self.inventory()[0]), *ids]))
            model = LinUCB.from_stats(self.store.arm_stats(wanted, dims=dims), dims=dims,
                                      alpha=self.settings.exploration)
            cached = self._arms = Cached((model, frozenset(wanted)), generation, now)
        return cached.value[0]

    def segment_uplift(self, campaign: str) -> dict[int, float]:
        """``{segment id: mean predicted uplift}`` under ``campaign``."""
        now = time.monotonic()
        generation = (self.store.generation("uplift"), self.store.generation("segments"))
        cached = self._segment_means.get(campaign)
        if cached is None or not cached.fresh(generation, now):
            means = {segment: mean for segment, (mean, _n) in self.store.segment_uplift(campaign).items()}
            cached = self._segment_means[campaign] = Cached(means, generation, now)
        return cached.value
