"""The next-purchase model on synthetic purchases with a known loyalty per brand and age."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from adlens.errors import InvalidInputError
from adlens.uplift.nextpurchase import NextPurchaseModel, fit_next_purchase, stratified_holdout
from adlens.uplift.persist import load_model, save_model
from purchases import BRANDS, purchases, true_stay

def test_recovers_loyalty_per_brand(next_fit):
    model, _ = next_fit
    fresh, p_stay = purchases(6000, seed=2)
    stay = model.stay_proba(fresh)
    for brand in BRANDS:
        owners = (fresh["manufacturer"] == brand).to_numpy()
        assert stay[owners].mean() == pytest.approx(p_stay[owners].mean(), abs=0.04), brand


def test_loyalty_grows_with_age(next_fit):
    model, _ = next_fit
    rows = pd.DataFrame({"manufacturer": np.repeat(BRANDS, 2), "age": [25, 70] * len(BRANDS),
                         "residence": "town"})
    stay = model.stay_proba(rows).reshape(len(BRANDS), 2)
    assert (stay[:, 1] > stay[:, 0] + 0.1).all()
    assert stay[:, 0] == pytest.approx(true_stay(np.arange(4), np.full(4, 25)), abs=0.1)


def test_scikit_learn_contract(next_fit):
    model, _ = next_fit
    params = {"current": "manufacturer", "features": ("age",), "categorical": None, "C": 0.5, "n_knots": 4,
              "interactions": False, "max_iter": 200, "random_state": 7}
    fresh = NextPurchaseModel(**params)
    assert fresh.get_params() == params and clone(fresh).get_params() == params
    frame, _ = purchases(500)
    assert fresh.fit(frame, frame["next_manufacturer"]) is fresh
    proba = model.predict_proba(frame)
    assert proba.shape == (500, 4) and np.allclose(proba.sum(axis=1), 1)
    assert list(model.classes_) == sorted(BRANDS)
    assert set(model.predict(frame)) <= set(BRANDS)
    assert model.categorical_ == ["residence"] and model.numeric_ == ["age"]
    assert model.transitions_.sum() == 8000 and model.target_ == "next_manufacturer"


def test_without_features_it_is_the_transition_matrix():
    frame, _ = purchases(3000)
    model, _ = fit_next_purchase(frame, features=(), validation=0)
    observed = pd.crosstab(frame["manufacturer"], frame["next_manufacturer"], normalize="index")
    rows = pd.DataFrame({"manufacturer": observed.index})
    assert model.predict_proba(rows) == pytest.approx(observed[list(model.classes_)].to_numpy(), abs=0.01)
    assert model.evaluation_ is None


def _edit(frame: pd.DataFrame, column: str, row: int, value: object) -> pd.DataFrame:
    frame = frame.copy()
    frame.loc[row, column] = value
    return frame


@pytest.mark.parametrize(("change", "kwargs", "message"), [
    (lambda f: f.drop(columns="age"), {}, "has no column 'age'"),
    (lambda f: f.drop(columns="next_manufacturer"), {}, "has no column 'next_manufacturer'"),
    (lambda f: _edit(f, "age", 2, "forty"), {}, "column 'age' is not numeric (line 4: 'forty')"),
    (lambda f: _edit(f, "age", 5, None), {}, "column 'age' has empty cells (line 7)"),
    (lambda f: _edit(f, "manufacturer", 1, " "), {}, "column 'manufacturer' is empty on line 3"),
    (lambda f: _edit(f, "next_manufacturer", 0, None), {}, "column 'next_manufacturer' is empty on line 2"),
    (lambda f: _edit(f, "residence", 3, None), {}, "column 'residence' is empty on line 5"),
    (lambda f: f.assign(next_manufacturer="Apple"), {}, "at least two brands"),
    (lambda f: f, {"validation": 1.0}, "validation share"),
    (lambda f: f, {"features": ("age", "next_manufacturer")}, "leak"),
    (lambda f: f, {"features": ("manufacturer",)}, "leak"),
    (lambda f: f, {"categorical": ("next_manufacturer",)}, "leak"),
    (lambda f: f.head(3), {"validation": 0.2}, "too few rows"),
])
def test_errors_name_columns_and_lines(change, kwargs, message):
    frame, _ = purchases(60)
    with pytest.raises(InvalidInputError) as error:
        fit_next_purchase(change(frame), **kwargs)
    assert message in error.value.message


def test_non_numeric_age_at_predict_time(next_fit):
    model, _ = next_fit
    frame, _ = purchases(10)
    with pytest.raises(InvalidInputError, match=r"scores.csv: column 'age' is not numeric \(line 3"):
        model.predict_proba(_edit(frame, "age", 1, "n/a"), source="scores.csv")
    with pytest.raises(InvalidInputError, match="has no column 'residence'"):
        model.predict_proba(frame.drop(columns="residence"))
    with pytest.raises(InvalidInputError, match="DataFrame"):
        model.predict_proba(frame.to_numpy())


def test_unseen_brands(next_fit):
    model, _ = next_fit
    rows = pd.DataFrame({"manufacturer": ["Nothing", "Apple"], "age": ["30", "30"], "residence": ["moon", "city"]})
    proba = model.predict_proba(rows)
    assert np.allclose(proba.sum(axis=1), 1)
    stay = model.stay_proba(rows)
    assert np.isnan(stay[0]) and 0 < stay[1] < 1


def test_a_brand_only_bought_next():
    frame, _ = purchases(2000)
    frame.loc[:40, "next_manufacturer"] = "Google"
    model, evaluation = fit_next_purchase(frame, validation=0.2)
    assert "Google" in model.classes_ and "Google" not in model.brands_
    stay = model.stay_proba(pd.DataFrame({"manufacturer": ["Google"], "age": [50], "residence": ["city"]}))
    assert 0 < stay[0] < 0.2
    assert evaluation.unknown == 0


def test_stratified_holdout_keeps_every_brand_in_training():
    labels = np.array(["a"] * 10 + ["b"] * 5 + ["c"])
    held = stratified_holdout(labels, 0.2, seed=0)
    assert held[:10].sum() == 2 and held[10:15].sum() == 1 and not held[15]
    assert (stratified_holdout(labels, 0.2, seed=0) == held).all()
    assert not stratified_holdout(labels, 0.0, seed=0).any()


def test_save_load_round_trip_and_wrong_kind(next_fit, tmp_path):
    model, _ = next_fit
    frame, _ = purchases(50, seed=9)
    path = save_model(model, tmp_path / "next.model", "next-purchase")
    loaded = load_model(path, "next-purchase")
    assert np.array_equal(loaded.predict_proba(frame), model.predict_proba(frame))
    assert loaded.evaluation_ == model.evaluation_
    with pytest.raises(InvalidInputError, match="holds a next-purchase model, not an uplift model"):
        load_model(path, "uplift")


def test_on_the_simulated_purchases():
    simulate = pytest.importorskip("adlens.uplift.simulate")
    purchases = simulate.simulate(6000, seed=0).purchases  # numbers as numbers, text as pandas strings
    model, evaluation = fit_next_purchase(purchases)
    assert set(model.classes_) == set(simulate.BRANDS) and model.numeric_ == ["age"]
    assert evaluation.model.log_loss < evaluation.baselines["transition"].log_loss
    assert evaluation.model.log_loss < evaluation.baselines["shares"].log_loss
