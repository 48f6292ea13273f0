"""The generated model card: every number comes from the training report, and missing parts read as such."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from adlens.training.card import model_card


def metrics(auc: float, positives: int, negatives: int, precision: float | None = 0.5, **synthetic: float
            ) -> dict[str, Any]:
    return {"auc": auc, "auc_ci95": [auc - 0.05, min(auc + 0.03, 1.0)], "precision": precision, "recall": 0.75,
            "positives": positives, "negatives": negatives, **synthetic}


def report(**changes: Any) -> dict[str, Any]:
    """A small training report as :func:`~adlens.training.recipe.train_attribute_head` writes it.

    ``changes`` set values by path (``counts__real=3``); ``None`` removes the entry.
    """
    base: dict[str, Any] = {
        "model": "face-attributes-head", "version": "1", "adlens_version": "9.9.9", "trained": "2026-01-02T03:04:05Z",
        "outputs": ["eyewear", "beard", "hat"], "features": "mobilenet features of the crop", "dimensions": 2048,
        "recipe": {"data": "data", "products": "products", "extra": None, "seed": 3, "synthetic_per_face": 1.5,
                   "synthetic_weight": 0.1, "C": 0.01, "folds": 4, "mirror": True, "bootstrap": 200},
        "command": "adlens train attributes --data data --seed 3",
        "counts": {"real": 80, "extra": 4, "sunglasses": 10, "cap": 6, "no_face": 2, "synthetic_no_face": 1,
                   "accessories": {"sunglasses": 12, "cap": 7}, "synthetic_share": 0.16, "training_rows": 200},
        "cross_validation": {
            "recipe": {"eyewear": metrics(0.912, 20, 60, auc_synthetic_sunglasses_vs_real_negatives=0.88),
                       "beard": metrics(0.801, 10, 70, precision=None),
                       "hat": metrics(0.7, 5, 75, auc_synthetic_cap_vs_real_negatives=0.95)},
            "without_synthetic": {"eyewear": metrics(0.9, 20, 60, auc_synthetic_sunglasses_vs_real_negatives=0.6),
                                  "beard": metrics(0.8, 10, 70),
                                  "hat": metrics(0.65, 5, 75, auc_synthetic_cap_vs_real_negatives=0.55)},
        },
        "seconds": {"examples": 12.3, "cross_validation": 4.0, "total": 17.6},
        "onnx": {"file": "face_attributes_head.onnx", "sha256": "ab" * 32, "bytes": 12345},
    }
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = base
        for key in parents:
            node = node[key]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return base


def test_header_names_the_file_its_hash_and_versions() -> None:
    card = model_card(report())
    assert card.startswith("# face-attributes-head: eyewear, beard and hat (trained by adlens)\n")
    assert f"`face_attributes_head.onnx`, 12,345 bytes, sha256 `{'ab' * 32}`" in card
    assert "version 1, trained 2026-01-02T03:04:05Z with adlens 9.9.9." in card
    assert "(C = 0.01,\nbalanced classes)" in card
    assert "```\nadlens train attributes --data data --seed 3 --out src/adlens/weights\n```" in card


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("eyewear",
         "| eyewear | 0.912 (0.862–0.942) | 0.900 (0.850–0.930) | 0.500 | 0.750 | 20 / 60 | sunglasses 0.880 |"),
        ("beard", "| beard | 0.801 (0.751–0.831) | 0.800 (0.750–0.830) | – | 0.750 | 10 / 70 | – |"),
        ("hat", "| hat | 0.700 (0.650–0.730) | 0.650 (0.600–0.680) | 0.500 | 0.750 | 5 / 75 | cap 0.950 |"),
    ],
)
def test_metric_rows(row: str, expected: str) -> None:
    assert expected in model_card(report()).splitlines()


def test_counts_and_shares() -> None:
    card = model_card(report())
    # 16 synthetic rows at weight 0.1 against 84 real ones: 1.6 / 85.6 = 2% of the weight.
    assert "| 80 | 4 | 10 | 6 | 16% of rows, 2% of the weight (0.1 per row) | 2 real, 1 synthetic (left out) |" in card
    assert "Real positives: eyewear 20, beard 10, hat 5." in card
    assert "12 Sunglasses and 7 Caps (bandanas left out) product photos" in card
    assert "| `faces_small` | 4 photos" in card
    assert "at real\n  prevalence (here eyewear 25.0%, beard 12.5%, hat 6.2%)" in card
    assert "Only 5 real hat positives" in card and "from the 20 real positives alone" in card
    assert "4-fold cross-validation" in card and "(seed 3)" in card and "(200 resamples of faces)" in card
    assert "1.5 synthetic face(s)" in card
    assert "Training took 18 s (12 s for the examples)." in card


def test_what_the_synthetic_examples_change() -> None:
    card = model_card(report())
    assert ("**What the synthetic examples change** (without → with): eyewear: real faces 0.900 → 0.912, held-out "
            "synthetic sunglasses 0.600 → 0.880; hat: real faces 0.650 → 0.700, held-out synthetic cap 0.550 → 0.950.")\
        in card


@pytest.mark.parametrize(
    ("changes", "present", "absent"),
    [
        ({"cross_validation__without_synthetic": None}, ["| eyewear | 0.912 (0.862–0.942) | – |"],
         ["What the synthetic examples change"]),
        ({"recipe__mirror": False}, ["Training rows:"], ["each also mirrored"]),
        ({"recipe__mirror": True}, ["Training rows (each also mirrored left to right):"], []),
        ({"counts__accessories": {}}, ["| no product photos cut off"], ["Sunglasses and"]),
        ({"onnx": None}, ["`face_attributes_head.onnx`, 0 bytes, sha256 `?`"], []),
        ({"counts__sunglasses": 0, "counts__cap": 0}, ["| 80 | 4 | 0 | 0 | 16% of rows, 0% of the weight"], []),
    ],
)
def test_missing_and_optional_parts(changes: dict[str, Any], present: list[str], absent: list[str]) -> None:
    card = model_card(report(**changes))
    for text in present:
        assert text in card
    for text in absent:
        assert text not in card


@pytest.mark.parametrize(
    "path",
    ["counts", "recipe", "cross_validation", "outputs", "seconds", "counts__real", "counts__accessories",
     "cross_validation__recipe", "recipe__synthetic_weight"],
)
def test_a_report_missing_a_required_part_is_refused(path: str) -> None:
    with pytest.raises(KeyError):
        model_card(report(**{path: None}))


def test_the_card_does_not_change_the_report() -> None:
    original = report()
    kept = copy.deepcopy(original)
    model_card(original)
    assert original == kept
