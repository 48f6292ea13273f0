"""Which files an upload may name and the server may send: symlinks resolved, nothing told about the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from adlens.media import confined, hide_paths, inside, served_file
from adlens.settings import Settings


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    (tmp_path / "root" / "sub").mkdir(parents=True)
    (tmp_path / "root" / "sub" / "a.png").write_bytes(b"a")
    (tmp_path / "out.png").write_bytes(b"o")
    (tmp_path / "root" / "link.png").symlink_to(tmp_path / "out.png")
    (tmp_path / "root" / "loop").symlink_to(tmp_path / "root" / "loop")
    return tmp_path


@pytest.mark.parametrize(("value", "found"), [
    ("sub/a.png", "root/sub/a.png"), ("{tmp}/root/sub/a.png", "root/sub/a.png"), ("../out.png", None),
    ("{tmp}/out.png", None), ("link.png", None), ("sub", None), ("missing.png", None), ("loop", None),
    ("nul\x00.png", None), ("~/x.png", None),
])
def test_confined(tree: Path, value: str, found: str | None) -> None:
    result = confined(value.format(tmp=tree), tree / "root", [tree / "root"])
    assert result == (None if found is None else tree / found)


def test_inside_resolves_both_sides(tree: Path) -> None:
    (tree / "alias").symlink_to(tree / "root")
    assert inside(tree / "alias" / "sub" / "a.png", [tree / "root"])
    assert inside(tree / "root" / "sub" / "a.png", [tree / "alias"])
    assert not inside(tree / "root" / "link.png", [tree / "root"])


class Folders:
    def __init__(self, *folders: Path) -> None:
        self.folders = {str(f) for f in folders}

    def media_folders(self) -> set[str]:
        return self.folders


def test_served_file(tree: Path) -> None:
    settings = Settings(data_dir=tree / "data", media_roots=str(tree / "root"))
    assert served_file(str(tree / "root" / "sub" / "a.png"), settings, Folders()) == tree / "root" / "sub" / "a.png"
    assert served_file(str(tree / "root" / "link.png"), settings, Folders()) is None
    assert served_file(str(tree / "out.png"), settings, Folders()) is None
    assert served_file(str(tree / "out.png"), settings, Folders(tree)) == tree / "out.png"
    # A recorded folder allows its own files, not those of its sub-folders.
    bare = Settings(data_dir=tree / "data")
    assert served_file(str(tree / "root" / "sub" / "a.png"), bare, Folders(tree)) is None
    assert served_file(None, bare, Folders()) is None and served_file("rel.png", bare, Folders()) is None


def test_hide_paths_leaves_file_names() -> None:
    data = {"problems": [{"reason": "/srv/data/up/images/a.png: not an image"}, "/srv/data/up/c.csv is empty"],
            "n": 1, "note": "no image named 7.* in /srv/data/up/images"}
    assert hide_paths(data, [Path("/srv/data/up/images"), Path("/srv/data/up")]) == {
        "problems": [{"reason": "a.png: not an image"}, "c.csv is empty"], "n": 1,
        "note": "no image named 7.* in the uploaded files"}
