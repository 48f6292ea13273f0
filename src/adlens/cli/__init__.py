"""The ``adlens`` command line (Typer)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from adlens import __version__
from adlens.cli import ads, catalog, decide, demo, evaluate, gallery, models, report, serve, shop, signage, train, uplift
from adlens.cli.analyze import analyze
from adlens.cli.common import PlainHelpGroup, distance_meaning, handle_errors, handle_errors_exit_2, out
from adlens.errors import NoFaceFoundError
from adlens.samples import write_sample
from adlens.settings import get_settings

app = typer.Typer(
    name="adlens",
    help="adlens: see who is in front of the screen, privately, and pick the right ad or product.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=PlainHelpGroup,
)


def _print_version(value: bool) -> None:
    if value:
        out.print(f"adlens {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option(
        "--version", help="Print the adlens version and exit.", is_eager=True, callback=_print_version)] = False,
) -> None:
    """adlens: see who is in front of the screen, privately, and pick the right ad or product."""


app.command()(analyze)
app.add_typer(models.app, name="models")
app.add_typer(catalog.app, name="catalog")
app.add_typer(shop.customers_app, name="customers")
app.add_typer(shop.feedback_app, name="feedback")
app.command()(shop.recommend)
app.command()(shop.similar)
app.command()(shop.segments)
app.command()(shop.shuffle)
app.command("recommend-face")(shop.recommend_face)
app.add_typer(ads.app, name="ads")
app.add_typer(gallery.app, name="gallery")
app.command()(decide.decide)
app.command()(decide.reward)
app.command()(demo.demo)
app.command()(signage.signage)
app.command()(report.report)
app.command()(serve.serve)
app.add_typer(serve.keys_app, name="keys")
app.add_typer(evaluate.app, name="eval")
app.add_typer(train.app, name="train")
app.add_typer(uplift.app, name="uplift")


@app.command()
@handle_errors_exit_2
def verify(
    image_a: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="First photo.")],
    image_b: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Second photo.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Are the faces in two photos the same person? (largest face of each)

    Prints the distance between the two faces with what it means: ADLENS_MATCH_THRESHOLD (0.6) or less is the same person. Exit 0 same person, 1 different people, 2 on an error (no face, unreadable photo).
    """
    from adlens.evaluation.verification import FaceEmbeddings

    embeddings = FaceEmbeddings()
    vectors = []
    for image in (image_a, image_b):
        vector = embeddings.largest(image)
        if vector is None:
            raise NoFaceFoundError(f"no face found in {image}")
        vectors.append(vector)
    distance = float(np.linalg.norm(vectors[0] - vectors[1]))
    threshold = get_settings().match_threshold
    same = distance <= threshold
    result = {"image_a": str(image_a), "image_b": str(image_b), "distance": round(distance, 4),
              "threshold": threshold, "same": same}
    if json_output:
        out.print(json.dumps(result), highlight=False, markup=False)
    else:
        verdict = "same person" if same else "different people"
        out.print(f"{verdict}: distance {distance:.2f} ({distance_meaning(threshold)})", highlight=False)
    if not same:
        raise typer.Exit(1)


@app.command()
@handle_errors
def sample(
    name: Annotated[str, typer.Argument(help="Sample name: astronaut, sunglasses, cap, crowd or coffee.")],
    target: Annotated[Path, typer.Argument(help="Where to write it (.png or .jpg).")],
) -> None:
    """Write a built-in sample picture (public domain) to try adlens on: astronaut, sunglasses, cap, crowd, coffee."""
    out.print(f"sample written to {write_sample(name, target)}", highlight=False)


@app.command()
def version() -> None:
    """Print the adlens version (as adlens --version does)."""
    out.print(f"adlens {__version__}", highlight=False)


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["app", "main"]
