"""Catalogue import: rows → aspects → the store, batch by batch, idempotently.

Aspects are computed once per photo: a re-import whose photo has the same sha256
reuses what is stored and only refreshes the name, metadata and tokens. Each batch
is written in one transaction, so an interrupted import leaves whole products only.
After the rows, untagged products get their category and colour predicted from
their visual neighbours.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from adlens.errors import InvalidImageError
from adlens.imageio import load_image
from adlens.media import real_path
from adlens.products.catalog import CatalogRow, RowProblem, split_problems
from adlens.products.labels import LABEL_COLUMNS, predict_labels
from adlens.products.tokens import product_tokens
from adlens.products.types import Aspects, Prediction, Product
from adlens.download import sha256_of
from adlens.protocols import AspectSource
from adlens.settings import Settings, get_settings
from adlens.workers import ItemError, run_ordered

if TYPE_CHECKING:
    from adlens.store import Store

BATCH = 32

#: Runs ``work(build(settings), batch)`` for every batch, in order (:func:`~adlens.workers.run_ordered`).
Runner = Callable[..., Generator[Any, None, None]]


@dataclass
class ImportReport:
    """What an import did: counts, the rows it skipped with their lines, labels it filled in."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    predicted: dict[str, int] = field(default_factory=dict)

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged

    def to_dict(self) -> dict[str, Any]:
        return {
            "imported": self.imported, "created": self.created, "updated": self.updated,
            "unchanged": self.unchanged, "skipped": len(self.problems), "predicted": self.predicted,
            "problems": [p.to_dict() for p in self.problems],
        }


class CatalogImporter:
    """Imports catalogue rows into a store, extracting each new photo's aspects once."""

    def __init__(self, store: Store, extractor: AspectSource | None = None, settings: Settings | None = None) -> None:
        self.store = store
        self.settings = settings or get_settings()
        self._extractor = extractor

    @property
    def extractor(self) -> AspectSource:
        if self._extractor is None:
            from adlens.products.aspects import AspectExtractor

            self._extractor = AspectExtractor(self.settings)
        if hasattr(self._extractor, "load"):
            self._extractor.load()
        return self._extractor

    def run(
        self,
        rows: Iterable[CatalogRow | RowProblem],
        advance: Callable[[int], None] | None = None,
        label_columns: Sequence[str] | None = None,
        record_folders: bool = True,
        workers: int = 1,
        runner: Runner | None = None,
    ) -> ImportReport:
        """Import ``rows``; ``advance(n)`` is called as rows are done (for a progress bar).

        ``record_folders``: record the folders of the photos in the store, so the server
        may show them (a local import; an upload's photos are servable already).
        ``workers``: processes describing the new photos, a batch each, the batches stored in
        order (an extractor given to the importer describes them here, whatever ``workers``).
        ``runner``: who runs the batches (:func:`~adlens.workers.run_ordered`'s contract): worker
        processes here (the default), or :func:`adlens.batch.cluster.ray_ordered`'s Ray actors (every batch goes to them).
        """
        good, problems = split_problems(rows)
        report = ImportReport(problems=problems)
        if advance and report.problems:
            advance(len(report.problems))
        stored = self.store.product_image_hashes()
        plans: deque[_Plan] = deque()

        def photos() -> Iterator[list[str]]:  # planned as the workers take them, so memory stays bounded
            for start in range(0, len(good), BATCH):
                plans.append(self._plan(good[start:start + BATCH], stored, report))
                yield [path for _, path in plans[-1].todo]

        workers = 1 if self._extractor is not None else min(workers, -(-len(good) // BATCH))
        if runner is None or self._extractor is not None:
            runner = run_ordered
        build = _worker_photos if workers > 1 or runner is not run_ordered else self._photos
        with closing(runner(photos(), build, _describe, settings=self.settings, workers=workers)) as described:
            for outcome in described:
                plan = plans.popleft()
                products = self._products(plan, outcome, report)
                with self.store.transaction() as session:
                    for product in products:
                        result = self.store.upsert_product(product, session=session)
                        setattr(report, result, getattr(report, result) + 1)
                    if record_folders:
                        self.store.add_media_folders({str(Path(p.image).parent) for p in products if p.image},
                                                     session=session)
                if advance:
                    advance(plan.size)
        columns = label_columns if label_columns is not None else _label_columns(good)
        if columns:
            report.predicted = fill_in_labels(self.store, columns, self.settings.label_neighbours)
        report.problems.sort(key=lambda p: p.line)
        return report

    def _photos(self, settings: Settings) -> _Photos:
        return _Photos(lambda: self.extractor, settings.max_pixels)

    def _plan(self, rows: list[CatalogRow], stored: dict[str, str | None], report: ImportReport) -> _Plan:
        """One batch: photos hashed (an unreadable one reported), stored aspects reused, the new photos listed."""
        plan = _Plan(len(rows))
        for row in rows:
            if row.image is None:
                plan.hashes[row.id] = None
                plan.rows.append(row)
                continue
            try:
                plan.hashes[row.id] = sha256_of(row.image)
                plan.rows.append(row)
            except OSError as error:
                report.problems.append(RowProblem(row.line, row.id, f"cannot read {row.image}: {error.strerror}",
                                                  "bad image"))
        reuse = [r.id for r in plan.rows if r.image is not None and stored.get(r.id) == plan.hashes[r.id]]
        plan.previous = {p.id: p for p in self.store.get_products(reuse)} if reuse else {}
        plan.todo = [(r.id, str(r.image)) for r in plan.rows if r.image is not None and r.id not in plan.previous]
        return plan

    def _products(self, plan: _Plan, described: list[Aspects | str] | ItemError, report: ImportReport) -> list[Product]:
        """Products for one batch, its new photos described (those that could not be are reported)."""
        if isinstance(described, ItemError):  # the whole batch failed (its worker process died)
            described = [described.message] * len(plan.todo)
        fresh: dict[str, Aspects] = {}
        lines = {row.id: row.line for row in plan.rows}
        for (row_id, _), outcome in zip(plan.todo, described, strict=True):
            if isinstance(outcome, str):
                report.problems.append(RowProblem(lines[row_id], row_id, outcome, "bad image"))
            else:
                fresh[row_id] = outcome
        products = []
        previous = plan.previous
        for row in plan.rows:
            if row.image is not None and row.id not in fresh and row.id not in previous:
                continue  # its photo was reported above
            seen = previous[row.id].aspects if row.id in previous else fresh.get(row.id, Aspects())
            predicted = _still_missing(previous[row.id].predicted if row.id in previous else {}, row.attributes)
            tokens = with_predictions(product_tokens(row.name, row.attributes), predicted)
            products.append(Product(
                id=row.id, name=row.name, attributes=row.attributes,
                image=str(real_path(row.image) or row.image) if row.image else None, image_sha256=plan.hashes[row.id],
                aspects=replace(seen, tokens=tokens), predicted=predicted,
            ))
        return products


@dataclass
class _Plan:
    """One batch of rows: those with a readable photo or none, their photos' hashes, the stored products whose
    aspects are reused, and the photos to describe (``(id, path)``)."""

    size: int
    rows: list[CatalogRow] = field(default_factory=list)
    hashes: dict[str, str | None] = field(default_factory=dict)
    previous: dict[str, Product] = field(default_factory=dict)
    todo: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class _Photos:
    """Describes photos: the extractor (asked for only when a batch has photos) and the pixel limit."""

    extractor: Callable[[], AspectSource]
    max_pixels: int


def _worker_photos(settings: Settings) -> _Photos:
    """A worker process's extractor, loaded at its start (a missing model stops the import)."""
    from adlens.products.aspects import AspectExtractor

    extractor = AspectExtractor(settings).load()
    return _Photos(lambda: extractor, settings.max_pixels)


def _describe(photos: _Photos, paths: list[str]) -> list[Aspects | str]:
    """The aspects of each photo of a batch, or why it cannot be read; the networks run on the batch at once."""
    images: list[np.ndarray] = []
    outcomes: list[Aspects | str | None] = []
    for path in paths:
        try:
            images.append(load_image(path, max_pixels=photos.max_pixels))
            outcomes.append(None)
        except InvalidImageError as error:
            outcomes.append(error.message)
    described = iter(photos.extractor().extract_batch(images) if images else [])
    return [next(described) if outcome is None else outcome for outcome in outcomes]


def with_predictions(tokens: dict[str, float], predicted: dict[str, Prediction]) -> dict[str, float]:
    """Tokens plus each predicted label, weighted by its confidence (a guess counts less than a tag)."""
    tokens = dict(tokens)
    for prediction in predicted.values():
        token = " ".join(prediction.value.lower().split())
        tokens[token] = max(tokens.get(token, 0.0), float(np.clip(prediction.confidence, 0.0, 1.0)))
    return tokens


def _still_missing(predicted: dict[str, Prediction], attributes: dict[str, Any]) -> dict[str, Prediction]:
    """Keep a prediction only while the catalogue still leaves that column empty."""
    return {k: v for k, v in predicted.items() if attributes.get(k) in (None, "")}


def _label_columns(rows: Sequence[CatalogRow]) -> list[str]:
    present = {column for row in rows for column in row.attributes}
    return [c for c in LABEL_COLUMNS if c in present]


def fill_in_labels(store: Store, columns: Sequence[str], n_neighbors: int) -> dict[str, int]:
    """Predict each label column for the products that lack it but have a photo; returns counts per column.

    Predicted values are stored in ``Product.predicted`` (with a confidence) and added to
    the product's tokens, so an untagged product is recommended like a tagged one.
    """
    with_photo = sorted(pid for pid, sha in store.product_image_hashes().items() if sha is not None)
    products = [p for p in store.get_products(with_photo) if p.aspects.embedding is not None]
    counts: dict[str, int] = {}
    changed: dict[str, Product] = {}
    for column in columns:
        tagged = [p for p in products if p.attributes.get(column) not in (None, "")]
        untagged = [p for p in products if p.attributes.get(column) in (None, "")]
        if not tagged or not untagged:
            continue
        labels = [str(p.attributes[column]) for p in tagged]
        results = predict_labels([p.aspects for p in tagged], labels, [p.aspects for p in untagged], column,
                                 n_neighbors)
        for product, (value, confidence) in zip(untagged, results):
            product = changed.setdefault(product.id, product)
            product.predicted[column] = Prediction(value, round(confidence, 4))
            product.aspects.tokens = with_predictions(product.aspects.tokens, product.predicted)
        counts[column] = len(untagged)
    if changed:
        with store.transaction() as session:
            for product in changed.values():
                store.upsert_product(product, session=session)
    return counts
