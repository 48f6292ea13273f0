"""The uplift report: sections, embedded plots, escaped text, written atomically."""

from __future__ import annotations

import numpy as np

from adlens.uplift.metrics import evaluate
from adlens.uplift.report import render_report, write_report


def result_and_scores(n: int = 3_000, truth: bool = True):
    rng = np.random.default_rng(0)
    true_uplift = rng.choice([-0.2, 0.0, 0.4], n)
    t = rng.integers(0, 2, n)
    y = (rng.random(n) < 0.3 + t * true_uplift).astype(int)
    uplift = true_uplift + rng.normal(0, 0.1, n)
    return evaluate(y, uplift, t, true_uplift if truth else None), uplift, true_uplift if truth else None


CARD = {"learner": "t", "estimator": "hgb", "treatment": "treatment", "outcome": "outcome", "rows": 10,
        "features": ["age", "<b>tenure</b>"], "excluded": ["true_uplift"], "fitted_at": "2026-11-21T10:00:00",
        "validation": {"share": 0.2, "rows": 2, "qini_coefficient": 0.2, "oracle_qini_coefficient": 0.25,
                       "response_model": {"qini_coefficient": 0.01}}}


def test_report_has_every_section_and_three_plots():
    result, uplift, truth = result_and_scores()
    html = render_report(result, uplift, CARD, "campaign <2026>.csv", truth)
    for title in ("Summary", "Qini curve", "Uplift by decile", "Predicted uplift", "The model"):
        assert f"<h2>{title}</h2>" in html
    assert html.count("data:image/png;base64,") == 3
    assert "oracle Qini" in html and "share of oracle" in html
    assert "campaign &lt;2026&gt;.csv" in html and "&lt;b&gt;tenure&lt;/b&gt;" in html
    assert "response model that predicts the outcome and ignores the offer" in html


def test_report_without_truth_or_validation(tmp_path):
    result, uplift, _ = result_and_scores(truth=False)
    card = {**CARD, "validation": {"skipped": "too few rows"}}
    path = write_report(result, uplift, card, "c.csv", tmp_path / "r" / "report.html")
    html = path.read_text()
    assert "oracle" not in html.split("<h2>Summary</h2>")[1].split("</section>")[0].replace("oracle (", "")
    assert "Not validated: too few rows." in html
    assert [p.name for p in path.parent.iterdir()] == ["report.html"]
