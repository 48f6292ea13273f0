"""The fairness evaluation: UTKFace names, the report of what the pipeline made, a small real folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from adlens.errors import InvalidInputError
from adlens.evaluation.fairness import (Labelled, Outcome, evaluate_fairness, parse_name, report,
                                        trained_on_utkface)
from adlens.settings import get_settings
from adlens.workers import ItemError
from utkface import utk_folder


@pytest.mark.parametrize(("name", "expected"), [
    ("26_1_2_20170116174525125.jpg", (26, 1, 2, "female/asian")),
    ("1_0_4_20161221193016140.jpg.chip.jpg", (1, 0, 4, "male/others")),
    ("100_0_0_20170112213500903.jpg", (100, 0, 0, "male/white")),
    ("39_1_20170116174525125.jpg", None),  # race missing (a known UTKFace misnaming)
    ("30_2_0_20170116174525125.jpg", None),  # gender outside 0-1
    ("30_0_5_20170116174525125.jpg", None),  # race outside 0-4
    ("30_0_1.jpg", None),
    ("photo.jpg", None),
    ("1000_0_1_2017.jpg", None),
])
def test_parse_name(name, expected):
    labelled = parse_name(Path("x") / name)
    if expected is None:
        assert labelled is None
    else:
        assert (labelled.age, labelled.gender, labelled.ethnicity, labelled.group) == expected


def test_report_counts_what_could_not_be_read():
    rng = np.random.default_rng(0)
    photos = [Labelled(Path(f"{20 + k}_{k % 2}_{k % 5}_1.jpg"), 20 + k, k % 2, k % 5) for k in range(12)]
    results: list[Outcome | ItemError] = [Outcome(21.0 + k, ("male", "female")[k % 2], rng.normal(size=128))
                                          for k in range(10)]
    results += [Outcome(30.0, "female", None), ItemError("cannot decode")]
    result = report(photos, results, get_settings(), ["bad.jpg"])
    assert result["n"] == 11 and result["n_files"] == 13 and result["overall"]["no_face"] == 1
    assert result["overall"]["age_mae"] == pytest.approx(10 / 11)  # one year off on ten, exact on the eleventh
    assert result["skipped"] == [{"image": str(photos[-1].path), "error": "cannot decode"}]
    assert result["bad_names"] == ["bad.jpg"] and result["false_matches"]["faces"] == 10
    assert result["models"]["age"] == get_settings().age_model
    assert set(result["trained_on_utkface"]) <= {result["models"]["age"], result["models"]["gender"]}
    json.dumps(result)


def test_report_needs_one_readable_photo():
    with pytest.raises(InvalidInputError, match="could be read"):
        report([Labelled(Path("1_0_0_1.jpg"), 1, 0, 0)], [ItemError("broken")], get_settings(), [])


def test_a_folder_without_utkface_names(tmp_path):
    (tmp_path / "holiday.jpg").write_bytes(b"")
    with pytest.raises(InvalidInputError, match="UTKFace-named"):
        evaluate_fairness(tmp_path)


def test_fairness_on_a_small_folder(tmp_path):
    result = evaluate_fairness(utk_folder(tmp_path))
    assert result["n"] == 10 and len(result["groups"]) == 10
    assert result["bad_names"] == [str(tmp_path / "holiday.jpg")] and len(result["skipped"]) == 1
    assert result["gaps"] == {"gender_accuracy": None, "age_mae": None}  # no group of 40
    assert 0 <= result["overall"]["gender_accuracy"] <= 1 and result["overall"]["age_mae"] < 30
    matches = result["false_matches"]
    assert matches["all"]["pairs"] == matches["faces"] * (matches["faces"] - 1) // 2
    json.dumps(result)


def test_models_trained_on_utkface_are_named():
    assert trained_on_utkface(["age-mobilenet", "gender-mini-xception", "not-in-the-registry"]) == ["age-mobilenet"]
