"""Importing an inventory into the store: model faces embedded once, valid ads upserted.

Model-face photos are embedded with :class:`~adlens.ads.lookalike.ModelFaces` (once per
photo: a known sha256 reuses the stored ciphertext) and kept only encrypted; each valid
ad is upserted in its own transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adlens.ads.loading import Inventory, Problem
from adlens.ads.lookalike import ModelFaces
from adlens.crypto import EmbeddingCipher
from adlens.errors import AdlensError, InvalidInputError

if TYPE_CHECKING:
    from adlens.store import Store


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
    store: Store,
    inventory: Inventory,
    faces: ModelFaces | None = None,
    cipher: EmbeddingCipher | None = None,
    dry_run: bool = False,
    advance: Callable[[int], None] | None = None,
    record_folders: bool = True,
) -> ImportReport:
    """Embed the inventory's new model faces and upsert its valid ads, each in its own transaction.

    Model-face photos already stored (same sha256) are not analysed again. An ad whose
    model face has no face or several is skipped with a problem. Products missing from
    the catalogue are a warning, and so are uplift campaigns (``targeting.uplift``,
    ``exclude.uplift``) with no scores yet. ``dry_run`` analyses everything and writes nothing.
    ``store`` is an opened :class:`~adlens.store.Store`; ``advance(1)`` is called per model face
    (:func:`count_model_faces` of them). ``record_folders`` records the creatives' folders in the
    store so the server may send their images (a local import; an upload's files are servable already).
    """
    report = ImportReport(inventory.source, skipped=list(inventory.skipped), problems=list(inventory.problems),
                          dry_run=dry_run)
    products = sorted({p for ad in inventory.ads for p in ad.products})
    missing = sorted(set(products) - store.has_products(products))
    if missing:
        shown = ", ".join(missing[:10]) + (f" … and {len(missing) - 10} more" if len(missing) > 10 else "")
        report.warnings.append(f"{len(missing)} product id(s) not in the catalogue: {shown}")
    report.warnings.extend(_unscored_campaigns(store, inventory))
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
        if record_folders and not dry_run:
            store.add_media_folders({str(Path(c.image).parent) for c in ad.creatives})
    return report


def _unscored_campaigns(store: Store, inventory: Inventory) -> list[str]:
    """A warning per uplift campaign the inventory's rules read that has no scores in the store (yet)."""
    users: dict[str, list[str]] = {}
    for ad in inventory.ads:
        for block in (ad.targeting, ad.exclude):
            if block.uplift is not None and ad.id not in users.setdefault(block.uplift.campaign, []):
                users[block.uplift.campaign].append(ad.id)
    if not users:
        return []
    scored = {campaign.name for campaign in store.list_uplift_campaigns() if campaign.customers}
    return [f"uplift campaign {name!r} has no scores yet, so its rule matches nobody in ad(s) {', '.join(ads)} "
            f"(score it with adlens uplift score MODEL DATA.csv --save {name})"
            for name, ads in sorted(users.items()) if name not in scored]


def count_model_faces(inventory: Inventory) -> int:
    """How many creatives of the inventory carry a model face (the total of an import's progress)."""
    return sum(c.model_face is not None for ad in inventory.ads for c in ad.creatives)
