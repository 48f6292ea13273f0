"""``adlens customers|feedback|recommend|segments`` end to end over an embedded store."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from adlens.products.types import Aspects, Product
from helpers import DATA, MODELS, need, run_cli as run



@pytest.fixture()
def catalogue(data_dir):
    """Nine synthetic products in a fresh embedded store: red sneakers, blue sandals, black bags."""
    from adlens.store import open_store

    store = open_store()
    for n, (colour, kind) in enumerate([("red", "sneakers"), ("blue", "sandals"), ("black", "bag")] * 3):
        embedding = np.eye(3, dtype=np.float32)[n % 3]
        store.upsert_product(Product(f"p{n}", f"{colour} {kind}", aspects=Aspects(
            colours={colour: 1.0}, tokens={colour: 1.0, kind: 1.0}, embedding=embedding)))
    return store


def test_feedback_then_recommend_with_reasons(catalogue, tmp_path):
    assert "added: ann" in run("customers", "add", "ann").stdout
    assert run("feedback", "add", "ann", "p0", "like").exit_code == 0
    result = run("recommend", "ann", "-k", "2", "--json")
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)
    assert {i["product"] for i in items} == {"p3", "p6"}
    assert set(items[0]) == {"product", "score", "reasons"}
    assert "red" in items[0]["reasons"][0] and "sneakers" in items[0]["reasons"][0]
    assert "liked: " in run("recommend", "ann").stdout
    shown = json.loads(run("customers", "show", "ann", "--json").stdout)
    assert shown["feedback_count"] == 1 and shown["profile"]["likes"][0][0] in {"red", "sneakers"}


def test_cold_start_is_said(catalogue):
    run("customers", "add", "new")
    result = run("recommend", "new")
    assert result.exit_code == 0 and "cold start" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [(("feedback", "add", "ghost", "p0", "like"), "unknown customer 'ghost'"),
     (("feedback", "add", "ann", "nope", "like"), "unknown product 'nope'"),
     (("feedback", "add", "ann", "p0", "love"), "'like' or 'dislike'"),
     (("recommend", "ghost"), "unknown customer"),
     (("similar", "nope"), "unknown product")],
)
def test_unknown_ids_and_bad_answers_exit_2(catalogue, args, message):
    run("customers", "add", "ann")
    result = run(*args)
    assert result.exit_code == 2 and message in result.output


def test_batch_feedback_segments_and_erasure(catalogue, tmp_path):
    lines = ["customer,product,feedback"]
    for c in range(9):
        lines += [f"c{c},p{c % 3},like", f"c{c},p{c % 3 + 3},like", f"c{c},p{(c + 1) % 3},dislike"]
    lines += ["c0,p99,like", "c1,p0,maybe"]
    path = tmp_path / "feedback.csv"
    path.write_text("\n".join(lines) + "\n")
    result = run("feedback", "import", str(path), "--create-customers")
    assert result.exit_code == 0, result.output
    assert "27 answers recorded for 9 customers; 2 rows skipped" in result.stdout
    assert "line 29" in result.output and "line 30" in result.output

    plot = tmp_path / "segments.png"
    segments = run("segments", "--plot", str(plot), "--json")
    assert segments.exit_code == 0, segments.output
    data = json.loads(segments.stdout)
    assert data["n_segments"] == 3 and sorted(s["size"] for s in data["segments"]) == [3, 3, 3]
    assert plot.stat().st_size > 1000
    listed = json.loads(run("customers", "list", "--json").stdout)
    assert all(c["segment"] is not None for c in listed)

    assert run("customers", "remove", "c0").exit_code == 0
    assert "c0" not in catalogue.customer_ids()
    assert all(fb.customer != "c0" for c in ("c1",) for fb in catalogue.feedback_for(c))
    assert catalogue.count_feedback() == 24


def test_shuffle_asks_one_by_one_and_learns(catalogue):
    result = run("shuffle", "zoe", "--rounds", "4", input="l\nd\ns\nq\n")
    assert result.exit_code == 0, result.output
    assert "new customer zoe" in result.stdout and result.stdout.count("[l]ike") == 4
    customer = catalogue.get_customer("zoe")
    assert customer.feedback_count == 2
    assert [fb.value for fb in catalogue.feedback_for("zoe")] == [1, -1]
    assert "likes: " in result.stdout


def test_recommend_face_and_analyze_recommend(catalogue, tmp_path):
    data = need(DATA / "face_attributes_utk")
    rows = list(csv.DictReader(open(data / "labels.csv", newline="")))
    glasses = next(r["file"] for r in rows if r["eyewear"] == "1" and r["hat"] == "0")
    for n, (colour, kind) in enumerate([("black", "sunglasses"), ("brown", "sunglasses"), ("red", "caps")]):
        catalogue.upsert_product(Product(f"s{n}", f"{colour} {kind}", aspects=Aspects(tokens={colour: 1.0, kind: 1.0})))
    result = run("recommend-face", str(data / "images" / glasses), "--json")
    assert result.exit_code == 0, result.output
    (face,) = json.loads(result.stdout)
    assert face["attributes"]["eyewear"] > 0.5
    assert {p["product"] for p in face["products"]} >= {"s0", "s1"}
    assert face["products"][0]["reasons"][0].startswith("wears eyewear: p = ")

    out = tmp_path / "out"
    analysed = run("analyze", str(data / "images" / glasses), "--out", str(out), "--recommend")
    assert analysed.exit_code == 0, analysed.output
    record = json.loads((out / "results.jsonl").read_text().splitlines()[0])
    assert record["products"][0]["products"][0]["product"] in {"s0", "s1"}
    assert len(list(out.glob("*.jpg"))) == 1


def test_recommend_face_needs_a_face(catalogue, tmp_path):
    from PIL import Image

    need(MODELS)  # the face models load before the photo is read
    blank = tmp_path / "blank.png"
    Image.new("RGB", (64, 64), "white").save(blank)
    result = run("recommend-face", str(blank))
    assert result.exit_code == 1 and "no face" in result.output
