"""``adlens ads …``: import the example inventory, list, show, remove; invalid and malformed files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adlens.cli.ads import app
from helpers import REPO

EXAMPLE = REPO / "examples" / "ads.yaml"


def run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture()
def example(tmp_path: Path) -> Path:
    """A copy of examples/ads.yaml with its creatives, to edit freely."""
    shutil.copytree(EXAMPLE.parent / "creatives", tmp_path / "creatives")
    return Path(shutil.copy(EXAMPLE, tmp_path / "ads.yaml"))


def test_import_list_show_remove(data_dir: Path, example: Path) -> None:
    dry = run("import", str(example), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "6 ads would be imported (dry run): 6 new" in dry.stdout
    assert json.loads(run("list", "--json").stdout) == []

    result = run("import", str(example))
    assert result.exit_code == 0, result.output
    assert "6 ads imported: 6 new, 0 updated, 0 unchanged; 0 invalid" in result.stdout
    assert "not in the catalogue" in result.output  # the catalogue is empty: a warning only
    assert "6 unchanged" in run("import", str(example)).stdout
    assert "6 unchanged" in run("import", str(example), "--dry-run").stdout

    listed = json.loads(run("list", "--json").stdout)
    assert [ad["id"] for ad in listed] == sorted(ad["id"] for ad in listed)
    beer = next(ad for ad in listed if ad["id"] == "craft-beer")
    assert beer["age_restricted"] is True and beer["restricted_by"] == ["alcohol"]
    assert beer["creatives"][0]["has_face"] is False
    assert beer["creatives"][0]["image"] == str(example.parent / "creatives" / "craft-beer.png")
    table = run("list").stdout
    assert "summer-shades" in table and "store-welcome" in table

    shown = run("show", "craft-beer").stdout
    assert "age-restricted: yes (alcohol)" in shown and "17:00-23:30" in shown and "1/person/12h" in shown
    assert json.loads(run("show", "summer-shades", "--json").stdout)["targeting"]["attributes"] == {"eyewear": True}

    assert run("remove", "craft-beer").exit_code == 0
    missing = run("show", "craft-beer")
    assert missing.exit_code == 2 and "unknown ad 'craft-beer'" in missing.output
    assert run("remove", "craft-beer").exit_code == 2


def test_invalid_ads_are_listed_and_skipped(data_dir: Path, example: Path) -> None:
    text = example.read_text().replace("priority: 3", "priority: 30").replace(
        "image: creatives/craft-beer.png", "image: creatives/missing.png")
    example.write_text(text)
    result = run("import", str(example), "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert len(report["created"]) == 4
    assert report["skipped"] == ["ads[0] (summer-shades)", "ads[1] (craft-beer)"]
    assert [p["where"] for p in report["problems"]] == ["ads[0] (summer-shades).priority",
                                                      "ads[1] (craft-beer).creatives[0] (main).image"]
    plain = run("import", str(example))
    assert plain.exit_code == 1
    assert "4 unchanged; 2 invalid (skipped)" in plain.stdout
    assert f"{example}: ads[0] (summer-shades).priority: Input should be less than or equal to 10" in plain.output


@pytest.mark.parametrize(("text", "message"), [
    ("ads: [\n", "line 2: not valid YAML"),
    ("- id: a\n", "expected a mapping with a list 'ads'"),
])
def test_malformed_file_is_a_usage_error(data_dir: Path, tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "ads.yaml"
    path.write_text(text)
    result = run("import", str(path))
    assert result.exit_code == 2
    assert message in result.output and str(path) in result.output
