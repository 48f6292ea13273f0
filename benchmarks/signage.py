"""Signage benchmark: frames per second of the screen loop, per number of frames analysed at once.

Usage::

    python benchmarks/signage.py [--frames N] [--in-flight 1 2 ...] [--repeat N] [--out FILE] [--quick]

Plays ``N`` copies of one 640×480 frame with three faces (``obama_and_biden.jpg`` of
``faces_small``, letterboxed) through :class:`~adlens.signage.SignageLoop` with every
stage on: decode-free frames, detect, align, embed, emotion, age, gender,
eyewear/beard/hat, tracking, and decisions by :class:`adlens.decision.Decider` on an
empty store in a temporary folder. Runs of the ``--in-flight`` values are interleaved;
the first run of each is a warm-up. Prints one JSON document on stdout. Nothing here
asserts on timings; the target is 30 frames/s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from adlens.imageio import load_image
from adlens.pipeline import analyzer_for
from adlens.signage import Frame, FrameSource, SignageLoop
from adlens.store import open_store

from report import emit, machine_info  # benchmarks/report.py (the script's folder is on sys.path)

PHOTO = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "faces_small" / "test" / "obama_and_biden.jpg"
SIZE = (640, 480)
TARGET_FPS = 30.0


class RepeatedFrame(FrameSource):
    """``count`` copies of one image at 30 frames per second of source time."""

    def __init__(self, image: np.ndarray, count: int) -> None:
        super().__init__("benchmark", TARGET_FPS)
        self.image, self.count = image, count

    def _indices(self) -> Iterator[int]:
        return iter(range(self.count))

    def _read(self, index: int) -> Frame:
        return Frame(index, index / self.fps, self.image, f"frame {index}")


def letterboxed(path: Path) -> np.ndarray:
    """The photo scaled into a black 640×480 frame, aspect kept."""
    image = load_image(path)
    scale = min(SIZE[0] / image.shape[1], SIZE[1] / image.shape[0])
    w, h = int(image.shape[1] * scale), int(image.shape[0] * scale)
    frame = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    y, x = (SIZE[1] - h) // 2, (SIZE[0] - w) // 2
    frame[y:y + h, x:x + w] = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
    return frame


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line; ``--quick`` means 4 frames, one timed run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photo", type=Path, default=PHOTO, help="the photo the frame is made of")
    parser.add_argument("--frames", type=int, default=30, help="frames per run")
    parser.add_argument("--in-flight", type=int, nargs="+", default=[1, 2], help="values to compare")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per value (median reported)")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    parser.add_argument("--quick", action="store_true", help="smoke test: 4 frames, 1 timed run")
    args = parser.parse_args(argv)
    if args.quick:
        args.frames, args.repeat = 4, 1
    if args.frames < 1 or args.repeat < 1 or min(args.in_flight) < 1:
        parser.error("--frames, --repeat and --in-flight must be >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its JSON document; 2 if the photo is missing."""
    args = parse_args(argv)
    if not args.photo.is_file():
        print(f"error: photo {args.photo} not found (pass --photo FILE)", file=sys.stderr)
        return 2
    from adlens.decision import Decider

    frame = letterboxed(args.photo)
    analyzer = analyzer_for()
    faces = len(analyzer.analyze_array(frame))
    rates: dict[int, list[float]] = {k: [] for k in args.in_flight}
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{Path(folder) / 'events.db'}")
        try:
            for run in range(1 + args.repeat):  # the first run of each value warms up
                for k in args.in_flight:
                    loop = SignageLoop(RepeatedFrame(frame, args.frames), Decider(store, analyzer=analyzer), store,
                                       "benchmark", analyzer=analyzer, in_flight=k)
                    start = time.perf_counter()
                    loop.run()
                    rate = args.frames / (time.perf_counter() - start)
                    print(f"run {run} in_flight {k}: {rate:.2f} frames/s", file=sys.stderr)
                    if run:
                        rates[k].append(rate)
        finally:
            store.close()
    emit({
        "photo": str(args.photo), "frame_size": list(SIZE), "faces": faces, "frames": args.frames,
        "machine": machine_info(opencv=cv2.__version__),
        "frames_per_s": {str(k): round(statistics.median(v), 2) for k, v in rates.items()},
        "frames_per_s_all_runs": {str(k): [round(r, 2) for r in v] for k, v in rates.items()},
        "target_frames_per_s": TARGET_FPS,
    }, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
