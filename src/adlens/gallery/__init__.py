"""The consented customer gallery: enrol with consent, identify members, erase on request.

:class:`Gallery` (in :mod:`.service`) is the entry point; :class:`GalleryIndex` (in
:mod:`.index`) searches the embeddings and is changed in place by id; :mod:`.live`
keeps it in step with the store's change log and :mod:`.snapshot` shares it between
the workers of a host; :mod:`.calibration` measures false accept and
false reject rates to choose the match threshold. Importing this package loads
neither FAISS nor scikit-learn.
"""

from __future__ import annotations

from adlens.gallery.index import GalleryIndex
from adlens.gallery.service import Enrolment, Gallery, Match, Member

__all__ = ["Enrolment", "Gallery", "GalleryIndex", "Match", "Member"]
