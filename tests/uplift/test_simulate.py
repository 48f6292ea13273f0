"""The synthetic campaign: reproducible, randomised, four kinds of people, the true uplift exact."""

from __future__ import annotations

import numpy as np
import pytest

from adlens.errors import InvalidInputError
from adlens.uplift.simulate import BRANDS, CONTROL, GROUPS, OFFER, RESIDENCES, simulate


def test_same_seed_same_tables_and_another_seed_differs():
    first, again, other = simulate(2_000, 7), simulate(2_000, 7), simulate(2_000, 8)
    assert first.campaign.equals(again.campaign) and first.purchases.equals(again.purchases)
    assert not first.campaign.equals(other.campaign)


def test_columns_are_numeric_records_treatment_outcome_and_true_uplift():
    campaign = simulate(5_000, 0).campaign
    assert campaign.columns[0] == "customer_id" and campaign["customer_id"].is_unique
    assert {"treatment", "outcome", "true_uplift", "age", "tenure_months", "data_gb"} <= set(campaign.columns)
    assert {f"residence_{r}" for r in RESIDENCES} | {f"phone_{b}" for b in BRANDS} <= set(campaign.columns)
    numeric = campaign.drop(columns="customer_id")
    assert all(np.issubdtype(dtype, np.number) for dtype in numeric.dtypes)
    assert set(campaign["treatment"].unique()) == {0, 1} and set(campaign["outcome"].unique()) == {0, 1}
    one_hot = campaign[[f"residence_{r}" for r in RESIDENCES]].sum(axis=1)
    assert (one_hot == 1).all()


def test_true_uplift_spans_persuadables_and_sleeping_dogs():
    result = simulate(20_000, 0)
    truth = result.campaign["true_uplift"]
    assert truth.min() >= (OFFER - CONTROL).min() - 1e-9 and truth.max() <= (OFFER - CONTROL).max() + 1e-9
    assert (truth < -0.1).mean() > 0.05 and (truth > 0.3).mean() > 0.1
    shares = result.group_shares()
    assert list(shares) == list(GROUPS) and all(share > 0.08 for share in shares.values())


def test_treatment_is_random_and_the_observed_uplift_matches_the_truth():
    campaign = simulate(50_000, 3, treated_share=0.3).campaign
    treated = campaign["treatment"] == 1
    assert treated.mean() == pytest.approx(0.3, abs=0.01)
    # randomised: the arms do not differ in their records
    assert campaign["age"][treated].mean() == pytest.approx(campaign["age"][~treated].mean(), abs=0.5)
    observed = campaign["outcome"][treated].mean() - campaign["outcome"][~treated].mean()
    assert observed == pytest.approx(campaign["true_uplift"].mean(), abs=0.015)


def test_purchases_are_the_same_customers_with_brands_as_text():
    result = simulate(3_000, 1)
    purchases = result.purchases
    assert list(purchases.columns) == ["customer_id", "age", "residence", "manufacturer", "next_manufacturer"]
    assert (purchases["customer_id"] == result.campaign["customer_id"]).all()
    assert set(purchases["manufacturer"]) <= set(BRANDS) and set(purchases["residence"]) <= set(RESIDENCES)
    stay = (purchases["manufacturer"] == purchases["next_manufacturer"]).groupby(purchases["manufacturer"]).mean()
    assert stay["aster"] > stay["dyna"] + 0.2


@pytest.mark.parametrize(("n", "share", "message"), [(0, 0.5, "number of customers"),
                                                     (10, 0.0, "treated share"), (10, 1.0, "treated share")])
def test_bad_arguments(n, share, message):
    with pytest.raises(InvalidInputError, match=message):
        simulate(n, 0, share)
