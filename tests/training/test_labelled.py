"""Labelled faces: labels.csv with an optional male column, and the extra faces."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from adlens.errors import InvalidInputError
from adlens.training.labelled import read_labelled_images


def test_a_male_column_is_read_and_unsure_labels_are_nan(tmp_path: Path) -> None:
    (tmp_path / "labels.csv").write_text("file,eyewear,beard,hat,male\n1.jpg,1,,0,0\n2.jpg,0,1,1,\n")
    first, second = read_labelled_images(tmp_path, synthetic=False)
    assert first.path == tmp_path / "images" / "1.jpg" and first.dataset == tmp_path.name
    assert first.labels[0] == 1.0 and math.isnan(first.labels[1]) and first.male == 0.0 and not first.synthetic
    assert second.labels == (0.0, 1.0, 1.0) and math.isnan(second.male)


def test_without_a_male_column_every_face_has_none(tmp_path: Path) -> None:
    (tmp_path / "labels.csv").write_text("file,eyewear,beard,hat\n1.jpg,1,0,0\n")
    (face,) = read_labelled_images(tmp_path)
    assert math.isnan(face.male) and face.synthetic


def test_a_bad_male_value_is_refused_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "labels.csv").write_text("file,eyewear,beard,hat,male\n1.jpg,1,0,0,yes\n")
    with pytest.raises(InvalidInputError, match="line 2: male"):
        read_labelled_images(tmp_path)
