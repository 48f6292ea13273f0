"""``adlens analyze``: faces, emotions, age and gender for images and folders."""

from __future__ import annotations

import csv
import json
from contextlib import closing
from enum import Enum
from functools import partial
from pathlib import Path
from typing import Annotated, TextIO

import numpy as np
import typer
from rich.markup import escape

from adlens.annotate import annotate
from adlens.cli.common import WorkersOption, err, handle_errors, out, progress_bar, worker_count
from adlens.errors import InvalidInputError
from adlens.columns import CSV_FIELDS, csv_values, face_records
from adlens.imagedecode import Decoded
from adlens.imageio import display_name, iter_image_files, save_image
from adlens.pipeline import Analysis
from adlens.settings import get_settings
from adlens.workers import ItemError, analyze_file, build_analyzer, run_ordered


class DetectorName(str, Enum):
    yunet = "yunet"
    dlib = "dlib"


CSV_COLUMNS = ["image", "face", "x", "y", "w", "h", "score", *CSV_FIELDS, "error"]


def _expand(paths: list[Path]) -> list[tuple[Path, Path]]:
    """Each image file with the root it was found under (for mirrored output names).

    A path that does not exist (or a broken link) is kept as a file: analysing it
    reports why it cannot be read, on its own line, and the run goes on.
    """
    files = []
    for root in paths:
        if not root.exists():
            files.append((root, root.parent))
            continue
        base = root if root.is_dir() else root.parent
        files.extend((file, base) for file in iter_image_files([root]))
    return files


class _AnnotatedNames:
    """Output names that mirror the input tree and never overwrite each other."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.used: set[Path] = set()

    def __call__(self, file: Path, base: Path) -> Path:
        relative = Path(display_name(file.relative_to(base) if file.is_relative_to(base) else file.name))
        suffix = file.suffix.lower() if file.suffix.lower() in (".jpg", ".jpeg", ".png") else ".jpg"
        target = self.out_dir / relative.with_suffix(suffix)
        counter = 1
        while target in self.used:
            target = self.out_dir / relative.with_name(f"{relative.stem}-{counter}{suffix}")
            counter += 1
        self.used.add(target)
        return target


def _csv_rows(result: Analysis) -> list[dict[str, object]]:
    if result.error or not len(result.faces):
        return [{"image": result.image, "face": "", "error": result.error or ""}]
    rows = []
    for i, record in enumerate(face_records(result.faces)):
        x, y, w, h = record["box"]
        row: dict[str, object] = {"image": result.image, "face": i, "x": x, "y": y, "w": w, "h": h}
        row["score"] = record["score"]
        row.update(csv_values(record))
        rows.append(row)
    return rows


@handle_errors
def analyze(
    paths: Annotated[list[Path], typer.Argument(help="Images, folders, or folders of folders; with --ray also list files (.txt), Parquet/CSV manifests with a path column, and object-store URLs.", show_default=False)],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Folder for annotated pictures and results.jsonl.")] = None,
    json_file: Annotated[Path | None, typer.Option("--json", help="JSON lines file (default: OUT/results.jsonl, else stdout).")] = None,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="CSV file, one row per face.")] = None,
    annotate_images: Annotated[bool | None, typer.Option("--annotate/--no-annotate", help="Write annotated copies (default: on with --out; without --out they go to ./adlens-output).", show_default=False)] = None,
    detector: Annotated[DetectorName | None, typer.Option(help="Face detector (default: ADLENS_DETECTOR, yunet).", show_default=False)] = None,
    recommend: Annotated[bool, typer.Option("--recommend", help="Propose catalogue products per face (eyewear → sunglasses, hat → caps…); the annotated picture is titled with the main face's product.")] = False,
    workers: WorkersOption = None,
    ray: Annotated[bool, typer.Option(
        "--ray", help="Run on Ray (pip install 'adlens\\[ray]'): a local Ray on this machine, or the cluster in "
        "RAY_ADDRESS when set. "
        "Resumable: run the same command again to finish a stopped run (docs/batch.md).")] = False,
    ray_address: Annotated[str | None, typer.Option(
        "--ray-address", metavar="ADDRESS", show_default=False,
        help="Run on this Ray cluster (ray://host:10001, host:6379, auto; default: RAY_ADDRESS, else a local "
        "Ray); implies --ray.")] = None,
    parquet_dir: Annotated[Path | None, typer.Option(
        "--parquet", help="With --ray: a folder of Parquet files, one row per face.")] = None,
    embeddings: Annotated[bool, typer.Option(
        "--embeddings", help="With --parquet: add each face's embedding (members mode only).")] = False,
    restart: Annotated[bool, typer.Option(
        "--restart", help="With --ray: forget what an earlier run wrote and start over.")] = False,
    batch_size: Annotated[int, typer.Option(
        "--batch-size", min=1, help="With --ray: images per actor call (and per resumable write).")] = 16,
) -> None:
    """Find every face with its emotions, age, gender, eyewear, beard and hat; one JSON line per image.

    A file that cannot be read (corrupt, missing, a broken link) gets a line with "error" and the run
    goes on. Worker processes analyse several images at once; the lines keep the order of the files.
    Exit 0 if anything was analysed, 1 if nothing could be, 2 on a usage error. With --ray the same lines
    come from actors of a Ray cluster, and a stopped run started again skips what is done.
    """
    from adlens.batch.cluster import ray_target
    from adlens.cli.analyze_ray import analyze_on_ray, check_ray_options

    address = ray_target(ray, ray_address)
    check_ray_options(ray=address, parquet_dir=parquet_dir, embeddings=embeddings, restart=restart, csv_file=csv_file,
                      annotate=annotate_images, recommend=recommend)
    if address is not None:
        analyze_on_ray(paths, address=address, out_dir=out_dir, json_file=json_file, parquet_dir=parquet_dir,
                       embeddings=embeddings, restart=restart, workers=workers,
                       detector=detector.value if detector else None, batch_size=batch_size)
        return
    if annotate_images is None:
        annotate_images = out_dir is not None
    if annotate_images and out_dir is None:
        out_dir = Path("adlens-output")
    if json_file is None and out_dir is not None:
        json_file = out_dir / "results.jsonl"
    files = _expand(paths)
    if not files:
        raise InvalidInputError(f"no image files found in {', '.join(map(display_name, paths))}")
    build = partial(build_analyzer, detector=detector.value if detector else None)
    targeting = _FaceProducts() if recommend else None
    names = _AnnotatedNames(out_dir) if out_dir is not None else None
    analysed = failed = faces = 0
    json_handle = _open(json_file)
    csv_handle = _open(csv_file)
    csv_writer = csv.DictWriter(csv_handle, CSV_COLUMNS) if csv_handle else None
    if csv_writer:
        csv_writer.writeheader()
    try:
        outcomes = run_ordered([(file, annotate_images) for file, _ in files], build, analyze_file,
                               settings=get_settings(), workers=worker_count(workers, len(files)))
        with progress_bar() as progress, closing(outcomes):
            task = progress.add_task("analysing", total=len(files))
            for (file, base), outcome in zip(files, outcomes, strict=True):
                if isinstance(outcome, ItemError):  # an unexpected error, or its worker process died
                    result, decoded = Analysis(display_name(file), error=outcome.message), None
                else:
                    result, decoded = outcome
                record, title = result.to_json(), None
                if targeting is not None and not result.error:
                    record["products"], title = targeting(result.faces)
                line = json.dumps(record, ensure_ascii=False)
                if json_handle:
                    json_handle.write(line + "\n")
                    json_handle.flush()
                else:
                    out.print(line, highlight=False, markup=False, soft_wrap=True)
                if csv_writer:
                    csv_writer.writerows(_csv_rows(result))
                if result.error:
                    failed += 1
                    err.print(f"[yellow]skipped[/] {escape(result.image)}: {escape(result.error)}", highlight=False)
                else:
                    analysed += 1
                    faces += len(result.faces)
                    if annotate_images and names is not None and decoded is not None:
                        _write_annotated(names(file, base), decoded, result, title)
                progress.advance(task)
    finally:
        for handle in (json_handle, csv_handle):
            if handle:
                handle.close()
    err.print(f"analysed {analysed} image(s), {faces} face(s); {failed} could not be read", highlight=False)
    for label, where in (("JSON", json_file), ("CSV", csv_file), ("annotated pictures", out_dir if annotate_images else None)):
        if where is not None:
            err.print(f"{label}: {where}", highlight=False)
    if analysed == 0:
        raise typer.Exit(1)


def _open(path: Path | None) -> TextIO | None:
    if path is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    return open(path, "w", encoding="utf-8", newline="")


def _write_annotated(target: Path, decoded: Decoded, result: Analysis, title: str | None = None) -> None:
    """The picture as decoded (reduced when large) with its faces drawn, the boxes scaled to it."""
    faces = result.faces if decoded.scale == 1 else result.faces.scaled(1 / decoded.scale)
    try:
        save_image(target, annotate(decoded.pixels, faces, title=title))
    except InvalidInputError as error:  # one unwritable picture must not stop the run
        err.print(f"[yellow]warning:[/] {escape(error.message)}", highlight=False)


class _FaceProducts:
    """Products per face from the catalogue in the store, by the targeting rules."""

    def __init__(self, k: int = 3) -> None:
        from adlens.products.service import Shop
        from adlens.products.targeting import FaceTargeting
        from adlens.cli.common import open_store

        self.shop = Shop(open_store())
        index = self.shop.index()
        if not len(index):
            raise InvalidInputError("--recommend needs a catalogue: import one first (adlens catalog import)")
        self.targeting = FaceTargeting(index)
        self.k = k

    def __call__(self, faces) -> tuple[list[dict], str | None]:
        """(JSON per face, the title: the largest face's best product and why)."""
        from adlens.products.targeting import face_products_json

        results = self.targeting.recommend(faces, self.k)
        ids = {p.product for r in results for p in r.products}
        names = {p.id: p.name for p in self.shop.store.get_products(sorted(ids))}
        title = None
        if len(faces):
            main = int(np.argmax(faces.boxes[:, 2] * faces.boxes[:, 3]))
            best = results[main].products[:1]
            if best:
                title = f"{names.get(best[0].product) or best[0].product} ({best[0].reasons[0]})"
        return face_products_json(results, faces, names), title
