"""``adlens uplift simulate | fit | score | report`` end to end on simulated campaigns."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from helpers import run_cli


@pytest.fixture(scope="module")
def campaigns(tmp_path_factory):
    folder = tmp_path_factory.mktemp("uplift-cli")
    for name, seed in (("train.csv", 1), ("test.csv", 2)):
        result = run_cli("uplift", "simulate", "--n", "8000", "--seed", str(seed), "--out", str(folder / name),
                         "--purchases", str(folder / f"purchases-{name}"))
        assert result.exit_code == 0, result.output
    return folder


@pytest.fixture(scope="module")
def model(campaigns):
    path = campaigns / "uplift.model"
    result = run_cli("uplift", "fit", str(campaigns / "train.csv"), "--treatment", "treatment", "--outcome",
                     "outcome", "--model", "x", "--out", str(path), "--json", str(campaigns / "fit.json"))
    assert result.exit_code == 0, result.output
    assert "held-out 20%" in result.output and "response model" in result.output
    return path


def test_simulate_writes_the_campaign_and_purchases(campaigns):
    frame = pd.read_csv(campaigns / "train.csv")
    assert len(frame) == 8000 and {"treatment", "outcome", "true_uplift"} <= set(frame.columns)
    assert "next_manufacturer" in pd.read_csv(campaigns / "purchases-train.csv").columns


def test_fit_json_records_what_was_left_out(model, campaigns):
    card = json.loads((campaigns / "fit.json").read_text())
    assert card["learner"] == "x" and "true_uplift" in card["excluded"]
    assert card["validation"]["qini_coefficient"] > card["validation"]["response_model"]["qini_coefficient"]


def test_report_json_plots_and_targeting_list(model, campaigns):
    out = campaigns / "report.html"
    result = run_cli("uplift", "report", str(model), str(campaigns / "test.csv"), "--out", str(out), "--json",
                     str(campaigns / "report.json"), "--targets", str(campaigns / "targets.csv"), "--top", "25")
    assert result.exit_code == 0, result.output
    metrics = json.loads((campaigns / "report.json").read_text())
    for key in ("qini_coefficient", "auuc", "uplift_at_30", "oracle_qini_coefficient"):
        assert isinstance(metrics[key], float)
    assert metrics["qini_coefficient"] >= 0.7 * metrics["oracle_qini_coefficient"]
    assert out.read_text().count("data:image/png;base64,") == 3
    targets = pd.read_csv(campaigns / "targets.csv")
    assert len(targets) == 2000 and targets["uplift"].is_monotonic_decreasing
    assert list(targets.columns[:2]) == ["customer_id", "uplift"]


def test_score_to_stdout_and_to_a_file(model, campaigns):
    result = run_cli("uplift", "score", str(model), str(campaigns / "test.csv"), "--top", "0.05")
    assert result.exit_code == 0
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "customer_id,uplift,p_offer,p_no_offer,rank" and len(lines) == 5
    features_only = campaigns / "new.csv"
    pd.read_csv(campaigns / "test.csv").drop(columns=["treatment", "outcome", "true_uplift"]).to_csv(
        features_only, index=False)
    result = run_cli("uplift", "score", str(model), str(features_only), "--out", str(campaigns / "s.csv"))
    assert result.exit_code == 0 and "8,000 rows" in result.output
    assert len(pd.read_csv(campaigns / "s.csv")) == 8000


@pytest.mark.parametrize(("edit", "args", "message"), [
    (lambda f: f.assign(treatment=2), [], "must be 0 or 1"),
    (lambda f: f.assign(treatment=1), [], "the control arm is empty"),
    (lambda f: f.assign(plan="gold"), [], "column 'plan' is not numeric"),
    (lambda f: f.drop(columns="outcome"), [], "has no column 'outcome'"),
    (lambda f: f, ["--features", "true_uplift"], "cannot be a feature"),
    (lambda f: f, ["--model", "z"], "unknown uplift learner"),
])
def test_fit_refuses_bad_input_with_a_clear_message(campaigns, tmp_path, edit, args, message):
    path = tmp_path / "bad.csv"
    edit(pd.read_csv(campaigns / "train.csv").head(400)).to_csv(path, index=False)
    result = run_cli("uplift", "fit", str(path), "--treatment", "treatment", "--outcome", "outcome",
                     "--out", str(tmp_path / "m"), *args)
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())
    assert not (tmp_path / "m").exists()


def test_score_refuses_files_that_are_not_models(campaigns, tmp_path):
    fake = tmp_path / "fake.model"
    fake.write_text("hello")
    result = run_cli("uplift", "score", str(fake), str(campaigns / "test.csv"))
    assert result.exit_code == 2 and "not an adlens model file" in result.stderr


def test_score_save_keeps_scores_for_offers(model, campaigns, data_dir):
    result = run_cli("uplift", "score", str(model), str(campaigns / "test.csv"), "--out",
                     str(campaigns / "saved.csv"), "--save", "spring")
    assert result.exit_code == 0, result.output
    assert "8,000 uplift scores saved as campaign 'spring'" in " ".join(result.stdout.split())
    from adlens.store import open_store

    with open_store() as store:
        (campaign,) = store.list_uplift_campaigns()
        scores = pd.read_csv(campaigns / "saved.csv").set_index("customer_id")["uplift"]
        assert campaign.name == "spring" and campaign.customers == 8000 and campaign.model == "uplift.model"
        found = store.uplift_scores("spring", ["C0000001", "C0000002"])
        assert found["C0000001"] == pytest.approx(scores["C0000001"], abs=1e-5)
    listed = run_cli("uplift", "targets", "spring", "--min", "0.3", "--json")
    listing = json.loads(listed.stdout)
    assert listed.exit_code == 0 and listing["count"] > 100
    assert all(row["uplift"] >= 0.3 for row in listing["targets"])


def test_score_save_needs_ids(model, campaigns, tmp_path, data_dir):
    anonymous = tmp_path / "anonymous.csv"
    pd.read_csv(campaigns / "test.csv").drop(columns="customer_id").head(50).to_csv(anonymous, index=False)
    result = run_cli("uplift", "score", str(model), str(anonymous), "--save", "spring")
    assert result.exit_code == 2 and "--save needs customer ids" in result.stderr
