from __future__ import annotations

import csv
import json

from typer.testing import CliRunner

from adlens.cli import app
from adlens.columns import ATTRIBUTE_BY_NAME
from helpers import DATA, eval_json_by_workers, need

runner = CliRunner()


def link_subset(source, target, per_folder=10):
    for folder in sorted(p for p in source.iterdir() if p.is_dir()):
        (target / folder.name).mkdir(parents=True)
        for path in sorted(folder.glob("*.jpg"))[:per_folder]:
            (target / folder.name / path.name).symlink_to(path)


def test_eval_emotion_json(tmp_path):
    link_subset(need(DATA / "fer2013_privatetest" / "test"), tmp_path / "fer")
    result = runner.invoke(app, ["eval", "emotion", str(tmp_path / "fer"), "--json", str(tmp_path / "e.json")])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "e.json").read_text())
    assert {"accuracy", "n", "per_class", "confusion"} <= set(data) and data["n"] == 70
    assert "accuracy" in result.stdout


def test_eval_emotion_through_the_detector(tmp_path):
    link_subset(need(DATA / "fer2013_privatetest" / "test"), tmp_path / "fer", per_folder=3)
    result = runner.invoke(app, ["eval", "emotion", str(tmp_path / "fer"), "--detect", "--json", str(tmp_path / "e.json")])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "e.json").read_text())
    assert data["mode"] == "pipeline" and data["n"] == 21 and 0 <= data["no_face"] <= 21
    assert {"accuracy_detected", "accuracy_detected_crops"} <= set(data)
    assert "(pipeline)" in result.stdout and "without a detected face" in result.stdout


def test_eval_age_gender_json(tmp_path):
    source = need(DATA / "utkface_random_200" / "data" / "random_200")
    for path in sorted(source.rglob("*.jpg"))[::50]:
        (tmp_path / path.name).symlink_to(path)
    result = runner.invoke(app, ["eval", "age-gender", str(tmp_path), "--json", str(tmp_path / "a.json")])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "a.json").read_text())
    assert {"age_mae", "gender_accuracy", "n", "groups"} <= set(data) and data["n"] == 40


def test_eval_verify_json(tmp_path, faces_small):
    pairs = tmp_path / "pairs.csv"
    with open(pairs, "w", newline="") as handle:
        csv.writer(handle).writerows(
            [["file_x", "file_y", "Decision"], ["obama-240p.jpg", "obama-480p.jpg", "Yes"],
             ["obama-240p.jpg", "train/biden/biden.jpg", "No"]]
        )
    result = runner.invoke(
        app, ["eval", "verify", str(pairs), "--root", str(faces_small), "--json", str(tmp_path / "v.json")]
    )
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "v.json").read_text())
    assert (data["accuracy"], data["tp"], data["fp"], data["fn"], data["tn"]) == (1.0, 1, 0, 0, 1)


def test_eval_emotion_bad_folder_exits_2(tmp_path):
    (tmp_path / "bored").mkdir()
    result = runner.invoke(app, ["eval", "emotion", str(tmp_path)])
    assert result.exit_code == 2 and "bored" in result.output


def test_eval_catalog_master_category_floor(tmp_path):
    """A held-out fifth of 500 fashion photos: masterCategory from the nearest neighbours ≥ 0.85."""
    fashion = need(DATA / "fashion_products_subset")
    result = runner.invoke(app, ["eval", "catalog", str(fashion / "images"), "--labels", str(fashion / "styles.csv"),
                                 "--limit", "500", "--json", str(tmp_path / "c.json")])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "c.json").read_text())
    assert data["n"] == 100 and data["n_train"] == 400
    assert data["master_category_accuracy"] >= 0.85
    for key in ("article_type_accuracy", "colour_accuracy", "sub_category_accuracy", "dominant_colour_accuracy"):
        assert 0 < data[key] <= 1
    assert "masterCategory" in result.stdout


def test_eval_catalog_needs_labelled_photos(tmp_path):
    labels = tmp_path / "styles.csv"
    labels.write_text("id,masterCategory\n1,Apparel\n")
    (tmp_path / "images").mkdir()
    result = runner.invoke(app, ["eval", "catalog", str(tmp_path / "images"), "--labels", str(labels)])
    assert result.exit_code == 2 and "need 10" in result.output


def test_eval_attributes_json(tmp_path):
    data = need(DATA / "face_attributes_utk")
    rows = list(csv.DictReader(open(data / "labels.csv", newline="")))
    chosen = [r for r in rows if r["eyewear"] == "1"][:6] + [r for r in rows if r["eyewear"] == "0"][:14]
    labels = tmp_path / "labels.csv"
    with open(labels, "w", newline="") as handle:
        writer = csv.DictWriter(handle, ["file", "eyewear", "beard", "hat"])
        writer.writeheader()
        writer.writerows(chosen)
    result = runner.invoke(app, ["eval", "attributes", str(data / "images"), "--labels", str(labels),
                                 "--json", str(tmp_path / "a.json")])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "a.json").read_text())
    assert report["eyewear"]["n"] == 20 and report["eyewear"]["positives"] == 6
    assert report["eyewear"]["auc"] >= 0.9
    assert {"auc", "precision", "recall"} <= set(report["beard"]) and "hat" in report
    assert "ROC AUC" in result.stdout
    assert report["training"]["part_of_training"] is False and "part of this model's training" not in result.stdout
    assert report["thresholds"] == {"eyewear": 0.5, "beard": ATTRIBUTE_BY_NAME["beard"].default_threshold,
                                    "hat": ATTRIBUTE_BY_NAME["hat"].default_threshold}


def test_eval_attributes_on_celebahq_says_it_was_part_of_training(tmp_path):
    data = need(DATA / "celebahq_attributes")
    rows = list(csv.DictReader(open(data / "labels.csv", newline="")))
    women = [r for r in rows if r["male"] == "0" and r["hat"] == "0"][:8]
    others = [r for r in rows if r["beard"] == "1" and r["hat"] == "0" and r["male"] == "1"][:4]
    chosen = women + others + [r for r in rows if r["hat"] == "1" and r["male"] == "1"][:4]
    folder = tmp_path / "celebahq_attributes"  # the data set is known by its folder's name
    (folder / "images").mkdir(parents=True)
    with open(folder / "labels.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, ["file", "eyewear", "beard", "hat", "male"])
        writer.writeheader()
        writer.writerows(chosen)
    for row in chosen:
        (folder / "images" / row["file"]).symlink_to(data / "images" / row["file"])
    result = runner.invoke(app, ["eval", "attributes", str(folder / "images"), "--labels", str(folder / "labels.csv"),
                                 "--json", str(tmp_path / "a.json")])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "a.json").read_text())
    assert report["false_alarms"]["beard_on_women"]["faces"] == 8
    assert report["false_alarms"]["hat_on_bare_heads"]["faces"] == 12
    assert report["training"]["part_of_training"] is True
    assert set(report["training"]["cross_validated"]) == {"eyewear", "beard", "hat"}
    output = " ".join(result.stdout.split())
    assert "celebahq_attributes was part of this model's training" in output and "face_attributes_head.md" in output
    assert "false alarms, beard on women:" in output and "false alarms, hat on bare heads:" in output


def test_eval_age_gender_workers_give_the_same_result(tmp_path):
    source = need(DATA / "utkface_random_200" / "data" / "random_200")
    for path in sorted(source.rglob("*.jpg"))[::50][:4]:
        (tmp_path / path.name).symlink_to(path)
    (tmp_path / "30_0_0_broken.jpg").write_text("not a picture")
    results = eval_json_by_workers(tmp_path, "age-gender", str(tmp_path))
    assert results[0] == results[1]
    assert results[0]["n"] == 4 and [s["image"] for s in results[0]["skipped"]] == [str(tmp_path / "30_0_0_broken.jpg")]
