"""Package names imported on first use (``adlens.lazy``): the same objects as an eager import, and clear misses."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize(("package", "name", "home"), [
    ("adlens.store", "open_store", "adlens.store.db"),
    ("adlens.store", "Segment", "adlens.store.segments"),
    ("adlens.decision", "Decider", "adlens.decision.engine"),
    ("adlens.decision", "Candidate", "adlens.events"),
    ("adlens.signage", "SignageLoop", "adlens.signage.loop"),
    ("adlens.reports", "load_metrics", "adlens.reports.metrics"),
])
def test_a_lazy_name_is_its_home_module_s_object(package: str, name: str, home: str) -> None:
    module = importlib.import_module(package)
    assert getattr(module, name) is getattr(importlib.import_module(home), name)
    assert name in vars(module)  # kept on the package after the first use


@pytest.mark.parametrize("package", ["adlens.store", "adlens.decision", "adlens.signage", "adlens.reports"])
def test_every_listed_name_resolves(package: str) -> None:
    module = importlib.import_module(package)
    assert all(getattr(module, name) is not None for name in module.__all__)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="'adlens.decision' has no attribute 'Nothing'"):
        importlib.import_module("adlens.decision").Nothing
