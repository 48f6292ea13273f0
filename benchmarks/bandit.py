"""Bandit benchmark: LinUCB against random and rules-only ad choice on a simulated audience.

Usage::

    python benchmarks/bandit.py [--rounds T] [--seed S] [--alpha A] [--sweep] [--quick] [--out FILE]

Each round an audience arrives as a :data:`~adlens.audience.FEATURE_NAMES` vector:
1–6 faces, each with an age group, a gender, eyewear/beard/hat drawn independently
(seniors wear glasses more, only men have beards), a group emotion drawn from a
Dirichlet (mostly neutral and happy), a share of watchers, and an hour of day between
7 and 22. Eight ads each have a hidden true weight vector ``w``; shown to audience
``x`` an ad is clicked with probability ``sigmoid(w·x)``. The weights follow the ads'
declared target groups *and* preferences nobody declared (the sneakers sell to young
people with glasses, coffee in the morning, the optician's to anyone wearing glasses
although it declares seniors).

Policies, on the same audiences and the same random numbers for clicks:
*random*; *rules* (the fixed targeting heuristic: the ad whose declared target groups
make up the largest share of the audience); *linucb* (:class:`~adlens.ads.bandit.LinUCB`,
``alpha`` = ``--alpha``, default ``settings.exploration``, learning from each click);
*oracle* (knows the true weights). Reported: expected cumulative reward (the sum of the
chosen ads' click probabilities, free of click noise) at checkpoints, realised clicks,
regret against the oracle, LinUCB's lift over random and rules, and the time of one
decision (``predict`` over the ads, then ``partial_fit`` with its reward) with 8 and with
200 ads. ``--sweep`` adds the totals for other exploration rates.

Prints one JSON document on stdout. Whether LinUCB beats both baselines is reported
as booleans, never asserted; the exit status is non-zero only on errors.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from adlens.audience import FEATURE_NAMES
from adlens.ads.bandit import LinUCB
from adlens.settings import get_settings

from report import emit, machine_info  # benchmarks/report.py (the script's folder is on sys.path)

INDEX = {name: i for i, name in enumerate(FEATURE_NAMES)}
AGE_GROUPS = ("child", "teen", "young_adult", "adult", "senior")
AGE_SHARES = (0.10, 0.12, 0.33, 0.28, 0.17)
EMOTION_NAMES = [name for name in FEATURE_NAMES if name.startswith("emotion_")]
EMOTION_CONCENTRATION = {"emotion_happy": 2.0, "emotion_neutral": 3.0, "emotion_sad": 0.6, "emotion_surprise": 0.6}
SWEEP = (0.0, 0.1, 0.3, 0.5, 1.0, 2.0)


@dataclass(frozen=True)
class Ad:
    """A simulated ad: the groups it declares it targets (all the rules know) and its hidden true weights."""

    name: str
    declared: tuple[str, ...]
    weights: dict[str, float]

    def vector(self) -> np.ndarray:
        w = np.zeros(len(FEATURE_NAMES))
        for name, weight in self.weights.items():
            w[INDEX[name]] = weight
        return w


ADS = (
    Ad("sneakers", ("young_adult", "teen"), {"bias": -2.6, "young_adult": 1.2, "teen": 1.0, "eyewear": 1.6,
                                            "attention": 0.5}),
    Ad("toys", ("child",), {"bias": -2.8, "child": 2.6, "emotion_happy": 1.0, "faces": 0.6}),
    Ad("watch", ("adult", "male"), {"bias": -2.6, "adult": 0.8, "male": 0.6, "hour_cos": -1.0, "faces": -0.8}),
    Ad("cosmetics", ("female", "young_adult"), {"bias": -2.5, "female": 1.2, "adult": 0.6, "emotion_happy": 1.2}),
    Ad("coffee", ("adult",), {"bias": -2.3, "adult": 0.3, "hour_sin": 1.4, "emotion_neutral": 0.6}),
    Ad("insurance", ("senior",), {"bias": -2.6, "senior": 1.4, "adult": 0.8, "emotion_sad": 1.0}),
    Ad("energy drink", ("teen", "male"), {"bias": -2.7, "teen": 0.8, "male": 0.8, "emotion_surprise": 2.0,
                                          "hour_cos": 0.8}),
    Ad("optician", ("senior",), {"bias": -2.9, "eyewear": 2.6, "senior": 0.3}),
)
NAMES = [ad.name for ad in ADS]


def audiences(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` random audiences as FEATURE_NAMES vectors (see the module docstring)."""
    X = np.zeros((n, len(FEATURE_NAMES)))
    X[:, INDEX["bias"]] = 1.0
    alphas = np.array([EMOTION_CONCENTRATION.get(name, 0.3) for name in EMOTION_NAMES])
    for row in X:
        faces = min(1 + rng.poisson(1.0), 6)
        groups = rng.choice(len(AGE_GROUPS), size=faces, p=AGE_SHARES)
        male = rng.random(faces) < 0.5
        for g, group in enumerate(AGE_GROUPS):
            row[INDEX[group]] = np.mean(groups == g)
        row[INDEX["male"]], row[INDEX["female"]] = male.mean(), 1 - male.mean()
        row[INDEX["eyewear"]] = np.mean(rng.random(faces) < np.where(groups == 4, 0.6, 0.25))
        row[INDEX["beard"]] = np.mean(male & (rng.random(faces) < 0.35) & (groups >= 2))
        row[INDEX["hat"]] = np.mean(rng.random(faces) < 0.1)
        row[[INDEX[e] for e in EMOTION_NAMES]] = rng.dirichlet(alphas)
        row[INDEX["attention"]] = rng.binomial(faces, 0.5) / faces
        row[INDEX["faces"]] = min(faces, 5) / 5
        hour = rng.uniform(7, 22)
        row[INDEX["hour_sin"]], row[INDEX["hour_cos"]] = np.sin(2 * np.pi * hour / 24), np.cos(2 * np.pi * hour / 24)
    return X


def rules_choice(x: np.ndarray, rng: np.random.Generator) -> int:
    """The ad whose declared groups' mean share of the audience is highest (ties: at random)."""
    scores = np.array([np.mean([x[INDEX[group]] for group in ad.declared]) for ad in ADS])
    best = np.flatnonzero(scores == scores.max())
    return int(rng.choice(best))


def run_linucb(X: np.ndarray, P: np.ndarray, U: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """LinUCB over the rounds: the chosen ad per round, its click per round, and µs per decision."""
    model, chosen, clicks, micros = LinUCB(alpha=alpha), np.zeros(len(X), dtype=int), np.zeros(len(X)), []
    position = {name: i for i, name in enumerate(NAMES)}
    for t, x in enumerate(X):
        start = time.perf_counter_ns()
        arm = model.predict(x, NAMES)[0]
        click = float(U[t] < P[t, position[arm]])
        model.partial_fit(x[None], [arm], [click])
        micros.append((time.perf_counter_ns() - start) / 1000)
        chosen[t], clicks[t] = position[arm], click
    return chosen, clicks, micros


def latency(rng: np.random.Generator, arms: int, decisions: int) -> dict[str, float]:
    """Median and mean µs of ``predict`` over ``arms`` arms and of ``partial_fit`` with one reward."""
    names = [f"ad{i}" for i in range(arms)]
    X = audiences(rng, decisions + 4 * arms)
    model = LinUCB(alpha=1.0).fit(X[: 4 * arms], names * 4, rng.random(4 * arms))
    predict, fit = [], []
    for x in X[4 * arms:]:
        start = time.perf_counter_ns()
        arm = model.predict(x, names)[0]
        middle = time.perf_counter_ns()
        model.partial_fit(x[None], [arm], [float(rng.random() < 0.1)])
        predict.append((middle - start) / 1000)
        fit.append((time.perf_counter_ns() - middle) / 1000)
    total = [p + f for p, f in zip(predict, fit)]
    cold = []  # a decision that rebuilds the bandit from stored arms first, as a fresh process does
    for x in X[: min(decisions, 200)]:
        start = time.perf_counter_ns()
        LinUCB.from_stats(model.stats_, len(FEATURE_NAMES), alpha=1.0).predict(x, names)
        cold.append((time.perf_counter_ns() - start) / 1000)
    return {"arms": arms, "decisions": decisions, "predict_us_p50": round(statistics.median(predict), 1),
            "partial_fit_us_p50": round(statistics.median(fit), 1),
            "decision_us_p50": round(statistics.median(total), 1),
            "decision_us_mean": round(statistics.fmean(total), 1),
            "from_stats_and_predict_us_p50": round(statistics.median(cold), 1)}


def checkpoints(rounds: int) -> list[int]:
    marks = [m for m in (100, 250, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000) if m < rounds]
    return marks + [rounds]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5000, help="decisions simulated (default 5000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--alpha", type=float, default=None, help="LinUCB alpha (default: settings.exploration)")
    parser.add_argument("--sweep", action="store_true", help=f"also run LinUCB with alpha in {SWEEP}")
    parser.add_argument("--quick", action="store_true", help="CI smoke test: 500 rounds, short latency runs")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    rounds = 500 if args.quick else args.rounds
    if rounds < 1:
        parser.error("--rounds must be at least 1")
    alpha = get_settings().exploration if args.alpha is None else args.alpha

    rng = np.random.default_rng(args.seed)
    X = audiences(rng, rounds)
    W = np.stack([ad.vector() for ad in ADS])
    P = 1 / (1 + np.exp(-X @ W.T))  # true click probability per round and ad
    U = rng.random(rounds)  # one uniform per round: every policy's click is U < p (common random numbers)
    rows = np.arange(rounds)
    chosen = {
        "random": rng.integers(0, len(ADS), size=rounds),
        "rules": np.array([rules_choice(x, rng) for x in X]),
        "oracle": np.argmax(P, axis=1),
    }
    print(f"simulating {rounds} rounds of LinUCB (alpha {alpha})…", file=sys.stderr)
    chosen["linucb"], _, micros = run_linucb(X, P, U, alpha)
    expected = {name: P[rows, picks] for name, picks in chosen.items()}
    clicks = {name: (U < p).astype(float) for name, p in expected.items()}
    marks = checkpoints(rounds)
    totals = {name: float(p.sum()) for name, p in expected.items()}
    tail = slice(max(rounds - 1000, 0), rounds)
    result: dict[str, Any] = {
        "benchmark": "bandit", "rounds": rounds, "seed": args.seed, "ads": len(ADS), "features": len(FEATURE_NAMES),
        "alpha": alpha,
        "cumulative_expected_reward": {"checkpoints": marks, **{name: [round(float(p[:m].sum()), 2) for m in marks]
                                                               for name, p in expected.items()}},
        "total_expected_reward": {name: round(v, 2) for name, v in totals.items()},
        "total_clicks": {name: int(c.sum()) for name, c in clicks.items()},
        "mean_reward_last_1000": {name: round(float(p[tail].mean()), 4) for name, p in expected.items()},
        "regret_vs_oracle": {name: round(totals["oracle"] - v, 2) for name, v in totals.items() if name != "oracle"},
        "lift_vs_random": round(totals["linucb"] / totals["random"] - 1, 4),
        "lift_vs_rules": round(totals["linucb"] / totals["rules"] - 1, 4),
        "beats_random": totals["linucb"] > totals["random"],
        "beats_rules": totals["linucb"] > totals["rules"],
        "linucb_choices": {name: int(np.sum(chosen["linucb"] == i)) for i, name in enumerate(NAMES)},
        "decision_us_in_run": {"p50": round(statistics.median(micros), 1), "mean": round(statistics.fmean(micros), 1)},
        "latency": [latency(np.random.default_rng(args.seed + 1), arms, 100 if args.quick else 1000)
                    for arms in (len(ADS), 200)],
    }
    if args.sweep:
        result["sweep"] = {str(a): round(float(P[rows, run_linucb(X, P, U, a)[0]].sum()), 2) for a in SWEEP}
    result["machine"] = machine_info(numpy=np.__version__)
    emit(result, args.out)
    return result


if __name__ == "__main__":
    main()
