"""Threshold calibration: pairs, FAR/FRR, the recommendation rule, and folder embedding (stub analyser)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from adlens.errors import InvalidInputError
from adlens.gallery.calibration import THRESHOLDS, Faceset, calibrate, embed_folders, pair_distances, rates
from adlens.pipeline import Analysis
from builders import make_faces


def unit(*values: float) -> np.ndarray:
    """A 128-d vector starting with ``values``."""
    vector = np.zeros(128, np.float32)
    vector[: len(values)] = values
    return vector


def test_pairs_and_groups() -> None:
    faceset = Faceset({"a": np.stack([unit(0), unit(0.3)]), "b": np.stack([unit(1)])},
                      np.stack([unit(0, 2), unit(0, 3), unit(0, 5)]), ["g1", "g1", "g2"])
    genuine, impostor, groups = pair_distances(faceset)
    assert np.allclose(genuine, [0.3])
    assert len(impostor) == 2 + 3 * 3 and list(groups[:2]) == ["", ""]
    assert sorted(groups[2:]) == ["g1"] * 6 + ["g2"] * 3
    _, with_strangers, groups = pair_distances(faceset, distinct_strangers=True)
    assert len(with_strangers) == 11 + 3 and list(groups[-3:]) == ["g1", "", ""]
    assert np.isclose(with_strangers[-3], 1.0)  # the two g1 strangers: (0, 2) and (0, 3)


@pytest.mark.parametrize(("threshold", "far", "frr"), [(0.1, 0.0, 1.0), (0.5, 0.25, 0.5), (0.9, 0.75, 0.0)])
def test_rates(threshold, far, frr) -> None:
    assert rates(np.array([0.3, 0.6]), np.array([0.2, 0.8, 0.85, 0.95]), threshold) == (far, frr)


def test_threshold_where_far_reaches_the_target() -> None:
    rng = np.random.default_rng(0)
    genuine, impostor = rng.uniform(0.2, 0.45, 50), rng.uniform(0.65, 1.1, 5000)
    report = calibrate(genuine, impostor, current=0.6)
    best, ranked = report["recommended"], np.sort(impostor)
    # FAR may reach 0.1%: 5 of 5,000 impostors; every threshold up to the 6th scores the same
    assert best["range"] == [round(ranked[4], 4), round(ranked[5], 4)]
    assert np.isclose(best["threshold"], (ranked[4] + ranked[5]) / 2, atol=1e-4)
    assert (best["far"], best["frr"]) == (0.001, 0.0) and best["rule"].startswith("lowest FRR")
    assert [row["threshold"] for row in report["table"]] == list(THRESHOLDS)
    assert report["current"] == {"threshold": 0.6, "far": 0.0, "frr": 0.0}
    assert report["genuine_pairs"] == 50 and report["impostor_distance"]["min"] == round(impostor.min(), 4)


def test_frr_is_lowest_that_keeps_the_far_target() -> None:
    genuine = np.linspace(0.3, 0.6, 31)
    impostor = np.r_[0.35, 0.455, np.linspace(0.7, 1.0, 1000)]  # 2 of 1,002 under 0.5: 0.2%
    best = calibrate(genuine, impostor, current=0.6)["recommended"]
    assert best["far"] <= 0.001 and 0.449 < best["threshold"] < 0.455
    assert best["frr"] == rates(genuine, impostor, 0.452)[1] == 15 / 31


def test_unreachable_target_falls_back_to_equal_error() -> None:
    report = calibrate(np.array([0.5, 0.6, 0.7]), np.array([0.4, 0.55, 0.65]), current=0.6)
    assert report["recommended"]["rule"].startswith("equal error")
    assert report["recommended"]["threshold"] >= report["equal_error"]["threshold"]


@pytest.mark.parametrize(("genuine", "impostor"), [([], [0.9]), ([0.3], [])])
def test_needs_both_kinds_of_pairs(genuine, impostor) -> None:
    with pytest.raises(InvalidInputError, match="genuine and impostor"):
        calibrate(np.array(genuine), np.array(impostor), 0.6)


class StubAnalyzer:
    """Faces per file name, no models: ``big+small`` → two faces, ``none`` → no face."""

    def analyze_file(self, path: Path):
        stem = path.stem
        if stem == "none":
            return Analysis(str(path)), None
        if stem == "broken":
            return Analysis(str(path), error="not an image"), None
        if stem == "big+small":
            return Analysis(str(path), faces=make_faces([[0, 0, 80, 80], [0, 0, 20, 20]], [unit(1), unit(9)])), None
        return Analysis(str(path), faces=make_faces(1, [unit(float(len(stem)))])), None


def test_embed_folders(tmp_path) -> None:
    for name in ("people/ann/a.jpg", "people/ann/big+small.jpg", "people/bob/bb.jpg", "people/bob/none.jpg",
                 "strangers/g1/x.jpg", "strangers/g2/big+small.jpg", "strangers/broken.jpg"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    faceset = embed_folders(tmp_path / "people", tmp_path / "strangers", StubAnalyzer())
    assert sorted(faceset.people) == ["ann", "bob"]
    assert [v[0] for v in faceset.people["ann"]] == [1.0, 1.0]  # the largest face of big+small
    assert len(faceset.people["bob"]) == 1 and len(faceset.strangers) == 3
    assert faceset.stranger_groups == ["g1", "g2", "g2"]
    assert sorted(Path(s["image"]).name for s in faceset.skipped) == ["broken.jpg", "none.jpg"]


def test_embed_folders_needs_people(tmp_path) -> None:
    with pytest.raises(InvalidInputError, match="no person sub-folders"):
        embed_folders(tmp_path, None, StubAnalyzer())
