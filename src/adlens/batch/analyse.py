"""``adlens analyze --ray``: the pipeline of ``adlens analyze`` on Ray Data.

The paths (and the sha256 the ledger holds for each, if any) become a Ray dataset of small
blocks; ``map_batches`` sends each block to one actor of a fixed pool (:class:`AnalyseBatch`:
the models loaded once per actor), which hashes each file, skips one whose content is already
done, and analyses the others exactly as ``adlens analyze`` does. Results stream back to this
process in the files' order and are written a block at a time by :class:`~adlens.batch.outputs.Outputs`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from adlens.batch.inputs import is_url, read_bytes
from adlens.batch.outputs import Outputs, Result
from adlens.errors import AdlensError
from adlens.imageio import display_name
from adlens.settings import Settings
from adlens.workers import CRASHES, ItemError, _attempt

#: Images per block: what one actor call analyses, and what is written (and resumed) at once.
BATCH_SIZE = 16


@dataclass
class Summary:
    """What a run did: inputs, images analysed now, skipped (done by an earlier run), faces, errors, time."""

    images: int = 0
    analysed: int = 0
    skipped: int = 0
    faces: int = 0
    errors: int = 0
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.analysed / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"images": self.images, "analysed": self.analysed, "skipped": self.skipped, "faces": self.faces,
                "errors": self.errors, "seconds": round(self.seconds, 3), "images_per_s": round(self.per_second, 3)}


def content_hash(path: str) -> tuple[str, bytes | None]:
    """The file's sha256 ("" when it cannot be read) and, for a URL, its bytes (read once for both)."""
    try:
        if is_url(path):
            data = read_bytes(path)
            return hashlib.sha256(data).hexdigest(), data
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest(), None
    except (OSError, ValueError):
        return "", None


class AnalyseBatch:
    """One Ray actor: an analyser loaded once, then one call per block of paths.

    A column ``known`` holds the sha256 an earlier run analysed each path with ("" if none); a
    path whose content still has it comes back with ``skipped`` and nothing else.

    A file that kills the process (Ray then restarts the actor and retries the block) is caught
    by a marker written in ``attempts`` (a folder of this machine) before each file and removed
    after it: a file whose marker says it was tried :data:`~adlens.workers.CRASHES` times already becomes an
    error row, so the block goes through and the run goes on.
    """

    def __init__(self, settings: Settings, detector: str | None, embed: bool, attempts: str) -> None:
        from adlens.pipeline import analyzer_for

        if settings.ort_threads:
            import cv2

            cv2.setNumThreads(settings.ort_threads)
        self.analyzer = analyzer_for(settings, embed=embed, detector=detector)
        self.attempts = Path(attempts)
        self.attempts.mkdir(parents=True, exist_ok=True)  # on another node of a cluster: that node's own

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list[Any]]:
        columns: dict[str, list[Any]] = {k: [] for k in ("path", "sha256", "line", "faces", "error", "skipped",
                                                         "embeddings")}
        for raw, known in zip(batch["path"], batch["known"]):
            path = os.fsdecode(bytes(raw))
            sha, data = content_hash(path)
            skipped = bool(known) and sha == known
            line, faces, error, vectors = ("", 0, False, b"") if skipped else self._guarded(path, data)
            for key, value in zip(columns, (bytes(raw), sha, line, faces, error, skipped, vectors)):
                columns[key].append(value)
        return columns

    def _guarded(self, path: str, data: bytes | None) -> tuple[str, int, bool, bytes]:
        """:meth:`_analyse` behind the crash marker (see the class docstring)."""
        from adlens.pipeline import Analysis

        marker = self.attempts / hashlib.sha256(os.fsencode(path)).hexdigest()
        try:
            tries = int(marker.read_text() or 0)
        except (OSError, ValueError):
            tries = 0
        if tries >= CRASHES:
            return _row(Analysis(display_name(path), error=(
                f"the analysing process died on this file {tries} times (a fault in a native decoder, "
                "or out of memory); skipped")))
        marker.write_text(str(tries + 1))
        result = _row(self._analyse(path, data))
        marker.unlink(missing_ok=True)
        return result

    def _analyse(self, path: str, data: bytes | None) -> Any:
        """The file's :class:`~adlens.pipeline.Analysis`; a bad file's error is its own (as in ``run_ordered``)."""
        from adlens.pipeline import Analysis

        name = display_name(path)
        outcome = _attempt(AnalyseBatch._read_and_analyse, self, (name, path, data))  # the actor is the state
        return Analysis(name, error=outcome.message) if isinstance(outcome, ItemError) else outcome

    def _read_and_analyse(self, item: tuple[str, str, bytes | None]) -> Any:
        name, path, data = item
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
            if is_url(path):
                return self._analyse_bytes(name, data)
            return self.analyzer.analyze_file(Path(path))[0]

    def _analyse_bytes(self, name: str, data: bytes | None) -> Any:
        from adlens.pipeline import Analysis, full_scale

        if data is None:
            return Analysis(name, error="cannot read it from the object store")
        try:
            decoded = self.analyzer.decode(data, name=name)
        except AdlensError as error:
            return Analysis(name, error=getattr(error, "reason", error.message))
        faces = full_scale(self.analyzer.analyze_array(decoded.pixels), decoded)
        return Analysis(name, decoded.width, decoded.height, faces)


def analyse(
    paths: Sequence[str],
    outputs: Outputs,
    *,
    settings: Settings,
    workers: int,
    detector: str | None = None,
    embed: bool = False,
    batch_size: int = BATCH_SIZE,
    advance: Callable[[int], None] | None = None,
    after_write: Callable[[int], None] | None = None,
    actor: type[AnalyseBatch] = AnalyseBatch,
) -> Summary:
    """Analyse ``paths`` on ``workers`` actors of the running Ray, writing through ``outputs``.

    Each actor gets its share of the cluster's CPUs and as many inference threads
    (:func:`~adlens.batch.cluster.share_cpus`; ``settings.ort_threads`` set explicitly wins).

    ``advance(n)`` follows the progress; ``after_write(written)`` is called after each block is
    written (a test stops a run there, as a kill would); ``actor`` is the actor class (a test's
    subclass).
    """
    from adlens.batch.cluster import import_ray, share_cpus

    ray = import_ray()
    settings, cpus = share_cpus(settings, workers)
    import pyarrow as pa
    from ray.exceptions import RayError

    context = ray.data.DataContext.get_current()
    logging.getLogger("ray.data").setLevel(logging.ERROR)  # its notes on start and finish; ours say enough
    context.execution_options.preserve_order = True  # the lines in the files' order, as without Ray
    context.enable_progress_bars = False  # ours is on the console
    context.print_on_execution_start = False
    encoded = [os.fsencode(p) for p in paths]
    known = [outputs.done.get(p, "") for p in paths]
    table = pa.table({"path": pa.array(encoded, pa.binary()), "known": pa.array(known, pa.string())})
    batch_size = max(1, min(batch_size, -(-len(paths) // workers)))  # a few images still reach every actor
    blocks = [table.slice(start, batch_size) for start in range(0, len(paths), batch_size)]
    attempts = tempfile.mkdtemp(prefix="adlens-ray-attempts-")  # the crash markers (AnalyseBatch)
    dataset = ray.data.from_arrow(blocks).map_batches(
        actor, fn_constructor_kwargs={"settings": settings, "detector": detector, "embed": embed,
                                      "attempts": attempts},
        batch_size=batch_size, batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=cpus)
    summary, written, start = Summary(images=len(paths)), 0, time.perf_counter()
    try:
        for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
            written += _write(batch, outputs, summary)
            if advance:
                advance(len(batch["path"]))
            if after_write:
                after_write(written)
    except RayError as error:  # an actor that cannot start (models missing on a node…)
        cause = str(error).strip().splitlines()
        raise AdlensError(f"the Ray run stopped: {cause[-1] if cause else type(error).__name__} "
                          f"(what was written is kept; run again to go on)") from None
    finally:
        shutil.rmtree(attempts, ignore_errors=True)
    summary.seconds = time.perf_counter() - start
    return summary


def _row(result: Any) -> tuple[str, int, bool, bytes]:
    """An :class:`~adlens.pipeline.Analysis` as the actor's columns: its JSON line, faces, error, embeddings."""
    embeddings = result.faces.embeddings
    vectors = b"" if embeddings is None or not len(result.faces) else \
        np.ascontiguousarray(embeddings, np.float32).tobytes()
    return json.dumps(result.to_json(), ensure_ascii=False), len(result.faces), result.error is not None, vectors


def _write(batch: dict[str, np.ndarray], outputs: Outputs, summary: Summary) -> int:
    """Write one block's results (those skipped as done are only counted); returns how many were written."""
    results = []
    for raw, sha, line, faces, error, skipped, vectors in zip(
            batch["path"], batch["sha256"], batch["line"], batch["faces"], batch["error"], batch["skipped"],
            batch["embeddings"]):
        if skipped:
            summary.skipped += 1
            continue
        count = int(faces)
        matrix = np.frombuffer(bytes(vectors), np.float32).reshape(count, -1) if len(vectors) else None
        results.append(Result(os.fsdecode(bytes(raw)), str(sha), str(line), count, bool(error), matrix))
        summary.faces += count
        summary.errors += bool(error)
    outputs.write(results)
    summary.analysed += len(results)
    return len(results)
