"""The training recipe on tiny synthetic examples: the command line, the report, and the saved files.

No model runs here: the featuriser and the example builder are replaced by stand-ins that
return 16-d features, so the real cross-validation and head fit take well under a second.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest

import adlens.training.recipe as recipe
from adlens.errors import InvalidInputError
from adlens.training.attributes import Examples
from adlens.training.labelled import LabelledImage
from adlens.training.card import model_card
from adlens.training.recipe import HEAD_FILENAME, AttributeTraining, save_attribute_head, train_attribute_head

DIMENSIONS = 16


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (AttributeTraining(Path("utk")),
         "adlens train attributes --data utk --no-more-data --no-extra --seed 0 --synthetic-per-face 0 "
         "--synthetic-weight 0.1 --data-weight 2 --C 0.001 --folds 5"),
        (AttributeTraining(Path("d"), (Path("c"), Path("e")), products=Path("p"), extra=Path("x"), seed=7,
                           synthetic_per_face=0.5, synthetic_weight=0.25, C=0.003, folds=3),
         "adlens train attributes --data d --more-data c --more-data e --products p --extra x --seed 7 --synthetic-per-face 0.5 "
         "--synthetic-weight 0.25 --data-weight 2 --C 0.003 --folds 3"),
        (AttributeTraining(Path("d"), C=1e-5, mirror=False, bootstrap=5),  # mirror and bootstrap: not options
         "adlens train attributes --data d --no-more-data --no-extra --seed 0 --synthetic-per-face 0 "
         "--synthetic-weight 0.1 --data-weight 2 --C 1e-05 --folds 5"),
    ],
)
def test_command(config: AttributeTraining, expected: str) -> None:
    assert config.command() == expected


def tiny_examples(faces: int = 24, synthetic: bool = True, seed: int = 0) -> Examples:
    """``faces`` real faces (each mirrored), plus one synthetic sunglasses and one cap row per face when asked.

    Each label is readable from one feature, so every fold has both classes and a fit converges at once.
    """
    rng = np.random.default_rng(seed)
    labels = np.stack([np.arange(faces) % 2, (np.arange(faces) // 2) % 2, (np.arange(faces) // 4) % 2], 1)
    rows = []
    for face in range(faces):
        rows.append((labels[face], face, "real"))
        if synthetic:
            rows.append((labels[face] | [1, 0, 0], face, "sunglasses"))
            rows.append((labels[face] | [0, 0, 1], face, "cap"))
    truth = np.array([r[0] for r in rows], np.float32)
    truth = np.repeat(truth, 2, axis=0)  # every row and its mirrored copy
    features = rng.normal(0, 0.3, (len(truth), DIMENSIONS)).astype(np.float32)
    features[:, :3] += 2 * truth
    return Examples(features, truth, np.repeat([r[1] for r in rows], 2), np.repeat(np.array([r[2] for r in rows],
                    dtype=object), 2), np.tile([False, True], len(rows)), np.full(len(truth), "utk", dtype=object),
                    np.full(len(truth), np.nan, np.float32))


@pytest.fixture
def stand_ins(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Replace everything that reads photos or runs a model; ``stand_ins`` records the calls."""
    calls: dict[str, Any] = {"examples": tiny_examples()}
    images = [LabelledImage(Path(f"images/{i}.jpg"), (0.0, 1.0, 0.0)) for i in range(3)]

    def build(images_: Any, accessories: Any, featurizer: Any, **options: Any) -> tuple[Examples, dict[str, int]]:
        calls["build"] = {"images": images_, "accessories": accessories, "featurizer": featurizer, **options}
        return calls["examples"], {"no_face": 1, "synthetic_no_face": 2}

    monkeypatch.setattr(recipe, "read_labelled_images",
                        lambda folder, **options: list(calls.setdefault("images", images)))
    monkeypatch.setattr(recipe, "FaceFeaturizer", lambda settings: ("featurizer", settings))
    monkeypatch.setattr(recipe, "load_accessories", lambda products, kind: [f"{kind} from {products}"] * 2)
    monkeypatch.setattr(recipe, "extra_faces", lambda folder: [f"extra in {folder}"])
    monkeypatch.setattr(recipe, "build_examples", build)
    return calls


def small(**fields: Any) -> AttributeTraining:
    return replace(AttributeTraining(Path("utk"), folds=3, bootstrap=20), **fields)


def test_training_report(stand_ins: dict[str, Any]) -> None:
    config = small(products=Path("shop"), extra=Path("faces"), seed=4, synthetic_per_face=2.0, mirror=False)
    trained = train_attribute_head(config)
    build = stand_ins["build"]
    assert build["featurizer"] == ("featurizer", None)
    assert build["accessories"] == {"sunglasses": ["sunglasses from shop"] * 2, "cap": ["cap from shop"] * 2}
    assert (build["seed"], build["synthetic_per_face"], build["mirror"], build["extra"]) == (
        4, 2.0, False, ["extra in faces"])
    report = trained.report
    assert (report["model"], report["version"], report["outputs"]) == ("face-attributes-head", "1",
                                                                       ["eyewear", "beard", "hat"])
    assert report["recipe"]["data"] == "utk" and report["recipe"]["products"] == "shop"  # paths as text
    assert report["recipe"]["extra"] == "faces" and report["recipe"]["seed"] == 4
    assert report["command"] == config.command()
    assert report["counts"] == {"real": 24, "extra": 0, "sunglasses": 24, "cap": 24, "no_face": 1,
                                "synthetic_no_face": 2, "accessories": {"sunglasses": 2, "cap": 2},
                                "synthetic_share": round(48 / 72, 4), "training_rows": 144}
    assert set(report["cross_validation"]) == {"recipe", "without_synthetic"}
    for by_dataset in report["cross_validation"].values():
        assert list(by_dataset) == ["utk"]  # one data set: no folds that keep sets apart
        variant = by_dataset["utk"]
        assert {"eyewear", "beard", "hat"} <= set(variant)
        assert variant["eyewear"]["auc"] > 0.9  # the label is in the features
        assert variant["eyewear"]["positives"] + variant["eyewear"]["negatives"] == 24
    assert "auc_synthetic_sunglasses_vs_real_negatives" in report["cross_validation"]["recipe"]["utk"]["eyewear"]
    assert report["datasets"] == ["utk"] and set(report["thresholds"]) == {"eyewear", "beard", "hat"}
    assert report["thresholds"]["eyewear"] == 0.5
    calibration = report["calibration"]["beard"]
    assert calibration["slope"] > 0 and calibration["utk"]["after"]["brier"] <= calibration["utk"]["before"]["brier"]
    assert set(report["seconds"]) == {"examples", "cross_validation", "total"}
    json.dumps(report)  # the report is plain JSON


def test_without_synthetic_rows_there_is_one_variant(stand_ins: dict[str, Any]) -> None:
    stand_ins["examples"] = tiny_examples(synthetic=False)
    trained = train_attribute_head(small())
    assert stand_ins["build"]["accessories"] == {} and stand_ins["build"]["extra"] == []
    assert list(trained.report["cross_validation"]) == ["recipe"]
    assert trained.report["counts"]["synthetic_share"] == 0.0
    assert trained.report["counts"]["accessories"] == {}


def test_synthetic_rows_are_weighted_in_the_final_fit(stand_ins: dict[str, Any], monkeypatch: pytest.MonkeyPatch
                                                      ) -> None:
    seen: list[np.ndarray] = []
    fit = recipe.AttributeHead.fit

    def recording_fit(self: Any, X: np.ndarray, Y: np.ndarray, sample_weight: Any = None) -> Any:
        seen.append(np.asarray(sample_weight))
        return fit(self, X, Y, sample_weight)

    monkeypatch.setattr(recipe.AttributeHead, "fit", recording_fit)
    trained = train_attribute_head(small(synthetic_weight=0.3, C=0.5))
    examples = stand_ins["examples"]
    np.testing.assert_allclose(seen[-1], np.where(examples.synthetic, 0.3, 1.0))
    assert trained.head.C == 0.5 and trained.head.n_features_in_ == DIMENSIONS


@pytest.mark.parametrize(
    ("labels_csv", "message"),
    [
        ("file,eyewear,beard,hat\n", "has no rows with a 'file' column"),
        ("file,eyewear,beard,hat\na.jpg,2,0,0\n", "eyewear must be 1, 0 or empty"),
    ],
)
def test_bad_labels_are_refused(tmp_path: Path, labels_csv: str, message: str) -> None:
    (tmp_path / "labels.csv").write_text(labels_csv)
    with pytest.raises(InvalidInputError, match=message):
        train_attribute_head(AttributeTraining(tmp_path))


def test_no_labelled_image_is_refused(stand_ins: dict[str, Any]) -> None:
    stand_ins["images"] = []
    with pytest.raises(InvalidInputError, match=r"no labelled images in utk/labels\.csv"):
        train_attribute_head(small())
    assert "build" not in stand_ins  # refused before any photo is read


def test_save_writes_the_head_its_report_and_its_card(stand_ins: dict[str, Any], tmp_path: Path) -> None:
    trained = train_attribute_head(small(products=Path("shop")))
    out = tmp_path / "new" / "weights"
    paths = save_attribute_head(trained, out)
    assert paths == {"onnx": out / HEAD_FILENAME, "json": out / "face_attributes_head.json",
                     "card": out / "face_attributes_head.md"}
    data = paths["onnx"].read_bytes()
    written = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert written["onnx"] == {"file": HEAD_FILENAME, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    assert written == trained.report  # the report in memory gained the same "onnx" entry
    assert paths["card"].read_text(encoding="utf-8") == model_card(written)

    model = onnx.load_model(paths["onnx"])
    metadata = {p.key: p.value for p in model.metadata_props}
    assert metadata["name"] == "face-attributes-head" and metadata["outputs"] == "eyewear,beard,hat"
    assert metadata["command"] == trained.report["command"]
    summary = json.loads(metadata["cv_metrics"])
    assert set(summary) == {"utk"} and set(summary["utk"]) == {"eyewear", "beard", "hat"}
    assert json.loads(metadata["datasets"]) == ["utk"] and json.loads(metadata["thresholds"]) == trained.report["thresholds"]
    assert metadata["card"] == "face_attributes_head.md"

    import onnxruntime

    session = onnxruntime.InferenceSession(str(paths["onnx"]), providers=["CPUExecutionProvider"])
    features = stand_ins["examples"].features[:10]
    (probabilities,) = session.run(None, {"features": features})
    np.testing.assert_allclose(probabilities, trained.head.predict_proba(features), atol=1e-5)  # calibration folded in
