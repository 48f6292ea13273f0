"""Customers, their likes and dislikes, recommendations, similar products and segments."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from adlens.cli.common import err, handle_errors, out, progress_bar, write_json
from adlens.products.feedback import parse_time, parse_value, read_feedback
from adlens.products.types import DISLIKE, LIKE, split_key

if TYPE_CHECKING:
    from adlens.products.service import Shop

customers_app = typer.Typer(help="Customers who give feedback (ids only: no personal data).",
                            no_args_is_help=True)
feedback_app = typer.Typer(help="Likes and dislikes: one at a time, or a batch from CSV.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]
TopK = Annotated[int, typer.Option("-k", "--top", min=1, max=1000, help="How many products.")]


def _shop() -> Shop:
    from adlens.products.service import Shop
    from adlens.cli.common import open_store

    return Shop(open_store())


@customers_app.command("add")
@handle_errors
def customers_add(customer: Annotated[list[str], typer.Argument(metavar="ID...", help="Customer ids.")]) -> None:
    """Add customers (an id already there is left as it is)."""
    shop = _shop()
    for customer_id in customer:
        created = shop.add_customer(customer_id)
        out.print(f"{'added' if created else 'already there'}: {customer_id}", highlight=False, markup=False)


@customers_app.command("list")
@handle_errors
def customers_list(json_output: JsonFlag = False) -> None:
    """List customers with their number of answers and segment."""
    rows = [c.summary() for c in _shop().store.list_customers()]
    if json_output:
        write_json(rows, None)
        return
    table = Table("id", "answers", "segment", "last answer", title=f"{len(rows)} customers", title_justify="left")
    for row in rows:
        table.add_row(escape(row["id"]), str(row["feedback_count"]), str(row["segment"] or "-"),
                      row["profile_updated_at"] or "-")
    out.print(table)


@customers_app.command("show")
@handle_errors
def customers_show(
    customer: Annotated[str, typer.Argument(metavar="ID", help="Customer id.")],
    json_output: JsonFlag = False,
) -> None:
    """Show a customer's taste profile: the aspects they like and dislike most."""
    shop = _shop()
    summary = shop.store.get_customer(customer).summary()
    summary["profile"] = shop.taste(customer)
    if json_output:
        write_json(summary, None)
        return
    out.print(f"[bold]{escape(customer)}[/bold]: {summary['feedback_count']} answers, "
              f"segment {summary['segment'] or '-'}", highlight=False)
    for side in ("likes", "dislikes"):
        text = ", ".join(f"{escape(name)} {weight:+.2f}" for name, weight in summary["profile"][side]) or "-"
        out.print(f"{side}: {text}", highlight=False)


@customers_app.command("remove")
@handle_errors
def customers_remove(
    customer: Annotated[str, typer.Argument(metavar="ID", help="Customer id.")],
) -> None:
    """Erase a customer: the id, every answer and the taste profile."""
    _shop().store.remove_customer(customer)
    out.print(f"erased {customer}: feedback and profile removed", highlight=False, markup=False)


@feedback_app.command("add")
@handle_errors
def feedback_add(
    customer: Annotated[str, typer.Argument(help="Customer id.")],
    product: Annotated[str, typer.Argument(help="Product id.")],
    answer: Annotated[str, typer.Argument(metavar="like|dislike", help="The answer.")],
    at: Annotated[str | None, typer.Option(
        "--at", help="When (ISO 8601, from 2000 to a few minutes ahead); default now.")] = None,
    create_customer: Annotated[bool, typer.Option("--create-customer", help="Add the customer if new.")] = False,
) -> None:
    """Record that a customer likes or dislikes a product; their profile is updated at once."""
    value = parse_value(answer)
    moment = parse_time(at) if at else None
    profile = _shop().add_feedback(customer, product, value, at=moment, create_customer=create_customer)
    out.print(f"{customer} {'likes' if value > 0 else 'dislikes'} {product} "
              f"({profile.count} answers so far)", highlight=False, markup=False)


@feedback_app.command("import")
@handle_errors
def feedback_import(
    file: Annotated[Path, typer.Argument(help="CSV or JSON lines: customer, product, feedback[, time].")],
    create_customers: Annotated[bool, typer.Option("--create-customers", help="Add unknown customers.")] = False,
    report_path: Annotated[Path | None, typer.Option("--report", help="Write every skipped row as JSON.")] = None,
) -> None:
    """Record a batch of answers; bad rows and unknown ids are reported with their lines and skipped."""
    items = list(read_feedback(file))
    shop = _shop()
    with progress_bar() as progress:
        task = progress.add_task("recording feedback", total=len(items))
        report = shop.import_feedback(items, create_customers=create_customers,
                                      advance=lambda n: progress.advance(task, n))
    out.print(f"{report.added} answers recorded for {report.customers} customers; "
              f"{len(report.problems)} rows skipped", highlight=False)
    for problem in report.problems[:10]:
        err.print(f"  line {problem.line}: {escape(problem.reason)}", highlight=False)
    if len(report.problems) > 10:
        err.print(f"  … and {len(report.problems) - 10} more (--report FILE lists all)", highlight=False)
    if report_path is not None:
        write_json([p.to_dict() for p in report.problems], report_path)


@handle_errors
def recommend(
    customer: Annotated[str, typer.Argument(help="Customer id.")],
    k: TopK = 10,
    json_output: JsonFlag = False,
) -> None:
    """Products for a customer, by cosine similarity to their taste, with the reasons.

    Products the customer already rated are left out. Without any feedback yet (cold start), what suits their segment or else the most liked products are shown instead, and the output says so.
    """
    result = _shop().recommend(customer, k)
    if json_output:
        write_json([{"product": r.product, "score": round(r.score, 4), "reasons": r.reasons}
                    for r in result.items], None)
        if result.cold_start:
            err.print(f"cold start: {result.note}", highlight=False)
        return
    if result.cold_start:
        err.print(f"[yellow]cold start:[/yellow] {escape(result.note)}", highlight=False)
    table = Table("#", "product", "name", "score", "why", title=f"for {escape(customer)}", title_justify="left")
    names = result.names
    for rank, item in enumerate(result.items, start=1):
        table.add_row(str(rank), escape(item.product), escape(names.get(item.product, "")),
                      f"{item.score:.3f}", escape("; ".join(item.reasons)))
    out.print(table)


@handle_errors
def similar(
    product: Annotated[str, typer.Argument(help="Product id.")],
    k: TopK = 10,
    json_output: JsonFlag = False,
) -> None:
    """Products whose photos look most like this one's (cosine over visual embeddings)."""
    shop = _shop()
    ranked = shop.similar(product, k)
    if json_output:
        write_json([{"product": pid, "score": round(score, 4)} for pid, score in ranked], None)
        return
    names = {p.id: p.name for p in shop.store.get_products([pid for pid, _ in ranked])}
    table = Table("#", "product", "name", "similarity", title=f"looks like {escape(product)}", title_justify="left")
    for rank, (pid, score) in enumerate(ranked, start=1):
        table.add_row(str(rank), escape(pid), escape(names.get(pid, "")), f"{score:.3f}")
    out.print(table)


@handle_errors
def segments(
    k: Annotated[int | None, typer.Option("--k", min=2, help="Number of segments (default: chosen by silhouette).")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="Write a 2-D picture of the segments (PNG).")] = None,
    json_output: JsonFlag = False,
) -> None:
    """Group customers by taste (k-means over profiles) and describe each group; stored for later use."""
    result = _shop().segment(n_segments=k, plot=plot)
    if json_output:
        write_json(result, None)
    else:
        out.print(f"{result['n_segments']} segments of {result['n_customers']} customers "
                  f"(silhouette {result['silhouette']:.3f}, k {'given' if k else 'chosen by silhouette'})",
                  highlight=False)
        table = Table("segment", "customers", "strongest aspects")
        for segment in result["segments"]:
            aspects = ", ".join(f"{escape(split_key(key)[1])} {weight:.2f}" for key, weight in segment["top_aspects"][:6])
            table.add_row(escape(segment["label"]), str(segment["size"]), aspects)
        out.print(table)
    if plot is not None:
        err.print(f"plot written to {plot}", highlight=False)


@handle_errors
def shuffle(
    customer: Annotated[str, typer.Argument(help="Customer id (added if new).")],
    rounds: Annotated[int, typer.Option("--rounds", "-n", min=1, help="Ask about at most this many products.")] = 20,
) -> None:
    """Ask a customer about products one by one: like, dislike, skip or quit (the Shuffler).

    Each answer updates the taste profile at once, so the next product shown already follows it; now and then a product from an unexplored part of the catalogue is shown.
    """
    shop = _shop()
    if shop.add_customer(customer):
        out.print(f"new customer {customer}", highlight=False, markup=False)
    skipped: set[str] = set()
    for _ in range(rounds):
        product = shop.next_product(customer, skip=skipped)
        if product is None:
            out.print("nothing more to show", highlight=False)
            break
        out.print(f"\n[bold]{escape(product.name or product.id)}[/bold] ({escape(product.id)})", highlight=False)
        if product.image:
            out.print(f"photo: {escape(product.image)}", highlight=False)
        answer = typer.prompt("[l]ike, [d]islike, [s]kip, [q]uit", default="s").strip().lower()[:1]
        if answer == "q":
            break
        if answer in ("l", "d"):
            profile = shop.add_feedback(customer, product.id, LIKE if answer == "l" else DISLIKE)
            out.print(f"noted ({profile.count} answers so far)", highlight=False)
        else:
            skipped.add(product.id)
    taste = shop.taste(customer, top=5)
    out.print("likes: " + (", ".join(name for name, _ in taste["likes"]) or "-"), highlight=False, markup=False)


@handle_errors
def recommend_face(
    image: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A photo with one or more faces.")],
    k: TopK = 5,
    rules: Annotated[Path | None, typer.Option("--rules", exists=True, dir_okay=False, help="Targeting rules (JSON list of {attribute, tokens, reason, threshold}).")] = None,
    json_output: JsonFlag = False,
) -> None:
    """Catalogue products for each face from what it wears: eyewear → sunglasses, beard → beard care, hat → caps."""
    from adlens.errors import NoFaceFoundError
    from adlens.pipeline import analyzer_for
    from adlens.products.targeting import DEFAULT_RULES, FaceTargeting, face_products_json, load_rules

    shop = _shop()
    index = shop.index()
    if not len(index):
        from adlens.errors import InvalidInputError

        raise InvalidInputError("the catalogue is empty: import products first (adlens catalog import)")
    from adlens.attributes.face_attributes import HEAD
    from adlens.settings import get_settings

    settings = get_settings()
    analyzer = analyzer_for(settings, embed=False, attributes=[settings.gender_model,
                                                               settings.face_attributes_model or HEAD])
    faces = analyzer.analyze(image)
    if not len(faces):
        raise NoFaceFoundError(f"no face found in {image}")
    results = FaceTargeting(index, load_rules(rules) if rules else DEFAULT_RULES).recommend(faces, k)
    names = {p.id: p.name for p in shop.store.get_products(sorted({p.product for r in results for p in r.products}))}
    data = face_products_json(results, faces, names)
    if json_output:
        write_json(data, None)
        return
    for face in data:
        worn = ", ".join(f"{name} {p:.0%}" for name, p in face["attributes"].items())
        out.print(f"[bold]face {face['face']}[/bold] at {face['box']}: {escape(worn)}", highlight=False)
        if not face["products"]:
            out.print("  no rule fired (or no matching product in the catalogue)", highlight=False)
        for item in face["products"]:
            out.print(f"  {escape(item['product'])}  {escape(item['name'])}  ({escape('; '.join(item['reasons']))})",
                      highlight=False)
