"""Fixtures of the uplift tests: simulated campaign tables (as CSV text, like a user's) and fitted next-purchase models."""

from __future__ import annotations

import pytest

from adlens.uplift.nextpurchase import fit_next_purchase
from helpers import simulated_campaign
from purchases import purchases, table


@pytest.fixture(scope="module")
def train_test(tmp_path_factory):
    """A training campaign (seed 1) and an independent test campaign (seed 2), 20,000 rows each."""
    folder = tmp_path_factory.mktemp("campaigns")
    return simulated_campaign(folder, 20_000, 1, "train.csv"), simulated_campaign(folder, 20_000, 2, "test.csv")


@pytest.fixture(scope="session")
def next_fit():
    """A next-purchase model fitted on 8,000 synthetic purchases (a quarter held out), and its evaluation."""
    frame, _ = purchases(8000, seed=1)
    return fit_next_purchase(frame, validation=0.25, seed=3)


@pytest.fixture(scope="module")
def loyalty_model():
    """A next-purchase model of a small table of brands A, B and C."""
    frame = table({("A", "A"): 60, ("A", "B"): 30, ("B", "B"): 40, ("B", "A"): 20, ("C", "A"): 10, ("C", "C"): 10})
    return fit_next_purchase(frame, validation=0.2)[0]
