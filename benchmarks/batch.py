"""Batch benchmark: ``adlens analyze --ray`` with 1 and 2 Ray workers against ``analyze --workers 1|2``.

Usage::

    python benchmarks/batch.py [--data DIR] [--copies N] [--out FILE] [--quick]

Copies the photos of ``--data`` ``--copies`` times into a temporary folder (so there is
enough work for several workers), starts one local Ray, then times, on the same photos and
in this process, each set-up from start to the last line written: ``analyze --workers N``'s
work (:func:`adlens.workers.run_ordered`: N spawned processes, each loading the models) and
``analyze --ray``'s (:func:`adlens.batch.analyse.analyse`: N actors, each loading the models,
results written through the resumable outputs, blocks of 4 images). ``first_line_s`` is the
start-up each pays once per run (processes or actors starting, models loading, the first
result; with Ray, in order, so the first block). Ray's own start-up is timed apart
(``ray_start_s``): it is paid once per run, whatever the number of images. Every set-up
writes its JSON lines, and the benchmark checks that they are the same. Prints one JSON
document on stdout, progress on stderr. Nothing here asserts on timings.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import closing
from functools import partial
from pathlib import Path
from typing import Any

from adlens.imageio import iter_image_files
from adlens.pipeline import Analysis
from adlens.runtime import available_cores
from adlens.settings import get_settings
from adlens.workers import ItemError, analyze_file, build_analyzer, run_ordered

from report import emit, machine_info  # benchmarks/report.py (the script's folder is on sys.path)

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "faces_small"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="Folder of photos (default: faces_small).")
    parser.add_argument("--copies", type=int, default=4, help="Copies of each photo analysed (default 4).")
    parser.add_argument("--out", type=Path, help="Also write the JSON document here.")
    parser.add_argument("--quick", action="store_true", help="One copy of at most 4 photos (a smoke test).")
    return parser.parse_args(argv)


Timing = tuple[float, float, list[str]]
"""Seconds from start to the last line, seconds to the first line written, the lines."""


def workers_run(files: list[Path], workers: int) -> Timing:
    """``adlens analyze --workers N``'s work, from the first process to the last line."""
    settings = get_settings()
    start = time.perf_counter()
    lines: list[str] = []
    first = 0.0
    outcomes = run_ordered([(f, False) for f in files], partial(build_analyzer, detector=None), analyze_file,
                           settings=settings, workers=workers)
    with closing(outcomes):
        for file, outcome in zip(files, outcomes, strict=True):
            result = Analysis(str(file), error=outcome.message) if isinstance(outcome, ItemError) else outcome[0]
            lines.append(json.dumps(result.to_json(), ensure_ascii=False))
            first = first or time.perf_counter() - start
    return time.perf_counter() - start, first, lines


def ray_run(files: list[Path], workers: int, folder: Path) -> Timing:
    """``adlens analyze --ray``'s work on ``workers`` actors, from the first actor to the last line."""
    from adlens.batch.analyse import analyse
    from adlens.batch.outputs import Outputs

    target = folder / f"ray{workers}.jsonl"
    outputs = Outputs(target, None, restart=True)
    firsts: list[float] = []
    start = time.perf_counter()
    try:
        analyse([str(f) for f in files], outputs, settings=get_settings(), workers=workers, batch_size=4,
                after_write=lambda written: firsts.append(time.perf_counter() - start))
    finally:
        outputs.close()
    return time.perf_counter() - start, firsts[0] if firsts else 0.0, target.read_text(encoding="utf-8").splitlines()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its JSON document; 2 if the data folder is missing or empty, or no Ray."""
    args = parse_args(argv)
    if not args.data.is_dir():
        print(f"error: data folder {args.data} not found (pass --data DIR)", file=sys.stderr)
        return 2
    photos = [p for p in iter_image_files(args.data) if p.parent == args.data]
    photos, copies = (photos[:4], 1) if args.quick else (photos, max(1, args.copies))
    if not photos:
        print(f"error: no images in {args.data}", file=sys.stderr)
        return 2
    try:
        import ray
    except ImportError:
        print("error: the batch benchmark needs Ray: pip install 'adlens[ray]'", file=sys.stderr)
        return 2
    from adlens.batch.cluster import ray_session

    with tempfile.TemporaryDirectory(prefix="adlens-batch-") as temporary:
        folder = Path(temporary)
        files = []
        for copy in range(copies):
            for photo in photos:
                files.append(Path(shutil.copy(photo, folder / f"{copy:04d}-{photo.name}")))
        files.sort()
        runs: dict[str, dict[str, Any]] = {}
        outputs: dict[str, list[str]] = {}
        start = time.perf_counter()
        with ray_session(None, cpus=max(2, available_cores())):
            ray_start = time.perf_counter() - start
            for name, run in (("workers_1", partial(workers_run, files, 1)), ("ray_1", partial(ray_run, files, 1, folder)),
                              ("workers_2", partial(workers_run, files, 2)), ("ray_2", partial(ray_run, files, 2, folder))):
                seconds, first, lines = run()
                outputs[name] = lines
                runs[name] = {"seconds": round(seconds, 3), "images_per_s": round(len(files) / seconds, 3),
                              "first_line_s": round(first, 3)}
                print(f"{name}: {seconds:.1f} s, {len(files) / seconds:.2f} images/s, first line after {first:.1f} s",
                      file=sys.stderr)
        same = all(lines == outputs["workers_1"] for lines in outputs.values())
    document = {
        "dataset": str(args.data.resolve()),
        "images": len(files),
        "machine": machine_info(ray=ray.__version__),
        "ray_start_s": round(ray_start, 3),
        "runs": runs,
        "ray_vs_workers": {n: round(runs[f"ray_{n}"]["images_per_s"] / runs[f"workers_{n}"]["images_per_s"], 3)
                           for n in (1, 2)},
        "same_json_lines": same,
    }
    emit(document, args.out)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
