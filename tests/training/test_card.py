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
                   "synthetic_weight": 0.1, "C": 0.01, "folds": 4, "mirror": True, "bootstrap": 200,
                   "false_alarm_rate": 0.025},
        "command": "adlens train attributes --data data --seed 3",
        "counts": {"real": 80, "extra": 4, "sunglasses": 10, "cap": 6, "no_face": 2, "synthetic_no_face": 1,
                   "accessories": {"sunglasses": 12, "cap": 7}, "synthetic_share": 0.16, "training_rows": 200},
        "datasets": ["face_attributes_utk", "celebahq_attributes"],
        "cross_validation": {
            "recipe": {
                "face_attributes_utk": {"eyewear": metrics(0.912, 20, 60, auc_synthetic_sunglasses_vs_real_negatives=0.88),
                        "beard": metrics(0.801, 10, 70, precision=None),
                        "hat": metrics(0.7, 5, 75, auc_synthetic_cap_vs_real_negatives=0.95),
                        "false_alarms": {"hat_on_bare_heads": {"rate": 0.0133, "faces": 75, "threshold": 0.6}}},
                "celebahq_attributes": {
                    "eyewear": metrics(0.99, 30, 70), "beard": metrics(0.98, 40, 50), "hat": metrics(0.985, 10, 90),
                    "false_alarms": {"beard_on_women": {"rate": 0.025, "faces": 40, "threshold": 0.65},
                                     "hat_on_bare_heads": {"rate": 0.0111, "faces": 90, "threshold": 0.6}}},
            },
            "apart": {
                "face_attributes_utk": {"eyewear": metrics(0.95, 20, 60), "beard": metrics(0.9, 10, 70), "hat": metrics(0.8, 5, 75)},
                "celebahq_attributes": {"eyewear": metrics(0.97, 30, 70), "beard": metrics(0.85, 40, 50),
                                        "hat": metrics(0.9, 10, 90)},
            },
        },
        "thresholds": {"eyewear": 0.5, "beard": 0.65, "hat": 0.6},
        "calibration": {
            name: {"slope": 0.5, "intercept": -1.25,
                   "face_attributes_utk": {"before": {"brier": 0.2, "ece": 0.3}, "after": {"brier": 0.05, "ece": 0.02, "bins": []}},
                   "celebahq_attributes": {"before": {"brier": 0.1, "ece": 0.2},
                                           "after": {"brier": 0.04, "ece": 0.01, "bins": []}}}
            for name in ("eyewear", "beard", "hat")
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
    "expected",
    [
        "| face_attributes_utk | eyewear | 0.912 (0.862–0.942) | – | 0.950 (0.900–0.980) | 0.5 | 0.500 | 0.750 | 20 / 60 | sunglasses 0.880 |",
        "| face_attributes_utk | beard | 0.801 (0.751–0.831) | – | 0.900 (0.850–0.930) | 0.65 | – | 0.750 | 10 / 70 | – |",
        "| celebahq_attributes | hat | 0.985 (0.935–1.000) | – | 0.900 (0.850–0.930) | 0.6 | 0.500 | 0.750 | 10 / 90 | – |",
        "| celebahq_attributes | folds together | beard on women | 0.65 | 2.5% | 40 |",
        "| face_attributes_utk | folds together | hat on bare heads | 0.6 | 1.3% | 75 |",
        "| beard | celebahq_attributes | 0.500, -1.250 | 0.1000 → 0.0400 | 0.200 → 0.010 |",
    ],
)
def test_metric_rows(expected: str) -> None:
    assert expected in model_card(report()).splitlines()


def test_licences_and_thresholds() -> None:
    card = model_card(report())
    assert "CC BY-NC 4.0" in card and "CelebA: **non-commercial research and educational use only**" in card
    assert "eyewear 0.5, beard 0.65, hat 0.6" in card and "at most\n2.5% of women" in card
    assert "| `celebahq_attributes` | 100 CelebA-HQ" in card and "| `face_attributes_utk` | 80 UTKFace" in card
    assert "Identities repeat" in card


def test_counts_and_shares() -> None:
    card = model_card(report())
    # 16 synthetic rows at weight 0.1 against 84 real ones: 1.6 / 85.6 = 2% of the weight.
    assert "| 80 | 4 | 10 | 6 | 16% of rows, 2% of the weight (0.1 per row) | 2 real, 1 synthetic (left out) |" in card
    assert "Real positives: eyewear 50, beard 50, hat 15." in card
    assert "12 Sunglasses and 7 Caps (bandanas left out) product photos" in card
    assert "| `faces_small` | 4 photos" in card
    assert "together (prevalence here eyewear 27.8%, beard 29.4%, hat 8.3%)" in card
    assert "15 real hat positives" in card and "50 real positives; CelebA" in card
    assert "4 folds over every" in card and "(seed 3)" in card and "(200 resamples\nof faces)" in card
    assert "1.5 synthetic face(s)" in card
    assert "Training took 18 s (12 s for the examples)." in card


def test_what_the_synthetic_examples_change() -> None:
    card = model_card(report(cross_validation__without_synthetic={"face_attributes_utk": {
        "eyewear": metrics(0.9, 20, 60, auc_synthetic_sunglasses_vs_real_negatives=0.6), "beard": metrics(0.8, 10, 70),
        "hat": metrics(0.65, 5, 75, auc_synthetic_cap_vs_real_negatives=0.55)}}))
    assert ("**What the synthetic examples change** (without → with): eyewear on face_attributes_utk: real faces 0.900 → 0.912, "
            "held-out synthetic sunglasses 0.600 → 0.880; hat on face_attributes_utk: real faces 0.650 → 0.700, held-out synthetic "
            "cap 0.550 → 0.950.") in card
    assert "| face_attributes_utk | eyewear | 0.912 (0.862–0.942) | 0.900 (0.850–0.930) |" in card


@pytest.mark.parametrize(
    ("changes", "present", "absent"),
    [
        ({"cross_validation__apart": None}, ["| face_attributes_utk | eyewear | 0.912 (0.862–0.942) | – | – |"],
         ["What the synthetic examples change", "trained on the other data sets |"]),
        ({"recipe__mirror": False}, ["Training rows:"], ["each also mirrored"]),
        ({"recipe__mirror": True}, ["Training rows (each also mirrored left to right):"], []),
        ({"counts__accessories": {}}, ["| no product photos cut off"], ["Sunglasses and"]),
        ({"onnx": None}, ["`face_attributes_head.onnx`, 0 bytes, sha256 `?`"], []),
        ({"counts__sunglasses": 0, "counts__cap": 0}, ["| 80 | 4 | 0 | 0 | 16% of rows, 0% of the weight"], []),
        ({"calibration": None}, [], ["Platt scaling on"]),
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
