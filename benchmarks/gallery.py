"""Gallery identification benchmark: latency and recall of the gallery index at 10k, 100k and 1M identities.

Usage::

    python benchmarks/gallery.py [--sizes 10000,100000,1000000] [--queries N] [--exact-queries N]
                                 [--nprobe 32,64,128] [--exact-max N] [--changes N]
                                 [--store-sizes 100000] [--seed S] [--out FILE]

Synthetic identities stand in for enrolled members: 128-d Gaussian vectors scaled so
that two people lie about 1.0 apart (dlib embeddings of different people: 0.7–1.1),
one vector per identity. A query is a random identity plus Gaussian noise of norm
about 0.42 (a new photo of an enrolled person, 0.3–0.5 in dlib). Isotropic vectors
have no cluster structure, which makes them the hard case for an inverted file: real
embeddings cluster and give at least the recall shown here.

For each size: build time of :class:`adlens.gallery.GalleryIndex` (exact up to
``EXACT_MAX`` vectors, IVF above) and of the baseline, an exact ``IndexFlatL2``;
milliseconds per single-face query (p50, p99) for both, one query at a time after a
warm-up; recall@1 of the index against exact search (same nearest person) and the
share of queries answered with their true identity. ``--nprobe`` adds other
cells-per-query settings for the IVF sizes.

``updates`` per size (see ``benchmarks/gallery_updates.py``): one enrolment and one
erasure applied in place (milliseconds) against the baseline of a full rebuild
(``build_s``), latency again with ``--changes`` adds and removes pending, compaction,
and a memory-mapped snapshot. ``store``: the same end to end over a SQLite store of
``--store-sizes`` members (change log read, rows decrypted, index changed) against a
full reload. Prints one JSON document (progress on stderr); the targets (1M
identities, p99 ≤ 5 ms; a change visible in ≤ 1 s) are reported, never asserted.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from adlens.gallery.index import EXACT_MAX, GalleryIndex, load_faiss

from gallery_updates import store_round, updates  # benchmarks/gallery_updates.py
from report import emit, machine_info  # benchmarks/report.py (the script's folder is on sys.path)

DIMENSIONS = 128
INTER_PERSON = 1.0  # typical distance between two identities
SAME_PERSON = 0.42  # typical distance between a query and its identity
TARGET_IDENTITIES, TARGET_P99_MS = 1_000_000, 5.0
WARMUP = 10


def synthetic(n: int, queries: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` identities, ``queries`` noisy photos of random ones, and which identity each query shows."""
    identities = rng.standard_normal((n, DIMENSIONS), dtype=np.float32)
    identities *= INTER_PERSON / np.sqrt(2 * DIMENSIONS)
    truth = rng.integers(0, n, queries)
    noise = rng.standard_normal((queries, DIMENSIONS), dtype=np.float32) * (SAME_PERSON / np.sqrt(DIMENSIONS))
    return identities, identities[truth] + noise, truth


def latency_ms(search: Callable[[np.ndarray], Any], queries: np.ndarray) -> dict[str, float]:
    """p50, p99, mean and max milliseconds of ``search`` on one query at a time, after a warm-up."""
    for row in queries[:WARMUP]:
        search(row[None])
    samples = []
    for row in queries:
        start = time.perf_counter()
        search(row[None])
        samples.append((time.perf_counter() - start) * 1000.0)
    values = np.asarray(samples)
    return {"p50": round(float(np.median(values)), 3), "p99": round(float(np.percentile(values, 99)), 3),
            "mean": round(float(values.mean()), 3), "max": round(float(values.max()), 3)}


def run_size(n: int, args: argparse.Namespace, rng: np.random.Generator) -> dict[str, Any]:
    """Build both indexes over ``n`` identities and measure them."""
    faiss = load_faiss()
    identities, queries, truth = synthetic(n, args.queries, rng)
    start = time.perf_counter()
    index = GalleryIndex(exact_max=args.exact_max).build(identities, ids=np.arange(n))
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    exact = faiss.IndexFlatL2(DIMENSIONS)
    exact.add(identities)
    exact_build_s = time.perf_counter() - start
    _, nearest = exact.search(queries, 1)  # batched: the ground truth, not timed
    found = index.search(queries, 1)[1][:, 0]
    result: dict[str, Any] = {
        "identities": n,
        "index": index.kind_,
        "build_s": round(build_s, 2),
        "exact_build_s": round(exact_build_s, 2),
        "exact_ms": latency_ms(lambda q: exact.search(q, 1), queries[: args.exact_queries]),
        "index_ms": latency_ms(lambda q: index.search(q, 1), queries),
        "recall_at_1": round(float(np.mean(found == nearest[:, 0])), 4),
        "true_identity_rate": round(float(np.mean(found == truth)), 4),
        "exact_true_identity_rate": round(float(np.mean(nearest[:, 0] == truth)), 4),
    }
    if index.kind_ == "ivf":
        result["cells"], result["nprobe"] = int(index.base_.nlist), int(index.base_.nprobe)
        sweep = []
        for nprobe in args.nprobe:
            index.base_.nprobe = nprobe
            hits = index.search(queries, 1)[1][:, 0] == nearest[:, 0]
            sweep.append({"nprobe": nprobe, "recall_at_1": round(float(hits.mean()), 4),
                          "index_ms": latency_ms(lambda q: index.search(q, 1), queries)})
        index.base_.nprobe = result["nprobe"]
        result["nprobe_sweep"] = sweep
    result["speedup_p50"] = round(result["exact_ms"]["p50"] / max(result["index_ms"]["p50"], 1e-6), 1)
    # Incremental changes vs the rebuild each one cost before (build_s above is that baseline).
    result["updates"] = updates(index, identities, args.changes, latency_ms, queries)
    return result


def int_list(text: str) -> list[int]:
    """``"10000,100000"`` → ``[10000, 100000]``; ``1e6`` and ``1_000_000`` work too."""
    try:
        return [int(float(part.replace("_", ""))) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {text!r}") from None


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int_list, default=[10_000, 100_000, 1_000_000], help="identities per run")
    parser.add_argument("--queries", type=int, default=500, help="timed queries for the index (and recall)")
    parser.add_argument("--exact-queries", type=int, default=100, help="timed queries for exact search")
    parser.add_argument("--nprobe", type=int_list, default=[], help="other IVF cells per query to measure")
    parser.add_argument("--exact-max", type=int, default=EXACT_MAX, help="largest gallery searched exactly")
    parser.add_argument("--changes", type=int, default=1000, help="adds+removes pending when latency is re-measured")
    parser.add_argument("--store-sizes", type=int_list, default=[100_000],
                        help="members of the SQLite store for the end-to-end enrol/erase timing (empty: skip)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    if not args.sizes or min(args.sizes) < 2 or args.queries < 1 or args.exact_queries < 1:
        parser.error("--sizes must be >= 2 each, --queries and --exact-queries >= 1")
    if args.changes < 0 or any(n < 2 for n in args.store_sizes):
        parser.error("--changes must be >= 0 and --store-sizes >= 2 each")
    args.exact_queries = min(args.exact_queries, args.queries)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Measure every size and print the JSON document."""
    args = parse_args(argv)
    faiss = load_faiss()
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    sizes = []
    for n in args.sizes:
        print(f"{n} identities", file=sys.stderr)
        sizes.append(run_size(n, args, rng))
    stores = []
    for n in args.store_sizes:
        print(f"store of {n} members", file=sys.stderr)
        stores.append(store_round(n, DIMENSIONS, args.seed))
    at_target = next((s for s in sizes if s["identities"] == TARGET_IDENTITIES), None)
    document = {
        "machine": machine_info(numpy=np.__version__, faiss=faiss.__version__),
        "faiss_threads": faiss.omp_get_max_threads(),
        "synthetic": {"dimensions": DIMENSIONS, "inter_person_distance": INTER_PERSON,
                      "query_distance": SAME_PERSON, "queries": args.queries, "seed": args.seed},
        "exact_max": args.exact_max,
        "sizes": sizes,
        "store": stores,
        "target": {"identities": TARGET_IDENTITIES, "p99_ms": TARGET_P99_MS},
        "target_ok": None if at_target is None else at_target["index_ms"]["p99"] <= TARGET_P99_MS,
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
    emit(document, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
