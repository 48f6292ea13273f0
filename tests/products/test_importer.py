"""Catalogue import into a real store: idempotent, bad rows skipped, labels filled in, atomic batches."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from adlens.products.catalog import parse_rows, read_joined
from adlens.products.importer import CatalogImporter
from adlens.products.types import Aspects

COLOURS = {"red": (220, 20, 20), "blue": (20, 20, 220), "green": (20, 200, 20)}


class FakeExtractor:
    """Aspects from the mean colour: photos of one colour embed together (no model needed)."""

    def __init__(self) -> None:
        self.seen = 0

    def load(self) -> FakeExtractor:
        return self

    def extract_batch(self, images: list[np.ndarray]) -> list[Aspects]:
        self.seen += len(images)
        result = []
        for image in images:
            mean = image.reshape(-1, 3).mean(axis=0)[::-1]  # BGR → RGB
            name = min(COLOURS, key=lambda c: np.abs(np.subtract(COLOURS[c], mean)).sum())
            embedding = np.zeros(8, np.float32)
            embedding[list(COLOURS).index(name)] = 1.0
            embedding[3:] = np.random.default_rng(int(mean.sum())).random(5) * 0.1
            result.append(Aspects(concepts={"jersey": 0.6}, colours={name: 1.0},
                                  embedding=embedding / np.linalg.norm(embedding)))
        return result


def catalogue(tmp_path: Path, rows: list[tuple[str, str, str]], bad: tuple[str, ...] = ()) -> tuple[Path, Path]:
    """styles.csv (id,name,baseColour) and images/<id>.png coloured as named (or broken for ``bad``)."""
    images = tmp_path / "images"
    images.mkdir(exist_ok=True)
    lines = ["id,name,baseColour"]
    for product_id, name, colour in rows:
        lines.append(f"{product_id},{name},{colour}")
        path = images / f"{product_id}.png"
        if product_id in bad:
            path.write_bytes(b"\x89PNG\r\n\x1a\n broken")
        else:
            rgb = COLOURS[name.split()[0].lower()]
            Image.fromarray(np.full((16, 16, 3), rgb, np.uint8)).save(path)
    csv_path = tmp_path / "styles.csv"
    csv_path.write_text("\n".join(lines) + "\n")
    return csv_path, images


def run_import(store, csv_path, images, extractor=None):
    rows = list(parse_rows(read_joined(csv_path), images=images, base=csv_path.parent))
    return CatalogImporter(store, extractor or FakeExtractor()).run(rows)


ROWS = [("1", "Red Shirt", "Red"), ("2", "Red Cap", "Red"), ("3", "Blue Shirt", "Blue"),
        ("4", "Blue Jeans", "Blue"), ("5", "Green Bag", "Green"), ("6", "Green Hat", "Green")]


def test_import_is_idempotent_and_reuses_aspects(store, tmp_path):
    csv_path, images = catalogue(tmp_path, ROWS)
    first = run_import(store, csv_path, images)
    assert (first.created, first.updated, first.problems) == (6, 0, [])
    extractor = FakeExtractor()
    again = run_import(store, csv_path, images, extractor)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)
    assert extractor.seen == 0  # same photos: aspects reused, not recomputed
    assert store.count_products() == 6
    product = store.get_product("1")
    assert product.aspects.colours == {"red": 1.0}
    assert product.aspects.tokens["red"] == 1.0 and product.aspects.tokens["shirt"] == 0.5
    assert product.attributes == {"baseColour": "Red"}


def test_reimport_updates_changed_rows(store, tmp_path):
    csv_path, images = catalogue(tmp_path, ROWS)
    run_import(store, csv_path, images)
    csv_path.write_text(csv_path.read_text().replace("Red Cap", "Red Beanie"))
    report = run_import(store, csv_path, images)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 5)
    assert store.get_product("2").name == "Red Beanie"
    assert "beanie" in store.get_product("2").aspects.tokens


def test_corrupt_and_missing_photos_are_reported_and_skipped(store, tmp_path):
    csv_path, images = catalogue(tmp_path, ROWS, bad=("3",))
    (images / "5.png").unlink()
    report = run_import(store, csv_path, images)
    assert report.created == 4
    assert [(p.line, p.id, p.kind) for p in report.problems] == [(4, "3", "bad image"), (6, "5", "missing image")]
    assert store.has_products(["3", "5"]) == set()


def test_untagged_products_get_labels_from_their_neighbours(store, tmp_path):
    rows = ROWS + [("7", "Red Scarf", ""), ("8", "Blue Sock", "")]
    csv_path, images = catalogue(tmp_path, rows)
    report = run_import(store, csv_path, images)
    assert report.predicted == {"baseColour": 2}
    scarf = store.get_product("7")
    assert scarf.predicted["baseColour"].value == "Red"
    assert scarf.label("baseColour") == "Red" and store.get_product("8").label("baseColour") == "Blue"
    assert "red" in scarf.aspects.tokens  # the prediction is an aspect, so recommendations use it
    assert store.get_product("1").predicted == {}


def test_a_failing_batch_leaves_no_half_written_product(store, tmp_path, monkeypatch):
    csv_path, images = catalogue(tmp_path, ROWS)
    calls = {"n": 0}
    real = store.upsert_product

    def flaky(product, session=None):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt  # the user pressed Ctrl-C half-way through the batch
        return real(product, session=session)

    monkeypatch.setattr(store, "upsert_product", flaky)
    with pytest.raises(KeyboardInterrupt):
        run_import(store, csv_path, images)
    assert store.count_products() == 0


def test_photos_stay_found_from_another_working_folder(store, tmp_path, monkeypatch):
    from adlens.media import served_file
    from adlens.settings import Settings

    (tmp_path / "shop").mkdir()
    _, images = catalogue(tmp_path / "shop", ROWS[:2])
    monkeypatch.chdir(tmp_path)
    rows = list(parse_rows(read_joined(Path("shop/styles.csv")), images=Path("shop/images"), base=Path("shop")))
    CatalogImporter(store, FakeExtractor()).run(rows)
    monkeypatch.chdir(tmp_path / "shop" / "images")
    product = store.get_product("1")
    assert Path(product.image).is_absolute() and Path(product.image).is_file()
    settings = Settings(data_dir=tmp_path / "data")
    assert served_file(product.image, settings, store) == (images / "1.png").resolve()
    assert store.media_folders() == {str(images.resolve())}


def test_an_upload_records_no_folder(store, tmp_path):
    csv_path, images = catalogue(tmp_path, ROWS[:1])
    rows = list(parse_rows(read_joined(csv_path), images=images, base=csv_path.parent))
    CatalogImporter(store, FakeExtractor()).run(rows, record_folders=False)
    assert store.media_folders() == set() and store.product_images() == {str(images / "1.png")}
