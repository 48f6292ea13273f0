"""Reading a seller's catalogue file: CSV or JSON lines, with column mapping and line numbers.

Every record becomes either a :class:`CatalogRow` or a :class:`RowProblem` naming its
line, so one bad row is reported and skipped while the rest of the file goes on.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from adlens.errors import InvalidInputError
from adlens.imageio import IMAGE_EXTENSIONS
from adlens.media import confined, not_uploaded, real_path

MAX_ID_LENGTH = 128
MAX_NAME_LENGTH = 512
MAX_PATH_LENGTH = 1024
NAME_COLUMNS = ("name", "productDisplayName", "title", "product_name", "productName")
IMAGE_COLUMNS = ("image", "image_path", "imagePath", "filename", "file", "photo")
JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")

T = TypeVar("T")


@dataclass(frozen=True)
class Columns:
    """Which column holds what; ``None`` means: find it among the usual names."""

    id: str = "id"
    name: str | None = None
    image: str | None = None


@dataclass
class CatalogRow:
    """One product record as the file gives it (``line`` is 1-based, header included)."""

    line: int
    id: str
    name: str
    image: Path | None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RowProblem:
    """A record that was skipped, and why."""

    line: int
    id: str | None
    reason: str
    kind: str = "bad record"  # a short heading to group problems by: "missing image", "bad id"…

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "id": self.id, "kind": self.kind, "reason": self.reason}


def split_problems(items: Iterable[T | RowProblem]) -> tuple[list[T], list[RowProblem]]:
    """The good items of a parsed file, and the problems met on the way, each in file order."""
    good: list[T] = []
    problems: list[RowProblem] = []
    for item in items:
        if isinstance(item, RowProblem):
            problems.append(item)
        else:
            good.append(item)
    return good, problems


def read_records(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """Yield ``(line, record)`` for each record of a CSV or JSON-lines file; a broken record is a message.

    The format follows the suffix (``.jsonl``, ``.ndjson``, ``.json`` are JSON lines,
    anything else CSV). A file that cannot be read at all raises :class:`InvalidInputError`.
    """
    if not path.is_file():
        raise InvalidInputError(f"catalogue file not found: {path}")
    try:
        if path.suffix.lower() in JSON_SUFFIXES:
            yield from _json_lines(path)
        else:
            yield from _csv_records(path)
    except UnicodeDecodeError as error:
        raise InvalidInputError(f"{path} is not UTF-8 text ({error.reason} at byte {error.start})") from None
    except csv.Error as error:
        raise InvalidInputError(f"{path} is not a readable CSV file: {error}") from None


def _json_lines(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    with path.open(encoding="utf-8-sig") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as error:
                yield number, f"invalid JSON: {error.msg} (column {error.colno})"
                continue
            if not isinstance(record, dict):
                yield number, f"expected a JSON object, got {type(record).__name__}"
                continue
            yield number, record


def _csv_records(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not header or not any(h.strip() for h in header):
            raise InvalidInputError(f"{path} is empty: a CSV catalogue needs a header row")
        header = [h.strip() for h in header]
        _check_header(path, header)
        start = reader.line_num + 1
        for values in reader:
            line, start = start, reader.line_num + 1
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                yield line, f"expected {len(header)} fields, found {len(values)}"
                continue
            yield line, dict(zip(header, values))


def _check_header(path: Path, header: list[str]) -> None:
    seen: set[str] = set()
    for name in header:
        if not name:
            raise InvalidInputError(f"{path}: the header has an empty column name")
        if name in seen:
            raise InvalidInputError(f"{path}: column {name!r} appears twice in the header")
        seen.add(name)


def read_joined(path: Path, joins: Sequence[Path] = ()) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """Records of ``path`` with the columns of each file in ``joins`` added row by row.

    A joined file must hold exactly one record per record of the main file, in the same
    order (like ``styles_text.csv`` next to ``styles.csv``); a mismatch is an error.
    """
    if not joins:
        yield from read_records(path)
        return
    extras = [list(read_records(join)) for join in joins]
    main = list(read_records(path))
    for join, records in zip(joins, extras):
        if len(records) != len(main):
            raise InvalidInputError(
                f"{join} has {len(records)} records but {path} has {len(main)}: "
                "a joined file must have one record per row, in the same order"
            )
    for index, (line, record) in enumerate(main):
        if isinstance(record, str):
            yield line, record
            continue
        merged = dict(record)
        for join, records in zip(joins, extras):
            extra = records[index][1]
            if isinstance(extra, str):
                yield line, f"{join.name} line {records[index][0]}: {extra}"
                break
            merged.update({k: v for k, v in extra.items() if k not in merged})
        else:
            yield line, merged


def image_index(folder: Path) -> dict[str, Path]:
    """Image files directly in ``folder`` by file stem (the product id when images are named by id)."""
    if not folder.is_dir():
        raise InvalidInputError(f"image folder not found: {folder}")
    index: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in IMAGE_EXTENSIONS and path.is_file():
            index.setdefault(path.stem, path)
    return index


def _pick(record: dict[str, Any], wanted: str | None, candidates: Sequence[str]) -> str | None:
    if wanted is not None:
        return wanted
    return next((c for c in candidates if c in record), None)


def parse_rows(
    records: Iterator[tuple[int, dict[str, Any] | str]],
    columns: Columns = Columns(),
    images: Path | None = None,
    base: Path | None = None,
    roots: Sequence[Path] | None = None,
) -> Iterator[CatalogRow | RowProblem]:
    """Turn raw records into product rows, or problems naming the line.

    The id column is required; the name and image columns are found among the usual
    names unless given. Image paths in the image column are relative to ``images``
    (or ``base``, the catalogue's folder); without an image column, ``images`` is
    searched for a file named by the product id. Duplicate ids keep the first record.
    Photo paths come out absolute, symlinks resolved, so the store does not depend on
    the working folder. With ``roots`` (an upload), a photo must lie under one of them:
    any other path is refused without looking at it.
    """
    images = real_path(images) or images if images is not None else None
    base = real_path(base) or base if base is not None else None
    by_stem = image_index(images) if images is not None else None
    seen: dict[str, int] = {}
    for line, record in records:
        if isinstance(record, str):
            yield RowProblem(line, None, record)
            continue
        if columns.id not in record:
            raise InvalidInputError(
                f"no id column {columns.id!r} (columns: {', '.join(record)}); choose one with --id-column"
            )
        product_id = str(record[columns.id] if record[columns.id] is not None else "").strip()
        problem = _id_problem(product_id, seen)
        if problem:
            yield RowProblem(line, product_id or None, problem, "bad id")
            continue
        seen[product_id] = line
        name_column = _pick(record, columns.name, NAME_COLUMNS)
        image_column = _pick(record, columns.image, IMAGE_COLUMNS)
        for given, label in ((columns.name, "--name-column"), (columns.image, "--image-column")):
            if given is not None and given not in record:
                raise InvalidInputError(f"no column {given!r} for {label} (columns: {', '.join(record)})")
        image, problem = _image_of(record, product_id, image_column, images, base, by_stem, roots)
        if problem:
            yield RowProblem(line, product_id, problem, "missing image")
            continue
        skip = {columns.id, name_column, image_column}
        attributes = {k: v for k, v in record.items() if k not in skip and v not in (None, "")}
        name = str(record.get(name_column) or "").strip() if name_column else ""
        problem = _value_problem(name, image, attributes)
        if problem:
            yield RowProblem(line, product_id, problem, "bad record")
            continue
        yield CatalogRow(line, product_id, name, image, attributes)


def _value_problem(name: str, image: Path | None, attributes: dict[str, Any]) -> str | None:
    """Why a record's values cannot be stored, if they cannot (checked here to skip the row, not the batch)."""
    if len(name) > MAX_NAME_LENGTH:
        return f"name longer than {MAX_NAME_LENGTH} characters"
    if image is not None and len(str(image)) > MAX_PATH_LENGTH:
        return f"image path longer than {MAX_PATH_LENGTH} characters"
    try:
        json.dumps(attributes, allow_nan=False)
    except ValueError:
        return "a value is NaN or infinite, which JSON cannot hold"
    return None


def _id_problem(product_id: str, seen: dict[str, int]) -> str | None:
    if not product_id:
        return "empty id"
    if len(product_id) > MAX_ID_LENGTH:
        return f"id longer than {MAX_ID_LENGTH} characters"
    if product_id in seen:
        return f"duplicate id {product_id!r} (first on line {seen[product_id]}); kept the first"
    return None


def _image_of(
    record: dict[str, Any],
    product_id: str,
    column: str | None,
    images: Path | None,
    base: Path | None,
    by_stem: dict[str, Path] | None,
    roots: Sequence[Path] | None,
) -> tuple[Path | None, str | None]:
    value = str(record.get(column) or "").strip() if column else ""
    if value and roots is not None:
        found = confined(value, images or base or Path.cwd(), roots)
        return (found, None) if found is not None else (None, f"image {not_uploaded(value)}")
    if value:
        path = Path(value).expanduser()
        path = real_path(path if path.is_absolute() else (images or base or Path.cwd()) / path) or path
        return (path, None) if path.is_file() else (None, f"image not found: {path}")
    if by_stem is not None:
        stem = by_stem.get(product_id)
        return (stem, None) if stem is not None else (None, f"no image named {product_id}.* in {images}")
    return None, None
