"""Fitting a campaign: columns, validation against a response model and the oracle, scores, model files."""

from __future__ import annotations

import pytest

from adlens.errors import InvalidInputError
from adlens.uplift.model import KIND, fit_campaign, score_frame, top_share
from adlens.uplift.persist import load_model, save_model
from helpers import simulated_campaign


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    return simulated_campaign(tmp_path_factory.mktemp("fit"), 6_000, 5)


@pytest.fixture(scope="module")
def fitted(table):
    return fit_campaign(table, treatment="treatment", outcome="outcome", learner="t", validation=0.25, seed=1)


def test_card_records_columns_and_held_out_comparison(fitted):
    card = fitted.card_
    assert card["id_column"] == "customer_id" and card["rows"] == 6_000
    assert "true_uplift" not in card["features"] and "customer_id" not in card["features"]
    assert set(card["excluded"]) == {"customer_id", "treatment", "outcome", "true_uplift"}
    validation = card["validation"]
    assert validation["rows"] == 1_500 and validation["share"] == 0.25
    assert validation["qini_coefficient"] > validation["response_model"]["qini_coefficient"]
    assert validation["oracle_qini_coefficient"] > 0
    assert fitted.feature_names == card["features"]


def test_validation_is_skipped_and_said_so_on_small_tables(tmp_path):
    small = simulated_campaign(tmp_path, 600, 2)
    model = fit_campaign(small, treatment="treatment", outcome="outcome", validation=0.2)
    assert "too few rows" in model.card_["validation"]["skipped"]
    assert fit_campaign(small, treatment="treatment", outcome="outcome", validation=0).card_["validation"] is None


def test_exclude_and_features_and_categorical(table):
    frame = table.assign(plan=["gold", "basic"] * (len(table) // 2))
    model = fit_campaign(frame, treatment="treatment", outcome="outcome", exclude=["monthly_bill"],
                         categorical=["plan"], validation=0)
    assert "monthly_bill" not in model.card_["features"] and "plan=gold" in model.feature_names
    only = fit_campaign(frame, treatment="treatment", outcome="outcome", features=["age", "data_gb"], validation=0)
    assert only.card_["features"] == ["age", "data_gb"]


@pytest.mark.parametrize(("change", "options", "message"), [
    (lambda f: f.drop(columns="outcome"), {}, "has no column 'outcome'"),
    (lambda f: f.assign(treatment=f["treatment"].replace("1", "2")), {},
     "treatment column 'treatment' must be 0 or 1"),
    (lambda f: f.assign(treatment="0"), {}, "the treated arm is empty"),
    (lambda f: f.assign(treatment="1"), {}, "the control arm is empty"),
    (lambda f: f.assign(outcome="1"), {}, "the outcome is 1 on every row"),
    (lambda f: f.assign(plan="gold"), {}, r"column 'plan' is not numeric \(lines 2, 3, 4"),
    (lambda f: f, {"learner": "r"}, "unknown uplift learner 'r'"),
    (lambda f: f, {"estimator": "svm"}, "unknown base estimator 'svm'"),
    (lambda f: f, {"id_column": "phone"}, "no id column 'phone'"),
    (lambda f: f, {"validation": 0.95}, "validation share"),
])
def test_bad_input(table, change, options, message):
    with pytest.raises(InvalidInputError, match=message):
        fit_campaign(change(table.copy()), treatment="treatment", outcome="outcome", **options)


def test_scores_and_targeting_list(fitted, table):
    scores = score_frame(fitted, table)
    assert list(scores.columns) == ["customer_id", "uplift", "p_offer", "p_no_offer", "rank"]
    assert sorted(scores["rank"]) == list(range(1, len(table) + 1))
    best = top_share(scores, 30)
    assert len(best) == 1_800 and best["uplift"].is_monotonic_decreasing
    assert best["uplift"].min() >= scores["uplift"].quantile(0.69)
    assert len(top_share(scores, 0.001)) == 1
    with pytest.raises(InvalidInputError, match="percentage"):
        top_share(scores, 0)
    unnamed = score_frame(fitted, table.drop(columns="customer_id"))
    assert unnamed.columns[0] == "line" and unnamed["line"].iloc[0] == 2


def test_scoring_needs_the_feature_columns_as_numbers(fitted, table):
    with pytest.raises(InvalidInputError, match="has no feature column 'age'"):
        fitted.predict(table.drop(columns="age"), "new.csv")
    with pytest.raises(InvalidInputError, match="'data_gb' is not numeric"):
        fitted.predict(table.assign(data_gb="lots"))


def test_model_file_round_trip_and_wrong_files(fitted, table, tmp_path):
    path = save_model(fitted, tmp_path / "m" / "uplift.model", KIND)
    loaded = load_model(path, KIND)
    assert (loaded.predict(table) == fitted.predict(table)).all() and loaded.card_ == fitted.card_
    with pytest.raises(InvalidInputError, match="holds an uplift model, not a next-purchase model"):
        load_model(path, "next-purchase")
    junk = tmp_path / "junk.model"
    junk.write_bytes(b"not a pickle at all")
    with pytest.raises(InvalidInputError, match="not an adlens model file"):
        load_model(junk, KIND)
    with pytest.raises(InvalidInputError, match="no such model file"):
        load_model(tmp_path / "none.model", KIND)
    truncated = tmp_path / "cut.model"
    truncated.write_bytes(path.read_bytes()[:200])
    with pytest.raises(InvalidInputError, match="not an adlens model file"):
        load_model(truncated, KIND)
