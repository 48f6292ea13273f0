"""Verification accuracy on labelled pairs, and the pairs CSV's contract."""

from __future__ import annotations

import csv

import pytest

from adlens.errors import InvalidInputError
from adlens.evaluation.verification import evaluate_verification, read_pairs


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
