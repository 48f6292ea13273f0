"""The decision stage: which ad and creative to show an audience, why, logged as events.

:class:`Decider` (:mod:`adlens.decision.engine`) wires the stages: the audience's rules
(:mod:`adlens.ads.rules`) through :mod:`adlens.decision.context`, the scores
(:mod:`adlens.decision.scoring`), the cached store view (:mod:`adlens.decision.cache`),
and returns a :class:`Decision` (:mod:`adlens.decision.record`). The names below are
imported on first use: the engine loads scikit-learn, a :class:`Decision` does not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from adlens.lazy import lazy_attributes

if TYPE_CHECKING:
    from adlens.decision.engine import Decider
    from adlens.decision.record import CreativeSpec, Decision
    from adlens.decision.slideshow import SLIDESHOW, Slide
    from adlens.events import Candidate

__getattr__ = lazy_attributes(__name__, {
    "Decider": ".engine", "CreativeSpec": ".record", "Decision": ".record", "SLIDESHOW": ".slideshow",
    "Slide": ".slideshow", "Candidate": "adlens.events",
})

__all__ = ["SLIDESHOW", "Candidate", "CreativeSpec", "Decider", "Decision", "Slide"]
