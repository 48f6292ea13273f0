"""Accuracy floors on ../shared/data, and the evaluation functions' contracts."""

from __future__ import annotations

import csv
import json

import pytest

from adlens.errors import InvalidInputError
from adlens.evaluation import evaluate_age_gender, evaluate_emotion, evaluate_verification, read_pairs
from adlens.faces import EMOTIONS
from helpers import DATA, need


@pytest.mark.slow
def test_emotion_floor_on_fer2013_privatetest():
    result = evaluate_emotion(need(DATA / "fer2013_privatetest" / "test"))
    assert result["n"] == 3589
    assert result["accuracy"] >= 0.65
    assert set(result["per_class"]) == set(EMOTIONS)
    assert sum(map(sum, result["confusion"])) == result["n"]
    json.dumps(result)


@pytest.mark.slow
def test_gender_floor_on_utkface_random_200():
    result = evaluate_age_gender(need(DATA / "utkface_random_200"))
    assert result["n"] == 2000
    assert result["gender_accuracy"] >= 0.90
    assert result["age_mae"] < 10
    assert len(result["groups"]) == 10 and all(g["n"] == 200 for g in result["groups"].values())
    json.dumps(result)


def test_age_gender_through_the_pipeline(tmp_path):
    source = need(DATA / "utkface_random_200" / "data" / "random_200")
    for path in sorted(source.rglob("*.jpg"))[::100]:
        (tmp_path / path.name).symlink_to(path)
    (tmp_path / "not_utk.jpg").write_bytes(b"")
    result = evaluate_age_gender(tmp_path, detect=True)
    assert result["mode"] == "pipeline" and result["n"] == 20
    assert result["ignored_names"] == [str(tmp_path / "not_utk.jpg")]


def test_emotion_folder_must_use_class_names(tmp_path):
    (tmp_path / "happy").mkdir()
    (tmp_path / "bored").mkdir()
    with pytest.raises(InvalidInputError, match="bored"):
        evaluate_emotion(tmp_path)


def test_emotion_skips_unreadable_files(tmp_path):
    fer = need(DATA / "fer2013_privatetest" / "test")
    for label in ("happy", "sad"):
        (tmp_path / label).mkdir()
        for path in sorted((fer / label).glob("*.jpg"))[:5]:
            (tmp_path / label / path.name).symlink_to(path)
    (tmp_path / "sad" / "broken.jpg").write_text("not an image")
    result = evaluate_emotion(tmp_path)
    assert result["n"] == 10 and len(result["skipped"]) == 1
    assert result["per_class"]["angry"] == {"n": 0, "recall": None}


def write_pairs(path, rows):
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file_x", "file_y", "Decision"])
        writer.writerows(rows)


def test_verification_on_faces_small(tmp_path, faces_small):
    pairs = tmp_path / "pairs.csv"
    write_pairs(
        pairs,
        [
            ("train/obama/obama.jpg", "obama-480p.jpg", "Yes"),
            ("train/biden/biden.jpg", "train/biden/biden2.jpg", "Yes"),
            ("train/obama/obama.jpg", "train/biden/biden.jpg", "No"),
            ("train/rose_leslie/img1.jpg", "test/johnsnow_test1.jpg", "No"),
            ("train/obama/obama.jpg", "missing.jpg", "Yes"),
        ],
    )
    result = evaluate_verification(pairs, faces_small)
    assert (result["tp"], result["fp"], result["fn"], result["tn"]) == (2, 0, 0, 2)
    assert result["accuracy"] == 1.0 and result["n"] == 5 and result["judged"] == 4
    assert result["no_face"][0]["file_y"] == "missing.jpg"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a,b\n1,2\n", "missing column"),
        ("file_x,file_y,Decision\na.jpg,b.jpg,maybe\n", "Yes or No"),
        (b"\xff\xfe\x00garbage", "cannot read"),
    ],
)
def test_read_pairs_rejects_malformed_csv(tmp_path, content, message):
    path = tmp_path / "pairs.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(InvalidInputError, match=message):
        read_pairs(path)
