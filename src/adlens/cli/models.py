"""``adlens models list | pull | verify | path``: the model registry from the shell."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from adlens import modelspecs, registry
from adlens.cli.common import err, handle_errors, out, print_rows
from adlens.errors import ModelUnavailableError
from adlens.registry import ModelState

app = typer.Typer(help="Model weights: where they are, fetch them, check them.", no_args_is_help=True)

_STYLE = {ModelState.PRESENT: "green", ModelState.MISSING: "yellow", ModelState.CORRUPT: "red"}
Names = Annotated[list[str] | None, typer.Argument(help="Model names (default: all).", show_default=False)]


@app.command("list")
@handle_errors
def list_models() -> None:
    """Every model with its task, file, state (present, missing, corrupt), licence and use.

    The use is "non-commercial" when the weights' licence or their training data forbids commercial use
    (UTKFace, iBUG 300-W), else "any".

    On a terminal a table; piped or redirected, one tab-separated line per model, every value whole.
    """
    rows = []
    for spec in modelspecs.specs():
        state, path = registry.state(spec)
        use = "non-commercial" if spec.non_commercial else "any"
        rows.append((spec.name, spec.task, spec.filename, state.value, spec.licence, use,
                     str(path.parent) if path else ""))
    print_rows(("name", "task", "file", "state", "licence", "use", "location"), rows, _style)


def _style(column: int, value: str) -> str | None:
    if column == 3:
        return _STYLE.get(ModelState(value))
    return "magenta" if column == 5 and value == "non-commercial" else None


@app.command()
@handle_errors
def pull(names: Names = None) -> None:
    """Download the models that are missing (all by default) into the user cache."""
    failed = 0
    for spec in modelspecs.specs(names):
        try:
            path = registry.resolve(spec.name)
        except ModelUnavailableError as error:
            failed += 1
            err.print(f"[red]✗[/] {escape(error.message)}", highlight=False)
            continue
        out.print(f"[green]✓[/] {spec.name}: {escape(str(path))}", highlight=False)
    if failed:
        raise typer.Exit(1)


@app.command()
@handle_errors
def verify(names: Names = None) -> None:
    """Check each model's sha256; exit 1 if any is missing or corrupt."""
    bad = 0
    for spec in modelspecs.specs(names):
        state, path = registry.state(spec)
        bad += state is not ModelState.PRESENT
        where = f" ({path})" if path else ""
        out.print(f"[{_STYLE[state]}]{state.value:8}[/] {spec.name}{escape(where)}", highlight=False)
    if bad:
        raise typer.Exit(1)


@app.command()
@handle_errors
def path(name: Annotated[str, typer.Argument(help="Model name, e.g. yunet-s.")]) -> None:
    """Print the verified local file of NAME (downloading it if allowed)."""
    out.print(str(registry.resolve(name)), highlight=False, markup=False)
