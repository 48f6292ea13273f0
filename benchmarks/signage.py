"""Signage benchmark: frames per second of the screen loop on 640×480 frames with 1 and with 3 faces.

Usage::

    python benchmarks/signage.py [--frames N] [--repeat N] [--out FILE] [--quick]

Plays ``N`` copies of a 640×480 frame (a ``faces_small`` photo letterboxed: ``obama-480p.jpg``
with one face, ``test/obama_and_biden.jpg`` with three) through
:class:`~adlens.signage.SignageLoop` at 30 frames/s of source time, with every stage on:
detect, align, embed, emotion, age, gender, eyewear/beard/hat, tracking, and decisions by
:class:`adlens.decision.Decider` on an empty store in a temporary folder. Two set-ups run
interleaved in the same process: the *baseline* (every model on every frame, one frame at a
time: the loop before frame-rate work) and *adlens* (its defaults: two frames in flight,
emotion every frame, the stable attributes once per person and then every
``ADLENS_SIGNAGE_ATTRIBUTE_REFRESH`` s). The first run of each is a warm-up. Prints one JSON
document on stdout. Nothing here asserts on timings; the target is 30 frames/s with 3 faces.
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
from adlens.runtime import divide_cores
from adlens.signage import Frame, FrameSource, SignageLoop
from adlens.store import open_store

from report import emit, machine_info  # benchmarks/report.py (the script's folder is on sys.path)

FACES_SMALL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "faces_small"
SCENES = {1: FACES_SMALL / "obama-480p.jpg", 3: FACES_SMALL / "test" / "obama_and_biden.jpg"}
SETUPS = {"baseline": {"in_flight": 1, "signage_attribute_refresh": 0.0},
          "adlens": {"in_flight": 2, "signage_attribute_refresh": 1.0}}
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


def measure(frames: int, repeat: int) -> dict[str, object]:
    """Frames per second of each set-up on each scene (median of ``repeat`` runs after a warm-up run)."""
    from adlens.decision import Decider
    from adlens.settings import get_settings

    base = get_settings()
    analyzers = {  # as `adlens signage` builds them: frames in flight share the cores
        name: analyzer_for(divide_cores(base, int(setup["in_flight"])).model_copy(
            update={"signage_attribute_refresh": setup["signage_attribute_refresh"]}))
        for name, setup in SETUPS.items()}
    scenes = {n: letterboxed(path) for n, path in SCENES.items()}
    found = {n: len(analyzers["adlens"].analyze_array(frame)) for n, frame in scenes.items()}
    rates: dict[str, dict[int, list[float]]] = {name: {n: [] for n in scenes} for name in SETUPS}
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{Path(folder) / 'events.db'}")
        try:
            for run in range(1 + repeat):  # the first run of each warms up
                for n, frame in scenes.items():
                    for name, setup in SETUPS.items():
                        analyzer = analyzers[name]
                        loop = SignageLoop(RepeatedFrame(frame, frames), Decider(store, analyzer.settings, analyzer=analyzer),
                                           store, "benchmark", analyzer.settings, analyzer=analyzer,
                                           in_flight=int(setup["in_flight"]))
                        start = time.perf_counter()
                        loop.run()
                        rate = frames / (time.perf_counter() - start)
                        print(f"run {run} {n} face(s) {name}: {rate:.2f} frames/s", file=sys.stderr)
                        if run:
                            rates[name][n].append(rate)
        finally:
            store.close()
    return {
        "frame_size": list(SIZE), "frames_per_run": frames, "faces_found": {str(n): f for n, f in found.items()},
        "setups": SETUPS,
        "frames_per_s": {name: {f"{n}_faces": round(statistics.median(v), 2) for n, v in by_scene.items()}
                         for name, by_scene in rates.items()},
        "frames_per_s_all_runs": {name: {f"{n}_faces": [round(r, 2) for r in v] for n, v in by_scene.items()}
                                  for name, by_scene in rates.items()},
        "speedup": {f"{n}_faces": round(statistics.median(rates["adlens"][n]) / statistics.median(rates["baseline"][n]), 2)
                    for n in scenes},
        "target_frames_per_s_3_faces": TARGET_FPS,
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line; ``--quick`` means 4 frames, one timed run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60, help="frames per run (2 s of source time)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per set-up and scene (median reported)")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    parser.add_argument("--quick", action="store_true", help="smoke test: 4 frames, 1 timed run")
    args = parser.parse_args(argv)
    if args.quick:
        args.frames, args.repeat = 4, 1
    if args.frames < 1 or args.repeat < 1:
        parser.error("--frames and --repeat must be >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its JSON document; 2 if a photo is missing."""
    args = parse_args(argv)
    missing = [str(path) for path in SCENES.values() if not path.is_file()]
    if missing:
        print(f"error: {', '.join(missing)} not found", file=sys.stderr)
        return 2
    emit({"machine": machine_info(opencv=cv2.__version__), **measure(args.frames, args.repeat)}, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
