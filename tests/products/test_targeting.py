"""Targeting rules: products for a face from its eyewear, beard and hat probabilities."""

from __future__ import annotations

import json

import pytest

from adlens.errors import InvalidInputError
from adlens.products.targeting import DEFAULT_RULES, FaceTargeting, Rule, face_products_json, load_rules
from adlens.products.vectors import AspectIndex
from adlens.settings import Settings
from builders import make_faces

CATALOGUE = {
    "sun-m": {"token:sunglasses": 1.0, "token:men": 1.0, "token:black": 1.0},
    "sun-w": {"token:sunglasses": 1.0, "token:women": 1.0, "token:brown": 1.0},
    "cap": {"token:caps": 1.0, "token:unisex": 1.0},
    "tee": {"token:tshirts": 1.0, "token:men": 1.0},
}


@pytest.fixture()
def targeting():
    return FaceTargeting(AspectIndex(list(CATALOGUE), list(CATALOGUE.values())))


def test_each_face_gets_what_its_attributes_call_for(targeting):
    result = targeting.recommend(make_faces(2, eyewear=[0.94, 0.1], beard=[0.0, 0.0], hat=[0.2, 0.8],
                                       gender=["female", "male"]), k=3)
    first, second = result
    assert first.fired == ["eyewear"] and [p.product for p in first.products] == ["sun-w", "sun-m"]
    assert first.products[0].reasons == ["wears eyewear: p = 0.94"]
    assert second.fired == ["hat"] and [p.product for p in second.products] == ["cap"]
    assert "tee" not in {p.product for r in result for p in r.products}


def test_no_rule_fires_and_missing_products(targeting):
    (only,) = targeting.recommend(make_faces(1, eyewear=[0.1], beard=[0.99], hat=[0.0]))
    assert only.fired == ["beard"] and only.products == []  # no beard-care product in this catalogue


def test_json_form(targeting):
    found = make_faces(1, eyewear=[0.9], beard=[0.0], hat=[0.0])
    data = face_products_json(targeting.recommend(found), found, {"sun-m": "Black Shades"})
    assert data[0]["box"] == [10.0, 10.0, 50.0, 50.0]
    item = next(p for p in data[0]["products"] if p["product"] == "sun-m")
    assert item | {"score": 0} == {"product": "sun-m", "name": "Black Shades", "score": 0,
                                   "reasons": ["wears eyewear: p = 0.90"]}


def test_rules_from_json(tmp_path, targeting):
    path = tmp_path / "rules.json"
    path.write_text(json.dumps([{"attribute": "beard", "tokens": ["TShirts"], "reason": "bearded", "threshold": 0.3}]))
    rules = load_rules(path)
    assert rules == (Rule("beard", ("tshirts",), "bearded", 0.3),)
    custom = FaceTargeting(targeting.index, rules)
    (face,) = custom.recommend(make_faces(1, eyewear=[0.0], beard=[0.5], hat=[0.0]))
    assert [p.product for p in face.products] == ["tee"] and face.products[0].reasons == ["bearded: p = 0.50"]
    path.write_text("[{}]")
    with pytest.raises(InvalidInputError, match="cannot read targeting rules"):
        load_rules(path)


def test_default_rules_cover_the_three_attributes():
    assert [r.attribute for r in DEFAULT_RULES] == ["eyewear", "beard", "hat"]
    assert [r.reason for r in DEFAULT_RULES] == ["wears eyewear", "has a beard", "wears a hat"]


@pytest.mark.parametrize(("setting", "rule_threshold", "fired"), [
    (0.5, None, ["eyewear"]),
    (0.95, None, []),
    (0.95, 0.3, ["eyewear"]),
])
def test_threshold_from_the_setting_unless_the_rule_has_one(targeting, setting, rule_threshold, fired):
    rules = tuple(Rule(r.attribute, r.tokens, r.reason, rule_threshold) for r in DEFAULT_RULES)
    custom = FaceTargeting(targeting.index, rules, Settings(attribute_threshold=setting))
    (face,) = custom.recommend(make_faces(1, eyewear=[0.9], beard=[0.0], hat=[0.0]))
    assert face.fired == fired
