"""A synthetic telecom campaign whose true uplift is known, for the demo, the tests and the benchmarks.

Each customer has the records of the research's telecom case (age, residence, phone
manufacturer, tenure, usage, bill, support calls, months left on the contract). Four
kinds of people are mixed, each with a probability of buying the offered plan without
and with a personalised offer:

====================  ==========================================  =====================
group                 who, mostly                                 P(buy) control → offer
====================  ==========================================  =====================
persuadables          young, heavy data users, newer customers    0.08 → 0.50
sure things           long tenure, high bills                     0.75 → 0.77
lost causes           light users, older, in villages             0.03 → 0.04
sleeping dogs         many support calls, contract ending soon    0.40 → 0.15
====================  ==========================================  =====================

A customer belongs to each group with a weight that is a smooth function of their
records (a softmax), so ``true_uplift`` = P(buy | offer, records) − P(buy | no offer,
records) is exact for every row and learnable from the records, never from noise. The
offer is assigned at random (``treated_share``). Categorical records are written both
ways: one-hot columns in the campaign table (so every column is numeric) and plain text
in the purchases table for the next-purchase model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from adlens.errors import InvalidInputError

if TYPE_CHECKING:
    import pandas as pd

BRANDS = ("aster", "borealis", "cirrus", "dyna", "equinox")
RESIDENCES = ("city", "town", "village")
GROUPS = ("persuadables", "sure things", "lost causes", "sleeping dogs")
#: P(buy) without and with the offer, per group (in :data:`GROUPS` order).
CONTROL = np.array([0.08, 0.75, 0.03, 0.40])
OFFER = np.array([0.50, 0.77, 0.04, 0.15])
#: Share of each brand's owners who buy the same brand next (before age and residence effects).
LOYALTY = {"aster": 0.80, "borealis": 0.62, "cirrus": 0.48, "dyna": 0.35, "equinox": 0.55}
#: How attractive each brand is to someone who switches.
ATTRACTION = {"aster": 0.30, "borealis": 0.25, "cirrus": 0.20, "dyna": 0.10, "equinox": 0.15}
MAX_ROWS = 20_000_000


@dataclass(frozen=True)
class Simulation:
    """The two tables: ``campaign`` (numeric records, treatment, outcome, true_uplift) and ``purchases``."""

    campaign: pd.DataFrame
    purchases: pd.DataFrame
    groups: np.ndarray
    """Per customer, the index in :data:`GROUPS` of their heaviest group."""

    def group_shares(self) -> dict[str, float]:
        """The share of customers whose heaviest group is each group."""
        counts = np.bincount(self.groups, minlength=len(GROUPS))
        return {name: float(c / max(len(self.groups), 1)) for name, c in zip(GROUPS, counts, strict=True)}


def _records(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    age = np.clip(np.round(rng.normal(42, 14, n)), 18, 85)
    residence = rng.choice(len(RESIDENCES), n, p=[0.5, 0.3, 0.2])
    young = 1 / (1 + np.exp((age - 35) / 6))
    brand_logits = np.column_stack([0.8 * young, np.zeros(n), 0.3 * (residence == 2), 0.4 * (1 - young),
                                    0.2 * young]) + rng.gumbel(size=(n, len(BRANDS)))
    brand = np.argmax(brand_logits, axis=1)
    tenure = np.clip(np.round(rng.gamma(2.0, 24.0, n)), 1, 240)
    data_gb = np.round(rng.lognormal(np.log(4) + 0.9 * young - 0.3 * (residence == 2), 0.6, n), 2)
    minutes = np.round(rng.lognormal(np.log(250) + 0.2 * (1 - young), 0.5, n))
    support = rng.poisson(0.4 + 0.6 * (tenure < 12), n)
    contract = rng.integers(0, 25, n)
    bill = np.round(12 + 0.025 * minutes + 1.8 * data_gb + 0.04 * tenure + rng.normal(0, 4, n), 2)
    return {"age": age, "residence": residence, "brand": brand, "tenure_months": tenure,
            "monthly_minutes": minutes, "data_gb": data_gb, "monthly_bill": np.maximum(bill, 5.0),
            "support_calls": support, "contract_months_left": contract}


def _group_weights(r: dict[str, np.ndarray]) -> np.ndarray:
    """Per customer, the weight of each group: a softmax of scores on the records."""
    young = (35 - r["age"]) / 8
    scores = np.column_stack([
        1.4 * young + 1.2 * np.log(r["data_gb"] / 4) - r["tenure_months"] / 60 + 0.4 * (r["residence"] == 0),
        (r["tenure_months"] - 48) / 20 + (r["monthly_bill"] - 35) / 12,
        -0.5 * young - np.log(r["data_gb"] / 4) + 0.8 * (r["residence"] == 2) - 0.6,
        1.2 * (r["support_calls"] - 1) + (8 - r["contract_months_left"]) / 3,
    ])
    scores *= 1.6  # sharper groups: the records tell who is who
    scores -= scores.max(axis=1, keepdims=True)
    weights = np.exp(scores)
    return weights / weights.sum(axis=1, keepdims=True)


def _next_brand(rng: np.random.Generator, r: dict[str, np.ndarray]) -> np.ndarray:
    loyalty = np.array([LOYALTY[b] for b in BRANDS])[r["brand"]]
    logit = np.log(loyalty / (1 - loyalty)) + (r["age"] - 42) / 30 - 0.25 * (r["residence"] == 0) \
        + 0.25 * (r["residence"] == 2)
    stays = rng.random(len(logit)) < 1 / (1 + np.exp(-logit))
    attraction = np.array([ATTRACTION[b] for b in BRANDS])
    others = np.tile(attraction, (len(logit), 1))
    others[np.arange(len(logit)), r["brand"]] = 0.0
    others /= others.sum(axis=1, keepdims=True)
    switch_to = (others.cumsum(axis=1) < rng.random((len(logit), 1))).sum(axis=1)
    return np.where(stays, r["brand"], np.minimum(switch_to, len(BRANDS) - 1))


def simulate(n: int = 20_000, seed: int = 0, treated_share: float = 0.5) -> Simulation:
    """A campaign of ``n`` customers (same ``seed``, same tables) with ``treated_share`` offered at random."""
    import pandas as pd

    if not 1 <= n <= MAX_ROWS:
        raise InvalidInputError(f"the number of customers must be between 1 and {MAX_ROWS:,}, not {n:,}")
    if not 0.0 < treated_share < 1.0:
        raise InvalidInputError(f"the treated share must be strictly between 0 and 1, not {treated_share}")
    rng = np.random.default_rng(seed)
    r = _records(rng, n)
    weights = _group_weights(r)
    p_control, p_offer = weights @ CONTROL, weights @ OFFER
    treatment = (rng.random(n) < treated_share).astype(np.int8)
    outcome = (rng.random(n) < np.where(treatment == 1, p_offer, p_control)).astype(np.int8)
    ids = np.char.add("C", np.char.zfill(np.arange(1, n + 1).astype(str), 7))
    campaign = pd.DataFrame({"customer_id": ids, "age": r["age"].astype(np.int16)})
    for i, place in enumerate(RESIDENCES):
        campaign[f"residence_{place}"] = (r["residence"] == i).astype(np.int8)
    for i, brand in enumerate(BRANDS):
        campaign[f"phone_{brand}"] = (r["brand"] == i).astype(np.int8)
    for column in ("tenure_months", "monthly_minutes", "support_calls", "contract_months_left"):
        campaign[column] = r[column].astype(np.int32)
    campaign["data_gb"], campaign["monthly_bill"] = r["data_gb"], r["monthly_bill"]
    campaign["treatment"], campaign["outcome"] = treatment, outcome
    campaign["true_uplift"] = np.round(p_offer - p_control, 6)
    purchases = pd.DataFrame({
        "customer_id": ids, "age": campaign["age"], "residence": np.asarray(RESIDENCES)[r["residence"]],
        "manufacturer": np.asarray(BRANDS)[r["brand"]],
        "next_manufacturer": np.asarray(BRANDS)[_next_brand(rng, r)],
    })
    return Simulation(campaign, purchases, np.argmax(weights, axis=1))
