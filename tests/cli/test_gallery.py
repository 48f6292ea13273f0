"""``adlens gallery enrol|identify|list|delete|calibrate`` over an embedded store (the Typer sub-app directly)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from adlens.cli.gallery import app
from adlens.settings import get_settings
from helpers import FACES_SMALL, MODELS, need


def run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture()
def members(data_dir, monkeypatch):
    """A fresh embedded store in members mode."""
    need(MODELS)
    need(FACES_SMALL)
    monkeypatch.setenv("ADLENS_MODE", "members")
    get_settings.cache_clear()
    yield data_dir
    get_settings.cache_clear()


def test_enrol_identify_list_delete(members):
    train = FACES_SMALL / "train"
    result = run("enrol", "obama", str(train / "obama" / "obama.jpg"), str(train / "obama" / "obama2.jpg"),
                 "--consent", "I agree to be recognised", "--expires", "2999-01-31")
    assert result.exit_code == 0, result.output
    assert "enrolled obama: 2 embeddings added, 2 held" in result.stdout
    assert "until 2999-01-31T00:00:00" in result.stdout
    faces = json.loads(run("identify", str(FACES_SMALL / "two_people.jpg"), "--json").stdout)
    assert sorted(f["customer"] or "" for f in faces) == ["", "obama"]
    assert all(set(f) == {"face", "box", "customer", "distance"} and f["distance"] > 0 for f in faces)
    table = run("identify", str(FACES_SMALL / "two_people.jpg")).stdout
    assert "obama" in table and "unknown" in table
    assert "distance: an enrolled member up to 0.50" in table  # the distances say what they mean
    listed = run("list").stdout
    assert "1 enrolled customers" in listed and "obama" in listed and "active" in listed and "2999" in listed
    (row,) = json.loads(run("list", "--json").stdout)
    assert row["embeddings"] == 2 and row["expired"] is False and "embedding" not in json.dumps(row).replace(
        '"embeddings"', "")
    erased = run("delete", "obama")
    assert erased.exit_code == 0 and "erased obama: 2 embeddings, consent yes" in erased.stdout
    assert json.loads(run("list", "--json").stdout) == []
    unknown = run("delete", "obama")
    assert unknown.exit_code == 2 and "unknown customer 'obama'" in unknown.output


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [(("enrol", "x", "two_people.jpg", "--consent", "yes"), 1, "2 faces found"),
     (("enrol", "x", "32bit.png", "--consent", "yes", "--expires", "yesterday"), 2, "not a date-time"),
     (("enrol", "x", "32bit.png", "--consent", "yes", "--expires", "2001-01-01"), 2, "already past"),
     (("enrol", "x", "32bit.png", "--consent", " "), 1, "consent text")],
)
def test_refused_enrolments(members, args, code, message):
    args = [str(FACES_SMALL / a) if a.endswith((".jpg", ".png")) else a for a in args]
    result = run(*args)
    assert result.exit_code == code and message in result.output, result.output
    assert json.loads(run("list", "--json").stdout) == []


def test_anonymous_mode_refuses(data_dir, monkeypatch):
    need(FACES_SMALL)
    monkeypatch.setenv("ADLENS_MODE", "anonymous")
    get_settings.cache_clear()
    result = run("identify", str(FACES_SMALL / "32bit.png"))
    assert result.exit_code == 1 and "anonymous mode" in result.output


def test_calibrate(tmp_path):
    need(MODELS)
    people = tmp_path / "people"
    people.mkdir()
    for person in ("obama", "biden"):
        (people / person).symlink_to(FACES_SMALL / "train" / person, target_is_directory=True)
    result = run("calibrate", str(people), "--strangers", str(FACES_SMALL / "lin-manuel-miranda.png"), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["people"], report["genuine_pairs"], report["impostor_pairs"]) == (2, 2, 4 + 4)
    assert [row["threshold"] for row in report["table"]] == [0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7]
    assert report["current"]["threshold"] == get_settings().gallery_threshold
    assert report["recommended"]["far"] == 0.0 and report["recommended"]["frr"] == 0.0
    human = run("calibrate", str(people)).stdout
    assert "recommended" in human and "2 genuine and 4 impostor pairs" in human
