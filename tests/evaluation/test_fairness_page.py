"""The fairness page: one self-contained HTML file with the numbers, the notes and inline plots."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import numpy as np

from adlens.evaluation.fairness_page import render_fairness, write_fairness
from adlens.evaluation.groupstats import summarize


def synthetic_result(n: int = 120) -> dict:
    rng = np.random.default_rng(5)
    groups = [("male/white", "female/asian", "female/<b>")[k % 3] for k in range(n)]
    true_age = rng.integers(5, 70, size=n).astype(float)
    embeddings = [rng.normal(0, 0.2, size=16) for _ in range(n - 2)] + [None, None]
    numbers = summarize(true_age, true_age + rng.normal(0, 4, size=n), rng.random(n) < 0.9, groups,
                        [g.split("/")[1] for g in groups], embeddings, {"gallery": 0.5, "match": 0.6})
    return {"models": {"detector": "yunet", "age": "age-x", "gender": "gender-y", "embedder": "dlib (onnx)"},
            "n_files": n + 1, "bad_names": ["holiday.jpg"], "skipped": [], "trained_on_utkface": ["age-x"],
            "thresholds": {"gallery": 0.5, "match": 0.6}, **numbers}


def test_the_page_is_self_contained_and_escaped():
    html = render_fairness(synthetic_result(), datetime(2026, 12, 5, tzinfo=timezone.utc))
    assert html.startswith("<!DOCTYPE html>") and html.count('src="data:image/png;base64,') == 4
    assert not re.search(r"""(src|href)=["'](https?:)?//""", html) and "<script" not in html and "<link" not in html
    assert "female/&lt;b&gt;" in html and "female/<b>" not in html
    for text in ("age-x", "gender-y", "dlib (onnx)", "read from the UTKFace file names", "nothing in adlens infers",
                 "treated as two different people", "holiday.jpg", "age-x was trained on UTKFace", "pass", "FAIL", "gallery threshold"):
        assert text in html


def test_a_page_without_pairs_says_so(tmp_path):
    result = synthetic_result(3)
    result["false_matches"] = result["false_matches_adults"] = {"faces": 0, "groups": {}, "ethnicities": {},
                                                                "all": None, "curves": None}
    path = write_fairness(result, tmp_path / "sub" / "fair.html")
    html = path.read_text(encoding="utf-8")
    assert "Too few faces with an embedding" in html and "Too few adult faces" in html and "no pairs to compare" in html
