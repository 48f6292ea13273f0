"""Vision benchmark: adlens' analyze path against a face_recognition-style dlib baseline.

Usage::

    python benchmarks/vision.py [--data DIR] [--repeat N] [--warmup N] [--out FILE] [--quick]

Runs, on the same photos and in the same process, (1) ``Analyzer(embed=True)``
(decode, YuNet detect, dlib's 5-point alignment, the ONNX embedding, emotion, age,
gender, eyewear/beard/hat), (2) ``Analyzer(embed=False)`` (what ``adlens analyze``
runs) and (3) what ``face_recognition.face_encodings(img, face_locations(img))``
does, written directly with dlib: HOG detection upsampled once, 5-point landmarks
and ``compute_face_descriptor``. Passes of the three are interleaved; warm-up
passes are not counted. Then ``adlens analyze``'s work in one worker process per
core (steady rate after a first round), and the identity embedding alone on one
thread, ONNX Runtime against dlib (``embedding_ms_per_face``). Prints one JSON
document on stdout, progress on stderr. Nothing here asserts on timings.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from adlens.errors import AdlensError
from adlens.imageio import iter_image_files, load_image
from adlens.pipeline import Analyzer, StageTimer
from adlens.registry import resolve
from adlens.settings import get_settings

from report import emit, machine_info as base_machine_info  # benchmarks/report.py (the script's folder is on sys.path)

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "faces_small"
PER_FACE_STAGES = frozenset({"align", "embed", "emotion", "age", "gender", "eyewear_beard_hat", "landmarks"})
TARGET_SPEEDUP, GOAL_SPEEDUP = 2.0, 15.0
TARGET_EMBED_MS = 10.0

PhotoRunner = Callable[[Path, StageTimer], int]
"""Processes one photo, timing its stages on the timer; returns the number of faces found."""


@dataclass
class PassResult:
    """One timed pass over every photo."""

    wall_s: float
    stages_ms: dict[str, float]
    faces: int
    errors: int


class DlibBaseline:
    """face_recognition's ``face_encodings(img, face_locations(img))``, written with dlib."""

    upsample = 1
    num_jitters = 1

    def __init__(self) -> None:
        import dlib

        self.detector = dlib.get_frontal_face_detector()
        self.landmarks = dlib.shape_predictor(str(resolve("dlib-landmarks-5")))
        self.encoder = dlib.face_recognition_model_v1(str(resolve("dlib-face-embedding")))

    def __call__(self, path: Path, timer: StageTimer) -> int:
        """Decode, detect, find landmarks and embed every face of ``path``."""
        with timer.stage("decode"):
            rgb = cv2.cvtColor(load_image(path), cv2.COLOR_BGR2RGB)
        with timer.stage("detect"):
            rects = self.detector(rgb, self.upsample)
        with timer.stage("landmarks"):
            shapes = [self.landmarks(rgb, rect) for rect in rects]
        with timer.stage("embed"):
            _ = [np.asarray(self.encoder.compute_face_descriptor(rgb, s, self.num_jitters)) for s in shapes]
        return len(rects)


def adlens_runner(analyzer: Analyzer) -> PhotoRunner:
    """A runner calling ``analyzer.analyze`` (stages: decode, detect, align, embed, emotion, age, gender, eyewear_beard_hat)."""

    def run(path: Path, timer: StageTimer) -> int:
        return len(analyzer.analyze(path, timer))

    return run


def run_pass(runner: PhotoRunner, files: Sequence[Path]) -> PassResult:
    """Time one pass of ``runner`` over ``files``; a photo that fails is counted, not fatal."""
    timer, faces, errors = StageTimer(), 0, 0
    start = time.perf_counter()
    for path in files:
        try:
            faces += runner(path, timer)
        except AdlensError as error:
            errors += 1
            print(f"  error: {error.message}", file=sys.stderr)
    return PassResult(time.perf_counter() - start, dict(timer.totals), faces, errors)


def stage_means(passes: list[PassResult]) -> dict[str, float]:
    """Milliseconds per pass spent in each stage, averaged over ``passes``, in pipeline order."""
    names = list(dict.fromkeys(name for p in passes for name in p.stages_ms))
    return {name: sum(p.stages_ms.get(name, 0.0) for p in passes) / len(passes) for name in names}


def summarize(passes: list[PassResult], photos: int, load_ms: float) -> dict[str, Any]:
    """Per-stage means (per photo, and per face for per-face stages) and the median pass's rate."""
    n = len(passes)
    faces = passes[-1].faces
    totals = stage_means(passes)
    median_wall = statistics.median(p.wall_s for p in passes)
    return {
        "load_ms": round(load_ms, 1),
        "passes": n,
        "faces_found": faces,
        "errors": passes[-1].errors,
        "stage_ms_per_photo": {k: round(v / photos, 2) for k, v in totals.items()},
        "stage_ms_per_face": {
            k: round(v / faces, 2) for k, v in totals.items() if k in PER_FACE_STAGES and faces
        },
        "total_ms_per_photo": round(sum(totals.values()) / photos, 2),
        "wall_ms_per_photo": round(median_wall * 1000.0 / photos, 2),
        "photos_per_s": round(photos / median_wall, 3),
        "photos_per_s_all_passes": [round(photos / p.wall_s, 3) for p in passes],
    }


def embedding_ms_per_face(files: Sequence[Path], repeat: int) -> dict[str, Any]:
    """The identity embedding alone, on one thread: ONNX Runtime (the converted network) against dlib.

    The chips are the aligned faces of ``files``; each backend embeds batches of 1 and of 3 chips
    (a frame with one or three faces), the median of ``repeat`` runs per batch size, interleaved.
    """
    from adlens.embed import create_embedder

    settings = get_settings().model_copy(update={"ort_threads": 1})
    analyzer = Analyzer(settings, attributes=[], embed=True).load()
    assert analyzer.aligner is not None
    chips = [analyzer.aligner.chips(image, analyzer.detector.detect(image)) for image in map(load_image, files)]
    pool = np.concatenate([c for c in chips if len(c)])
    embedders = {name: create_embedder(name, settings).load() for name in ("onnx", "dlib")}
    timings: dict[str, dict[int, list[float]]] = {name: {1: [], 3: []} for name in embedders}
    outputs: dict[str, np.ndarray] = {}
    for run in range(max(repeat, 1) + 1):  # the first run warms up
        for name, embedder in embedders.items():
            for batch in (1, 3):
                start = (run * batch) % max(len(pool) - batch, 1)
                chunk = pool[start : start + batch]
                began = time.perf_counter()
                embedder.embed_chips(chunk)
                if run:
                    timings[name][batch].append((time.perf_counter() - began) * 1000.0 / batch)
            outputs[name] = embedder.embed_chips(pool[:8])
    result: dict[str, Any] = {
        name: {f"batch_{batch}": round(statistics.median(values), 2) for batch, values in by_batch.items()}
        for name, by_batch in timings.items()
    }
    result["chips"] = len(pool)
    result["max_abs_difference"] = float(np.abs(outputs["onnx"] - outputs["dlib"]).max())
    result["speedup_batch_1"] = round(result["dlib"]["batch_1"] / result["onnx"]["batch_1"], 1)
    result["target_ms"] = TARGET_EMBED_MS
    return result


def analyze_in_workers(files: Sequence[Path], workers: int, repeat: int) -> dict[str, Any]:
    """Photos per second of ``adlens analyze``'s work (no embeddings) in ``workers`` processes, as the command
    runs it: the files go round ``1 + repeat`` times through one pool, and the first round (processes starting,
    models loading) is timed apart from the steady rate of the others."""
    from adlens.workers import analyze_file, build_analyzer, run_ordered

    items = [(path, False) for _ in range(1 + repeat) for path in files]
    start = warm = time.perf_counter()
    for i, _ in enumerate(run_ordered(items, build_analyzer, analyze_file, settings=get_settings(), workers=workers)):
        if i + 1 == len(files):
            warm = time.perf_counter()
    end = time.perf_counter()
    return {"workers": workers, "first_round_s": round(warm - start, 2),
            "photos_per_s": round(len(files) * repeat / (end - warm), 3)}


def machine_info() -> dict[str, Any]:
    """CPU count, platform and the versions of the libraries doing the work."""
    import dlib
    import onnxruntime

    return base_machine_info(
        onnxruntime=onnxruntime.__version__,
        opencv=cv2.__version__,
        opencv_threads=cv2.getNumThreads(),
        dlib=dlib.__version__,
        numpy=np.__version__,
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line; ``--quick`` means one pass, no warm-up."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of photos (recursive)")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes (median reported)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed passes first")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    parser.add_argument("--quick", action="store_true", help="smoke test: 1 pass, no warm-up")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat, args.warmup = 1, 0
    if args.repeat < 1 or args.warmup < 0:
        parser.error("--repeat must be >= 1 and --warmup >= 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its JSON document; 2 if the data folder is missing or empty."""
    args = parse_args(argv)
    if not args.data.is_dir():
        print(f"error: data folder {args.data} not found (pass --data DIR)", file=sys.stderr)
        return 2
    files = list(iter_image_files(args.data))
    if not files:
        print(f"error: no images under {args.data}", file=sys.stderr)
        return 2
    settings = get_settings()

    runners: dict[str, PhotoRunner] = {}
    load_ms: dict[str, float] = {}
    for key, make in (
        ("adlens", lambda: adlens_runner(Analyzer(embed=True).load())),
        ("adlens_no_embed", lambda: adlens_runner(Analyzer(embed=False).load())),
        ("baseline_dlib_hog", DlibBaseline),
    ):
        start = time.perf_counter()
        runners[key] = make()
        load_ms[key] = (time.perf_counter() - start) * 1000.0

    passes: dict[str, list[PassResult]] = {key: [] for key in runners}
    for i in range(args.warmup + args.repeat):
        label = f"warm-up {i + 1}/{args.warmup}" if i < args.warmup else f"pass {i - args.warmup + 1}/{args.repeat}"
        for key, runner in runners.items():  # interleaved, so drift hits all three alike
            result = run_pass(runner, files)
            print(f"{label} {key}: {result.wall_s:.2f}s, {result.faces} faces", file=sys.stderr)
            if i >= args.warmup:
                passes[key].append(result)

    report = {key: summarize(passes[key], len(files), load_ms[key]) for key in runners}
    totals = stage_means(passes["adlens"])
    base_rate = report["baseline_dlib_hog"]["photos_per_s"]
    document = {
        "dataset": str(args.data.resolve()),
        "photos": len(files),
        "machine": machine_info(),
        "settings": {"detector_max_side": settings.detector_max_side, "ort_threads": settings.ort_threads,
                     "warmup": args.warmup, "repeat": args.repeat},
        **report,
        "speedup_vs_baseline": round(report["adlens"]["photos_per_s"] / base_rate, 3),
        "speedup_no_embed_vs_baseline": round(report["adlens_no_embed"]["photos_per_s"] / base_rate, 3),
        "speedup_per_pass": [  # paired, interleaved passes: robust to a busy machine's drift
            round(b.wall_s / a.wall_s, 3) for a, b in zip(passes["adlens"], passes["baseline_dlib_hog"])
        ],
        "target_speedup": TARGET_SPEEDUP,
        "goal_speedup": GOAL_SPEEDUP,
        "where_time_goes": {k: round(v / sum(totals.values()), 3) for k, v in totals.items()},
        "embedding_ms_per_face": embedding_ms_per_face(files, args.repeat * 5),
    }
    from adlens.runtime import available_cores

    workers = analyze_in_workers(files, available_cores(), args.repeat)
    document["analyze_in_workers"] = workers
    document["speedup_analyze_in_workers_vs_baseline"] = round(workers["photos_per_s"] / base_rate, 3)
    emit(document, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
