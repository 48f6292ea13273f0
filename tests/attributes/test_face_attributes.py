"""The shipped eyewear / beard / hat head through FaceAttributes, on real labelled faces."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from adlens.align import crop_faces
from adlens.attributes.face_attributes import ATTRIBUTE_CROP, FACE_ATTRIBUTES, FaceAttributes
from adlens.imageio import load_image
from adlens.modelspecs import get_spec
from adlens.registry import ModelState, state
from helpers import DATA, MODELS, need

FACES = DATA / "face_attributes_utk"
PER_CLASS = 6


@pytest.fixture(scope="module")
def model() -> FaceAttributes:
    need(MODELS)
    return FaceAttributes().load()


@pytest.fixture(scope="module")
def detector():
    from adlens.pipeline import Analyzer

    return Analyzer(attributes=[]).load()


@pytest.fixture(scope="module")
def labels() -> list[dict[str, str]]:
    with (need(FACES) / "labels.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def probabilities(model, detector, name: str) -> np.ndarray:
    """P(eyewear), P(beard), P(hat) of a labelled file's largest face."""
    image = load_image(FACES / "images" / name)
    faces = model.predict(image, detector.analyze_array(image).largest())
    return np.array([faces.data[column][0] for column in FACE_ATTRIBUTES])


def test_the_head_ships_inside_the_package():
    found, path = state(get_spec("face-attributes-head"))
    assert found is ModelState.PRESENT and path is not None and path.parent.name == "weights"
    assert path.stat().st_size < 100_000


@pytest.mark.parametrize("attribute", FACE_ATTRIBUTES)
def test_labelled_faces_are_told_apart(attribute, model, detector, labels):
    positives = [r["file"] for r in labels if r[attribute] == "1"][:PER_CLASS]
    negatives = [r["file"] for r in labels if r[attribute] == "0"][:PER_CLASS]
    column = FACE_ATTRIBUTES.index(attribute)
    high = np.array([probabilities(model, detector, name)[column] for name in positives])
    low = np.array([probabilities(model, detector, name)[column] for name in negatives])
    assert high.min() > np.median(low), (high, low)
    assert high.mean() - low.mean() > 0.4, (high, low)


def test_columns_on_a_photo_with_several_faces(model, detector, faces_small):
    image = load_image(faces_small / "two_people.jpg")
    faces = model.predict(image, detector.analyze_array(image))
    assert len(faces) == 2
    for column in FACE_ATTRIBUTES:
        values = faces.data[column]
        assert values.shape == (2,) and values.dtype == np.float32
        assert np.all((values >= 0) & (values <= 1))
        assert np.all(values < 0.5), column  # Obama and Biden: no eyewear, beard or hat here


@pytest.mark.parametrize(("kind", "attribute"), [("sunglasses", "eyewear"), ("cap", "hat")])
def test_an_accessory_raises_its_probability(kind, attribute, model, detector, labels):
    from adlens.training.synthetic import cut_out, place_cap, place_glasses

    product = {"sunglasses": "16863", "cap": "18209"}[kind]
    accessory = cut_out(load_image(need(DATA / "fashion_products_subset" / "images" / f"{product}.jpg")), kind)
    name = next(r["file"] for r in labels if r["eyewear"] == r["hat"] == "0")
    image = load_image(FACES / "images" / name)
    face = detector.analyze_array(image).largest()
    rng = np.random.default_rng(0)
    if kind == "sunglasses":
        worn = place_glasses(image, face.landmarks[0], accessory, rng)
    else:
        worn = place_cap(image, face.landmarks[0], face.boxes[0], accessory, rng)
    before = model.predict(image, face).data[attribute][0]
    after = model.predict(worn, detector.analyze_array(worn).largest()).data[attribute][0]
    assert before < 0.5 < after, (before, after)


def shipped_report() -> dict:
    import json

    from adlens import registry

    return json.loads((Path(registry.__file__).resolve().parent / "weights" / "face_attributes_head.json").read_text())


#: Cross-validated floors (folds over both data sets together, each set's faces scored), a little under the
#: shipped model card's figures. Issue 17's targets on celebahq_attributes are 0.98 / 0.97 / 0.98; issue 16's
#: bar on UTKFace 0.993 / 0.965 / 0.989: the card says which are not met.
FLOORS = {"celebahq_attributes": {"eyewear": 0.985, "beard": 0.97, "hat": 0.99},
          "face_attributes_utk": {"eyewear": 0.99, "beard": 0.97, "hat": 0.955}}


def test_shipped_head_meets_the_cross_validated_floor_and_matches_the_registry():
    """The model card's metrics come from `adlens train attributes`; the shipped file is the one it describes."""
    from adlens import registry
    from adlens.download import sha256_of

    weights = Path(registry.__file__).resolve().parent / "weights"
    report = shipped_report()
    for dataset, floors in FLOORS.items():
        for name, floor in floors.items():
            assert report["cross_validation"]["recipe"][dataset][name]["auc"] >= floor, (dataset, name)
        assert report["cross_validation"]["apart"][dataset]["eyewear"]["auc"] >= 0.9  # trained on the other set only
    spec = get_spec("face-attributes-head")
    shipped = weights / spec.filename
    assert sha256_of(shipped) == spec.sha256 and shipped.stat().st_size == spec.size_bytes
    card = (weights / "face_attributes_head.md").read_text()
    assert card.count("AUC") >= 3 and spec.sha256 in card and "CC BY-NC 4.0" in card


def test_false_alarms_at_the_shipped_thresholds_are_at_most_three_percent():
    from adlens.columns import ATTRIBUTE_BY_NAME

    report = shipped_report()
    assert report["thresholds"] == {name: ATTRIBUTE_BY_NAME[name].default_threshold for name in FACE_ATTRIBUTES}
    alarms = report["cross_validation"]["recipe"]["celebahq_attributes"]["false_alarms"]
    assert set(alarms) == {"beard_on_women", "hat_on_bare_heads"}
    for alarm in alarms.values():
        assert alarm["rate"] <= 0.03 and alarm["faces"] > 3000


def test_the_shipped_head_is_calibrated():
    """Platt scaling on out-of-fold values: the Brier score and the calibration error fall on both data sets."""
    report = shipped_report()
    for name in FACE_ATTRIBUTES:
        for dataset in ("celebahq_attributes", "face_attributes_utk"):
            before, after = (report["calibration"][name][dataset][k] for k in ("before", "after"))
            assert after["brier"] <= before["brier"] + 1e-4 and after["ece"] <= 0.05, (name, dataset)


def test_a_batch_gives_each_face_what_it_gets_alone(model, detector, faces_small):
    """One call per frame for all faces: the batched backbone and head give each face its own numbers."""
    image = load_image(faces_small / "test" / "obama_and_biden.jpg")
    faces = detector.analyze_array(image)
    crops = crop_faces(image, faces, ATTRIBUTE_CROP)
    assert crops.shape == (len(faces), ATTRIBUTE_CROP.size, ATTRIBUTE_CROP.size, 3) and len(faces) >= 3
    together = model.predict_crops(crops)
    for i in range(len(crops)):
        alone = model.predict_crops(crops[i : i + 1])
        for column in FACE_ATTRIBUTES:
            np.testing.assert_allclose(together[column][i], alone[column][0], atol=1e-5)


def test_features_are_three_unit_blocks_of_the_backbone_maps(tmp_path):
    """The last map's mean and max, then those of the mid-level maps' lower halves, each pair L2-normalised."""
    from adlens.attributes.face_attributes import FEATURES, MAP_CHANNELS, attribute_features
    from adlens.backbone import open_feature_map_backbone
    from adlens.settings import Settings

    settings = Settings(models=str(need(MODELS)), cache_dir=tmp_path, offline=True)
    backbone = open_feature_map_backbone(ATTRIBUTE_CROP.size, settings)
    crops = np.random.default_rng(1).integers(0, 255, (3, 128, 128, 3), dtype=np.uint8)
    features = attribute_features(backbone, crops)
    assert features.shape == (3, FEATURES) and features.dtype == np.float32
    assert attribute_features(backbone, crops[:0]).shape == (0, FEATURES)
    edges = np.cumsum([0, *(2 * c for c in MAP_CHANNELS)])
    for start, stop in zip(edges[:-1], edges[1:], strict=True):
        np.testing.assert_allclose(np.linalg.norm(features[:, start:stop], axis=1), 1.0, rtol=1e-5)
    lower = backbone.maps(crops)[2][:, 8:].reshape(3, -1, 256)  # the 16×16 map's lower half
    expected = np.concatenate([lower.mean(axis=1), lower.max(axis=1)], axis=1)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(features[:, edges[2]:], expected, atol=1e-6)
