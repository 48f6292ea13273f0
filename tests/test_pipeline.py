from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from adlens.errors import UnknownNameError
from adlens.pipeline import Analyzer, StageTimer, analyzer_for
from helpers import MODELS, need


def test_stages_timed(analyzer, faces_small):
    timer = StageTimer()
    faces = analyzer.analyze(faces_small / "two_people.jpg", timer)
    assert len(faces) == 2 and faces.embeddings.shape == (2, 128)
    assert set(timer.totals) == {"decode", "detect", "align", "embed", "emotion", "age", "gender", "eyewear_beard_hat"}
    assert set(faces.data) >= {"eyewear", "beard", "hat"}


def test_sources_agree(analyzer, faces_small):
    path = faces_small / "obama-240p.jpg"
    from_path = analyzer.analyze(path)
    from_bytes = analyzer.analyze(path.read_bytes())
    np.testing.assert_allclose(from_path.boxes, from_bytes.boxes)
    np.testing.assert_allclose(from_path.data["emotion"], from_bytes.data["emotion"], atol=1e-6)


def test_bad_file_becomes_error_and_run_goes_on(analyzer, faces_small, tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_text("not an image")
    results = [analyzer.analyze_file(path)[0] for path in (bad, faces_small / "obama-240p.jpg")]
    assert results[0].image.endswith("bad.jpg") and not len(results[0].faces)
    assert results[0].error == "not a recognised image format"  # the file is named once, in .image
    assert results[1].error is None and len(results[1].faces) == 1
    line = json.loads(json.dumps(results[1].to_json()))
    assert set(line) == {"image", "width", "height", "faces", "error"}
    assert set(line["faces"][0]) >= {"box", "score", "landmarks", "emotion", "dominant_emotion", "age",
                                     "age_bracket", "gender", "gender_confidence"}
    assert "embedding" not in json.dumps(line)


def test_no_attributes(faces_small):
    faces = Analyzer(attributes=[]).analyze(faces_small / "obama-240p.jpg")
    assert len(faces) == 1 and faces.data == {} and faces.embeddings is None


@pytest.mark.parametrize(
    ("kwargs", "embedder", "stages"),
    [
        ({}, True, ["emotion", "age", "gender", "eyewear_beard_hat"]),
        ({"attributes": []}, True, []),
        ({"embed": False, "attributes": ["age-mobilenet"]}, False, ["age"]),
        ({"embed": False, "attributes": [], "detector": "dlib"}, False, []),
    ],
    ids=["service", "faces-only", "no-embed", "dlib"],
)
def test_analyzer_for_builds_and_loads(kwargs, embedder, stages):
    from adlens.model import Model

    if kwargs.get("detector") != "dlib":  # dlib's weights come with its package; the others from ../shared
        need(MODELS)
    analyzer = analyzer_for(**kwargs)
    assert isinstance(analyzer, Analyzer)
    assert (analyzer.embedder is not None) is embedder and (analyzer.aligner is not None) is embedder
    assert [model.stage_name() for model in analyzer.attribute_models] == stages
    assert analyzer.detector.name == kwargs.get("detector", "yunet")
    models: list[Model] = [analyzer.detector, *analyzer.attribute_models,
                           *filter(None, [analyzer.aligner, analyzer.embedder])]
    assert all(model.loaded for model in models)


def test_unknown_names_refused():
    with pytest.raises(UnknownNameError):
        Analyzer(detector="nope")
    with pytest.raises(UnknownNameError):
        Analyzer(attributes=["nope"])


def test_one_analyzer_shared_by_threads(analyzer, faces_small):
    from concurrent.futures import ThreadPoolExecutor

    photos = [faces_small / n for n in ("two_people.jpg", "obama-240p.jpg", "test/kit_with_rose.jpg")] * 3
    sequential = [analyzer.analyze(p) for p in photos]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(analyzer.analyze, photos))
    for a, b in zip(sequential, threaded, strict=True):
        np.testing.assert_allclose(a.boxes, b.boxes)
        np.testing.assert_allclose(a.embeddings, b.embeddings, atol=1e-5)
        np.testing.assert_allclose(a.data["age"], b.data["age"], atol=1e-4)


def test_large_image_analysed_at_reduced_scale(faces_small, tmp_path):
    from PIL import Image

    from adlens.settings import Settings

    photo = Image.open(faces_small / "obama-240p.jpg")
    big = tmp_path / "big.png"
    photo.resize((photo.width * 4, photo.height * 4)).save(big)
    analyzer = Analyzer(Settings(decode_max_side=800), attributes=[])
    result, decoded = analyzer.analyze_file(big)
    assert decoded.pixels.shape == (480, 854, 3) and decoded.scale == 2  # 1708x960 decoded at half size
    assert (result.width, result.height) == (1708, 960)  # the picture's own size, and its coordinates
    full, _ = Analyzer(Settings(decode_max_side=0), attributes=[]).analyze_file(big)
    assert (full.width, full.height) == (1708, 960) and len(result.faces) == len(full.faces) == 1
    np.testing.assert_allclose(result.faces.boxes, full.faces.boxes, atol=12)  # within a few pixels at 1708
    np.testing.assert_allclose(analyzer.analyze(big).boxes, result.faces.boxes)


def test_file_name_not_utf8_is_printable(analyzer, tmp_path):
    import os

    path = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), b"caf\xe9.jpg")))
    path.write_bytes(b"not an image")
    result, _ = analyzer.analyze_file(path)
    assert result.image.endswith("caf\\xe9.jpg") and result.error == "not a recognised image format"
    json.dumps(result.to_json(), ensure_ascii=False).encode("utf-8")  # no lone surrogate left


def test_every_model_gives_each_face_what_it_gives_it_alone(analyzer, faces_small):
    """One batched call per model and frame: the same numbers as one call per face."""
    from adlens.imageio import load_image

    image = load_image(faces_small / "test" / "obama_and_biden.jpg")
    faces = analyzer.detector.detect(image)
    assert len(faces) >= 3
    assert analyzer.aligner is not None and analyzer.embedder is not None
    chips = analyzer.aligner.chips(image, faces)
    np.testing.assert_array_equal(chips, np.concatenate([analyzer.aligner.chips(image, faces[i : i + 1])
                                                         for i in range(len(faces))]))
    batched = analyzer.embedder.embed_chips(chips)
    alone = np.concatenate([analyzer.embedder.embed_chips(chips[i : i + 1]) for i in range(len(faces))])
    np.testing.assert_allclose(batched, alone, atol=1e-5)
    for model in analyzer.attribute_models:
        together = model.predict(image, faces)
        for i in range(len(faces)):
            one = model.predict(image, faces[i : i + 1])
            for column in model.columns:
                values, expected = one.data[column], together.data[column][i : i + 1]
                if values.dtype == object:
                    assert list(values) == list(expected), (model.name, column)
                else:
                    np.testing.assert_allclose(values, expected, atol=1e-4, err_msg=f"{model.name} {column}")


@pytest.mark.parametrize("detector", ["yunet", "dlib"])
def test_chip_models_fit_the_boxes_of_the_detector_that_runs(detector):
    """Cydral's models cut dlib chips from the HOG-like box of the detector the analyser runs, not the settings'."""
    from adlens.settings import Settings

    analyzer = Analyzer(Settings(detector="yunet"), detector=detector, attributes=["age-cydral", "gender-cydral"])
    assert [model.aligner.detector for model in analyzer.attribute_models] == [detector, detector]
    assert "dlib-landmarks-5" in analyzer.required_models
