"""``adlens uplift next-purchase fit / predict / report`` on a small CSV written by the test."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

from helpers import run_cli

BRANDS = ["Apple", "Samsung", "Nokia"]


def write_purchases(path: Path, n: int = 600, seed: int = 0, bad: dict[int, tuple[str, str]] | None = None,
                    columns: tuple[str, str] = ("manufacturer", "next_manufacturer")) -> Path:
    """A purchases CSV: owners stay with probability 0.8 / 0.6 / 0.3; ``bad`` overwrites ``{row: (column, value)}``."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        brand = int(rng.choice(3, p=[0.4, 0.4, 0.2]))
        stays = rng.random() < (0.8, 0.6, 0.3)[brand]
        bought = brand if stays else int(rng.choice([b for b in range(3) if b != brand]))
        rows.append({"customer_id": f"c{i}", "age": str(int(rng.integers(18, 80))),
                     "residence": str(rng.choice(["city", "town", "village"])),
                     columns[0]: BRANDS[brand], columns[1]: BRANDS[bought]})
    for row, (column, value) in (bad or {}).items():
        rows[row][column] = value
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("next")
    data = write_purchases(folder / "purchases.csv")
    result = run_cli("uplift", "next-purchase", "fit", str(data), "--out", str(folder / "np.model"),
                     "--json", str(folder / "fit.json"))
    assert result.exit_code == 0, result.output
    return folder, data, result


def test_fit_prints_held_out_scores_and_json(fitted):
    folder, data, result = fitted
    assert "held out 119 rows" in result.stdout and "log loss" in result.stdout
    assert "transition matrix" in result.stdout and "model written to" in result.stdout
    summary = json.loads((folder / "fit.json").read_text(encoding="utf-8"))
    assert summary["rows"] == 600 and summary["brands"] == sorted(BRANDS)
    assert summary["categorical"] == ["residence"] and summary["numeric"] == ["age"]
    held = summary["held_out"]
    assert held["rows"] == 119 and {"shares", "transition", "stay"} == set(held["baselines"])
    assert held["log_loss"] < held["baselines"]["shares"]["log_loss"]


def test_predict_to_stdout_and_file(fitted):
    folder, data, _ = fitted
    result = run_cli("uplift", "next-purchase", "predict", str(folder / "np.model"), str(data), "--top", "2")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 600 and rows[0]["customer_id"] == "c0"
    assert list(rows[0]) == ["customer_id", "manufacturer", "next", "p_next", "next_2", "p_next_2", "p_stay",
                             "p_Apple", "p_Nokia", "p_Samsung"]
    first = rows[0]
    assert sum(float(first[f"p_{b}"]) for b in BRANDS) == pytest.approx(1, abs=1e-4)
    assert float(first["p_next"]) >= float(first["p_next_2"])
    assert float(first["p_stay"]) == pytest.approx(float(first[f"p_{first['manufacturer']}"]))

    out = folder / "predictions.csv"
    result = run_cli("uplift", "next-purchase", "predict", str(folder / "np.model"), str(data), "--out", str(out),
                     "--id", "residence")
    assert result.exit_code == 0 and "600 predictions written" in result.stdout
    assert out.read_text(encoding="utf-8").startswith("residence,manufacturer,next,p_next,p_stay,")


def test_predict_new_brand_and_no_id(fitted, tmp_path):
    folder, _, _ = fitted
    data = tmp_path / "now.csv"
    data.write_text("manufacturer,age,residence\nNothing,30,city\nApple,60,town\n", encoding="utf-8")
    result = run_cli("uplift", "next-purchase", "predict", str(folder / "np.model"), str(data))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows[0]["manufacturer"] == "Nothing" and rows[0]["p_stay"] == "" and float(rows[1]["p_stay"]) > 0.5
    assert "1 rows own a brand the model never saw (Nothing)" in result.stderr


def test_report_html_and_json(fitted):
    folder, data, _ = fitted
    result = run_cli("uplift", "next-purchase", "report", str(folder / "np.model"), str(data),
                     "--out", str(folder / "r.html"), "--json", str(folder / "r.json"))
    assert result.exit_code == 0, result.output
    assert "report written to" in result.stdout
    html = (folder / "r.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 3 and "<h2>Loyalty matrix</h2>" in html
    numbers = json.loads((folder / "r.json").read_text(encoding="utf-8"))
    for key in ("loyalty", "matrix", "log_loss", "accuracy", "baselines", "held_out", "loyalty_predicted"):
        assert key in numbers
    assert numbers["loyalty"]["Apple"] == pytest.approx(0.8, abs=0.07)
    assert numbers["loyalty"]["Nokia"] == pytest.approx(0.3, abs=0.1)


def test_other_column_names(tmp_path):
    data = write_purchases(tmp_path / "p.csv", n=200, columns=("brand", "then"))
    result = run_cli("uplift", "next-purchase", "fit", str(data), "--current", "brand", "--next", "then",
                     "--features", "age", "--validation", "0", "--out", str(tmp_path / "m"))
    assert result.exit_code == 0, result.output
    assert "no held-out evaluation" in result.stdout and "features: age (numeric)" in result.stdout
    result = run_cli("uplift", "next-purchase", "report", str(tmp_path / "m"), str(data),
                     "--out", str(tmp_path / "r.html"))
    assert result.exit_code == 0, result.output
    assert "log loss on this table" in (tmp_path / "r.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(("bad", "args", "message"), [
    ({4: ("age", "old")}, [], "column 'age' is not numeric (line 6: 'old')"),
    ({2: ("manufacturer", "")}, [], "column 'manufacturer' is empty on line 4"),
    ({}, ["--features", "age,income"], "has no column 'income'"),
    ({}, ["--next", "manufacturer"], "cannot be both"),
    ({}, ["--validation", "1.5"], "validation share"),
])
def test_fit_bad_input_exits_2(tmp_path, bad, args, message):
    data = write_purchases(tmp_path / "p.csv", n=50, bad=bad)
    result = run_cli("uplift", "next-purchase", "fit", str(data), *args, "--out", str(tmp_path / "m"))
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "m").exists()


def test_predict_and_report_bad_input_exit_2(fitted, tmp_path):
    folder, data, _ = fitted
    (tmp_path / "not.model").write_text("hello", encoding="utf-8")
    cases = [
        (["predict", str(tmp_path / "not.model"), str(data)], "not an adlens model file"),
        (["predict", str(folder / "np.model"), str(tmp_path / "missing.csv")], "no such file"),
        (["predict", str(folder / "np.model"), str(data), "--id", "nope"], "has no id column 'nope'"),
        (["report", str(folder / "np.model"), str(write_purchases(tmp_path / "b.csv", n=20, bad={0: ("age", "x")})),
          "--out", str(tmp_path / "r.html")], "column 'age' is not numeric (line 2: 'x')"),
    ]
    for args, message in cases:
        result = run_cli("uplift", "next-purchase", *args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.stderr, (args, result.stderr)
    assert not (tmp_path / "r.html").exists()
