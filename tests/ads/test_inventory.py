"""The inventory format: a full example, every validation error with its path, malformed files."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image

from adlens.ads.inventory import DEFAULT_RESTRICTED, Ad, parse_window, validate_ad
from adlens.ads.loading import load_inventory
from adlens.errors import InvalidInputError
from helpers import REPO

FULL_AD = {
    "id": "summer-shades",
    "name": "Summer sunglasses",
    "products": [15970, "39386"],
    "categories": ["accessories"],
    "mood": "upbeat",
    "priority": 1,
    "daily_cap": 500,
    "frequency_cap": {"count": 3, "hours": 24},
    "targeting": {
        "age": [18, 40], "gender": ["female"], "emotions": ["happy", "surprise"], "attributes": {"eyewear": True},
        "segments": [1, 3], "members_only": False, "screens": ["entrance"], "time": ["08:00-12:00", "22:00-02:00"],
        "days": ["mon", "tue", "wed", "thu", "fri"],
    },
    "exclude": {"emotions": ["sad"]},
    "creatives": [
        {"id": "a", "image": "creatives/a.png", "duration": 8, "caption": "Shades for the sun"},
        {"id": "b", "image": "creatives/b.png", "model_face": "creatives/face.png"},
    ],
}


def write_inventory(folder: Path, ads: list[Any], name: str = "ads.yaml", **top: Any) -> Path:
    """An inventory file in ``folder`` with small PNG creatives (a.png, b.png) and a fake face photo."""
    creatives = folder / "creatives"
    creatives.mkdir(exist_ok=True)
    for image in ("a.png", "b.png", "face.png"):
        Image.new("RGB", (32, 24), (200, 120, 0)).save(creatives / image)
    (creatives / "broken.png").write_bytes(b"\x89PNG not really")
    document = {**top, "ads": ads}
    path = folder / name
    path.write_text(json.dumps(document) if name.endswith(".json") else yaml.safe_dump(document, sort_keys=False))
    return path


def ad_with(**changes: Any) -> dict[str, Any]:
    """``FULL_AD`` with keys replaced (a value of ``None`` removes the key)."""
    ad = {**FULL_AD, **changes}
    return {k: v for k, v in ad.items() if v is not None}


@pytest.mark.parametrize("name", ["ads.yaml", "ads.json"])
def test_a_full_ad_loads(tmp_path: Path, name: str) -> None:
    inventory = load_inventory(write_inventory(tmp_path, [FULL_AD], name))
    assert inventory.problems == [] and inventory.skipped == []
    (ad,) = inventory.ads
    assert ad.products == ["15970", "39386"]
    assert ad.targeting.age == (18, 40) and ad.targeting.attributes == {"eyewear": True}
    assert ad.frequency_cap is not None and ad.frequency_cap.hours == 24
    assert ad.creatives[0].image == str(tmp_path / "creatives" / "a.png")  # resolved next to the file
    assert ad.creatives[0].face_sha256 is None and ad.creatives[1].has_face
    assert len(ad.creatives[1].face_sha256 or "") == 64
    assert not ad.is_age_restricted and inventory.restricted_categories == DEFAULT_RESTRICTED
    assert inventory.label("summer-shades") == "ads[0] (summer-shades)"


def test_defaults_of_a_minimal_ad(tmp_path: Path) -> None:
    (ad,) = load_inventory(write_inventory(tmp_path, [{"id": 7, "creatives": [{"id": 1, "image":
                                                                               "creatives/a.png"}]}])).ads
    assert (ad.id, ad.creatives[0].id, ad.priority, ad.active, ad.mood) == ("7", "1", 0, True, None)
    assert ad.targeting.person_keys() == [] and ad.exclude.context_keys() == []


@pytest.mark.parametrize(("categories", "restricted", "flag", "restricted_by"), [
    (["Alcohol", "drinks"], None, False, ["Alcohol"]),
    (["cosmetics"], ["cosmetics"], False, ["cosmetics"]),
    (["alcohol"], [], False, []),
    (["drinks"], None, True, []),
])
def test_restricted_categories(tmp_path: Path, categories: list, restricted: list | None, flag: bool,
                               restricted_by: list) -> None:
    top = {} if restricted is None else {"restricted_categories": restricted}
    path = write_inventory(tmp_path, [ad_with(categories=categories, age_restricted=flag)], **top)
    (ad,) = load_inventory(path).ads
    assert ad.restricted_by == restricted_by
    assert ad.is_age_restricted is (flag or bool(restricted_by))


@pytest.mark.parametrize(("changes", "where", "message"), [
    ({"colour": "red"}, "colour", "unknown key (allowed: id, name, products"),
    ({"targeting": {"colour": "red"}}, "targeting.colour", "unknown key (allowed: age, gender"),
    ({"frequency_cap": {"count": 3}}, "frequency_cap.hours", "required"),
    ({"id": "   "}, "id", "must not be blank"),
    ({"id": "x" * 129}, "ads[0] (xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…).id", "at most 128 characters"),
    ({"priority": 11}, "priority", "less than or equal to 10"),
    ({"daily_cap": 0}, "daily_cap", "greater than or equal to 1"),
    ({"mood": "grumpy"}, "mood", "unknown mood 'grumpy'; the emotion-fit table knows upbeat"),
    ({"targeting": {"age": [40, 18]}}, "targeting.age", "the low age 40 is above the high age 18"),
    ({"targeting": {"age": [18, 130]}}, "targeting.age[1]", "less than or equal to 120"),
    ({"targeting": {"age": [18]}}, "targeting.age[1]", "required"),
    ({"targeting": {"gender": ["other"]}}, "targeting.gender[0]", "'male' or 'female'"),
    ({"targeting": {"gender": []}}, "targeting.gender", "at least 1 item"),
    ({"exclude": {"emotions": ["bored"]}}, "exclude.emotions[0]", "'angry', 'disgust'"),
    ({"targeting": {"attributes": {"tattoo": True}}}, "targeting.attributes.tattoo", "'eyewear', 'beard' or 'hat'"),
    ({"targeting": {"time": ["8-12"]}}, "targeting.time[0]", "a time window is 'HH:MM-HH:MM'"),
    ({"targeting": {"time": ["25:00-26:00"]}}, "targeting.time[0]", "not a valid time window"),
    ({"targeting": {"time": ["08:00-08:00"]}}, "targeting.time[0]", "is empty"),
    ({"targeting": {"days": ["monday"]}}, "targeting.days[0]", "'mon', 'tue'"),
    ({"targeting": {"uplift": {"campaign": "spring"}}}, "targeting.uplift", "give min, max or both"),
    ({"targeting": {"uplift": {"min": 0.1}}}, "targeting.uplift.campaign", "required"),
    ({"targeting": {"uplift": {"campaign": " ", "min": 0.1}}}, "targeting.uplift.campaign", "must not be blank"),
    ({"exclude": {"uplift": {"campaign": "spring", "min": 0.2, "max": 0.1}}}, "exclude.uplift",
     "min 0.2 is above max 0.1"),
    ({"targeting": {"uplift": {"campaign": "spring", "min": 1.5}}}, "targeting.uplift.min", "less than or equal to 1"),
    ({"targeting": {"uplift": {"campaign": "spring", "max": -2}}}, "targeting.uplift.max", "greater than or equal to -1"),
    ({"targeting": {"uplift": {"campaign": "spring", "min": math.nan}}}, "targeting.uplift.min", "finite number"),
    ({"targeting": {"uplift": {"campaign": "spring", "min": 0, "by": "store"}}}, "targeting.uplift.by",
     "'customer' or 'segment'"),
    ({"targeting": {"uplift": {"campaign": "spring", "minimum": 0}}}, "targeting.uplift.minimum",
     "unknown key (allowed: campaign, min, max, by)"),
    ({"targeting": {"uplift": "spring"}}, "targeting.uplift", "valid dictionary"),
    ({"creatives": []}, "creatives", "at least 1 item"),
    ({"creatives": None}, "creatives", "required"),
    ({"creatives": [{"id": "a", "image": "creatives/a.png"}, {"id": "a", "image": "creatives/b.png"}]},
     "creatives", "duplicate creative id 'a'"),
    ({"creatives": [{"id": "a", "image": "creatives/a.png", "size": 3}]}, "creatives[0] (a).size",
     "unknown key (allowed: id, image, model_face, duration, caption)"),
    ({"creatives": [{"id": "a", "image": "creatives/a.png", "face_sha256": "0" * 64}]}, "creatives[0] (a)",
     "'face_sha256' is set by adlens at import"),
    ({"restricted_by": ["alcohol"]}, "ads[0] (summer-shades)", "'restricted_by' is set by adlens"),
    ({"creatives": [{"id": "a", "image": "creatives/missing.png"}]}, "creatives[0] (a).image", "no such file"),
    ({"creatives": [{"id": "a", "image": "creatives/broken.png"}]}, "creatives[0] (a).image", "broken.png"),
    ({"creatives": [{"id": "a", "image": "creatives/a.png", "model_face": "nobody.jpg"}]},
     "creatives[0] (a).model_face", "cannot read"),
])
def test_invalid_ads_name_their_path(tmp_path: Path, changes: dict, where: str, message: str) -> None:
    good = {"id": "good", "creatives": [{"id": "a", "image": "creatives/a.png"}]}
    path = write_inventory(tmp_path, [ad_with(**changes), good])
    inventory = load_inventory(path)
    assert [ad.id for ad in inventory.ads] == ["good"]  # the valid ad still loads
    assert len(inventory.skipped) == 1 and inventory.skipped[0].startswith("ads[0]")
    texts = [str(p) for p in inventory.problems]
    assert any(t.startswith(f"{path}: ads[0]") and where in t and message in t for t in texts), texts


def test_every_problem_is_reported(tmp_path: Path) -> None:
    bad = ad_with(priority=-1, mood="grumpy", targeting={"days": ["funday"]})
    inventory = load_inventory(write_inventory(tmp_path, [bad, 5]))
    where = [p.where for p in inventory.problems]
    assert where == ["ads[0] (summer-shades).mood", "ads[0] (summer-shades).priority",
                     "ads[0] (summer-shades).targeting.days[0]", "ads[1]"]
    assert inventory.skipped == ["ads[0] (summer-shades)", "ads[1]"]


def test_duplicate_ad_ids_skip_every_copy(tmp_path: Path) -> None:
    other = ad_with(name="Again")
    inventory = load_inventory(write_inventory(tmp_path, [FULL_AD, other, ad_with(id="fine")]))
    assert [ad.id for ad in inventory.ads] == ["fine"]
    assert [p.where for p in inventory.problems] == ["ads[0] (summer-shades).id", "ads[1] (summer-shades).id"]
    assert "duplicate ad id 'summer-shades'" in inventory.problems[0].message


@pytest.mark.parametrize(("name", "text", "message"), [
    ("ads.yaml", "ads:\n  - id: a\n    creatives: [\n", "line 4: not valid YAML"),
    ("ads.yaml", "ads:\n  - id: a\n    id: b\n", "line 3: not valid YAML: duplicate key 'id'"),
    ("ads.json", '{"ads": [\n  {"id": "a",}\n]}', "line 2: not valid JSON"),
    ("ads.json", '{"ads": [], "ads": []}', "duplicate key 'ads'"),
    ("ads.yaml", "- id: a\n", "expected a mapping with a list 'ads'"),
    ("ads.yaml", "", "expected a mapping with a list 'ads'"),
    ("ads.yaml", "ads: {id: a}\n", "'ads' must be a list"),
    ("ads.yaml", "ads: []\nscreens: [a]\n", "unknown top-level key screens"),
    ("ads.yaml", "ads: []\nrestricted_categories: alcohol\n", "restricted_categories must be a list"),
])
def test_malformed_files(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InvalidInputError, match=message) as caught:
        load_inventory(path)
    assert caught.value.message.startswith(str(path))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="cannot read the inventory"):
        load_inventory(tmp_path / "nope.yaml")


def test_moods_follow_the_table(tmp_path: Path) -> None:
    path = write_inventory(tmp_path, [ad_with(mood="cheerful")])
    assert load_inventory(path, moods=["cheerful"]).ads[0].mood == "cheerful"
    assert load_inventory(path).problems[0].where.endswith(".mood")


@pytest.mark.parametrize(("text", "window"), [
    ("08:00-12:00", (480, 720)), ("22:00-02:00", (1320, 120)), ("00:00-24:00", (0, 1440)),
    (" 17:30-18:00 ", (1050, 1080)),
])
def test_parse_window(text: str, window: tuple[int, int]) -> None:
    assert parse_window(text) == window


def test_the_example_inventory_is_valid() -> None:
    inventory = load_inventory(REPO / "examples" / "ads.yaml")
    assert inventory.problems == []
    assert len(inventory.ads) >= 5
    assert any(ad.is_age_restricted for ad in inventory.ads)


def test_uplift_targeting_loads_and_reads_back(tmp_path: Path) -> None:
    changes = {"targeting": {"uplift": {"campaign": 2025, "min": 0.05}},
               "exclude": {"uplift": {"campaign": "spring", "max": 0, "by": "segment"}}}
    (ad,) = load_inventory(write_inventory(tmp_path, [ad_with(**changes)])).ads
    assert ad.targeting.uplift is not None and ad.exclude.uplift is not None
    assert (ad.targeting.uplift.campaign, ad.targeting.uplift.min, ad.targeting.uplift.max) == ("2025", 0.05, None)
    assert ad.targeting.uplift.by == "customer" and ad.exclude.uplift.by == "segment"
    assert ad.targeting.person_keys() == ["uplift"] and ad.exclude.person_keys() == ["uplift"]
    assert ad.to_json()["exclude"]["uplift"] == {"campaign": "spring", "min": None, "max": 0.0, "by": "segment"}
    assert validate_ad(ad.spec() | {"creatives": [c.model_dump(mode="json") for c in ad.creatives]}) == ad


def test_a_stored_spec_reads_back() -> None:
    ad = validate_ad(FULL_AD | {"categories": ["alcohol"]}, restricted_categories=["alcohol"])
    again = validate_ad(ad.spec() | {"creatives": [c.model_dump(mode="json") for c in ad.creatives]})
    assert isinstance(again, Ad) and again == ad and again.restricted_by == ["alcohol"]


@pytest.mark.parametrize(("field", "value"), [
    ("image", "{outside}"), ("image", "../outside.png"), ("image", "../gone.png"), ("image", "creatives/link.png"),
    ("model_face", "{outside}"), ("model_face", "../gone.png"), ("model_face", "creatives/link.png"),
])
def test_an_upload_names_only_its_own_files(tmp_path: Path, field: str, value: str) -> None:
    from adlens.ads.loading import parse_inventory, read_document

    upload = tmp_path / "upload"
    upload.mkdir()
    outside = tmp_path / "outside.png"
    Image.new("RGB", (32, 24), (0, 0, 0)).save(outside)
    value = value.format(outside=outside)
    creative = {"id": "b", "image": "creatives/b.png", field: value}
    path = write_inventory(upload, [ad_with(creatives=[{"id": "a", "image": "creatives/a.png"}, creative])])
    (upload / "creatives" / "link.png").symlink_to(outside)
    inventory = parse_inventory(read_document(path), upload, "ads.yaml", roots=[upload])
    assert inventory.ads == [] and [p.where for p in inventory.problems] == [
        f"ads[0] (summer-shades).creatives[1] (b).{field}"]
    assert inventory.problems[0].message == f"{value!r} is not one of the uploaded files"


def test_an_upload_names_its_own_files_by_the_given_name(tmp_path: Path) -> None:
    from adlens.ads.loading import parse_inventory, read_document

    path = write_inventory(tmp_path, [ad_with(creatives=[{"id": "a", "image": "creatives/broken.png"}])])
    inventory = parse_inventory(read_document(path), tmp_path, "ads.yaml", roots=[tmp_path])
    (problem,) = inventory.problems
    assert problem.message.startswith("creatives/broken.png") and str(tmp_path) not in problem.message
    good = parse_inventory(read_document(write_inventory(tmp_path, [FULL_AD])), tmp_path, "ads.yaml", roots=[tmp_path])
    assert good.problems == [] and good.ads[0].creatives[1].image == str(tmp_path / "creatives" / "b.png")
