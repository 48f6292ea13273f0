"""``adlens catalog …`` end to end on real product photos from ../shared/data (real models)."""

from __future__ import annotations

import csv
import json
import shutil

import pytest

from helpers import DATA, need, run_cli as run

FASHION = DATA / "fashion_products_subset"


@pytest.fixture()
def own_store(data_dir):
    """A fresh embedded store for the command under test."""
    return data_dir / "adlens.db"


@pytest.fixture(scope="module")
def mini_catalogue(tmp_path_factory):
    """24 fashion products (4 per article type), one without a tag, one broken photo, one missing photo."""
    need(FASHION)
    root = tmp_path_factory.mktemp("mini")
    with open(FASHION / "styles.csv", newline="", encoding="utf-8") as handle:
        styles = list(csv.DictReader(handle))
    with open(FASHION / "styles_text.csv", newline="", encoding="utf-8") as handle:
        names = [r["productDisplayName"] for r in csv.DictReader(handle)]
    photos = {p.stem for p in (FASHION / "images").iterdir()}
    wanted = {"Tshirts": 4, "Watches": 4, "Sunglasses": 4, "Casual Shoes": 4, "Handbags": 4, "Jeans": 4}
    chosen = []
    for row, name in zip(styles, names):
        if row["id"] in photos and wanted.get(row["articleType"], 0) > 0:
            wanted[row["articleType"]] -= 1
            chosen.append((row, name))
    images = root / "images"
    images.mkdir()
    for row, _ in chosen:
        shutil.copy(FASHION / "images" / f"{row['id']}.jpg", images / f"{row['id']}.jpg")
    (images / "999001.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    fields = list(styles[0])
    untagged, truth = chosen[0][0]["id"], chosen[0][0]["articleType"]
    with open(root / "styles.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(fields)
        for row, _ in chosen:
            writer.writerow(["" if (row["id"], f) == (untagged, "articleType") else row[f] for f in fields])
        writer.writerow(["999001", "Men", "Apparel", "Topwear", "Tshirts", "Red", "Summer", "2012", "Casual"])
        writer.writerow(["999002", "Men", "Apparel", "Topwear", "Tshirts", "Red", "Summer", "2012", "Casual"])
    with open(root / "styles_text.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["productDisplayName"])
        for _, name in chosen:
            writer.writerow([name])
        writer.writerows([["Broken Photo Tee"], ["Missing Photo Tee"]])
    return root, {row["id"]: row["articleType"] for row, _ in chosen}, (untagged, truth)


def import_mini(root, *extra):
    return run("catalog", "import", str(root / "styles.csv"), "--images", str(root / "images"),
               "--join", str(root / "styles_text.csv"), *extra)


def test_import_list_show_aspects_remove(own_store, mini_catalogue, tmp_path):
    root, ids, (untagged, truth) = mini_catalogue
    result = import_mini(root, "--report", str(tmp_path / "report.json"))
    assert result.exit_code == 0, result.output
    assert f"{len(ids)} products imported: {len(ids)} new" in result.stdout
    assert "line 26" in result.output and "line 27" in result.output  # the broken and the missing photo
    report = json.loads((tmp_path / "report.json").read_text())
    assert {(p["id"], p["kind"]) for p in report["problems"]} == {("999001", "bad image"), ("999002", "missing image")}
    assert report["predicted"] == {"articleType": 1}

    again = import_mini(root)
    assert f"{len(ids)} unchanged" in again.stdout

    listed = run("catalog", "list", "--json", "--limit", "100")
    assert sorted(p["id"] for p in json.loads(listed.stdout)) == sorted(ids)

    shown = json.loads(run("catalog", "show", untagged, "--json").stdout)
    assert shown["predicted"]["articleType"]["value"] == truth

    watch = next(i for i, kind in ids.items() if kind == "Watches" and i != untagged)
    shoe = next(i for i, kind in ids.items() if kind == "Casual Shoes" and i != untagged)
    aspects = json.loads(run("catalog", "aspects", watch, "--json").stdout)
    assert aspects["embedding"]["dimensions"] == 1024
    assert any("watch" in concept or "clock" in concept for concept in aspects["concepts"])
    assert "watches" in aspects["tokens"] and aspects["colours"]
    assert "concepts:" in run("catalog", "aspects", watch).stdout

    similar = json.loads(run("similar", shoe, "-k", "3", "--json").stdout)
    assert len(similar) == 3 and shoe not in {s["product"] for s in similar}
    assert [ids[s["product"]] for s in similar] == ["Casual Shoes"] * 3

    assert run("catalog", "remove", watch).exit_code == 0
    gone = run("catalog", "show", watch)
    assert gone.exit_code == 2 and "unknown product" in gone.output


def test_bad_catalogue_files_are_clear_errors(own_store, tmp_path):
    missing = run("catalog", "import", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 2 and "not found" in missing.output
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("sku,name\n1,x\n")
    result = run("catalog", "import", str(wrong))
    assert result.exit_code == 2 and "--id-column" in result.output
    assert run("catalog", "import", str(wrong), "--id-column", "sku").exit_code == 0


def test_photo_paths_do_not_depend_on_the_working_folder(own_store, mini_catalogue, tmp_path, monkeypatch):
    from pathlib import Path

    root, ids, _ = mini_catalogue
    monkeypatch.chdir(root)
    result = run("catalog", "import", "styles.csv", "--images", "images", "--join", "styles_text.csv")
    assert result.exit_code == 0, result.output
    monkeypatch.chdir(tmp_path)
    product = json.loads(run("catalog", "show", next(iter(ids)), "--json").stdout)
    assert Path(product["image"]).is_absolute() and Path(product["image"]).is_file()


def test_import_with_workers_stores_what_one_worker_does(mini_catalogue, tmp_path, monkeypatch):
    from adlens.products import importer
    from adlens.settings import get_settings
    from adlens.store import open_store

    root, ids, _ = mini_catalogue
    monkeypatch.setattr(importer, "BATCH", 8)  # four batches: both workers describe some
    stored = {}
    for workers in ("1", "2"):
        monkeypatch.setenv("ADLENS_DATA_DIR", str(tmp_path / f"data{workers}"))
        get_settings.cache_clear()
        result = import_mini(root, "--workers", workers, "--report", str(tmp_path / f"report{workers}.json"))
        assert result.exit_code == 0, result.output
        products = open_store().get_products(sorted(ids))
        stored[workers] = [(p.id, p.aspects.concepts, p.aspects.colours, p.aspects.tokens, p.predicted,
                            p.aspects.embedding.tolist()) for p in products]
    get_settings.cache_clear()
    assert len(stored["1"]) == len(ids) and stored["1"] == stored["2"]
    assert (tmp_path / "report1.json").read_text() == (tmp_path / "report2.json").read_text()


def test_import_on_ray_stores_what_worker_processes_do(ray_local, mini_catalogue, tmp_path, monkeypatch):
    from adlens.products import importer
    from adlens.settings import get_settings
    from adlens.store import open_store

    root, ids, _ = mini_catalogue
    monkeypatch.setattr(importer, "BATCH", 8)  # four batches: both actors describe some
    stored = {}
    for run_on in (["--workers", "1"], ["--ray", "--workers", "2"]):
        monkeypatch.setenv("ADLENS_DATA_DIR", str(tmp_path / run_on[0]))
        get_settings.cache_clear()
        result = import_mini(root, *run_on, "--report", str(tmp_path / f"report{run_on[0]}.json"))
        assert result.exit_code == 0, result.output
        stored[run_on[0]] = [(p.id, p.aspects.concepts, p.aspects.colours, p.aspects.tokens, p.predicted,
                              p.aspects.embedding.tolist()) for p in open_store().get_products(sorted(ids))]
    get_settings.cache_clear()
    assert len(stored["--workers"]) == len(ids) and stored["--workers"] == stored["--ray"]
    assert (tmp_path / "report--workers.json").read_text() == (tmp_path / "report--ray.json").read_text()
