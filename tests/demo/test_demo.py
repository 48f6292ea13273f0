"""``adlens demo``: the whole engine on built-in defaults, nothing from ../shared but the weights."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import MODELS, need, run_cli

pytest.importorskip("skimage")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    need(MODELS)
    from adlens.demo import run_demo

    return run_demo(tmp_path_factory.mktemp("demo"), days=1)


def test_every_sample_gets_a_decision_and_an_annotated_picture(demo) -> None:
    chosen = {p.name: p.ad for p in demo.pictures}
    assert chosen["sunglasses"] == "summer-shades"
    assert chosen["coffee"] == "coffee-corner"  # nobody there: only the untargeted ad is eligible
    for picture in demo.pictures:
        assert picture.annotated.stat().st_size > 0 and picture.picture.exists()


def test_the_sunglasses_viewer_gets_the_look_alike_creative(demo) -> None:
    shades = next(p for p in demo.pictures if p.name == "sunglasses")
    assert shades.creative == "with-model"


def test_the_simulated_day_teaches_the_bandit(demo) -> None:
    assert demo.simulated > 200
    assert demo.mean_reward_last > demo.mean_reward_first


def test_report_is_written_with_plots(demo) -> None:
    html = demo.report.read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") >= 4


def test_offers_part_fits_reports_and_targets(demo) -> None:
    offers = demo.offers
    assert offers.oracle_qini > offers.qini > offers.response_qini and offers.qini >= 0.7 * offers.oracle_qini
    assert offers.uplift_report.read_text(encoding="utf-8").count("data:image/png;base64,") == 3
    assert offers.loyalty_report.exists() and offers.loyalty["aster"] > offers.loyalty["dyna"]
    targets = offers.targets.read_text(encoding="utf-8").splitlines()
    assert targets[0].startswith("customer_id,uplift") and len(targets) == 1 + 6_000


def test_demo_keeps_to_its_folder(demo) -> None:
    assert str(demo.folder) in demo.store_url
    # The model face's embedding is encrypted with a key of the demo's own, not the user's.
    assert (demo.folder / "data" / "gallery.key").exists()


def test_demo_command(tmp_path: Path) -> None:
    need(MODELS)
    result = run_cli("demo", "--out", str(tmp_path / "demo"), "--days", "0")
    assert result.exit_code == 0, result.output
    assert "report" in result.stdout and (tmp_path / "demo" / "report.html").exists()
    assert (tmp_path / "demo" / "annotated" / "crowd.png").exists()
    assert "uplift report" in result.stdout and (tmp_path / "demo" / "offers" / "targets.csv").exists()
