"""Recommendation benchmark: simulated shoppers on a fashion catalogue, and latency at 100k products.

Usage::

    python benchmarks/recommend.py [--data DIR] [--shoppers N] [--seed S] [--products N]
                                   [--calls N] [--out FILE] [--quick] [--with-images]

(1) Quality. Products are the rows of ``styles.csv`` (joined row by row with
``styles_text.csv``) that have a photo in ``images/``; their aspect vectors are the
importer's tokens (:func:`adlens.products.tokens.product_tokens`: metadata values and
words of the name; ``--with-images`` adds ImageNet concepts and colours of the photos
when :mod:`adlens.products.aspects` is available). Each simulated shopper secretly
likes 1–3 article types (among those with ≥ 30 products) and 1–3 colours (common within
those types); their *relevant* set is the products of one of their types in one of
their colours (≥ 30 of them, else the shopper is drawn again). Shown a product they
answer *like* iff its type is theirs and its colour is too, or — 30% of the time — the
type alone is enough; then 5% of answers are flipped. The :class:`Shuffler` picks what
to show, each answer updates the profile (:func:`profiles.update`), and after 5, 10 and
20 answers :meth:`Recommender.recommend` (k=10, shown products excluded) is scored by
precision@10 and nDCG@10 against the unshown relevant products. Baselines, on the same
candidates: *popularity* (like counts of a second, independent population of shoppers
who answered about every product), *random*, and the ablation *adlens_random_shown*
(same recommender, products shown at random instead of by the Shuffler).

(2) Latency. 100k synthetic products of ~30 aspects each from a 5,000-key vocabulary
with Zipf-like key frequencies: index build time, then milliseconds per ``recommend``
call (k=10, 20 excluded ids; profiles folded from 20 answers) over 200 calls after
warm-up, and the same for a cold start and for ``Shuffler.next``.

Prints one JSON document on stdout (progress on stderr). Targets are reported as
booleans, never asserted; the exit status is non-zero only on errors.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

from adlens.errors import AdlensError
from adlens.products.catalog import image_index, read_joined
from adlens.products.profiles import Profile, update
from adlens.products.recommend import Recommender, Shuffler
from adlens.products.tokens import product_tokens
from adlens.products.types import DISLIKE, LIKE, Aspects
from adlens.products.vectors import AspectIndex
from adlens.settings import get_settings

from report import emit, machine_info as base_machine_info  # benchmarks/report.py (the script's folder is on sys.path)

try:  # written separately; without it the benchmark runs on tokens only
    from adlens.products.aspects import AspectExtractor
except ImportError:
    AspectExtractor = None

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "fashion_products_subset"
TOKEN_COLUMNS = ("gender", "masterCategory", "subCategory", "articleType", "baseColour", "season", "usage")
CHECKPOINTS, K = (5, 10, 20), 10
MIN_TYPE_PRODUCTS, MIN_COLOUR_PRODUCTS, MIN_RELEVANT = 30, 5, 30
TYPE_ALONE, FLIP = 0.3, 0.05
T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


@dataclass
class Catalogue:
    """The benchmark's products: ids, article type and colour per row, aspect vectors."""

    ids: list[str]
    types: np.ndarray
    colours: np.ndarray
    vectors: list[dict[str, float]]


@dataclass
class Shopper:
    """A hidden taste: per product row, is its type liked (``liked_type``), are type and colour (``relevant``)."""

    types: list[str]
    colours: list[str]
    liked_type: np.ndarray
    relevant: np.ndarray

    def answer(self, row: int, rng: np.random.Generator) -> int:
        """Like iff the type is liked and (the colour too, or 30%: the type alone); 5% flipped."""
        like = bool(self.liked_type[row] and (self.relevant[row] or rng.random() < TYPE_ALONE))
        return LIKE if like != (rng.random() < FLIP) else DISLIKE


def load_catalogue(folder: Path, with_images: bool) -> Catalogue:
    """Rows of ``styles.csv`` + ``styles_text.csv`` with a photo, and their aspect vectors."""
    photos = image_index(folder / "images")
    ids, types, colours, vectors = [], [], [], []
    for _, record in read_joined(folder / "styles.csv", [folder / "styles_text.csv"]):
        if isinstance(record, str) or str(record.get("id")) not in photos:
            continue
        attributes = {c: record.get(c, "") for c in TOKEN_COLUMNS}
        ids.append(str(record["id"]))
        types.append(record.get("articleType", ""))
        colours.append(record.get("baseColour", ""))
        vectors.append(Aspects(tokens=product_tokens(record.get("productDisplayName", ""), attributes)).vector())
    if with_images:
        from adlens.products.evaluation import extract_folder

        settings = get_settings()
        extractor = AspectExtractor(settings)
        extractor.load()
        found, _ = extract_folder({i: photos[i] for i in ids}, extractor, settings)
        for i, product_id in enumerate(ids):
            if product_id in found:
                vectors[i] |= {k: v for k, v in found[product_id].vector().items() if not k.startswith("token:")}
    return Catalogue(ids, np.array(types), np.array(colours), vectors)


def sample_shoppers(catalogue: Catalogue, n: int, rng: np.random.Generator) -> list[Shopper]:
    """``n`` shoppers with hidden tastes (see the module docstring), redrawn until ≥ 30 relevant products."""
    names, counts = np.unique(catalogue.types, return_counts=True)
    common = names[counts >= MIN_TYPE_PRODUCTS]
    weights = counts[counts >= MIN_TYPE_PRODUCTS] / counts[counts >= MIN_TYPE_PRODUCTS].sum()  # stock follows demand
    shoppers: list[Shopper] = []
    while len(shoppers) < n:
        types = rng.choice(common, size=rng.integers(1, 4), replace=False, p=weights)
        liked_type = np.isin(catalogue.types, types)
        palette, sizes = np.unique(catalogue.colours[liked_type], return_counts=True)
        palette, sizes = palette[sizes >= MIN_COLOUR_PRODUCTS], sizes[sizes >= MIN_COLOUR_PRODUCTS]
        if not len(palette):
            continue
        colours = rng.choice(palette, size=min(len(palette), rng.integers(1, 4)), replace=False, p=sizes / sizes.sum())
        relevant = liked_type & np.isin(catalogue.colours, colours)
        if relevant.sum() >= MIN_RELEVANT:
            shoppers.append(Shopper(sorted(types), sorted(colours), liked_type, relevant))
    return shoppers


def like_counts(catalogue: Catalogue, shoppers: Sequence[Shopper], rng: np.random.Generator) -> dict[str, float]:
    """How many of ``shoppers`` like each product, every one answering about every product."""
    counts = np.zeros(len(catalogue.ids))
    for shopper in shoppers:
        n = len(counts)
        like = shopper.liked_type & (shopper.relevant | (rng.random(n) < TYPE_ALONE))
        counts += like != (rng.random(n) < FLIP)
    return {pid: float(c) for pid, c in zip(catalogue.ids, counts) if c}


def precision_ndcg(ranked: Sequence[int], relevant: np.ndarray, k: int = K) -> tuple[float, float]:
    """Precision@k and binary nDCG@k of ``ranked`` rows against a boolean ``relevant`` mask."""
    gains = relevant[np.asarray(ranked[:k], dtype=np.int64)].astype(float)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = discounts[: min(k, int(relevant.sum()))].sum()
    return float(gains.sum() / k), float((gains * discounts[: len(gains)]).sum() / ideal) if ideal else 0.0


Picker = Callable[[dict[str, float], set[str], np.random.Generator], str | None]


def session(
    shopper: Shopper, pick: Picker, catalogue: Catalogue, index: AspectIndex, rng: np.random.Generator,
    half_life: float, dislike: float,
) -> Iterator[tuple[int, Profile, set[str], int]]:
    """Show products one by one and fold the answers; yield ``(answers, profile, rated, likes)`` at checkpoints."""
    profile, rated, likes = Profile(), set(), 0
    for step in range(1, max(CHECKPOINTS) + 1):
        product = pick(profile.weights, rated, rng)
        row = index.position(product)
        value = shopper.answer(row, rng)
        likes += value == LIKE
        profile = update(profile, catalogue.vectors[row], value, T0 + timedelta(minutes=step), half_life, dislike)
        rated.add(product)
        if step in CHECKPOINTS:
            yield step, profile, rated, likes


def quality(catalogue: Catalogue, n_shoppers: int, seed: int) -> dict[str, Any]:
    """The simulated-shopper evaluation: metrics per checkpoint and method, means and standard errors."""
    settings = get_settings()
    half_life, dislike = settings.profile_half_life_days, settings.dislike_weight
    rng = np.random.default_rng(seed)
    shoppers = sample_shoppers(catalogue, n_shoppers, rng)
    popularity = like_counts(catalogue, sample_shoppers(catalogue, n_shoppers, rng), rng)
    index = AspectIndex(catalogue.ids, catalogue.vectors)
    recommender = Recommender(index)
    shuffler = Shuffler(recommender, popularity=popularity, random_state=seed)
    popular_rows = np.argsort([-popularity.get(p, 0.0) for p in index.ids], kind="stable")

    def random_pick(_: dict[str, float], rated: set[str], rng: np.random.Generator) -> str:
        rows = np.setdiff1d(np.arange(len(index)), index.rows_of(rated))
        return index.ids[int(rng.choice(rows))]

    scores: dict[int, dict[str, list[tuple[float, float]]]] = {c: {} for c in CHECKPOINTS}
    shown_likes: dict[int, list[int]] = {c: [] for c in CHECKPOINTS}
    cold: dict[int, int] = {c: 0 for c in CHECKPOINTS}
    for number, shopper in enumerate(shoppers):
        baseline_rng = np.random.default_rng([seed, number, 2])
        for method, pick in (("adlens", shuffler.next), ("adlens_random_shown", random_pick)):
            rng = np.random.default_rng([seed, number, method == "adlens"])
            for step, profile, rated, likes in session(shopper, pick, catalogue, index, rng, half_life, dislike):
                rated_rows = index.rows_of(rated)
                relevant = shopper.relevant.copy()
                relevant[rated_rows] = False
                ranked = recommender.recommend(profile.weights, k=K, exclude=rated, popularity=popularity)
                rows = [index.position(r.product) for r in ranked]
                scores[step].setdefault(method, []).append(precision_ndcg(rows, relevant))
                if method != "adlens":
                    continue
                shown_likes[step].append(likes)
                cold[step] += bool(ranked and ranked[0].cold_start)
                # both baselines choose among the same candidates: everything not shown yet
                unshown = popular_rows[~np.isin(popular_rows, rated_rows)]
                scores[step].setdefault("popularity", []).append(precision_ndcg(unshown[:K], relevant))
                candidates = np.setdiff1d(np.arange(len(index)), rated_rows)
                scores[step].setdefault("random", []).append(
                    precision_ndcg(baseline_rng.choice(candidates, size=K, replace=False), relevant))
        if (number + 1) % 50 == 0:
            print(f"  {number + 1}/{len(shoppers)} shoppers", file=sys.stderr)

    def summary(values: list[tuple[float, float]]) -> dict[str, float]:
        p, n = np.array(values).T
        se = np.sqrt(len(p))
        return {"precision@10": round(float(p.mean()), 4), "precision_se": round(float(p.std(ddof=1) / se), 4),
                "ndcg@10": round(float(n.mean()), 4), "ndcg_se": round(float(n.std(ddof=1) / se), 4)}

    tables = {str(c): {m: summary(v) for m, v in scores[c].items()} for c in CHECKPOINTS}
    beats = {c: tables[c]["adlens"]["precision@10"] > tables[c]["popularity"]["precision@10"]
             and tables[c]["adlens"]["ndcg@10"] > tables[c]["popularity"]["ndcg@10"] for c in tables}
    return {
        "products": len(catalogue.ids),
        "aspects": index.n_aspects,
        "shoppers": len(shoppers),
        "relevant_per_shopper_median": float(np.median([s.relevant.sum() for s in shoppers])),
        "simulation": {"min_type_products": MIN_TYPE_PRODUCTS, "min_relevant": MIN_RELEVANT,
                       "type_alone_like_rate": TYPE_ALONE, "flipped_answers": FLIP, "k": K},
        "settings": {"profile_half_life_days": half_life, "dislike_weight": dislike,
                     "epsilon": shuffler.epsilon, "explore_half_life": shuffler.explore_half_life,
                     "families": shuffler.n_families},
        "by_answers": tables,
        "likes_among_shown": {str(c): round(float(np.mean(v)), 2) for c, v in shown_likes.items()},
        "cold_start_share": {str(c): round(v / len(shoppers), 3) for c, v in cold.items()},
        "beats_popularity": beats,
        "beats_popularity_at_10": beats["10"],
    }


def synthetic_catalogue(n: int, vocabulary: int, per_product: int, seed: int) -> tuple[list[str], list[dict[str, float]]]:
    """``n`` products of about ``per_product`` aspects drawn from a Zipf-like ``vocabulary`` of keys."""
    rng = np.random.default_rng(seed)
    kinds = rng.choice(["token:", "colour:", "concept:"], size=vocabulary, p=[0.8, 0.02, 0.18])
    keys = np.array([f"{kind}k{i}" for i, kind in enumerate(kinds)], dtype=object)
    p = 1.0 / np.arange(1, vocabulary + 1) ** 0.8
    draws = rng.choice(vocabulary, size=(n, per_product + 8), p=p / p.sum())
    weights = rng.uniform(0.2, 1.0, size=draws.shape)
    vectors = []
    for row, w in zip(draws, weights):
        unique, first = np.unique(row, return_index=True)
        vectors.append(dict(zip(keys[unique[:per_product]].tolist(), w[first[:per_product]].tolist())))
    return [f"p{i}" for i in range(n)], vectors


def percentiles(samples: Sequence[float]) -> dict[str, float]:
    """Median, 95th percentile, mean and max of millisecond samples."""
    values = np.asarray(samples)
    return {"p50": round(float(np.median(values)), 3), "p95": round(float(np.percentile(values, 95)), 3),
            "mean": round(float(values.mean()), 3), "max": round(float(values.max()), 3)}


def timed(call: Callable[[], Any], calls: int, warmup: int) -> list[float]:
    """Milliseconds per ``call()`` over ``calls`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000.0)
    return samples


def latency(n_products: int, calls: int, seed: int) -> dict[str, Any]:
    """Build time and per-call latency of ``recommend`` and ``Shuffler.next`` on a synthetic catalogue."""
    ids, vectors = synthetic_catalogue(n_products, 5000, 30, seed)
    start = time.perf_counter()
    recommender = Recommender(AspectIndex(ids, vectors))
    build_s = time.perf_counter() - start
    rng = np.random.default_rng(seed)
    sessions = []
    for _ in range(50):  # profiles folded from 20 answers, 3 in 4 of them likes
        rows = rng.choice(len(ids), size=20, replace=False)
        profile = Profile()
        for step, row in enumerate(rows):
            value = LIKE if rng.random() < 0.75 else DISLIKE
            profile = update(profile, vectors[row], value, T0 + timedelta(minutes=step), 30.0, 0.5)
        sessions.append((profile.weights, {ids[row] for row in rows}))
    turn = iter(range(10**9))

    def warm() -> None:
        weights, rated = sessions[next(turn) % len(sessions)]
        recommender.recommend(weights, k=K, exclude=rated)

    popularity = {ids[i]: float(c) for i, c in enumerate(rng.poisson(2.0, size=len(ids))) if c}
    warm_ms = timed(warm, calls, warmup=20)
    cold_ms = timed(lambda: recommender.recommend({}, k=K, exclude=sessions[0][1], popularity=popularity),
                    max(calls // 4, 10), warmup=3)
    shuffler = Shuffler(recommender, random_state=seed)
    start = time.perf_counter()
    _ = shuffler.families
    families_s = time.perf_counter() - start
    next_ms = timed(lambda: shuffler.next(sessions[0][0], sessions[0][1], rng), max(calls // 4, 10), warmup=3)
    p50 = statistics.median(warm_ms)
    return {
        "products": len(ids),
        "aspects_per_product": round(float(np.mean([len(v) for v in vectors])), 2),
        "vocabulary": recommender.index.n_aspects,
        "nonzeros": int(recommender.index.matrix.nnz),
        "profile_aspects_median": float(np.median([len(w) for w, _ in sessions])),
        "build_s": round(build_s, 3),
        "calls": calls,
        "recommend_ms": percentiles(warm_ms),
        "cold_start_ms": percentiles(cold_ms),
        "shuffler_families_s": round(families_s, 3),
        "shuffler_next_ms": percentiles(next_ms),
        "target_ms": 20.0,
        "latency_ok": p50 <= 20.0,
    }


def machine_info() -> dict[str, Any]:
    """CPU count, platform and the versions of the libraries doing the work."""
    import scipy
    import sklearn

    return base_machine_info(**{"numpy": np.__version__, "scipy": scipy.__version__,
                                  "scikit-learn": sklearn.__version__})


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line; ``--quick`` means 30 shoppers, 10k products, 50 calls."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with styles.csv, images/")
    parser.add_argument("--shoppers", type=int, default=300, help="simulated shoppers (and as many for popularity)")
    parser.add_argument("--products", type=int, default=100_000, help="synthetic products for the latency run")
    parser.add_argument("--calls", type=int, default=200, help="timed recommend calls")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    parser.add_argument("--quick", action="store_true", help="smoke test: 30 shoppers, 10k products, 50 calls")
    if AspectExtractor is not None:
        parser.add_argument("--with-images", action="store_true", help="add concepts and colours of the photos")
    args = parser.parse_args(argv)
    args.with_images = getattr(args, "with_images", False)
    if args.quick:
        args.shoppers, args.products, args.calls = 30, 10_000, 50
    if args.shoppers < 2 or args.products < 100 or args.calls < 1:
        parser.error("--shoppers must be >= 2, --products >= 100 and --calls >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run both parts and print the JSON document; 2 if the data folder is missing."""
    args = parse_args(argv)
    if not (args.data / "styles.csv").is_file() or not (args.data / "images").is_dir():
        print(f"error: {args.data} must hold styles.csv, styles_text.csv and images/ (pass --data DIR)",
              file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        print("quality: loading the catalogue", file=sys.stderr)
        catalogue = load_catalogue(args.data, args.with_images)
        print(f"quality: {len(catalogue.ids)} products, {args.shoppers} shoppers", file=sys.stderr)
        quality_report = quality(catalogue, args.shoppers, args.seed)
        print(f"latency: {args.products} synthetic products", file=sys.stderr)
        latency_report = latency(args.products, args.calls, args.seed)
    except AdlensError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    document = {
        "dataset": str(args.data.resolve()),
        "with_images": args.with_images,
        "seed": args.seed,
        "machine": machine_info(),
        "quality": quality_report,
        "beats_popularity_at_10": quality_report["beats_popularity_at_10"],
        "latency": latency_report,
        "latency_ok": latency_report["latency_ok"],
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
    emit(document, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
