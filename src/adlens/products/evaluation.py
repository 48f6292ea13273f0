"""How well labels of untagged products are predicted: hold out a fifth of a labelled catalogue."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from adlens.errors import InvalidImageError, InvalidInputError
from adlens.imageio import load_image
from adlens.products.catalog import image_index, read_records
from adlens.products.labels import predict_labels
from adlens.products.types import Aspects
from adlens.protocols import AspectSource
from adlens.settings import Settings, get_settings

if TYPE_CHECKING:
    from adlens.products.aspects import AspectExtractor

#: Report key → the label columns it is read from (the first one present wins).
TARGETS = {
    "master_category": ("masterCategory", "category"),
    "sub_category": ("subCategory", "subcategory"),
    "article_type": ("articleType", "type"),
    "colour": ("baseColour", "colour", "color"),
}
BATCH = 32


def read_labels(path: Path, id_column: str = "id") -> dict[str, dict[str, Any]]:
    """Labelled records by product id (bad records are ignored: only a label source here)."""
    labels: dict[str, dict[str, Any]] = {}
    for _, record in read_records(path):
        if isinstance(record, dict) and str(record.get(id_column, "")).strip():
            labels.setdefault(str(record[id_column]).strip(), record)
    if not labels:
        raise InvalidInputError(f"{path} has no labelled records with an {id_column!r} column")
    return labels


def extract_folder(
    paths: dict[str, Path], extractor: AspectSource, settings: Settings,
    advance: Callable[[int], None] | None = None,
) -> tuple[dict[str, Aspects], dict[str, str]]:
    """Aspects of each photo by id, batch by batch; unreadable photos are returned as problems."""
    aspects: dict[str, Aspects] = {}
    problems: dict[str, str] = {}
    items = list(paths.items())
    for start in range(0, len(items), BATCH):
        ids, images = [], []
        for product_id, path in items[start:start + BATCH]:
            try:
                images.append(load_image(path, max_pixels=settings.max_pixels))
                ids.append(product_id)
            except InvalidImageError as error:
                problems[product_id] = error.message
        if images:
            aspects.update(zip(ids, extractor.extract_batch(images)))
        if advance:
            advance(len(items[start:start + BATCH]))
    return aspects, problems


def evaluate_catalog(
    images: Path,
    labels_path: Path,
    holdout: float = 0.2,
    seed: int = 0,
    extractor: AspectExtractor | None = None,
    settings: Settings | None = None,
    limit: int | None = None,
    advance: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Predict category and colour of a held-out share of the photos from the rest; accuracies per label.

    Each held-out photo's labels are predicted by nearest neighbours among the others
    (exactly as untagged products are filled in at import) and compared with the truth.
    The dominant colour extracted from the photo itself is scored too
    (``dominant_colour_accuracy``), as a baseline for the colour prediction.
    """
    settings = settings or get_settings()
    if not 0 < holdout < 1:
        raise InvalidInputError("the held-out share must be between 0 and 1")
    labels = read_labels(labels_path)
    paths = {k: v for k, v in image_index(images).items() if k in labels}
    if limit:
        paths = dict(sorted(paths.items())[:limit])
    if len(paths) < 10:
        raise InvalidInputError(f"only {len(paths)} photos in {images} have labels in {labels_path}: need 10")
    if extractor is None:
        from adlens.products.aspects import AspectExtractor

        extractor = AspectExtractor(settings)
    extractor.load()
    if on_total:
        on_total(len(paths))
    aspects, problems = extract_folder(paths, extractor, settings, advance)
    ids = sorted(aspects)
    order = np.random.default_rng(seed).permutation(len(ids))
    n_test = max(1, int(round(holdout * len(ids))))
    test = [ids[i] for i in order[:n_test]]
    train = [ids[i] for i in order[n_test:]]
    result: dict[str, Any] = {
        "n": len(test), "n_train": len(train), "n_images": len(paths), "skipped": problems,
        "holdout": holdout, "seed": seed, "neighbours": settings.label_neighbours,
    }
    for key, candidates in TARGETS.items():
        column = next((c for c in candidates if any(c in labels[i] for i in ids)), None)
        if column is None:
            continue
        result |= _score(key, column, train, test, labels, aspects, settings.label_neighbours)
        if key == "colour":
            result |= _dominant_colour_score(column, test, labels, aspects)
    return result


def _score(
    key: str, column: str, train: Sequence[str], test: Sequence[str],
    labels: dict[str, dict[str, Any]], aspects: dict[str, Aspects], neighbours: int,
) -> dict[str, Any]:
    tagged = [i for i in train if str(labels[i].get(column) or "").strip()]
    scored = [i for i in test if str(labels[i].get(column) or "").strip()]
    truth = [str(labels[i][column]).strip() for i in scored]
    predicted = predict_labels([aspects[i] for i in tagged], [str(labels[i][column]).strip() for i in tagged],
                               [aspects[i] for i in scored], column, neighbours)
    hits = [p == t for (p, _), t in zip(predicted, truth)]
    mistakes = Counter((t, p) for (p, _), t, hit in zip(predicted, truth, hits) if not hit)
    return {
        f"{key}_accuracy": round(float(np.mean(hits)), 4) if hits else None,
        f"{key}_column": column,
        f"{key}_classes": len(set(truth)),
        f"{key}_top_confusions": [[t, p, n] for (t, p), n in mistakes.most_common(5)],
    }


def _dominant_colour_score(
    column: str, test: Sequence[str], labels: dict[str, dict[str, Any]], aspects: dict[str, Aspects]
) -> dict[str, Any]:
    scored = [i for i in test if str(labels[i].get(column) or "").strip() and aspects[i].colours]
    hits = [max(aspects[i].colours, key=aspects[i].colours.__getitem__) == str(labels[i][column]).strip().lower()
            for i in scored]
    return {"dominant_colour_accuracy": round(float(np.mean(hits)), 4) if hits else None}
