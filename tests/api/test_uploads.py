"""Imports uploaded through the API: they name only their own files, the server sends only allowed files, and
uploads are cleaned up (dry runs, failures, files a re-import no longer uses)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from adlens.products.importer import CatalogImporter
from adlens.products.types import Aspects, Product


class FlatExtractor:
    """Aspects without a model: every photo the same colour."""

    def load(self) -> FlatExtractor:
        return self

    def extract_batch(self, images: list[np.ndarray]) -> list[Aspects]:
        return [Aspects(colours={"red": 1.0}, embedding=np.full(4, 0.5, np.float32)) for _ in images]


def png(colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), colour).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture()
def shop(api):
    api.service.catalog_importer = CatalogImporter(api.store, FlatExtractor(), api.service.settings)
    return api


def upload_catalogue(api, csv: str, photos: dict[str, bytes]):
    files = [("file", ("catalogue.csv", csv.encode(), "text/csv"))]
    files += [("images", (name, data, "image/png")) for name, data in photos.items()]
    return api.post("/v1/catalog", files=files)


def uploads(api, kind: str) -> list[Path]:
    folder = api.service.settings.data_dir / kind
    return sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []


@pytest.fixture()
def secret(tmp_path) -> Path:
    """An image elsewhere on the server, which no upload may name."""
    path = tmp_path / "private" / "secret.png"
    path.parent.mkdir()
    path.write_bytes(png((0, 0, 0)))
    return path


@pytest.mark.parametrize("name", ["{secret}", "../../../../private/secret.png", "{missing}", "../../catalogue.csv"])
def test_catalogue_rows_name_only_uploaded_photos(shop, secret, name):
    name = name.format(secret=secret, missing=secret.with_name("missing.png"))
    response = upload_catalogue(shop, f"id,image\nok,a.png\nbad,{name}\n", {"a.png": png()})
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["imported"] == 1 and [p["id"] for p in report["problems"]] == ["bad"]
    # The same answer whether the file exists or not, and no server folder in it.
    assert report["problems"][0]["reason"] == f"image {name!r} is not one of the uploaded files"
    assert str(shop.service.settings.data_dir) not in response.text


def test_a_media_root_may_be_named(make_api, secret):
    api = make_api(media_roots=str(secret.parent))
    api.service.catalog_importer = CatalogImporter(api.store, FlatExtractor(), api.service.settings)
    response = upload_catalogue(api, f"id,image\nok,{secret}\n", {})
    assert response.json()["imported"] == 1
    assert api.get("/v1/catalog/ok/image", role="analyst").content == secret.read_bytes()


def test_the_photo_route_sends_nothing_from_elsewhere(shop, secret):
    # A row left by an older adlens, whose uploads could name any file on the server.
    shop.store.upsert_product(Product("old", "old", image=str(secret)))
    response = shop.get("/v1/catalog/old/image", role="analyst")
    assert response.status_code == 404 and str(secret) not in response.text
    shop.store.upsert_product(Product("gone", "gone", image=str(secret.with_name("gone.png"))))
    missing = shop.get("/v1/catalog/gone/image", role="analyst")
    # Outside or missing: the same answer.
    assert missing.status_code == 404 and missing.json()["message"] == "product 'gone' has no photo on the server"
    assert response.json()["message"] == "product 'old' has no photo on the server"


def test_a_local_import_is_served_from_any_working_folder(shop, tmp_path, monkeypatch):
    from adlens.products.catalog import parse_rows, read_records

    (tmp_path / "work" / "photos").mkdir(parents=True)
    (tmp_path / "work" / "photos" / "p.png").write_bytes(png())
    (tmp_path / "work" / "catalogue.csv").write_text("id,image\np,photos/p.png\n")
    monkeypatch.chdir(tmp_path / "work")
    rows = parse_rows(read_records(Path("catalogue.csv")), base=Path("."))
    CatalogImporter(shop.store, FlatExtractor(), shop.service.settings).run(rows)
    monkeypatch.chdir(tmp_path)
    response = shop.get("/v1/catalog/p/image", role="analyst")
    assert response.status_code == 200 and response.content == png()


def test_catalogue_uploads_keep_only_the_photos_in_use(shop):
    first = upload_catalogue(shop, "id,image\na,a.png\nb,b.png\n", {"a.png": png(), "b.png": png(), "c.png": png()})
    assert first.json()["imported"] == 2
    kept = uploads(shop, "catalog")
    # The catalogue file and the photo no row names are gone; the products' photos stay and are served.
    assert [p.name for p in kept] == ["a.png", "b.png"]
    assert shop.get("/v1/catalog/a/image", role="analyst").content == png()
    again = upload_catalogue(shop, "id,image\na,a.png\nb,b.png\n", {"a.png": png(), "b.png": png((1, 2, 3))})
    assert again.json()["imported"] == 2
    # The re-import's photos replace the first upload's, which is deleted whole.
    assert len({p.parts[0] for p in uploads(shop, "catalog")}) == 1
    assert len(list((shop.service.settings.data_dir / "catalog").iterdir())) == 1
    assert shop.get("/v1/catalog/b/image", role="analyst").content == png((1, 2, 3))


def test_a_catalogue_file_named_like_the_photos_folder(shop):
    files = [("file", ("images", b"id,image\na,a.png\n", "text/csv")), ("images", ("a.png", png(), "image/png"))]
    assert shop.post("/v1/catalog", files=files).json()["imported"] == 1


def test_a_failed_catalogue_upload_is_deleted(shop):
    response = upload_catalogue(shop, "id,image\n", {"a.png": png()})
    assert response.status_code == 400 and "holds no rows" in response.json()["message"]
    assert str(shop.service.settings.data_dir) not in response.text
    not_utf8 = shop.post("/v1/catalog", files=[("file", ("c.csv", b"id\n\xff\xfe\n", "text/csv"))])
    assert not_utf8.status_code == 400 and "c.csv is not UTF-8" in not_utf8.json()["message"]
    assert str(shop.service.settings.data_dir) not in not_utf8.text
    assert uploads(shop, "catalog") == [] and not any((shop.service.settings.data_dir / "catalog").iterdir())


def test_an_interrupted_upload_is_left_alone_until_abandoned(shop):
    import os

    from adlens.api.uploads import ABANDONED_AFTER, IN_USE, prune_uploads, upload_folder

    busy = upload_folder(shop.service.settings.data_dir, "catalog")
    (busy / "x.png").write_bytes(png())
    assert prune_uploads(busy.parent, shop.store.product_images) == 0 and (busy / "x.png").is_file()
    old = (busy / IN_USE).stat().st_mtime - ABANDONED_AFTER.total_seconds() - 1
    os.utime(busy / IN_USE, (old, old))
    assert prune_uploads(busy.parent, shop.store.product_images) == 2 and not busy.exists()


# --- ads ---------------------------------------------------------------------------------


def upload_ads(api, inventory: str, files: dict[str, bytes], dry_run: bool = False):
    parts = [("inventory", ("ads.yaml", inventory.encode(), "text/yaml"))]
    parts += [("files", (name, data, "image/png")) for name, data in files.items()]
    return api.post("/v1/ads", files=parts, params={"dry_run": dry_run})


def inventory(image: str, ad: str = "shades") -> str:
    return f"ads:\n  - id: {ad}\n    creatives:\n      - id: main\n        image: {image}\n"


@pytest.mark.parametrize("name", ["{secret}", "../../../private/secret.png", "{missing}"])
def test_creatives_name_only_uploaded_files(api, secret, name):
    name = name.format(secret=secret, missing=secret.with_name("missing.png"))
    response = upload_ads(api, inventory(name), {"a.png": png()})
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["created"] == [] and [p["message"] for p in report["problems"]] == [
        f"{name!r} is not one of the uploaded files"]
    assert uploads(api, "ads") == []


def test_ads_uploads_dry_runs_failures_and_re_imports_are_cleaned_up(api, secret):
    assert upload_ads(api, inventory("a.png"), {"a.png": png()}, dry_run=True).json()["created"] == ["shades"]
    assert uploads(api, "ads") == []  # a dry run keeps nothing
    broken = upload_ads(api, "ads: [", {"a.png": png()})
    assert broken.status_code == 400 and str(api.service.settings.data_dir) not in broken.text
    assert uploads(api, "ads") == []
    assert upload_ads(api, inventory("creatives/a.png"), {"a.png": png(), "extra.png": png()}).json()["created"]
    assert [p.name for p in uploads(api, "ads")] == ["a.png"]
    assert api.get("/v1/ads/shades/creatives/main/image", role="screen").content == png()
    assert upload_ads(api, inventory("b.png"), {"b.png": png((1, 2, 3))}).json()["updated"] == ["shades"]
    assert [p.name for p in uploads(api, "ads")] == ["b.png"]
    assert api.get("/v1/ads/shades/creatives/main/image", role="screen").content == png((1, 2, 3))
    assert api.delete("/v1/ads/shades").status_code == 200
    assert uploads(api, "ads") == []  # a removed ad's images go with it


def test_the_creative_route_sends_nothing_from_elsewhere(api, secret):
    from adlens.ads.inventory import validate_ad

    ad = validate_ad({"id": "old", "creatives": [{"id": "main", "image": str(secret)}]})
    api.store.upsert_ad(ad.spec(), [(c.id, i, c.model_dump(mode="json"), None) for i, c in enumerate(ad.creatives)])
    response = api.get("/v1/ads/old/creatives/main/image", role="screen")
    assert response.status_code == 404 and str(secret) not in response.text
