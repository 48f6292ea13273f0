"""What every command shares: consoles, progress bars, errors → exit codes, JSON output."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from adlens.errors import AdlensError, InvalidInputError, UnknownNameError
from adlens.settings import get_settings
from adlens.runtime import available_cores

if TYPE_CHECKING:
    # The click that typer vendors: what its parameters' methods take (typer.Context is narrower).
    from typer._click import Context

    from adlens.store import Store

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

USAGE_ERRORS = (InvalidInputError, UnknownNameError)

WorkersOption = Annotated[int | None, typer.Option(
    "--workers", min=1, show_default=False,
    help="Processes working at once, each loading the models once and using its share of the cores "
    "(default: ADLENS_WORKERS, else one per core); 1 works in this process.")]


def open_store() -> Store:
    """The configured store, migrated (:func:`adlens.store.open_store`), for a command that may change it.

    In a fleet (``ADLENS_REDIS_URL`` set) each commit that changes ads, bandit arms, the gallery,
    segments, uplift models or API keys is announced to every server at once, as a server's own are
    (:func:`adlens.fleet.bus.announce`, ``docs/fleet.md``).
    """
    from adlens.store import open_store as open_configured

    store = open_configured()
    settings = get_settings()
    if settings.redis_url.strip():
        from adlens.fleet.bus import announce

        try:
            announce(store, settings)
        except BaseException:
            store.close()
            raise
    return store


def worker_count(workers: int | None, items: int | None = None) -> int:
    """How many worker processes a command starts: ``--workers``, else ``ADLENS_WORKERS``, else one per
    core, and never more than there are ``items`` (one image is analysed in this process)."""
    count = workers or get_settings().workers or available_cores()
    return max(1, count if items is None else min(count, items))


def handle_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn an :class:`AdlensError` into a one-line message and exit 2 (usage) or 1."""
    return _on_error(command, lambda error: 2 if isinstance(error, USAGE_ERRORS) else 1)


def handle_errors_exit_2(command: Callable[P, R]) -> Callable[P, R]:
    """Like :func:`handle_errors`, but every error exits 2: for commands whose exit 1 is an answer (``verify``)."""
    return _on_error(command, lambda error: 2)


def _on_error(command: Callable[P, R], exit_code: Callable[[AdlensError], int]) -> Callable[P, R]:
    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except AdlensError as error:
            err.print(f"[red]error:[/red] {escape(error.message)}", highlight=False)
            raise typer.Exit(exit_code(error)) from None

    return wrapper


class PlainHelpGroup(typer.core.TyperGroup):
    """The root command group: help shows a value's type only where it says something.

    Typer prints ``<bool>`` after every flag and ``<list[Path]>`` after every
    list; on building, this group walks every command under it once and gives
    flags no type and lists their element's (``paths... <path>``).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _plain_types(self)


class _PlainOption(typer.core.TyperOption):
    def display_type_rich(self, ctx: Context) -> str | None:
        return None if self.is_flag else _element_type(super().display_type_rich(ctx))


class _PlainArgument(typer.core.TyperArgument):
    def display_type_rich(self, ctx: Context) -> str | None:
        return _element_type(super().display_type_rich(ctx))


def _element_type(label: str | None) -> str | None:
    """``<list[Path]>`` → ``<path>`` (the ``...`` after the name already says there may be several)."""
    if label is None:
        return None
    return re.sub(r"<list\[(.+?)\]>", lambda match: f"<{match.group(1).lower()}>", label)


def _plain_types(command: Any) -> None:
    """Give ``command``'s parameters, its ``--help`` and those of every command under it plain types."""
    for param in command.params:
        _plain_param(param)
    made_help_option = command.get_help_option

    def get_help_option(ctx: typer.Context) -> Any:
        return _plain_param(made_help_option(ctx))

    command.get_help_option = get_help_option  # click makes --help on first use, a plain TyperOption
    for child in getattr(command, "commands", {}).values():
        _plain_types(child)


def _plain_param(param: Any) -> Any:
    if type(param) is typer.core.TyperOption:
        param.__class__ = _PlainOption
    elif type(param) is typer.core.TyperArgument:
        param.__class__ = _PlainArgument
    return param


def distance_meaning(threshold: float, match: str = "same person") -> str:
    """What a face distance means next to ``threshold``: ``same person up to 0.60``."""
    return f"{match} up to {threshold:.2f}"


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


def print_rows(
    header: Sequence[str], rows: Iterable[Sequence[str]], style: Callable[[int, str], str | None] | None = None
) -> None:
    """Print a table: a Rich table on a terminal (long cells wrap, never cut), tab-separated lines otherwise.

    Rich cuts cells to fit 80 columns when stdout is a pipe or a file, so a
    redirected listing shows every value whole, one row a line, for ``cut``,
    ``grep`` and spreadsheets. ``style(column, value)`` colours a terminal cell.
    """
    if not out.is_terminal:
        for row in (header, *rows):
            typer.echo("\t".join(" ".join(cell.split()) for cell in row))  # Rich would expand the tabs
        return
    table = Table(*header)
    for column in table.columns:
        column.overflow = "fold"
    table.columns[0].no_wrap = True  # the key column (a name, an id) stays on one line
    for row in rows:
        cells = [Text(cell, style=(style(k, cell) if style else None) or "") for k, cell in enumerate(row)]
        table.add_row(*cells)
    out.print(table)


def write_json(data: Any, path: Path | None) -> None:
    """Write ``data`` as indented JSON to ``path`` (creating its folder), or print it when ``None``."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if path is None:
        out.print(text, highlight=False, markup=False)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")
    err.print(f"JSON written to {path}", highlight=False)
