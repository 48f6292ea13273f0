"""Where a batch run writes, so that a run killed half-way and started again loses nothing.

Results are written a chunk at a time, in this order: the JSON lines (appended, flushed and
synced), the chunk's Parquet part (``part-…​.parquet``, written whole then renamed), and last a
line of the *ledger* naming every path of the chunk with its content's sha256, the part, and
how many JSON lines the output holds. The ledger is the truth: on a new run, JSON lines past
the last ledger line and Parquet parts it does not name are dropped (they are redone), and a
path whose content still has the sha256 the ledger holds is skipped. A path whose content
changed is analysed again and its older JSON line and Parquet rows are removed at the end.

The ledger sits beside the JSON lines (``results.jsonl.done``), else in the Parquet folder
(``_done.jsonl``: pyarrow and Spark skip names starting with ``_``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from adlens.columns import CSV_FIELDS, csv_values
from adlens.errors import InvalidInputError
from adlens.files import atomic_path

TEXT_FIELDS = frozenset({"dominant_emotion", "age_bracket", "gender"})
"""The :data:`CSV_FIELDS` written as text in Parquet; every other one is a number."""


@dataclass
class Result:
    """One image's outcome: its path (the key, with ``sha256``), its JSON line, and its faces' embeddings."""

    path: str
    sha256: str  # "" when the file could not be read
    line: str
    faces: int = 0
    error: bool = False
    embeddings: np.ndarray | None = None  # (faces, d) float32, only when asked and allowed

    @property
    def record(self) -> dict[str, Any]:
        return json.loads(self.line)


def ledger_path(json_file: Path | None, parquet_dir: Path | None) -> Path | None:
    """Where a run's ledger lives: beside its JSON lines, else in its Parquet folder; None: no resume."""
    if json_file is not None:
        return json_file.with_name(json_file.name + ".done")
    return parquet_dir / "_done.jsonl" if parquet_dir is not None else None


class Outputs:
    """The JSON lines, Parquet parts and ledger of one run (see the module's docstring).

    ``echo`` prints a JSON line when there is no JSON file (stdout; such a run cannot resume).
    ``restart`` forgets what earlier runs wrote. ``embeddings`` adds an ``embedding`` column.
    """

    def __init__(self, json_file: Path | None, parquet_dir: Path | None, *, embeddings: bool = False,
                 restart: bool = False, echo: Callable[[str], None] = print) -> None:
        self.json_file, self.parquet_dir, self.embeddings, self.echo = json_file, parquet_dir, embeddings, echo
        self.ledger = ledger_path(json_file, parquet_dir)
        self.done: dict[str, str] = {}  # path -> sha256 of what is written for it
        self.redone: set[str] = set()
        self.lines = 0
        self._parts: set[str] = set()
        self._earlier_lines, self._earlier_parts, self._earlier_done = 0, frozenset[str](), frozenset[str]()
        self._sequence = 0
        self._json: TextIO | None = None
        self._ledger: TextIO | None = None
        if self.ledger is not None and self.ledger.exists() and not restart:
            self._recover()
        else:
            self._start_over()
        self._earlier_lines, self._earlier_parts = self.lines, frozenset(self._parts)
        self._earlier_done = frozenset(self.done)
        if json_file is not None:
            self._json = open(json_file, "a", encoding="utf-8", errors="surrogateescape")
        if self.ledger is not None:
            self._ledger = open(self.ledger, "a", encoding="utf-8")

    # --- writing -------------------------------------------------------------------------------

    def write(self, results: Sequence[Result]) -> None:
        """Write one chunk: JSON lines, its Parquet part, then its ledger line (see the module)."""
        if not results:
            return
        for result in results:
            if self._json is None:
                self.echo(result.line)
            else:
                self._json.write(result.line + "\n")
        self.lines += len(results)
        if self._json is not None:
            _sync(self._json)
        part = self._write_part(results) if self.parquet_dir is not None else None
        for result in results:
            if result.path in self._earlier_done:
                self.redone.add(result.path)
            self.done[result.path] = result.sha256
        if self._ledger is not None:
            entry = {"lines": self.lines, "part": part, "done": [[r.path, r.sha256] for r in results]}
            self._ledger.write(json.dumps(entry) + "\n")
            _sync(self._ledger)

    def _write_part(self, results: Sequence[Result]) -> str:
        import pyarrow as pa
        import pyarrow.parquet as pq

        assert self.parquet_dir is not None
        self._sequence += 1
        name = f"part-{os.getpid()}-{self._sequence:06d}-{len(self._parts):06d}.parquet"
        rows = [row for result in results for row in face_rows(result, self.embeddings)]
        with atomic_path(self.parquet_dir / name, "the Parquet part") as temporary:
            pq.write_table(pa.Table.from_pylist(rows, schema=parquet_schema(self.embeddings)), temporary)
        self._parts.add(name)
        return name

    def close(self) -> None:
        """Remove what was superseded (files analysed again because they changed), then close."""
        for handle in (self._json, self._ledger):
            if handle is not None:
                handle.close()
        self._json = self._ledger = None
        if self.redone:
            self._compact()

    # --- resuming ------------------------------------------------------------------------------

    def _start_over(self) -> None:
        for path in (self.json_file, self.ledger):
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text("")
        if self.parquet_dir is not None:
            self.parquet_dir.mkdir(parents=True, exist_ok=True)
            for part in self.parquet_dir.glob("part-*.parquet"):
                part.unlink()

    def _recover(self) -> None:
        """Read the ledger (up to its last whole line) and drop what was written after it."""
        assert self.ledger is not None
        entries = []
        for text in self.ledger.read_text(encoding="utf-8").splitlines():
            try:
                entries.append(json.loads(text))
            except json.JSONDecodeError:
                break  # a line cut short by the kill: that chunk is redone
        for entry in entries:
            self.lines = int(entry["lines"])
            if entry.get("part"):
                self._parts.add(entry["part"])
            self.done.update((path, sha) for path, sha in entry["done"])
        _rewrite(self.ledger, [json.dumps(e) for e in entries])
        if self.json_file is not None:
            lines = _read_lines(self.json_file)[:self.lines] if self.json_file.exists() else []
            if len(lines) < self.lines:
                raise InvalidInputError(f"{self.json_file} holds {len(lines)} lines where its ledger {self.ledger} "
                                        f"counts {self.lines}: start over with --restart")
            _rewrite(self.json_file, lines)
        if self.parquet_dir is not None:
            self.parquet_dir.mkdir(parents=True, exist_ok=True)
            for part in self.parquet_dir.glob("part-*.parquet"):
                if part.name not in self._parts:
                    part.unlink()
        self._sequence = len(self._parts)

    def _compact(self) -> None:
        """Drop the earlier runs' lines and rows of the paths analysed again in this one."""
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        from adlens.imageio import display_name

        stale = {display_name(path) for path in self.redone}
        if self.json_file is not None:
            lines = _read_lines(self.json_file)
            kept = [line for i, line in enumerate(lines)
                    if i >= self._earlier_lines or json.loads(line)["image"] not in stale]
            _rewrite(self.json_file, kept)
            self.lines = len(kept)
        if self.parquet_dir is not None:
            for name in sorted(self._earlier_parts):
                table = pq.read_table(self.parquet_dir / name)
                mask = pc.invert(pc.is_in(table.column("image"), value_set=_string_array(stale)))
                if table.num_rows and not pc.all(mask).as_py():
                    with atomic_path(self.parquet_dir / name, "the Parquet part") as temporary:
                        pq.write_table(table.filter(mask), temporary)
        if self.ledger is not None:  # one line: every path's sha256 and the lines that now remain
            entry = {"lines": self.lines, "part": None, "done": [[p, s] for p, s in self.done.items()]}
            parts = [{"lines": self.lines, "part": part, "done": []} for part in sorted(self._parts)]
            _rewrite(self.ledger, [json.dumps(e) for e in (*parts, entry)])


def face_rows(result: Result, embeddings: bool) -> list[dict[str, Any]]:
    """The Parquet rows of one image: one per face, or one without a face (none found, or an error)."""
    record = result.record
    base = {"image": record["image"], "sha256": result.sha256, "width": record["width"],
            "height": record["height"], "error": record["error"]}
    if not record["faces"]:
        return [base]
    rows = []
    for i, face in enumerate(record["faces"]):
        x, y, w, h = face["box"]
        row = {**base, "face": i, "x": x, "y": y, "w": w, "h": h, "score": face["score"]}
        for key, value in csv_values(face).items():
            row[key] = None if value == "" else value if key in TEXT_FIELDS else float(value)
        if embeddings and result.embeddings is not None:
            row["embedding"] = result.embeddings[i].astype(np.float32).tolist()
        rows.append(row)
    return rows


def parquet_schema(embeddings: bool) -> Any:
    """The same columns in every part, whatever the part's faces hold."""
    import pyarrow as pa

    fields = [pa.field("image", pa.string()), pa.field("sha256", pa.string()), pa.field("width", pa.int32()),
              pa.field("height", pa.int32()), pa.field("error", pa.string()), pa.field("face", pa.int32()),
              *(pa.field(name, pa.float32()) for name in ("x", "y", "w", "h", "score")),
              *(pa.field(name, pa.string() if name in TEXT_FIELDS else pa.float32()) for name in CSV_FIELDS)]
    if embeddings:
        fields.append(pa.field("embedding", pa.list_(pa.float32())))
    return pa.schema(fields)


def _string_array(values: set[str]) -> Any:
    import pyarrow as pa

    return pa.array(sorted(values), pa.string())


def _read_lines(path: Path) -> list[str]:
    with open(path, encoding="utf-8", errors="surrogateescape") as handle:
        return [line.rstrip("\n") for line in handle if line.endswith("\n")]


def _rewrite(path: Path, lines: list[str]) -> None:
    with atomic_path(path, str(path)) as temporary:
        with open(temporary, "w", encoding="utf-8", errors="surrogateescape") as handle:
            handle.writelines(line + "\n" for line in lines)


def _sync(handle: TextIO) -> None:
    handle.flush()
    os.fsync(handle.fileno())
