"""``adlens analyze --ray``: the same analysis on Ray, resumable, with Parquet output (see docs/batch.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from adlens.cli.common import err, out, progress_bar, worker_count
from adlens.errors import InvalidInputError
from adlens.settings import get_settings


def analyze_on_ray(
    paths: list[Path], *, address: str | None, out_dir: Path | None, json_file: Path | None, parquet_dir: Path | None,
    embeddings: bool, restart: bool, workers: int | None, detector: str | None, batch_size: int,
) -> None:
    """Analyse every image named by ``paths`` on Ray; the JSON lines as ``adlens analyze`` writes them."""
    from adlens.batch.analyse import analyse
    from adlens.batch.cluster import LOCAL, ray_session
    from adlens.batch.inputs import image_paths
    from adlens.batch.outputs import Outputs
    from adlens.pipeline import Analyzer
    from adlens.registry import require
    from adlens.runtime import available_cores

    settings = get_settings()
    if embeddings and parquet_dir is None:
        raise InvalidInputError("--embeddings are written to Parquet only: add --parquet DIR")
    if embeddings and settings.mode != "members":
        raise InvalidInputError("--embeddings: face embeddings are identities and are written only in members "
                                "mode (ADLENS_MODE=members); anonymous mode stores none")
    if json_file is None and out_dir is not None:
        json_file = out_dir / "results.jsonl"
    files = image_paths(paths)
    require(Analyzer(settings, detector=detector, embed=embeddings).required_models, settings)  # before Ray starts
    local = address in (None, LOCAL)
    count = worker_count(workers, len(files))
    with ray_session(address, cpus=max(count, available_cores())) as cpus:
        count = min(count if local or workers else len(files), cpus)  # an actor more would never start
        outputs = Outputs(json_file, parquet_dir, embeddings=embeddings, restart=restart,
                          echo=lambda line: out.print(line, highlight=False, markup=False, soft_wrap=True))
        try:
            with progress_bar() as progress:
                task = progress.add_task(f"analysing on {count} Ray worker(s)", total=len(files))
                summary = analyse(files, outputs, settings=settings, workers=count,
                                  detector=detector, embed=embeddings, batch_size=batch_size,
                                  advance=lambda n: progress.advance(task, n))
        finally:
            outputs.close()
    err.print(f"analysed {summary.analysed} image(s) in {summary.seconds:.1f} s ({summary.per_second:.1f} images/s), "
              f"{summary.faces} face(s); {summary.errors} could not be read; "
              f"{summary.skipped} skipped (done by an earlier run)", highlight=False)
    for label, where in (("JSON", json_file), ("Parquet", parquet_dir), ("resume ledger", outputs.ledger)):
        if where is not None:
            err.print(f"{label}: {where}", highlight=False)
    if summary.analysed == summary.errors and not summary.skipped:
        raise typer.Exit(1)


def check_ray_options(*, ray: str | None, parquet_dir: Path | None, embeddings: bool, restart: bool,
                      csv_file: Path | None, annotate: bool | None, recommend: bool) -> None:
    """Options that go only with ``--ray``, and those ``--ray`` does not offer, as usage errors."""
    if ray is None:
        for given, option in ((parquet_dir, "--parquet"), (embeddings, "--embeddings"), (restart, "--restart")):
            if given:
                raise InvalidInputError(f"{option} goes with --ray (a batch run on Ray)")
        return
    for given, option, why in ((csv_file, "--csv", "use --parquet DIR (the same columns, one row per face)"),
                               (annotate, "--annotate", "annotated copies are made without --ray"),
                               (recommend, "--recommend", "product proposals are made without --ray")):
        if given:
            raise InvalidInputError(f"{option} does not go with --ray: {why}")
