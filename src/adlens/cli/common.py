"""What every command shares: consoles, progress bars, errors → exit codes, JSON output."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from adlens.errors import AdlensError, InvalidInputError, UnknownNameError

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

USAGE_ERRORS = (InvalidInputError, UnknownNameError)


def handle_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn an :class:`AdlensError` into a one-line message and exit 2 (usage) or 1."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except AdlensError as error:
            err.print(f"[red]error:[/red] {escape(error.message)}", highlight=False)
            raise typer.Exit(2 if isinstance(error, USAGE_ERRORS) else 1) from None

    return wrapper


def progress_bar() -> Progress:
    """A Rich progress bar on stderr (quiet when stderr is not a terminal)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )


def track(items: Iterable[T], description: str = "working", total: int = 0) -> Iterator[T]:
    """Iterate ``items`` behind a progress bar."""
    with progress_bar() as progress:
        task = progress.add_task(description, total=total or None)
        for item in items:
            yield item
            progress.advance(task)


def write_json(data: Any, path: Path | None) -> None:
    """Write ``data`` as indented JSON to ``path`` (creating its folder), or print it when ``None``."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if path is None:
        out.print(text, highlight=False, markup=False)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")
    err.print(f"JSON written to {path}", highlight=False)
