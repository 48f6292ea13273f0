"""Uplift benchmark: fit and score time at 100k and 1M rows, with quality, against a response model.

Usage::

    python benchmarks/uplift.py [--sizes 100000,1000000] [--learners t,s,x,class-transform]
                                [--estimator hgb] [--seed S] [--out FILE] [--quick]

For each size a synthetic telecom campaign (:func:`adlens.uplift.simulate.simulate`) is
written to CSV and read back as a user's file would be (``read_table``: text, then
checked numbers). Each learner is then timed through the public path: ``UpliftModel.fit``
(feature encoding + learner) and ``UpliftModel.predict`` on the same rows. The baseline,
timed in the same run on the same feature matrix, is the plain response model (one
classifier of the same base estimator, treatment ignored): the least an uplift model can
cost. Quality is measured on an independent campaign of 100k rows (another seed): the
Qini coefficient, its share of the oracle's (ranking by the true uplift) and the response
model's Qini.

Prints one JSON document on stdout (progress on stderr); nothing is asserted. Peak
resident memory is reported per size (it only grows within a process).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from adlens.uplift.features import FeatureEncoder
from adlens.uplift.learners import LEARNERS, base_estimator
from adlens.uplift.metrics import evaluate
from adlens.uplift.model import UpliftModel, read_campaign
from adlens.uplift.simulate import simulate
from adlens.uplift.tables import read_table, write_table

from report import emit, machine_info  # benchmarks/report.py (the script's folder is on sys.path)

TEST_ROWS = 100_000


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def timed(work: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    result = work()
    return result, time.perf_counter() - start


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run_size(rows: int, learners: list[str], estimator: str, seed: int, folder: Path, test: Any) -> dict[str, Any]:
    path = write_table(simulate(rows, seed).campaign, folder / f"campaign-{rows}.csv")
    frame, read_s = timed(lambda: read_table(path))
    campaign = read_campaign(frame, "treatment", "outcome")
    numeric = [c for c in frame.columns if c not in ("customer_id", "treatment", "outcome", "true_uplift")]
    held_out = read_campaign(test, "treatment", "outcome")
    result: dict[str, Any] = {"rows": rows, "csv_mb": round(path.stat().st_size / 2**20, 1),
                              "read_s": round(read_s, 3), "learners": {}}

    log(f"{rows:,} rows: response model baseline")
    encoded = FeatureEncoder(numeric).fit(frame)
    matrix, encode_s = timed(lambda: encoded.transform(frame))
    response = base_estimator(estimator, seed)
    _, fit_s = timed(lambda: response.fit(matrix, campaign.y))
    _, score_s = timed(lambda: response.predict_proba(matrix))
    quality = evaluate(held_out.y, response.predict_proba(encoded.transform(test))[:, 1], held_out.treatment)
    baseline = {"fit_s": round(encode_s + fit_s, 3), "score_s": round(encode_s + score_s, 3),
                "qini_coefficient": round(quality.qini_coefficient, 4)}
    result["baseline_response_model"] = baseline

    for name in learners:
        log(f"{rows:,} rows: {name} learner")
        model = UpliftModel(name, estimator, numeric=numeric, random_state=seed)
        _, fit_s = timed(lambda model=model: model.fit(frame, campaign.y, campaign.treatment))
        _, score_s = timed(lambda model=model: model.predict(frame))
        quality = evaluate(held_out.y, model.predict(test), held_out.treatment, held_out.true_uplift)
        result["learners"][name] = {
            "fit_s": round(fit_s, 3), "score_s": round(score_s, 3),
            "fit_rows_per_s": round(rows / fit_s), "score_rows_per_s": round(rows / score_s),
            "fit_vs_baseline": round(fit_s / baseline["fit_s"], 2),
            "score_vs_baseline": round(score_s / baseline["score_s"], 2),
            "qini_coefficient": round(quality.qini_coefficient, 4),
            "oracle_qini_coefficient": round(quality.oracle_qini_coefficient or 0.0, 4),
            "qini_share_of_oracle": round(quality.qini_coefficient / quality.oracle_qini_coefficient, 3),
        }
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="Comma-separated row counts.")
    parser.add_argument("--learners", default=",".join(LEARNERS), help="Comma-separated learners.")
    parser.add_argument("--estimator", default="hgb", choices=("hgb", "logistic"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--quick", action="store_true", help="CI smoke test: 5,000 and 20,000 rows, t learner.")
    args = parser.parse_args(argv)
    sizes = [5_000, 20_000] if args.quick else [int(s) for s in args.sizes.split(",") if s.strip()]
    learners = ["t"] if args.quick else [s.strip() for s in args.learners.split(",") if s.strip()]
    unknown = sorted(set(learners) - set(LEARNERS))
    if unknown or not sizes or min(sizes) < 1_000:
        parser.error(f"unknown learners {unknown}" if unknown else "sizes must be at least 1,000 rows")
    document: dict[str, Any] = {
        "benchmark": "uplift", "estimator": args.estimator, "seed": args.seed,
        "machine": machine_info(**{name: metadata.version(name) for name in ("scikit-learn", "scikit-uplift",
                                                                             "pandas", "numpy")}),
        "test_rows": 5_000 if args.quick else TEST_ROWS, "sizes": []}
    with tempfile.TemporaryDirectory() as folder:
        test_path = write_table(simulate(document["test_rows"], args.seed + 1).campaign, Path(folder) / "test.csv")
        test = read_table(test_path)
        for rows in sizes:
            document["sizes"].append(run_size(rows, learners, args.estimator, args.seed, Path(folder), test))
    emit(document, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
