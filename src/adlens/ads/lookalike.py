"""Look-alike creatives: show the viewer the creative whose model looks most like them.

People trust faces like their own, so an ad may carry several creatives, each with
a photo of its model's face. At import, :class:`ModelFaces` turns each photo (exactly
one face) into an identity embedding, stored only encrypted; at decision time
:func:`choose_creative` picks the creative whose model face is nearest (euclidean,
dlib's 128-d space) to the main viewer's embedding. Without a viewer embedding or
without model faces, creatives simply take turns (``rotation``).

:func:`import_inventory` is where an inventory file meets the store: model faces are
embedded there (once per photo: a known sha256 reuses the stored ciphertext) and
each valid ad is upserted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from adlens.ads.inventory import Ad, Inventory, Problem
from adlens.crypto import EmbeddingCipher
from adlens.errors import AdlensError, InvalidInputError, MultipleFacesError, NoFaceFoundError
from adlens.settings import Settings, get_settings


class ModelFaces:
    """Embeds model-face photos; the detector and embedder are loaded on the first photo, once.

    Args:
        analyzer: a loaded :class:`~adlens.pipeline.Analyzer` with embeddings (default:
            ``Analyzer(embed=True, attributes=[])``, created when first needed).
        settings: the settings the default analyzer is built with.
    """

    def __init__(self, analyzer: Any = None, settings: Settings | None = None) -> None:
        self.analyzer = analyzer
        self.settings = settings

    def embed(self, path: str | Path) -> np.ndarray:
        """The 128-d embedding of the single face in the photo ``path``.

        Raises :class:`~adlens.errors.NoFaceFoundError` or :class:`~adlens.errors.MultipleFacesError`
        naming the file, and :class:`~adlens.errors.InvalidImageError` for an unreadable photo.
        """
        if self.analyzer is None:
            from adlens.pipeline import Analyzer

            self.analyzer = Analyzer(self.settings or get_settings(), embed=True, attributes=[]).load()
        faces = self.analyzer.analyze(Path(path))
        if len(faces) == 0:
            raise NoFaceFoundError(f"no face found in the model face {path}")
        if len(faces) > 1:
            raise MultipleFacesError(f"{len(faces)} faces in the model face {path}; it must show exactly one")
        if faces.embeddings is None:
            raise ValueError("ModelFaces needs an analyzer that computes embeddings (embed=True)")
        return np.asarray(faces.embeddings[0], dtype=np.float32)


def embed_model_faces(
    inventory: Inventory,
    known: Mapping[str, bytes],
    faces: ModelFaces,
    cipher: EmbeddingCipher | None,
    advance: Callable[[int], None] | None = None,
) -> tuple[dict[tuple[str, str], bytes | None], list[Problem]]:
    """Encrypted embeddings ``{(ad id, creative id): token}`` of the inventory's model faces, and the
    problems (no face, several faces, unreadable photo) that make an ad invalid.

    ``known`` maps a photo's sha256 to a ciphertext already stored: those photos are not
    analysed again. Without a ``cipher`` (a dry run) photos are analysed but nothing is
    encrypted, and the tokens are ``None``. ``advance(1)`` is called per model face.
    """
    tokens: dict[tuple[str, str], bytes | None] = {}
    problems: list[Problem] = []
    done: dict[str, bytes | None] = dict(known)
    for ad in inventory.ads:
        for i, creative in enumerate(ad.creatives):
            if creative.model_face is None or creative.face_sha256 is None:
                continue
            sha = creative.face_sha256
            try:
                if sha not in done:
                    vector = faces.embed(creative.model_face)
                    done[sha] = None if cipher is None else cipher.encrypt(vector)
                tokens[ad.id, creative.id] = done[sha]
            except AdlensError as error:
                where = f"{inventory.label(ad.id)}.creatives[{i}] ({creative.id}).model_face"
                problems.append(Problem(inventory.source, where, error.message, ad.id))
            if advance is not None:
                advance(1)
    return tokens, problems


# --- importing into the store ----------------------------------------------------------


@dataclass
class ImportReport:
    """What an import did: ads created, updated, unchanged; ads skipped with their problems; warnings."""

    source: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"source": self.source, "dry_run": self.dry_run, "created": self.created, "updated": self.updated,
                "unchanged": self.unchanged, "skipped": self.skipped, "warnings": self.warnings,
                "problems": [{"where": p.where, "message": p.message, "ad": p.ad_id} for p in self.problems]}


def import_inventory(
    store: Any,
    inventory: Inventory,
    faces: ModelFaces | None = None,
    cipher: EmbeddingCipher | None = None,
    dry_run: bool = False,
    advance: Callable[[int], None] | None = None,
) -> ImportReport:
    """Embed the inventory's new model faces and upsert its valid ads, each in its own transaction.

    Model-face photos already stored (same sha256) are not analysed again. An ad whose
    model face has no face or several is skipped with a problem. Products missing from
    the catalogue are a warning. ``dry_run`` analyses everything and writes nothing.
    ``store`` is an opened :class:`~adlens.store.Store`; ``advance(1)`` is called per model face
    (:func:`count_model_faces` of them).
    """
    report = ImportReport(inventory.source, skipped=list(inventory.skipped), problems=list(inventory.problems),
                          dry_run=dry_run)
    products = sorted({p for ad in inventory.ads for p in ad.products})
    missing = sorted(set(products) - store.has_products(products))
    if missing:
        shown = ", ".join(missing[:10]) + (f" … and {len(missing) - 10} more" if len(missing) > 10 else "")
        report.warnings.append(f"{len(missing)} product id(s) not in the catalogue: {shown}")
    cipher = None if dry_run else cipher or EmbeddingCipher()
    tokens, problems = embed_model_faces(inventory, store.model_face_tokens(), faces or ModelFaces(), cipher, advance)
    report.problems.extend(problems)
    bad = {p.ad_id for p in problems}
    stored = {ad.id: ad for ad in store.list_ads()} if dry_run else {}
    for ad in inventory.ads:
        if ad.id in bad:
            report.skipped.append(inventory.label(ad.id))
            continue
        if dry_run:
            outcome = "created" if ad.id not in stored else \
                "unchanged" if stored[ad.id].model_dump() == ad.model_dump() else "updated"
        else:
            records = [(c.id, i, c.model_dump(mode="json"), tokens.get((ad.id, c.id)))
                       for i, c in enumerate(ad.creatives)]
            try:
                outcome = store.upsert_ad(ad.spec(), records)
            except InvalidInputError as error:
                report.problems.append(Problem(inventory.source, inventory.label(ad.id), error.message, ad.id))
                report.skipped.append(inventory.label(ad.id))
                continue
        getattr(report, outcome).append(ad.id)
    return report


def count_model_faces(inventory: Inventory) -> int:
    """How many creatives of the inventory carry a model face (the total of an import's progress)."""
    return sum(c.model_face is not None for ad in inventory.ads for c in ad.creatives)


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
