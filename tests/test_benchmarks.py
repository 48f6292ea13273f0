"""The benchmark scripts run and print the JSON they promise (no timing asserts)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

from helpers import DATA, MODELS, REPO, need


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


def test_bandit_benchmark_quick():
    completed = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bandit.py"), "--quick", "--seed", "1"],
                               capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert result["rounds"] == 500 and result["cumulative_expected_reward"]["checkpoints"][-1] == 500
    policies = {"random", "rules", "linucb", "oracle"}
    assert set(result["total_expected_reward"]) == policies and set(result["regret_vs_oracle"]) == policies - {"oracle"}
    assert all(result["total_expected_reward"][p] <= result["total_expected_reward"]["oracle"] for p in policies)
    assert isinstance(result["beats_random"], bool) and isinstance(result["beats_rules"], bool)
    assert [entry["arms"] for entry in result["latency"]] == [8, 200]


def test_gallery_benchmark_quick():
    completed = subprocess.run([sys.executable, str(REPO / "benchmarks" / "gallery.py"), "--sizes", "1000,3000",
                                "--exact-max", "2000", "--queries", "20", "--nprobe", "8", "--changes", "50",
                                "--store-sizes", "300"],
                               capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    exact, ivf = result["sizes"]
    assert (exact["identities"], exact["index"], ivf["identities"], ivf["index"]) == (1000, "exact", 3000, "ivf")
    assert exact["recall_at_1"] == 1.0 and 0.0 <= ivf["recall_at_1"] <= 1.0
    assert ivf["index_ms"]["p99"] > 0 and ivf["exact_ms"]["p50"] > 0 and ivf["nprobe_sweep"][0]["nprobe"] == 8
    assert result["target_ok"] is None  # 1M identities not measured
    for size in result["sizes"]:
        updates = size["updates"]
        assert updates["enrol_visible"] == 1.0 and updates["erased_never_returned"] == 1.0
        assert updates["pending_changes"] == 90 and updates["snapshot"]["index_ms_mapped"]["p99"] > 0
    (store,) = result["store"]
    assert (store["members"], store["enrolled_found"], store["erased_returned"], store["full_loads"]) == \
        (300, True, False, 1)


def test_uplift_benchmark_quick():
    completed = subprocess.run([sys.executable, str(REPO / "benchmarks" / "uplift.py"), "--quick"],
                               capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert [size["rows"] for size in result["sizes"]] == [5_000, 20_000]
    for size in result["sizes"]:
        assert size["learners"]["t"]["fit_s"] > 0 and size["learners"]["t"]["score_rows_per_s"] > 0
        assert size["baseline_response_model"]["fit_s"] > 0
        assert 0 < size["learners"]["t"]["qini_share_of_oracle"]


def test_soak_benchmark_quick():
    need(MODELS)
    completed = subprocess.run([sys.executable, str(REPO / "benchmarks" / "soak.py"), "--quick", "--workers", "1",
                                "--concurrency", "4"], capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert result["baseline"]["by_route"].keys() == {"healthz"} and result["baseline"]["ok"] > 0
    soak = result["soak"]
    assert soak["requests"] > 0 and soak["errors"] == 0, (soak["non_2xx"], soak["exceptions"])
    assert {"decide", "feedback"} <= soak["by_route"].keys()
    rss = soak["rss_mb"]
    assert rss["start"] > 0 and rss["max"] >= max(rss["start"], rss["end"]) and len(rss["samples"]) >= 2


def test_signage_benchmark_quick(faces_small):
    completed = subprocess.run([sys.executable, str(REPO / "benchmarks" / "signage.py"), "--quick"],
                               capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert result["faces_found"] == {"1": 1, "3": 3} and result["frame_size"] == [640, 480]
    rates = result["frames_per_s"]
    assert set(rates) == {"baseline", "adlens"}
    assert all(rate > 0 for by_scene in rates.values() for rate in by_scene.values())
    assert set(result["speedup"]) == {"1_faces", "3_faces"}


def test_batch_benchmark_quick(tmp_path, faces_small):
    from raylocal import need_ray

    need_ray()  # the benchmark starts its own
    for name in ("obama-240p.jpg", "two_people.jpg"):
        shutil.copy(faces_small / name, tmp_path / name)
    completed = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "batch.py"), "--data", str(tmp_path), "--quick"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert result["images"] == 2 and result["same_json_lines"] is True
    assert set(result["runs"]) == {"workers_1", "workers_2", "ray_1", "ray_2"}
    assert all(run["images_per_s"] > 0 for run in result["runs"].values())


def test_decide_cost_benchmark_quick():
    need(MODELS)  # the demo inventory's model face is embedded on import
    completed = subprocess.run([sys.executable, str(REPO / "benchmarks" / "decide_cost.py"), "--quick"],
                               capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert result["statuses"] == {"200": 60 * 3 + 12}  # warm-up, then healthz, decide and its framework part
    assert all(result[name] > 0 for name in ("healthz", "decide", "decide_framework"))
    assert set(result["parts"]) == {"validate_json", "audience", "choose_unlogged", "write_decision_event",
                                    "answer_json"}
    assert 0 < result["framework_share_of_decide"]
