"""``adlens uplift campaigns | targets | forget`` over a store with saved uplift scores."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from adlens.cli import uplift_offers

app = typer.Typer()
uplift_offers.register(app)


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def scored(data_dir: Path) -> None:
    """Campaign "spring" over customers c0..c5 (uplift -0.2 … 0.3), c0..c3 in two segments."""
    from adlens.store import open_store

    with open_store() as store:
        ids = [f"c{i}" for i in range(6)]
        store.save_uplift_scores("spring", ids, [-0.2, -0.1, 0.0, 0.1, 0.2, 0.3], model="t-learner.joblib")
        store.replace_segments([{"label": "even"}, {"label": "odd"}], {"c0": 0, "c1": 1, "c2": 0, "c3": 1})


def test_campaigns(scored: None) -> None:
    (campaign,) = json.loads(run("campaigns", "--json").stdout)
    assert campaign | {"scored_at": None} == {"campaign": "spring", "model": "t-learner.joblib", "customers": 6,
                                              "mean_uplift": 0.05, "share_positive": 0.5, "scored_at": None}
    table = run("campaigns").stdout
    assert "spring" in table and "0.0500" in table and "50.0%" in table


def test_no_campaigns(data_dir: Path) -> None:
    assert json.loads(run("campaigns", "--json").stdout) == []
    assert "no uplift campaigns" in run("campaigns").stdout


@pytest.mark.parametrize(("options", "expected"), [
    ([], ["c5", "c4", "c3", "c2", "c1", "c0"]),
    (["--min", "0.1"], ["c5", "c4", "c3"]),
    (["--max", "0"], ["c2", "c1", "c0"]),
    (["--min", "-0.1", "--max", "0.1", "--limit", "2"], ["c3", "c2"]),
])
def test_customer_targets(scored: None, options: list[str], expected: list[str]) -> None:
    result = run("targets", "spring", *options, "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert [t["customer"] for t in found["targets"]] == expected and found["count"] == len(expected)


def test_segment_targets(scored: None) -> None:
    found = json.loads(run("targets", "spring", "--by", "segment", "--json").stdout)
    assert [(t["segment"], t["customers"]) for t in found["targets"]] == [(2, 2), (1, 2)]
    assert found["targets"][0]["mean_uplift"] == pytest.approx(0.0)
    assert found["by"] == "segment"
    table = run("targets", "spring", "--by", "segment", "--min", "-0.05").stdout
    assert "1 segment(s) of campaign spring with uplift ≥ -0.05" in table and "mean uplift" in table


def test_the_table_shows_the_first_ones_and_says_how_many_more(scored: None,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uplift_offers, "SHOWN", 2)
    result = run("targets", "spring")
    assert "6 customer(s) of campaign spring" in result.stdout
    assert "c5" in result.stdout and "c4" in result.stdout and "c3" not in result.stdout
    assert "… and 4 more" in result.stderr


def test_targets_to_csv(scored: None, tmp_path: Path) -> None:
    path = tmp_path / "out" / "targets.csv"
    result = run("targets", "spring", "--min", "0", "--out", str(path))
    assert result.exit_code == 0 and result.stdout == ""
    assert f"4 customer target(s) written to {path}" in result.stderr
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["customer"] for r in rows] == ["c5", "c4", "c3", "c2"]
    assert rows[-1] == {"customer": "c2", "uplift": "0.0", "segment": "1"}
    assert rows[0]["segment"] == ""


@pytest.mark.parametrize(("args", "message"), [
    (["targets", "autumn"], "unknown uplift campaign 'autumn'"),
    (["targets", "spring", "--min", "0.3", "--max", "0.1"], "minimum uplift 0.3 is above the maximum 0.1"),
    (["forget", "autumn"], "unknown uplift campaign 'autumn'"),
])
def test_errors(scored: None, args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2 and message in result.stderr


def test_forget(scored: None) -> None:
    result = run("forget", "spring")
    assert result.exit_code == 0 and "forgot campaign spring (6 scores)" in result.stdout
    assert json.loads(run("campaigns", "--json").stdout) == []


def test_the_commands_are_in_the_uplift_group() -> None:
    from adlens.cli.uplift import app as uplift_app

    result = CliRunner().invoke(uplift_app, ["--help"])
    assert all(name in result.stdout for name in ("campaigns", "targets", "forget"))
