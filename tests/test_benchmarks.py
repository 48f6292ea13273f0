"""The benchmark scripts run and print the JSON they promise (no timing asserts)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

from helpers import DATA, REPO, need


def test_vision_benchmark_quick(tmp_path, faces_small):
    for name in ("obama-240p.jpg", "two_people.jpg"):
        shutil.copy(faces_small / name, tmp_path / name)
    completed = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "vision.py"), "--data", str(tmp_path), "--quick", "--repeat", "1"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert result["photos"] == 2
    for pipeline in ("adlens", "adlens_no_embed", "baseline_dlib_hog"):
        assert result[pipeline]["faces_found"] == 3 and result[pipeline]["photos_per_s"] > 0
    assert set(result["adlens"]["stage_ms_per_photo"]) == {"decode", "detect", "align", "embed", "emotion", "age", "gender",
                                                               "eyewear_beard_hat"}
    assert result["speedup_vs_baseline"] > 0


def test_vision_benchmark_missing_data(tmp_path):
    completed = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "vision.py"), "--data", str(tmp_path / "nope"), "--quick"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert completed.returncode != 0 and "nope" in completed.stderr


def test_recommend_benchmark_quick():
    need(DATA / "fashion_products_subset")
    completed = subprocess.run([sys.executable, str(REPO / "benchmarks" / "recommend.py"), "--quick"],
                               capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert result["quality"]["shoppers"] == 30 and result["latency"]["products"] == 10_000
    assert set(result["quality"]["by_answers"]) == {"5", "10", "20"}
    assert set(result["quality"]["by_answers"]["10"]) == {"adlens", "popularity", "random", "adlens_random_shown"}
    assert isinstance(result["beats_popularity_at_10"], bool) and isinstance(result["latency_ok"], bool)
    assert result["latency"]["recommend_ms"]["p50"] > 0


def test_recommend_benchmark_missing_data(tmp_path):
    completed = subprocess.run([sys.executable, str(REPO / "benchmarks" / "recommend.py"), "--data",
                                str(tmp_path / "nope")], capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 2 and "nope" in completed.stderr
