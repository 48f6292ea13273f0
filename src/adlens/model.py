"""The one base class of every model adlens loads: settings, and weights loaded once.

Detectors, attribute models, the identity embedder and the product aspect
extractor all derive from :class:`Model`; each family adds its own public
method (``detect``, ``predict``, ``embed``, ``extract``) on top. The step order
lives here: :meth:`Model.load` is public and fixed, a subclass only fills
:meth:`Model._load`.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from typing import ClassVar, Self, final

from adlens.settings import Settings, get_settings


class Model(ABC):
    """A model whose weights are read once, on the first :meth:`load`, by any thread.

    Args:
        settings: where the weights are and how to run them (default: :func:`get_settings`).
    """

    required_models: ClassVar[tuple[str, ...]] = ()
    """Registry names of the weights :meth:`load` reads (``Analyzer.load`` checks them all at once)."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self._loaded = False
        # Guards the load; subclasses also take it to serialise calls into native objects
        # that are not thread-safe (never from inside _load, which already holds it).
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        """Whether :meth:`load` has finished."""
        return self._loaded

    @final
    def load(self) -> Self:
        """Load the weights once (later calls return at once); returns the model itself.

        Raises:
            ModelUnavailableError: a weight file is missing or corrupt (from the registry).
        """
        if not self._loaded:  # double-checked: once loaded, callers never wait on the lock
            with self._lock:
                if not self._loaded:
                    self._load()
                    self._loaded = True
        return self

    @abstractmethod
    def _load(self) -> None:
        """Read the weights into the instance; called once, under the lock."""
