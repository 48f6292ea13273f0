"""What the API shares between requests: settings, store, the loaded models and the services on them.

One :class:`Service` is built when the app starts: the store is opened (and migrated),
the vision models are loaded once, and the decision engine, gallery, shop and live
screens are built over them. Routes reach it through :func:`get_service`.
"""

from __future__ import annotations

import logging
import threading
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from adlens.api.keys import KeyChecker
from adlens.api.limits import RateLimiter
from adlens.api.metrics import Metrics
from adlens.errors import ModelUnavailableError
from adlens.faces import Faces
from adlens.protocols import ImageAnalyzer
from adlens.settings import Settings

log = logging.getLogger("adlens.api")

if TYPE_CHECKING:
    from adlens.decision import Decider
    from adlens.fleet.bus import GenerationBus
    from adlens.fleet.client import Fleet
    from adlens.gallery.service import Gallery
    from adlens.pipeline import StageTimer
    from adlens.products.importer import CatalogImporter
    from adlens.products.service import Shop
    from adlens.signage.live import LiveScreens
    from adlens.store import Store


class SharedAnalyzer:
    """The vision pipeline shared by request threads: one image analysed at a time.

    ONNX Runtime already spreads one image over the cores, and dlib's models are not
    documented as thread-safe, so requests queue here rather than run models at once.
    """

    def __init__(self, analyzer: ImageAnalyzer) -> None:
        self._analyzer = analyzer
        self._lock = threading.Lock()

    def analyze(self, source: Any, timer: StageTimer | None = None) -> Faces:
        with self._lock:
            return self._analyzer.analyze(source, timer)

    def analyze_array(self, image: np.ndarray, timer: StageTimer | None = None, *,
                      volatile_only: bool = False) -> Faces:
        with self._lock:
            if volatile_only:  # asked only of a PersonAnalyzer (see SignageLoop)
                return self._analyzer.analyze_array(image, timer, volatile_only=True)  # type: ignore[call-arg]
            return self._analyzer.analyze_array(image, timer)

    def load(self) -> SharedAnalyzer:
        return self

    def __getattr__(self, name: str) -> Any:
        # Everything else is the wrapped analyser's, stable_attributes included when it has one (its
        # attribute models run in ONNX Runtime, and in LiteRT under the session's own lock: thread-safe).
        return getattr(self._analyzer, name)


class _Missing:
    """Stands in for models that were not loaded: every use is a 503 that says why."""

    embedder = None

    def __init__(self, why: str) -> None:
        self.why = why

    def _fail(self, *_args: Any, **_kwargs: Any) -> Faces:
        raise ModelUnavailableError(self.why)

    analyze = analyze_array = _fail

    def load(self) -> _Missing:
        return self


class Service:
    """The app's shared state (see the module docstring).

    Args:
        settings: the settings the app runs with.
        store: an opened store (default: :func:`adlens.store.open_store` at ``settings.store_url``).
        analyzer: a loaded :class:`~adlens.pipeline.Analyzer` with embeddings; ``None``
            loads one; ``False`` runs without models (image routes answer 503).
    """

    def __init__(self, settings: Settings, store: Store | None = None,
                 analyzer: ImageAnalyzer | Literal[False] | None = None, metrics: Metrics | None = None) -> None:
        self.settings = settings
        if store is None:
            from adlens.store import open_store

            store = open_store(settings.store_url)
        self.store = store
        if analyzer is None:
            from adlens.pipeline import analyzer_for

            analyzer = analyzer_for(settings)
        self.models_loaded = analyzer is not False
        self.analyzer: ImageAnalyzer = SharedAnalyzer(analyzer) if analyzer is not False else _Missing(
            "the vision models were not loaded in this server")
        self.keys = KeyChecker(store)
        self.fleet: Fleet | None = None
        self.bus: GenerationBus | None = None
        address_what = "a client address sending invalid keys"
        if settings.redis_url.strip():  # a fleet shares its limits, changes and live screens (docs/fleet.md)
            from adlens.fleet import bus
            from adlens.fleet.client import connect
            from adlens.api.shared_limits import SharedRateLimiter

            self.fleet = connect(settings)
            assert self.fleet is not None
            self.limiter: RateLimiter = SharedRateLimiter(self.fleet, settings.api_rate_limit,
                                                          settings.api_rate_burst, kind="key")
            self.address_limiter: RateLimiter = SharedRateLimiter(
                self.fleet, settings.api_address_failures, settings.api_address_burst, kind="address",
                what=address_what)
            self.bus = bus.GenerationBus(self.fleet, store)
            self.bus.listeners.append(self._changed_elsewhere)
            self.bus.start()
        else:
            self.limiter = RateLimiter(settings.api_rate_limit, settings.api_rate_burst)
            self.address_limiter = RateLimiter(settings.api_address_failures, settings.api_address_burst,
                                               what=address_what)
        # Decisions share the decider's caches; one at a time keeps them consistent.
        self.decide_lock = threading.Lock()
        self.import_lock = threading.Lock()
        self.metrics = metrics or Metrics()

    def _changed_elsewhere(self, topics: frozenset[str]) -> None:
        """Another worker changed ``topics`` (the fleet's bus): the gallery's index applies the change log
        on its next use (the decision engine's caches read the store's generations themselves)."""
        if "gallery" in topics and "gallery" in self.__dict__:
            self.gallery.changed()

    def warm_up(self) -> None:
        """Build the decision engine and read the inventory and the bandit's arms once, at start-up.

        Built on the first ``/v1/decide`` instead, the engine's imports and first reads took
        seconds of that request (5 s on a busy 2-core machine) while every decision queued
        behind it; a server is ready when it answers. A failure is logged and left to the
        first decision, which tries again and answers with the error.
        """
        try:
            decider = self.decider
            ads, _faces = decider.cache.inventory()
            decider.cache.bandit([ad.id for ad in ads])
        except Exception as error:  # noqa: BLE001 - start anyway; the first decision reports it
            log.warning("the decision engine could not be prepared at start-up (%s); the first decision "
                        "will try again", error)

    @cached_property
    def decider(self) -> Decider:
        from adlens.decision import Decider

        return Decider(self.store, self.settings, analyzer=self.analyzer, gallery=self.gallery)

    @cached_property
    def gallery(self) -> Gallery:
        from adlens.gallery.service import Gallery

        return Gallery(self.store, self.settings, analyzer=self.analyzer)

    @cached_property
    def shop(self) -> Shop:
        from adlens.products.service import Shop

        return Shop(self.store, self.settings)

    @cached_property
    def catalog_importer(self) -> CatalogImporter:
        from adlens.products.importer import CatalogImporter

        return CatalogImporter(self.store, settings=self.settings)

    @cached_property
    def screens(self) -> LiveScreens:
        if self.fleet is not None:
            from adlens.fleet.screens import SharedLiveScreens

            return SharedLiveScreens(self.fleet, self.decider, self.store, self.analyzer, self.settings)
        from adlens.signage.live import LiveScreens

        return LiveScreens(self.decider, self.store, self.analyzer, self.settings)

    @property
    def live_screens(self) -> int:
        """How many screens send live frames now (without building the decision engine to ask): across the
        fleet with Redis."""
        if "screens" in self.__dict__:
            return len(self.screens)
        if self.fleet is not None:
            from adlens.fleet.screens import shared_screens

            return shared_screens(self.fleet, self.settings.live_screen_timeout) or 0
        return 0

    def close(self) -> None:
        """Log the live screens' plays (this process's own), stop the fleet's bus, close the connections."""
        if "screens" in self.__dict__:
            self.screens.close()
        if self.bus is not None:
            self.bus.close()
        if self.fleet is not None:
            self.fleet.close()
        self.store.close()
