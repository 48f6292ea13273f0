"""Campaign tables for the uplift tests: simulated, written as CSV and read back as text, like a user's."""

from __future__ import annotations

import pytest

from helpers import simulated_campaign


@pytest.fixture(scope="module")
def train_test(tmp_path_factory):
    """A training campaign (seed 1) and an independent test campaign (seed 2), 20,000 rows each."""
    folder = tmp_path_factory.mktemp("campaigns")
    return simulated_campaign(folder, 20_000, 1, "train.csv"), simulated_campaign(folder, 20_000, 2, "test.csv")
