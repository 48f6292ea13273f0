"""``adlens catalog …``: import a seller's catalogue and look at what adlens made of it."""

from __future__ import annotations

from collections import defaultdict
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from adlens.cli.common import WorkersOption, err, handle_errors, out, progress_bar, worker_count, write_json

if TYPE_CHECKING:
    from adlens.products.catalog import RowProblem
    from adlens.products.importer import ImportReport
    from adlens.store import Store

app = typer.Typer(help="Import a product catalogue, list it, look at a product's aspects.", no_args_is_help=True)

#: Line numbers shown per kind of problem; the full list goes to --report.
SHOWN_LINES = 8


def _store() -> Store:
    from adlens.cli.common import open_store

    return open_store()


@app.command("import")
@handle_errors
def import_(
    file: Annotated[Path, typer.Argument(help="Catalogue: CSV, or JSON lines (.jsonl/.ndjson/.json).")],
    images: Annotated[Path | None, typer.Option(
        "--images", help="Folder of product photos: paths in the image column are relative to it; "
        "without an image column, photos are found by product id (<id>.jpg…).")] = None,
    join: Annotated[list[Path] | None, typer.Option(
        "--join", help="A second file with one record per row, same order, whose columns are added "
        "(e.g. styles_text.csv). Repeatable.")] = None,
    id_column: Annotated[str, typer.Option("--id-column", help="Column with the product id.")] = "id",
    name_column: Annotated[str | None, typer.Option(
        "--name-column", help="Column with the product name (default: name, productDisplayName or title).")] = None,
    image_column: Annotated[str | None, typer.Option(
        "--image-column", help="Column with the photo's path (default: image, image_path or filename).")] = None,
    report_path: Annotated[Path | None, typer.Option(
        "--report", help="Write the whole import report (every skipped row) as JSON.")] = None,
    workers: WorkersOption = None,
    ray: Annotated[bool, typer.Option(
        "--ray", help="Describe the photos on Ray actors (pip install 'adlens\\[ray]'): a local Ray, or the "
        "cluster in RAY_ADDRESS; --workers actors (default: as many as worker processes here; on a cluster, one "
        "per CPU). docs/batch.md")] = False,
    ray_address: Annotated[str | None, typer.Option(
        "--ray-address", metavar="ADDRESS", show_default=False,
        help="Describe them on this Ray cluster (ray://host:10001, host:6379, auto); implies --ray.")] = None,
) -> None:
    """Import (or re-import) products: aspects of each photo are computed once and stored.

    Other columns are kept as metadata. Re-importing updates products and never duplicates them. Bad rows and missing or corrupt photos are reported with their line numbers and skipped; untagged products get category and colour predicted from similar photos. Worker processes describe the photos, a batch of 32 each; with --ray, Ray actors do (docs/batch.md).
    """
    from adlens.batch.cluster import ray_target
    from adlens.products.catalog import Columns, parse_rows, read_joined
    from adlens.products.importer import CatalogImporter

    columns = Columns(id=id_column, name=name_column, image=image_column)
    rows = list(parse_rows(read_joined(file, join or []), columns, images=images, base=file.parent))
    store = _store()
    importer = CatalogImporter(store)
    address = ray_target(ray, ray_address)
    with ExitStack() as stack:
        count, runner = worker_count(workers), None
        if address is not None:
            from adlens.batch.cluster import LOCAL, ray_ordered, ray_session

            cpus = stack.enter_context(ray_session(address, cpus=count if workers else None))
            count = workers or (count if address == LOCAL else cpus)
            runner = ray_ordered
        progress = stack.enter_context(progress_bar())
        task = progress.add_task("importing", total=len(rows))
        report = importer.run(rows, advance=lambda n: progress.advance(task, n), workers=count, runner=runner)
    _print_report(report)
    if report_path is not None:
        write_json(report.to_dict(), report_path)


def _print_report(report: ImportReport) -> None:
    out.print(
        f"{report.imported} products imported: {report.created} new, {report.updated} updated, "
        f"{report.unchanged} unchanged; {len(report.problems)} rows skipped",
        highlight=False,
    )
    by_kind: dict[str, list[RowProblem]] = defaultdict(list)
    for problem in report.problems:
        by_kind[problem.kind].append(problem)
    for kind, problems in by_kind.items():
        err.print(f"[yellow]skipped {len(problems)} ({escape(kind)}):[/yellow]", highlight=False)
        for problem in problems[:SHOWN_LINES]:
            err.print(f"  line {problem.line}: {escape(problem.reason)}", highlight=False)
        if len(problems) > SHOWN_LINES:
            err.print(f"  … and {len(problems) - SHOWN_LINES} more (--report FILE lists all)", highlight=False)
    for column, count in report.predicted.items():
        out.print(f"{column} predicted for {count} untagged products", highlight=False)


@app.command("list")
@handle_errors
def list_(
    search: Annotated[str | None, typer.Option("--search", "-s", help="Only ids or names containing this.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many to show.")] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0, help="Skip this many first.")] = 0,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List products (id, name, photo)."""
    store = _store()
    products = store.list_products(offset=offset, limit=limit, search=search)
    total = store.count_products()
    if json_output:
        write_json([p.summary() for p in products], None)
        return
    table = Table("id", "name", "photo", title=f"{len(products)} of {total} products", title_justify="left")
    for product in products:
        table.add_row(escape(product.id), escape(product.name), "yes" if product.image_sha256 else "no")
    out.print(table)


@app.command()
@handle_errors
def show(
    product_id: Annotated[str, typer.Argument(metavar="ID", help="Product id.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show one product: name, metadata, photo and predicted labels."""
    product = _store().get_product(product_id)
    data = product.details()
    if json_output:
        write_json(data, None)
        return
    out.print(f"[bold]{escape(product.id)}[/bold]  {escape(product.name)}", highlight=False)
    out.print(f"photo: {escape(product.image or '-')}", highlight=False)
    for key, value in product.attributes.items():
        out.print(f"  {escape(str(key))}: {escape(str(value))}", highlight=False)
    for key, prediction in product.predicted.items():
        out.print(f"  {escape(key)}: {escape(prediction.value)} (predicted, {prediction.confidence:.0%})",
                  highlight=False)


@app.command()
@handle_errors
def remove(
    product_id: Annotated[str, typer.Argument(metavar="ID", help="Product id.")],
) -> None:
    """Remove a product, its aspects and the feedback about it."""
    _store().remove_product(product_id)
    out.print(f"removed {product_id}", highlight=False, markup=False)


@app.command()
@handle_errors
def aspects(
    product_id: Annotated[str, typer.Argument(metavar="ID", help="Product id.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """What a product's photo and record are about: concepts, colours, tokens, embedding."""
    product = _store().get_product(product_id)
    data = product.aspects_json()
    if json_output:
        write_json(data, None)
        return
    out.print(f"[bold]{escape(product.id)}[/bold]  {escape(product.name)}", highlight=False)
    for kind in ("concepts", "colours", "tokens"):
        weights = data[kind]
        text = ", ".join(f"{escape(name)} {weight:.2f}" for name, weight in weights.items()) or "-"
        out.print(f"{kind}: {text}", highlight=False)
    embedding = data["embedding"]
    out.print(f"embedding: {embedding['dimensions']}-d" if embedding else "embedding: - (no photo)", highlight=False)
