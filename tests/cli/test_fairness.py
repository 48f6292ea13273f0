"""``adlens eval fairness``: exit codes, --json, --out, the terminal summary."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from adlens.cli import app
from helpers import eval_json_by_workers
from utkface import utk_folder

runner = CliRunner()


def test_eval_fairness_writes_json_and_the_page(tmp_path):
    folder = tmp_path / "utk"
    folder.mkdir()
    utk_folder(folder, step=400)
    result = runner.invoke(app, ["eval", "fairness", str(folder), "--json", str(tmp_path / "f.json"),
                                 "--out", str(tmp_path / "report" / "f.html"), "--workers", "1"])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "f.json").read_text())
    assert data["n"] == 5 and len(data["skipped"]) == 1 and len(data["bad_names"]) == 1
    assert {"groups", "age_brackets", "gaps", "false_matches", "targets", "models"} <= set(data)
    html = (tmp_path / "report" / "f.html").read_text(encoding="utf-8")
    assert "adlens fairness report" in html and "data:image/png;base64," in html
    for text in ("models:", data["models"]["age"], "gender accuracy", "target overall gender accuracy",
                 "report written to", "left out: ", "holiday.jpg: name is not AGE_GENDER_RACE_DATE"):
        assert text in result.stdout


def test_eval_fairness_without_utkface_names_exits_2(tmp_path):
    (tmp_path / "holiday.jpg").write_bytes(b"")
    result = runner.invoke(app, ["eval", "fairness", str(tmp_path)])
    assert result.exit_code == 2 and "UTKFace-named" in result.output


def test_eval_fairness_needs_a_folder(tmp_path):
    result = runner.invoke(app, ["eval", "fairness", str(tmp_path / "missing")])
    assert result.exit_code == 2


def test_eval_fairness_workers_give_the_same_result(tmp_path):
    folder = tmp_path / "utk"
    folder.mkdir()
    utk_folder(folder, step=500)
    results = eval_json_by_workers(tmp_path, "fairness", str(folder))
    assert results[0] == results[1] and results[0]["n"] == 4
