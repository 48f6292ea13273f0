"""Atomic writes: the destination is either the old file or the whole new one, never half, never a leftover."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from adlens.errors import InvalidInputError
from adlens.files import atomic_path, write_text_atomic


def leftovers(folder: Path) -> list[str]:
    """Temporary files an atomic write left behind in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize(
    ("relative", "before", "text"),
    [
        ("out.txt", None, "hello\n"),
        ("out.txt", "old contents", "new"),  # replaces
        ("deep/er/out.md", None, "folders are created"),
        ("out.txt", None, "ünïcödé — UTF-8 ✓"),
        ("out.txt", "x", ""),
    ],
)
def test_write_text_atomic(tmp_path: Path, relative: str, before: str | None, text: str) -> None:
    target = tmp_path / relative
    if before is not None:
        target.write_text(before, encoding="utf-8")
    assert write_text_atomic(target, text) == target
    assert target.read_bytes() == text.encode("utf-8")
    assert leftovers(target.parent) == []


def test_write_text_atomic_expands_the_home_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert write_text_atomic("~/note.txt", "hi") == tmp_path / "note.txt"
    assert (tmp_path / "note.txt").read_text() == "hi"


@pytest.mark.parametrize(("mode", "expected"), [(0o644, 0o644), (0o600, 0o600), (0o640, 0o640)])
def test_mode_is_applied(tmp_path: Path, mode: int, expected: int) -> None:
    target = tmp_path / "file.bin"
    with atomic_path(target, mode=mode) as temporary:
        assert temporary.parent == tmp_path and temporary.name.startswith(".file.bin.") and temporary.exists()
        assert not target.exists()  # nothing reaches the destination before the writer is done
        temporary.write_bytes(b"\x00\x01")
    assert stat.S_IMODE(target.stat().st_mode) == expected
    assert target.read_bytes() == b"\x00\x01"


@pytest.mark.parametrize("error", [RuntimeError("the writer failed"), KeyboardInterrupt()])
def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path: Path, error: BaseException) -> None:
    target = tmp_path / "report.json"
    target.write_text("old")
    with pytest.raises(type(error)):
        with atomic_path(target) as temporary:
            temporary.write_text("half a fi")
            raise error
    assert target.read_text() == "old"
    assert leftovers(tmp_path) == []


def test_a_failing_first_write_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        with atomic_path(tmp_path / "new.txt") as temporary:
            temporary.write_text("partial")
            raise ValueError("boom")
    assert list(tmp_path.iterdir()) == []


def test_an_os_error_while_writing_names_what_and_where(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    with pytest.raises(InvalidInputError, match=r"cannot write the report to .*out\.csv: No such file"):
        with atomic_path(target, "the report") as temporary:
            temporary.unlink()  # the rename then fails: ENOENT
    assert not target.exists() and leftovers(tmp_path) == []


def test_an_unwritable_folder_is_an_invalid_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a folder without write permission does (root ignores the mode bits, so the refusal is simulated)."""
    locked = tmp_path / "locked"
    locked.mkdir()

    def refuse(*args: object, **kwargs: object) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("adlens.files.tempfile.mkstemp", refuse)
    with pytest.raises(InvalidInputError, match=r"cannot write the catalogue to .*locked/c\.csv: Permission denied"):
        write_text_atomic(locked / "c.csv", "a,b", "the catalogue")
    assert list(locked.iterdir()) == []


def test_a_file_where_a_folder_should_be(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("I am a file")
    with pytest.raises(InvalidInputError, match=r"cannot write the file to .*blocker/out\.txt"):
        write_text_atomic(tmp_path / "blocker" / "out.txt", "x")
    assert (tmp_path / "blocker").read_text() == "I am a file"
