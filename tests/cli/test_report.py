"""``adlens report`` over an embedded store (the command wrapped in a small Typer app)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import typer
from typer.testing import CliRunner

from adlens.cli.report import report
from eventlog import decision_event, play_event, summary
from adlens.times import utcnow

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def invoke(*args: str):
    app = typer.Typer()
    app.command()(report)
    app.command("unused")(lambda: None)  # two commands: Typer then keeps "report" as a sub-command name
    return CliRunner().invoke(app, ["report", *args], catch_exceptions=False)


@pytest.fixture()
def logged(data_dir):
    from adlens.store import open_store

    with open_store() as store:
        now = utcnow()
        store.append_events([
            decision_event(now - timedelta(days=3), "door", "old", "a", audience=summary(1)),
            decision_event(now - timedelta(hours=1), "door", "new", "a", audience=summary(2),
                           reasons=["targets adults"]),
            play_event(now - timedelta(minutes=59), "door", "new", "a", value=10, ots=2, watchers=1, dwell=12,
                       attention=5),
        ])
    return data_dir


def test_report_and_json(logged, tmp_path):
    result = invoke("--since", "24h", "--out", str(tmp_path / "r.html"), "--json", str(tmp_path / "m.json"))
    assert result.exit_code == 0, result.output
    assert "report written to" in result.stdout and "1 decisions, 1 plays" in result.stdout
    assert "<h2>Per-ad metrics</h2>" in (tmp_path / "r.html").read_text(encoding="utf-8")
    metrics = json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))
    assert metrics["counts"]["decision"] == 1 and metrics["ads"][0]["ots"] == 2
    assert metrics["since"] is not None and metrics["reasons"] == {"targets adults": 1}


def test_report_of_everything_by_default(logged, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke()
    assert result.exit_code == 0, result.output
    assert (tmp_path / "report.html").exists() and "2 decisions" in result.stdout


def test_rows_at_impossible_times_leave_the_report_whole(logged, tmp_path):
    from adlens.store import open_store

    with open_store() as store:
        store.append_events([decision_event(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), "door", "x1", "a"),
                             decision_event(datetime(1, 1, 1, tzinfo=UTC), "door", "x2", "a")])
    result = invoke("--out", str(tmp_path / "r.html"), "--json", str(tmp_path / "m.json"))
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))["skipped"] == 2


def test_empty_store(data_dir, tmp_path):
    result = invoke("--out", str(tmp_path / "r.html"))
    assert result.exit_code == 0, result.output
    assert "No events yet" in (tmp_path / "r.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(("args", "message"), [
    (["--since", "yesterday-ish"], "not a date"),
    (["--since", "1d", "--until", "2d"], "must come before"),
    (["--since", "0001-01-01"], "since 0001-01-01"), (["--until", "1999-12-31"], "until 1999-12-31"),
])
def test_bad_periods(data_dir, tmp_path, args, message):
    result = invoke(*args, "--out", str(tmp_path / "r.html"))
    assert result.exit_code == 2 and message in result.stderr
    assert not (tmp_path / "r.html").exists()
