"""Look-alike creatives: show the viewer the creative whose model looks most like them.

People trust faces like their own, so an ad may carry several creatives, each with
a photo of its model's face. At import, :class:`ModelFaces` turns each photo (exactly
one face) into an identity embedding, stored only encrypted; at decision time
:func:`choose_creative` picks the creative whose model face is nearest (euclidean,
dlib's 128-d space) to the main viewer's embedding. Without a viewer embedding or
without model faces, creatives simply take turns (``rotation``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from adlens.ads.inventory import Ad
from adlens.errors import MultipleFacesError, NoFaceFoundError
from adlens.protocols import ImageAnalyzer
from adlens.settings import Settings, get_settings


class ModelFaces:
    """Embeds model-face photos; the detector and embedder are loaded on the first photo, once.

    Args:
        analyzer: a loaded :class:`~adlens.pipeline.Analyzer` with embeddings (default:
            ``Analyzer(embed=True, attributes=[])``, created when first needed).
        settings: the settings the default analyzer is built with.
    """

    def __init__(self, analyzer: ImageAnalyzer | None = None, settings: Settings | None = None) -> None:
        self.analyzer = analyzer
        self.settings = settings

    def embed(self, path: str | Path) -> np.ndarray:
        """The 128-d embedding of the single face in the photo ``path``.

        Raises :class:`~adlens.errors.NoFaceFoundError` or :class:`~adlens.errors.MultipleFacesError`
        naming the file, and :class:`~adlens.errors.InvalidImageError` for an unreadable photo.
        """
        if self.analyzer is None:
            from adlens.pipeline import analyzer_for

            self.analyzer = analyzer_for(self.settings or get_settings(), attributes=[])
        faces = self.analyzer.analyze(Path(path))
        if len(faces) == 0:
            raise NoFaceFoundError(f"no face found in the model face {path}")
        if len(faces) > 1:
            raise MultipleFacesError(f"{len(faces)} faces in the model face {path}; it must show exactly one")
        if faces.embeddings is None:
            raise ValueError("ModelFaces needs an analyzer that computes embeddings (embed=True)")
        return np.asarray(faces.embeddings[0], dtype=np.float32)


@dataclass(frozen=True)
class CreativeChoice:
    """The creative to show, the model face's distance to the viewer (when compared), and why."""

    creative_id: str
    distance: float | None
    reason: str


def choose_creative(
    ad: Ad,
    viewer_embedding: np.ndarray | None = None,
    creative_faces: Mapping[str, np.ndarray] | None = None,
    rotation: int = 0,
) -> CreativeChoice:
    """The creative of ``ad`` whose model face is nearest the viewer; else creative ``rotation`` mod their number.

    ``creative_faces`` maps creative ids to decrypted model-face embeddings (ids of other
    ads' creatives are ignored). Pass a counter as ``rotation`` to make creatives take
    turns when no face can be compared; 0 always gives the first.
    """
    ids = [c.id for c in ad.creatives]
    faces = {cid: np.asarray(v, dtype=np.float32).reshape(-1) for cid, v in (creative_faces or {}).items()
             if cid in ids}
    if viewer_embedding is not None and faces:
        viewer = np.asarray(viewer_embedding, dtype=np.float32).reshape(-1)
        distances = {cid: float(np.linalg.norm(vector - viewer)) for cid, vector in faces.items()
                     if vector.shape == viewer.shape}
        if distances:
            # Ties go to the earlier creative: min over the ad's order.
            best = min((cid for cid in ids if cid in distances), key=lambda cid: distances[cid])
            return CreativeChoice(best, distances[best], f"model face looks like the viewer: distance "
                                                         f"{distances[best]:.2f}")
    index = rotation % len(ids)
    why = "no viewer face to compare" if viewer_embedding is None or not faces else "no comparable model face"
    if len(ids) == 1:
        return CreativeChoice(ids[0], None, "")
    return CreativeChoice(ids[index], None, f"creative {index + 1} of {len(ids)} in turn ({why})")
