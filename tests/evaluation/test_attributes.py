"""Labels of the attribute evaluation, and what it says about the model's training data."""

from __future__ import annotations

from pathlib import Path

import pytest

from adlens.errors import InvalidInputError
from adlens.evaluation.attributes import _training, read_attribute_labels, read_male_labels
from helpers import MODELS, need


def test_celebahq_layout_is_read(tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("file,eyewear,beard,hat,male\n1.jpg,0,,1,0\n2.jpg,1,1,0,1\n3.jpg,0,0,0,\n")
    assert read_attribute_labels(labels)["1.jpg"] == {"eyewear": 0, "beard": None, "hat": 1}
    assert read_male_labels(labels) == {"1.jpg": 0, "2.jpg": 1}


def test_without_a_male_column_there_are_none(tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("file,eyewear,beard,hat\n1.jpg,0,0,1\n")
    assert read_male_labels(labels) == {}
    labels.write_text("file,eyewear,beard,hat,male\n1.jpg,0,0,1,2\n")
    with pytest.raises(InvalidInputError, match="male must be 1, 0 or empty"):
        read_male_labels(labels)


def test_the_shipped_model_names_its_training_sets() -> None:
    need(MODELS)
    from adlens.attributes.face_attributes import FaceAttributes

    model = FaceAttributes()
    trained = _training(model, "celebahq_attributes")
    assert trained["part_of_training"] is True and trained["card"] == "face_attributes_head.md"
    assert set(trained["trained_on"]) == {"face_attributes_utk", "celebahq_attributes"}
    assert trained["cross_validated"]["beard"] >= 0.95
    assert _training(model, "my_photos")["part_of_training"] is False
