"""Reading an inventory file (YAML, or JSON) into validated :class:`~adlens.ads.inventory.Ad` models.

Reading is forgiving per ad and strict per key: every problem of every ad is reported
with its path (``ads[2] (summer-shades).targeting.age: …``), valid ads are kept,
invalid ones skipped. A file that is not YAML/JSON, or not a mapping with ``ads``, is
an :class:`~adlens.errors.InvalidInputError` naming the file and line.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from adlens.ads.inventory import (
    DEFAULT_RESTRICTED,
    Ad,
    Conditions,
    Creative,
    FrequencyCap,
    UpliftCondition,
    validate_ad,
)
from adlens.errors import AdlensError, InvalidInputError
from adlens.imageio import load_image
from adlens.media import confined, not_uploaded


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an inventory: where (``ads[2] (summer-shades).targeting.age``) and what."""

    source: str
    where: str
    message: str
    ad_id: str | None = None

    def __str__(self) -> str:
        return f"{self.source}: {self.where}: {self.message}"


@dataclass
class Inventory:
    """The valid ads of one file, every problem found, and the ads skipped because of them."""

    source: str
    ads: list[Ad]
    problems: list[Problem] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    restricted_categories: tuple[str, ...] = DEFAULT_RESTRICTED
    labels: dict[str, str] = field(default_factory=dict)

    def label(self, ad_id: str) -> str:
        """Where ad ``ad_id`` is in the file: ``ads[2] (summer-shades)``."""
        return self.labels.get(ad_id, ad_id)


class _UniqueKeyLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML's stubs are not installed
    """PyYAML's safe loader, except that a repeated key is an error rather than silently the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str | int | float | bool):  # unhashable keys are refused by PyYAML itself
                if key in seen:
                    raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
                seen.add(key)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep)
        return mapping


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    repeated = sorted(k for k, n in Counter(keys).items() if n > 1)
    if repeated:
        raise ValueError(f"duplicate key {repeated[0]!r}")
    return dict(pairs)


def read_document(path: Path) -> Any:
    """The parsed content of a YAML (or, for ``.json``, JSON) file; syntax errors name the line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInputError(f"cannot read the inventory {path}: {error}") from None
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text, object_pairs_hook=_json_pairs)
        except json.JSONDecodeError as error:
            raise InvalidInputError(f"{path}: line {error.lineno}: not valid JSON: {error.msg}") from None
        except ValueError as error:
            raise InvalidInputError(f"{path}: not valid JSON: {error}") from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = f"line {mark.line + 1}: " if mark is not None else ""
        raise InvalidInputError(f"{path}: {line}not valid YAML: {error.problem or error}") from None
    except yaml.YAMLError as error:
        raise InvalidInputError(f"{path}: not valid YAML: {error}") from None


_NESTED: dict[str, type[BaseModel]] = {
    "targeting": Conditions, "exclude": Conditions, "frequency_cap": FrequencyCap, "creatives": Creative,
    "uplift": UpliftCondition,
}


def _where(loc: tuple[int | str, ...], raw: Any) -> str:
    parts: list[str] = []
    for i, part in enumerate(loc):
        if isinstance(part, int):
            parts[-1:] = [f"{parts[-1] if parts else ''}[{part}]"]
            if loc[:i] == ("creatives",) and isinstance(raw, dict):
                creatives = raw.get("creatives")
                if isinstance(creatives, list) and part < len(creatives) and isinstance(creatives[part], dict) \
                        and creatives[part].get("id") is not None:
                    parts[-1] += f" ({creatives[part]['id']})"
        elif part != "[key]":  # pydantic's marker for a bad dict key: the key itself is the place
            parts.append(str(part))
    return ".".join(parts)


def _message(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        parents = [p for p in error["loc"][:-1] if isinstance(p, str)]
        model = _NESTED.get(parents[-1], Ad) if parents else Ad
        allowed = [n for n in model.model_fields if n not in ("face_sha256", "restricted_by")]
        return f"unknown key (allowed: {', '.join(allowed)})"
    if error["type"] == "missing":
        return "required"
    return str(error["msg"]).removeprefix("Value error, ")


def format_errors(error: ValidationError, raw: Any) -> list[tuple[str, str]]:
    """``(path, message)`` for each error of a pydantic validation, paths relative to the ad."""
    return [(_where(tuple(e["loc"]), raw), _message(e)) for e in error.errors()]


def _locate(path: str | None, base: Path, roots: Sequence[Path] | None) -> tuple[Path, str | None]:
    """The file ``path`` names (relative to ``base``), resolved; with ``roots``, refused unless under one."""
    if roots is None:
        found = Path(path or "").expanduser()
        return (found if found.is_absolute() else base / found).resolve(), None
    allowed = confined(path or "", base, roots)
    if allowed is None:
        return Path(), not_uploaded(path or "")
    return allowed, None


def _with_files(ad: Ad, base: Path, roots: Sequence[Path] | None = None) -> tuple[Ad, list[tuple[str, str]]]:
    """``ad`` with creative paths made absolute and model faces hashed; or the file problems.

    With ``roots`` (an upload) a message names a file as the inventory gave it, never
    by its place on the server.
    """
    problems, creatives = [], []
    for i, creative in enumerate(ad.creatives):
        where = f"creatives[{i}] ({creative.id})"
        image, refused = _locate(creative.image, base, roots)
        if refused:
            problems.append((f"{where}.image", refused))
        else:
            try:
                load_image(image)
            except AdlensError as error:
                shown = error.message if roots is None else error.message.replace(str(image), creative.image)
                problems.append((f"{where}.image", shown))
        update: dict[str, Any] = {"image": str(image)}
        if creative.model_face is not None:
            face, refused = _locate(creative.model_face, base, roots)
            try:
                if refused:
                    problems.append((f"{where}.model_face", refused))
                else:
                    update |= {"model_face": str(face),
                               "face_sha256": hashlib.sha256(face.read_bytes()).hexdigest()}
            except OSError as error:
                shown = str(face) if roots is None else creative.model_face
                problems.append((f"{where}.model_face", f"cannot read {shown}: {error.strerror or error}"))
        creatives.append(creative.model_copy(update=update))
    return ad.model_copy(update={"creatives": creatives}), problems


def parse_inventory(
    document: Any, base: Path, source: str, moods: Iterable[str] | None = None, roots: Sequence[Path] | None = None,
) -> Inventory:
    """Validate an already parsed inventory whose creative paths are relative to ``base``.

    ``moods`` are those an ad may declare (default: those of the emotion-fit table in
    force). With ``roots`` (an upload), every image and model face must lie under one
    of them, symlinks resolved; any other path is refused without looking at it.
    Raises :class:`~adlens.errors.InvalidInputError` when ``document`` is not a
    mapping with a list ``ads``; anything wrong inside an ad is a :class:`Problem`.
    """
    if moods is None:
        from adlens.ads.emotion import emotion_table

        moods = emotion_table().moods
    if not isinstance(document, dict) or "ads" not in document:
        raise InvalidInputError(f"{source}: expected a mapping with a list 'ads' at the top level")
    unknown = sorted(str(k) for k in document if k not in ("ads", "restricted_categories"))
    if unknown:
        raise InvalidInputError(f"{source}: unknown top-level key {', '.join(unknown)} (allowed: ads, "
                                "restricted_categories)")
    restricted = document.get("restricted_categories", list(DEFAULT_RESTRICTED))
    if not isinstance(restricted, list) or not all(isinstance(c, str) and c.strip() for c in restricted):
        raise InvalidInputError(f"{source}: restricted_categories must be a list of category names")
    if not isinstance(document["ads"], list):
        raise InvalidInputError(f"{source}: 'ads' must be a list of ads, not {type(document['ads']).__name__}")
    inventory = Inventory(source, [], restricted_categories=tuple(c.strip() for c in restricted))
    ids = Counter(_as_id_or_none(raw) for raw in document["ads"])
    for index, raw in enumerate(document["ads"]):
        ad_id = _as_id_or_none(raw)
        label = f"ads[{index}]" + (f" ({_short(ad_id)})" if ad_id else "")
        found: list[tuple[str, str]] = []
        ad = None
        if not isinstance(raw, dict):
            found.append(("", f"an ad is a mapping of keys, not {type(raw).__name__}"))
        else:
            try:
                ad = validate_ad(raw, moods=moods, restricted_categories=restricted, from_file=True)
            except ValidationError as error:
                found.extend(format_errors(error, raw))
            if ad_id and ids[ad_id] > 1:
                found.append(("id", f"duplicate ad id {ad_id!r} ({ids[ad_id]} ads have it; none is imported)"))
        if ad is not None and not found:
            ad, found = _with_files(ad, base, roots)
        if found:
            inventory.problems.extend(Problem(source, f"{label}.{w}" if w else label, m, ad_id) for w, m in found)
            inventory.skipped.append(label)
        elif ad is not None:
            inventory.ads.append(ad)
            inventory.labels[ad.id] = label
    return inventory


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _as_id_or_none(raw: Any) -> str | None:
    value = raw.get("id") if isinstance(raw, dict) else None
    return str(value).strip() or None if isinstance(value, str | int) and not isinstance(value, bool) else None


def load_inventory(path: str | Path, moods: Iterable[str] | None = None) -> Inventory:
    """Read and validate the inventory file ``path`` (YAML, or JSON for ``.json``); see :func:`parse_inventory`."""
    path = Path(path).expanduser()
    return parse_inventory(read_document(path), path.resolve().parent, str(path), moods)

