"""A small folder of UTKFace-named photos from ../shared (a link to every ``step``-th), for the fairness tests."""

from __future__ import annotations

from pathlib import Path

from helpers import DATA, need


def utk_folder(target: Path, step: int = 200) -> Path:
    """Links to every ``step``-th photo of utkface_random_200 (one per group at 200, sorted by path), a misnamed
    file and a broken one, in ``target``; skips the test without ../shared."""
    source = need(DATA / "utkface_random_200" / "data" / "random_200")
    for path in sorted(source.rglob("*.jpg"))[::step]:
        (target / path.name).symlink_to(path)
    (target / "holiday.jpg").write_bytes(b"")
    (target / "30_0_0_20170101000000000.jpg").write_text("not a picture")
    return target
