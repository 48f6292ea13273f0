"""What a batch run reads: image files from folders, list files, Parquet/CSV manifests and object stores.

Every input becomes one path string per image, in a stable order (the order the results are
written in). A local path that does not exist is kept: its result says why it cannot be read,
as ``adlens analyze`` does without Ray. URLs (``s3://``, ``gs://``, ``hdfs://``… whatever
``pyarrow.fs`` reads) are listed and read through pyarrow; ``file://`` is a local path.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from adlens.errors import InvalidInputError
from adlens.imageio import IMAGE_EXTENSIONS, display_name, iter_image_files

LIST_SUFFIXES = frozenset({".txt", ".lst", ".list"})
"""A file with one image path per line (``#`` starts a comment)."""
MANIFEST_SUFFIXES = frozenset({".parquet", ".csv"})
"""A table with a ``path`` column."""
PATH_COLUMN = "path"


def is_url(path: str) -> bool:
    """True for ``scheme://…`` other than ``file://`` (those are read through ``pyarrow.fs``)."""
    scheme, sep, _ = path.partition("://")
    return bool(sep) and scheme.isalnum() and len(scheme) > 1 and scheme.lower() != "file"


def local(path: str) -> str:
    """``file:///x`` → ``/x``; anything else unchanged."""
    return path[len("file://"):] if path.lower().startswith("file://") else path


def image_paths(inputs: Iterable[str | os.PathLike[str]]) -> list[str]:
    """Every image named by ``inputs`` (folders walked, list files and manifests read), in order.

    A manifest or list file's relative paths are relative to its own folder. Raises
    :class:`InvalidInputError` for a manifest without a ``path`` column, a list file that cannot be
    read, or when nothing at all is found.
    """
    paths: list[str] = []
    for item in inputs:
        paths.extend(_expand(local(os.fspath(item))))
    if not paths:
        names = ", ".join(display_name(os.fspath(i)) for i in inputs)
        raise InvalidInputError(f"no image files found in {names or 'nothing'}")
    return paths


def _expand(item: str) -> Iterator[str]:
    suffix = Path(item).suffix.lower()
    if is_url(item):
        if suffix in MANIFEST_SUFFIXES:
            yield from _manifest(item, base=item.rsplit("/", 1)[0])
        elif suffix in IMAGE_EXTENSIONS:
            yield item
        else:
            yield from _listing(item)
        return
    path = Path(item)
    if path.is_dir():
        yield from (str(file) for file in iter_image_files([path]))
    elif path.is_file() and suffix in MANIFEST_SUFFIXES:
        yield from _manifest(item, base=str(path.parent))
    elif path.is_file() and suffix in LIST_SUFFIXES:
        yield from _list_file(path)
    else:  # an image, or a path that does not exist: its result says why it cannot be read
        yield item


def _join(base: str, path: str) -> str:
    if is_url(path) or os.path.isabs(local(path)):
        return local(path)
    return f"{base}/{path}" if is_url(base) else str(Path(base) / path)


def _list_file(path: Path) -> Iterator[str]:
    try:
        lines = path.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    except OSError as error:
        raise InvalidInputError(f"cannot read the list {display_name(path)}: {error.strerror}") from None
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#"):
            yield _join(str(path.parent), line)


def _manifest(item: str, base: str) -> Iterator[str]:
    """The ``path`` column of a Parquet or CSV table (local or in an object store)."""
    name = display_name(item)
    if item.lower().endswith(".parquet"):
        import pyarrow.parquet as pq

        try:
            schema = pq.read_schema(item)
            if PATH_COLUMN not in schema.names:
                raise InvalidInputError(f"{name} has no '{PATH_COLUMN}' column (it has {', '.join(schema.names)})")
            column = pq.read_table(item, columns=[PATH_COLUMN]).column(PATH_COLUMN).to_pylist()
        except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError
            raise InvalidInputError(f"cannot read the manifest {name}: {error}") from None
    else:
        column = list(_csv_column(item, name))
    for value in column:
        if value not in (None, ""):
            yield _join(base, str(value))


def _csv_column(item: str, name: str) -> Iterator[str]:
    if is_url(item):
        import pyarrow.csv as pacsv

        try:
            table = pacsv.read_csv(item)
        except (OSError, ValueError) as error:
            raise InvalidInputError(f"cannot read the manifest {name}: {error}") from None
        if PATH_COLUMN not in table.column_names:
            raise InvalidInputError(f"{name} has no '{PATH_COLUMN}' column")
        yield from (str(v) for v in table.column(PATH_COLUMN).to_pylist() if v is not None)
        return
    try:
        with open(item, newline="", encoding="utf-8", errors="surrogateescape") as handle:
            reader = csv.DictReader(handle)
            if PATH_COLUMN not in (reader.fieldnames or []):
                raise InvalidInputError(f"{name} has no '{PATH_COLUMN}' column "
                                        f"(it has {', '.join(reader.fieldnames or []) or 'none'})")
            yield from (row[PATH_COLUMN] for row in reader)
    except OSError as error:
        raise InvalidInputError(f"cannot read the manifest {name}: {error.strerror}") from None


def _listing(url: str) -> Iterator[str]:
    """The image files under an object-store prefix, sorted (pyarrow's file systems)."""
    from pyarrow import fs

    try:
        filesystem, root = fs.FileSystem.from_uri(url)
        infos = filesystem.get_file_info(fs.FileSelector(root, recursive=True, allow_not_found=False))
    except (OSError, ValueError) as error:
        raise InvalidInputError(f"cannot list {display_name(url)}: {error}") from None
    scheme = url.split("://", 1)[0]
    for info in sorted(infos, key=lambda i: i.path):
        if info.type == fs.FileType.File and Path(info.path).suffix.lower() in IMAGE_EXTENSIONS:
            yield f"{scheme}://{info.path}"


def read_bytes(url: str) -> bytes:
    """The content of an object-store file (raises OSError when it cannot be read)."""
    from pyarrow import fs

    filesystem, path = fs.FileSystem.from_uri(url)
    with filesystem.open_input_stream(path) as stream:
        return bytes(stream.read())
