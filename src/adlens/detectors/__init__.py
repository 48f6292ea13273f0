"""Face detectors and the one factory that picks them by name."""

from __future__ import annotations

from adlens.detectors.base import Detector
from adlens.detectors.dlib_hog import DlibHogDetector
from adlens.detectors.yunet import YuNetDetector
from adlens.errors import UnknownNameError
from adlens.settings import Settings

DETECTORS: dict[str, type[Detector]] = {cls.name: cls for cls in (YuNetDetector, DlibHogDetector)}


def create_detector(name: str | None = None, settings: Settings | None = None) -> Detector:
    """The detector called ``name`` (default: ``ADLENS_DETECTOR``, i.e. ``yunet``).

    Raises:
        UnknownNameError: ``name`` is not one of :data:`DETECTORS`.
    """
    from adlens.settings import get_settings

    settings = settings or get_settings()
    name = name or settings.detector
    try:
        cls = DETECTORS[name]
    except KeyError:
        raise UnknownNameError(f"unknown detector {name!r}; choose one of: {', '.join(DETECTORS)}") from None
    return cls(settings)


__all__ = ["DETECTORS", "Detector", "DlibHogDetector", "YuNetDetector", "create_detector"]
